//! Host services as a plugin calls them: clock, metrics, timers, the user directory and the dry-run
//! explanation. Logging goes through `tracing`.

use abi_stable::std_types::RStr;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use crate::ffi::HostServicesRef;

static SERVICES: OnceLock<HostServicesRef> = OnceLock::new();
/// The newest instance of this plugin image: calls made outside a hook (a plugin's own thread, a
/// `Drop`) are attributed to it, as it is the one the live chain runs after a swap.
static LATEST: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static CURRENT: Cell<Option<u64>> = const { Cell::new(None) };
    /// Outside a host (the [`crate::sdk::testing`] bench): explanation lines collected here.
    static BENCH_EXPLANATION: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Start or stop collecting explanation lines on this thread when no host is present.
pub(crate) fn bench_explaining(on: bool) -> Vec<String> {
    BENCH_EXPLANATION.with(|b| {
        let prev = b.borrow_mut().take().unwrap_or_default();
        *b.borrow_mut() = on.then(Vec::new);
        prev
    })
}

/// Remember the host's service table (the same for every instance; only the handle differs) and the
/// newest instance's handle.
pub(crate) fn install(services: HostServicesRef, handle: u64) {
    let _ = SERVICES.set(services);
    LATEST.store(handle, Ordering::Relaxed);
}

/// Run `f` with `handle` as the calling instance, so logs, metrics and timers are attributed to it.
pub(crate) fn with_handle<R>(handle: u64, f: impl FnOnce() -> R) -> R {
    let prev = CURRENT.with(|c| c.replace(Some(handle)));
    struct Restore(Option<u64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(prev);
    f()
}

pub(crate) fn services() -> Option<(HostServicesRef, u64)> {
    let s = *SERVICES.get()?;
    let handle = CURRENT
        .with(|c| c.get())
        .unwrap_or_else(|| LATEST.load(Ordering::Relaxed));
    Some((s, handle))
}

/// Monotonic time since an arbitrary origin shared by the host and all its plugins.
pub fn now() -> Duration {
    match services() {
        Some((s, _)) => Duration::from_nanos((s.now_ns())()),
        None => Duration::ZERO,
    }
}

/// Add `value` to this plugin's counter `name` (exported as `sip_interop_plugin_counter_total`).
pub fn counter_add(name: &str, value: u64) {
    if let Some((s, h)) = services() {
        (s.counter_add())(h, RStr::from(name), value);
    }
}

/// Set this plugin's gauge `name` (exported as `sip_interop_plugin_gauge`).
pub fn gauge_set(name: &str, value: f64) {
    if let Some((s, h)) = services() {
        (s.gauge_set())(h, RStr::from(name), value);
    }
}

/// Arm a one-shot timer: after `delay`, the host calls [`crate::sdk::Plugin::on_timer`] with `token`
/// on a host thread. Returns the timer id (0 when no host is attached, e.g. in a unit test).
pub fn arm_timer(delay: Duration, token: u64) -> u64 {
    match services() {
        Some((s, h)) => (s.arm_timer())(h, delay.as_millis().min(u64::MAX as u128) as u64, token),
        None => 0,
    }
}

/// Cancel a pending timer; returns whether it was still pending.
pub fn cancel_timer(timer_id: u64) -> bool {
    match services() {
        Some((s, h)) => (s.cancel_timer())(h, timer_id),
        None => false,
    }
}

/// Whether this hook call runs under `sip-interop explain`: only then is it worth building the
/// lines for [`explain`].
pub fn explaining() -> bool {
    match services() {
        Some((s, h)) => s.explaining().is_some_and(|f| f(h)),
        None => BENCH_EXPLANATION.with(|b| b.borrow().is_some()),
    }
}

/// Say, for the operator's dry run, one step of why this plugin decides what it does (a route
/// considered and why it matched or not). Costs nothing outside a dry run; check [`explaining`]
/// before formatting.
pub fn explain(line: &str) {
    match services() {
        Some((s, h)) => {
            if let Some(f) = s.explain() {
                f(h, RStr::from(line));
            }
        }
        None => BENCH_EXPLANATION.with(|b| {
            if let Some(v) = b.borrow_mut().as_mut() {
                v.push(line.to_string());
            }
        }),
    }
}

/// Where the host's directory says user `aor` (`user@host`) is homed: a SIP URI, or `None` when the
/// user is not in the directory (or the host has none).
pub fn directory_home(aor: &str) -> Option<String> {
    let (s, h) = services()?;
    let f = s.directory_home()?;
    f(h, RStr::from(aor)).into_option().map(|r| r.into_string())
}
