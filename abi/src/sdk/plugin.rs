//! The trait a plugin implements. Its methods are the phases of a SIP transaction, in the order a
//! transaction lives them.

use super::{Context, Request, Response, ResponseVerdict, Verdict};
use crate::ffi::hooks;

/// A plugin: construct it from its config (see [`export_plugin!`](crate::export_plugin)), then the host
/// calls these hooks. Hooks run concurrently on several threads, so take `&self` and use interior
/// mutability for state. Every hook is optional.
pub trait Plugin: Send + Sync + Sized + 'static {
    /// One sentence for the manifest.
    const DESCRIPTION: &'static str = "";
    /// The documented example config table (TOML), loaded by the conformance harness.
    const EXAMPLE_CONFIG: &'static str = "";
    /// The config fields, one per line: `name: type — meaning`.
    const CONFIG_SCHEMA: &'static str = "";
    /// Which hooks this plugin uses ([`hooks`] bits); the host skips the others.
    const HOOKS: u32 = hooks::REQUEST | hooks::RESPONSE;

    /// A request walks the chain in configured order. Read it, record edits on `req`, and decide.
    fn on_request(&self, req: &mut Request<'_>, ctx: &mut Context<'_>) -> Verdict {
        let _ = (req, ctx);
        Verdict::Continue
    }

    /// A response walks the chain in reverse order. Record edits on `resp`; drop it if you must.
    fn on_response(&self, resp: &mut Response<'_>, ctx: &mut Context<'_>) -> ResponseVerdict {
        let _ = (resp, ctx);
        ResponseVerdict::Continue
    }

    /// A timer armed with [`crate::sdk::host::arm_timer`] fired.
    fn on_timer(&self, token: u64) {
        let _ = token;
    }

    /// Hot swap: hand the state that must survive to the successor (sessions, pending forks).
    fn export_state(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Hot swap: take over the predecessor's exported state. An error keeps the old chain in force.
    fn import_state(&self, state: &[u8]) -> Result<(), String> {
        let _ = state;
        Ok(())
    }
}
