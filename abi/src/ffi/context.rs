//! The message and the per-transaction context as a hook sees them.

use abi_stable::std_types::{RSlice, RStr, RString, RVec};
use abi_stable::StableAbi;

use crate::sip::{HeaderEntry, Span, StartLine};

/// A parsed message, shared zero-copy: the original bytes plus the host's index of spans into them.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct MessageFfi<'a> {
    /// The message bytes exactly as received (or as left by the previous plugin's edits).
    pub bytes: RSlice<'a, u8>,
    /// Spans of the start line.
    pub start: StartLine,
    /// One entry per header line, in order.
    pub headers: RSlice<'a, HeaderEntry>,
    /// The body, framed by Content-Length.
    pub body: Span,
}

/// An IP address and port in a fixed layout.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PeerAddr {
    /// IPv4 in the first four bytes when `is_ipv6` is false.
    pub ip: [u8; 16],
    /// Address family.
    pub is_ipv6: bool,
    /// Port.
    pub port: u16,
}

impl From<std::net::SocketAddr> for PeerAddr {
    fn from(a: std::net::SocketAddr) -> Self {
        let mut ip = [0u8; 16];
        let is_ipv6 = match a.ip() {
            std::net::IpAddr::V4(v4) => {
                ip[..4].copy_from_slice(&v4.octets());
                false
            }
            std::net::IpAddr::V6(v6) => {
                ip = v6.octets();
                true
            }
        };
        PeerAddr {
            ip,
            is_ipv6,
            port: a.port(),
        }
    }
}

impl From<PeerAddr> for std::net::SocketAddr {
    fn from(p: PeerAddr) -> Self {
        let ip: std::net::IpAddr = if p.is_ipv6 {
            std::net::Ipv6Addr::from(p.ip).into()
        } else {
            std::net::Ipv4Addr::new(p.ip[0], p.ip[1], p.ip[2], p.ip[3]).into()
        };
        std::net::SocketAddr::new(ip, p.port)
    }
}

/// A value in the per-transaction scratchpad.
#[repr(C, u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum ScratchValue {
    /// A flag.
    Bool(bool),
    /// A number.
    Int(i64),
    /// Text.
    Text(RString),
    /// Raw bytes.
    Bytes(RVec<u8>),
}

/// One scratchpad entry.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct ScratchEntry {
    /// Key, by convention `plugin.fact` (for example `ms.dialect.caller`).
    pub key: RString,
    /// Value.
    pub value: ScratchValue,
}

/// Per-transaction facts that plugins share (a short list: linear search beats hashing at this size).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq)]
pub struct Scratchpad {
    /// Entries in insertion order; keys are unique.
    pub entries: RVec<ScratchEntry>,
}

impl Scratchpad {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&ScratchValue> {
        self.entries
            .iter()
            .find(|e| e.key.as_str() == key)
            .map(|e| &e.value)
    }

    /// Set `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: &str, value: ScratchValue) {
        match self.entries.iter_mut().find(|e| e.key.as_str() == key) {
            Some(e) => e.value = value,
            None => self.entries.push(ScratchEntry {
                key: key.into(),
                value,
            }),
        }
    }

    /// Remove `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<ScratchValue> {
        let i = self.entries.iter().position(|e| e.key.as_str() == key)?;
        Some(self.entries.remove(i).value)
    }
}

/// What a hook knows about where the message came from, and the transaction's scratchpad.
#[repr(C)]
#[derive(StableAbi)]
pub struct ContextFfi<'a> {
    /// The peer that sent the message.
    pub source: PeerAddr,
    /// Our address it arrived on.
    pub local: PeerAddr,
    /// Transport it arrived on (`crate::sdk::Transport` as u8).
    pub transport: u8,
    /// Names (SAN DNS entries, else CN) of the TLS peer's verified certificate; empty without TLS.
    pub tls_peer_names: RSlice<'a, RString>,
    /// The trusted pool the TLS peer matched; empty when none.
    pub trusted_pool: RStr<'a>,
    /// Identity of the transaction within this host.
    pub transaction_id: u64,
    /// Generation of the chain the transaction runs on (changes with every reload).
    pub chain_generation: u64,
    /// Facts shared between the plugins of this transaction.
    pub scratchpad: &'a mut Scratchpad,
    /// For an answer the host wrote itself because the next hop failed (`crate::sdk::LocalFailure` as
    /// u8); 0 otherwise.
    pub local_failure: u8,
}
