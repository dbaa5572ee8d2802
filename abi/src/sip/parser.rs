//! The single-pass header splitter behind [`Message::parse`].

use super::error::ParseError;
use super::header_name::{header_kind, kind};
use super::message::{head_text, index_first, HeaderEntry, Message, StartLine};
use super::span::Span;
use super::tokens::parse_u32;
use memchr::{memchr, memrchr};
use std::borrow::Cow;

#[inline]
fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Returns `(content_end, next_line_start)` for the line starting at `pos`.
#[inline]
fn line_at(b: &[u8], pos: usize) -> (usize, usize) {
    match memchr(b'\n', &b[pos..]) {
        Some(i) => {
            let n = pos + i;
            let ce = if n > pos && b[n - 1] == b'\r' {
                n - 1
            } else {
                n
            };
            (ce, n + 1)
        }
        None => (b.len(), b.len()),
    }
}

#[inline]
fn trim_wsp(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && is_wsp(b[s]) {
        s += 1;
    }
    while e > s && is_wsp(b[e - 1]) {
        e -= 1;
    }
    (s, e)
}

pub(crate) fn parse(b: &[u8]) -> Result<Message<'_>, ParseError> {
    if b.len() > u32::MAX as usize {
        return Err(ParseError::new(Some(513), "Message Too Large", 0));
    }
    let mut pos = 0;
    while pos < b.len() && (b[pos] == b'\r' || b[pos] == b'\n') {
        pos += 1;
    }
    if pos >= b.len() {
        return Err(ParseError::new(None, "empty message", pos));
    }
    let is_response = b[pos..].starts_with(b"SIP/");
    let st = if is_response { None } else { Some(400) };
    let (le, next) = line_at(b, pos);
    let start = if is_response {
        parse_status_line(b, pos, le)?
    } else {
        parse_request_line(b, pos, le)?
    };
    pos = next;

    let mut headers: Vec<HeaderEntry> = Vec::with_capacity(24);
    let mut body_start = b.len();
    while pos < b.len() {
        let (ce, next) = line_at(b, pos);
        if ce == pos {
            body_start = next;
            break;
        }
        if is_wsp(b[pos]) {
            let Some(last) = headers.last_mut() else {
                return Err(ParseError::new(
                    st,
                    "continuation line before first header",
                    pos,
                ));
            };
            let (s, e) = trim_wsp(b, pos, ce);
            if s < e {
                if last.value.is_empty() {
                    last.value.start = s as u32;
                }
                last.value.end = e as u32;
            }
        } else {
            let Some(c) = memchr(b':', &b[pos..ce]) else {
                return Err(ParseError::new(st, "header line without ':'", pos));
            };
            let colon = pos + c;
            let mut ne = colon;
            while ne > pos && is_wsp(b[ne - 1]) {
                ne -= 1;
            }
            if ne == pos {
                return Err(ParseError::new(st, "empty header name", pos));
            }
            let (vs, ve) = trim_wsp(b, colon + 1, ce);
            headers.push(HeaderEntry {
                name: Span::new(pos, ne),
                value: Span::new(vs, ve),
                kind: header_kind(&b[pos..ne]),
            });
        }
        pos = next;
    }

    let rest = b.len() - body_start;
    let declared = headers
        .iter()
        .find(|e| e.kind == kind::CONTENT_LENGTH)
        .and_then(|e| parse_u32(std::str::from_utf8(e.value.get(b)).ok()?));
    let body_len = match declared {
        Some(n) if (n as usize) <= rest => n as usize,
        _ => rest,
    };
    let body = Span::new(body_start, body_start + body_len);
    Ok(Message {
        bytes: b,
        start,
        head: head_text(b, body),
        first: index_first(&headers),
        headers: Cow::Owned(headers),
        body,
    })
}

fn parse_request_line(b: &[u8], pos: usize, le: usize) -> Result<StartLine, ParseError> {
    let bad = |why: &'static str| ParseError::new(Some(400), why, pos);
    let line = &b[pos..le];
    let m = memchr(b' ', line).ok_or_else(|| bad("malformed Request-Line"))?;
    if m == 0 {
        return Err(bad("missing method"));
    }
    let mut te = line.len();
    while te > m && is_wsp(line[te - 1]) {
        te -= 1;
    }
    let sp = memrchr(b' ', &line[..te]).unwrap_or(m);
    // `sp <= m`: no second space before the trailing LWS (e.g. `INVITE \r\n`); checked before
    // slicing, as `sp + 1` may then lie past `te`.
    if sp <= m {
        return Err(bad("Request-Line lacks SIP-Version"));
    }
    let version = &line[sp + 1..te];
    if version.len() < 4 || !version[..4].eq_ignore_ascii_case(b"SIP/") {
        return Err(bad("Request-Line lacks SIP-Version"));
    }
    let (us, ue) = trim_wsp(line, m + 1, sp);
    if us >= ue {
        return Err(bad("missing Request-URI"));
    }
    Ok(StartLine {
        is_response: false,
        method: Span::new(pos, pos + m),
        uri: Span::new(pos + us, pos + ue),
        version: Span::new(pos + sp + 1, pos + te),
        status: 0,
        reason: Span::new(le, le),
    })
}

