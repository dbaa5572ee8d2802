//! SDP rewriting between Microsoft (Lync / Skype for Business, [MS-SDPEXT]) and
//! standards-based SIP, line by line: lines no rule touches are kept byte-exact and in
//! order, and the output always uses CRLF.

mod crypto;
mod detect;
mod encryption;
mod hold;
mod ice;
mod lines;
mod ms_attributes;
mod ms_codecs;
#[cfg(test)]
mod samples;
mod tally;
mod to_microsoft;
mod to_standard;

use std::fmt;

pub use detect::{is_ice_update, is_im_session, offers_srtp};
pub use to_microsoft::to_microsoft;
pub use to_standard::to_standard;

/// What a rewrite produced: the new SDP (CRLF) and one line per change, in operator words, e.g.
/// "removed codec x-msrta/16000 (payload 122) from m=audio: Microsoft-only" or
/// "removed a=x-ssrc-range from m=audio (Microsoft-only attribute)"; these are shown by
/// `sip-interop explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The rewritten SDP; every line ends in CRLF.
    pub sdp: Vec<u8>,
    /// One line per change, in the order the rules ran.
    pub changes: Vec<String>,
}

/// Why an SDP cannot be forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdpReject {
    /// Nothing usable is left (answer 488 Not Acceptable Here); the text says why, one line.
    NotAcceptable(String),
    /// The SDP could not be read (no v= line, an m= line that is not
    /// `m=<media> <port> <proto> <fmt...>`, …).
    Malformed(String),
}

impl fmt::Display for SdpReject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpReject::NotAcceptable(why) => write!(f, "SDP not acceptable: {why}"),
            SdpReject::Malformed(why) => write!(f, "malformed SDP: {why}"),
        }
    }
}

impl std::error::Error for SdpReject {}

/// Settings for [`to_standard`] (Microsoft → standards side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StandardOptions {
    /// The standards side does RFC 5245 ICE: keep RFC 5245 candidates (drop only Microsoft
    /// draft-6 and TCP-ACT/TCP-PASS ones). When `false`, all ICE lines are removed.
    pub target_ice: bool,
}

/// What the Microsoft side is configured to do about SRTP (its `a=encryption` policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// SRTP is mandatory: every active audio/video stream needs an AES_CM_128_HMAC_SHA1_80 key.
    Required,
    /// SRTP when both sides can; plain RTP otherwise.
    Optional,
    /// No SRTP: crypto lines are removed.
    Rejected,
}

/// Settings for [`to_microsoft`] (standards side → Microsoft).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MicrosoftOptions {
    /// The Microsoft side's SRTP policy.
    pub encryption: Encryption,
    /// This SDP is the offer of an initial INVITE (hold is removed from it).
    pub initial_offer: bool,
}
