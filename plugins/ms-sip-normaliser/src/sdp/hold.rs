//! Taking an initial offer off hold: Lync does not accept a call that starts on hold.

use super::lines::{remove_lines, Line, Sdp};

/// Direction attributes that mean (partial) hold.
const HOLD_DIRECTIONS: &[&str] = &["sendonly", "recvonly", "inactive"];

/// The RFC 2543 hold connection line.
const ZERO_CONNECTION: &str = "c=IN IP4 0.0.0.0";

/// Removes `a=sendonly` / `a=recvonly` / `a=inactive` (sendrecv is then implied) and turns
/// `c=IN IP4 0.0.0.0` into the `o=` line's address, at session and media level.
pub fn take_off_hold(doc: &mut Sdp<'_>, changes: &mut Vec<String>) {
    let origin = doc.origin_ipv4().filter(|address| address != "0.0.0.0");
    take_lines_off_hold(
        &mut doc.session,
        "the session level",
        origin.as_deref(),
        changes,
    );
    for section in &mut doc.media {
        let scope = section.label();
        take_lines_off_hold(&mut section.lines, &scope, origin.as_deref(), changes);
    }
}

fn take_lines_off_hold(
    lines: &mut Vec<Line<'_>>,
    scope: &str,
    origin: Option<&str>,
    changes: &mut Vec<String>,
) {
    let removed = remove_lines(lines, |line| {
        line.attribute()
            .is_some_and(|a| a.value.is_none() && HOLD_DIRECTIONS.iter().any(|d| a.is(d)))
    });
    for line in &removed {
        if let Some(attribute) = line.attribute() {
            changes.push(format!(
                "removed a={} from {scope}: an initial offer to Lync must not be on hold (sendrecv implied)",
                attribute.name
            ));
        }
    }
    for line in lines.iter_mut() {
        if line.text().map(str::trim_end) != Some(ZERO_CONNECTION) {
            continue;
        }
        match origin {
            Some(address) => {
                *line = Line::Rewritten(format!("c=IN IP4 {address}"));
                changes.push(format!(
                    "changed c=IN IP4 0.0.0.0 to c=IN IP4 {address} (the o= address) at {scope}: \
                     an initial offer to Lync must not be on hold"
                ));
            }
            None => changes.push(format!(
                "left c=IN IP4 0.0.0.0 at {scope}: the o= line has no usable IPv4 address either"
            )),
        }
    }
}