fn parse_status_line(b: &[u8], pos: usize, le: usize) -> Result<StartLine, ParseError> {
    let bad = |why: &'static str| ParseError::new(None, why, pos);
    let line = &b[pos..le];
    let v = memchr(b' ', line).ok_or_else(|| bad("malformed Status-Line"))?;
    let rest = &line[v + 1..];
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits != 3 || rest.get(3).is_some_and(|&c| c != b' ') {
        return Err(bad("status code is not 3 digits"));
    }
    let status = rest[..3]
        .iter()
        .fold(0u16, |a, &c| a * 10 + (c - b'0') as u16);
    let rs = (pos + v + 1 + 4).min(le);
    Ok(StartLine {
        is_response: true,
        method: Span::new(pos, pos),
        uri: Span::new(pos, pos),
        version: Span::new(pos, pos + v),
        status,
        reason: Span::new(rs, le),
    })
}

#[cfg(test)]
mod tests {
    use super::super::header_name::kind;
    use super::*;
    use crate::sip::method::Method;

    const INV: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n\
v: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n\
To :\r\n <sip:bob@example.com>\r\n\
f: \"A\" <sip:alice@example.com>;tag=1\r\n\
i: abc@host\r\n\
CSeq: 1 INVITE\r\n\
X-Fold: one\r\n two\r\n\
l: 4\r\n\
\r\n\
bodyEXTRA";

    #[test]
    fn splits_headers_and_body() {
        let m = Message::parse(INV).unwrap();
        assert_eq!(m.method(), Some(Method::Invite));
        assert_eq!(m.request_uri_str(), Some("sip:bob@example.com"));
        assert_eq!(m.header_entries().len(), 8);
        assert_eq!(m.body(), b"body");
        assert_eq!(m.message_len(), INV.len() - 5);
        assert_eq!(m.header("x-fold"), Some("one\r\n two"));
        assert_eq!(m.header("To"), Some("<sip:bob@example.com>"));
        assert_eq!(m.header("t"), Some("<sip:bob@example.com>"));
        assert_eq!(m.header("VIA"), m.header("v"));
        assert_eq!(m.header("Call-ID"), Some("abc@host"));
        assert_eq!(m.header("call-id"), Some("abc@host"));
        assert_eq!(m.header("Missing"), None);
        assert_eq!(m.vias().count(), 3);
        assert_eq!(m.header_values(kind::VIA).count(), 2);
        let hosts: Vec<_> = m.vias().map(|v| v.unwrap().host_text).collect();
        assert_eq!(hosts, ["a.example.com", "b.example.com", "c.example.com"]);
        assert_eq!(m.top_via().unwrap().unwrap().branch(), Some("z9hG4bK1"));
        assert_eq!(m.from().unwrap().unwrap().tag(), Some("1"));
        assert_eq!(m.cseq().unwrap().unwrap().seq, 1);
        let hs: Vec<_> = m.headers().collect();
        assert_eq!(hs[3].name, "f");
        assert_eq!(hs[3].kind, kind::FROM);
        assert_eq!(hs[3].index, 3);
    }

    #[test]
    fn status_lines() {
        let m = Message::parse(b"SIP/2.0 180 Ringing\r\nVia: x\r\n\r\n").unwrap();
        assert_eq!(m.status(), Some(180));
        assert_eq!(m.reason(), Some(&b"Ringing"[..]));
        let m = Message::parse(b"SIP/2.0 100 \r\n\r\n").unwrap();
        assert_eq!(m.reason(), Some(&b""[..]));
        let m = Message::parse(b"SIP/2.0 100\r\n\r\n").unwrap();
        assert_eq!(m.reason(), Some(&b""[..]));
        let e = Message::parse(b"SIP/2.0 4294967301 big\r\n\r\n").unwrap_err();
        assert_eq!(e.status, None);
    }

    #[test]
    fn bad_request_lines() {
        let e = Message::parse(b"INVITE sip:a@b\r\n\r\n").unwrap_err();
        assert_eq!(e.status, Some(400));
        assert!(Message::parse(b"INVITE\r\n\r\n").is_err());
        assert!(Message::parse(b"INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n").is_err());
        assert!(Message::parse(b"").is_err());
    }

    /// Found by `cargo fuzz` (target `parse`, fuzz/README.md): a request line whose only space is
    /// trailing (`METHOD<SP>` then LWS) made the SIP-Version slice start past its end, a panic.
    #[test]
    fn fuzz_request_line_with_only_trailing_space_is_refused() {
        for bytes in [
            &b"INVITE \r\n\r\n"[..],
            b"INVITE  \t \r\n",
            b"INVITETE \nVia: SIP/2.0/UDP 127.0sip:bob@2.710.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0m .S1",
        ] {
            let e = Message::parse(bytes).unwrap_err();
            assert_eq!(e.status, Some(400), "{e}");
        }
    }

    #[test]
    fn from_parts_matches() {
        let m = Message::parse(INV).unwrap();
        let v = Message::from_parts(
            m.bytes(),
            *m.start_line(),
            m.header_entries(),
            m.body_span(),
        );
        assert_eq!(v.call_id(), Some("abc@host"));
        assert_eq!(v.body(), b"body");
    }
}
