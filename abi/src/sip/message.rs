//! The zero-copy message view and its typed accessors.

use super::cseq::CSeq;
use super::error::{ParseError, SyntaxError};
use super::header_name::{header_kind, kind, name_matches};
use super::method::Method;
use super::name_addr::NameAddr;
use super::span::Span;
use super::tokens::{parse_u32, split_commas, str_prefix, trim_lws};
use super::uri::Uri;
use super::via::Via;
use abi_stable::StableAbi;
use std::borrow::Cow;

/// One header line (a line holding a comma list is still one entry).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderEntry {
    /// Header name as written (trailing LWS before `:` excluded).
    pub name: Span,
    /// Value trimmed of leading/trailing LWS; may contain folded CRLF+WSP inside.
    pub value: Span,
    /// Well-known kind (see [`crate::sip::header_name::kind`]), 0 if unknown.
    pub kind: u16,
}

/// The start line, as spans into the buffer.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StartLine {
    /// True for a status line.
    pub is_response: bool,
    /// Request method (requests only).
    pub method: Span,
    /// Request-URI (requests only).
    pub uri: Span,
    /// SIP-Version.
    pub version: Span,
    /// Status code (responses only).
    pub status: u16,
    /// Reason phrase (responses only; may be empty).
    pub reason: Span,
}

/// A header as returned by [`Message::headers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// Name as written (UTF-8 prefix if the bytes are not UTF-8).
    pub name: &'a str,
    /// Value (UTF-8 prefix if the bytes are not UTF-8; see `raw_value`).
    pub value: &'a str,
    /// Value bytes exactly as in the buffer.
    pub raw_value: &'a [u8],
    /// Well-known kind, 0 if unknown.
    pub kind: u16,
    /// Index into [`Message::header_entries`].
    pub index: usize,
}

/// A parsed message: an index of spans into the original bytes.
#[derive(Clone, Debug)]
pub struct Message<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) start: StartLine,
    pub(crate) headers: Cow<'a, [HeaderEntry]>,
    pub(crate) body: Span,
    /// The start line and headers as text, when they are UTF-8 (checked once per view, so header
    /// values are handed out without validating each again).
    pub(crate) head: Option<&'a str>,
    /// Index of the first line of each well-known kind below [`INDEXED_KINDS`] (`u16::MAX`: none).
    pub(crate) first: [u16; INDEXED_KINDS],
}

/// Kinds `1..INDEXED_KINDS` (Via … Allow) get an O(1) first-line index.
pub(crate) const INDEXED_KINDS: usize = 16;

/// The first-line index of `headers`.
pub(crate) fn index_first(headers: &[HeaderEntry]) -> [u16; INDEXED_KINDS] {
    let mut first = [u16::MAX; INDEXED_KINDS];
    for (i, h) in headers.iter().enumerate().take(u16::MAX as usize) {
        let k = h.kind as usize;
        if k < INDEXED_KINDS && first[k] == u16::MAX {
            first[k] = i as u16;
        }
    }
    first
}

/// The start line and header section of `bytes` as text, if it is UTF-8.
pub(crate) fn head_text(bytes: &[u8], body: Span) -> Option<&str> {
    let end = (body.start as usize).min(bytes.len());
    std::str::from_utf8(&bytes[..end]).ok()
}

impl<'a> Message<'a> {
    /// Parses a message with datagram semantics: octets after the body declared
    /// by Content-Length are ignored; without Content-Length the body is the rest.
    /// Header values are not parsed here (see the typed accessors and [`Message::validate`]).
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, ParseError> {
        super::parser::parse(bytes)
    }

