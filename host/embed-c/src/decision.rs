//! The decision as C sees it: a `SipInteropDecision` view whose pointers lead into buffers owned by the
//! same allocation, freed together by `sip_interop_decision_free`.

use std::ffi::c_char;

use sip_interop_host::embed::{Action, Decision, MessageEdits, ResponseDecision};

/// A string: `len` bytes at `ptr`, followed by a NUL (not counted). `ptr` is NULL when absent.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SipInteropStr {
    /// The bytes, or NULL when the field is absent.
    pub ptr: *const c_char,
    /// Their length, without the trailing NUL.
    pub len: usize,
}

/// A header line.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SipInteropHeader {
    /// Header name.
    pub name: SipInteropStr,
    /// Header value.
    pub value: SipInteropStr,
}

/// One place to forward the request to (several targets: a fork).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SipInteropTarget {
    /// The branch's Request-URI.
    pub uri: SipInteropStr,
    /// Where to send it when that is not its Request-URI (Kamailio: `$du`); NULL when the Request-URI
    /// (or the first Route) decides.
    pub next_hop: SipInteropStr,
    /// "any", "udp", "tcp", "tls", "ws" or "wss".
    pub transport: SipInteropStr,
    /// Start this branch this long after the fork begins.
    pub delay_ms: u64,
    /// Fork group.
    pub fork_group: u32,
    /// Absorb a 2xx on this branch that comes sooner than this (answer-too-soon guard); 0: none.
    pub min_answer_ms: u64,
}

/// What to do after applying the edits.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SipInteropAction {
    /// No plugin decided: route it as the proxy would without us (by the Request-URI).
    Relay = 0,
    /// Forward to `targets` (more than one: a fork).
    Forward = 1,
    /// Answer with `reply_status`, `reply_reason`, `reply_headers`, `reply_body`.
    Reply = 2,
    /// Discard silently.
    Drop = 3,
}

/// A decision on a request (or, with action RELAY or DROP and no Request-URI, on a response).
/// Apply in this order: `request_uri`, `remove_headers` (every line of each name), `add_headers`
/// (appended), the body when `body_replaced` (an empty body removes it and its Content-Type), then the
/// action. Content-Length is the proxy's to recompute.
#[repr(C)]
#[derive(Debug)]
pub struct SipInteropDecision {
    /// What to do.
    pub action: SipInteropAction,
    /// The new Request-URI; NULL ptr: unchanged.
    pub request_uri: SipInteropStr,
    /// Header names to remove, every line of each.
    pub remove_headers: *const SipInteropStr,
    /// How many.
    pub remove_headers_len: usize,
    /// Header lines to append, in order.
    pub add_headers: *const SipInteropHeader,
    /// How many.
    pub add_headers_len: usize,
    /// Whether the body is replaced by `body` with `content_type`.
    pub body_replaced: bool,
    /// The new body.
    pub body: SipInteropStr,
    /// Its Content-Type.
    pub content_type: SipInteropStr,
    /// Targets (action FORWARD).
    pub targets: *const SipInteropTarget,
    /// How many.
    pub targets_len: usize,
    /// Reply status (action REPLY), else 0.
    pub reply_status: u16,
    /// Reply reason phrase.
    pub reply_reason: SipInteropStr,
    /// Extra reply header lines.
    pub reply_headers: *const SipInteropHeader,
    /// How many.
    pub reply_headers_len: usize,
    /// Reply body; NULL ptr: none.
    pub reply_body: SipInteropStr,
    /// Its Content-Type.
    pub reply_content_type: SipInteropStr,
    /// The transaction's plugin facts: keep with the transaction, pass to sip_interop_response.
    /// Printable ASCII; empty when there is nothing to carry.
    pub transaction_state: SipInteropStr,
    /// The chain entry that decided; NULL ptr: none (every plugin passed, or the host decided).
    pub decided_by: SipInteropStr,
    /// Why the host itself decided (a malformed message, ...); NULL ptr when the chain decided.
    pub host_reason: SipInteropStr,
    /// The chain generation that decided.
    pub generation: u64,
}

const ABSENT: SipInteropStr = SipInteropStr {
    ptr: std::ptr::null(),
    len: 0,
};

/// The view and everything it points into. `view` comes first (`repr(C)`), so a pointer to the whole
/// is a pointer to the view.
#[repr(C)]
pub(crate) struct Owned {
    view: SipInteropDecision,
    strings: Vec<Box<[u8]>>,
    removes: Vec<SipInteropStr>,
    adds: Vec<SipInteropHeader>,
    targets: Vec<SipInteropTarget>,
    reply_headers: Vec<SipInteropHeader>,
}

/// Buffers for the strings of one decision (each boxed: its bytes never move).
#[derive(Default)]
struct Strings(Vec<Box<[u8]>>);

impl Strings {
    fn add(&mut self, bytes: &[u8]) -> SipInteropStr {
        let mut b = Vec::with_capacity(bytes.len() + 1);
        b.extend_from_slice(bytes);
        b.push(0);
        let b = b.into_boxed_slice();
        let s = SipInteropStr {
            ptr: b.as_ptr().cast(),
            len: bytes.len(),
        };
        self.0.push(b);
        s
    }

