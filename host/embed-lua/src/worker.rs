//! This process's host: one per worker, created at the first message it handles.

use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;

use sip_interop_abi::sdk::Reply;
use sip_interop_host::config::load_file;
use sip_interop_host::embed::{
    Action, Arrival, Decision, EmbeddedHost, MessageEdits, ResponseDecision,
};

struct Worker {
    /// The process this state belongs to; state inherited through fork is discarded.
    pid: u32,
    config: Option<PathBuf>,
    host: Option<EmbeddedHost>,
    /// Why the host could not start (reported once per distinct reason, then counted).
    failed: Option<String>,
}

static WORKER: Mutex<Option<Worker>> = Mutex::new(None);

/// This process's worker state, after discarding one inherited from a parent process.
fn with_worker<T>(f: impl FnOnce(&mut Worker) -> T) -> T {
    let mut g = WORKER.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if g.as_ref().is_some_and(|w| w.pid != pid) {
        // A host created before the fork: its threads stayed in the parent. Never use or drop it here.
        if let Some(w) = g.take() {
            let config = w.config.clone();
            std::mem::forget(w);
            *g = Some(Worker {
                pid,
                config,
                host: None,
                failed: None,
            });
        }
    }
    let w = g.get_or_insert_with(|| Worker {
        pid,
        config: None,
        host: None,
        failed: None,
    });
    f(w)
}

/// The process that first configured the module. Kamailio runs the script in its main process before it
/// forks, then again in every child: a `configure` in another process than this one is after the fork,
/// where the host can start at once (its first message then does not pay for loading the plugins).
static FIRST_PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

pub fn configure(path: &str) -> Result<(), String> {
    let path = PathBuf::from(path);
    // Parse only: no plugin is loaded and no thread started (this may run before the fork).
    load_file(&path).map_err(|e| format!("sip_interop: {e}"))?;
    let after_fork = *FIRST_PID.get_or_init(std::process::id) != std::process::id();
    let result = configure_worker(path);
    if after_fork && result.is_ok() {
        // Start this worker's host now; a failure is logged and retried at the first message.
        let _ = host();
    }
    result
}

fn configure_worker(path: PathBuf) -> Result<(), String> {
    with_worker(|w| {
        let same = w.config.as_ref() == Some(&path);
        w.config = Some(path);
        w.failed = None;
        match &w.host {
            // Off the message path: this worker goes on with the running chain meanwhile.
            Some(h) if same => h
                .reload_soon("script reloaded")
                .map_err(|e| format!("sip_interop: {e}")),
            Some(_) => {
                // Another config file: start over with it at the next message.
                w.host = None;
                Ok(())
            }
            None => Ok(()),
        }
    })
}

/// The host of this worker, started on first use.
fn host() -> Result<EmbeddedHost, String> {
    with_worker(|w| {
        if let Some(h) = &w.host {
            return Ok(h.clone());
        }
        let Some(path) = w.config.clone() else {
            return Err("sip_interop.configure(path) was not called".to_string());
        };
        match EmbeddedHost::open(&path) {
            Ok(h) => {
                w.host = Some(h.clone());
                w.failed = None;
                Ok(h)
            }
            Err(e) => {
                if w.failed.as_deref() != Some(e.as_str()) {
                    eprintln!(
                        "sip_interop: the host cannot start in worker {}: {e}",
                        w.pid
                    );
                    w.failed = Some(e.clone());
                }
                Err(e)
            }
        }
    })
}

pub fn request(a: &Arrival<'_>) -> Decision {
    // This worker's own host (with_worker discards one inherited through fork), so the host's own
    // process check passes.
    match host().and_then(|h| h.request(a).map_err(String::from)) {
        Ok(d) => d,
        // No chain: fail closed, never route around the operator's policy.
        Err(e) => Decision {
            edits: MessageEdits::default(),
            action: Action::Reply(Reply::new(500, "Server Internal Error")),
            decided_by: None,
            host_reason: Some(format!("SIP Interop Host not running: {e}")),
            transaction_state: String::new(),
            generation: 0,
        },
    }
}

pub fn response(a: &Arrival<'_>, state: &str) -> ResponseDecision {
    match host().and_then(|h| h.response(a, state).map_err(String::from)) {
        Ok(d) => d,
        // The request could not have been forwarded by us; pass the answer on unchanged.
        Err(e) => ResponseDecision {
            edits: MessageEdits::default(),
            drop: false,
            host_reason: Some(format!("SIP Interop Host not running: {e}")),
            generation: 0,
        },
    }
}

pub fn reload() -> Result<u64, String> {
    host()?.reload("sip_interop.reload()")
}

pub struct Status {
    pub pid: u32,
    pub config: Option<String>,
    pub started: bool,
    pub generation: u64,
    pub requests: u64,
    pub responses: u64,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
    pub failed: Option<String>,
}

pub fn status() -> Status {
    with_worker(|w| {
        let m = w.host.as_ref().map(|h| h.host().metrics());
        Status {
            pid: w.pid,
            config: w.config.as_ref().map(|p| p.display().to_string()),
            started: w.host.is_some(),
            generation: w.host.as_ref().map_or(0, |h| h.generation()),
            requests: m.map_or(0, |m| m.requests.load(Relaxed)),
            responses: m.map_or(0, |m| m.responses.load(Relaxed)),
            reloads_ok: m.map_or(0, |m| m.reloads_ok.load(Relaxed)),
            reloads_failed: m.map_or(0, |m| m.reloads_failed.load(Relaxed)),
            failed: w.failed.clone(),
        }
    })
}
