//! Hosts (domain names, IPv4, IPv6 references) and host:port splitting.

use super::error::SyntaxError;
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Bytes allowed in a domain name (letters, digits, `-`, `.`, `_`), as a table: one load per byte.
static DOMAIN_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_';
        i += 1;
    }
    t
};

/// A parsed host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A domain name, as written.
    Domain(&'a str),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written as `[...]` in SIP).
    Ipv6(Ipv6Addr),
}

impl<'a> Host<'a> {
    /// Parses `example.com`, `192.0.2.1` or `[2001:db8::1]`.
    pub fn parse(s: &'a str) -> Result<Host<'a>, SyntaxError> {
        const E: &str = "host";
        let b = s.as_bytes();
        if b.first() == Some(&b'[') {
            return match s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                Some(inner) => inner
                    .parse()
                    .map(Host::Ipv6)
                    .map_err(|_| SyntaxError::new(E, "invalid IPv6 reference")),
                None => Err(SyntaxError::new(E, "unterminated IPv6 reference")),
            };
        }
        if b.is_empty() {
            return Err(SyntaxError::new(E, "empty host"));
        }
        if b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
            return s
                .parse()
                .map(Host::Ipv4)
                .map_err(|_| SyntaxError::new(E, "invalid IPv4 address"));
        }
        if b.iter().all(|&c| DOMAIN_BYTE[c as usize]) {
            Ok(Host::Domain(s))
        } else {
            Err(SyntaxError::new(E, "invalid character in host"))
        }
    }

    /// Text of the host: borrowed for domains, formatted for IP addresses
    /// (IPv6 without brackets). The exact original text is kept in the
    /// `host_text` field of [`crate::sip::via::Via`] / [`crate::sip::uri::SipUri`].
    pub fn as_str(&self) -> Cow<'a, str> {
        match self {
            Host::Domain(d) => Cow::Borrowed(d),
            Host::Ipv4(a) => Cow::Owned(a.to_string()),
            Host::Ipv6(a) => Cow::Owned(a.to_string()),
        }
    }

    /// True for 255.255.255.255, 0.0.0.0 and `::` — addresses a proxy must never send to.
    pub fn is_broadcast_or_unspecified(&self) -> bool {
        match self {
            Host::Ipv4(a) => a.is_broadcast() || a.is_unspecified(),
            Host::Ipv6(a) => a.is_unspecified(),
            Host::Domain(_) => false,
        }
    }
}

/// Splits `host[:port]` (host may be an IPv6 reference) into text and port.
pub fn split_hostport(s: &str) -> Result<(&str, Option<u16>), SyntaxError> {
    let (host, rest) = if s.starts_with('[') {
        match s.find(']') {
            Some(i) => s.split_at(i + 1),
            None => return Err(SyntaxError::new("host", "unterminated IPv6 reference")),
        }
    } else {
        match s.find(':') {
            Some(i) => s.split_at(i),
            None => (s, ""),
        }
    };
    if rest.is_empty() {
        return Ok((host, None));
    }
    match rest.strip_prefix(':').and_then(parse_port) {
        Some(p) => Ok((host, Some(p))),
        None => Err(SyntaxError::new("host", "invalid port")),
    }
}

/// Parses a decimal port (1..=5 digits fitting `u16`).
pub fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(Host::parse("example.com"), Ok(Host::Domain("example.com")));
        assert_eq!(
            Host::parse("192.0.2.1"),
            Ok(Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)))
        );
        assert!(matches!(Host::parse("[2001:db8::10]"), Ok(Host::Ipv6(_))));
        assert!(Host::parse("[2001:db8::10").is_err());
        assert!(Host::parse("999.1.1.1").is_err());
        assert!(Host::parse("a b").is_err());
        assert!(Host::parse("255.255.255.255")
            .unwrap()
            .is_broadcast_or_unspecified());
        assert_eq!(split_hostport("[::1]:5070"), Ok(("[::1]", Some(5070))));
        assert!(split_hostport("h:99999").is_err());
        assert_eq!(Host::parse("h.example").unwrap().as_str(), "h.example");
    }
}
