//! A test bench for plugin authors: run a plugin's hooks in-process on raw message bytes, as the host
//! would (parse, hook, apply the edits, serialise), without loading a shared object.
//!
//! ```
//! use sip_interop_abi::prelude::*;
//! use sip_interop_abi::sdk::testing::Bench;
//!
//! struct Hello;
//! impl Plugin for Hello {
//!     fn on_request(&self, req: &mut Request<'_>, _ctx: &mut Context<'_>) -> Verdict {
//!         req.add_header("X-Hello", "1");
//!         Verdict::Continue
//!     }
//! }
//! let mut bench = Bench::new("192.0.2.7:5060".parse().unwrap());
//! let out = bench.request(&Hello, b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK-1\r\nFrom: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").unwrap();
//! assert_eq!(out.verdict, Verdict::Continue);
//! assert!(String::from_utf8_lossy(&out.message).contains("X-Hello: 1\r\n"));
//! ```

use std::net::SocketAddr;

use abi_stable::std_types::{RSlice, RStr, RVec};

use super::{Context, Plugin, Request, Response, ResponseVerdict, Transport, Verdict};
use crate::ffi::{ContextFfi, MessageFfi, Scratchpad};
use crate::sip::{serialize, Edit, Message, ParseError};

/// What a request hook did.
#[derive(Debug)]
pub struct RequestOutcome {
    /// Its verdict.
    pub verdict: Verdict,
    /// The edits it recorded.
    pub edits: Vec<Edit>,
    /// The message after its edits, serialised as the host would send it.
    pub message: Vec<u8>,
    /// What the hook said for `explain` (collected when [`Bench::explain`] is set).
    pub explanation: Vec<String>,
}

/// What a response hook did.
#[derive(Debug)]
pub struct ResponseOutcome {
    /// Its verdict.
    pub verdict: ResponseVerdict,
    /// The edits it recorded.
    pub edits: Vec<Edit>,
    /// The message after its edits.
    pub message: Vec<u8>,
    /// What the hook said for `explain`.
    pub explanation: Vec<String>,
}

/// A hook's verdict, its edits, the message after them, and its explanation lines.
type Ran<T> = (T, Vec<Edit>, Vec<u8>, Vec<String>);

/// One transaction's worth of context: source, transport, trusted pool, and the scratchpad that a
/// request hook fills and the response hook of the same transaction reads.
pub struct Bench {
    /// Where the request came from.
    pub source: SocketAddr,
    /// Our address.
    pub local: SocketAddr,
    /// Transport.
    pub transport: Transport,
    /// Trusted pool of the TLS peer (empty: none).
    pub trusted_pool: String,
    /// The transaction's scratchpad.
    pub scratchpad: Scratchpad,
    /// Run hooks as under `sip-interop explain` and collect their lines.
    pub explain: bool,
}

impl Bench {
    /// A transaction whose request comes from `source` over UDP.
    pub fn new(source: SocketAddr) -> Self {
        Bench {
            source,
            local: "127.0.0.1:5060".parse().expect("literal address"),
            transport: Transport::Udp,
            trusted_pool: String::new(),
            scratchpad: Scratchpad::default(),
            explain: false,
        }
    }

    fn ctx(&mut self) -> ContextFfi<'_> {
        ContextFfi {
            source: self.source.into(),
            local: self.local.into(),
            transport: self.transport as u8,
            tls_peer_names: RSlice::from_slice(&[]),
            trusted_pool: RStr::from_str(&self.trusted_pool),
            transaction_id: 1,
            chain_generation: 1,
            scratchpad: &mut self.scratchpad,
            local_failure: 0,
        }
    }

    /// Parse `bytes`, run `hook` on the views the host would hand a plugin, apply its edits.
    fn run<T>(
        &mut self,
        bytes: &[u8],
        hook: impl FnOnce(&MessageFfi<'_>, &mut RVec<Edit>, &mut Context<'_>) -> T,
    ) -> Result<Ran<T>, ParseError> {
        let m = Message::parse(bytes)?;
        let headers = m.header_entries().to_vec();
        let ffi = MessageFfi {
            bytes: RSlice::from_slice(bytes),
            start: *m.start_line(),
            headers: RSlice::from_slice(&headers),
            body: m.body_span(),
        };
        let mut edits = RVec::new();
        super::host::bench_explaining(self.explain);
        let verdict = {
            let mut ctx = self.ctx();
            let mut c = Context::from_ffi(&mut ctx);
            hook(&ffi, &mut edits, &mut c)
        };
        let explanation = super::host::bench_explaining(false);
        let edits: Vec<Edit> = edits.into_vec();
        let message = serialize(&m, &edits);
        Ok((verdict, edits, message, explanation))
    }

    /// Run `plugin`'s request hook on `bytes`.
    pub fn request<P: Plugin>(
        &mut self,
        plugin: &P,
        bytes: &[u8],
    ) -> Result<RequestOutcome, ParseError> {
        let (verdict, edits, message, explanation) = self.run(bytes, |ffi, edits, c| {
            plugin.on_request(&mut Request::from_ffi(ffi, edits), c)
        })?;
        Ok(RequestOutcome {
            verdict,
            edits,
            message,
            explanation,
        })
    }

    /// Run `plugin`'s response hook on `bytes`, with the scratchpad its request hook left.
    pub fn response<P: Plugin>(
        &mut self,
        plugin: &P,
        bytes: &[u8],
    ) -> Result<ResponseOutcome, ParseError> {
        let (verdict, edits, message, explanation) = self.run(bytes, |ffi, edits, c| {
            plugin.on_response(&mut Response::from_ffi(ffi, edits), c)
        })?;
        Ok(ResponseOutcome {
            verdict,
            edits,
            message,
            explanation,
        })
    }
}
