//! The resolver thread: hickory-resolver on a single-threaded tokio runtime, so a worker never waits
//! for DNS. Workers hand it a [`Query`] and a completion; the completion runs on this thread and
//! posts the result back to the workers.

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;
use std::net::SocketAddr;
use std::time::Duration;

use super::order::Candidate;
use super::plan::Query;

/// What a lookup gives: every candidate address, or why there is none.
pub type Located = Result<Vec<Candidate>, String>;

struct Job {
    query: Query,
    done: Box<dyn FnOnce(Located) + Send>,
}

/// Handle to the resolver thread (stops when dropped).
pub struct Dns {
    jobs: tokio::sync::mpsc::Sender<Job>,
}

/// How the resolver is set up.
#[derive(Debug, Clone)]
pub struct DnsSettings {
    /// Name servers to ask (UDP, then TCP for truncated answers); empty = the system's resolv.conf.
    pub servers: Vec<SocketAddr>,
    /// Time for one query.
    pub timeout: Duration,
    /// Lookups waiting at most (more: the branch fails at once as unresolvable).
    pub queue: usize,
}

fn resolver(s: &DnsSettings) -> std::io::Result<TokioResolver> {
    let provider = TokioConnectionProvider::default();
    let mut builder = if s.servers.is_empty() {
        TokioResolver::builder(provider)
            .map_err(|e| std::io::Error::other(format!("system DNS configuration: {e}")))?
    } else {
        let mut cfg = ResolverConfig::new();
        for a in &s.servers {
            cfg.add_name_server(NameServerConfig::new(*a, Protocol::Udp));
            cfg.add_name_server(NameServerConfig::new(*a, Protocol::Tcp));
        }
        TokioResolver::builder_with_config(cfg, provider)
    };
    let opts: &mut ResolverOpts = builder.options_mut();
    opts.timeout = s.timeout;
    opts.attempts = 2;
    Ok(builder.build())
}

impl Dns {
    /// Start the resolver thread.
    pub fn start(s: &DnsSettings) -> std::io::Result<Dns> {
        let resolver = resolver(s)?;
        let (jobs, mut rx) = tokio::sync::mpsc::channel::<Job>(s.queue.max(1));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        std::thread::Builder::new()
            .name("sip-dns".into())
            .spawn(move || {
                rt.block_on(async move {
                    while let Some(job) = rx.recv().await {
                        let r = resolver.clone();
                        tokio::spawn(async move {
                            let out = super::rfc3263::locate(&r, &job.query).await;
                            (job.done)(out);
                        });
                    }
                })
            })?;
        Ok(Dns { jobs })
    }

    /// Look `query` up; `done` runs on the resolver thread with the result. `false` when the queue
    /// is full (`done` is then not called).
    pub fn submit(&self, query: Query, done: impl FnOnce(Located) + Send + 'static) -> bool {
        self.jobs
            .try_send(Job {
                query,
                done: Box::new(done),
            })
            .is_ok()
    }

    /// Look `query` up and wait (for `sip-interop explain`, never on a worker).
    pub fn locate_blocking(&self, query: Query) -> Located {
        let (tx, rx) = std::sync::mpsc::channel();
        if !self.submit(query, move |r| {
            let _ = tx.send(r);
        }) {
            return Err("the DNS queue is full".into());
        }
        rx.recv()
            .unwrap_or_else(|_| Err("the resolver thread stopped".into()))
    }
}
