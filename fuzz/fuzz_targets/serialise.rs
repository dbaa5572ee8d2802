//! `serialise`: edits applied to a parsed message, as the host applies a plugin's edits.
//!
//! Input: a little-endian `u16` length `n`, then `n` bytes of message, then the bytes the edits are
//! built from (with `arbitrary`). Header names come from a list of well-known names (long and
//! compact forms, odd case) or are arbitrary; values are arbitrary or copied from the message's own
//! header lines (folded values included).
//!
//! Edits go through the host's acceptance rule ([`Edit::check`], which the host's chain walk applies
//! before serialising a plugin's edits); those it refuses are left out. Then [`serialize`] must give
//! a message that:
//! - parses again, ends with its body, and has exactly one Content-Length, equal to the body length;
//! - carries the body of the last `ReplaceBody` (else the original body);
//! - carries the last `SetRequestUri` (requests) / the last `SetStatus` code (responses);
//! - serialises again without edits to the same bytes (serialising is a fixed point).

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use sip_interop_abi::sip::{serialize, Edit, HeaderPosition, Message};
use sip_interop_fuzz::assert_wire_ok;

/// Header names an edit may target: the ones the serialiser treats specially, compact forms, and
/// case variants.
const NAMES: &[&str] = &[
    "Via",
    "v",
    "VIA",
    "Content-Length",
    "l",
    "content-length",
    "Content-Type",
    "c",
    "From",
    "f",
    "To",
    "t",
    "Call-ID",
    "i",
    "CSeq",
    "Contact",
    "m",
    "Max-Forwards",
    "Route",
    "Record-Route",
    "Require",
    "Supported",
    "k",
    "Proxy-Require",
    "Subject",
    "s",
    "Allow",
    "X-Fuzz",
];

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum Text {
    /// The value of the message's header line `n % count` (may hold a folded line break).
    Copy(u8),
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum FuzzEdit {
    SetRequestUri(Text),
    AddHeader {
        name: Name,
        value: Text,
        first: bool,
    },
    RemoveHeader {
        name: Name,
    },
    RemoveHeaderAt {
        index: u8,
    },
    ReplaceHeader {
        name: Name,
        value: Text,
    },
    ReplaceHeaderAt {
        index: u8,
        value: Text,
    },
    ReplaceBody {
        content_type: Text,
        body: Vec<u8>,
    },
    PushVia {
        value: Text,
    },
    PopVia,
    SetStatus {
        code: u16,
        reason: Text,
    },
}

fn name(n: &Name) -> String {
    match n {
        Name::Known(i) => NAMES[*i as usize % NAMES.len()].to_owned(),
        Name::Any(s) => s.clone(),
    }
}

fn text(m: &Message<'_>, t: &Text) -> String {
    match t {
        Text::Copy(i) => {
            let entries = m.header_entries();
            if entries.is_empty() {
                String::new()
            } else {
                m.value_of(&entries[*i as usize % entries.len()]).to_owned()
            }
        }
        Text::Any(s) => s.clone(),
    }
}

/// An index into the original lines, now and then one past them.
fn index(m: &Message<'_>, i: u8) -> u32 {
    (i as usize % (m.header_entries().len() + 2)) as u32
}

fn edit(m: &Message<'_>, e: &FuzzEdit) -> Edit {
    match e {
        FuzzEdit::SetRequestUri(u) => Edit::SetRequestUri(text(m, u).into()),
        FuzzEdit::AddHeader {
            name: n,
            value,
            first,
        } => Edit::AddHeader {
            name: name(n).into(),
            value: text(m, value).into(),
            position: if *first {
                HeaderPosition::First
            } else {
                HeaderPosition::Last
            },
        },
        FuzzEdit::RemoveHeader { name: n } => Edit::RemoveHeader {
            name: name(n).into(),
        },
        FuzzEdit::RemoveHeaderAt { index: i } => Edit::RemoveHeaderAt {
            index: index(m, *i),
        },
        FuzzEdit::ReplaceHeader { name: n, value } => Edit::ReplaceHeader {
            name: name(n).into(),
            value: text(m, value).into(),
        },
        FuzzEdit::ReplaceHeaderAt { index: i, value } => Edit::ReplaceHeaderAt {
            index: index(m, *i),
            value: text(m, value).into(),
        },
        FuzzEdit::ReplaceBody { content_type, body } => Edit::ReplaceBody {
            content_type: text(m, content_type).into(),
            body: body.clone().into(),
        },
        FuzzEdit::PushVia { value } => Edit::PushVia {
            value: text(m, value).into(),
        },
        FuzzEdit::PopVia => Edit::PopVia,
        FuzzEdit::SetStatus { code, reason } => Edit::SetStatus {
            code: 100 + code % 600,
            reason: text(m, reason).into(),
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let n = (u16::from_le_bytes(*len) as usize).min(rest.len());
    let (msg, edit_bytes) = rest.split_at(n);
    let Ok(m) = Message::parse(msg) else {
        return;
    };
    let mut u = Unstructured::new(edit_bytes);
    let Ok(fuzz_edits) = Vec::<FuzzEdit>::arbitrary(&mut u) else {
        return;
    };
    // The host's acceptance rule; what it refuses never reaches the serialiser.
    let edits: Vec<Edit> = fuzz_edits
        .iter()
        .map(|e| edit(&m, e))
        .filter(|e| e.check().is_ok())
        .collect();

    let out = serialize(&m, &edits);
    let m2 = assert_wire_ok(&out);

    let body = edits
        .iter()
        .rev()
        .find_map(|e| match e {
            Edit::ReplaceBody { body, .. } => Some(body.as_slice()),
            _ => None,
        })
        .unwrap_or_else(|| m.body());
    assert_eq!(
        m2.body(),
        body,
        "the body is not the one the edits asked for"
    );

    if m.is_request() {
        if let Some(uri) = edits.iter().rev().find_map(|e| match e {
            Edit::SetRequestUri(u) => Some(u.as_str()),
            _ => None,
        }) {
            assert_eq!(
                m2.request_uri_str(),
                Some(uri),
                "the Request-URI edit was lost"
            );
        }
    } else if let Some(code) = edits.iter().rev().find_map(|e| match e {
        Edit::SetStatus { code, .. } => Some(*code),
        _ => None,
    }) {
        assert_eq!(m2.status(), Some(code), "the status edit was lost");
    }

    let again = serialize(&m2, &[]);
    assert!(
        again == out,
        "serialising is not a fixed point:\n{}\n---\n{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&again)
    );
});
