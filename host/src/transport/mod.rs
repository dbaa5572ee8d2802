//! TEMPORARY stand-in with the transport layer's API (the implementation is being written beside it).
#![allow(missing_docs, dead_code, clippy::new_without_default)]

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use sip_interop_abi::sdk::Transport;
pub type ConnectionId = u64;

#[derive(Clone, Debug)]
pub struct ListenerSpec {
    pub transport: Transport,
    pub addr: SocketAddr,
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub max_udp_datagram: usize,
    pub max_header_bytes: usize,
    pub max_body_bytes: usize,
    pub max_connections: usize,
    pub message_timeout: Duration,
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
    pub socket_buffer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_udp_datagram: 65_535,
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            max_connections: 1024,
            message_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(3),
            socket_buffer_bytes: 4 << 20,
        }
    }
}

pub struct Inbound {
    pub data: Vec<u8>,
    pub source: SocketAddr,
    pub local: SocketAddr,
    pub transport: Transport,
    pub connection: Option<ConnectionId>,
    pub received_at: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Destination {
    pub transport: Transport,
    pub addr: SocketAddr,
    pub connection: Option<ConnectionId>,
}

#[derive(Debug)]
pub enum SendError {
    NoListener(Transport, &'static str),
    Connect(std::io::Error),
    Io(std::io::Error),
    ConnectionClosed,
    TooLarge(usize),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

#[derive(Default)]
pub struct Stats {
    pub received: AtomicU64,
    pub sent: AtomicU64,
    pub dropped_queue_full: AtomicU64,
}

pub struct Transports {
    stats: Stats,
}

impl Transports {
    pub fn start(
        _l: &[ListenerSpec],
        _limits: Limits,
        _inbound: crossbeam_channel::Sender<Inbound>,
    ) -> std::io::Result<Arc<Transports>> {
        todo!()
    }
    pub fn local_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        todo!()
    }
    pub fn local_addr_for(&self, _t: Transport, _remote: SocketAddr) -> Option<SocketAddr> {
        todo!()
    }
    pub fn send(&self, _dest: &Destination, _data: &[u8]) -> Result<(), SendError> {
        todo!()
    }
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    pub fn shutdown(&self) {}
}
