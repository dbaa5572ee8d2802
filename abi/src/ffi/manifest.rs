//! What a plugin says about itself.

use abi_stable::std_types::RString;
use abi_stable::StableAbi;

/// Bit flags for [`Manifest::hooks`].
pub mod hooks {
    /// The plugin acts on requests.
    pub const REQUEST: u32 = 1;
    /// The plugin acts on responses.
    pub const RESPONSE: u32 = 1 << 1;
    /// The plugin arms timers.
    pub const TIMER: u32 = 1 << 2;
    /// The plugin carries state across a hot swap (export/import).
    pub const STATE: u32 = 1 << 3;

    /// Names of the set bits, for reports.
    pub fn names(bits: u32) -> Vec<&'static str> {
        [
            (REQUEST, "request"),
            (RESPONSE, "response"),
            (TIMER, "timer"),
            (STATE, "state"),
        ]
        .into_iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n)
        .collect()
    }
}

/// The manifest a plugin exports.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Manifest {
    /// Crate name of the plugin.
    pub name: RString,
    /// Crate version of the plugin.
    pub version: RString,
    /// One sentence on what it does.
    pub description: RString,
    /// [`hooks`] bits.
    pub hooks: u32,
    /// Its documented example config table, as TOML text (the conformance harness loads it).
    pub example_config: RString,
    /// The config fields it accepts, one per line as `name: type — meaning`.
    pub config_schema: RString,
}
