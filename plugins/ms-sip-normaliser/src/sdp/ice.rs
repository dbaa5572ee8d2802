//! ICE lines: removing all of them, or keeping only RFC 5245 candidates (dropping
//! Microsoft draft-6 candidates and Microsoft TCP-ACT / TCP-PASS candidates).

use super::lines::{drop_lines, Line};
use super::tally::Tally;

/// The kind (`a=` and the lower-case name) of an ICE attribute (RFC 5245 and the Microsoft
/// forms) named `name`; `None` when `name` is not an ICE attribute.
fn ice_kind(name: &str) -> Option<&'static str> {
    let mut lower = [0u8; 20];
    let lower = lower.get_mut(..name.len())?;
    lower.copy_from_slice(name.as_bytes());
    lower.make_ascii_lowercase();
    Some(match &*lower {
        b"ice-ufrag" => "a=ice-ufrag",
        b"ice-pwd" => "a=ice-pwd",
        b"candidate" => "a=candidate",
        b"remote-candidates" => "a=remote-candidates",
        b"ice-options" => "a=ice-options",
        b"ice-lite" => "a=ice-lite",
        b"x-candidate" => "a=x-candidate",
        b"x-candidate-ipv6" => "a=x-candidate-ipv6",
        _ => return None,
    })
}

/// What an `a=candidate` value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate<'l> {
    /// `foundation component transport priority address port typ type …` (RFC 5245).
    Rfc5245 {
        /// Transport, e.g. `UDP`, `TCP-PASS`.
        transport: &'l str,
    },
    /// Anything else, in practice Microsoft's draft-6 form
    /// `<username> <component> <password> UDP <0.830> <address> <port>`.
    NotRfc5245,
}

/// The first `N` whitespace-separated fields of `text`; `None` when it has fewer.
fn first_fields<const N: usize>(text: &str) -> Option<[&str; N]> {
    let mut fields = text.split_ascii_whitespace();
    let mut out = [""; N];
    for slot in &mut out {
        *slot = fields.next()?;
    }
    Some(out)
}

/// Classifies an `a=candidate` value.
pub fn classify_candidate(value: &str) -> Candidate<'_> {
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match first_fields::<8>(value) {
        Some([_foundation, component, transport, priority, _address, port, typ, _kind])
            if digits(component)
                && digits(priority)
                && digits(port)
                && typ.eq_ignore_ascii_case("typ") =>
        {
            Candidate::Rfc5245 { transport }
        }
        _ => Candidate::NotRfc5245,
    }
}

/// Removes every ICE line (the standards side does not do ICE).
pub fn remove_all_ice(lines: &mut Vec<Line<'_>>, scope: &str, changes: &mut Vec<String>) {
    let mut tally = Tally::default();
    let removed = drop_lines(lines, |line| {
        match line
            .attribute()
            .and_then(|attribute| ice_kind(attribute.name))
        {
            Some(kind) => {
                tally.add(kind);
                true
            }
            None => false,
        }
    });
    if removed > 0 {
        changes.push(format!(
            "removed ICE from {scope} ({removed} lines: {}): the standards side is configured without ICE",
            tally.kinds()
        ));
    }
}

/// Keeps RFC 5245 ICE; removes draft-6 candidates, TCP-ACT/TCP-PASS candidates and `a=x-candidate`.
pub fn keep_rfc5245_ice(lines: &mut Vec<Line<'_>>, scope: &str, changes: &mut Vec<String>) {
    let (mut draft6, mut tcp, mut x_candidate) = (0, 0, 0);
    drop_lines(lines, |line| match line.attribute() {
        Some(attribute) if attribute.is("candidate") => {
            match classify_candidate(attribute.value_or_empty()) {
                Candidate::Rfc5245 { transport }
                    if transport.eq_ignore_ascii_case("TCP-ACT")
                        || transport.eq_ignore_ascii_case("TCP-PASS") =>
                {
                    tcp += 1;
                    true
                }
                Candidate::Rfc5245 { .. } => false,
                Candidate::NotRfc5245 => {
                    draft6 += 1;
                    true
                }
            }
        }
        Some(attribute) if attribute.is("x-candidate") => {
            x_candidate += 1;
            true
        }
        _ => false,
    });
    if draft6 > 0 {
        changes.push(format!(
            "removed {draft6} draft-6 ICE candidates from {scope} (Microsoft pre-RFC 5245 form)"
        ));
    }
    if tcp > 0 {
        changes.push(format!(
            "removed {tcp} TCP-ACT/TCP-PASS ICE candidates from {scope} (Microsoft TCP candidates)"
        ));
    }
    if x_candidate > 0 {
        changes.push(format!(
            "removed {x_candidate} a=x-candidate lines from {scope} (Microsoft-only ICE attribute)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_rfc5245_and_draft6_candidates() {
        assert_eq!(
            classify_candidate("1 1 UDP 2130706431 192.168.1.20 19852 typ host "),
            Candidate::Rfc5245 { transport: "UDP" }
        );
        assert_eq!(
            classify_candidate(
                "3 1 TCP-ACT 174846975 203.0.113.5 50428 typ srflx raddr 192.168.1.20 rport 50428"
            ),
            Candidate::Rfc5245 {
                transport: "TCP-ACT"
            }
        );
        assert_eq!(
            classify_candidate(
                "qkEm8nW/SDdIB9E+Omtw3ogcq2n9fDOs 1 0PzxFlyBa4D9+BFDsOQsQA UDP 0.830 192.168.1.20 19852"
            ),
            Candidate::NotRfc5245
        );
    }

    #[test]
    fn keep_rfc5245_reports_each_kind() {
        let mut lines = vec![
            Line::Original(b"a=ice-ufrag:bTWd"),
            Line::Original(b"a=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host"),
            Line::Original(b"a=candidate:2 1 TCP-PASS 174455807 10.0.0.1 5001 typ host"),
            Line::Original(b"a=candidate:abc 1 def UDP 0.830 10.0.0.1 5000"),
            Line::Original(b"a=x-candidate:whatever"),
        ];
        let mut changes = Vec::new();
        keep_rfc5245_ice(&mut lines, "m=audio", &mut changes);
        assert_eq!(
            lines,
            vec![
                Line::Original(b"a=ice-ufrag:bTWd"),
                Line::Original(b"a=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host"),
            ]
        );
        assert_eq!(changes.len(), 3);
        assert!(changes[0].starts_with("removed 1 draft-6 ICE candidates from m=audio"));
    }
}