    /// Rebuilds a view from already-parsed parts (e.g. received across a plugin ABI).
    pub fn from_parts(
        bytes: &'a [u8],
        start: StartLine,
        headers: &'a [HeaderEntry],
        body: Span,
    ) -> Message<'a> {
        Message {
            bytes,
            start,
            head: head_text(bytes, body),
            first: index_first(headers),
            headers: Cow::Borrowed(headers),
            body,
        }
    }

    /// The whole buffer the spans refer to.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The start line spans.
    pub fn start_line(&self) -> &StartLine {
        &self.start
    }

    /// All header lines in order.
    pub fn header_entries(&self) -> &[HeaderEntry] {
        &self.headers
    }

    /// Span of the body.
    pub fn body_span(&self) -> Span {
        self.body
    }

    /// Body bytes.
    pub fn body(&self) -> &'a [u8] {
        self.body.get(self.bytes)
    }

    /// Bytes consumed from the buffer: from its start (including any leading
    /// CRLFs) to the end of the body.
    pub fn message_len(&self) -> usize {
        self.body.end as usize
    }

    /// True for requests.
    pub fn is_request(&self) -> bool {
        !self.start.is_response
    }

    fn text(&self, s: Span) -> &'a str {
        if let Some(t) = self
            .head
            .and_then(|h| h.get(s.start as usize..s.end as usize))
        {
            return t;
        }
        str_prefix(s.get(self.bytes))
    }

    /// The request method.
    pub fn method(&self) -> Option<Method<'a>> {
        self.is_request()
            .then(|| Method::from_token(self.text(self.start.method)))
    }

    /// The Request-URI text.
    pub fn request_uri_str(&self) -> Option<&'a str> {
        self.is_request().then(|| self.text(self.start.uri))
    }

    /// The parsed Request-URI.
    pub fn request_uri(&self) -> Option<Result<Uri<'a>, SyntaxError>> {
        self.request_uri_str()
            .map(|s| Uri::parse(s).map_err(|e| e.in_header("Request-URI")))
    }

    /// SIP-Version text.
    pub fn version(&self) -> &'a str {
        self.text(self.start.version)
    }

    /// Status code (responses).
    pub fn status(&self) -> Option<u16> {
        self.start.is_response.then_some(self.start.status)
    }

    /// Reason phrase bytes (responses; may be empty or non-ASCII UTF-8).
    pub fn reason(&self) -> Option<&'a [u8]> {
        self.start
            .is_response
            .then(|| self.start.reason.get(self.bytes))
    }

    /// Value text of an entry.
    pub fn value_of(&self, e: &HeaderEntry) -> &'a str {
        self.text(e.value)
    }

    /// All headers in order.
    pub fn headers(&self) -> impl Iterator<Item = Header<'a>> + '_ {
        self.headers.iter().enumerate().map(|(index, e)| Header {
            name: self.text(e.name),
            value: self.text(e.value),
            raw_value: e.value.get(self.bytes),
            kind: e.kind,
            index,
        })
    }

    /// First value of the header `name` (case-insensitive; compact forms and
    /// long forms find each other).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        let k = header_kind(name.as_bytes());
        self.headers
            .iter()
            .find(|e| name_matches(e.name.get(self.bytes), e.kind, name.as_bytes(), k))
            .map(|e| self.value_of(e))
    }

    /// Values of every line of kind `kind` (one item per line, lists not split).
    pub fn header_values(&self, kind: u16) -> impl Iterator<Item = &'a str> + '_ {
        self.headers
            .iter()
            .filter(move |e| e.kind == kind)
            .map(|e| self.value_of(e))
    }

    /// Number of lines of kind `kind`.
    pub fn count_kind(&self, kind: u16) -> usize {
        self.headers.iter().filter(|e| e.kind == kind).count()
    }

    /// First value of kind `kind`.
    pub fn first_value(&self, kind: u16) -> Option<&'a str> {
        if (kind as usize) < INDEXED_KINDS && kind != 0 {
            let i = self.first[kind as usize];
            if i != u16::MAX {
                return Some(self.value_of(&self.headers[i as usize]));
            }
            if self.headers.len() <= u16::MAX as usize {
                return None;
            }
        }
        self.headers
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| self.value_of(e))
    }

    /// Every comma-separated element across all lines of kind `kind`.
    pub fn list_values(&self, kind: u16) -> impl Iterator<Item = &'a str> + '_ {
        self.header_values(kind).flat_map(split_commas)
    }

    /// All Via values, comma lists split, parsed.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'a>, SyntaxError>> + '_ {
        self.list_values(kind::VIA).map(Via::parse)
    }

    /// The topmost Via value.
    pub fn top_via(&self) -> Option<Result<Via<'a>, SyntaxError>> {
        self.first_value(kind::VIA)
            .map(|v| Via::parse(split_commas(v).next().unwrap_or_default()))
    }

    fn name_addr(&self, k: u16, name: &'static str) -> Option<Result<NameAddr<'a>, SyntaxError>> {
        self.first_value(k)
            .map(|v| NameAddr::parse(v).map_err(|e| e.in_header(name)))
    }

    /// The From header.
    pub fn from(&self) -> Option<Result<NameAddr<'a>, SyntaxError>> {
        self.name_addr(kind::FROM, "From")
    }

    /// The To header.
    pub fn to(&self) -> Option<Result<NameAddr<'a>, SyntaxError>> {
        self.name_addr(kind::TO, "To")
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&'a str> {
        self.first_value(kind::CALL_ID)
    }

    /// The CSeq header.
    pub fn cseq(&self) -> Option<Result<CSeq<'a>, SyntaxError>> {
        self.first_value(kind::CSEQ).map(CSeq::parse)
    }

    /// Max-Forwards.
    pub fn max_forwards(&self) -> Option<Result<u32, SyntaxError>> {
        self.first_value(kind::MAX_FORWARDS)
            .map(|v| parse_u32(v).ok_or(SyntaxError::new("Max-Forwards", "not a 32-bit decimal")))
    }

    fn name_addrs(
        &self,
        k: u16,
        name: &'static str,
    ) -> impl Iterator<Item = Result<NameAddr<'a>, SyntaxError>> + '_ {
        self.list_values(k)
            .map(move |v| NameAddr::parse(v).map_err(|e| e.in_header(name)))
    }

    /// All Route values.
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, SyntaxError>> + '_ {
        self.name_addrs(kind::ROUTE, "Route")
    }

    /// All Record-Route values.
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, SyntaxError>> + '_ {
        self.name_addrs(kind::RECORD_ROUTE, "Record-Route")
    }

    /// All Contact values (a `*` yields a [`NameAddr`] with `wildcard == true`).
    pub fn contacts(&self) -> impl Iterator<Item = Result<NameAddr<'a>, SyntaxError>> + '_ {
        self.list_values(kind::CONTACT)
            .map(|v| NameAddr::parse_contact(v).map_err(|e| e.in_header("Contact")))
    }

    /// Content-Type value.
    pub fn content_type(&self) -> Option<&'a str> {
        self.first_value(kind::CONTENT_TYPE)
    }

    /// Content-Length.
    pub fn content_length(&self) -> Option<Result<u32, SyntaxError>> {
        self.first_value(kind::CONTENT_LENGTH)
            .map(|v| parse_u32(v).ok_or(SyntaxError::new("Content-Length", "not a 32-bit decimal")))
    }

    fn tags(&self, k: u16) -> impl Iterator<Item = &'a str> + '_ {
        self.list_values(k).filter(|t| !t.is_empty())
    }

    /// Option tags of all Require lines.
    pub fn require(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tags(kind::REQUIRE)
    }

    /// Option tags of all Supported lines.
    pub fn supported(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tags(kind::SUPPORTED)
    }

    /// Option tags of all Proxy-Require lines.
    pub fn proxy_require(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.tags(kind::PROXY_REQUIRE)
    }

    /// True if Content-Type's media type is `application/sdp` (case-insensitive).
    pub fn has_sdp_body(&self) -> bool {
        self.content_type().is_some_and(|ct| {
            let mt = trim_lws(ct.split(';').next().unwrap_or_default());
            mt.eq_ignore_ascii_case("application/sdp")
        })
    }

    /// The SDP body, when Content-Type is application/sdp.
    pub fn sdp(&self) -> Option<Result<sdp_types::Session, super::sdp::SdpError>> {
        self.has_sdp_body()
            .then(|| super::sdp::parse_sdp(self.body()))
    }
}
