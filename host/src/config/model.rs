//! The configuration as typed values. Every table refuses unknown keys, so a typo is named.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The whole host configuration.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// SIP listeners (used by the standalone proxy).
    #[serde(default)]
    pub listen: Vec<ListenerConfig>,
    /// Admin and metrics listener.
    #[serde(default)]
    pub admin: AdminConfig,
    /// Logging.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// Reload behaviour.
    #[serde(default)]
    pub reload: ReloadConfig,
    /// The plugin chain, in order.
    #[serde(default)]
    pub chain: Vec<PluginEntry>,
}

/// A SIP transport name in the config.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum TransportName {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS.
    Tls,
}

/// One SIP listener.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// `udp`, `tcp` or `tls`.
    pub transport: TransportName,
    /// Address and port, e.g. `0.0.0.0:5060` or `[::]:5060`.
    pub address: SocketAddr,
}

/// Admin/metrics listener: `GET /metrics`, `GET /status`, `POST /reload`.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Address to listen on; keep it on loopback or a management network.
    #[serde(default = "default_admin_listen")]
    pub listen: SocketAddr,
    /// Set false to run without the admin listener (then `ctl` cannot reach this host).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn default_admin_listen() -> SocketAddr {
    "127.0.0.1:9060".parse().expect("constant address")
}

fn yes() -> bool {
    true
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: default_admin_listen(),
            enabled: true,
        }
    }
}

/// Log output format.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    /// A tracing filter: `info`, `debug`, `info,sip_interop_host::chain=debug`, …
    #[serde(default = "default_level")]
    pub level: String,
    /// `text` or `json`.
    #[serde(default)]
    pub format: LogFormat,
}

fn default_level() -> String {
    "info".into()
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            level: default_level(),
            format: LogFormat::Text,
        }
    }
}

/// Reload behaviour.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReloadConfig {
    /// Reload when the config file or a plugin file changes.
    #[serde(default)]
    pub watch: bool,
    /// How often to look for changes, in milliseconds.
    #[serde(default = "default_watch_interval")]
    pub watch_interval_ms: u64,
    /// Plugin images are never unmapped; refuse to load a new image once this many MiB are retained.
    #[serde(default = "default_retained")]
    pub max_retained_image_mib: u64,
    /// Where fresh copies of rebuilt plugins are made before loading (default: the system temp dir).
    #[serde(default)]
    pub image_dir: Option<PathBuf>,
}

fn default_watch_interval() -> u64 {
    1000
}

fn default_retained() -> u64 {
    512
}

impl Default for ReloadConfig {
    fn default() -> Self {
        ReloadConfig {
            watch: false,
            watch_interval_ms: default_watch_interval(),
            max_retained_image_mib: default_retained(),
            image_dir: None,
        }
    }
}

/// What a plugin panic does to the message it was handling.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum PanicPolicy {
    /// Answer a request with `500 Server Internal Error` (responses are passed on unchanged).
    #[default]
    Reject,
    /// Drop the message.
    Drop,
    /// Ignore the plugin for this message and go on with the next.
    Skip,
}

/// One plugin in the chain.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PluginEntry {
    /// Name in logs, metrics and `explain` (default: the plugin's manifest name). Unique in the chain.
    #[serde(default)]
    pub name: Option<String>,
    /// Path of the plugin shared object, relative to the config file's folder.
    pub plugin: PathBuf,
    /// Set false to keep the entry but not run it.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What a panic in this plugin does to the message.
    #[serde(default)]
    pub on_panic: PanicPolicy,
    /// Per-hook time budget in milliseconds; overruns are logged and counted.
    #[serde(default = "default_budget")]
    pub budget_ms: u64,
    /// The plugin's own table, validated by the plugin.
    #[serde(default)]
    pub config: toml::Table,
}

fn default_budget() -> u64 {
    5
}
