//! The edits between the message the proxy handed over and the one the chain left, as header operations
//! a proxy can apply (Kamailio: `remove_hf`, `append_hf`, `$ru`, `set_body`).
//!
//! The chain folds each plugin's edits into new bytes; comparing the two messages, not replaying the
//! plugins' edit lists, gives the net effect however the plugins expressed it (by name, by index, by
//! replacing the body), and costs one comparison per header line.

use sip_interop_abi::sip::{kind, Message};

use super::decision::{Body, MessageEdits};

/// One header as the comparison sees it: every line with that name (compact forms and case folded).
struct HeaderLines<'a> {
    kind: u16,
    name_written: &'a str,
    before: Vec<&'a [u8]>,
    after: Vec<&'a [u8]>,
}

impl HeaderLines<'_> {
    /// Same header: same well-known kind, or for other headers the same name in any case.
    fn is(&self, kind: u16, name: &str) -> bool {
        self.kind == kind && (kind != kind::OTHER || self.name_written.eq_ignore_ascii_case(name))
    }
}

fn slot<'a, 'b>(
    all: &'b mut Vec<HeaderLines<'a>>,
    hkind: u16,
    name: &'a str,
) -> &'b mut HeaderLines<'a> {
    let i = match all.iter().position(|h| h.is(hkind, name)) {
        Some(i) => i,
        None => {
            all.push(HeaderLines {
                kind: hkind,
                name_written: name,
                before: Vec::new(),
                after: Vec::new(),
            });
            all.len() - 1
        }
    };
    &mut all[i]
}

/// What turns `original` into `edited`. Content-Length is left to the proxy; when the body changed,
/// Content-Type travels with the body.
pub fn edits_between(original: &Message<'_>, edited: &Message<'_>) -> MessageEdits {
    let mut out = MessageEdits::default();
    if original.is_request() && original.request_uri_str() != edited.request_uri_str() {
        out.request_uri = edited.request_uri_str().map(str::to_owned);
    }
    let body_changed =
        original.body() != edited.body() || original.content_type() != edited.content_type();
    if body_changed {
        out.body = Some(Body {
            content_type: edited.content_type().unwrap_or_default().to_owned(),
            bytes: edited.body().to_vec(),
        });
    }
    let skip = |k: u16| k == kind::CONTENT_LENGTH || (body_changed && k == kind::CONTENT_TYPE);
    let mut all: Vec<HeaderLines<'_>> = Vec::new();
    for h in original.headers().filter(|h| !skip(h.kind)) {
        slot(&mut all, h.kind, h.name).before.push(h.raw_value);
    }
    for h in edited.headers().filter(|h| !skip(h.kind)) {
        let s = slot(&mut all, h.kind, h.name);
        if s.after.is_empty() {
            // Lines are appended under the name the chain wrote.
            s.name_written = h.name;
        }
        s.after.push(h.raw_value);
    }
    for h in all.iter().filter(|h| h.before != h.after) {
        if !h.before.is_empty() {
            out.remove_headers.push(h.name_written.to_owned());
        }
        for v in &h.after {
            out.add_headers.push((
                h.name_written.to_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK0\r\n\
f: <sip:alice@example.com>;tag=1\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: a@b\r\n\
CSeq: 1 INVITE\r\n\
Max-Forwards: 70\r\n\
X-Old: 1\r\n\
Content-Type: text/plain\r\n\
Content-Length: 5\r\n\r\nhello";

    fn diff(edited: &[u8]) -> MessageEdits {
        let a = Message::parse(INVITE).unwrap();
        let b = Message::parse(edited).unwrap();
        edits_between(&a, &b)
    }

    fn with(from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(INVITE.to_vec())
            .unwrap()
            .replacen(from, to, 1)
            .into_bytes()
    }

    #[test]
    fn the_same_message_needs_no_edit() {
        assert!(diff(INVITE).is_empty());
    }

    #[test]
    fn a_new_request_uri_is_reported_alone() {
        let e = diff(&with(
            "INVITE sip:bob@example.com",
            "INVITE sip:bob@gw.example.net",
        ));
        assert_eq!(e.request_uri.as_deref(), Some("sip:bob@gw.example.net"));
        assert!(e.remove_headers.is_empty() && e.add_headers.is_empty() && e.body.is_none());
    }

    #[test]
    fn an_added_header_is_appended_and_nothing_removed() {
        let e = diff(&with("X-Old: 1\r\n", "X-Old: 1\r\nX-New: a, b\r\n"));
        assert_eq!(e.add_headers, vec![("X-New".into(), "a, b".into())]);
        assert!(e.remove_headers.is_empty());
    }

    #[test]
    fn a_changed_header_is_removed_then_re_added_with_all_its_lines_in_order() {
        let e = diff(&with(
            "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK0\r\n",
            "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK0;received=1.2.3.4\r\n",
        ));
        assert_eq!(e.remove_headers, vec!["Via".to_string()]);
        assert_eq!(e.add_headers.len(), 2);
        assert_eq!(e.add_headers[0].1, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1");
        assert!(e.add_headers[1].1.ends_with("received=1.2.3.4"));
    }

    #[test]
    fn a_removed_header_is_removed_and_case_or_compact_form_do_not_count_as_change() {
        let e = diff(&with("X-Old: 1\r\n", ""));
        assert_eq!(e.remove_headers, vec!["X-Old".to_string()]);
        assert!(e.add_headers.is_empty());
        let e = diff(&with("f: <sip:alice", "From: <sip:alice"));
        assert!(e.is_empty(), "{e:?}");
        let e = diff(&with("X-Old: 1", "x-old: 1"));
        assert!(e.is_empty(), "{e:?}");
    }

    #[test]
    fn a_new_body_carries_its_content_type_and_content_length_is_never_an_edit() {
        let e = diff(&with(
            "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
            "Content-Type: application/sdp\r\nContent-Length: 3\r\n\r\nv=0",
        ));
        let body = e.body.clone().expect("body changed");
        assert_eq!(body.content_type, "application/sdp");
        assert_eq!(body.bytes, b"v=0");
        assert!(
            e.remove_headers.is_empty() && e.add_headers.is_empty(),
            "{e:?}"
        );
    }
}
