//! Test plugin: counts the requests it has seen and hands the count to its successor on a hot swap.
//! Stamps each request with `X-Seen` (the running count), `X-Label-<label>` (its configured label) and
//! `X-Chain` (the generation of the chain it runs on), so tests can see which instance handled what.

use serde::Deserialize;
use sip_interop_abi::prelude::*;
use sip_interop_abi::sdk::ConfigError;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    label: String,
    #[serde(default)]
    refuse_import: bool,
}

struct Stateful {
    label: String,
    refuse_import: bool,
    seen: AtomicU64,
}

impl Plugin for Stateful {
    const EXAMPLE_CONFIG: &'static str = "label = \"a\"\n";
    const HOOKS: u32 = sip_interop_abi::ffi::hooks::REQUEST
        | sip_interop_abi::ffi::hooks::RESPONSE
        | sip_interop_abi::ffi::hooks::STATE
        | sip_interop_abi::ffi::hooks::TIMER;

    fn on_request(&self, req: &mut Request<'_>, ctx: &mut Context<'_>) -> Verdict {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        req.add_header("X-Seen", &n.to_string());
        req.add_header(&format!("X-Label-{}", self.label), "1");
        req.add_header("X-Chain", &ctx.chain_generation().to_string());
        ctx.set_text(
            &format!("stateful.{}", self.label),
            &ctx.chain_generation().to_string(),
        );
        if req.header("X-Arm-Timer").is_some() {
            sip_interop_abi::sdk::host::arm_timer(std::time::Duration::from_millis(10), n);
        }
        Verdict::Continue
    }

    fn on_response(&self, resp: &mut Response<'_>, ctx: &mut Context<'_>) -> ResponseVerdict {
        let seen_by_request = ctx
            .get_text(&format!("stateful.{}", self.label))
            .unwrap_or("none")
            .to_string();
        resp.add_header("X-Request-Chain", &seen_by_request);
        resp.add_header("X-Response-Chain", &ctx.chain_generation().to_string());
        ResponseVerdict::Continue
    }

    fn on_timer(&self, token: u64) {
        sip_interop_abi::sdk::host::counter_add("timer_fired", 1);
        tracing::info!(token, "timer fired");
    }

    fn export_state(&self) -> Vec<u8> {
        self.seen.load(Ordering::SeqCst).to_le_bytes().to_vec()
    }

    fn import_state(&self, state: &[u8]) -> Result<(), String> {
        if self.refuse_import {
            return Err("configured to refuse imported state".into());
        }
        let bytes: [u8; 8] = state
            .try_into()
            .map_err(|_| format!("expected 8 bytes of state, got {}", state.len()))?;
        self.seen.store(u64::from_le_bytes(bytes), Ordering::SeqCst);
        Ok(())
    }
}

export_plugin!(Stateful, |c: Config| {
    if c.label.is_empty() || !c.label.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ConfigError::field(
            "label",
            "must be non-empty letters and digits",
        ));
    }
    Ok(Stateful {
        label: c.label,
        refuse_import: c.refuse_import,
        seen: AtomicU64::new(0),
    })
});
