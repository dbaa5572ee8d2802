//! A small line-based SDP model that keeps every line it does not change byte-exact.
//!
//! The SDP is split on LF (a CR before the LF is dropped, blank lines are skipped) and
//! grouped into the session part and one section per `m=` line. Writing ends every line
//! in CRLF. Only `v=` (first line) and `m=` lines are checked; everything else is carried.
//!
//! Lines are borrowed from the input, never copied; the input is checked for UTF-8 once, so
//! the rules can read lines as text without checking each line again.

use memchr::memchr;

use super::SdpReject;

/// Splits SDP bytes into lines: on LF, without a trailing CR, skipping blank lines.
pub fn split_lines(sdp: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = sdp;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let line = match memchr(b'\n', rest) {
            Some(end) => {
                let line = &rest[..end];
                rest = &rest[end + 1..];
                line
            }
            None => std::mem::take(&mut rest),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.is_empty() {
            return Some(line);
        }
    })
}

/// [`split_lines`] for SDP text: the same lines, as `&str`.
fn split_text_lines(sdp: &str) -> impl Iterator<Item = &str> {
    let mut rest = sdp;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        // LF and CR are ASCII: cutting there always falls on a character boundary.
        let line = match memchr(b'\n', rest.as_bytes()) {
            Some(end) => {
                let line = &rest[..end];
                rest = &rest[end + 1..];
                line
            }
            None => std::mem::take(&mut rest),
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !line.is_empty() {
            return Some(line);
        }
    })
}

/// One SDP line, without its line ending.
#[derive(Debug, Clone)]
pub enum Line<'a> {
    /// Unchanged: written back byte-exact.
    Original(&'a [u8]),
    /// Unchanged, from an SDP that is valid UTF-8 as a whole: written back byte-exact.
    Utf8(&'a str),
    /// Written by a rule.
    Rewritten(String),
}

/// Unchanged lines are equal when their bytes are (however they were read); rewritten lines
/// equal rewritten lines with the same text.
impl PartialEq for Line<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Line::Rewritten(a), Line::Rewritten(b)) => a == b,
            (Line::Rewritten(_), _) | (_, Line::Rewritten(_)) => false,
            _ => self.bytes() == other.bytes(),
        }
    }
}

impl Eq for Line<'_> {}

impl Line<'_> {
    /// The line's bytes, without line ending.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Line::Original(bytes) => bytes,
            Line::Utf8(text) => text.as_bytes(),
            Line::Rewritten(text) => text.as_bytes(),
        }
    }

    /// The line as text, when it is UTF-8.
    pub fn text(&self) -> Option<&str> {
        match self {
            Line::Original(bytes) => std::str::from_utf8(bytes).ok(),
            Line::Utf8(text) => Some(text),
            Line::Rewritten(text) => Some(text),
        }
    }

    /// The line as an `a=` attribute, when it is one.
    pub fn attribute(&self) -> Option<Attribute<'_>> {
        if !self.bytes().starts_with(b"a=") {
            return None;
        }
        self.text().and_then(Attribute::parse)
    }

    /// Whether this is an `a=<name>` line (name compared case-insensitively).
    pub fn is_attribute(&self, name: &str) -> bool {
        self.attribute().is_some_and(|attribute| attribute.is(name))
    }
}

/// An `a=<name>[:<value>]` line, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'l> {
    /// The attribute name, as written.
    pub name: &'l str,
    /// The value after the first `:`, if any.
    pub value: Option<&'l str>,
}

impl<'l> Attribute<'l> {
    /// Reads an `a=` line; `None` for any other line type.
    pub fn parse(line: &'l str) -> Option<Self> {
        let rest = line.strip_prefix("a=")?;
        // Names are short: a plain scan beats a vectorised search. `:` is ASCII, so the cut
        // falls on a character boundary.
        Some(match rest.bytes().position(|byte| byte == b':') {
            Some(colon) => Self {
                name: &rest[..colon],
                value: Some(&rest[colon + 1..]),
            },
            None => Self {
                name: rest,
                value: None,
            },
        })
    }

    /// Whether the name is `name` (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value, or `""` for a flag attribute.
    pub fn value_or_empty(&self) -> &'l str {
        self.value.unwrap_or("")
    }
}

