//! Messages the proxy writes itself: local replies, CANCEL and ACK for a branch, the ACK and BYE that
//! end a branch answered too soon, and the edits that turn a received request into a forwarded one.

use std::fmt::Write;
use std::hash::{Hash, Hasher};

use sip_interop_abi::sip::header_name::kind;
use sip_interop_abi::sip::tokens::split_commas;
use sip_interop_abi::sip::{reason_phrase, Edit, HeaderPosition, Message};

/// Magic-cookie prefix of the branches this proxy writes; what follows is the loop hash.
pub const BRANCH_PREFIX: &str = "z9hG4bK-sih-";

/// Hash over what identifies a request for loop detection (RFC 3261 §16.6 step 8): Request-URI,
/// To tag, From tag, Call-ID, CSeq number, Proxy-Require, Proxy-Authorization. The topmost Via is
/// left out on purpose, so a request that comes back unchanged is recognised whatever hop sent it.
pub fn loop_hash(m: &Message<'_>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    m.request_uri_str().unwrap_or("").hash(&mut h);
    m.to()
        .and_then(|t| t.ok())
        .and_then(|t| t.tag())
        .unwrap_or("")
        .hash(&mut h);
    m.from()
        .and_then(|t| t.ok())
        .and_then(|t| t.tag())
        .unwrap_or("")
        .hash(&mut h);
    m.call_id().unwrap_or("").hash(&mut h);
    m.cseq()
        .and_then(|c| c.ok())
        .map(|c| c.seq)
        .unwrap_or(0)
        .hash(&mut h);
    for v in m.header_values(kind::PROXY_REQUIRE) {
        v.hash(&mut h);
    }
    for v in m.header_values(kind::PROXY_AUTHORIZATION) {
        v.hash(&mut h);
    }
    h.finish()
}

/// A branch parameter: our prefix, the loop hash, then what makes it unique.
pub fn branch_id(loop_hash: u64, tx: u64, index: usize) -> String {
    format!("{BRANCH_PREFIX}{loop_hash:016x}-{tx:x}-{index}")
}

/// The loop hash inside one of our branch parameters.
pub fn loop_hash_of_branch(branch: &str) -> Option<u64> {
    let rest = branch.strip_prefix(BRANCH_PREFIX)?;
    u64::from_str_radix(rest.get(..16)?, 16).ok()
}

/// Prefix of the To tags in replies the proxy generates.
pub const LOCAL_TAG_PREFIX: &str = "sih";

/// A local tag for To in replies the proxy generates.
pub fn local_tag(tx: u64) -> String {
    format!("{LOCAL_TAG_PREFIX}{tx:x}")
}

/// A reply to `req` written by the proxy: Via lines, From, To (with `to_tag` added for non-100
/// replies when To has none), Call-ID and CSeq copied, then `extra` headers.
pub fn reply(
    req: &Message<'_>,
    status: u16,
    reason: Option<&str>,
    to_tag: &str,
    extra: &[(String, String)],
) -> Vec<u8> {
    reply_with_body(req, status, reason, to_tag, extra, None)
}

/// [`reply`] with a body (`(content type, bytes)`), as a plugin's `Respond` verdict may carry.
pub fn reply_with_body(
    req: &Message<'_>,
    status: u16,
    reason: Option<&str>,
    to_tag: &str,
    extra: &[(String, String)],
    body: Option<(&str, &[u8])>,
) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    let _ = write!(
        out,
        "SIP/2.0 {status} {}\r\n",
        reason.unwrap_or_else(|| reason_phrase(status))
    );
    for e in req.header_entries() {
        if e.kind == kind::VIA {
            let _ = write!(out, "Via: {}\r\n", req.value_of(e));
        }
    }
    if let Some(f) = req.first_value(kind::FROM) {
        let _ = write!(out, "From: {f}\r\n");
    }
    if let Some(t) = req.first_value(kind::TO) {
        let has_tag = req
            .to()
            .and_then(|t| t.ok())
            .is_some_and(|t| t.tag().is_some());
        if status > 100 && !has_tag {
            let _ = write!(out, "To: {t};tag={to_tag}\r\n");
        } else {
            let _ = write!(out, "To: {t}\r\n");
        }
    }
    if let Some(c) = req.call_id() {
        let _ = write!(out, "Call-ID: {c}\r\n");
    }
    if let Some(c) = req.first_value(kind::CSEQ) {
        let _ = write!(out, "CSeq: {c}\r\n");
    }
    for (n, v) in extra {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    out.push_str("Server: sip-interop\r\n");
    match body {
        Some((content_type, bytes)) if !bytes.is_empty() => {
            let _ = write!(
                out,
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                bytes.len()
            );
            let mut out = out.into_bytes();
            out.extend_from_slice(bytes);
            out
        }
        _ => {
            out.push_str("Content-Length: 0\r\n\r\n");
            out.into_bytes()
        }
    }
}

