//! What a hook decides.

use abi_stable::std_types::{RString, RVec, Tuple2};
use abi_stable::StableAbi;

/// A reply the host sends instead of forwarding.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct ReplyFfi {
    /// Status code, 100–699.
    pub status: u16,
    /// Reason phrase.
    pub reason: RString,
    /// Extra headers (name, value).
    pub headers: RVec<Tuple2<RString, RString>>,
    /// Content-Type of the body (empty: no body).
    pub content_type: RString,
    /// The body (for example the SDP of a re-INVITE answered locally).
    pub body: RVec<u8>,
}

/// One forwarding target.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct TargetFfi {
    /// Where to send: a SIP/SIPS URI (Request-URI of the branch or next hop).
    pub uri: RString,
    /// Transport (`crate::sdk::Transport` as u8; 0 = as the URI says).
    pub transport: u8,
    /// Start this branch this long after the first (staggered forking).
    pub delay_ms: u32,
    /// Branches with the same group are one fork set.
    pub fork_group: u32,
    /// A 2xx arriving on this branch before this many ms is absorbed (answer-too-soon guard); 0 = off.
    pub min_answer_ms: u32,
    /// Where to send it when that is not the Request-URI (a SIP URI resolved per RFC 3263); empty =
    /// the Request-URI (or the first Route) decides.
    pub next_hop: RString,
    /// Requests with the same key stick to the same address of a multi-address next hop; empty =
    /// the source address of the request.
    pub sticky_key: RString,
    /// How long an address that failed is skipped by later requests, in seconds; 0 = host default,
    /// `u32::MAX` = never skipped.
    pub mark_down_s: u32,
}

/// The verdict of a request hook.
#[repr(C, u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum VerdictFfi {
    /// Go on with the next plugin (or the default route after the last one).
    Continue,
    /// Answer the request.
    Respond(ReplyFfi),
    /// Forward to one or more targets (several = a fork).
    Route(RVec<TargetFfi>),
    /// Drop silently.
    Drop,
}

/// The verdict of a response hook.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseVerdictFfi {
    /// Pass the response on.
    Continue,
    /// Drop it.
    Drop,
}
