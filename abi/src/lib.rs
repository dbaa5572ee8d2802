//! # SIP Interop Host — plugin interface
//!
//! Everything a plugin and the host share:
//!
//! - [`sip`]: the zero-copy SIP message core (parser, typed header access, edits and the one-pass serialiser);
//! - [`ffi`]: the stable binary interface between the host and a plugin shared object (layout-checked by
//!   `abi_stable` at load time). Plugin authors never touch it directly;
//! - [`sdk`]: what plugin authors write against: the [`sdk::Plugin`] trait with no-op default hooks, the
//!   [`sdk::Request`]/[`sdk::Response`] views, the per-transaction [`sdk::Context`], and
//!   [`export_plugin!`].
//!
//! ```
//! use sip_interop_abi::prelude::*;
//!
//! #[derive(serde::Deserialize)]
//! struct Config { value: String }
//!
//! struct AddTag { value: String }
//!
//! impl Plugin for AddTag {
//!     fn on_request(&self, req: &mut Request<'_>, _ctx: &mut Context<'_>) -> Verdict {
//!         req.add_header("X-Interop", &self.value);
//!         Verdict::Continue
//!     }
//! }
//!
//! export_plugin!(AddTag, |config: Config| Ok(AddTag { value: config.value }));
//! ```

pub mod ffi;
pub mod sdk;
pub mod sip;

/// The common imports of a plugin crate.
pub mod prelude {
    pub use crate::export_plugin;
    pub use crate::ffi::hooks;
    pub use crate::sdk::{
        host, ConfigError, Context, Dialect, Plugin, Reply, Request, Response, ResponseVerdict,
        ScratchValue, Target, Transport, Verdict,
    };
    pub use crate::sip::{Message, Method};
}
