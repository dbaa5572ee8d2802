//! Error types: whole-message parse errors and per-header syntax errors.

use std::fmt;

/// A message-level error: the message cannot be processed.
///
/// `status` is the response a server should send (`Some(400)`, `Some(505)`, ...);
/// `None` means the message must be dropped silently (e.g. an unparseable response).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Status code to answer with, or `None` to drop silently.
    pub status: Option<u16>,
    /// Human-readable one-line reason (usable as a reason phrase).
    pub reason: String,
    /// Byte offset in the buffer where the problem was detected.
    pub offset: usize,
}

impl ParseError {
    /// Creates a parse error.
    pub fn new(status: Option<u16>, reason: impl Into<String>, offset: usize) -> ParseError {
        ParseError {
            status,
            reason: reason.into(),
            offset,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "{s} {} (at byte {})", self.reason, self.offset),
            None => write!(f, "drop: {} (at byte {})", self.reason, self.offset),
        }
    }
}

impl std::error::Error for ParseError {}

/// A syntax error found while parsing one header value (or the Request-URI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// The header (or element, e.g. `Request-URI`) that failed to parse.
    pub header: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl SyntaxError {
    /// Creates a syntax error.
    pub const fn new(header: &'static str, problem: &'static str) -> SyntaxError {
        SyntaxError { header, problem }
    }

    /// Re-labels the error with the header it was found in.
    pub fn in_header(self, header: &'static str) -> SyntaxError {
        SyntaxError { header, ..self }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.header, self.problem)
    }
}

impl std::error::Error for SyntaxError {}