/// Removes the lines `unwanted` picks, keeping the order of the rest; returns the removed lines.
pub fn remove_lines<'a>(
    lines: &mut Vec<Line<'a>>,
    mut unwanted: impl FnMut(&Line<'a>) -> bool,
) -> Vec<Line<'a>> {
    let mut removed = Vec::new();
    lines.retain(|line| {
        if unwanted(line) {
            removed.push(line.clone());
            false
        } else {
            true
        }
    });
    removed
}

/// Removes the lines `unwanted` picks (asked once per line, in order), keeping the order of
/// the rest; returns how many were removed.
pub fn drop_lines<'a>(
    lines: &mut Vec<Line<'a>>,
    mut unwanted: impl FnMut(&Line<'a>) -> bool,
) -> usize {
    let before = lines.len();
    lines.retain(|line| !unwanted(line));
    before - lines.len()
}

/// The `<media> <port> <proto> <fmt...>` fields of an `m=` line, borrowed from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFields<'l> {
    /// Media type, e.g. `audio`.
    pub media: &'l str,
    /// Port, possibly `port/count`.
    pub port: &'l str,
    /// Transport protocol, e.g. `RTP/AVP`.
    pub proto: &'l str,
    /// Format list (payload types, or e.g. `null` for `m=message`).
    pub formats: Vec<&'l str>,
}

impl<'l> MediaFields<'l> {
    /// Reads an `m=` line; `None` when it is not `m=<media> <port> <proto> <fmt...>`.
    pub fn parse(line: &'l str) -> Option<Self> {
        let mut tokens = line.strip_prefix("m=")?.split_ascii_whitespace();
        let media = tokens.next()?;
        let port = tokens.next()?;
        let proto = tokens.next()?;
        let formats: Vec<&str> = tokens.collect();
        if formats.is_empty() || port_number(port).is_none() {
            return None;
        }
        Some(Self {
            media,
            port,
            proto,
            formats,
        })
    }
}

/// The media type and proto of an `m=` line that [`MediaFields::parse`] accepts, without
/// collecting the format list.
pub fn media_and_proto(line: &str) -> Option<(&str, &str)> {
    let mut tokens = line.strip_prefix("m=")?.split_ascii_whitespace();
    let media = tokens.next()?;
    let port = tokens.next()?;
    let proto = tokens.next()?;
    tokens.next()?;
    port_number(port)?;
    Some((media, proto))
}

/// The port number of `port` or `port/count`.
fn port_number(port: &str) -> Option<u32> {
    let number = port.split_once('/').map_or(port, |(number, _)| number);
    if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

/// One media section: its `m=` line and the lines after it, up to the next `m=` line.
#[derive(Debug, Clone)]
pub struct MediaSection<'a> {
    original_m_line: &'a [u8],
    media: &'a str,
    port: &'a str,
    proto: &'a str,
    formats: Vec<&'a str>,
    m_line_edited: bool,
    /// The lines after the `m=` line.
    pub lines: Vec<Line<'a>>,
}

impl<'a> MediaSection<'a> {
    /// Reads the `m=` line; `capacity` is room for the lines after it.
    fn parse(line: &'a [u8], text: Option<&'a str>, capacity: usize) -> Result<Self, SdpReject> {
        let fields = text
            .or_else(|| std::str::from_utf8(line).ok())
            .and_then(MediaFields::parse)
            .ok_or_else(|| {
                SdpReject::Malformed(format!(
                    "m= line is not m=<media> <port> <proto> <fmt...>: {}",
                    shorten(line)
                ))
            })?;
        Ok(Self {
            original_m_line: line,
            media: fields.media,
            port: fields.port,
            proto: fields.proto,
            formats: fields.formats,
            m_line_edited: false,
            lines: Vec::with_capacity(capacity),
        })
    }

    /// The transport protocol, e.g. `RTP/AVP`.
    pub fn proto(&self) -> &str {
        self.proto
    }

    /// The format list.
    pub fn formats(&self) -> &[&'a str] {
        &self.formats
    }

    /// Whether the media type is `media` (case-insensitive).
    pub fn is_media(&self, media: &str) -> bool {
        self.media.eq_ignore_ascii_case(media)
    }

