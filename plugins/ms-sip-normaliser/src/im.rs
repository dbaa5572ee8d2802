//! Instant messaging: a Lync IM-session INVITE (`m=message … sip null`, [MS-SIPRE] §3.1) carries its
//! first message in `ms-text-format` ([MS-SIPRE] §2.2.1: content type, parameters, and the text as
//! base64 in `ms-body`). The normaliser marks the session for the IM/presence splitter and decodes
//! that first message; [`message_request`] turns it into a standalone RFC 3428 MESSAGE.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sip_interop_abi::sip::{kind, Message};

/// Most bytes of a first message taken out of `ms-text-format`.
pub const MAX_FIRST_MESSAGE: usize = 8 * 1024;

/// The first message of an IM INVITE: `(content type, text)` from its `ms-text-format` header.
pub fn first_message(m: &Message<'_>) -> Option<(String, Vec<u8>)> {
    let v = m.header("ms-text-format")?;
    let mut parts = v.split(';');
    let content_type = parts.next()?.trim();
    if !content_type.contains('/') {
        return None;
    }
    let mut charset = None;
    let mut body = None;
    for p in parts {
        let (name, val) = p.split_once('=')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "charset" => charset = Some(val.trim().trim_matches('"').to_string()),
            "ms-body" => body = Some(val.trim().trim_matches('"')),
            _ => {}
        }
    }
    let encoded = body?;
    if encoded.len() > MAX_FIRST_MESSAGE * 4 / 3 + 4 {
        return None;
    }
    let text = B64.decode(encoded).ok()?;
    let ct = match charset {
        Some(c) => format!("{content_type};charset={c}"),
        None => content_type.to_string(),
    };
    Some((ct, text))
}

/// An RFC 3428 MESSAGE carrying `text` from the INVITE's caller to its callee: the INVITE's
/// Request-URI, From (its tag), To, Call-ID and Route set, a new CSeq, and `via` as the only Via.
pub fn message_request(
    invite: &Message<'_>,
    via: &str,
    content_type: &str,
    text: &[u8],
) -> Option<Vec<u8>> {
    use std::fmt::Write;
    let ruri = invite.request_uri_str()?;
    let mut out = String::with_capacity(512 + text.len());
    let _ = write!(
        out,
        "MESSAGE {ruri} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n"
    );
    for r in invite.header_values(kind::ROUTE) {
        let _ = write!(out, "Route: {r}\r\n");
    }
    let _ = write!(
        out,
        "From: {}\r\nTo: {}\r\nCall-ID: {}-im\r\nCSeq: 1 MESSAGE\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        invite.first_value(kind::FROM)?,
        invite.first_value(kind::TO)?,
        invite.call_id()?,
        text.len()
    );
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(text);
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-1\r\nFrom: <sip:alice@lync.example.com>;tag=1;epid=0a\r\nTo: <sip:bob@example.net>\r\nCall-ID: im-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nms-text-format: text/plain; charset=UTF-8;msgr=WAAtAE0ATQBTAA;ms-body=SGVsbG8gZnJvbSBMeW5j\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn the_first_message_is_decoded_and_becomes_a_message_request() {
        let m = Message::parse(INVITE.as_bytes()).unwrap();
        let (ct, text) = first_message(&m).unwrap();
        assert_eq!(ct, "text/plain;charset=UTF-8");
        assert_eq!(text, b"Hello from Lync");
        let req = message_request(
            &m,
            "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-im",
            &ct,
            &text,
        )
        .unwrap();
        let parsed = Message::parse(&req).unwrap();
        assert_eq!(parsed.validate(), Ok(()));
        assert_eq!(parsed.method().unwrap().as_str(), "MESSAGE");
        assert_eq!(parsed.body(), b"Hello from Lync");
        assert_eq!(parsed.cseq().unwrap().unwrap().method.as_str(), "MESSAGE");
    }

    #[test]
    fn no_or_bad_ms_body_gives_nothing() {
        for h in [
            "ms-text-format: text/plain; charset=UTF-8\r\n",
            "ms-text-format: text/plain;ms-body=***\r\n",
            "",
        ] {
            let b = INVITE.replace(
                "ms-text-format: text/plain; charset=UTF-8;msgr=WAAtAE0ATQBTAA;ms-body=SGVsbG8gZnJvbSBMeW5j\r\n",
                h,
            );
            let m = Message::parse(b.as_bytes()).unwrap();
            assert_eq!(first_message(&m), None, "{h}");
        }
    }
}
