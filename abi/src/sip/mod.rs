//! TEMPORARY stand-in for the SIP message core (being written in parallel); same public shapes.
use abi_stable::std_types::{RString, RVec};
use abi_stable::StableAbi;
use std::borrow::Cow;

#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}
impl Span {
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start as usize..self.end as usize]
    }
}

#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderEntry {
    pub name: Span,
    pub value: Span,
    pub kind: u16,
}

#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StartLine {
    pub is_response: bool,
    pub method: Span,
    pub uri: Span,
    pub version: Span,
    pub status: u16,
    pub reason: Span,
}

#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderPosition {
    First = 0,
    Last = 1,
}

#[repr(C, u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum Edit {
    SetRequestUri(RString),
    AddHeader { name: RString, value: RString, position: HeaderPosition },
    RemoveHeader { name: RString },
    RemoveHeaderAt { index: u32 },
    ReplaceHeader { name: RString, value: RString },
    ReplaceHeaderAt { index: u32, value: RString },
    ReplaceBody { content_type: RString, body: RVec<u8> },
    PushVia { value: RString },
    PopVia,
}

#[derive(Debug, Clone)]
pub struct ParseError {
    pub status: Option<u16>,
    pub reason: String,
    pub offset: usize,
}
impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

pub struct Message<'a> {
    bytes: &'a [u8],
    start: StartLine,
    headers: Cow<'a, [HeaderEntry]>,
    body: Span,
}

fn span(a: usize, b: usize) -> Span {
    Span { start: a as u32, end: b as u32 }
}

impl<'a> Message<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let err = |r: &str| ParseError { status: Some(400), reason: r.into(), offset: 0 };
        let text = std::str::from_utf8(bytes).map_err(|_| err("not utf8"))?;
        let hend = text.find("\r\n\r\n").ok_or_else(|| err("no end of headers"))?;
        let mut lines = text[..hend].split("\r\n");
        let first = lines.next().unwrap();
        let parts: Vec<&str> = first.splitn(3, ' ').collect();
        if parts.len() != 3 {
            return Err(err("bad start line"));
        }
        let mut start = StartLine::default();
        if parts[0].starts_with("SIP/") {
            start.is_response = true;
            start.version = span(0, parts[0].len());
            start.status = parts[1].parse().map_err(|_| err("bad status"))?;
            let rs = parts[0].len() + parts[1].len() + 2;
            start.reason = span(rs, first.len());
        } else {
            start.method = span(0, parts[0].len());
            let us = parts[0].len() + 1;
            start.uri = span(us, us + parts[1].len());
            start.version = span(us + parts[1].len() + 1, first.len());
        }
        let mut headers = Vec::new();
        let mut off = first.len() + 2;
        for line in lines {
            let colon = line.find(':').ok_or_else(|| err("bad header"))?;
            let name = line[..colon].trim();
            let vs = colon + 1 + (line[colon + 1..].len() - line[colon + 1..].trim_start().len());
            headers.push(HeaderEntry {
                name: span(off, off + name.len()),
                value: span(off + vs, off + line.len()),
                kind: 0,
            });
            off += line.len() + 2;
        }
        Ok(Message { bytes, start, headers: Cow::Owned(headers), body: span(hend + 4, bytes.len()) })
    }
    pub fn from_parts(bytes: &'a [u8], start: StartLine, headers: &'a [HeaderEntry], body: Span) -> Message<'a> {
        Message { bytes, start, headers: Cow::Borrowed(headers), body }
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn start_line(&self) -> &StartLine {
        &self.start
    }
    pub fn header_entries(&self) -> &[HeaderEntry] {
        &self.headers
    }
    pub fn body_span(&self) -> Span {
        self.body
    }
    pub fn body(&self) -> &'a [u8] {
        self.body.get(self.bytes)
    }
    pub fn is_request(&self) -> bool {
        !self.start.is_response
    }
    pub fn method_str(&self) -> Option<&'a str> {
        if self.start.is_response { None } else { std::str::from_utf8(self.start.method.get(self.bytes)).ok() }
    }
    pub fn request_uri_str(&self) -> Option<&'a str> {
        if self.start.is_response { None } else { std::str::from_utf8(self.start.uri.get(self.bytes)).ok() }
    }
    pub fn status(&self) -> Option<u16> {
        self.start.is_response.then_some(self.start.status)
    }
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|h| h.name.get(self.bytes).eq_ignore_ascii_case(name.as_bytes()))
            .and_then(|h| std::str::from_utf8(h.value.get(self.bytes)).ok())
    }
    pub fn call_id(&self) -> Option<&'a str> {
        self.header("Call-ID")
    }
}

pub fn serialize(msg: &Message<'_>, edits: &[Edit]) -> Vec<u8> {
    let mut out = Vec::new();
    let b = msg.bytes();
    let mut uri: Option<&str> = None;
    let mut adds = Vec::new();
    let mut body: Option<(&str, &[u8])> = None;
    for e in edits {
        match e {
            Edit::SetRequestUri(u) => uri = Some(u.as_str()),
            Edit::AddHeader { name, value, .. } => adds.push((name.as_str(), value.as_str())),
            Edit::ReplaceBody { content_type, body: bd } => body = Some((content_type.as_str(), bd.as_slice())),
            _ => {}
        }
    }
    let s = msg.start_line();
    if let (Some(u), false) = (uri, s.is_response) {
        out.extend_from_slice(s.method.get(b));
        out.push(b' ');
        out.extend_from_slice(u.as_bytes());
        out.push(b' ');
        out.extend_from_slice(s.version.get(b));
    } else {
        let end = msg.header_entries().first().map(|h| h.name.start as usize - 2).unwrap_or(0);
        out.extend_from_slice(&b[..end]);
    }
    out.extend_from_slice(b"\r\n");
    for h in msg.header_entries() {
        if h.name.get(b).eq_ignore_ascii_case(b"content-length") { continue; }
        out.extend_from_slice(&b[h.name.start as usize..h.value.end as usize]);
        out.extend_from_slice(b"\r\n");
    }
    for (n, v) in adds {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    let bd = body.map(|b| b.1).unwrap_or(msg.body());
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", bd.len()).as_bytes());
    out.extend_from_slice(bd);
    out
}

// ---- stand-ins for the typed API ----
pub enum Method<'a> {
    Extension(&'a str),
}
impl<'a> Method<'a> {
    pub fn as_str(&self) -> &'a str {
        match self {
            Method::Extension(s) => s,
        }
    }
}
pub struct Via<'a>(&'a str);
impl<'a> Via<'a> {
    pub fn branch(&self) -> Option<&'a str> {
        self.0.split(';').find_map(|p| p.trim().strip_prefix("branch="))
    }
}
impl<'a> Message<'a> {
    pub fn method(&self) -> Option<Method<'a>> {
        self.method_str().map(Method::Extension)
    }
    pub fn reason(&self) -> Option<&'a [u8]> {
        self.start.is_response.then(|| self.start.reason.get(self.bytes))
    }
    pub fn top_via(&self) -> Option<Result<Via<'a>, ParseError>> {
        self.header("Via").map(|v| Ok(Via(v)))
    }
    pub fn content_type(&self) -> Option<&'a str> {
        self.header("Content-Type")
    }
}
pub enum Disposition {
    Forward,
    Reject { status: u16, reason: String, unsupported: Vec<String> },
    Drop { why: String },
}
pub fn proxy_disposition(bytes: &[u8]) -> Disposition {
    match Message::parse(bytes) {
        Ok(_) => Disposition::Forward,
        Err(e) => Disposition::Reject { status: 400, reason: e.reason, unsupported: vec![] },
    }
}
