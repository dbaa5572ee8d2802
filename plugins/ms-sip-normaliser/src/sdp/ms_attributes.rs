//! Microsoft-only SDP attributes ([MS-SDPEXT]) that standard endpoints do not understand.

use super::lines::{remove_lines, Attribute, Line};
use super::tally::Tally;

/// Attribute names dropped wherever they appear (session or media level).
const MICROSOFT_ATTRIBUTES: &[&str] = &[
    "x-ssrc-range",
    "x-caps",
    "x-mediabw",
    "x-devicecaps",
    "x-source",
    "x-source-streamid",
    "x-mediasettings",
    "x-bw",
    "x-candidate-ipv6",
    "cryptoscale",
    "encryption",
];

/// `a=label:` values Lync uses for its own stream roles.
const MICROSOFT_LABELS: &[&str] = &[
    "main-audio",
    "main-video",
    "panoramic-video",
    "applicationsharing-video",
    "data",
];

/// Whether an `a=label:` value is a Microsoft stream label.
fn is_microsoft_label(label: &str) -> bool {
    let lower = label.trim().to_ascii_lowercase();
    MICROSOFT_LABELS.contains(&lower.as_str())
        || lower.starts_with("main-")
        || lower.starts_with("x-")
}

/// The kind of Microsoft-only attribute this is (e.g. `a=x-caps`), or `None` to keep it.
pub fn microsoft_only_kind(attribute: &Attribute<'_>) -> Option<String> {
    if MICROSOFT_ATTRIBUTES.iter().any(|name| attribute.is(name)) {
        return Some(format!("a={}", attribute.name.to_ascii_lowercase()));
    }
    let value = attribute.value_or_empty();
    if attribute.is("rtcp-fb")
        && value
            .split_ascii_whitespace()
            .nth(1)
            .is_some_and(|kind| kind.eq_ignore_ascii_case("x-message"))
    {
        return Some("a=rtcp-fb x-message".to_owned());
    }
    if attribute.is("label") && is_microsoft_label(value) {
        return Some(format!("a=label:{}", value.trim()));
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
    remove_lines(lines, |line| {
        match line.attribute().as_ref().and_then(microsoft_only_kind) {
            Some(kind) => {
                tally.add(&kind);
                true
            }
            None => false,
        }
    });
    for (kind, count) in tally.entries() {
        let count = if count > 1 {
            format!(", {count} lines")
        } else {
            String::new()
        };
        changes.push(format!(
            "removed {kind} from {scope} (Microsoft-only attribute{count})"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> Option<String> {
        microsoft_only_kind(&Attribute::parse(line).unwrap())
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
