//! Microsoft-only SDP attributes ([MS-SDPEXT]) that standard endpoints do not understand.

use std::borrow::Cow;

use super::lines::{drop_lines, Attribute, Line};
use super::tally::Tally;

/// The kind (`a=` and the lower-case name) of an attribute dropped wherever it appears
/// (session or media level), or `None`.
fn microsoft_attribute_kind(name: &str) -> Option<&'static str> {
    let mut lower = [0u8; 20];
    let lower = lower.get_mut(..name.len())?;
    lower.copy_from_slice(name.as_bytes());
    lower.make_ascii_lowercase();
    Some(match &*lower {
        b"x-ssrc-range" => "a=x-ssrc-range",
        b"x-caps" => "a=x-caps",
        b"x-mediabw" => "a=x-mediabw",
        b"x-devicecaps" => "a=x-devicecaps",
        b"x-source" => "a=x-source",
        b"x-source-streamid" => "a=x-source-streamid",
        b"x-mediasettings" => "a=x-mediasettings",
        b"x-bw" => "a=x-bw",
        b"x-candidate-ipv6" => "a=x-candidate-ipv6",
        b"cryptoscale" => "a=cryptoscale",
        b"encryption" => "a=encryption",
        _ => return None,
    })
}

/// `a=label:` values Lync uses for its own stream roles.
const MICROSOFT_LABELS: &[&str] = &[
    "main-audio",
    "main-video",
    "panoramic-video",
    "applicationsharing-video",
    "data",
];

/// Whether `text` starts with `prefix` (ASCII case-insensitive).
fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Whether an `a=label:` value is a Microsoft stream label.
fn is_microsoft_label(label: &str) -> bool {
    let label = label.trim();
    MICROSOFT_LABELS
        .iter()
        .any(|known| label.eq_ignore_ascii_case(known))
        || starts_with_ignore_case(label, "main-")
        || starts_with_ignore_case(label, "x-")
}

/// The kind of Microsoft-only attribute this is (e.g. `a=x-caps`), or `None` to keep it.
pub fn microsoft_only_kind(attribute: &Attribute<'_>) -> Option<Cow<'static, str>> {
    if let Some(kind) = microsoft_attribute_kind(attribute.name) {
        return Some(Cow::Borrowed(kind));
    }
    let value = attribute.value_or_empty();
    if attribute.is("rtcp-fb")
        && value
            .split_ascii_whitespace()
            .nth(1)
            .is_some_and(|kind| kind.eq_ignore_ascii_case("x-message"))
    {
        return Some(Cow::Borrowed("a=rtcp-fb x-message"));
    }
    if attribute.is("label") && is_microsoft_label(value) {
        return Some(Cow::Owned(format!("a=label:{}", value.trim())));
    }
    None
}

/// Removes Microsoft-only attribute lines; one change per kind, naming `scope`.
pub fn remove_microsoft_attributes(
    lines: &mut Vec<Line<'_>>,
    scope: &str,
    changes: &mut Vec<String>,
) {
    let mut tally = Tally::default();
    drop_lines(lines, |line| {
        match line.attribute().as_ref().and_then(microsoft_only_kind) {
            Some(kind) => {
                tally.add(kind);
                true
            }
            None => false,
        }
    });
    for (kind, count) in tally.entries() {
        changes.push(if count > 1 {
            format!("removed {kind} from {scope} (Microsoft-only attribute, {count} lines)")
        } else {
            format!("removed {kind} from {scope} (Microsoft-only attribute)")
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> Option<String> {
        microsoft_only_kind(&Attribute::parse(line).unwrap()).map(String::from)
    }

    #[test]
    fn recognises_microsoft_attributes_and_keeps_standard_ones() {
        assert_eq!(
            kind("a=x-ssrc-range:1-1").as_deref(),
            Some("a=x-ssrc-range")
        );
        assert_eq!(kind("a=X-Caps:121 263").as_deref(), Some("a=x-caps"));
        assert_eq!(
            kind("a=encryption:optional").as_deref(),
            Some("a=encryption")
        );
        assert_eq!(
            kind("a=rtcp-fb:* x-message app send:dsh recv:dsh").as_deref(),
            Some("a=rtcp-fb x-message")
        );
        assert_eq!(
            kind("a=label:main-audio").as_deref(),
            Some("a=label:main-audio")
        );
        assert_eq!(
            kind("a=label:x-anything").as_deref(),
            Some("a=label:x-anything")
        );
        assert_eq!(kind("a=label:data").as_deref(), Some("a=label:data"));
        assert_eq!(kind("a=label:1"), None);
        assert_eq!(kind("a=rtcp-fb:* nack pli"), None);
        assert_eq!(
            kind("a=x-source-streamid:5").as_deref(),
            Some("a=x-source-streamid")
        );
        assert_eq!(kind("a=x-sourcefoo:5"), None);
        assert_eq!(kind("a=rtcp-mux"), None);
    }

    #[test]
    fn removal_reports_one_change_per_kind_with_count() {
        let mut lines = vec![
            Line::Original(b"a=x-caps:121 1"),
            Line::Original(b"a=rtcp:5001"),
            Line::Original(b"a=x-caps:122 2"),
        ];
        let mut changes = Vec::new();
        remove_microsoft_attributes(&mut lines, "m=video", &mut changes);
        assert_eq!(lines, vec![Line::Original(b"a=rtcp:5001")]);
        assert_eq!(
            changes,
            vec!["removed a=x-caps from m=video (Microsoft-only attribute, 2 lines)"]
        );
    }
}
