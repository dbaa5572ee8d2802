//! The per-transaction context a hook receives.

use abi_stable::std_types::RString;
use std::net::SocketAddr;

use super::Transport;
use crate::ffi::{ContextFfi, ScratchValue, Scratchpad};

/// The SIP dialect a peer speaks, as far as the chain knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Standards-based SIP (RFC 3261 and friends).
    Standard,
    /// Microsoft Lync / Skype for Business SIP.
    Microsoft,
}

/// Scratchpad key under which the peer's dialect is recorded.
pub const PEER_DIALECT_KEY: &str = "peer.dialect";

/// Why the host answered a request itself after trying to forward it: what a response hook sees in
/// [`Context::local_failure`] (for example to answer in the Lync form with `ms-diagnostics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum LocalFailure {
    /// DNS gave no address for the next hop (RFC 3263).
    Unresolvable = 1,
    /// Every address of the next hop refused the connection or could not be sent to.
    Unreachable = 2,
    /// No address of the next hop answered in time (Timer B/F).
    Timeout = 3,
    /// The next hop's TLS certificate was not trusted.
    Untrusted = 4,
}

impl LocalFailure {
    /// From the wire value (0 and unknown values: none).
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => LocalFailure::Unresolvable,
            2 => LocalFailure::Unreachable,
            3 => LocalFailure::Timeout,
            4 => LocalFailure::Untrusted,
            _ => return None,
        })
    }
}

/// Where the message came from, and the facts plugins share for this transaction.
pub struct Context<'a> {
    source: SocketAddr,
    local: SocketAddr,
    transport: Transport,
    tls_peer_names: &'a [RString],
    trusted_pool: &'a str,
    transaction_id: u64,
    chain_generation: u64,
    scratchpad: &'a mut Scratchpad,
    local_failure: Option<LocalFailure>,
}

impl<'a> Context<'a> {
    /// View of the wire context.
    pub fn from_ffi(ctx: &'a mut ContextFfi<'_>) -> Self {
        Context {
            source: ctx.source.into(),
            local: ctx.local.into(),
            transport: Transport::from_u8(ctx.transport),
            tls_peer_names: ctx.tls_peer_names.as_slice(),
            trusted_pool: ctx.trusted_pool.as_str(),
            transaction_id: ctx.transaction_id,
            chain_generation: ctx.chain_generation,
            scratchpad: &mut *ctx.scratchpad,
            local_failure: LocalFailure::from_u8(ctx.local_failure),
        }
    }

    /// The peer that sent this message.
    pub fn source(&self) -> SocketAddr {
        self.source
    }

    /// Our address the message arrived on.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Transport the message arrived on.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Names on the TLS peer's verified certificate (empty without TLS).
    pub fn tls_peer_names(&self) -> impl Iterator<Item = &str> {
        self.tls_peer_names.iter().map(|s| s.as_str())
    }

    /// The trusted pool the TLS peer matched, if any.
    pub fn trusted_pool(&self) -> Option<&str> {
        (!self.trusted_pool.is_empty()).then_some(self.trusted_pool)
    }

    /// For a response the host wrote itself because the next hop failed: why.
    pub fn local_failure(&self) -> Option<LocalFailure> {
        self.local_failure
    }

    /// Identity of this transaction within the host.
    pub fn transaction_id(&self) -> u64 {
        self.transaction_id
    }

    /// Generation of the chain this transaction runs on.
    pub fn chain_generation(&self) -> u64 {
        self.chain_generation
    }

    /// A fact recorded by a plugin earlier in this transaction.
    pub fn get(&self, key: &str) -> Option<&ScratchValue> {
        self.scratchpad.get(key)
    }

    /// A text fact.
    pub fn get_text(&self, key: &str) -> Option<&str> {
        match self.scratchpad.get(key)? {
            ScratchValue::Text(t) => Some(t.as_str()),
            _ => None,
        }
    }

    /// Record a fact for later plugins (and for this plugin's response hook).
    pub fn set(&mut self, key: &str, value: ScratchValue) {
        self.scratchpad.set(key, value);
    }

    /// Record a text fact.
    pub fn set_text(&mut self, key: &str, value: &str) {
        self.scratchpad.set(key, ScratchValue::Text(value.into()));
    }

    /// Forget a fact.
    pub fn remove(&mut self, key: &str) -> Option<ScratchValue> {
        self.scratchpad.remove(key)
    }

    /// The dialect the sending peer speaks (recorded by the MS-SIP normaliser; standard until then).
    pub fn peer_dialect(&self) -> Dialect {
        match self.get_text(PEER_DIALECT_KEY) {
            Some("ms") => Dialect::Microsoft,
            _ => Dialect::Standard,
        }
    }

    /// Record the sending peer's dialect.
    pub fn set_peer_dialect(&mut self, dialect: Dialect) {
        let v = match dialect {
            Dialect::Microsoft => "ms",
            Dialect::Standard => "standard",
        };
        self.set_text(PEER_DIALECT_KEY, v);
    }
}
