//! Microsoft-only codecs: found by their `a=rtpmap` encoding name and removed from the
//! `m=` format list together with their `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines.

use super::lines::MediaSection;

/// Encoding names (case-insensitive) only Microsoft endpoints speak.
const MICROSOFT_ENCODINGS: &[&str] = &[
    "x-msrta",
    "SIREN",
    "x-rtvc1",
    "X-H264UC",
    "x-ulpfecuc",
    "x-data",
];

/// An `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]` value, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtpmap<'l> {
    /// Payload type.
    pub payload: &'l str,
    /// `encoding/clock[/channels]` as written.
    pub description: &'l str,
    /// Encoding name.
    pub encoding: &'l str,
    /// Clock rate.
    pub clock: &'l str,
    /// Channel count, when given.
    pub channels: Option<&'l str>,
}

impl<'l> Rtpmap<'l> {
    /// Reads an `a=rtpmap` value.
    pub fn parse(value: &'l str) -> Option<Self> {
        let (payload, description) = value.trim().split_once(|c: char| c.is_ascii_whitespace())?;
        let description = description.trim();
        let mut parts = description.split('/');
        let encoding = parts.next()?;
        let clock = parts.next()?;
        Some(Self {
            payload,
            description,
            encoding,
            clock,
            channels: parts.next(),
        })
    }

    /// Whether this is a Microsoft-only codec (including stereo `G722/8000/2`).
    pub fn is_microsoft(&self) -> bool {
        let microsoft_name = MICROSOFT_ENCODINGS
            .iter()
            .any(|name| self.encoding.eq_ignore_ascii_case(name));
        let stereo_g722 = self.encoding.eq_ignore_ascii_case("G722")
            && self.clock == "8000"
            && self.channels == Some("2");
        microsoft_name || stereo_g722
    }
}

/// Removes Microsoft-only codecs from `section`. If no format is left, the section gets
/// port 0 (keeping its first format so the line stays valid) and a change says so.
pub fn remove_microsoft_codecs(section: &mut MediaSection<'_>, changes: &mut Vec<String>) {
    // The lines are taken out of the section so the dropped payloads can borrow from them
    // while the format list is edited.
    let lines = std::mem::take(&mut section.lines);
    let dropped: Vec<(&str, &str)> = lines
        .iter()
        .filter_map(|line| {
            let attribute = line.attribute().filter(|a| a.is("rtpmap"))?;
            let map = Rtpmap::parse(attribute.value_or_empty())?;
            map.is_microsoft().then_some((map.payload, map.description))
        })
        .collect();
    if dropped.is_empty() {
        section.lines = lines;
        return;
    }
    let is_dropped = |payload: &str| dropped.iter().any(|(known, _)| *known == payload);
    let emptied = section.retain_formats(|format| !is_dropped(format));
    section.lines = lines
        .iter()
        .filter(|line| {
            !line.attribute().is_some_and(|attribute| {
                (attribute.is("rtpmap") || attribute.is("fmtp") || attribute.is("rtcp-fb"))
                    && attribute
                        .value_or_empty()
                        .split_ascii_whitespace()
                        .next()
                        .is_some_and(is_dropped)
            })
        })
        .cloned()
        .collect();
    let scope = section.label();
    for (payload, description) in &dropped {
        changes.push(format!(
            "removed codec {description} (payload {payload}) from {scope}: Microsoft-only"
        ));
    }
    if emptied {
        changes.push(format!(
            "{scope} has no codec left after removing Microsoft-only codecs: port set to 0 \
             (stream declined; format {} kept so the m= line stays valid)",
            section.formats().join(" ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::lines::Sdp;

    #[test]
    fn recognises_microsoft_codecs_but_keeps_mono_g722() {
        let is_ms = |value: &str| Rtpmap::parse(value).unwrap().is_microsoft();
        assert!(is_ms("114 x-msrta/16000"));
        assert!(is_ms("111 siren/16000"));
        assert!(is_ms("122 X-H264UC/90000"));
        assert!(is_ms("121 x-rtvc1/90000"));
        assert!(is_ms("123 x-ulpfecuc/90000"));
        assert!(is_ms("127 x-data/90000"));
        assert!(is_ms("117 G722/8000/2"));
        assert!(!is_ms("9 G722/8000"));
        assert!(!is_ms("118 G722/16000/2"));
        assert!(!is_ms("104 SILK/16000"));
        assert!(!is_ms("112 G7221/16000"));
    }

    #[test]
    fn removes_codec_lines_and_format_tokens() {
        let input = b"v=0\r\nm=audio 5000 RTP/AVP 114 0 101\r\na=rtpmap:114 x-msrta/16000\r\n\
a=fmtp:114 bitrate=29000\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-fb:114 nack\r\na=rtpmap:101 telephone-event/8000\r\n";
        let mut sdp = Sdp::parse(input).unwrap();
        let mut changes = Vec::new();
        remove_microsoft_codecs(&mut sdp.media[0], &mut changes);
        assert_eq!(
            String::from_utf8(sdp.to_bytes()).unwrap(),
            "v=0\r\nm=audio 5000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        );
        assert_eq!(
            changes,
            vec!["removed codec x-msrta/16000 (payload 114) from m=audio: Microsoft-only"]
        );
    }
}
