//! One configured plugin in the chain, with its metrics and failure policy.

use abi_stable::std_types::{RResult, RVec};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_interop_abi::ffi::{MessageFfi, ResponseVerdictFfi, VerdictFfi};
use sip_interop_abi::sip::{Edit, Message};

use super::TxContext;
use crate::config::PanicPolicy;
use crate::metrics::PluginMetrics;
use crate::plugin::Instance;

/// A plugin instance in the chain.
pub struct Link {
    /// Chain name (logs, metrics, explain).
    pub name: String,
    /// The instance.
    pub instance: Instance,
    /// What a panic does to the message.
    pub on_panic: PanicPolicy,
    /// Time budget per hook call.
    pub budget: Duration,
    /// Its metrics (shared with earlier generations of the same name).
    pub metrics: Arc<PluginMetrics>,
    /// Manifest hook bits.
    pub hooks: u32,
}

pub(crate) fn ffi_view<'a>(m: &'a Message<'a>) -> MessageFfi<'a> {
    MessageFfi {
        bytes: m.bytes().into(),
        start: *m.start_line(),
        headers: m.header_entries().into(),
        body: m.body_span(),
    }
}

impl Link {
    fn timed<T>(&self, f: impl FnOnce() -> T) -> (T, Duration) {
        let t0 = Instant::now();
        let out = f();
        let elapsed = t0.elapsed();
        self.metrics.latency.observe(elapsed);
        if elapsed > self.budget {
            self.metrics.budget_overruns.fetch_add(1, Relaxed);
            tracing::warn!(plugin = %self.name, elapsed_us = elapsed.as_micros() as u64, budget_ms = self.budget.as_millis() as u64, "plugin hook exceeded its time budget");
        }
        (out, elapsed)
    }

    /// Call the request hook. `Err` carries the panic message.
    pub fn on_request(
        &self,
        msg: &Message<'_>,
        ctx: &mut TxContext,
        generation: u64,
        edits: &mut RVec<Edit>,
    ) -> (Result<VerdictFfi, String>, Duration) {
        self.metrics.request_calls.fetch_add(1, Relaxed);
        let view = ffi_view(msg);
        let (r, d) = self.timed(|| {
            self.instance
                .hooks
                .on_request(view, &mut ctx.ffi(generation), edits)
        });
        (self.settle(r), d)
    }

    /// Call the response hook.
    pub fn on_response(
        &self,
        msg: &Message<'_>,
        ctx: &mut TxContext,
        generation: u64,
        edits: &mut RVec<Edit>,
    ) -> (Result<ResponseVerdictFfi, String>, Duration) {
        self.metrics.response_calls.fetch_add(1, Relaxed);
        let view = ffi_view(msg);
        let (r, d) = self.timed(|| {
            self.instance
                .hooks
                .on_response(view, &mut ctx.ffi(generation), edits)
        });
        (self.settle(r), d)
    }

    /// Call the timer hook.
    pub fn on_timer(&self, token: u64) {
        self.metrics.timer_calls.fetch_add(1, Relaxed);
        let (r, _) = self.timed(|| self.instance.hooks.on_timer(token));
        let _ = self.settle(r);
    }

    /// Count and log edits the host refused.
    pub fn edits_refused(&self, why: &str) {
        self.metrics.bad_edits.fetch_add(1, Relaxed);
        tracing::error!(plugin = %self.name, "plugin edits refused: {why}");
    }

    fn settle<T>(&self, r: RResult<T, abi_stable::std_types::RString>) -> Result<T, String> {
        match r {
            RResult::ROk(v) => Ok(v),
            RResult::RErr(e) => {
                self.metrics.panics.fetch_add(1, Relaxed);
                tracing::error!(plugin = %self.name, "plugin hook failed: {e}");
                Err(e.into_string())
            }
        }
    }
}
