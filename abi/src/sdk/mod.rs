//! The plugin author's SDK: safe Rust over the [`crate::ffi`] interface.
//!
//! A plugin is a type that implements [`Plugin`] (every hook has a no-op default) and one
//! [`export_plugin!`](crate::export_plugin) line. The SDK turns panics into errors the host counts, forwards
//! the plugin's `tracing` events and panics into the host's log, and parses the plugin's config table
//! with errors that name the field.

mod adapter;
mod config;
mod context;
pub mod export;
pub mod host;
mod log_forward;
mod plugin;
mod request;
pub mod testing;
mod verdict;

pub use config::{parse_config, ConfigError};
pub use context::{Context, Dialect, LocalFailure, PEER_DIALECT_KEY};
pub use plugin::Plugin;
pub use request::{Request, Response};
pub use verdict::{Reply, ResponseVerdict, Target, Transport, Verdict};

pub use crate::ffi::ScratchValue;
