//! Via header values (RFC 3261 §20.42), LWS-tolerant.

use super::error::SyntaxError;
use super::host::{parse_port, Host};
use super::params::Params;
use super::tokens::{is_lws, skip_lws, take_token, trim_lws};

const E: &str = "Via";

/// One Via value: `SIP/2.0/UDP host:port;params`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    /// `"SIP/2.0"` (static) when the protocol is SIP 2.0, otherwise the text
    /// from protocol name to version as written (may contain LWS).
    pub protocol: &'a str,
    /// Transport token as written (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, unknown ones).
    pub transport: &'a str,
    /// sent-by host.
    pub host: Host<'a>,
    /// sent-by host exactly as written.
    pub host_text: &'a str,
    /// sent-by port.
    pub port: Option<u16>,
    /// via-params.
    pub params: Params<'a>,
}

fn expect_slash(s: &str) -> Result<&str, SyntaxError> {
    skip_lws(s)
        .strip_prefix('/')
        .map(skip_lws)
        .ok_or(SyntaxError::new(E, "malformed sent-protocol"))
}

impl<'a> Via<'a> {
    /// Parses one Via value (not a comma list) for access; parameter syntax is left to
    /// [`Via::parse_strict`], which [`crate::sip::Message::validate`] applies.
    pub fn parse(s: &'a str) -> Result<Via<'a>, SyntaxError> {
        Via::parse_with(s, false)
    }

    /// Parses one Via value and checks its parameters' syntax too.
    pub fn parse_strict(s: &'a str) -> Result<Via<'a>, SyntaxError> {
        Via::parse_with(s, true)
    }

    fn parse_with(s: &'a str, strict: bool) -> Result<Via<'a>, SyntaxError> {
        let s = trim_lws(s);
        let (name, r) = take_token(s);
        let r = expect_slash(r)?;
        let (version, r) = take_token(r);
        let version_end = s.len() - r.len();
        let r = expect_slash(r)?;
        let (transport, r) = take_token(r);
        if name.is_empty() || version.is_empty() || transport.is_empty() {
            return Err(SyntaxError::new(E, "malformed sent-protocol"));
        }
        if !r.bytes().next().is_some_and(is_lws) {
            return Err(SyntaxError::new(E, "missing sent-by"));
        }
        let r = skip_lws(r);
        let host_len = if r.starts_with('[') {
            r.find(']')
                .map(|i| i + 1)
                .ok_or(SyntaxError::new(E, "unterminated IPv6 reference"))?
        } else {
            r.bytes()
                .position(|b| is_lws(b) || matches!(b, b';' | b':' | b','))
                .unwrap_or(r.len())
        };
        let host_text = &r[..host_len];
        let host = Host::parse(host_text).map_err(|e| e.in_header(E))?;
        let mut r = skip_lws(&r[host_len..]);
        let mut port = None;
        if let Some(p) = r.strip_prefix(':') {
            let p = skip_lws(p);
            let n = p.bytes().take_while(u8::is_ascii_digit).count();
            port = Some(parse_port(&p[..n]).ok_or(SyntaxError::new(E, "invalid port"))?);
            r = skip_lws(&p[n..]);
        }
        if !r.is_empty() && !r.starts_with(';') {
            return Err(SyntaxError::new(E, "unexpected text after sent-by"));
        }
        let params = Params::new(r);
        if strict {
            params
                .validate_generic()
                .map_err(|m| SyntaxError::new(E, m))?;
        }
        let protocol = if name.eq_ignore_ascii_case("SIP") && version == "2.0" {
            "SIP/2.0"
        } else {
            &s[..version_end]
        };
        Ok(Via {
            protocol,
            transport,
            host,
            host_text,
            port,
            params,
        })
    }

    /// The `branch` parameter value.
    pub fn branch(&self) -> Option<&'a str> {
        self.params.get("branch").flatten()
    }

    /// The `received` parameter value.
    pub fn received(&self) -> Option<&'a str> {
        self.params.get("received").flatten()
    }

    /// `rport`: `None` absent, `Some(None)` present without (valid) value, `Some(Some(p))` with value.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params.get("rport").map(|v| v.and_then(parse_port))
    }

    /// The `maddr` parameter value.
    pub fn maddr(&self) -> Option<&'a str> {
        self.params.get("maddr").flatten()
    }

    /// The `ttl` parameter value (0..=255).
    pub fn ttl(&self) -> Option<u8> {
        self.params
            .get("ttl")
            .flatten()
            .and_then(|v| v.parse().ok())
    }

    /// True if the branch carries the RFC 3261 magic cookie `z9hG4bK`.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::tokens::split_commas;
    use std::net::Ipv4Addr;

    #[test]
    fn basic_params() {
        let v = Via::parse("SIP/2.0/UDP pc33.example.com:5060;branch=z9hG4bK776asdhds;rport;received=192.0.2.1;maddr=224.2.0.1;ttl=16").unwrap();
        assert_eq!(v.protocol, "SIP/2.0");
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, Host::Domain("pc33.example.com"));
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.branch(), Some("z9hG4bK776asdhds"));
        assert!(v.has_rfc3261_branch());
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), Some("192.0.2.1"));
        assert_eq!(v.maddr(), Some("224.2.0.1"));
        assert_eq!(v.ttl(), Some(16));
        let v = Via::parse("SIP/2.0/TCP 10.0.0.1;rport=5070;branch=z9hG4bKx").unwrap();
        assert_eq!(v.rport(), Some(Some(5070)));
        assert_eq!(v.host, Host::Ipv4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(v.port, None);
        let v = Via::parse("SIP/2.0/UDP host").unwrap();
        assert_eq!(v.rport(), None);
        assert_eq!(v.branch(), None);
    }

    #[test]
    fn lws_everywhere() {
        let v = Via::parse("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.protocol, "SIP/2.0");
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.branch(), Some("390skdjuw"));
        let v = Via::parse(
            "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ",
        )
        .unwrap();
        assert_eq!(v.host_text, "spindle.example.com");
        assert_eq!(v.branch(), Some("z9hG4bK9ikj8"));
    }

    #[test]
    fn ipv6_and_unknown_transport() {
        let v = Via::parse("SIP/2.0/WSS [2001:db8::1]:5062;branch=z9hG4bK1").unwrap();
        assert_eq!(v.host_text, "[2001:db8::1]");
        assert_eq!(v.port, Some(5062));
        let v = Via::parse("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en").unwrap();
        assert_eq!(v.transport, "UNKNOWN");
    }

    #[test]
    fn multi_value_split_and_errors() {
        let vals: Vec<_> = split_commas(
            "SIP/2.0/UDP a.example.com;x=\"q,uoted\", SIP/2.0/TCP b.example.com:5061;branch=z9hG4bK2",
        )
        .map(Via::parse)
        .collect();
        assert_eq!(vals.len(), 2);
        assert_eq!(
            vals[0].as_ref().unwrap().params.get("x"),
            Some(Some("\"q,uoted\""))
        );
        assert_eq!(vals[1].as_ref().unwrap().port, Some(5061));
        assert!(Via::parse_strict("SIP/2.0/UDP 192.0.2.15;;").is_err());
        assert!(
            Via::parse("SIP/2.0/UDP 192.0.2.15;;").is_ok(),
            "access is lenient"
        );
        assert!(Via::parse("").is_err());
        assert!(Via::parse("SIP/2.0 host").is_err());
        assert!(Via::parse("SIP/2.0/UDP").is_err());
    }
}
