//! `name-addr` / `addr-spec` values (From, To, Contact, Route, Record-Route, ...).

use super::error::SyntaxError;
use super::params::Params;
use super::tokens::{has_lws, is_lws, is_token, quoted_len, skip_lws, trim_lws};
use super::uri::Uri;

const E: &str = "name-addr";

/// A name-addr (`"Bob" <sip:bob@b.example>;tag=1`) or bare addr-spec
/// (`sip:bob@b.example;tag=1`, where the `;params` belong to the header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// Display name: a quoted string's inner text (escapes kept) or the token words.
    pub display_name: Option<&'a str>,
    /// URI text (parse it with [`NameAddr::uri`]: most uses of From/To need only the tag).
    pub uri_str: &'a str,
    /// Header parameters.
    pub params: Params<'a>,
    /// True if the URI was enclosed in `<>`.
    pub bracketed: bool,
    /// True for the Contact wildcard `*`.
    pub wildcard: bool,
}

/// Access needs only a scheme separator to hand the URI text out; validation parses it fully.
fn check_uri(uri_str: &str, strict: bool) -> Result<(), SyntaxError> {
    if strict {
        Uri::parse_strict(uri_str)
            .map(|_| ())
            .map_err(|e| e.in_header(E))
    } else if memchr::memchr(b':', uri_str.as_bytes()).is_none() {
        Err(SyntaxError::new(E, "URI without a scheme"))
    } else {
        Ok(())
    }
}

