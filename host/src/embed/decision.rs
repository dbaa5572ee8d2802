//! The decision handed back to the embedding proxy: edits to apply to the message, then what to do with it.

use sip_interop_abi::sdk::{Reply, Target};

/// A replacement body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    /// Its Content-Type (empty when the body was removed).
    pub content_type: String,
    /// The bytes (empty: the body and its Content-Type are removed).
    pub bytes: Vec<u8>,
}

/// Edits, expressed as the header operations every proxy has: remove all lines of a header, append a
/// line, set the Request-URI, set the body. A header whose lines changed in any way is removed and its
/// new lines appended (so relative order among lines of one header is kept; Content-Length is the
/// proxy's to recompute and never appears here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageEdits {
    /// The new Request-URI (requests only; `None`: unchanged).
    pub request_uri: Option<String>,
    /// Header names whose every line is to be removed (apply before `add_headers`).
    pub remove_headers: Vec<String>,
    /// Header lines to append, in order, as (name, value).
    pub add_headers: Vec<(String, String)>,
    /// The new body (`None`: unchanged).
    pub body: Option<Body>,
}

impl MessageEdits {
    /// No edit at all.
    pub fn is_empty(&self) -> bool {
        self.request_uri.is_none()
            && self.remove_headers.is_empty()
            && self.add_headers.is_empty()
            && self.body.is_none()
    }
}

/// What the proxy does with a request after applying the edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// No plugin decided: the proxy routes it as it would without us (by the Request-URI, or its own
    /// logic).
    Relay,
    /// Forward to these targets: more than one is a fork. Each target may start after a delay and
    /// carries its fork group and answer-too-soon guard; `next_hop` (when set) is the destination
    /// (`$du` in Kamailio), `uri` the branch's Request-URI.
    Forward(Vec<Target>),
    /// Answer it (statelessly or through the proxy's transaction layer).
    Reply(Reply),
    /// Discard it silently.
    Drop,
}

impl Action {
    /// The action's name as the Lua module and logs spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Relay => "relay",
            Action::Forward(_) => "forward",
            Action::Reply(_) => "reply",
            Action::Drop => "drop",
        }
    }
}

/// The decision on a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Edits to apply first (even before a reply: they are empty then unless a plugin edited first).
    pub edits: MessageEdits,
    /// Then this.
    pub action: Action,
    /// The chain entry that decided (`None`: every plugin passed, or the host itself decided).
    pub decided_by: Option<String>,
    /// Why the host itself decided (a malformed request, a host that could not start); `None` when the
    /// chain decided.
    pub host_reason: Option<String>,
    /// The transaction's plugin facts (scratchpad), opaque: store it with the transaction and hand it
    /// back with each response so the response hooks see what the request hooks recorded. Empty when
    /// there is nothing to carry. Printable ASCII only.
    pub transaction_state: String,
    /// The chain generation that decided.
    pub generation: u64,
}

/// The decision on a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseDecision {
    /// Edits (headers and body; never the Request-URI).
    pub edits: MessageEdits,
    /// Discard the response instead of passing it on.
    pub drop: bool,
    /// Why the host itself dropped it (malformed); `None` when the chain decided.
    pub host_reason: Option<String>,
    /// The chain generation that decided.
    pub generation: u64,
}
