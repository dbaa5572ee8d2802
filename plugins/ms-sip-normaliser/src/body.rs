//! Finding the SDP in a SIP message body: a plain `application/sdp` body, or one part of a
//! `multipart/alternative` / `multipart/mixed` body (RFC 2046 framing), as Lync 2013 sends
//! (an ICE draft-6 part marked `ms-proxy-2007fallback`, then an RFC 5245 ICE part).

use std::borrow::Cow;
use std::fmt;

use memchr::memchr;
use memchr::memmem::Finder;

/// How many multipart levels may nest (a multipart/mixed holding a multipart/alternative is 2).
pub const MAX_MULTIPART_DEPTH: usize = 3;

/// Why a body could not be searched for SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// The multipart framing is broken; the text names what is wrong.
    Malformed(String),
    /// Multipart bodies nest deeper than [`MAX_MULTIPART_DEPTH`].
    TooDeep,
    /// A multipart body without any application/sdp part.
    NoSdp,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Malformed(why) => write!(f, "malformed multipart body: {why}"),
            BodyError::TooDeep => write!(
                f,
                "multipart body nested deeper than {MAX_MULTIPART_DEPTH} levels"
            ),
            BodyError::NoSdp => write!(f, "multipart body has no application/sdp part"),
        }
    }
}

impl std::error::Error for BodyError {}

/// Where the SDP of a body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdpChoice<'a> {
    /// The body is already one application/sdp: forward as is.
    Single,
    /// Picked out of a multipart body: the SDP bytes, and how many other parts were dropped.
    Extracted {
        /// The chosen part's content (without the CRLF that belongs to the next delimiter).
        sdp: &'a [u8],
        /// How many other leaf parts (at any nesting level) were not chosen.
        dropped_parts: usize,
    },
    /// No SDP in this body (e.g. text/plain, or no body): leave it alone.
    NotSdp,
}

/// Finds the SDP in a body. `content_type` is the Content-Type header value (params included,
/// case-insensitive type, boundary quoted or not).
///
/// In multipart bodies the last application/sdp part whose Content-Disposition has no
/// `ms-proxy-2007fallback` parameter wins; if only fallback parts exist, the last of those.
pub fn pick_sdp<'a>(content_type: &str, body: &'a [u8]) -> Result<SdpChoice<'a>, BodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SdpChoice::NotSdp);
    }
    let header = HeaderValue::parse(content_type);
    if header.is("application/sdp") {
        return Ok(SdpChoice::Single);
    }
    if !header.is_multipart() {
        return Ok(SdpChoice::NotSdp);
    }
    let mut leaves = Vec::new();
    collect_leaves(&header, body, 1, &mut leaves)?;
    let chosen = leaves
        .iter()
        .rev()
        .find_map(|leaf| leaf.sdp.filter(|_| !leaf.fallback))
        .or_else(|| leaves.iter().rev().find_map(|leaf| leaf.sdp))
        .ok_or(BodyError::NoSdp)?;
    Ok(SdpChoice::Extracted {
        sdp: chosen,
        dropped_parts: leaves.len() - 1,
    })
}

/// A non-multipart part found while walking the body.
struct Leaf<'a> {
    /// The content, when the part is application/sdp.
    sdp: Option<&'a [u8]>,
    /// Content-Disposition carries `ms-proxy-2007fallback`.
    fallback: bool,
}

fn collect_leaves<'a>(
    header: &HeaderValue<'_>,
    body: &'a [u8],
    depth: usize,
    leaves: &mut Vec<Leaf<'a>>,
) -> Result<(), BodyError> {
    if depth > MAX_MULTIPART_DEPTH {
        return Err(BodyError::TooDeep);
    }
    let boundary = header.param("boundary").ok_or_else(|| {
        BodyError::Malformed(format!(
            "Content-Type {} has no boundary parameter",
            header.value.to_ascii_lowercase()
        ))
    })?;
    if boundary.is_empty() {
        return Err(BodyError::Malformed(
            "the boundary parameter is empty".to_owned(),
        ));
    }
    for (index, part) in split_parts(body, &boundary)?.into_iter().enumerate() {
        let part = Part::read(part, index + 1)?;
        let content_type = part
            .content_type
            .as_deref()
            .map_or_else(|| HeaderValue::parse("text/plain"), HeaderValue::parse);
        if content_type.is_multipart() {
            collect_leaves(&content_type, part.content, depth + 1, leaves)?;
            continue;
        }
        leaves.push(Leaf {
            sdp: content_type.is("application/sdp").then_some(part.content),
            fallback: part.fallback,
        });
    }
    Ok(())
}

