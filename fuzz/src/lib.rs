//! Checks shared by the fuzz targets in `fuzz_targets/`.
//!
//! Every function here panics (which libFuzzer reports as a crash) when a property the code under
//! test promises does not hold; none of them panics on input the code is allowed to refuse. Results
//! that are only computed for the sake of running the code go through [`touch`], so the optimiser
//! cannot drop the call.

use std::hint::black_box;

use sip_interop_abi::sdk::{Reply, Verdict};
use sip_interop_abi::sip::{
    disposition_of, header_name::kind, Edit, Host, Message, NameAddr, Params, Uri, Via,
};

/// Hands a value the checks do not look at to the optimiser as used, so the code computing it runs.
#[inline]
pub fn touch<T>(value: T) {
    black_box(value);
}

/// Calls every typed accessor of a parsed message and checks the invariants of the index that
/// [`Message::parse`] builds: every span lies inside the buffer and the body ends where the message
/// does. Values that fail to parse are fine; panics and out-of-range spans are not.
pub fn exercise_message(m: &Message<'_>) {
    let bytes = m.bytes();
    let len = bytes.len();
    assert!(m.message_len() <= len, "message_len past the buffer");
    let body = m.body_span();
    assert!(body.start <= body.end, "body span reversed");
    assert_eq!(body.end as usize, m.message_len());
    assert_eq!(m.body().len(), body.len());

    let st = m.start_line();
    for span in [st.method, st.uri, st.version, st.reason] {
        assert!(
            span.start <= span.end && span.end <= body.start,
            "start-line span out of range"
        );
    }
    assert_eq!(m.is_request(), !st.is_response);
    touch(m.version());
    if m.is_request() {
        let method = m.method().expect("a request has a method");
        touch((method.as_str(), method.is_extension(), method.to_string()));
        touch(m.request_uri_str().expect("a request has a Request-URI"));
        if let Some(Ok(uri)) = m.request_uri() {
            exercise_uri(&uri);
        }
        assert!(m.status().is_none() && m.reason().is_none());
    } else {
        let status = m.status().expect("a response has a status");
        touch(sip_interop_abi::sip::reason_phrase(status));
        touch(
            m.reason()
                .expect("a response has a reason phrase (maybe empty)"),
        );
        assert!(m.method().is_none() && m.request_uri_str().is_none());
    }

    for (i, h) in m.headers().enumerate() {
        assert_eq!(h.index, i);
        let e = &m.header_entries()[i];
        assert!(
            e.name.start <= e.name.end
                && e.name.end <= e.value.start
                && e.value.start <= e.value.end
                && e.value.end <= body.start,
            "header spans out of order: {e:?} (body at {})",
            body.start
        );
        assert_eq!(h.raw_value.len(), e.value.len());
        assert_eq!(m.value_of(e), h.value);
        // Looking a header up by the name it was written with finds a line.
        if !h.name.is_empty() && h.name.len() == e.name.len() {
            assert!(
                m.header(h.name).is_some(),
                "header({:?}) found nothing",
                h.name
            );
        }
        touch(sip_interop_abi::sip::canonical_name(h.kind));
    }
    for k in 0..=40u16 {
        let n = m.count_kind(k);
        assert_eq!(m.header_values(k).count(), n);
        if k != 0 {
            assert_eq!(
                m.first_value(k).is_some(),
                n > 0,
                "first-line index of kind {k}"
            );
        }
        for v in m.list_values(k) {
            touch(v.len());
        }
    }

    for via in m.vias().flatten() {
        exercise_via(&via);
    }
    if let Some(Ok(via)) = m.top_via() {
        exercise_via(&via);
    }
    for na in [m.from(), m.to()].into_iter().flatten().flatten() {
        exercise_name_addr(&na);
    }
    touch(m.call_id());
    if let Some(Ok(cseq)) = m.cseq() {
        touch((cseq.seq, cseq.method.as_str()));
    }
    touch(m.max_forwards());
    for na in m
        .routes()
        .chain(m.record_routes())
        .chain(m.contacts())
        .flatten()
    {
        exercise_name_addr(&na);
    }
    touch(m.content_type());
    touch(m.content_length());
    touch(m.require().count() + m.supported().count() + m.proxy_require().count());
    touch(m.has_sdp_body());
    if let Some(Ok(session)) = m.sdp() {
        touch(sip_interop_abi::sip::write_sdp(&session));
    }
    // Errors render (their Display is used in log lines and 400 reasons).
    for e in m.vias().filter_map(Result::err) {
        touch(e.to_string());
    }

    // A view rebuilt from its parts (as a plugin receives it across the ABI) says the same.
    let rebuilt = Message::from_parts(bytes, *st, m.header_entries(), body);
    assert_eq!(rebuilt.headers().count(), m.headers().count());
    assert_eq!(rebuilt.call_id(), m.call_id());

    let validated = m.validate();
    if let Err(e) = &validated {
        touch(e.to_string());
    }
    touch(disposition_of(m));
}

