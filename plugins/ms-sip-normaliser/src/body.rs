//! Finding the SDP in a SIP message body: a plain `application/sdp` body, or one part of a
//! `multipart/alternative` / `multipart/mixed` body (RFC 2046 framing), as Lync 2013 sends
//! (an ICE draft-6 part marked `ms-proxy-2007fallback`, then an RFC 5245 ICE part).

use std::fmt;

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
    header: &HeaderValue,
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
            header.value
        ))
    })?;
    if boundary.is_empty() {
        return Err(BodyError::Malformed(
            "the boundary parameter is empty".to_owned(),
        ));
    }
    for (index, part) in split_parts(body, boundary)?.into_iter().enumerate() {
        let (headers, content) = split_part(part, index + 1)?;
        let content_type = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("Content-Type"))
            .map_or_else(
                || HeaderValue::parse("text/plain"),
                |(_, v)| HeaderValue::parse(v),
            );
        if content_type.is_multipart() {
            collect_leaves(&content_type, content, depth + 1, leaves)?;
            continue;
        }
        let fallback = headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Content-Disposition"))
            .any(|(_, value)| HeaderValue::parse(value).has_param("ms-proxy-2007fallback"));
        leaves.push(Leaf {
            sdp: content_type.is("application/sdp").then_some(content),
            fallback,
        });
    }
    Ok(())
}

/// Splits a multipart body into part contents (between delimiter lines; the line break
/// before a delimiter belongs to the delimiter). Preamble and epilogue are ignored.
fn split_parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, BodyError> {
    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut line_start = 0;
    while line_start < body.len() {
        let line_end = body[line_start..]
            .iter()
            .position(|&byte| byte == b'\n')
            .map_or(body.len(), |offset| line_start + offset);
        let next_line = (line_end + 1).min(body.len());
        let line = &body[line_start..line_end];
        if let Some(closing) = delimiter(line, boundary) {
            if let Some(start) = part_start {
                let end = if body[..line_start].ends_with(b"\r\n") {
                    line_start - 2
                } else if body[..line_start].ends_with(b"\n") {
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
        line_start = next_line;
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

/// A part's headers: name as written, unfolded value.
type Headers = Vec<(String, String)>;

/// Splits one part into its headers (unfolded, name/value) and its content.
fn split_part(part: &[u8], number: usize) -> Result<(Headers, &[u8]), BodyError> {
    let mut headers: Headers = Vec::new();
    let mut line_start = 0;
    while line_start < part.len() {
        let line_end = part[line_start..]
            .iter()
            .position(|&byte| byte == b'\n')
            .map_or(part.len(), |offset| line_start + offset);
        let raw = &part[line_start..line_end];
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let next_line = (line_end + 1).min(part.len());
        if line.is_empty() {
            return Ok((headers, &part[next_line..]));
        }
        let text = String::from_utf8_lossy(line);
        if text.starts_with([' ', '\t']) {
            match headers.last_mut() {
                Some((_, value)) => {
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
            let (name, value) = text.split_once(':').ok_or_else(|| {
                BodyError::Malformed(format!("part {number} has a header line without a colon"))
            })?;
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        line_start = next_line;
    }
    if part.is_empty() {
        return Ok((headers, part));
    }
    Err(BodyError::Malformed(format!(
        "part {number} has no blank line between its headers and its content"
    )))
}

/// A MIME header value: `main-value; name=value; flag; name="quoted; value"`.
struct HeaderValue {
    /// The value before the first `;`, lower case (e.g. `multipart/alternative`).
    value: String,
    /// Parameters: lower-case name, unquoted value (`""` for a flag).
    params: Vec<(String, String)>,
}

impl HeaderValue {
    fn parse(text: &str) -> Self {
        let mut pieces = split_outside_quotes(text).into_iter();
        let value = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let params = pieces
            .filter(|piece| !piece.trim().is_empty())
            .map(|piece| match piece.split_once('=') {
                Some((name, value)) => (name.trim().to_ascii_lowercase(), unquote(value.trim())),
                None => (piece.trim().to_ascii_lowercase(), String::new()),
            })
            .collect();
        Self { value, params }
    }

    fn is(&self, value: &str) -> bool {
        self.value == value
    }

    fn is_multipart(&self) -> bool {
        self.value.starts_with("multipart/")
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
    }

    fn has_param(&self, name: &str) -> bool {
        self.param(name).is_some()
    }
}

/// Splits on `;` that are not inside a quoted string.
fn split_outside_quotes(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (index, character) in text.char_indices() {
        match character {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                pieces.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// Removes surrounding quotes and `\` escapes from a quoted string; other text is returned as is.
fn unquote(text: &str) -> String {
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return text.to_owned();
    };
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
    out
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
