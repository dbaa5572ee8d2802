//! State shared by the `Transports` handle and every transport thread.

use super::connections::ConnectionTable;
use super::stats::inc;
use super::{Inbound, Limits, Stats};
use crossbeam_channel::{Sender, TrySendError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// Limits, counters, the inbound queue, the connection table and the threads.
pub(crate) struct Shared {
    pub(crate) limits: Limits,
    pub(crate) stats: Stats,
    pub(crate) connections: ConnectionTable,
    inbound: Sender<Inbound>,
    stopped: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    /// Shared state delivering to `inbound`.
    pub(crate) fn new(limits: Limits, inbound: Sender<Inbound>) -> Shared {
        Shared {
            connections: ConnectionTable::new(limits.max_connections),
            limits,
            stats: Stats::default(),
            inbound,
            stopped: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
        }
    }

    /// Whether shutdown has begun; every thread checks this at least once per tick.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Marks shutdown; true only the first time.
    pub(crate) fn stop(&self) -> bool {
        !self.stopped.swap(true, Ordering::AcqRel)
    }

    /// Counts a received message and queues it without blocking; a full queue drops it.
    pub(crate) fn deliver(&self, msg: Inbound) {
        inc(&self.stats.received);
        match self.inbound.try_send(msg) {
            Ok(()) => {}
            Err(TrySendError::Full(m)) => {
                inc(&self.stats.dropped_queue_full);
                tracing::warn!(
                    transport = m.transport.as_str(),
                    source = %m.source,
                    bytes = m.data.len(),
                    "inbound queue full: message dropped"
                );
            }
            Err(TrySendError::Disconnected(m)) => {
                tracing::debug!(source = %m.source, "inbound receiver gone: message dropped");
            }
        }
    }

    /// Starts a named thread that shutdown will join.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        name: String,
        stack_size: Option<usize>,
        body: impl FnOnce(Arc<Shared>) + Send + 'static,
    ) -> std::io::Result<()> {
        let mut builder = std::thread::Builder::new().name(name);
        if let Some(size) = stack_size {
            builder = builder.stack_size(size);
        }
        let shared = Arc::clone(self);
        let handle = builder.spawn(move || body(shared))?;
        let mut threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        threads.retain(|h| !h.is_finished());
        threads.push(handle);
        Ok(())
    }

    /// Joins every thread started so far, except the calling one.
    pub(crate) fn join_threads(&self) {
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        let me = std::thread::current().id();
        for handle in threads {
            if handle.thread().id() != me && handle.join().is_err() {
                tracing::warn!("a transport thread panicked");
            }
        }
    }
}
