//! URIs: `sip:`/`sips:`, `tel:` and any other absolute URI.

use super::error::SyntaxError;
use super::host::{split_hostport, Host};
use super::params::Params;

const E: &str = "URI";

/// A parsed URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uri<'a> {
    /// `sip:` or `sips:` URI.
    Sip(SipUri<'a>),
    /// `tel:` URI (RFC 3966).
    Tel(TelUri<'a>),
    /// Any other scheme (`urn:service:sos`, `http://...`, `soap.beep://...`).
    Absolute {
        /// Scheme as written (without `:`).
        scheme: &'a str,
        /// Everything after the first `:`.
        rest: &'a str,
        /// The whole URI text (added so that [`Uri::as_str`] can borrow).
        raw: &'a str,
    },
}

/// A `sip:`/`sips:` URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipUri<'a> {
    /// True for `sips:`.
    pub secure: bool,
    /// User part, still %-escaped (e.g. `user;par=u%40example.net`).
    pub user: Option<&'a str>,
    /// Password, still %-escaped.
    pub password: Option<&'a str>,
    /// Host.
    pub host: Host<'a>,
    /// Host text exactly as written (IPv6 with brackets).
    pub host_text: &'a str,
    /// Port, if present.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp;lr`).
    pub params: Params<'a>,
    /// Headers component after `?`, still escaped.
    pub headers: Option<&'a str>,
    /// The whole URI text.
    pub raw: &'a str,
}

/// A `tel:` URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelUri<'a> {
    /// The number (`+1-201-555-0123`).
    pub number: &'a str,
    /// Parameters (`;phone-context=...`).
    pub params: Params<'a>,
    /// The whole URI text.
    pub raw: &'a str,
}

impl<'a> Uri<'a> {
    /// Parses a URI for access: the structure (scheme, user, host, port, parameters, headers) is
    /// split and the host parsed; character-level checks are left to [`Uri::parse_strict`], which
    /// [`crate::sip::Message::validate`] applies.
    pub fn parse(s: &'a str) -> Result<Uri<'a>, SyntaxError> {
        Uri::parse_with(s, false)
    }

    /// Parses and checks a URI completely: no whitespace or control characters, a valid scheme,
    /// well-formed parameters.
    pub fn parse_strict(s: &'a str) -> Result<Uri<'a>, SyntaxError> {
        Uri::parse_with(s, true)
    }

    fn parse_with(s: &'a str, strict: bool) -> Result<Uri<'a>, SyntaxError> {
        if strict && s.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(SyntaxError::new(
                E,
                "whitespace or control character in URI",
            ));
        }
        let colon = s
            .find(':')
            .ok_or(SyntaxError::new(E, "missing URI scheme"))?;
        let scheme = &s[..colon];
        let sb = scheme.as_bytes();
        if sb.is_empty()
            || (strict
                && (!sb[0].is_ascii_alphabetic()
                    || !sb
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))))
        {
            return Err(SyntaxError::new(E, "invalid URI scheme"));
        }
        let rest = &s[colon + 1..];
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_rest(s, rest, false, strict).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_rest(s, rest, true, strict).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_rest(s, rest, strict).map(Uri::Tel)
        } else if rest.is_empty() {
            Err(SyntaxError::new(E, "empty URI after scheme"))
        } else {
            Ok(Uri::Absolute {
                scheme,
                rest,
                raw: s,
            })
        }
    }

    /// The URI text as written.
    pub fn as_str(&self) -> &'a str {
        match self {
            Uri::Sip(u) => u.raw,
            Uri::Tel(t) => t.raw,
            Uri::Absolute { raw, .. } => raw,
        }
    }

    /// The scheme as written.
    pub fn scheme(&self) -> &'a str {
        let s = self.as_str();
        &s[..s.find(':').unwrap_or(0)]
    }

    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }
}

impl<'a> SipUri<'a> {
    /// Parses a `sip:`/`sips:` URI.
    pub fn parse(s: &'a str) -> Result<SipUri<'a>, SyntaxError> {
        match Uri::parse(s)? {
            Uri::Sip(u) => Ok(u),
            _ => Err(SyntaxError::new(E, "not a sip/sips URI")),
        }
    }

    fn parse_rest(
        raw: &'a str,
        rest: &'a str,
        secure: bool,
        strict: bool,
    ) -> Result<SipUri<'a>, SyntaxError> {
        let (user, password, after) = match memchr::memchr(b'@', rest.as_bytes()) {
            Some(i) => {
                let ui = &rest[..i];
                let (u, p) = match ui.find(':') {
                    Some(c) => (&ui[..c], Some(&ui[c + 1..])),
                    None => (ui, None),
                };
                if u.is_empty() {
                    return Err(SyntaxError::new(E, "empty user part"));
                }
                (Some(u), p, &rest[i + 1..])
            }
            None => (None, None, rest),
        };
        let hp_end = after
            .bytes()
            .position(|c| c == b';' || c == b'?')
            .unwrap_or(after.len());
        let (host_text, port) = split_hostport(&after[..hp_end]).map_err(|e| e.in_header(E))?;
        let host = Host::parse(host_text).map_err(|e| e.in_header(E))?;
        let tail = &after[hp_end..];
        let (p, headers) = match tail.find('?') {
            Some(i) => (&tail[..i], Some(&tail[i + 1..])),
            None => (tail, None),
        };
        let params = Params::new(p);
        if strict {
            params.validate_uri().map_err(|m| SyntaxError::new(E, m))?;
        }
        Ok(SipUri {
            secure,
            user,
            password,
            host,
            host_text,
            port,
            params,
            headers,
            raw,
        })
    }

