//! `ms-sip-normaliser`: Microsoft Lync / Skype for Business SIP ↔ standards-based SIP, both
//! directions, as a plugin for SIP Interop Host.
//!
//! A request's source and destination each speak a dialect (`ms` or `standard`): a configured peer
//! by address, a TLS trusted pool, or the signs a Microsoft endpoint leaves on its messages. When
//! they differ, the request is translated for its destination and its answers for the sender:
//! bodies (`multipart/alternative` → the RFC 5245 SDP), SDP (Microsoft attributes, codecs, ICE,
//! SRTP), headers and option tags, identities (`+E.164`, `tel:`, `epid`), errors (`ms-diagnostics`,
//! `430`), and Lync's post-ICE re-INVITE. Every edit is shown by `sip-interop explain` with the rule
//! that made it.

pub mod body;
pub mod config;
pub mod dialect;
pub mod dialogs;
pub mod headers;
pub mod identity;
pub mod im;
pub mod plugin;
pub mod sdp;

pub use config::{Config, Settings, Side};
pub use plugin::{
    Normaliser, DIRECTION_KEY, FAR_DIALECT_KEY, IM_FIRST_MESSAGE_KEY, IM_FIRST_MESSAGE_TYPE_KEY,
    IM_SESSION_KEY,
};

sip_interop_abi::export_plugin!(Normaliser, Normaliser::new);
