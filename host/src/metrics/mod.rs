//! Metrics: lock-free counters and histograms on the hot path, rendered in the Prometheus text format.

mod histogram;
mod render;

pub use histogram::{Histogram, LATENCY_BUCKETS_SECONDS};
pub use render::render;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// Verdict kinds, in label order.
pub const VERDICT_KINDS: [&str; 4] = ["continue", "respond", "route", "drop"];

/// Per-plugin metrics. Keyed by the plugin's chain name, so they carry on across reloads.
#[derive(Default)]
pub struct PluginMetrics {
    /// Request hook calls.
    pub request_calls: AtomicU64,
    /// Response hook calls.
    pub response_calls: AtomicU64,
    /// Timer hook calls.
    pub timer_calls: AtomicU64,
    /// Panics caught in any hook.
    pub panics: AtomicU64,
    /// Hook calls whose edits were refused (line breaks, unparseable or invalid result).
    pub bad_edits: AtomicU64,
    /// Hook calls that took longer than the budget.
    pub budget_overruns: AtomicU64,
    /// Request verdicts by [`VERDICT_KINDS`].
    pub verdicts: [AtomicU64; 4],
    /// Hook latency.
    pub latency: Histogram,
    /// Counters the plugin keeps through the host services.
    pub custom_counters: Mutex<BTreeMap<String, u64>>,
    /// Gauges the plugin sets through the host services.
    pub custom_gauges: Mutex<BTreeMap<String, f64>>,
}

impl PluginMetrics {
    /// Count a request verdict.
    pub fn verdict(&self, kind: &str) {
        if let Some(i) = VERDICT_KINDS.iter().position(|k| *k == kind) {
            self.verdicts[i].fetch_add(1, Relaxed);
        }
    }

    /// Add to a plugin-defined counter.
    pub fn counter_add(&self, name: &str, v: u64) {
        let mut m = self
            .custom_counters
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *m.entry(name.to_string()).or_default() += v;
    }

    /// Set a plugin-defined gauge.
    pub fn gauge_set(&self, name: &str, v: f64) {
        let mut m = self.custom_gauges.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(name.to_string(), v);
    }
}

/// All metrics of one host.
#[derive(Default)]
pub struct Registry {
    plugins: Mutex<BTreeMap<String, Arc<PluginMetrics>>>,
    /// Successful reloads.
    pub reloads_ok: AtomicU64,
    /// Refused reloads (the old chain stayed in force).
    pub reloads_failed: AtomicU64,
    /// Generation of the live chain.
    pub chain_generation: AtomicU64,
    /// Plugin images loaded since start (never unmapped).
    pub images_loaded: AtomicU64,
    /// Bytes of plugin images retained in memory.
    pub images_retained_bytes: AtomicU64,
    /// Requests that walked the chain.
    pub requests: AtomicU64,
    /// Responses that walked the chain.
    pub responses: AtomicU64,
    /// Server transactions the standalone proxy created.
    pub proxy_transactions: AtomicU64,
    /// Requests refused with 503 at the transaction limit.
    pub proxy_overload: AtomicU64,
    /// Requests refused with 482 (loop).
    pub proxy_loops: AtomicU64,
}

impl Registry {
    /// The metrics of plugin `name`, created on first use.
    pub fn plugin(&self, name: &str) -> Arc<PluginMetrics> {
        let mut m = self.plugins.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(name.to_string()).or_default().clone()
    }

    /// A snapshot of the per-plugin metrics.
    pub fn plugins(&self) -> Vec<(String, Arc<PluginMetrics>)> {
        let m = self.plugins.lock().unwrap_or_else(|p| p.into_inner());
        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Read a counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Relaxed)
    }
}
