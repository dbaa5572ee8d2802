//! The standalone proxy: transports in, RFC 3261 transactions, the plugin chain deciding where requests
//! go, forking and response aggregation owned by the host (RFC 3261 §16, §17).
//!
//! Threads: the transport receivers, one timer thread, and a fixed set of workers fed through
//! `crossbeam-channel`. Nothing is spawned per call.

pub(crate) mod build;
mod core;
mod fork;
mod next_hop;
mod request;
mod response;
mod timer;
mod tx;

pub use build::{loop_hash, BRANCH_PREFIX};
pub use next_hop::{order, plan, Candidate, Dns, DnsSettings, Health, NoRoute, Plan, Query};

use crossbeam_channel::{bounded, select, Receiver};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use self::core::{Core, Deferred};
use crate::config::{ListenerConfig, ProxyConfig, TransportName};
use crate::transport::{Inbound, Limits, ListenerSpec, Transport, Transports};
use crate::Host;
use timer::{TimerEvent, Timers};
use tx::TxTable;

/// A running proxy.
pub struct Proxy {
    core: Arc<Core>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

fn limits(cfg: &ProxyConfig) -> Limits {
    Limits {
        max_udp_datagram: cfg.max_udp_bytes,
        max_header_bytes: cfg.max_header_bytes,
        max_body_bytes: cfg.max_body_bytes,
        max_connections: cfg.max_connections,
        message_timeout: Duration::from_secs(cfg.message_timeout_s),
        idle_timeout: Duration::from_secs(cfg.idle_timeout_s),
        ..Limits::default()
    }
}

impl Proxy {
    /// Bind the listeners and start the workers.
    pub fn start(
        host: Host,
        listeners: &[ListenerConfig],
        cfg: ProxyConfig,
    ) -> std::io::Result<Proxy> {
        let specs: Vec<ListenerSpec> = listeners
            .iter()
            .map(|l| ListenerSpec {
                transport: match l.transport {
                    TransportName::Udp => Transport::Udp,
                    TransportName::Tcp => Transport::Tcp,
                    TransportName::Tls => Transport::Tls,
                },
                addr: l.address,
            })
            .collect();
        let (in_tx, in_rx) = bounded::<Inbound>(cfg.queue_depth);
        let (timer_tx, timer_rx) = bounded::<TimerEvent>(cfg.queue_depth);
        let (deferred_tx, deferred_rx) = bounded::<Deferred>(cfg.queue_depth);
        let dns = Dns::start(&DnsSettings {
            servers: cfg.dns_servers.clone(),
            timeout: Duration::from_millis(cfg.dns_timeout_ms),
            queue: cfg.queue_depth,
        })?;
        let transports = Transports::start(&specs, limits(&cfg), in_tx)?;
        let ours = transports
            .local_addrs()
            .into_iter()
            .map(|(_, a)| a)
            .collect();
        let workers_n = cfg
            .workers
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            })
            .max(1);
        let core = Arc::new(Core {
            host,
            cfg,
            transports,
            table: TxTable::default(),
            timers: Timers::start(timer_tx),
            next_tx: AtomicU64::new(1),
            ours,
            dns,
            health: Health::default(),
            deferred: deferred_tx,
        });
        let mut workers = Vec::with_capacity(workers_n);
        for i in 0..workers_n {
            let (core, in_rx, timer_rx, deferred_rx): (
                Arc<Core>,
                Receiver<Inbound>,
                Receiver<TimerEvent>,
                Receiver<Deferred>,
            ) = (
                core.clone(),
                in_rx.clone(),
                timer_rx.clone(),
                deferred_rx.clone(),
            );
            workers.push(
                std::thread::Builder::new()
                    .name(format!("sip-worker-{i}"))
                    .spawn(move || loop {
                        select! {
                            recv(in_rx) -> m => match m {
                                Ok(m) => core.inbound(m),
                                Err(_) => return,
                            },
                            recv(timer_rx) -> t => match t {
                                Ok(t) => core.timer(t),
                                Err(_) => return,
                            },
                            recv(deferred_rx) -> d => match d {
                                Ok(d) => d(&core),
                                Err(_) => return,
                            },
                        }
                    })?,
            );
        }
        Ok(Proxy { core, workers })
    }

    /// The addresses the proxy listens on (ports resolved).
    pub fn local_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        self.core.transports.local_addrs()
    }

    /// Transactions in the table (in progress and lingering for their RFC 3261 timers).
    pub fn live_transactions(&self) -> usize {
        self.core.table.live()
    }

    /// Transactions without a final answer yet (what `max_transactions` bounds).
    pub fn transactions_in_progress(&self) -> usize {
        self.core.table.in_progress()
    }

    /// Transaction timers pending.
    pub fn pending_timers(&self) -> usize {
        self.core.timers.pending()
    }

    /// Stop receiving and let the workers finish.
    pub fn stop(self) {
        self.core.transports.shutdown();
        self.core.timers.stop();
        drop(self.workers);
    }
}
