//! The Request-URI, split leniently (the host has already validated it), and the parsed alias that
//! regex rules match: the URI without scheme, port and parameters, with IP hosts stripped.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv6Addr};

/// The scheme of a Request-URI this core understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:`
    Tel,
}

/// A `sip:`, `sips:` or `tel:` URI split into borrowed parts. For `tel:`, `user` is the number and
/// `host` is empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedUri<'a> {
    /// The whole URI as given.
    pub raw: &'a str,
    /// Its scheme.
    pub scheme: Scheme,
    /// User part (`alice`, `+15551234`; the number of a `tel:` URI), without password.
    pub user: Option<&'a str>,
    /// Password (`sip:alice:pw@host`), rarely present.
    pub password: Option<&'a str>,
    /// Host as written (IPv6 with its brackets); empty for `tel:`.
    pub host: &'a str,
    /// Byte range of `host[:port]` inside `raw` (empty range at the end for `tel:`).
    pub hostport: std::ops::Range<usize>,
    /// Port, if written.
    pub port: Option<u16>,
    /// Parameters including the leading `;` (`;user=phone;transport=tls`), or empty.
    pub params: &'a str,
    /// Headers after `?` (without the `?`), or empty.
    pub headers: &'a str,
    /// True when the host is an IPv4 or IPv6 literal.
    pub host_is_ip: bool,
}

impl<'a> ParsedUri<'a> {
    /// Split `raw`; `None` unless it is a `sip:`, `sips:` or `tel:` URI with a host (or number).
    pub fn parse(raw: &'a str) -> Option<ParsedUri<'a>> {
        let colon = raw.find(':')?;
        let scheme_text = &raw[..colon];
        let scheme = if scheme_text.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme_text.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme_text.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            return None;
        };
        let rest_start = colon + 1;
        let rest = &raw[rest_start..];
        if scheme == Scheme::Tel {
            let end = rest.find(';').unwrap_or(rest.len());
            let number = &rest[..end];
            if number.is_empty() {
                return None;
            }
            return Some(ParsedUri {
                raw,
                scheme,
                user: Some(number),
                password: None,
                host: "",
                hostport: raw.len()..raw.len(),
                port: None,
                params: &rest[end..],
                headers: "",
                host_is_ip: false,
            });
        }
        // The user part ends at the first '@' (as in the host's own SIP parser).
        let (user, password, after_start) = match rest.find('@') {
            Some(i) => {
                let userinfo = &rest[..i];
                let (u, p) = match userinfo.find(':') {
                    Some(c) => (&userinfo[..c], Some(&userinfo[c + 1..])),
                    None => (userinfo, None),
                };
                if u.is_empty() {
                    return None;
                }
                (Some(u), p, rest_start + i + 1)
            }
            None => (None, None, rest_start),
        };
        let after = &raw[after_start..];
        let hp_len = after.find([';', '?']).unwrap_or(after.len());
        let hostport = &after[..hp_len];
        let (host, port) = split_hostport(hostport)?;
        let tail = &after[hp_len..];
        let (params, headers) = match tail.find('?') {
            Some(i) => (&tail[..i], &tail[i + 1..]),
            None => (tail, ""),
        };
        Some(ParsedUri {
            raw,
            scheme,
            user,
            password,
            host,
            hostport: after_start..after_start + hp_len,
            port,
            params,
            headers,
            host_is_ip: host_is_ip(host),
        })
    }

    /// True for `sips:`.
    pub fn is_sips(&self) -> bool {
        self.scheme == Scheme::Sips
    }

    /// True when the parameters contain `user=phone` (any case).
    pub fn is_phone(&self) -> bool {
        self.params.split(';').any(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            name.trim().eq_ignore_ascii_case("user") && value.trim().eq_ignore_ascii_case("phone")
        })
    }

    /// The host to match routes against: the host without a trailing dot; `None` for `tel:`.
    pub fn match_host(&self) -> Option<&'a str> {
        if self.scheme == Scheme::Tel || self.host.is_empty() {
            return None;
        }
        Some(self.host.strip_suffix('.').unwrap_or(self.host))
    }

    /// The parsed alias: `user@host` (`sip:alice@contoso.com;transport=tls` → `alice@contoso.com`),
    /// only `user` when the host is an IP address (`sip:+15551234@10.0.0.1;user=phone` →
    /// `+15551234`), the host alone when there is no user, the number of a `tel:` URI. Borrowed from
    /// the URI unless a password has to be cut out.
    pub fn alias(&self) -> Cow<'a, str> {
        match (self.scheme, self.user) {
            (Scheme::Tel, Some(number)) => Cow::Borrowed(number),
            (_, None) => Cow::Borrowed(self.host),
            (_, Some(user)) if self.host_is_ip => Cow::Borrowed(user),
            (_, Some(user)) => match self.password {
                None => {
                    // `user@host` is contiguous in the URI.
                    let start = self.hostport.start - 1 - user.len();
                    let end = self.hostport.start + self.host.len();
                    Cow::Borrowed(&self.raw[start..end])
                }
                Some(_) => Cow::Owned(format!("{user}@{}", self.host)),
            },
        }
    }

    /// This URI with `host[:port]` replaced by `new_host` (user, parameters and headers kept);
    /// `None` for `tel:`.
    pub fn with_host(&self, new_host: &str) -> Option<String> {
        if self.scheme == Scheme::Tel {
            return None;
        }
        let mut out = String::with_capacity(self.raw.len() + new_host.len());
        out.push_str(&self.raw[..self.hostport.start]);
        out.push_str(new_host);
        out.push_str(&self.raw[self.hostport.end..]);
        Some(out)
    }
}