/// Every accessor of a Via value, and its strict parse.
pub fn exercise_via(v: &Via<'_>) {
    touch((v.protocol, v.transport, v.host_text, v.port));
    touch((v.branch(), v.received(), v.rport(), v.maddr(), v.ttl()));
    touch(v.has_rfc3261_branch());
    touch(v.host.as_str());
    touch(v.host.is_broadcast_or_unspecified());
    exercise_params(&v.params);
    for text in [v.received(), v.maddr()].into_iter().flatten() {
        if let Ok(h) = Host::parse(text) {
            touch(h.as_str());
        }
    }
}

/// Every accessor of a name-addr, its URI, and the strict parse of its text.
pub fn exercise_name_addr(n: &NameAddr<'_>) {
    touch((n.display_name, n.bracketed, n.wildcard, n.tag()));
    touch(n.param("expires"));
    exercise_params(&n.params);
    if let Ok(uri) = n.uri() {
        exercise_uri(&uri);
    }
    touch(Uri::parse_strict(n.uri_str));
}

/// Every accessor of a URI.
pub fn exercise_uri(u: &Uri<'_>) {
    touch((u.as_str(), u.scheme()));
    match u {
        Uri::Sip(s) => {
            touch((s.secure, s.user, s.password, s.host_text, s.port, s.headers));
            touch((s.user_param(), s.param("transport"), s.param("lr")));
            touch(s.host.as_str());
            exercise_params(&s.params);
        }
        Uri::Tel(t) => {
            touch((t.number, t.is_global()));
            exercise_params(&t.params);
        }
        Uri::Absolute { scheme, rest, raw } => {
            touch((scheme, rest, raw));
        }
    }
    touch(Uri::parse_strict(u.as_str()));
}

/// Iterates and validates a parameter list.
pub fn exercise_params(p: &Params<'_>) {
    for (name, value) in p.iter() {
        touch(p.get(name));
        touch((name.len(), value.map(str::len)));
    }
    touch((p.as_str(), p.is_empty(), p.contains("lr")));
    touch(p.validate_generic());
    touch(p.validate_uri());
}

/// True when every edit passes the host's acceptance rule ([`Edit::check`], applied by the host's
/// chain walk before it serialises a plugin's edits; one refused edit refuses them all).
pub fn host_accepts(edits: &[Edit]) -> bool {
    edits.iter().all(|e| e.check().is_ok())
}

/// What the host requires of a message it serialised after a plugin's edits: it parses again, and
/// its one Content-Length equals its body length.
pub fn assert_wire_ok(out: &[u8]) -> Message<'_> {
    let m = Message::parse(out).unwrap_or_else(|e| {
        panic!(
            "the serialised message does not parse ({e}):\n{}",
            String::from_utf8_lossy(out)
        )
    });
    assert_eq!(
        m.message_len(),
        out.len(),
        "the serialised message has bytes past its body:\n{}",
        String::from_utf8_lossy(out)
    );
    assert_eq!(
        m.count_kind(kind::CONTENT_LENGTH),
        1,
        "the serialised message must carry exactly one Content-Length:\n{}",
        String::from_utf8_lossy(out)
    );
    let cl = m.content_length().and_then(Result::ok);
    assert_eq!(
        cl.map(|n| n as usize),
        Some(m.body().len()),
        "Content-Length differs from the body length:\n{}",
        String::from_utf8_lossy(out)
    );
    m
}

