//! Lazily iterated `;name[=value]` parameter lists.

use super::tokens::{is_lws, is_token, is_token_byte, quoted_len, split_semis, trim_lws};

/// A `;name[=value]` list over the original text, parsed only when iterated.
///
/// The raw text is empty or starts with `;` (possibly after LWS). Names and
/// values are trimmed of LWS; quoted values are returned with their quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Params<'a> {
    raw: &'a str,
}

impl<'a> Params<'a> {
    /// Wraps raw parameter text (empty, or starting with `;`).
    pub fn new(raw: &'a str) -> Params<'a> {
        Params { raw }
    }

    /// The raw text, as found in the message.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// True if there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Iterates `(name, value)` pairs; empty segments (`;;`) are skipped.
    pub fn iter(&self) -> ParamIter<'a> {
        let mut inner = split_semis(self.raw);
        inner.next(); // text before the first ';' (empty by construction)
        ParamIter { inner }
    }

    /// Value of the first parameter named `name` (ASCII case-insensitive):
    /// `None` if absent, `Some(None)` if present without `=value`.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        // One forward scan: at each ';', read the name and compare; skip values (quoted strings
        // whole, so a ';' inside quotes is not a separator).
        let raw = self.raw;
        let b = raw.as_bytes();
        let mut i = memchr::memchr(b';', b)?;
        while i < b.len() {
            i += 1; // past ';'
            while i < b.len() && is_lws(b[i]) {
                i += 1;
            }
            let ns = i;
            while i < b.len() && !matches!(b[i], b'=' | b';') && !is_lws(b[i]) {
                i += 1;
            }
            let this = &raw[ns..i];
            while i < b.len() && is_lws(b[i]) {
                i += 1;
            }
            let mut value = None;
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && is_lws(b[i]) {
                    i += 1;
                }
                let vs = i;
                if i < b.len() && b[i] == b'"' {
                    i += quoted_len(&b[i..]).unwrap_or(b.len() - i);
                }
                while i < b.len() && b[i] != b';' {
                    i += 1;
                }
                value = Some(trim_lws(&raw[vs..i]));
            } else {
                while i < b.len() && b[i] != b';' {
                    i += 1;
                }
            }
            if !this.is_empty() && this.len() == name.len() && this.eq_ignore_ascii_case(name) {
                return Some(value);
            }
        }
        None
    }

    /// True if a parameter named `name` is present (case-insensitive).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Checks header-parameter syntax (`generic-param`): token names, values
    /// that are tokens, hosts or quoted strings, no empty segments.
    pub fn validate_generic(&self) -> Result<(), &'static str> {
        self.validate_with(|v| {
            if v.starts_with('"') {
                quoted_len(v.as_bytes()) == Some(v.len())
            } else {
                v.bytes()
                    .all(|b| is_token_byte(b) || matches!(b, b':' | b'[' | b']'))
            }
        })
    }

    /// Checks URI-parameter syntax loosely: non-empty names, no LWS, no empty segments.
    pub fn validate_uri(&self) -> Result<(), &'static str> {
        if self.raw.bytes().any(|b| b <= b' ') {
            return Err("whitespace in URI parameters");
        }
        self.validate_with(|_| true)
    }

    fn validate_with(&self, value_ok: impl Fn(&str) -> bool) -> Result<(), &'static str> {
        let mut segs = split_semis(self.raw);
        if segs.next().is_some_and(|s| !s.is_empty()) {
            return Err("text before parameters");
        }
        for seg in segs {
            let (n, v) = split_param(seg);
            if !is_token(n.as_bytes()) {
                return Err(if n.is_empty() {
                    "empty parameter"
                } else {
                    "invalid parameter name"
                });
            }
            if let Some(v) = v {
                if v.is_empty() || !value_ok(v) {
                    return Err("invalid parameter value");
                }
            }
        }
        Ok(())
    }
}

fn split_param(seg: &str) -> (&str, Option<&str>) {
    match seg.find('=') {
        Some(i) => (trim_lws(&seg[..i]), Some(trim_lws(&seg[i + 1..]))),
        None => (seg, None),
    }
}

/// Iterator returned by [`Params::iter`].
#[derive(Clone, Debug)]
pub struct ParamIter<'a> {
    inner: super::tokens::Split<'a>,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a str, Option<&'a str>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let seg = self.inner.next()?;
            if !seg.is_empty() {
                return Some(split_param(seg));
            }
        }
    }
}

impl<'a> IntoIterator for Params<'a> {
    type Item = (&'a str, Option<&'a str>);
    type IntoIter = ParamIter<'a>;
    fn into_iter(self) -> ParamIter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_iter() {
        let p = Params::new(";branch=z9hG4bK1 ; RPORT ;x=\"a;b\";tag = 7");
        assert_eq!(p.get("branch"), Some(Some("z9hG4bK1")));
        assert_eq!(p.get("rport"), Some(None));
        assert_eq!(p.get("x"), Some(Some("\"a;b\"")));
        assert_eq!(p.get("TAG"), Some(Some("7")));
        assert_eq!(p.get("nope"), None);
        assert!(p.contains("Rport"));
        assert_eq!(p.iter().count(), 4);
        assert!(p.validate_generic().is_ok());
        assert!(Params::new(";;").validate_generic().is_err());
        assert!(Params::new(";a=").validate_generic().is_err());
        assert!(Params::new("").is_empty());
    }
}
