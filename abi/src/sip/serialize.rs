//! One-pass serialiser applying [`Edit`]s to a parsed [`Message`].

use super::edit::{Edit, HeaderPosition};
use super::header_name::{header_kind, kind, name_matches};
use super::message::{HeaderEntry, Message};
use super::tokens::{parse_u32, split_commas};

/// Fate of one original header line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Keep,
    Remove,
    /// Replaced by the value of edit `n`.
    Replace(u32),
    /// Keep the line but drop its first `n` comma-separated values.
    SkipValues(u32),
}

/// A header added by an edit.
struct Added<'e> {
    first: bool,
    name: &'e str,
    kind: u16,
    value: &'e str,
    alive: bool,
}

const STACK_PLAN: usize = 48;

/// Serialises `msg` with `edits` applied (see [`serialize_into`]).
pub fn serialize(msg: &Message<'_>, edits: &[Edit]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.message_len() + 256);
    serialize_into(msg, edits, &mut out);
    out
}

fn entry_line_end(bytes: &[u8], e: &HeaderEntry) -> usize {
    let from = e.value.end as usize;
    memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i + 1)
}

/// Appends the serialised message to `out`.
///
/// Output order: start line (new Request-URI if set), pushed Vias (newest
/// first), `First` headers, original headers in order (byte-exact unless
/// edited), `Last` headers, a Content-Length if the original had none, CRLF,
/// body. The first original Content-Length line stays in place and is kept
/// byte-exact when it already equals the body length, otherwise it is
/// rewritten as `Content-Length: N`; further Content-Length lines are dropped.
pub fn serialize_into(msg: &Message<'_>, edits: &[Edit], out: &mut Vec<u8>) {
    let bytes = msg.bytes();
    let entries = msg.header_entries();
    let n = entries.len();
    let mut stack = [Fate::Keep; STACK_PLAN];
    let mut heap;
    let fates: &mut [Fate] = if n <= STACK_PLAN {
        &mut stack[..n]
    } else {
        heap = vec![Fate::Keep; n];
        &mut heap
    };
    let mut uri: Option<&str> = None;
    let mut status: Option<(u16, &str)> = None;
    let mut pushed: Vec<(&str, bool)> = Vec::new();
    let mut added: Vec<Added<'_>> = Vec::new();
    let mut body: Option<&[u8]> = None;
    let mut new_ct: Option<Option<&str>> = None; // Some(None) = remove

    let replace_named =
        |fates: &mut [Fate], added: &mut Vec<Added<'_>>, name: &str, k: u16, fate: Fate| -> bool {
            for a in added.iter_mut() {
                if a.alive && name_matches(a.name.as_bytes(), a.kind, name.as_bytes(), k) {
                    a.alive = false;
                }
            }
            let mut found = false;
            for (i, e) in entries.iter().enumerate() {
                if name_matches(e.name.get(bytes), e.kind, name.as_bytes(), k) {
                    fates[i] = if found { Fate::Remove } else { fate };
                    found = true;
                }
            }
            found
        };

    for (ei, edit) in edits.iter().enumerate() {
        match edit {
            Edit::SetRequestUri(u) => uri = Some(u.as_str()),
            Edit::SetStatus { code, reason } => status = Some((*code, reason.as_str())),
            Edit::AddHeader {
                name,
                value,
                position,
            } => {
                let k = header_kind(name.as_bytes());
                if k != kind::CONTENT_LENGTH {
                    added.push(Added {
                        first: *position == HeaderPosition::First,
                        name: name.as_str(),
                        kind: k,
                        value: value.as_str(),
                        alive: true,
                    });
                }
            }
            Edit::RemoveHeader { name } => {
                let k = header_kind(name.as_bytes());
                if k == kind::CONTENT_TYPE {
                    new_ct = None;
                }
                if k != kind::CONTENT_LENGTH {
                    replace_named(fates, &mut added, name, k, Fate::Remove);
                    if k == kind::VIA {
                        pushed.iter_mut().for_each(|p| p.1 = false);
                    }
                }
            }
            Edit::RemoveHeaderAt { index } => {
                if let Some(f) = fates.get_mut(*index as usize) {
                    *f = Fate::Remove;
                }
            }
            Edit::ReplaceHeader { name, value } => {
                let k = header_kind(name.as_bytes());
                if k == kind::CONTENT_TYPE {
                    new_ct = None;
                }
                if k != kind::CONTENT_LENGTH
                    && !replace_named(fates, &mut added, name, k, Fate::Replace(ei as u32))
                {
                    added.push(Added {
                        first: false,
                        name: name.as_str(),
                        kind: k,
                        value: value.as_str(),
                        alive: true,
                    });
                }
            }
            Edit::ReplaceHeaderAt { index, .. } => {
                if let Some(f) = fates.get_mut(*index as usize) {
                    *f = Fate::Replace(ei as u32);
                }
            }
            Edit::ReplaceBody {
                content_type,
                body: b,
            } => {
                body = Some(b.as_slice());
                if !content_type.is_empty() {
                    new_ct = Some(Some(content_type.as_str()));
                } else if b.is_empty() {
                    new_ct = Some(None);
                }
            }
            Edit::PushVia { value } => pushed.push((value.as_str(), true)),
            Edit::PopVia => {
                if let Some(p) = pushed.iter_mut().rev().find(|p| p.1) {
                    p.1 = false;
                } else {
                    pop_original_via(msg, fates);
                }
            }
        }
    }
    if let Some(ct) = new_ct {
        for a in added.iter_mut().filter(|a| a.kind == kind::CONTENT_TYPE) {
            a.alive = false;
        }
        let mut found = false;
        for (i, e) in entries.iter().enumerate() {
            if e.kind == kind::CONTENT_TYPE {
                fates[i] = if found || ct.is_none() {
                    Fate::Remove
                } else {
                    Fate::Keep
                };
                found = true;
            }
        }
        if let Some(ct) = ct {
            // Write the new Content-Type at the original position, else append.
            added.push(Added {
                first: false,
                name: "Content-Type",
                kind: kind::CONTENT_TYPE,
                value: ct,
                alive: true,
            });
            if let Some(i) = entries.iter().position(|e| e.kind == kind::CONTENT_TYPE) {
                fates[i] = Fate::Replace(u32::MAX);
                if let Some(a) = added.last_mut() {
                    a.alive = false;
                }
            }
        }
    }
    let ct_value = match new_ct {
        Some(Some(ct)) => ct,
        _ => "",
    };
    let body = body.unwrap_or_else(|| msg.body());

    // Start line.
    let st = msg.start_line();
    let (line_start, line_from) = if st.is_response {
        (st.version.start as usize, st.reason.end as usize)
    } else {
        (st.method.start as usize, st.version.end as usize)
    };
    let line_end =
        memchr::memchr(b'\n', &bytes[line_from..]).map_or(bytes.len(), |i| line_from + i + 1);
    match (uri, status) {
        (Some(u), _) if !st.is_response => {
            out.extend_from_slice(&bytes[line_start..st.uri.start as usize]);
            out.extend_from_slice(u.as_bytes());
            out.extend_from_slice(&bytes[st.uri.end as usize..line_end]);
        }
        (_, Some((code, reason))) if st.is_response => {
            out.extend_from_slice(st.version.get(bytes));
            out.extend_from_slice(format!(" {code} {reason}\r\n").as_bytes());
        }
        _ => out.extend_from_slice(&bytes[line_start..line_end]),
    }
    if !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    for (v, alive) in pushed.iter().rev() {
        if *alive {
            write_header(out, b"Via", v.as_bytes());
        }
    }
    for a in added.iter().filter(|a| a.alive && a.first) {
        write_header(out, a.name.as_bytes(), a.value.as_bytes());
    }
    let mut cl_written = false;
    for (i, e) in entries.iter().enumerate() {
        let name = e.name.get(bytes);
        if e.kind == kind::CONTENT_LENGTH {
            if !cl_written {
                cl_written = true;
                let ok = std::str::from_utf8(e.value.get(bytes))
                    .ok()
                    .and_then(parse_u32)
                    .is_some_and(|v| v as usize == body.len());
                if ok {
                    write_line(out, bytes, e);
                } else {
                    write_content_length(out, body.len());
                }
            }
            continue;
        }
        match fates[i] {
            Fate::Keep => write_line(out, bytes, e),
            Fate::Remove => {}
            Fate::Replace(ei) => {
                let v = match edits.get(ei as usize) {
                    Some(
                        Edit::ReplaceHeader { value, .. } | Edit::ReplaceHeaderAt { value, .. },
                    ) => value.as_str(),
                    _ => ct_value,
                };
                write_header(out, name, v.as_bytes());
            }
            Fate::SkipValues(k) => {
                // The values are split on the text view, which is only the UTF-8 prefix of a value
                // that is not all UTF-8; what is kept is copied from the raw bytes, so nothing after
                // such a byte is lost (`v` is a prefix of `raw`).
                let v = msg.value_of(e);
                let raw = e.value.get(bytes);
                let mut it = split_commas(v);
                let mut consumed = 0;
                for _ in 0..k {
                    if let Some(x) = it.next() {
                        consumed = x.as_ptr() as usize - v.as_ptr() as usize + x.len();
                    }
                }
                let rest = raw.get(consumed..).unwrap_or_default();
                let skip = rest
                    .iter()
                    .take_while(|b| matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n'))
                    .count();
                write_header(out, name, &rest[skip..]);
            }
        }
    }
    for a in added.iter().filter(|a| a.alive && !a.first) {
        write_header(out, a.name.as_bytes(), a.value.as_bytes());
    }
    if !cl_written {
        write_content_length(out, body.len());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// Marks the next topmost original Via value as popped.
fn pop_original_via(msg: &Message<'_>, fates: &mut [Fate]) {
    for (i, e) in msg.header_entries().iter().enumerate() {
        if e.kind != kind::VIA {
            continue;
        }
        let skipped = match fates[i] {
            Fate::Remove | Fate::Replace(_) => continue,
            Fate::Keep => 0,
            Fate::SkipValues(k) => k,
        };
        let total = split_commas(msg.value_of(e)).count() as u32;
        fates[i] = if skipped + 1 >= total {
            Fate::Remove
        } else {
            Fate::SkipValues(skipped + 1)
        };
        return;
    }
}

fn write_line(out: &mut Vec<u8>, bytes: &[u8], e: &HeaderEntry) {
    let end = entry_line_end(bytes, e);
    out.extend_from_slice(&bytes[e.name.start as usize..end]);
    if !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
}

fn write_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn write_content_length(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(len.to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
}