/// The host's default limits (`[proxy] max_header_bytes`, `max_headers`): a message over them is
/// answered 513 (or dropped) before any plugin sees it.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// See [`MAX_HEADER_BYTES`].
pub const MAX_HEADERS: usize = 256;

/// Whether the host would hand `m` to the plugin chain at all, as far as its size goes.
pub fn within_host_limits(m: &Message<'_>) -> bool {
    m.header_entries().len() <= MAX_HEADERS && m.body_span().start as usize <= MAX_HEADER_BYTES + 4
}

/// Whether `m` is well-formed the way RFC 3261 means it: it passes [`Message::validate`] (which
/// every request the host hands to the chain has passed), and no header value holds a control
/// character other than a line fold (CRLF then SP/HT) or HT. `validate` leaves the values of most
/// headers unchecked, so this second half is checked here.
pub fn is_well_formed(m: &Message<'_>) -> bool {
    m.validate().is_ok()
        && m.headers().all(|h| {
            let v = h.raw_value;
            v.iter().enumerate().all(|(i, &b)| match b {
                b'\t' => true,
                b'\r' => v.get(i + 1) == Some(&b'\n') && matches!(v.get(i + 2), Some(b' ' | b'\t')),
                b'\n' => i > 0 && v[i - 1] == b'\r' && matches!(v.get(i + 1), Some(b' ' | b'\t')),
                _ => b >= 0x20 && b != 0x7f,
            })
        })
}

/// The checks on what a shipped plugin's hook produced for `input`.
///
/// Always: when the host accepts the edits ([`host_accepts`]), the message after them parses again
/// with a correct Content-Length.
///
/// When `input` is well-formed ([`is_well_formed`]), also what the host's chain walk requires
/// before it takes a plugin's edits: every edit passes [`Edit::check`] and the message after them
/// still passes [`Message::validate`]. A shipped plugin failing this on well-formed input would have
/// all its edits refused, and the message would go on untranslated.
pub fn assert_plugin_edits(input: &Message<'_>, edits: &[Edit], out: &[u8]) {
    let show = || String::from_utf8_lossy(input.bytes()).into_owned();
    if !is_well_formed(input) {
        if host_accepts(edits) {
            assert_wire_ok(out);
        }
        return;
    }
    for e in edits {
        if let Err(why) = e.check() {
            panic!(
                "the plugin produced an edit the host refuses ({why}): {e:?}\ninput:\n{}",
                show()
            );
        }
    }
    let m = assert_wire_ok(out);
    if let Err(e) = m.validate() {
        panic!(
            "well-formed input, but the plugin's edits make it invalid ({e}):\n{}\ninput:\n{}",
            String::from_utf8_lossy(out),
            show()
        );
    }
}

/// A plugin's local reply is written by the host as it is (`SIP/2.0 <status> <reason>` then
/// `<name>: <value>` lines): the status must be 100–699, header names tokens, and the reason, the
/// values and a body's Content-Type free of control characters other than HT (a CR or LF would end
/// the line, and the rest would be read as header lines the plugin never meant).
pub fn assert_reply_ok(r: &Reply) {
    let one_line = |s: &str| !s.chars().any(|c| c.is_control() && c != '\t');
    assert!(
        (100..=699).contains(&r.status) && one_line(&r.reason),
        "bad reply status line: {r:?}"
    );
    for (name, value) in &r.headers {
        let line = Edit::AddHeader {
            name: name.as_str().into(),
            value: value.as_str().into(),
            position: sip_interop_abi::sip::HeaderPosition::Last,
        };
        assert!(
            line.check().is_ok() && one_line(value),
            "bad reply header {name:?}: {value:?}"
        );
    }
    if let Some((content_type, _)) = &r.body {
        assert!(
            one_line(content_type),
            "bad reply Content-Type {content_type:?}"
        );
    }
}

/// Checks a request verdict: a local reply must be writable as it is.
pub fn assert_verdict_ok(v: &Verdict) {
    if let Verdict::Respond(r) = v {
        assert_reply_ok(r);
    }
}