/// Splits a multipart body into part contents (between delimiter lines; the line break
/// before a delimiter belongs to the delimiter). Preamble and epilogue are ignored.
fn split_parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, BodyError> {
    let mut dash_boundary = Vec::with_capacity(boundary.len() + 2);
    dash_boundary.extend_from_slice(b"--");
    dash_boundary.extend_from_slice(boundary.as_bytes());
    let finder = Finder::new(&dash_boundary);
    let mut parts = Vec::with_capacity(2);
    let mut part_start: Option<usize> = None;
    let mut search_from = 0;
    // Only lines that start with `--boundary` can be delimiters: jump from one to the next.
    while let Some(found) = finder.find(&body[search_from..]) {
        let line_start = search_from + found;
        if line_start > 0 && body[line_start - 1] != b'\n' {
            search_from = line_start + 1;
            continue;
        }
        let line_end =
            memchr(b'\n', &body[line_start..]).map_or(body.len(), |end| line_start + end);
        let next_line = (line_end + 1).min(body.len());
        search_from = next_line;
        let Some(closing) = delimiter(&body[line_start..line_end], boundary) else {
            continue;
        };
        if let Some(start) = part_start {
            let before = &body[..line_start];
            let end = if before.ends_with(b"\r\n") {
                line_start - 2
            } else if before.ends_with(b"\n") {
                line_start - 1
            } else {
                line_start
            };
            parts.push(&body[start..end.max(start)]);
        }
        if closing {
            if part_start.is_none() {
                return Err(BodyError::Malformed(format!(
                    "the closing --{boundary}-- line comes before any --{boundary} line"
                )));
            }
            return Ok(parts);
        }
        part_start = Some(next_line);
    }
    Err(BodyError::Malformed(match part_start {
        None => format!("no --{boundary} delimiter line"),
        Some(_) => format!("not terminated: no closing --{boundary}-- line"),
    }))
}

/// `Some(closing)` when `line` is `--boundary` or `--boundary--` (trailing whitespace allowed).
fn delimiter(line: &[u8], boundary: &str) -> Option<bool> {
    let rest = line
        .strip_prefix(b"--")?
        .strip_prefix(boundary.as_bytes())?;
    let (closing, rest) = match rest.strip_prefix(b"--") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    rest.iter()
        .all(|byte| matches!(byte, b' ' | b'\t' | b'\r'))
        .then_some(closing)
}

/// What the walk needs of one part: its Content-Type, whether a Content-Disposition carries
/// `ms-proxy-2007fallback`, and its content.
struct Part<'a> {
    /// The first Content-Type header's unfolded value.
    content_type: Option<Cow<'a, str>>,
    /// Some Content-Disposition carries `ms-proxy-2007fallback`.
    fallback: bool,
    /// Everything after the blank line that ends the headers.
    content: &'a [u8],
}

/// One header of a part being read: name and unfolded value (borrowed unless folded or not UTF-8).
type OpenHeader<'a> = (Cow<'a, str>, Cow<'a, str>);

impl<'a> Part<'a> {
    /// Reads one part's headers (unfolding continuation lines) up to the blank line.
    fn read(part: &'a [u8], number: usize) -> Result<Self, BodyError> {
        let mut read = Part {
            content_type: None,
            fallback: false,
            content: part,
        };
        let mut open: Option<OpenHeader<'a>> = None;
        let mut line_start = 0;
        while line_start < part.len() {
            let line_end =
                memchr(b'\n', &part[line_start..]).map_or(part.len(), |end| line_start + end);
            let raw = &part[line_start..line_end];
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let next_line = (line_end + 1).min(part.len());
            if line.is_empty() {
                if let Some(header) = open.take() {
                    read.take_header(header);
                }
                read.content = &part[next_line..];
                return Ok(read);
            }
            let text = String::from_utf8_lossy(line);
            if text.starts_with([' ', '\t']) {
                match open.as_mut() {
                    Some((_, value)) => {
                        let value = value.to_mut();
                        value.push(' ');
                        value.push_str(text.trim());
                    }
                    None => {
                        return Err(BodyError::Malformed(format!(
                            "part {number} starts with a continuation line"
                        )))
                    }
                }
            } else {
                let header = split_header(text).ok_or_else(|| {
                    BodyError::Malformed(format!("part {number} has a header line without a colon"))
                })?;
                if let Some(done) = open.replace(header) {
                    read.take_header(done);
                }
            }
            line_start = next_line;
        }
        if part.is_empty() {
            return Ok(read);
        }
        Err(BodyError::Malformed(format!(
            "part {number} has no blank line between its headers and its content"
        )))
    }

