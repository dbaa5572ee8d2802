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
}
