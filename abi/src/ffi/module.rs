//! The root module every plugin shared object exports.

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RStr, RString};
use abi_stable::{declare_root_module_statics, package_version_strings, StableAbi};

use super::{HostServicesRef, Manifest, PluginInstanceBox};

/// The generation of the plugin interface. The host refuses a plugin whose generation differs, with a
/// one-line reason; `abi_stable` additionally checks the layout of every type reachable from the root.
pub const PLUGIN_INTERFACE_VERSION: u32 = 3;

/// The root module: what `export_plugin!` exports from a plugin's `cdylib`.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// [`PLUGIN_INTERFACE_VERSION`] as the plugin was built.
    pub interface_version: u32,
    /// Describes the plugin: name, version, hooks, documented example config.
    pub manifest: extern "C" fn() -> Manifest,
    /// Builds an instance from the plugin's config table (TOML text). `handle` identifies the instance
    /// in every host-service call. On failure returns one line: `field` U+001F `message` when a field
    /// of the table is at fault, else just the message (see `sdk::ConfigError::to_wire`).
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(
        config_toml: RStr<'_>,
        handle: u64,
        host: HostServicesRef,
    ) -> RResult<PluginInstanceBox, RString>,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "sip_interop_plugin";
    const NAME: &'static str = "sip_interop_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
