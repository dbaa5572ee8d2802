//! The host's configuration file (TOML): listeners, the plugin chain, admin/metrics, logging, reload.
//!
//! Errors name the file, line and column and say how to fix the problem (see [`ConfigError`]).

// Config errors carry file, line, setting and fix; they are built once per load, never on a hot path.
#![allow(clippy::result_large_err)]

mod error;
mod load;
mod locate;
mod model;

pub use error::ConfigError;
pub use load::{load_file, parse_str, LoadedConfig};
pub use locate::{line_col, locate_path};
pub use model::{
    AdminConfig, DirectoryConfig, HostConfig, ListenerConfig, LogFormat, LoggingConfig,
    PanicPolicy, PluginEntry, ProxyConfig, ReloadConfig, TransportName,
};
