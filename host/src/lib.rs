//! # SIP Interop Host
//!
//! The host library: configuration, plugin loading, the hot-swappable chain, metrics, the admin
//! listener and the operator commands. See `docs/ARCHITECTURE.md`.

pub mod admin;
pub mod chain;
pub mod cli;
pub mod config;
pub mod conform;
pub mod directory;
pub mod embed;
mod host;
pub mod logging;
pub mod metrics;
pub mod plugin;
pub mod proxy;
pub mod reload;
pub mod transport;

pub use host::{Host, ReloadReport};