    /// Value of URI parameter `name`: `None` absent, `Some(None)` flag parameter.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params.get(name)
    }

    /// The `user=` parameter (`phone`, `ip`, ...).
    pub fn user_param(&self) -> Option<&'a str> {
        self.params.get("user").flatten()
    }
}

impl<'a> TelUri<'a> {
    fn parse_rest(raw: &'a str, rest: &'a str, strict: bool) -> Result<TelUri<'a>, SyntaxError> {
        let end = rest.find(';').unwrap_or(rest.len());
        let number = &rest[..end];
        if number.is_empty() {
            return Err(SyntaxError::new(E, "empty telephone number"));
        }
        let params = Params::new(&rest[end..]);
        if strict {
            params.validate_uri().map_err(|m| SyntaxError::new(E, m))?;
        }
        Ok(TelUri {
            number,
            params,
            raw,
        })
    }

    /// True for global numbers (`+...`).
    pub fn is_global(&self) -> bool {
        self.number.starts_with('+')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn sip_uri_full() {
        let u = SipUri::parse("sip:alice:secret@example.com:5061;transport=tcp;lr?Subject=hi&X=1")
            .unwrap();
        assert!(!u.secure);
        assert_eq!(u.user, Some("alice"));
        assert_eq!(u.password, Some("secret"));
        assert_eq!(u.host, Host::Domain("example.com"));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.param("transport"), Some(Some("tcp")));
        assert_eq!(u.param("LR"), Some(None));
        assert_eq!(u.headers, Some("Subject=hi&X=1"));
    }

    #[test]
    fn sips_and_ipv6() {
        let u = SipUri::parse("sips:[2001:db8::10]:5070").unwrap();
        assert!(u.secure);
        assert_eq!(u.user, None);
        assert_eq!(
            u.host,
            Host::Ipv6("2001:db8::10".parse::<Ipv6Addr>().unwrap())
        );
        assert_eq!(u.host_text, "[2001:db8::10]");
        assert_eq!(u.port, Some(5070));
        let u = SipUri::parse("sip:[2001:db8::10]:5070").unwrap();
        assert_eq!(u.port, Some(5070));
    }

    #[test]
    fn user_param_and_semicolon_user() {
        let u = SipUri::parse("sip:+12125551212@gw.example.com;user=phone").unwrap();
        assert_eq!(u.user_param(), Some("phone"));
        let u = SipUri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user, Some("user;par=u%40example.net"));
        assert_eq!(u.host, Host::Domain("example.com"));
        assert!(u.params.is_empty());
    }

    #[test]
    fn tel_and_absolute() {
        match Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap() {
            Uri::Tel(t) => {
                assert_eq!(t.number, "+1-201-555-0123");
                assert!(t.is_global());
                assert_eq!(t.params.get("phone-context"), Some(Some("example.com")));
            }
            other => panic!("{other:?}"),
        }
        let u = Uri::parse("urn:service:sos").unwrap();
        assert_eq!(
            u,
            Uri::Absolute {
                scheme: "urn",
                rest: "service:sos",
                raw: "urn:service:sos"
            }
        );
        assert_eq!(u.as_str(), "urn:service:sos");
        assert_eq!(u.scheme(), "urn");
        assert!(matches!(
            Uri::parse("soap.beep://192.0.2.103:3002"),
            Ok(Uri::Absolute {
                scheme: "soap.beep",
                ..
            })
        ));
    }

    #[test]
    fn bad_uris() {
        assert!(Uri::parse_strict("sip:user@example.com; lr").is_err());
        assert!(Uri::parse("nocolon").is_err());
        assert!(Uri::parse("sip:@example.com").is_err());
        assert!(Uri::parse("sip:example.com:70000").is_err());
        assert!(Uri::parse_strict("1x:foo").is_err());
    }

    #[test]
    fn odd_but_valid_user() {
        let s = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
        let u = SipUri::parse(s).unwrap();
        assert_eq!(
            u.user,
            Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        );
        assert_eq!(
            u.password,
            Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        );
        assert_eq!(u.headers, None);
    }
}