/// The CANCEL for a branch (RFC 3261 §9.1): same Request-URI, Call-ID, From, To, CSeq number and
/// Route as the forwarded request, and its topmost Via (our branch) only.
pub fn cancel_for(forwarded: &Message<'_>) -> Vec<u8> {
    hop_request(forwarded, "CANCEL", None)
}

/// The ACK a client transaction sends for a non-2xx final answer (RFC 3261 §17.1.1.3): like CANCEL,
/// with the To of the response (its tag).
pub fn ack_for(forwarded: &Message<'_>, response: &Message<'_>) -> Vec<u8> {
    hop_request(forwarded, "ACK", response.first_value(kind::TO))
}

fn hop_request(fwd: &Message<'_>, method: &str, to: Option<&str>) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    let _ = write!(
        out,
        "{method} {} SIP/2.0\r\n",
        fwd.request_uri_str().unwrap_or("")
    );
    if let Some(v) = fwd.first_value(kind::VIA) {
        let top = split_commas(v).next().unwrap_or(v);
        let _ = write!(out, "Via: {top}\r\n");
    }
    for r in fwd.header_values(kind::ROUTE) {
        let _ = write!(out, "Route: {r}\r\n");
    }
    if let Some(f) = fwd.first_value(kind::FROM) {
        let _ = write!(out, "From: {f}\r\n");
    }
    if let Some(t) = to.or_else(|| fwd.first_value(kind::TO)) {
        let _ = write!(out, "To: {t}\r\n");
    }
    if let Some(c) = fwd.call_id() {
        let _ = write!(out, "Call-ID: {c}\r\n");
    }
    let seq = fwd.cseq().and_then(|c| c.ok()).map(|c| c.seq).unwrap_or(1);
    let _ = write!(
        out,
        "CSeq: {seq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    out.into_bytes()
}

/// The in-dialog request (`ACK` for the 2xx, then `BYE`) that ends a dialog a branch established too
/// soon: Request-URI from the 2xx's Contact, our own Via, and as Route the Record-Route entries of
/// the proxies between us and the callee (those above our own entry), reversed. Our own entry and
/// the ones upstream of it are not ours to visit: sending to them would loop the request back
/// through this proxy, where the ACK and the BYE could overtake each other.
/// Returns the request and the URI of its first hop.
pub fn dialog_request(
    forwarded: &Message<'_>,
    ok: &Message<'_>,
    method: &str,
    seq: u32,
    via: &str,
    is_ours: impl Fn(&str) -> bool,
) -> Option<(Vec<u8>, String)> {
    let contact = ok.contacts().next()?.ok()?;
    let target = contact.uri_str.to_string();
    let mut routes: Vec<String> = ok
        .record_routes()
        .filter_map(|r| r.ok())
        .take_while(|r| !is_ours(r.uri_str))
        .map(|r| format!("<{}>", r.uri_str))
        .collect();
    routes.reverse();
    let first_hop = routes
        .first()
        .map(|r| r.trim_matches(['<', '>']).to_string())
        .unwrap_or_else(|| target.clone());
    let mut out = String::with_capacity(512);
    let _ = write!(out, "{method} {target} SIP/2.0\r\nVia: {via}\r\n");
    for r in &routes {
        let _ = write!(out, "Route: {r}\r\n");
    }
    let _ = write!(
        out,
        "From: {}\r\nTo: {}\r\nCall-ID: {}\r\n",
        forwarded.first_value(kind::FROM)?,
        ok.first_value(kind::TO)?,
        forwarded.call_id()?
    );
    let _ = write!(
        out,
        "CSeq: {seq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    Some((out.into_bytes(), first_hop))
}

/// What the proxy changes in a request it forwards on one branch.
pub struct ForwardEdits<'a> {
    /// The branch's Request-URI, when it differs from the message's.
    pub request_uri: Option<&'a str>,
    /// Our Via value (with the branch).
    pub via: String,
    /// Our Record-Route value, for dialog-creating requests.
    pub record_route: Option<String>,
    /// Index of a header line holding our own Route value at its front, and what remains of the line
    /// without it (`None`: remove the line).
    pub pop_route: Option<(usize, Option<String>)>,
}