impl<'a> NameAddr<'a> {
    /// Parses one value (not a comma list) for access: display name, URI and parameters are split
    /// and the URI parsed; character-level checks are left to [`NameAddr::parse_strict`], which
    /// [`crate::sip::Message::validate`] applies. `*` is not accepted here; see
    /// [`NameAddr::parse_contact`].
    pub fn parse(s: &'a str) -> Result<NameAddr<'a>, SyntaxError> {
        NameAddr::parse_with(s, false)
    }

    /// Parses and checks one value completely: display-name characters, URI syntax, parameter
    /// syntax (RFC 3261 §25.1).
    pub fn parse_strict(s: &'a str) -> Result<NameAddr<'a>, SyntaxError> {
        NameAddr::parse_with(s, true)
    }

    fn parse_with(s: &'a str, strict: bool) -> Result<NameAddr<'a>, SyntaxError> {
        let s = trim_lws(s);
        if s.is_empty() {
            return Err(SyntaxError::new(E, "empty value"));
        }
        let b = s.as_bytes();
        let (display_name, rest) = if b[0] == b'"' {
            let n = quoted_len(b).ok_or(SyntaxError::new(E, "unterminated quoted string"))?;
            let r = skip_lws(&s[n..]);
            if !r.starts_with('<') {
                return Err(SyntaxError::new(
                    E,
                    "display name must be followed by <URI>",
                ));
            }
            (Some(&s[1..n - 1]), r)
        } else {
            match b.iter().position(|&c| c == b'<' || c == b':') {
                Some(i) if b[i] == b'<' => {
                    let dn = trim_lws(&s[..i]);
                    if strict
                        && !dn
                            .split(|c: char| is_lws(c as u8))
                            .filter(|w| !w.is_empty())
                            .all(|w| is_token(w.as_bytes()))
                    {
                        return Err(SyntaxError::new(E, "invalid characters in display name"));
                    }
                    (if dn.is_empty() { None } else { Some(dn) }, &s[i..])
                }
                _ => (None, s),
            }
        };
        if let Some(inner) = rest.strip_prefix('<') {
            let gt = inner.find('>').ok_or(SyntaxError::new(E, "missing '>'"))?;
            let uri_str = &inner[..gt];
            check_uri(uri_str, strict)?;
            let p = skip_lws(&inner[gt + 1..]);
            if !p.is_empty() && !p.starts_with(';') {
                return Err(SyntaxError::new(E, "unexpected text after '>'"));
            }
            let params = Params::new(p);
            if strict {
                params
                    .validate_generic()
                    .map_err(|m| SyntaxError::new(E, m))?;
            }
            Ok(NameAddr {
                display_name,
                uri_str,
                params,
                bracketed: true,
                wildcard: false,
            })
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            let uri_str = trim_lws(&rest[..end]);
            if has_lws(uri_str) {
                return Err(SyntaxError::new(E, "whitespace inside addr-spec"));
            }
            if uri_str.contains(['?', ',']) {
                return Err(SyntaxError::new(
                    E,
                    "addr-spec with '?' or ',' must be enclosed in <>",
                ));
            }
            check_uri(uri_str, strict)?;
            let params = Params::new(&rest[end..]);
            if strict {
                params
                    .validate_generic()
                    .map_err(|m| SyntaxError::new(E, m))?;
            }
            Ok(NameAddr {
                display_name,
                uri_str,
                params,
                bracketed: false,
                wildcard: false,
            })
        }
    }

    /// Like [`NameAddr::parse`] but also accepts the Contact wildcard `*`.
    pub fn parse_contact(s: &'a str) -> Result<NameAddr<'a>, SyntaxError> {
        NameAddr::parse_contact_with(s, false)
    }

    /// Like [`NameAddr::parse_strict`] but also accepts the Contact wildcard `*`.
    pub fn parse_contact_strict(s: &'a str) -> Result<NameAddr<'a>, SyntaxError> {
        NameAddr::parse_contact_with(s, true)
    }

    fn parse_contact_with(s: &'a str, strict: bool) -> Result<NameAddr<'a>, SyntaxError> {
        let t = trim_lws(s);
        if t == "*" {
            return Ok(NameAddr {
                display_name: None,
                uri_str: t,
                params: Params::default(),
                bracketed: false,
                wildcard: true,
            });
        }
        NameAddr::parse_with(s, strict)
    }

    /// The URI, parsed now (a `*` Contact gives `Uri::Absolute` with empty scheme and rest `*`).
    pub fn uri(&self) -> Result<Uri<'a>, SyntaxError> {
        if self.wildcard {
            return Ok(Uri::Absolute {
                scheme: "",
                rest: self.uri_str,
                raw: self.uri_str,
            });
        }
        Uri::parse(self.uri_str).map_err(|e| e.in_header(E))
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&'a str> {
        self.params.get("tag").flatten()
    }

    /// Value of header parameter `name`.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let n = NameAddr::parse("\"Bob \\\"B\\\"\" <sip:bob@example.com>;tag=abc").unwrap();
        assert_eq!(n.display_name, Some("Bob \\\"B\\\""));
        assert_eq!(n.uri_str, "sip:bob@example.com");
        assert_eq!(n.tag(), Some("abc"));
        assert!(n.bracketed);
        let n = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(n.display_name, Some("caller"));
        let n = NameAddr::parse("sip:watson@example.com ;   tag    = 19n").unwrap();
        assert_eq!(n.uri_str, "sip:watson@example.com");
        assert_eq!(n.tag(), Some("19n"));
        assert!(!n.bracketed);
        let n = NameAddr::parse("sip:+1972@gw1.example.net;unknownparam").unwrap();
        assert!(n.uri().unwrap().as_sip().unwrap().params.is_empty());
        assert!(n.params.contains("unknownparam"));
        let n = NameAddr::parse("<sip:u@h;unknownparam>").unwrap();
        assert!(n
            .uri()
            .unwrap()
            .as_sip()
            .unwrap()
            .params
            .contains("unknownparam"));
        assert!(n.params.is_empty());
        assert!(NameAddr::parse_contact(" * ").unwrap().wildcard);
    }

    #[test]
    fn errors() {
        assert!(NameAddr::parse_strict("\"Mr. J. User <sip:j.user@example.com>").is_err());
        assert!(NameAddr::parse_strict("Bell, Alexander <sip:a@example.com>").is_err());
        assert!(NameAddr::parse_strict("\"W\" < sip:t.watson@example.org >").is_err());
        assert!(NameAddr::parse_strict("sip:user@example.com?Route=%3Csip:x%3E").is_err());
        assert!(NameAddr::parse_strict("\"Joe\" <sip:joe@example.org>;;;;").is_err());
        assert!(NameAddr::parse("").is_err());
        assert!(NameAddr::parse("*").is_err());
    }
}