    /// Notes a complete (unfolded) header.
    fn take_header(&mut self, (name, value): OpenHeader<'a>) {
        if name.eq_ignore_ascii_case("Content-Type") {
            if self.content_type.is_none() {
                self.content_type = Some(value);
            }
        } else if name.eq_ignore_ascii_case("Content-Disposition") && !self.fallback {
            self.fallback = HeaderValue::parse(&value).has_param("ms-proxy-2007fallback");
        }
    }
}

/// `name: value` split at the first colon, both trimmed; `None` without a colon.
fn split_header(text: Cow<'_, str>) -> Option<OpenHeader<'_>> {
    match text {
        Cow::Borrowed(text) => {
            let (name, value) = text.split_once(':')?;
            Some((Cow::Borrowed(name.trim()), Cow::Borrowed(value.trim())))
        }
        Cow::Owned(text) => {
            let (name, value) = text.split_once(':')?;
            Some((
                Cow::Owned(name.trim().to_owned()),
                Cow::Owned(value.trim().to_owned()),
            ))
        }
    }
}

/// A MIME header value: `main-value; name=value; flag; name="quoted; value"`, read in place.
struct HeaderValue<'t> {
    /// The value before the first `;`, trimmed, as written (compared case-insensitively).
    value: &'t str,
    /// Everything after the first `;` outside quotes: the parameters.
    params: Option<&'t str>,
}

impl<'t> HeaderValue<'t> {
    fn parse(text: &'t str) -> Self {
        let (value, params) = next_piece(text);
        Self {
            value: value.trim(),
            params,
        }
    }

    /// Whether the value is `value` (a lower-case type, compared case-insensitively).
    fn is(&self, value: &str) -> bool {
        self.value.eq_ignore_ascii_case(value)
    }

    fn is_multipart(&self) -> bool {
        self.value
            .as_bytes()
            .get(..b"multipart/".len())
            .is_some_and(|start| start.eq_ignore_ascii_case(b"multipart/"))
    }

    /// The raw (still quoted) value of the first parameter named `name` (lower case,
    /// compared case-insensitively); `""` for a flag.
    fn raw_param(&self, name: &str) -> Option<&'t str> {
        let mut rest = self.params;
        while let Some(text) = rest {
            let (piece, after) = next_piece(text);
            rest = after;
            if piece.trim().is_empty() {
                continue;
            }
            match piece.split_once('=') {
                Some((known, value)) if known.trim().eq_ignore_ascii_case(name) => {
                    return Some(value.trim())
                }
                Some(_) => {}
                None if piece.trim().eq_ignore_ascii_case(name) => return Some(""),
                None => {}
            }
        }
        None
    }

    /// The unquoted value of the first parameter named `name` (`""` for a flag).
    fn param(&self, name: &str) -> Option<Cow<'t, str>> {
        self.raw_param(name).map(unquote)
    }

    fn has_param(&self, name: &str) -> bool {
        self.raw_param(name).is_some()
    }
}

/// Splits `text` at its first `;` that is not inside a quoted string: the piece before it,
/// and the text after it (`None` when there is no such `;`).
fn next_piece(text: &str) -> (&str, Option<&str>) {
    let (mut quoted, mut escaped) = (false, false);
    for (index, byte) in text.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b';' if !quoted => return (&text[..index], Some(&text[index + 1..])),
            _ => {}
        }
    }
    (text, None)
}

