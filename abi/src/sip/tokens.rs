//! Low-level lexical helpers shared by the header parsers (RFC 3261 §25.1).

const fn make_token_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
}

static TOKEN: [bool; 256] = make_token_table();

/// True if `b` is an RFC 3261 `token` character.
#[inline]
pub fn is_token_byte(b: u8) -> bool {
    TOKEN[b as usize]
}

/// True if `s` is a non-empty RFC 3261 `token`.
#[inline]
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token_byte(b))
}

/// True for linear white space bytes (SP, HTAB, and the CR/LF of a fold).
#[inline]
pub fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Trims LWS (including folded CRLFs) from both ends.
#[inline]
pub fn trim_lws(s: &str) -> &str {
    let b = s.as_bytes();
    let mut st = 0;
    let mut e = b.len();
    while st < e && is_lws(b[st]) {
        st += 1;
    }
    while e > st && is_lws(b[e - 1]) {
        e -= 1;
    }
    &s[st..e]
}

/// Trims leading LWS.
#[inline]
pub fn skip_lws(s: &str) -> &str {
    let n = s.bytes().take_while(|&b| is_lws(b)).count();
    &s[n..]
}

/// True if `s` contains any LWS byte.
#[inline]
pub fn has_lws(s: &str) -> bool {
    s.bytes().any(is_lws)
}

/// Splits off the leading token of `s`: `(token, rest)`; the token may be empty.
#[inline]
pub fn take_token(s: &str) -> (&str, &str) {
    let n = s.bytes().take_while(|&b| is_token_byte(b)).count();
    s.split_at(n)
}

/// Parses a non-empty all-digit string as `u32`; `None` on overflow or other bytes.
#[inline]
pub fn parse_u32(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u32)?;
    }
    Some(v)
}

/// Borrows bytes as `&str`: the whole slice when it is UTF-8, otherwise its
/// longest valid UTF-8 prefix (no allocation).
#[inline]
pub fn str_prefix(b: &[u8]) -> &str {
    match std::str::from_utf8(b) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// Iterator over `sep`-separated elements of a header value, honouring
/// quoted strings (with `\` escapes) and, optionally, `<...>` brackets.
/// Elements are trimmed of LWS; empty elements are yielded as `""`.
#[derive(Clone, Debug)]
pub struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
    angle: bool,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        let b = s.as_bytes();
        let mut i = 0;
        loop {
            let (sep, angle) = (self.sep, self.angle);
            let found = if b.len() - i < 24 {
                // Short tails: a plain loop beats memchr's setup cost.
                b[i..]
                    .iter()
                    .position(|&c| c == sep || c == b'"' || (angle && c == b'<'))
            } else if angle {
                memchr::memchr3(sep, b'"', b'<', &b[i..])
            } else {
                memchr::memchr2(sep, b'"', &b[i..])
            };
            let Some(k) = found else {
                self.rest = None;
                return Some(trim_lws(s));
            };
            let j = i + k;
            match b[j] {
                b'"' => i = j + quoted_len(&b[j..]).unwrap_or(b.len() - j),
                b'<' => i = memchr::memchr(b'>', &b[j..]).map_or(b.len(), |k| j + k + 1),
                _ => {
                    self.rest = Some(&s[j + 1..]);
                    return Some(trim_lws(&s[..j]));
                }
            }
        }
    }
}

/// Splits a header value into its comma-separated elements (quotes and `<>` honoured).
#[inline]
pub fn split_commas(s: &str) -> Split<'_> {
    Split {
        rest: Some(s),
        sep: b',',
        angle: true,
    }
}

/// Splits on `;` outside quoted strings.
#[inline]
pub fn split_semis(s: &str) -> Split<'_> {
    Split {
        rest: Some(s),
        sep: b';',
        angle: false,
    }
}

/// Returns the length of a quoted string at the start of `s` (including both
/// quotes), or `None` if it is not terminated.
pub fn quoted_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_split_honours_quotes_and_angles() {
        let v: Vec<_> =
            split_commas(r#"SIP/2.0/UDP a;x="1,2" , SIP/2.0/TCP b, <sip:c,d@e>"#).collect();
        assert_eq!(
            v,
            vec![r#"SIP/2.0/UDP a;x="1,2""#, "SIP/2.0/TCP b", "<sip:c,d@e>"]
        );
        let v: Vec<_> = split_commas(r#""a\",b" <sip:x>,y"#).collect();
        assert_eq!(v, vec![r#""a\",b" <sip:x>"#, "y"]);
    }

    #[test]
    fn numbers_and_tokens() {
        assert_eq!(parse_u32("0068"), Some(68));
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32("-1"), None);
        assert!(is_token(b"RE%47IST%45R"));
        assert!(!is_token(b"a b"));
        assert_eq!(quoted_len(br#""a\"b" x"#), Some(6));
        assert_eq!(quoted_len(br#""abc"#), None);
        assert_eq!(str_prefix(b"ab\xffc"), "ab");
    }
}