    /// Whether the port is not 0 (the stream is offered).
    pub fn is_active(&self) -> bool {
        port_number(self.port) != Some(0)
    }

    /// How changes name this section, e.g. `m=audio`.
    pub fn label(&self) -> String {
        let mut label = String::with_capacity(2 + self.media.len());
        label.push_str("m=");
        label.push_str(self.media);
        label
    }

    /// Sets the port to 0 (stream declined / disabled).
    pub fn set_port_zero(&mut self) {
        self.port = "0";
        self.m_line_edited = true;
    }

    /// Replaces the transport protocol.
    pub fn set_proto(&mut self, proto: &'a str) {
        self.proto = proto;
        self.m_line_edited = true;
    }

    /// Keeps the formats `keep` accepts. When none would be left, keeps the first original
    /// format (so the line stays valid), sets port 0 and returns `true`.
    pub fn retain_formats(&mut self, keep: impl Fn(&str) -> bool) -> bool {
        let before = self.formats.len();
        let first = self.formats.first().copied();
        self.formats.retain(|format| keep(format));
        if self.formats.len() != before {
            self.m_line_edited = true;
        }
        match first {
            Some(first) if self.formats.is_empty() => {
                self.formats.push(first);
                self.set_port_zero();
                true
            }
            _ => false,
        }
    }

    fn write_into(&self, out: &mut Vec<u8>) {
        if self.m_line_edited {
            for (prefix, piece) in [("m=", self.media), (" ", self.port), (" ", self.proto)] {
                out.extend_from_slice(prefix.as_bytes());
                out.extend_from_slice(piece.as_bytes());
            }
            out.push(b' ');
            for (index, format) in self.formats.iter().enumerate() {
                if index > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(format.as_bytes());
            }
        } else {
            out.extend_from_slice(self.original_m_line);
        }
        out.extend_from_slice(b"\r\n");
        write_lines(&self.lines, out);
    }
}

