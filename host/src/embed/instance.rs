//! One embedded host: a worker process's own chain, reload machinery and config watcher.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Once, Weak};
use std::time::Duration;

use sip_interop_abi::sdk::{Reply, ResponseVerdict, Verdict};
use sip_interop_abi::sip::{disposition_of, Disposition, Message, Method};

use super::arrival::Arrival;
use super::decision::{Action, Decision, MessageEdits, ResponseDecision};
use super::diff::edits_between;
use super::tx_state;
use crate::chain::TxContext;
use crate::config::load_file;
use crate::Host;

/// Why a call is refused when it comes from another process than the one that created the host.
pub const WRONG_PROCESS: &str = "this SIP Interop Host was created in another process (before the \
proxy forked its workers?): create the host in the worker process that uses it";

/// How often the watcher compares the config and plugin files, at most: a change reaches every
/// worker within this much (plus the reload itself).
const WATCH_EVERY_MAX: Duration = Duration::from_millis(1000);

struct Inner {
    host: Host,
    pid: u32,
    next_tx: AtomicU64,
    /// Wakes the reloader thread for a reload off the message path (its trigger); the thread ends when
    /// this sender is dropped with the host.
    reload_soon: std::sync::mpsc::Sender<&'static str>,
}

/// A host embedded in a worker process of another proxy. Create it in that worker (after the fork):
/// it loads plugins and starts a watcher thread. Cheap to clone; the watcher stops with the last clone.
#[derive(Clone)]
pub struct EmbeddedHost {
    inner: Arc<Inner>,
}

/// Install the log subscriber once per process (the host's `[logging]`, to stderr, where Kamailio run
/// with `-E` writes its own log).
fn init_logging(cfg: &crate::config::LoggingConfig) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| crate::logging::init(cfg));
}

fn one_line(s: String) -> String {
    s.replace(['\r', '\n'], " ")
}

impl EmbeddedHost {
    /// Load `config_path` and build its chain in this process. `Err` is one line naming the problem.
    pub fn open(config_path: &Path) -> Result<EmbeddedHost, String> {
        let loaded = load_file(config_path).map_err(|e| one_line(e.to_string()))?;
        init_logging(&loaded.config.logging);
        let every = Duration::from_millis(loaded.config.reload.watch_interval_ms.max(50))
            .min(WATCH_EVERY_MAX);
        let host = Host::from_config(loaded).map_err(|e| one_line(e.to_string()))?;
        let pid = std::process::id();
        let (reload_soon, requests) = std::sync::mpsc::channel();
        let inner = Arc::new(Inner {
            host,
            pid,
            next_tx: AtomicU64::new(1),
            reload_soon,
        });
        spawn_reloader(Arc::downgrade(&inner), requests, every);
        tracing::info!(
            pid,
            config = %config_path.display(),
            generation = inner.host.generation(),
            "SIP Interop Host embedded in this worker"
        );
        Ok(EmbeddedHost { inner })
    }

    /// The host itself (metrics, config, generation).
    pub fn host(&self) -> &Host {
        &self.inner.host
    }

    /// Generation of the live chain.
    pub fn generation(&self) -> u64 {
        self.inner.host.generation()
    }

