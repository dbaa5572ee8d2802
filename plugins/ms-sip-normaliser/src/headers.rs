//! Header rules towards the standards side: Microsoft-only headers go, Microsoft option tags leave
//! Supported/Require/Proxy-Require (so a standard peer does not answer 420), `BENOTIFY`/`SERVICE` leave
//! Allow and INVITE/ACK are added where Skype for Business 1xx/2xx answers leave them out, and
//! `ms-diagnostics` becomes `Warning`/`Reason`.

use std::borrow::Cow;

use sip_interop_abi::sip::tokens::split_commas;
use sip_interop_abi::sip::{kind, Message};

/// A header value with each line fold (RFC 3261 §7.3.1: LWS holding a CRLF) written as the single
/// SP it stands for. A value the normaliser writes back must be one line: the host refuses edits
/// holding a CR or LF, and with them every other edit of the hook.
pub fn unfold(value: &str) -> Cow<'_, str> {
    if !value.contains(['\r', '\n']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find(['\r', '\n']) {
        out.push_str(rest[..i].trim_end_matches([' ', '\t']));
        out.push(' ');
        rest = rest[i..].trim_start_matches(['\r', '\n', ' ', '\t']);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// One change to a header line, with the rule that asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderChange {
    /// Remove the line at this index of `header_entries()`.
    Remove {
        /// Index.
        index: usize,
        /// Rule and reason, for `explain`.
        why: String,
    },
    /// Replace the value of the line at this index.
    Replace {
        /// Index.
        index: usize,
        /// New value.
        value: String,
        /// Rule and reason.
        why: String,
    },
    /// Add a header line.
    Add {
        /// Name.
        name: &'static str,
        /// Value.
        value: String,
        /// Rule and reason.
        why: String,
    },
}

/// Headers that mean nothing outside Microsoft, besides every `ms-*` header.
const MICROSOFT_HEADERS: &[&str] = &[
    "Roster-Manager",
    "EndPoints",
    "Authentication-Info",
    "P-Session-On-Behalf-Of",
    "X-MS-Primary-User-Address",
    "Proxy-Authentication-Info",
];

/// Option tags only Microsoft understands, besides every `ms-*` tag.
const MICROSOFT_OPTION_TAGS: &[&str] = &[
    "adhoclist",
    "categoryList",
    "msrtc-event-categories",
    "com.microsoft.rtc-multiparty",
    "ms-benotify",
    // Reliable provisionals are off across the boundary: Lync's PRACK handling does not interwork
    // (Expressway turns them off too), so a standards peer must not be told Lync supports them.
    "100rel",
];

/// Methods only Microsoft uses.
const MICROSOFT_METHODS: &[&str] = &["BENOTIFY", "SERVICE"];

fn is_microsoft_header(name: &str) -> bool {
    // Compared as bytes: a name may hold non-ASCII, and byte 3 need not be a char boundary.
    (name.len() > 3 && name.as_bytes()[..3].eq_ignore_ascii_case(b"ms-"))
        || MICROSOFT_HEADERS
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
}

fn is_microsoft_tag(tag: &str) -> bool {
    let t = tag.trim();
    (t.len() > 3 && t.as_bytes()[..3].eq_ignore_ascii_case(b"ms-"))
        || t.to_ascii_lowercase().starts_with("com.microsoft.")
        || MICROSOFT_OPTION_TAGS
            .iter()
            .any(|m| m.eq_ignore_ascii_case(t))
}

/// The header changes a message from Microsoft needs before it reaches a standards peer.
/// `invite_answer` is true for a 1xx/2xx answer to INVITE (whose Allow must list INVITE and ACK).
pub fn to_standard(m: &Message<'_>, invite_answer: bool) -> Vec<HeaderChange> {
    let mut out = Vec::new();
    for h in m.headers() {
        if h.kind == 0 && is_microsoft_header(h.name) {
            out.push(HeaderChange::Remove {
                index: h.index,
                why: format!("headers.microsoft-only: removed {}", h.name),
            });
            continue;
        }
        if h.kind == kind::AUTHENTICATION_INFO {
            out.push(HeaderChange::Remove {
                index: h.index,
                why: "headers.microsoft-only: removed Authentication-Info (Microsoft NTLM/Kerberos session)".into(),
            });
            continue;
        }
        if matches!(
            h.kind,
            kind::SUPPORTED | kind::REQUIRE | kind::PROXY_REQUIRE
        ) {
            let (keep, gone): (Vec<&str>, Vec<&str>) = split_commas(h.value)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .partition(|t| !is_microsoft_tag(t));
            if !gone.is_empty() {
                let why = format!(
                    "options.microsoft-only: removed {} from {}",
                    gone.join(", "),
                    h.name
                );
                if keep.is_empty() {
                    out.push(HeaderChange::Remove {
                        index: h.index,
                        why,
                    });
                } else {
                    out.push(HeaderChange::Replace {
                        index: h.index,
                        value: keep.join(", "),
                        why,
                    });
                }
            }
            continue;
        }
        if h.kind == kind::ALLOW {
            let methods: Vec<&str> = split_commas(h.value)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            let (mut keep, gone): (Vec<&str>, Vec<&str>) = methods
                .iter()
                .copied()
                .partition(|t| !MICROSOFT_METHODS.iter().any(|x| x.eq_ignore_ascii_case(t)));
            let mut notes = Vec::new();
            if !gone.is_empty() {
                notes.push(format!(
                    "removed the Microsoft method(s) {}",
                    gone.join(", ")
                ));
            }
            if invite_answer {
                for needed in ["INVITE", "ACK"] {
                    if !keep.iter().any(|t| t.eq_ignore_ascii_case(needed)) {
                        keep.insert(0, needed);
                        notes.push(format!(
                            "added {needed}, which Skype for Business leaves out of answers"
                        ));
                    }
                }
            }
            if !notes.is_empty() {
                out.push(HeaderChange::Replace {
                    index: h.index,
                    value: keep.join(", "),
                    why: format!("allow.standard: {}", notes.join("; ")),
                });
            }
        }
    }
    out
}

/// `ms-diagnostics` of a failure answer as `Warning` and `Reason` ([MS-OCER] codes, RFC 3326),
/// for a standards peer that would otherwise see a bare status.
pub fn diagnostics_to_standard(m: &Message<'_>, status: u16) -> Vec<HeaderChange> {
    let Some(diag) = m
        .header("ms-diagnostics")
        .or_else(|| m.header("ms-diagnostics-public"))
    else {
        return Vec::new();
    };
    let diag = unfold(diag);
    let diag = diag.as_ref();
    let code = diag.split(';').next().unwrap_or("").trim();
    let reason = param_value(diag, "reason").unwrap_or_else(|| "Microsoft diagnostic".into());
    let source = param_value(diag, "source").unwrap_or_else(|| "lync".into());
    let reason = reason.replace(['"', '\\'], "'");
    let agent: String = source
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"')
        .collect();
    let agent = if agent.is_empty() {
        "lync".to_string()
    } else {
        agent
    };
    let mut out = vec![HeaderChange::Add {
        name: "Warning",
        value: format!("399 {agent} \"ms-diagnostics {code}: {reason}\""),
        why: format!("errors.diagnostics: ms-diagnostics {code} carried as Warning and Reason"),
    }];
    if m.header("Reason").is_none() {
        out.push(HeaderChange::Add {
            name: "Reason",
            value: format!("SIP;cause={status};text=\"{reason}\""),
            why: String::new(),
        });
    }
    out
}

/// A `name="value"` or `name=value` parameter of an `ms-diagnostics` value.
fn param_value(v: &str, name: &str) -> Option<String> {
    let mut rest = v;
    while let Some(i) = rest.find(';') {
        rest = &rest[i + 1..];
        let t = rest.trim_start();
        // Compared as bytes (byte `name.len()` of `t` need not be a char boundary); once they
        // match, it is one, as `name` is ASCII.
        if t.len() > name.len()
            && t.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
            && t[name.len()..].trim_start().starts_with('=')
        {
            let val = t[name.len()..].trim_start()[1..].trim_start();
            if let Some(q) = val.strip_prefix('"') {
                let end = q.find('"').unwrap_or(q.len());
                return Some(q[..end].to_string());
            }
            let end = val.find(';').unwrap_or(val.len());
            return Some(val[..end].trim().to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: &str = "INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-1;ms-received-port=5061;ms-received-cid=2A00\r\nFrom: <sip:alice@lync.example.com>;tag=1;epid=0a1b2c3d4e\r\nTo: <sip:bob@example.net>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nms-subnet: 192.0.2.0\r\nMs-Conversation-ID: AdGx\r\nms-keep-alive: UAC;hop-hop=yes\r\nSupported: ms-dialog-route-set-update, timer, 100rel, histinfo, ms-safe-transfer\r\nSupported: ms-sender, replaces\r\nRequire: adhoclist\r\nAllow: INVITE, BYE, ACK, CANCEL, INFO, UPDATE, REFER, NOTIFY, BENOTIFY, OPTIONS\r\nRoster-Manager: sip:alice@lync.example.com\r\nEndPoints: <sip:alice@lync.example.com>, <sip:bob@example.net>\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn microsoft_headers_tags_and_methods_leave_everything_else_stays() {
        let m = Message::parse(MS.as_bytes()).unwrap();
        let ch = to_standard(&m, false);
        let name_of = |i: usize| m.headers().nth(i).unwrap().name;
        let removed: Vec<&str> = ch
            .iter()
            .filter_map(|c| match c {
                HeaderChange::Remove { index, .. } => Some(name_of(*index)),
                _ => None,
            })
            .collect();
        assert_eq!(
            removed,
            [
                "ms-subnet",
                "Ms-Conversation-ID",
                "ms-keep-alive",
                "Require",
                "Roster-Manager",
                "EndPoints"
            ]
        );
        let replaced: Vec<(&str, &str)> = ch
            .iter()
            .filter_map(|c| match c {
                HeaderChange::Replace { index, value, .. } => {
                    Some((name_of(*index), value.as_str()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            replaced,
            [
                ("Supported", "timer, histinfo"),
                ("Supported", "replaces"),
                (
                    "Allow",
                    "INVITE, BYE, ACK, CANCEL, INFO, UPDATE, REFER, NOTIFY, OPTIONS"
                )
            ]
        );
    }

    /// Found by `cargo fuzz` (target `plugin_normaliser`, minimised; fuzz/README.md): a header name
    /// or an option tag starting `ms` then a multi-byte character was sliced at byte 3, inside that
    /// character: a panic.
    #[test]
    fn fuzz_non_ascii_header_name_or_option_tag_after_ms() {
        for bytes in [
            &b"; s SIP/\nss\xd6\x9a:"[..],
            b"a s SIP/\nSupported:ms\xd6\x9a",
        ] {
            let m = Message::parse(bytes).unwrap();
            assert_eq!(to_standard(&m, false), vec![]);
        }
        let m = Message::parse("a s SIP/\nSupported: ms-x, m\u{e9}-y\nms\u{e9}: 1\n".as_bytes())
            .unwrap();
        assert!(
            matches!(&to_standard(&m, false)[..], [HeaderChange::Replace { value, .. }] if value == "m\u{e9}-y")
        );
    }

    /// The slicing `fuzz_non_ascii_header_name_or_option_tag_after_ms` found, at another place
    /// (found by review): an `ms-diagnostics` parameter name whose byte 6 falls inside a multi-byte
    /// character was sliced there while looking for `reason`: a panic.
    #[test]
    fn non_ascii_in_an_ms_diagnostics_parameter_name() {
        let r = "SIP/2.0 504 Server time-out\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nms-diagnostics: 1008;reaso\u{e9}=\"x\";source=\"pool01\"\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(r.as_bytes()).unwrap();
        let ch = diagnostics_to_standard(&m, 504);
        assert!(
            matches!(&ch[..], [HeaderChange::Add { name: "Warning", value, .. }, _] if value.starts_with("399 pool01 ")),
            "{ch:?}"
        );
    }

    #[test]
    fn folds_become_one_space() {
        assert_eq!(unfold("a b"), "a b");
        assert!(matches!(unfold("a b"), Cow::Borrowed(_)));
        assert_eq!(
            unfold("\"Carol\"\r\n <sip:c@d>;tag=1"),
            "\"Carol\" <sip:c@d>;tag=1"
        );
        assert_eq!(unfold("a \r\n\t \r\n b\nc"), "a b c");
    }

    /// A folded `ms-diagnostics` reason went into Warning and Reason with its line break (an edit the
    /// host refuses).
    #[test]
    fn a_folded_ms_diagnostics_reason_is_carried_on_one_line() {
        let r = "SIP/2.0 504 Server time-out\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nms-diagnostics: 1008;reason=\"Unable to resolve\r\n DNS SRV record\";\r\n\tsource=\"pool01.lync.example.com\"\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(r.as_bytes()).unwrap();
        let ch = diagnostics_to_standard(&m, 504);
        let values: Vec<&str> = ch
            .iter()
            .filter_map(|c| match c {
                HeaderChange::Add { value, .. } => Some(value.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            values,
            [
                "399 pool01.lync.example.com \"ms-diagnostics 1008: Unable to resolve DNS SRV record\"",
                "SIP;cause=504;text=\"Unable to resolve DNS SRV record\""
            ]
        );
    }

    #[test]
    fn an_answer_without_invite_in_allow_gets_it() {
        let r = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nAllow: BYE, CANCEL, BENOTIFY, OPTIONS\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(r.as_bytes()).unwrap();
        let ch = to_standard(&m, true);
        assert!(
            matches!(&ch[..], [HeaderChange::Replace { value, .. }] if value == "ACK, INVITE, BYE, CANCEL, OPTIONS"),
            "{ch:?}"
        );
    }

    #[test]
    fn ms_diagnostics_become_warning_and_reason() {
        let r = "SIP/2.0 504 Server time-out\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nms-diagnostics: 1008;reason=\"Unable to resolve DNS SRV record\";source=\"pool01.lync.example.com\"\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(r.as_bytes()).unwrap();
        let ch = diagnostics_to_standard(&m, 504);
        assert_eq!(
            ch,
            vec![
                HeaderChange::Add {
                    name: "Warning",
                    value: "399 pool01.lync.example.com \"ms-diagnostics 1008: Unable to resolve DNS SRV record\"".into(),
                    why: "errors.diagnostics: ms-diagnostics 1008 carried as Warning and Reason".into()
                },
                HeaderChange::Add {
                    name: "Reason",
                    value: "SIP;cause=504;text=\"Unable to resolve DNS SRV record\"".into(),
                    why: String::new()
                }
            ]
        );
    }
}
