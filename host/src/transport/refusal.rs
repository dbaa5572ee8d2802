//! The answer written on a stream before it is closed because it cannot be framed (RFC 3261 §18.3):
//! `513 Message Too Large` for a header section over the limit, `413 Request Entity Too Large` for
//! a Content-Length over the body limit, `400 Bad Request` for a missing, repeated or invalid
//! Content-Length. Only requests are answered, and only when the part of the header section read so
//! far holds what a response must copy (RFC 3261 §8.2.6.2): a valid top Via, From, To, Call-ID and
//! CSeq, each on a complete line. Otherwise the connection is just closed.
//!
//! This runs on the error path only; framing itself allocates nothing.

use sip_interop_abi::sip::header_name::kind;
use sip_interop_abi::sip::tokens::split_commas;
use sip_interop_abi::sip::{Message, Via};

/// To tag of these answers; like the proxy's own answers it starts with `sih`. No ACK can follow:
/// the connection is closed.
const TAG: &str = "sih0";

/// The answer to the request at the front of `buf` (`status` from the framer, `why` for a Warning),
/// looking at no more than `max_header_bytes + 4` bytes of it; `None` when it cannot be answered.
pub(crate) fn answer(
    buf: &[u8],
    max_header_bytes: usize,
    status: u16,
    why: &str,
) -> Option<Vec<u8>> {
    let seen = &buf[..buf.len().min(max_header_bytes.saturating_add(4))];
    // Complete lines only: a line cut at the limit could be a truncated Via.
    let head = match memchr::memmem::find(seen, b"\r\n\r\n") {
        Some(end) => &seen[..end + 2],
        None => &seen[..memchr::memrchr(b'\n', seen)? + 1],
    };
    let m = Message::parse(head).ok()?;
    let method = m.method()?;
    if method.as_str() == "ACK" {
        return None;
    }
    // What a response copies must all be there (RFC 3261 §8.2.6.2), the top Via valid.
    let top = m.first_value(kind::VIA)?;
    Via::parse_strict(split_commas(top).next()?).ok()?;
    m.first_value(kind::FROM)?;
    m.first_value(kind::TO)?;
    m.call_id()?;
    m.first_value(kind::CSEQ)?;
    let warning = format!("399 sip-interop \"{}\"", why.replace('"', "'"));
    Some(crate::proxy::build::reply(
        &m,
        status,
        None,
        TAG,
        &[("Warning".to_string(), warning)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n";

    #[test]
    fn a_request_with_the_headers_a_response_copies_is_answered() {
        let big = format!("{HEAD}X-Long: {}\r\n", "a".repeat(500));
        let r =
            answer(big.as_bytes(), 200, 513, "header section over 200 bytes").expect("answered");
        let text = String::from_utf8(r.clone()).unwrap();
        assert!(text.starts_with("SIP/2.0 513 Message Too Large\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK1\r\n"), "{text}");
        assert!(
            text.contains("To: <sip:b@127.0.0.1>;tag=sih0\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Warning: 399 sip-interop \"header section over 200 bytes\"\r\n"),
            "{text}"
        );
        let m = Message::parse(&r).unwrap();
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(m.call_id(), Some("c1"));
        let body = format!("{HEAD}Content-Length: 9999999\r\n\r\n");
        let r = answer(body.as_bytes(), 16_384, 413, "body too large").expect("answered");
        assert!(r.starts_with(b"SIP/2.0 413 Request Entity Too Large\r\n"));
    }

    #[test]
    fn no_answer_without_a_complete_via_and_the_other_copied_headers() {
        // The limit cuts the Call-ID line: not there yet.
        let cut = HEAD.find("Call-ID").unwrap() + 5;
        assert_eq!(answer(HEAD.as_bytes(), cut - 4, 513, "x"), None);
        // A truncated Via is never copied.
        let via_cut = HEAD.find("branch").unwrap();
        assert_eq!(answer(HEAD.as_bytes(), via_cut - 4, 513, "x"), None);
        assert_eq!(
            answer(&HEAD.as_bytes()[..HEAD.len() - 2], 16_384, 513, "x"),
            None
        );
        let bad_via = HEAD.replace("SIP/2.0/TCP 127.0.0.1:5070", "garbage");
        assert_eq!(answer(bad_via.as_bytes(), 16_384, 400, "x"), None);
        // Responses and ACKs are never answered.
        let resp = HEAD.replace("INVITE sip:b@127.0.0.1 SIP/2.0", "SIP/2.0 200 OK");
        assert_eq!(answer(resp.as_bytes(), 16_384, 400, "x"), None);
        let ack = HEAD.replace("INVITE", "ACK");
        assert_eq!(answer(ack.as_bytes(), 16_384, 400, "x"), None);
        assert_eq!(
            answer(b"INVITE sip:b@127.0.0.1 SIP/2.0", 16_384, 513, "x"),
            None
        );
    }
}
