//! PROTOS c07-sip test cases: reading case files and filling in their placeholders.
//!
//! A case file holds two records, `<decimal length><SP><bytes>`: the test INVITE, then a teardown
//! request whose method is `<Teardown-Method>`. The placeholders name the parties and the transaction;
//! `<Content-Length>` is filled in last with the body length after the other substitutions (counted
//! after the first blank line), as the suite's README asks.

use std::path::Path;

/// The sample `sip-interop conform` carries: case 0 and every 25th case (see
/// `tests/corpora/protos-c07-sip/make-sample`).
const SAMPLE: &[u8] = include_bytes!("../../../tests/corpora/protos-c07-sip/sample.cases");

/// One PROTOS case, placeholders still in.
#[derive(Clone, Debug)]
pub struct Case {
    /// Case number (0 is the valid reference INVITE).
    pub number: u32,
    /// The test INVITE.
    pub invite: Vec<u8>,
    /// The teardown request (`<Teardown-Method>` is CANCEL, then ACK).
    pub teardown: Vec<u8>,
}

/// Who sends a case to whom.
#[derive(Clone, Debug)]
pub struct Parties {
    /// `<To>`: `user@host[:port]` of the callee (also the Request-URI).
    pub to: String,
    /// `<From>`: `user@host` of the caller.
    pub from: String,
    /// `<From-Address>` and `<From-IP>`: the caller's IP address (Via, SDP).
    pub from_ip: String,
    /// `<Local-Port>`: the caller's port (Via).
    pub local_port: u16,
}

impl Parties {
    /// A caller on 127.0.0.1:`local_port` calling `to`.
    pub fn loopback(local_port: u16, to: &str) -> Self {
        Parties {
            to: to.to_string(),
            from: "protos@127.0.0.1".into(),
            from_ip: "127.0.0.1".into(),
            local_port,
        }
    }
}

/// Read one record `<decimal length><SP><bytes>` from the front of `buf`.
fn record(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let sp = buf.iter().position(|&b| b == b' ')?;
    let len: usize = std::str::from_utf8(&buf[..sp]).ok()?.parse().ok()?;
    let rest = &buf[sp + 1..];
    (rest.len() >= len).then(|| rest.split_at(len))
}

impl Case {
    /// Parse a case file's bytes.
    pub fn parse(number: u32, file: &[u8]) -> Option<Case> {
        let (invite, rest) = record(file)?;
        let teardown = record(rest).map(|(t, _)| t.to_vec()).unwrap_or_default();
        Some(Case {
            number,
            invite: invite.to_vec(),
            teardown,
        })
    }

    /// The test INVITE for `parties`, with this case's own Call-ID and branch.
    pub fn invite_for(&self, parties: &Parties) -> Vec<u8> {
        fill(&self.invite, parties, self.number, None)
    }

    /// The teardown request sent as `method` (`CANCEL` or `ACK`).
    pub fn teardown_for(&self, parties: &Parties, method: &str) -> Vec<u8> {
        fill(&self.teardown, parties, self.number, Some(method))
    }
}

/// Replace every `from` in `s` with `to`.
fn replace_all(s: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = memchr::memmem::find(rest, from) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Substitute the placeholders of one record.
fn fill(raw: &[u8], p: &Parties, number: u32, teardown: Option<&str>) -> Vec<u8> {
    let call_id = format!("protos-{number:07}");
    let branch = format!("{number:07}");
    let port = p.local_port.to_string();
    let mut s = raw.to_vec();
    for (from, to) in [
        (&b"<To>"[..], p.to.as_bytes()),
        (b"<From>", p.from.as_bytes()),
        (b"<From-Address>", p.from_ip.as_bytes()),
        (b"<From-IP>", p.from_ip.as_bytes()),
        (b"<Local-Port>", port.as_bytes()),
        (b"<Call-ID>", call_id.as_bytes()),
        (b"<CSeq>", b"1"),
        (b"<Branch-ID>", branch.as_bytes()),
        (
            b"<Teardown-Method>",
            teardown.unwrap_or("CANCEL").as_bytes(),
        ),
    ] {
        s = replace_all(&s, from, to);
    }
    let body = memchr::memmem::find(&s, b"\r\n\r\n").map_or(0, |i| s.len() - (i + 4));
    replace_all(&s, b"<Content-Length>", body.to_string().as_bytes())
}

/// Cases of a packed sample (`<number> <length>\n<bytes>` repeated).
fn unpack(mut buf: &[u8]) -> Vec<Case> {
    let mut out = Vec::new();
    while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
        let head = String::from_utf8_lossy(&buf[..nl]).into_owned();
        let mut it = head.split(' ');
        let (Some(Ok(number)), Some(Ok(len))) = (
            it.next().map(str::parse::<u32>),
            it.next().map(str::parse::<usize>),
        ) else {
            break;
        };
        let rest = &buf[nl + 1..];
        if rest.len() < len {
            break;
        }
        if let Some(c) = Case::parse(number, &rest[..len]) {
            out.push(c);
        }
        buf = &rest[len..];
    }
    out
}

/// The sample carried in the binary: 182 cases spread over the whole suite.
pub fn sample() -> Vec<Case> {
    unpack(SAMPLE)
}

/// Every case in a folder of extracted case files (`testcases/` of the archive), in case order.
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<Case>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let Ok(number) = name.to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(c) = Case::parse(number, &std::fs::read(e.path())?) {
            out.push(c);
        }
    }
    out.sort_by_key(|c| c.number);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_interop_abi::sip::{disposition_of, Disposition, Message};

    #[test]
    fn the_sample_holds_the_reference_case_and_every_25th() {
        let cases = sample();
        assert_eq!(cases.len(), 182);
        assert_eq!(cases[0].number, 0);
        assert!(cases.iter().all(|c| c.number % 25 == 0));
        assert!(cases.iter().all(|c| !c.teardown.is_empty()));
    }

    #[test]
    fn the_reference_case_becomes_a_valid_invite_with_its_own_call_id() {
        let case = &sample()[0];
        let bytes = case.invite_for(&Parties::loopback(5070, "bob@127.0.0.1:5080"));
        let m = Message::parse(&bytes).expect("case 0 parses");
        assert_eq!(disposition_of(&m), Disposition::Forward);
        assert_eq!(m.request_uri_str(), Some("sip:bob@127.0.0.1:5080"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("Call-ID: protos-0000000@127.0.0.1\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK000000000000\r\n"),
            "{text}"
        );
        let body = m.body();
        assert!(
            text.contains(&format!("Content-Length: {}\r\n", body.len())),
            "{text}"
        );
        assert!(
            !text.contains('<') || !text.contains("<From"),
            "placeholders left: {text}"
        );
        let cancel = String::from_utf8(
            case.teardown_for(&Parties::loopback(5070, "bob@127.0.0.1:5080"), "CANCEL"),
        )
        .unwrap();
        assert!(
            cancel.starts_with("CANCEL sip:bob@127.0.0.1:5080 SIP/2.0\r\n"),
            "{cancel}"
        );
        assert!(cancel.contains("CSeq: 1 CANCEL\r\n"), "{cancel}");
    }
}
