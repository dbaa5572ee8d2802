//! Stream framing (TCP/TLS/WS-less streams): find where one message ends.

use super::error::ParseError;
use super::header_name::{header_kind, kind};
use super::tokens::{parse_u32, trim_lws};
use memchr::memmem;

/// Result of [`frame`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// More bytes are needed.
    Incomplete,
    /// A full message occupies `buf[..len]`.
    Complete {
        /// Length of the message including its body.
        len: usize,
    },
    /// `buf[..len]` is a keep-alive (RFC 5626 CRLFCRLF ping, or a CRLF pong /
    /// stray CRLF before a message) and must be consumed.
    KeepAlive {
        /// Bytes to consume.
        len: usize,
    },
    /// The stream cannot be framed; answer if `status` is set, then close it.
    Invalid(ParseError),
}

/// Frames the first message in `buf`. Streams require exactly one valid
/// Content-Length (RFC 3261 §18.3).
pub fn frame(buf: &[u8], max_header_bytes: usize, max_body_bytes: usize) -> Frame {
    if buf.starts_with(b"\r\n\r\n") {
        return Frame::KeepAlive { len: 4 };
    }
    if buf.starts_with(b"\r\n") {
        return if buf.len() > 2 {
            Frame::KeepAlive { len: 2 }
        } else {
            Frame::Incomplete
        };
    }
    if buf == b"\r" || buf.is_empty() {
        return Frame::Incomplete;
    }
    let st = if buf.starts_with(b"SIP/") {
        None
    } else {
        Some(400)
    };
    let limit = buf.len().min(max_header_bytes.saturating_add(4));
    let Some(hend) = memmem::find(&buf[..limit], b"\r\n\r\n") else {
        return if buf.len() >= max_header_bytes.saturating_add(4) {
            Frame::Invalid(ParseError::new(
                st.map(|_| 513),
                "Message Too Large: header section over limit",
                0,
            ))
        } else {
            Frame::Incomplete
        };
    };
    let head = &buf[..hend + 2];
    let mut cl: Option<(usize, &[u8])> = None;
    let mut count = 0;
    let mut lines = head.split(|&b| b == b'\n').skip(1).peekable();
    let mut offset = memchr::memchr(b'\n', head).map_or(0, |i| i + 1);
    while let Some(line) = lines.next() {
        let line_off = offset;
        offset += line.len() + 1;
        let Some(c) = memchr::memchr(b':', line) else {
            continue;
        };
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            continue;
        }
        let name = trim_lws(std::str::from_utf8(&line[..c]).unwrap_or(""));
        if header_kind(name.as_bytes()) != kind::CONTENT_LENGTH {
            continue;
        }
        count += 1;
        let mut end = line_off + line.len();
        while lines
            .peek()
            .is_some_and(|l| l.first().is_some_and(|b| *b == b' ' || *b == b'\t'))
        {
            let l = lines.next().unwrap_or_default();
            offset += l.len() + 1;
            end = offset - 1;
        }
        cl = Some((line_off, &buf[line_off + c + 1..end]));
    }
    let (off, v) = match (count, cl) {
        (0, _) | (_, None) => {
            return Frame::Invalid(ParseError::new(
                st,
                "Content-Length required on stream transports",
                0,
            ))
        }
        (1, Some(x)) => x,
        _ => return Frame::Invalid(ParseError::new(st, "Multiple Content-Length headers", 0)),
    };
    let Some(n) = std::str::from_utf8(v)
        .ok()
        .map(trim_lws)
        .and_then(parse_u32)
    else {
        return Frame::Invalid(ParseError::new(st, "invalid Content-Length", off));
    };
    let n = n as usize;
    if n > max_body_bytes {
        return Frame::Invalid(ParseError::new(
            st.map(|_| 413),
            "Request Entity Too Large",
            off,
        ));
    }
    let total = hend + 4 + n;
    if buf.len() < total {
        Frame::Incomplete
    } else {
        Frame::Complete { len: total }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nl: 5\r\n\r\nhelloNEXT";

    #[test]
    fn frames() {
        assert_eq!(frame(M, 4096, 4096), Frame::Complete { len: M.len() - 4 });
        assert_eq!(frame(&M[..M.len() - 6], 4096, 4096), Frame::Incomplete);
        assert_eq!(frame(&M[..20], 4096, 4096), Frame::Incomplete);
        assert_eq!(
            frame(b"\r\n\r\nOPTIONS", 4096, 4096),
            Frame::KeepAlive { len: 4 }
        );
        assert_eq!(
            frame(b"\r\nOPTIONS", 4096, 4096),
            Frame::KeepAlive { len: 2 }
        );
        assert_eq!(frame(b"\r\n", 4096, 4096), Frame::Incomplete);
        assert!(matches!(frame(M, 10, 4096), Frame::Invalid(e) if e.status == Some(513)));
        assert!(matches!(frame(M, 4096, 2), Frame::Invalid(e) if e.status == Some(413)));
    }

    #[test]
    fn invalid_content_lengths() {
        let no = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n";
        assert!(matches!(frame(no, 4096, 4096), Frame::Invalid(e) if e.status == Some(400)));
        let neg = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -999\r\n\r\n";
        assert!(matches!(frame(neg, 4096, 4096), Frame::Invalid(_)));
        let dup = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\nl: 0\r\n\r\n";
        assert!(matches!(frame(dup, 4096, 4096), Frame::Invalid(_)));
        let resp = b"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n";
        assert!(matches!(frame(resp, 4096, 4096), Frame::Invalid(e) if e.status.is_none()));
        let folded = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n 2\r\n\r\nhi";
        assert_eq!(
            frame(folded, 4096, 4096),
            Frame::Complete { len: folded.len() }
        );
    }
}