/// Writes `lines`, each followed by CRLF.
fn write_lines(lines: &[Line<'_>], out: &mut Vec<u8>) {
    for line in lines {
        out.extend_from_slice(line.bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// A whole SDP: session lines, then media sections in order.
#[derive(Debug, Clone)]
pub struct Sdp<'a> {
    /// Lines before the first `m=` line (starting with `v=`).
    pub session: Vec<Line<'a>>,
    /// The media sections, in `m=` line order.
    pub media: Vec<MediaSection<'a>>,
    /// The size of the SDP as read (for sizing the output).
    input_len: usize,
}

impl<'a> Sdp<'a> {
    /// Reads SDP bytes (CRLF or LF). Fails when the first line is not `v=` or an `m=`
    /// line does not have media, port, proto and at least one format.
    pub fn parse(sdp: &'a [u8]) -> Result<Self, SdpReject> {
        match std::str::from_utf8(sdp) {
            Ok(text) => Self::from_lines(
                split_text_lines(text).map(|line| (line.as_bytes(), Some(line))),
                sdp,
            ),
            Err(_) => Self::from_lines(split_lines(sdp).map(|line| (line, None)), sdp),
        }
    }

    /// Groups lines (bytes, and text when the whole SDP is known to be UTF-8) into sections.
    fn from_lines(
        lines: impl Iterator<Item = (&'a [u8], Option<&'a str>)>,
        sdp: &'a [u8],
    ) -> Result<Self, SdpReject> {
        // At most one line per LF (and one after the last): no vector has to grow.
        let mut room = memchr::memchr_iter(b'\n', sdp).count() + 1;
        let mut session = Vec::with_capacity(room.min(16));
        let mut media: Vec<MediaSection<'a>> = Vec::new();
        for (bytes, text) in lines {
            room = room.saturating_sub(1);
            if session.is_empty() && !bytes.starts_with(b"v=") {
                return Err(SdpReject::Malformed(
                    "the SDP does not start with a v= line".to_owned(),
                ));
            }
            if bytes.starts_with(b"m=") {
                media.push(MediaSection::parse(bytes, text, room)?);
                continue;
            }
            let line = match text {
                Some(text) => Line::Utf8(text),
                None => Line::Original(bytes),
            };
            match media.last_mut() {
                Some(section) => section.lines.push(line),
                None => session.push(line),
            }
        }
        if session.is_empty() {
            return Err(SdpReject::Malformed(
                "the SDP is empty (no v= line)".to_owned(),
            ));
        }
        Ok(Self {
            session,
            media,
            input_len: sdp.len(),
        })
    }

    /// The IPv4 unicast address of the `o=` line, if it has one.
    pub fn origin_ipv4(&self) -> Option<String> {
        let origin = self
            .session
            .iter()
            .filter_map(Line::text)
            .find_map(|text| text.strip_prefix("o="))?;
        let mut fields = origin.split_ascii_whitespace();
        let mut six = [""; 6];
        for field in &mut six {
            *field = fields.next()?;
        }
        let [_, _, _, _, addrtype, address] = six;
        if fields.next().is_some() || !addrtype.eq_ignore_ascii_case("IP4") {
            return None;
        }
        Some(address.to_owned())
    }

    /// Writes the SDP with CRLF after every line.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.input_len + self.input_len / 8 + 64);
        write_lines(&self.session, &mut out);
        for section in &self.media {
            section.write_into(&mut out);
        }
        out
    }
}

/// A line for an error message: lossy UTF-8, at most 80 characters.
fn shorten(line: &[u8]) -> String {
    String::from_utf8_lossy(line).chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_sdp_is_written_byte_exact_with_crlf() {
        let input =
            b"v=0\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\nm=audio 4000 RTP/AVP 0 8\na=weird  spacing \n";
        let sdp = Sdp::parse(input).unwrap();
        assert_eq!(
            sdp.to_bytes(),
            b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nm=audio 4000 RTP/AVP 0 8\r\na=weird  spacing \r\n"
        );
    }

    #[test]
    fn edited_m_line_is_rendered_and_other_lines_stay() {
        let input = b"v=0\r\nm=video 5000/2 RTP/AVP 96 97\r\na=rtpmap:96 H264/90000\r\n";
        let mut sdp = Sdp::parse(input).unwrap();
        let emptied = sdp.media[0].retain_formats(|format| format != "97");
        assert!(!emptied);
        assert!(sdp.media[0].is_active());
        assert_eq!(
            sdp.to_bytes(),
            b"v=0\r\nm=video 5000/2 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        );
        let emptied = sdp.media[0].retain_formats(|_| false);
        assert!(emptied);
        assert!(!sdp.media[0].is_active());
        assert_eq!(sdp.media[0].formats(), ["96"]);
    }

    #[test]
    fn missing_v_line_and_short_m_line_are_malformed() {
        assert!(matches!(
            Sdp::parse(b"o=- 1 1 IN IP4 1.2.3.4\r\n"),
            Err(SdpReject::Malformed(text)) if text.contains("v=")
        ));
        assert!(matches!(
            Sdp::parse(b"v=0\r\nm=audio 4000 RTP/AVP\r\n"),
            Err(SdpReject::Malformed(text)) if text.contains("m=audio 4000 RTP/AVP")
        ));
        assert!(matches!(
            Sdp::parse(b"v=0\r\nm=audio port RTP/AVP 0\r\n"),
            Err(SdpReject::Malformed(_))
        ));
        assert!(matches!(Sdp::parse(b""), Err(SdpReject::Malformed(_))));
    }

    #[test]
    fn origin_ipv4_reads_the_sixth_field() {
        let sdp = Sdp::parse(b"v=0\r\no=alice 1 2 IN IP4 192.0.2.7\r\n").unwrap();
        assert_eq!(sdp.origin_ipv4().as_deref(), Some("192.0.2.7"));
        let sdp = Sdp::parse(b"v=0\r\no=alice 1 2 IN IP6 ::1\r\n").unwrap();
        assert_eq!(sdp.origin_ipv4(), None);
    }

    #[test]
    fn remove_lines_keeps_order() {
        let mut lines = vec![
            Line::Original(b"a=one"),
            Line::Original(b"a=two"),
            Line::Original(b"a=three"),
        ];
        let removed = remove_lines(&mut lines, |line| line.is_attribute("two"));
        assert_eq!(removed, vec![Line::Original(b"a=two")]);
        assert_eq!(
            lines,
            vec![Line::Original(b"a=one"), Line::Original(b"a=three")]
        );
    }
}
