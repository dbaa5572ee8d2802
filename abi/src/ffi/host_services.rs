//! Services the host offers to plugins: logging, metrics, a monotonic clock and timers.

use abi_stable::std_types::{ROption, RStr, RString};
use abi_stable::StableAbi;

/// Function table handed to a plugin at construction, as a prefix type: a later host can add services
/// after the last prefix field without breaking plugins built against this one (a plugin asks for a
/// newer service through the `Option` accessor abi_stable generates for fields past the prefix).
///
/// Every call carries the `handle` of the calling plugin instance (given to `create`); the SDK passes
/// it back.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostServicesRef)))]
#[sabi(missing_field(option))]
pub struct HostServices {
    /// Emit a log record (`level`: 1 error, 2 warn, 3 info, 4 debug, 5 trace) into the host's tracing.
    pub log: extern "C" fn(handle: u64, level: u8, target: RStr<'_>, message: RStr<'_>),
    /// Whether a record at `level` would be emitted (so a plugin skips formatting otherwise).
    pub log_enabled: extern "C" fn(handle: u64, level: u8) -> bool,
    /// Add to a plugin counter exported as `sip_interop_plugin_counter_total{plugin,name}`.
    pub counter_add: extern "C" fn(handle: u64, name: RStr<'_>, value: u64),
    /// Set a plugin gauge exported as `sip_interop_plugin_gauge{plugin,name}`.
    pub gauge_set: extern "C" fn(handle: u64, name: RStr<'_>, value: f64),
    /// Monotonic clock in nanoseconds (same clock for every plugin in the process).
    pub now_ns: extern "C" fn() -> u64,
    /// Arm a one-shot timer; `on_timer(token)` runs on a host thread after `delay_ms`, in the instance
    /// of this chain entry that is live then. Returns a timer id (0: refused, the table is full).
    pub arm_timer: extern "C" fn(handle: u64, delay_ms: u64, token: u64) -> u64,
    /// Cancel one of this chain entry's timers by id; returns whether it was still pending.
    #[sabi(last_prefix_field)]
    pub cancel_timer: extern "C" fn(handle: u64, timer_id: u64) -> bool,
    /// Whether the current hook call runs under `sip-interop explain` (a dry run): the plugin then
    /// says why it decided what it did, through `explain`.
    pub explaining: extern "C" fn(handle: u64) -> bool,
    /// Add one line to the explanation of the current hook call (ignored outside a dry run).
    pub explain: extern "C" fn(handle: u64, line: RStr<'_>),
    /// The home (a SIP URI) of a user (`user@host`) in the host's directory; none when unknown.
    pub directory_home: extern "C" fn(handle: u64, aor: RStr<'_>) -> ROption<RString>,
}