/// The edits for one forwarded copy.
pub fn forward_edits(m: &Message<'_>, f: &ForwardEdits<'_>) -> Vec<Edit> {
    let mut edits = Vec::with_capacity(5);
    if let Some(u) = f.request_uri {
        edits.push(Edit::SetRequestUri(u.into()));
    }
    match m.max_forwards() {
        Some(Ok(n)) => edits.push(Edit::ReplaceHeader {
            name: "Max-Forwards".into(),
            value: n.saturating_sub(1).to_string().into(),
        }),
        _ => edits.push(Edit::AddHeader {
            name: "Max-Forwards".into(),
            value: "70".into(),
            position: HeaderPosition::Last,
        }),
    }
    if let Some((index, rest)) = &f.pop_route {
        match rest {
            Some(r) => edits.push(Edit::ReplaceHeaderAt {
                index: *index as u32,
                value: r.as_str().into(),
            }),
            None => edits.push(Edit::RemoveHeaderAt {
                index: *index as u32,
            }),
        }
    }
    if let Some(rr) = &f.record_route {
        edits.push(Edit::AddHeader {
            name: "Record-Route".into(),
            value: rr.as_str().into(),
            position: HeaderPosition::First,
        });
    }
    edits.push(Edit::PushVia {
        value: f.via.as_str().into(),
    });
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    const INV: &[u8] = b"INVITE sip:bob@192.0.2.20:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-a;rport\r\nMax-Forwards: 70\r\nRoute: <sip:127.0.0.1:5070;lr>, <sip:192.0.2.30;lr>\r\nFrom: <sip:alice@example.org>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1@example.org\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn reply_copies_the_transaction_headers_and_tags_to() {
        let m = Message::parse(INV).unwrap();
        let r = String::from_utf8(reply(&m, 483, None, "t1", &[])).unwrap();
        assert!(r.starts_with("SIP/2.0 483 Too Many Hops\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-a;rport\r\n"), "{r}");
        assert!(r.contains("To: <sip:bob@example.com>;tag=t1\r\n"), "{r}");
        assert!(r.contains("CSeq: 7 INVITE\r\n"));
        let parsed = Message::parse(r.as_bytes()).unwrap();
        assert_eq!(parsed.validate(), Ok(()));
        let trying = String::from_utf8(reply(&m, 100, None, "t1", &[])).unwrap();
        assert!(
            trying.contains("To: <sip:bob@example.com>\r\n"),
            "no tag on 100: {trying}"
        );
    }

    #[test]
    fn forwarded_request_gets_via_record_route_and_one_hop_less() {
        let m = Message::parse(INV).unwrap();
        let f = ForwardEdits {
            request_uri: Some("sip:bob@192.0.2.21"),
            via: "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-sih-1;rport".into(),
            record_route: Some("<sip:127.0.0.1:5070;lr>".into()),
            pop_route: Some((2, Some("<sip:192.0.2.30;lr>".into()))),
        };
        let out = sip_interop_abi::sip::serialize(&m, &forward_edits(&m, &f));
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("INVITE sip:bob@192.0.2.21 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-sih-1;rport\r\nRecord-Route: <sip:127.0.0.1:5070;lr>\r\n"), "{text}");
        assert!(text.contains("Max-Forwards: 69\r\n"), "{text}");
        assert!(
            text.contains("Route: <sip:192.0.2.30;lr>\r\n") && !text.contains("5070;lr>, "),
            "{text}"
        );
        assert_eq!(Message::parse(&out).unwrap().validate(), Ok(()));
    }

    #[test]
    fn cancel_and_ack_match_the_branch() {
        let m = Message::parse(INV).unwrap();
        let c = String::from_utf8(cancel_for(&m)).unwrap();
        assert!(c.starts_with("CANCEL sip:bob@192.0.2.20:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-a;rport\r\n"), "{c}");
        assert!(c.contains("CSeq: 7 CANCEL\r\n"));
        assert_eq!(Message::parse(c.as_bytes()).unwrap().validate(), Ok(()));
        let resp = b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-a\r\nFrom: <sip:alice@example.org>;tag=1\r\nTo: <sip:bob@example.com>;tag=99\r\nCall-ID: c1@example.org\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
        let r = Message::parse(resp).unwrap();
        let a = String::from_utf8(ack_for(&m, &r)).unwrap();
        assert!(
            a.contains("To: <sip:bob@example.com>;tag=99\r\n") && a.contains("CSeq: 7 ACK\r\n"),
            "{a}"
        );
    }

    #[test]
    fn a_dialog_the_proxy_ends_itself_routes_only_through_proxies_downstream_of_it() {
        let m = Message::parse(INV).unwrap();
        let ours = |uri: &str| uri.contains("127.0.0.1:5070");
        let ok = |rr: &str| {
            format!("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-sih-1\r\n{rr}From: <sip:alice@example.org>;tag=1\r\nTo: <sip:bob@example.com>;tag=99\r\nCall-ID: c1@example.org\r\nCSeq: 7 INVITE\r\nContact: <sip:bob@192.0.2.20:5062>\r\nContent-Length: 0\r\n\r\n")
        };
        // Record-Route as the callee returns it: the proxy nearest the callee first, then us, then
        // the one upstream of us.
        let both = ok("Record-Route: <sip:192.0.2.40;lr>, <sip:127.0.0.1:5070;lr>\r\nRecord-Route: <sip:192.0.2.5;lr>\r\n");
        let r = Message::parse(both.as_bytes()).unwrap();
        let (bye, hop) = dialog_request(
            &m,
            &r,
            "BYE",
            8,
            "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-x",
            ours,
        )
        .unwrap();
        let bye = String::from_utf8(bye).unwrap();
        assert_eq!(hop, "sip:192.0.2.40;lr");
        assert!(
            bye.starts_with("BYE sip:bob@192.0.2.20:5062 SIP/2.0\r\n"),
            "{bye}"
        );
        assert_eq!(bye.matches("Route: ").count(), 1, "{bye}");
        assert!(
            bye.contains("Route: <sip:192.0.2.40;lr>\r\n")
                && bye.contains("To: <sip:bob@example.com>;tag=99\r\n")
                && bye.contains("CSeq: 8 BYE\r\n"),
            "{bye}"
        );
        assert_eq!(Message::parse(bye.as_bytes()).unwrap().validate(), Ok(()));
        // Only our own entry: straight to the callee's Contact, no Route back through us.
        let alone = ok("Record-Route: <sip:127.0.0.1:5070;lr>\r\n");
        let r = Message::parse(alone.as_bytes()).unwrap();
        let (ack, hop) = dialog_request(
            &m,
            &r,
            "ACK",
            7,
            "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-y",
            ours,
        )
        .unwrap();
        let ack = String::from_utf8(ack).unwrap();
        assert_eq!(hop, "sip:bob@192.0.2.20:5062");
        assert!(!ack.contains("Route:"), "{ack}");
    }

    #[test]
    fn loop_hash_round_trips_through_the_branch() {
        let m = Message::parse(INV).unwrap();
        let h = loop_hash(&m);
        assert_eq!(loop_hash_of_branch(&branch_id(h, 42, 0)), Some(h));
        assert_eq!(loop_hash_of_branch("z9hG4bK-other"), None);
    }
}
