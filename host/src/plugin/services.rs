//! The host side of [`HostServices`]: every call arrives with the handle of the calling instance.

use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{ROption, RStr, RString};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::Instant;

use sip_interop_abi::ffi::{HostServices, HostServicesRef};

use super::timers::{self, TimerOwner};
use crate::directory::{normalise_aor, Directory};
use crate::metrics::PluginMetrics;

/// Receives the timers that plugins arm (the host's live chain).
pub trait TimerSink: Send + Sync {
    /// Deliver `token` to the live instance of chain entry `plugin`, if it is still the plugin
    /// `manifest_name` (a timer never reaches a different plugin that took over the name).
    fn fire(&self, plugin: &str, manifest_name: &str, token: u64);
}

struct Entry {
    plugin: Arc<str>,
    manifest_name: Arc<str>,
    metrics: Arc<PluginMetrics>,
    timers: Weak<dyn TimerSink>,
    directory: Option<Arc<dyn Directory>>,
}

fn registry() -> &'static RwLock<HashMap<u64, Entry>> {
    static R: OnceLock<RwLock<HashMap<u64, Entry>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

static NEXT: AtomicU64 = AtomicU64::new(1);

/// The service table, one for the process (only the handle differs between callers).
pub fn service_table() -> HostServicesRef {
    static T: OnceLock<HostServicesRef> = OnceLock::new();
    *T.get_or_init(|| {
        HostServices {
            log,
            log_enabled,
            counter_add,
            gauge_set,
            now_ns,
            arm_timer,
            cancel_timer,
            explaining,
            explain,
            directory_home,
        }
        .leak_into_prefix()
    })
}

/// A registered handle; unregistered on drop.
pub struct HandleGuard(u64);

impl HandleGuard {
    /// Register a handle for chain entry `plugin` running plugin `manifest_name`.
    pub fn register(
        plugin: &str,
        manifest_name: &str,
        metrics: Arc<PluginMetrics>,
        timers: Weak<dyn TimerSink>,
        directory: Option<Arc<dyn Directory>>,
    ) -> Self {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let entry = Entry {
            plugin: plugin.into(),
            manifest_name: manifest_name.into(),
            metrics,
            timers,
            directory,
        };
        registry()
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, entry);
        HandleGuard(id)
    }

    /// The handle number.
    pub fn id(&self) -> u64 {
        self.0
    }
}

impl Drop for HandleGuard {
    fn drop(&mut self) {
        registry()
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.0);
    }
}

fn with_entry<R>(handle: u64, f: impl FnOnce(&Entry) -> R) -> Option<R> {
    let r = registry().read().unwrap_or_else(|p| p.into_inner());
    r.get(&handle).map(f)
}

extern "C" fn log(handle: u64, level: u8, target: RStr<'_>, message: RStr<'_>) {
    let plugin = with_entry(handle, |e| e.plugin.clone()).unwrap_or_else(|| "unknown".into());
    let (plugin, target, message) = (&*plugin, target.as_str(), message.as_str());
    match level {
        1 => tracing::error!(target: "plugin", plugin, plugin_target = target, "{message}"),
        2 => tracing::warn!(target: "plugin", plugin, plugin_target = target, "{message}"),
        3 => tracing::info!(target: "plugin", plugin, plugin_target = target, "{message}"),
        4 => tracing::debug!(target: "plugin", plugin, plugin_target = target, "{message}"),
        _ => tracing::trace!(target: "plugin", plugin, plugin_target = target, "{message}"),
    }
}

extern "C" fn log_enabled(_handle: u64, level: u8) -> bool {
    match level {
        1 => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
        2 => tracing::enabled!(target: "plugin", tracing::Level::WARN),
        3 => tracing::enabled!(target: "plugin", tracing::Level::INFO),
        4 => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
        _ => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
    }
}

extern "C" fn counter_add(handle: u64, name: RStr<'_>, value: u64) {
    with_entry(handle, |e| e.metrics.counter_add(name.as_str(), value));
}

extern "C" fn gauge_set(handle: u64, name: RStr<'_>, value: f64) {
    with_entry(handle, |e| e.metrics.gauge_set(name.as_str(), value));
}

/// The host's monotonic clock origin.
pub fn epoch() -> Instant {
    static E: OnceLock<Instant> = OnceLock::new();
    *E.get_or_init(Instant::now)
}

extern "C" fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

fn owner_of(handle: u64) -> Option<TimerOwner> {
    with_entry(handle, |e| TimerOwner {
        plugin: e.plugin.clone(),
        manifest_name: e.manifest_name.clone(),
        sink: e.timers.clone(),
    })
}

extern "C" fn arm_timer(handle: u64, delay_ms: u64, token: u64) -> u64 {
    match owner_of(handle) {
        Some(owner) => timers::arm(owner, delay_ms, token),
        None => 0,
    }
}

extern "C" fn cancel_timer(handle: u64, timer_id: u64) -> bool {
    match owner_of(handle) {
        Some(caller) => timers::cancel(timer_id, &caller),
        None => false,
    }
}

thread_local! {
    /// The explanation being collected on this thread (`sip-interop explain`); `None` otherwise.
    static EXPLANATION: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Collect what plugins say through `explain` on this thread until [`take_explanation`].
pub fn start_explaining() {
    EXPLANATION.with(|e| *e.borrow_mut() = Some(Vec::new()));
}

/// The lines collected since [`start_explaining`] (collection goes on).
pub fn take_explanation() -> Vec<String> {
    EXPLANATION.with(|e| {
        e.borrow_mut()
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    })
}

/// Stop collecting on this thread.
pub fn stop_explaining() {
    EXPLANATION.with(|e| *e.borrow_mut() = None);
}

extern "C" fn explaining(_handle: u64) -> bool {
    EXPLANATION.with(|e| e.borrow().is_some())
}

extern "C" fn explain(_handle: u64, line: RStr<'_>) {
    EXPLANATION.with(|e| {
        if let Some(lines) = e.borrow_mut().as_mut() {
            lines.push(line.as_str().to_string());
        }
    });
}

extern "C" fn directory_home(handle: u64, aor: RStr<'_>) -> ROption<RString> {
    let key = normalise_aor(aor.as_str());
    with_entry(handle, |e| {
        e.directory
            .as_ref()
            .and_then(|d| d.home_of(&key).map(RString::from))
    })
    .flatten()
    .into()
}