/// Split `host[:port]`, IPv6 in brackets. `None` for an empty host or a bad port.
fn split_hostport(s: &str) -> Option<(&str, Option<u16>)> {
    if s.starts_with('[') {
        let close = s.find(']')?;
        let host = &s[..=close];
        let rest = &s[close + 1..];
        if rest.is_empty() {
            return Some((host, None));
        }
        let port = rest.strip_prefix(':')?.parse().ok()?;
        return Some((host, Some(port)));
    }
    let (host, port) = match s.rfind(':') {
        Some(i) => (&s[..i], Some(s[i + 1..].parse().ok()?)),
        None => (s, None),
    };
    if host.is_empty() {
        return None;
    }
    Some((host, port))
}

/// True for an IPv4 literal or a bracketed IPv6 literal.
pub fn host_is_ip(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok();
    }
    host.parse::<IpAddr>().is_ok()
}

/// The `transport=` parameter of a SIP URI, or `Tls` for `sips:`, else `Any`.
pub fn transport_of_uri(uri: &str) -> crate::routing::Transport {
    use crate::routing::Transport;
    if let Some(p) = ParsedUri::parse(uri) {
        for param in p.params.split(';') {
            if let Some((name, value)) = param.split_once('=') {
                if name.trim().eq_ignore_ascii_case("transport") {
                    return Transport::parse(value.trim()).unwrap_or(Transport::Any);
                }
            }
        }
        if p.is_sips() {
            return Transport::Tls;
        }
    }
    Transport::Any
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(uri: &str) -> String {
        ParsedUri::parse(uri).unwrap().alias().into_owned()
    }

    #[test]
    fn alias_drops_scheme_port_and_parameters() {
        assert_eq!(
            alias("sip:alice@contoso.com;transport=tls"),
            "alice@contoso.com"
        );
        assert_eq!(
            alias("sips:alice@contoso.com:5061;x=y?h=v"),
            "alice@contoso.com"
        );
        assert_eq!(alias("SIP:alice:secret@contoso.com"), "alice@contoso.com");
        assert_eq!(alias("sip:contoso.com"), "contoso.com");
    }

    #[test]
    fn alias_strips_ip_hosts() {
        assert_eq!(alias("sip:+15551234@10.0.0.1;user=phone"), "+15551234");
        assert_eq!(alias("sip:+15551234@[2001:db8::1]:5060"), "+15551234");
        assert_eq!(alias("tel:+15551234"), "+15551234");
        assert_eq!(
            alias("tel:+15551234;phone-context=example.com"),
            "+15551234"
        );
    }

    #[test]
    fn alias_is_borrowed_without_password() {
        let p = ParsedUri::parse("sip:alice@contoso.com:5061;transport=tls").unwrap();
        assert!(matches!(p.alias(), Cow::Borrowed(_)));
    }

    #[test]
    fn parse_parts() {
        let p = ParsedUri::parse("sips:bob@[2001:db8::1]:5061;user=phone?subject=x").unwrap();
        assert!(p.is_sips());
        assert_eq!(p.host, "[2001:db8::1]");
        assert_eq!(p.port, Some(5061));
        assert_eq!(p.params, ";user=phone");
        assert_eq!(p.headers, "subject=x");
        assert!(p.host_is_ip);
        assert!(p.is_phone());
        assert!(ParsedUri::parse("mailto:bob@example.com").is_none());
        assert!(ParsedUri::parse("sip:@example.com").is_none());
        assert!(ParsedUri::parse("sip:bob@example.com:port").is_none());
        assert!(ParsedUri::parse("tel:").is_none());
    }

    #[test]
    fn phone_parameter_is_case_insensitive() {
        assert!(ParsedUri::parse("sip:+1@a.com;User=Phone")
            .unwrap()
            .is_phone());
        assert!(!ParsedUri::parse("sip:+1@a.com;user=ip").unwrap().is_phone());
        assert!(!ParsedUri::parse("sip:+1@a.com").unwrap().is_phone());
    }

    #[test]
    fn with_host_keeps_user_params_and_drops_port() {
        let p = ParsedUri::parse("sip:+15551234@contoso.com:5070;user=phone?x=y").unwrap();
        assert_eq!(
            p.with_host("cucm.contoso.com").unwrap(),
            "sip:+15551234@cucm.contoso.com;user=phone?x=y"
        );
        assert!(ParsedUri::parse("tel:+1").unwrap().with_host("x").is_none());
    }

    #[test]
    fn transport_of_uri_reads_parameter_or_scheme() {
        use crate::routing::Transport;
        assert_eq!(transport_of_uri("sip:a.com;transport=TCP"), Transport::Tcp);
        assert_eq!(transport_of_uri("sips:a.com"), Transport::Tls);
        assert_eq!(transport_of_uri("sip:a.com"), Transport::Any);
    }
}