    fn opt(&mut self, s: Option<&str>) -> SipInteropStr {
        s.map_or(ABSENT, |s| self.add(s.as_bytes()))
    }

    fn headers(&mut self, h: &[(String, String)]) -> Vec<SipInteropHeader> {
        h.iter()
            .map(|(n, v)| SipInteropHeader {
                name: self.add(n.as_bytes()),
                value: self.add(v.as_bytes()),
            })
            .collect()
    }
}

fn empty_view(action: SipInteropAction, generation: u64) -> SipInteropDecision {
    SipInteropDecision {
        action,
        request_uri: ABSENT,
        remove_headers: std::ptr::null(),
        remove_headers_len: 0,
        add_headers: std::ptr::null(),
        add_headers_len: 0,
        body_replaced: false,
        body: ABSENT,
        content_type: ABSENT,
        targets: std::ptr::null(),
        targets_len: 0,
        reply_status: 0,
        reply_reason: ABSENT,
        reply_headers: std::ptr::null(),
        reply_headers_len: 0,
        reply_body: ABSENT,
        reply_content_type: ABSENT,
        transaction_state: ABSENT,
        decided_by: ABSENT,
        host_reason: ABSENT,
        generation,
    }
}

impl Owned {
    fn new(view: SipInteropDecision, edits: &MessageEdits, s: &mut Strings) -> Owned {
        let mut o = Owned {
            view,
            strings: Vec::new(),
            removes: edits
                .remove_headers
                .iter()
                .map(|n| s.add(n.as_bytes()))
                .collect(),
            adds: s.headers(&edits.add_headers),
            targets: Vec::new(),
            reply_headers: Vec::new(),
        };
        o.view.request_uri = s.opt(edits.request_uri.as_deref());
        if let Some(b) = &edits.body {
            o.view.body_replaced = true;
            o.view.body = s.add(&b.bytes);
            o.view.content_type = s.add(b.content_type.as_bytes());
        }
        o
    }

    /// Point the view's arrays at the vectors (after they are final: their buffers never move again).
    fn seal(mut self, s: Strings) -> Owned {
        self.strings = s.0;
        self.view.remove_headers = self.removes.as_ptr();
        self.view.remove_headers_len = self.removes.len();
        self.view.add_headers = self.adds.as_ptr();
        self.view.add_headers_len = self.adds.len();
        self.view.targets = self.targets.as_ptr();
        self.view.targets_len = self.targets.len();
        self.view.reply_headers = self.reply_headers.as_ptr();
        self.view.reply_headers_len = self.reply_headers.len();
        self
    }

    pub(crate) fn request(d: &Decision) -> Owned {
        let action = match d.action {
            Action::Relay => SipInteropAction::Relay,
            Action::Forward(_) => SipInteropAction::Forward,
            Action::Reply(_) => SipInteropAction::Reply,
            Action::Drop => SipInteropAction::Drop,
        };
        let mut s = Strings::default();
        let mut o = Owned::new(empty_view(action, d.generation), &d.edits, &mut s);
        o.view.transaction_state = s.add(d.transaction_state.as_bytes());
        o.view.decided_by = s.opt(d.decided_by.as_deref());
        o.view.host_reason = s.opt(d.host_reason.as_deref());
        match &d.action {
            Action::Forward(targets) => {
                o.targets = targets
                    .iter()
                    .map(|t| SipInteropTarget {
                        uri: s.add(t.uri.as_bytes()),
                        next_hop: s.opt(t.next_hop.as_deref()),
                        transport: s.add(t.transport.as_str().as_bytes()),
                        delay_ms: t.delay.as_millis() as u64,
                        fork_group: t.fork_group,
                        min_answer_ms: t.min_answer.as_millis() as u64,
                    })
                    .collect();
            }
            Action::Reply(r) => {
                o.view.reply_status = r.status;
                o.view.reply_reason = s.add(r.reason.as_bytes());
                o.reply_headers = s.headers(&r.headers);
                if let Some((ct, body)) = &r.body {
                    o.view.reply_body = s.add(body);
                    o.view.reply_content_type = s.add(ct.as_bytes());
                }
            }
            Action::Relay | Action::Drop => {}
        }
        o.seal(s)
    }

    pub(crate) fn response(d: &ResponseDecision) -> Owned {
        let action = if d.drop {
            SipInteropAction::Drop
        } else {
            SipInteropAction::Relay
        };
        let mut s = Strings::default();
        let mut o = Owned::new(empty_view(action, d.generation), &d.edits, &mut s);
        o.view.host_reason = s.opt(d.host_reason.as_deref());
        o.seal(s)
    }

    pub(crate) fn into_raw(self) -> *mut SipInteropDecision {
        Box::into_raw(Box::new(self)).cast()
    }

    /// # Safety
    /// `p` came from [`Owned::into_raw`] and is not used afterwards.
    pub(crate) unsafe fn from_raw(p: *mut SipInteropDecision) -> Box<Owned> {
        // SAFETY: `p` points to the `view` field at offset 0 of a boxed `Owned` (repr(C)), as made by
        // into_raw (contract above).
        unsafe { Box::from_raw(p.cast::<Owned>()) }
    }
}