    /// `Err(WRONG_PROCESS)` when called from another process than the one that created this host.
    pub fn check_process(&self) -> Result<(), &'static str> {
        if std::process::id() == self.inner.pid {
            Ok(())
        } else {
            Err(WRONG_PROCESS)
        }
    }

    /// Reload the config file and plugins in the background, off the message path: the caller goes on
    /// with the running chain, which the reloader thread swaps (or, refused, keeps and logs) shortly.
    pub fn reload_soon(&self, trigger: &'static str) -> Result<(), &'static str> {
        self.check_process()?;
        self.inner
            .reload_soon
            .send(trigger)
            .map_err(|_| "the reloader thread is not running")
    }

    /// Reload the config file and plugins now, in the calling thread; on failure the running chain
    /// stays and `Err` says why.
    pub fn reload(&self, trigger: &str) -> Result<u64, String> {
        self.check_process()?;
        self.inner
            .host
            .reload(trigger)
            .map_err(|e| one_line(e.to_string()))
    }

    fn context(&self, a: &Arrival<'_>) -> TxContext {
        let id = (u64::from(self.inner.pid) << 32) | self.inner.next_tx.fetch_add(1, Relaxed);
        let mut ctx = TxContext::new(a.source, a.local, a.transport, id);
        ctx.tls_peer_names = a.tls_peer_names.iter().map(|n| n.as_str().into()).collect();
        ctx
    }

    /// Walk a request through the chain and say what the proxy should do with it. `Err(WRONG_PROCESS)`
    /// when called from another process than the one that created this host.
    pub fn request(&self, a: &Arrival<'_>) -> Result<Decision, &'static str> {
        self.check_process()?;
        Ok(self.decide_request(a))
    }

    fn decide_request(&self, a: &Arrival<'_>) -> Decision {
        let host_decides = |action: Action, why: String| Decision {
            edits: MessageEdits::default(),
            action,
            decided_by: None,
            host_reason: Some(why),
            transaction_state: String::new(),
            generation: self.generation(),
        };
        let msg = match Message::parse(a.bytes) {
            Ok(m) => m,
            Err(e) => return host_decides(Action::Drop, format!("unparseable request: {e}")),
        };
        let is_ack = msg.method() == Some(Method::Ack);
        match disposition_of(&msg) {
            Disposition::Forward => {}
            Disposition::Drop { why } => return host_decides(Action::Drop, why),
            Disposition::Reject { .. } if is_ack => {
                return host_decides(
                    Action::Drop,
                    "malformed ACK (an ACK is never answered)".into(),
                )
            }
            Disposition::Reject {
                status,
                reason,
                unsupported,
            } => {
                let mut reply = Reply::new(status, &one_line(reason.clone()));
                if !unsupported.is_empty() {
                    reply = reply.header("Unsupported", &unsupported.join(", "));
                }
                return host_decides(Action::Reply(reply), reason);
            }
        }
        let chain = self.inner.host.snapshot();
        let mut ctx = self.context(a);
        let out = chain.run_request(&msg, &mut ctx, self.inner.host.metrics(), None);
        let edits = match out.edited.as_deref().map(Message::parse) {
            Some(Ok(edited)) => edits_between(&msg, &edited),
            // The chain checks every fold parses; nothing to apply otherwise.
            Some(Err(_)) | None => MessageEdits::default(),
        };
        let decided_by = out.decided_by.map(|i| chain.links[i].name.clone());
        let (action, host_reason) = match out.verdict {
            Verdict::Continue => (Action::Relay, None),
            Verdict::Route(targets) => (Action::Forward(targets), None),
            Verdict::Respond(_) if is_ack => (
                Action::Drop,
                Some("a plugin answered an ACK: an ACK is never answered, it is dropped".into()),
            ),
            Verdict::Respond(r) => (Action::Reply(r), None),
            Verdict::Drop => (Action::Drop, None),
        };
        Decision {
            edits,
            action,
            decided_by,
            host_reason,
            transaction_state: tx_state::encode(&ctx.scratchpad),
            generation: chain.generation,
        }
    }

    /// Walk a response back through the chain. `transaction_state` is what [`Self::request`] returned
    /// for its request (empty when unknown). `Err(WRONG_PROCESS)` as for requests.
    pub fn response(
        &self,
        a: &Arrival<'_>,
        transaction_state: &str,
    ) -> Result<ResponseDecision, &'static str> {
        self.check_process()?;
        Ok(self.decide_response(a, transaction_state))
    }

    fn decide_response(&self, a: &Arrival<'_>, transaction_state: &str) -> ResponseDecision {
        let host_drops = |why: String| ResponseDecision {
            edits: MessageEdits::default(),
            drop: true,
            host_reason: Some(why),
            generation: self.generation(),
        };
        let msg = match Message::parse(a.bytes) {
            Ok(m) if !m.is_request() => m,
            Ok(_) => return host_drops("a request handed over as a response".into()),
            Err(e) => return host_drops(format!("unparseable response: {e}")),
        };
        if let Err(e) = msg.validate() {
            return host_drops(format!("malformed response: {e}"));
        }
        let mut ctx = self.context(a);
        match tx_state::decode(transaction_state) {
            Ok(pad) => ctx.scratchpad = pad,
            Err(e) => tracing::warn!("response walked without the request's facts: {e}"),
        }
        let chain = self.inner.host.snapshot();
        let out = chain.run_response(&msg, &mut ctx, self.inner.host.metrics(), None);
        let edits = match out.edited.as_deref().map(Message::parse) {
            Some(Ok(edited)) => edits_between(&msg, &edited),
            Some(Err(_)) | None => MessageEdits::default(),
        };
        ResponseDecision {
            edits,
            drop: out.verdict == ResponseVerdict::Drop,
            host_reason: None,
            generation: chain.generation,
        }
    }
}

/// The reloader of one worker: reloads when asked ([`EmbeddedHost::reload_soon`]) and when the config or
/// plugin files changed (compared every `every`). Holds only a weak reference: it ends with the host.
fn spawn_reloader(inner: Weak<Inner>, requests: Receiver<&'static str>, every: Duration) {
    let first = match inner.upgrade() {
        Some(i) => i.host.watch_signature(),
        None => return,
    };
    let spawned = std::thread::Builder::new()
        .name("sip-interop-watch".into())
        .spawn(move || {
            let mut seen = first;
            loop {
                let asked = match requests.recv_timeout(every) {
                    Ok(trigger) => Some(trigger),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                };
                let Some(i) = inner.upgrade() else { return };
                let now = i.host.watch_signature();
                let trigger = match asked {
                    Some(t) => t,
                    None if now != seen => "config file changed",
                    None => continue,
                };
                seen = now;
                // A refused reload is logged and counted by the host; the old chain stays.
                let _ = i.host.reload(trigger);
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the config watcher (reload on file change is off): {e}");
    }
}
