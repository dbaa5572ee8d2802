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
    /// The standalone proxy: transaction timers, limits, Record-Route.
    #[serde(default)]
    pub proxy: ProxyConfig,
    /// The user directory plugins consult (which system a user is homed on).
    #[serde(default)]
    pub directory: DirectoryConfig,
    /// The plugin chain, in order.
    #[serde(default)]
    pub chain: Vec<PluginEntry>,
}

/// Where the user directory comes from.
#[derive(Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// A TOML (`[[user]] aor, home`) or CSV (`aor,home`) file, relative to this config file;
    /// reloaded with the config. None: no directory (every lookup says "not here").
    #[serde(default)]
    pub file: Option<std::path::PathBuf>,
}

/// The standalone proxy's behaviour and limits.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// Worker threads that run the transaction layer and the chain (default: one per CPU core).
    #[serde(default)]
    pub workers: Option<usize>,
    /// Insert Record-Route in dialog-creating requests, so in-dialog requests come back through us.
    #[serde(default = "yes")]
    pub record_route: bool,
    /// RFC 3261 T1 (round-trip estimate), milliseconds.
    #[serde(default = "default_t1")]
    pub t1_ms: u64,
    /// RFC 3261 T2 (retransmit cap for non-INVITE requests and INVITE responses), milliseconds.
    #[serde(default = "default_t2")]
    pub t2_ms: u64,
    /// RFC 3261 T4 (how long a message can stay in the network), milliseconds.
    #[serde(default = "default_t4")]
    pub t4_ms: u64,
    /// RFC 3261 Timer C: how long an INVITE branch may ring without a final answer, seconds.
    #[serde(default = "default_timer_c")]
    pub timer_c_s: u64,
    /// Transactions in progress (no final answer yet) at most; beyond it new requests get 503 with
    /// Retry-After. Completed transactions that linger for their RFC 3261 timers do not count.
    #[serde(default = "default_max_transactions")]
    pub max_transactions: usize,
    /// Messages queued for the workers at most; beyond it new requests get 503 (or are dropped).
    #[serde(default = "default_queue")]
    pub queue_depth: usize,
    /// Retry-After seconds in a 503 sent at a limit.
    #[serde(default = "default_retry_after")]
    pub retry_after_s: u32,
    /// Largest UDP datagram accepted, bytes.
    #[serde(default = "default_udp_max")]
    pub max_udp_bytes: usize,
    /// Largest header section accepted on a stream, bytes.
    #[serde(default = "default_header_max")]
    pub max_header_bytes: usize,
    /// Largest body accepted on a stream, bytes.
    #[serde(default = "default_body_max")]
    pub max_body_bytes: usize,
    /// Most header fields (lines) in one message; a request with more is answered 513, a
    /// response with more is dropped.
    #[serde(default = "default_headers_max")]
    pub max_headers: usize,
    /// TCP connections at most (inbound and outbound together).
    #[serde(default = "default_connections")]
    pub max_connections: usize,
    /// A started stream message must complete within this many seconds (slow clients are closed).
    #[serde(default = "default_message_timeout")]
    pub message_timeout_s: u64,
    /// Idle TCP connections are closed after this many seconds.
    #[serde(default = "default_idle")]
    pub idle_timeout_s: u64,
    /// Name servers for next hops given by name (RFC 3263: NAPTR, SRV, A/AAAA), as `ip:port`;
    /// empty = the system's /etc/resolv.conf.
    #[serde(default)]
    pub dns_servers: Vec<std::net::SocketAddr>,
    /// Time for one DNS query, milliseconds.
    #[serde(default = "default_dns_timeout")]
    pub dns_timeout_ms: u64,
    /// A next-hop address that gives no answer at all (not even 100 Trying) within this many
    /// milliseconds is marked down and the request goes to its next address; the last address
    /// waits the full Timer B/F.
    #[serde(default = "default_next_hop_timeout")]
    pub next_hop_timeout_ms: u64,
    /// How long a failed next-hop address is tried last by later requests, seconds (a plugin's
    /// target can say otherwise).
    #[serde(default = "default_next_hop_down")]
    pub next_hop_down_s: u64,
}

fn default_dns_timeout() -> u64 {
    2000
}
fn default_next_hop_timeout() -> u64 {
    5000
}
fn default_next_hop_down() -> u64 {
    600
}

fn default_t1() -> u64 {
    500
}
fn default_t2() -> u64 {
    4000
}
fn default_t4() -> u64 {
    5000
}
fn default_timer_c() -> u64 {
    180
}
fn default_max_transactions() -> usize {
    100_000
}
fn default_queue() -> usize {
    16_384
}
fn default_retry_after() -> u32 {
    5
}
fn default_udp_max() -> usize {
    65_535
}
fn default_header_max() -> usize {
    16 * 1024
}
fn default_body_max() -> usize {
    1024 * 1024
}
fn default_headers_max() -> usize {
    256
}
fn default_connections() -> usize {
    1024
}
fn default_message_timeout() -> u64 {
    10
}
fn default_idle() -> u64 {
    300
}

impl Default for ProxyConfig {
    fn default() -> Self {
        toml::from_str("").expect("every proxy setting has a default")
    }
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
