//! SIP message core: zero-copy parsing, typed lazy header access,
//! validation, proxy disposition, stream framing, edits and serialisation.
//!
//! Parsing ([`Message::parse`]) builds only an index of [`Span`]s into the
//! original buffer; header values are parsed when a typed accessor is called.

pub mod cseq;
pub mod disposition;
pub mod edit;
pub mod error;
pub mod framing;
pub mod header_name;
pub mod host;
pub mod message;
pub mod method;
pub mod name_addr;
pub mod params;
mod parser;
pub mod sdp;
pub mod serialize;
pub mod span;
pub mod status;
pub mod tokens;
pub mod uri;
pub mod validate;
pub mod via;

pub use cseq::CSeq;
pub use disposition::{disposition_of, proxy_disposition, Disposition};
pub use edit::{Edit, HeaderPosition};
pub use error::{ParseError, SyntaxError};
pub use framing::{frame, Frame};
pub use header_name::{canonical_name, header_kind, kind, HeaderKind};
pub use host::Host;
pub use message::{Header, HeaderEntry, Message, StartLine};
pub use method::Method;
pub use name_addr::NameAddr;
pub use params::Params;
pub use sdp::{parse_sdp, write_sdp, SdpError};
pub use serialize::{serialize, serialize_into};
pub use span::Span;
pub use status::reason_phrase;
pub use uri::{SipUri, TelUri, Uri};
pub use via::Via;
#[cfg(test)]
mod serialize_tests;
