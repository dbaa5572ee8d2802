//! The transaction's plugin facts (the scratchpad) as one printable string, so that a proxy can keep it
//! with its transaction (Kamailio: an AVP) and hand it back with each response. Embedded, a response is
//! often read by another worker process than the one that saw the request: the facts must travel with
//! the transaction, not stay in the worker.
//!
//! Format: `key=Tvalue` entries joined by `&`; `T` is `b` (bool, `0`/`1`), `i` (integer), `t` (text,
//! percent-encoded) or `x` (bytes, hex). Keys are percent-encoded. Only printable ASCII, no space.

use abi_stable::std_types::{RString, RVec};
use sip_interop_abi::ffi::{ScratchEntry, ScratchValue, Scratchpad};

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':' | b'/')
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_hex(b: u8, out: &mut String) {
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 15)] as char);
}

fn percent_encode(s: &[u8], out: &mut String) {
    for &b in s {
        if unreserved(b) {
            out.push(b as char);
        } else {
            out.push('%');
            push_hex(b, out);
        }
    }
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = hex_value(*b.get(i + 1)?)?;
            let lo = hex_value(*b.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The scratchpad as a string (empty for an empty scratchpad).
pub fn encode(pad: &Scratchpad) -> String {
    let mut out = String::new();
    for (n, e) in pad.entries.iter().enumerate() {
        if n > 0 {
            out.push('&');
        }
        percent_encode(e.key.as_bytes(), &mut out);
        out.push('=');
        match &e.value {
            ScratchValue::Bool(v) => out.push_str(if *v { "b1" } else { "b0" }),
            ScratchValue::Int(v) => {
                out.push('i');
                out.push_str(&v.to_string());
            }
            ScratchValue::Text(t) => {
                out.push('t');
                percent_encode(t.as_bytes(), &mut out);
            }
            ScratchValue::Bytes(bytes) => {
                out.push('x');
                for &b in bytes.iter() {
                    push_hex(b, &mut out);
                }
            }
        }
    }
    out
}

/// The scratchpad back from [`encode`]'s string; `Err` names what is wrong with it.
pub fn decode(s: &str) -> Result<Scratchpad, String> {
    let mut pad = Scratchpad::default();
    if s.is_empty() {
        return Ok(pad);
    }
    for (n, entry) in s.split('&').enumerate() {
        let bad = |what: &str| format!("transaction state entry {}: {what}", n + 1);
        let (key, value) = entry.split_once('=').ok_or_else(|| bad("no '='"))?;
        let key = percent_decode(key)
            .and_then(|k| String::from_utf8(k).ok())
            .ok_or_else(|| bad("bad key encoding"))?;
        let (tag, rest) = value.split_at(value.len().min(1));
        let value = match tag {
            "b" => ScratchValue::Bool(rest == "1"),
            "i" => ScratchValue::Int(rest.parse().map_err(|_| bad("bad integer"))?),
            "t" => ScratchValue::Text(RString::from(
                percent_decode(rest)
                    .and_then(|t| String::from_utf8(t).ok())
                    .ok_or_else(|| bad("bad text encoding"))?,
            )),
            "x" => {
                let b = rest.as_bytes();
                if b.len() % 2 != 0 {
                    return Err(bad("odd hex length"));
                }
                let bytes = b
                    .chunks(2)
                    .map(|p| Some(hex_value(p[0])? << 4 | hex_value(p[1])?))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| bad("bad hex"))?;
                ScratchValue::Bytes(RVec::from(bytes))
            }
            _ => return Err(bad("unknown value type")),
        };
        pad.entries.push(ScratchEntry {
            key: key.into(),
            value,
        });
    }
    Ok(pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_kind_round_trips_as_printable_ascii() {
        let mut pad = Scratchpad::default();
        pad.set("ms.peer", ScratchValue::Bool(true));
        pad.set("router.rule", ScratchValue::Int(-42));
        pad.set("note", ScratchValue::Text("a b&c=d%é\r\n".into()));
        pad.set("raw", ScratchValue::Bytes(vec![0u8, 255, 16].into()));
        let s = encode(&pad);
        assert!(s.bytes().all(|b| b.is_ascii_graphic()), "{s}");
        assert_eq!(decode(&s).unwrap(), pad);
    }

    #[test]
    fn an_empty_scratchpad_is_an_empty_string() {
        assert_eq!(encode(&Scratchpad::default()), "");
        assert_eq!(decode("").unwrap(), Scratchpad::default());
    }

    #[test]
    fn a_damaged_state_is_refused_with_the_entry_named() {
        assert!(decode("a=b1&b").unwrap_err().contains("entry 2"));
        assert!(decode("a=q1").unwrap_err().contains("unknown value type"));
        assert!(decode("a=x123").unwrap_err().contains("odd hex"));
        assert!(decode("a=t%zz").unwrap_err().contains("bad text"));
    }
}
