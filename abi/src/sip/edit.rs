//! Edits a plugin can request on a message; applied by [`crate::sip::serialize`].

use abi_stable::std_types::{RString, RVec};
use abi_stable::StableAbi;

/// Where [`Edit::AddHeader`] inserts.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderPosition {
    /// Right after the start line (after any pushed Vias).
    First = 0,
    /// After the last header.
    Last = 1,
}

/// One edit. Later edits win over earlier ones for the same target.
/// Content-Length is always recomputed by the serialiser; edits naming it are ignored.
#[repr(C, u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum Edit {
    /// Replace the Request-URI (ignored for responses).
    SetRequestUri(RString),
    /// Add a header line.
    AddHeader {
        /// Header name as it will be written.
        name: RString,
        /// Header value.
        value: RString,
        /// Where to add it.
        position: HeaderPosition,
    },
    /// Remove every line of that header (case-insensitive, compact-aware),
    /// including lines added by earlier edits.
    RemoveHeader {
        /// Header name.
        name: RString,
    },
    /// Remove the `index`-th entry of the original `header_entries()`.
    RemoveHeaderAt {
        /// Index into the original entries.
        index: u32,
    },
    /// Replace the first line of that header (keeping its name as written),
    /// remove the other lines; append at Last if absent.
    ReplaceHeader {
        /// Header name.
        name: RString,
        /// New value.
        value: RString,
    },
    /// Replace the value of the `index`-th original entry.
    ReplaceHeaderAt {
        /// Index into the original entries.
        index: u32,
        /// New value.
        value: RString,
    },
    /// Replace the body; a non-empty `content_type` replaces Content-Type.
    /// Empty `content_type` and empty `body` remove the body and Content-Type.
    ReplaceBody {
        /// New Content-Type (empty = keep the existing one, or remove it if the body is empty).
        content_type: RString,
        /// New body.
        body: RVec<u8>,
    },
    /// Add a new topmost Via line.
    PushVia {
        /// Via value.
        value: RString,
    },
    /// Remove the topmost Via value (only the first value of a comma list).
    PopVia,
    /// Replace a response's status code and reason phrase (ignored for requests), e.g. to translate
    /// `430 Flow Failed` into `481` for a peer that does not know it.
    SetStatus {
        /// New status code, 100–699.
        code: u16,
        /// New reason phrase.
        reason: RString,
    },
}

pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(crate::sip::tokens::is_token_byte)
}

pub(crate) fn one_line(s: &str) -> bool {
    !s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

impl Edit {
    /// Whether the edit writes what it says and nothing more: a header name that is a token, values
    /// and a reason phrase without line breaks (which would smuggle in extra header lines), a
    /// Request-URI without whitespace, a status code in 100–699. The host refuses a plugin's edits
    /// when one fails this.
    pub fn check(&self) -> Result<(), &'static str> {
        let ok = match self {
            Edit::SetRequestUri(u) => !u.is_empty() && !u.bytes().any(|b| b <= b' ' || b == 0x7f),
            Edit::AddHeader { name, value, .. } | Edit::ReplaceHeader { name, value } => {
                is_token(name) && one_line(value)
            }
            Edit::RemoveHeader { name } => is_token(name),
            Edit::ReplaceHeaderAt { value, .. } | Edit::PushVia { value } => one_line(value),
            Edit::SetStatus { code, reason } => (100..=699).contains(code) && one_line(reason),
            Edit::ReplaceBody { content_type, .. } => {
                content_type.is_empty() || (one_line(content_type) && content_type.contains('/'))
            }
            Edit::RemoveHeaderAt { .. } | Edit::PopVia => true,
        };
        if ok {
            Ok(())
        } else {
            Err(match self {
                Edit::SetRequestUri(_) => {
                    "a Request-URI must be non-empty without whitespace or control characters"
                }
                Edit::SetStatus { .. } => "a status code must be 100-699 and the reason one line",
                Edit::ReplaceBody { .. } => {
                    "a body's Content-Type must be one line of type/subtype"
                }
                _ => "a header name must be a token and a value must not contain CR, LF or NUL",
            })
        }
    }
}

#[cfg(test)]
mod check_tests {
    use super::*;

    #[test]
    fn line_breaks_and_bad_names_are_refused() {
        let add = |n: &str, v: &str| Edit::AddHeader {
            name: n.into(),
            value: v.into(),
            position: HeaderPosition::Last,
        };
        assert!(add("X-Ok", "fine value").check().is_ok());
        assert!(add("X-Ok", "a\r\nVia: SIP/2.0/UDP evil").check().is_err());
        assert!(add("X Bad", "v").check().is_err());
        assert!(add("", "v").check().is_err());
        assert!(Edit::SetRequestUri("sip:a@b c".into()).check().is_err());
        assert!(Edit::SetRequestUri("sip:a@b".into()).check().is_ok());
        assert!(Edit::SetStatus {
            code: 481,
            reason: "Call/Transaction Does Not Exist".into()
        }
        .check()
        .is_ok());
        assert!(Edit::SetStatus {
            code: 700,
            reason: "x".into()
        }
        .check()
        .is_err());
        assert!(Edit::PushVia {
            value: "SIP/2.0/UDP a\nb".into()
        }
        .check()
        .is_err());
    }
}