/// Removes surrounding quotes and `\` escapes from a quoted string; other text is returned as is.
fn unquote(text: &str) -> Cow<'_, str> {
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return Cow::Borrowed(text);
    };
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut escaped = false;
    for character in inner.chars() {
        if character == '\\' && !escaped {
            escaped = true;
        } else {
            out.push(character);
            escaped = false;
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRAFT6_SDP: &str = "v=0\r\no=- 0 0 IN IP4 192.168.1.20\r\ns=session\r\nc=IN IP4 192.168.1.20\r\n\
b=CT:99980\r\nt=0 0\r\nm=audio 19852 RTP/AVP 0 101\r\n\
a=candidate:qkEm8nW/SDdIB9E+Omtw3ogcq2n9fDOs 1 0PzxFlyBa4D9+BFDsOQsQA UDP 0.830 192.168.1.20 19852\r\n\
a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

    const RFC5245_SDP: &str = "v=0\r\no=- 0 0 IN IP4 192.168.1.20\r\ns=session\r\nc=IN IP4 192.168.1.20\r\n\
b=CT:99980\r\nt=0 0\r\nm=audio 19852 RTP/AVP 0 101\r\na=ice-ufrag:bTWd\r\na=ice-pwd:mOLsLYXuPhrT3WZGMY3hmMHq\r\n\
a=candidate:1 1 UDP 2130706431 192.168.1.20 19852 typ host \r\n\
a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

    const BOUNDARY: &str = "----=_NextPart_000_0012_01D0A1B2.C3D4E5F6";

    fn lync_part(sdp: &str, disposition: &str, id: u32) -> String {
        format!(
            "Content-Type: application/sdp\r\nContent-Transfer-Encoding: 7bit\r\n\
Content-ID: <{id}a2c5d1e@contoso.com>\r\nContent-Disposition: {disposition}\r\n\r\n{sdp}"
        )
    }

    /// A multipart body; `parts` are complete parts (headers, blank line, content).
    fn multipart(boundary: &str, parts: &[String]) -> String {
        let mut body = String::from("This is a multi-part message in MIME format.\r\n");
        for part in parts {
            body.push_str(&format!("--{boundary}\r\n{part}\r\n"));
        }
        body.push_str(&format!("--{boundary}--\r\nepilogue\r\n"));
        body
    }

    fn lync_2013_body() -> String {
        multipart(
            BOUNDARY,
            &[
                lync_part(
                    DRAFT6_SDP,
                    "session; handling=optional; ms-proxy-2007fallback",
                    1,
                ),
                lync_part(RFC5245_SDP, "session; handling=optional", 2),
            ],
        )
    }

    fn alternative_type() -> String {
        format!("multipart/alternative;boundary=\"{BOUNDARY}\"")
    }

    #[test]
    fn lync_2013_alternative_yields_the_rfc5245_part_exactly() {
        let body = lync_2013_body();
        assert_eq!(
            pick_sdp(&alternative_type(), body.as_bytes()),
            Ok(SdpChoice::Extracted {
                sdp: RFC5245_SDP.as_bytes(),
                dropped_parts: 1
            })
        );
    }

    #[test]
    fn non_fallback_part_wins_even_when_it_comes_first() {
        let body = multipart(
            "b1",
            &[
                lync_part(RFC5245_SDP, "session; handling=optional", 2),
                lync_part(
                    DRAFT6_SDP,
                    "session; ms-proxy-2007fallback; handling=optional",
                    1,
                ),
            ],
        );
        let choice = pick_sdp("Multipart/Alternative; boundary=b1", body.as_bytes()).unwrap();
        assert_eq!(
            choice,
            SdpChoice::Extracted {
                sdp: RFC5245_SDP.as_bytes(),
                dropped_parts: 1
            }
        );
    }

    #[test]
    fn only_fallback_parts_yield_the_last_one() {
        let second = DRAFT6_SDP.replace("19852", "20000");
        let body = multipart(
            "b1",
            &[
                lync_part(DRAFT6_SDP, "session; ms-proxy-2007fallback", 1),
                lync_part(&second, "session; ms-proxy-2007fallback", 2),
            ],
        );
        let choice = pick_sdp("multipart/alternative; boundary=b1", body.as_bytes()).unwrap();
        assert_eq!(
            choice,
            SdpChoice::Extracted {
                sdp: second.as_bytes(),
                dropped_parts: 1
            }
        );
    }

    #[test]
    fn mixed_wrapping_alternative_is_searched() {
        let inner = format!(
            "Content-Type: {}\r\n\r\n{}",
            alternative_type(),
            lync_2013_body()
        );
        let text = "Content-Type: text/plain\r\n\r\nhello".to_owned();
        let body = multipart("outer-1", &[text, inner]);
        assert_eq!(
            pick_sdp("multipart/mixed; boundary=\"outer-1\"", body.as_bytes()),
            Ok(SdpChoice::Extracted {
                sdp: RFC5245_SDP.as_bytes(),
                dropped_parts: 2
            })
        );
    }

    fn nested(levels: usize) -> (String, String) {
        let mut content_type = "multipart/alternative; boundary=level1".to_owned();
        let mut body = multipart("level1", &[lync_part(RFC5245_SDP, "session", 1)]);
        for level in 2..=levels {
            let boundary = format!("level{level}");
            let part = format!("Content-Type: {content_type}\r\n\r\n{body}");
            body = multipart(&boundary, &[part]);
            content_type = format!("multipart/mixed; boundary={boundary}");
        }
        (content_type, body)
    }

    #[test]
    fn three_levels_are_searched_and_four_are_too_deep() {
        let (content_type, body) = nested(MAX_MULTIPART_DEPTH);
        assert_eq!(
            pick_sdp(&content_type, body.as_bytes()),
            Ok(SdpChoice::Extracted {
                sdp: RFC5245_SDP.as_bytes(),
                dropped_parts: 0
            })
        );
        let (content_type, body) = nested(MAX_MULTIPART_DEPTH + 1);
        assert_eq!(
            pick_sdp(&content_type, body.as_bytes()),
            Err(BodyError::TooDeep)
        );
    }

    #[test]
    fn single_sdp_and_non_sdp_bodies() {
        assert_eq!(
            pick_sdp("application/SDP", RFC5245_SDP.as_bytes()),
            Ok(SdpChoice::Single)
        );
        assert_eq!(pick_sdp("text/plain", b"hello"), Ok(SdpChoice::NotSdp));
        assert_eq!(pick_sdp("application/sdp", b""), Ok(SdpChoice::NotSdp));
        assert_eq!(pick_sdp("", b"\r\n"), Ok(SdpChoice::NotSdp));
    }

    #[test]
    fn multipart_without_sdp_is_no_sdp() {
        let body = multipart("b1", &["Content-Type: text/plain\r\n\r\nhello".to_owned()]);
        assert_eq!(
            pick_sdp("multipart/mixed; boundary=b1", body.as_bytes()),
            Err(BodyError::NoSdp)
        );
    }

    #[test]
    fn broken_framing_is_malformed_with_a_reason() {
        let body = lync_2013_body();
        assert!(matches!(
            pick_sdp("multipart/alternative", body.as_bytes()),
            Err(BodyError::Malformed(text)) if text.contains("no boundary parameter")
        ));
        let unterminated = body.replace(&format!("--{BOUNDARY}--"), "");
        assert!(matches!(
            pick_sdp(&alternative_type(), unterminated.as_bytes()),
            Err(BodyError::Malformed(text)) if text.contains("not terminated")
        ));
        assert!(matches!(
            pick_sdp("multipart/alternative; boundary=other", body.as_bytes()),
            Err(BodyError::Malformed(text)) if text.contains("no --other delimiter")
        ));
        let headerless = multipart("b1", &["Content-Type application/sdp".to_owned()]);
        assert!(matches!(
            pick_sdp("multipart/alternative; boundary=b1", headerless.as_bytes()),
            Err(BodyError::Malformed(text)) if text.contains("part 1")
        ));
    }

    #[test]
    fn lf_only_framing_and_longer_lookalike_boundaries() {
        let body =
            "--b1x\nnot a delimiter\n--b1\nContent-Type: application/sdp\n\nv=0\n--b1x\n--b1--\n";
        assert_eq!(
            pick_sdp("multipart/alternative; boundary=b1", body.as_bytes()),
            Ok(SdpChoice::Extracted {
                sdp: b"v=0\n--b1x",
                dropped_parts: 0
            })
        );
    }

    #[test]
    fn quoted_boundary_with_semicolon_and_messages_are_one_line() {
        let body = multipart("a;b c", &[lync_part(RFC5245_SDP, "session", 1)]);
        assert!(matches!(
            pick_sdp(
                "multipart/alternative; boundary=\"a;b c\"; x=1",
                body.as_bytes()
            ),
            Ok(SdpChoice::Extracted { .. })
        ));
        for error in [
            BodyError::Malformed("no --b1 delimiter line".to_owned()),
            BodyError::TooDeep,
            BodyError::NoSdp,
        ] {
            let text = error.to_string();
            assert!(!text.contains('\n'));
            assert!(text.starts_with("malformed") || text.starts_with("multipart"));
        }
    }
}
