//! The host-owned per-transaction context, lent to each hook as a [`ContextFfi`].

use abi_stable::std_types::RString;
use std::net::SocketAddr;

use sip_interop_abi::ffi::{ContextFfi, Scratchpad};
use sip_interop_abi::sdk::{LocalFailure, Transport};

/// What the host knows about a transaction's origin, plus the plugins' scratchpad.
#[derive(Clone, Debug)]
pub struct TxContext {
    /// Sender.
    pub source: SocketAddr,
    /// Our receiving address.
    pub local: SocketAddr,
    /// Transport it arrived on.
    pub transport: Transport,
    /// Verified TLS peer names (empty without TLS).
    pub tls_peer_names: Vec<RString>,
    /// Matched trusted pool (empty when none).
    pub trusted_pool: RString,
    /// Transaction identity.
    pub transaction_id: u64,
    /// Plugin facts.
    pub scratchpad: Scratchpad,
    /// Set while the response hooks see an answer the host wrote because the next hop failed.
    pub local_failure: Option<LocalFailure>,
}

impl TxContext {
    /// A context for a message from `source` received on `local`.
    pub fn new(
        source: SocketAddr,
        local: SocketAddr,
        transport: Transport,
        transaction_id: u64,
    ) -> Self {
        TxContext {
            source,
            local,
            transport,
            tls_peer_names: Vec::new(),
            trusted_pool: RString::new(),
            transaction_id,
            scratchpad: Scratchpad::default(),
            local_failure: None,
        }
    }

    /// The wire view lent to one hook call.
    pub(crate) fn ffi(&mut self, chain_generation: u64) -> ContextFfi<'_> {
        ContextFfi {
            source: self.source.into(),
            local: self.local.into(),
            transport: self.transport as u8,
            tls_peer_names: self.tls_peer_names.as_slice().into(),
            trusted_pool: self.trusted_pool.as_rstr(),
            transaction_id: self.transaction_id,
            chain_generation,
            scratchpad: &mut self.scratchpad,
            local_failure: self.local_failure.map_or(0, |f| f as u8),
        }
    }
}
