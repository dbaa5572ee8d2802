//! What [`export_plugin!`](crate::export_plugin) expands to call. Not for direct use.

use abi_stable::library::{CheckTypeLayout, LibHeader, RootModuleResult};
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, ROk, RResult, RStr, RString};
use serde::de::DeserializeOwned;

use super::adapter::{panic_message, Adapter};
use super::{log_forward, parse_config, ConfigError, Plugin};
use crate::ffi::{
    HostServicesRef, Manifest, PluginInstanceBox, PluginInstance_TO, PluginModule, PluginModuleRef,
    PLUGIN_INTERFACE_VERSION,
};

/// The symbol abi_stable looks up in a plugin shared object. Checked against abi_stable's own constant
/// by a unit test, so an abi_stable upgrade that changes it fails the build's tests, not a deployment.
pub const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

/// Implemented by the type `export_plugin!` generates: ties the plugin type to its constructor.
pub trait Export: 'static {
    /// The plugin type.
    type Plugin: Plugin;
    /// Crate name (from the plugin's Cargo.toml).
    const NAME: &'static str;
    /// Crate version.
    const VERSION: &'static str;
    /// Parse the config table and build the plugin.
    fn construct(config_toml: &str) -> Result<Self::Plugin, ConfigError>;
}

/// Parse `config_toml` into `C` and call the plugin's constructor.
pub fn construct_with<C, P, F>(config_toml: &str, ctor: F) -> Result<P, ConfigError>
where
    C: DeserializeOwned,
    F: FnOnce(C) -> Result<P, ConfigError>,
{
    let config: C = parse_config(config_toml)?;
    ctor(config)
}

extern "C" fn manifest<E: Export>() -> Manifest {
    Manifest {
        name: E::NAME.into(),
        version: E::VERSION.into(),
        description: <E::Plugin as Plugin>::DESCRIPTION.into(),
        hooks: <E::Plugin as Plugin>::HOOKS,
        example_config: <E::Plugin as Plugin>::EXAMPLE_CONFIG.into(),
        config_schema: <E::Plugin as Plugin>::CONFIG_SCHEMA.into(),
    }
}

extern "C" fn create<E: Export>(
    config_toml: RStr<'_>,
    handle: u64,
    host: HostServicesRef,
) -> RResult<PluginInstanceBox, RString> {
    super::host::install(host, handle);
    log_forward::install();
    let built = std::panic::catch_unwind(|| {
        super::host::with_handle(handle, || E::construct(config_toml.as_str()))
    });
    match built {
        Ok(Ok(plugin)) => ROk(PluginInstance_TO::from_value(
            Adapter { plugin, handle },
            TD_Opaque,
        )),
        Ok(Err(e)) => RErr(e.to_wire().into()),
        Err(payload) => RErr(format!("constructor panicked: {}", panic_message(&*payload)).into()),
    }
}

fn root_module<E: Export>() -> PluginModuleRef {
    PluginModule {
        interface_version: PLUGIN_INTERFACE_VERSION,
        manifest: manifest::<E>,
        create: create::<E>,
    }
    .leak_into_prefix()
}

extern "C" fn erased_root_module<E: Export>() -> RootModuleResult {
    abi_stable::library::__call_root_module_loader(root_module::<E>)
}

/// The library header `export_plugin!` places under [`ROOT_MODULE_SYMBOL`].
pub const fn lib_header<E: Export>() -> LibHeader {
    // SAFETY: `erased_root_module::<E>` returns exactly what `__call_root_module_loader` makes of a
    // `PluginModuleRef` (abi_stable's own `#[export_root_module]` expands to the same pairing), so the
    // erased prefix it hands out was made from a `PluginModuleRef`, as `from_constructor` requires.
    unsafe {
        LibHeader::from_constructor::<PluginModuleRef>(
            erased_root_module::<E>,
            CheckTypeLayout::Yes,
        )
    }
}

/// Export a plugin type from a `cdylib` crate.
///
/// `export_plugin!(AddTag, |config: AddTagConfig| Ok(AddTag { value: config.value }));` (the crate
/// documentation has the whole plugin).
///
/// The closure receives the plugin's config table, already parsed into the type its argument names
/// (any `serde::Deserialize` type; use `#[serde(deny_unknown_fields)]`), and returns
/// `Result<Plugin, ConfigError>`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty, $ctor:expr) => {
        #[doc(hidden)]
        struct __SipInteropExport;

        impl $crate::sdk::export::Export for __SipInteropExport {
            type Plugin = $plugin;
            const NAME: &'static str = env!("CARGO_PKG_NAME");
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
            fn construct(
                config_toml: &str,
            ) -> ::std::result::Result<$plugin, $crate::sdk::ConfigError> {
                $crate::sdk::export::construct_with(config_toml, $ctor)
            }
        }

        #[doc(hidden)]
        #[export_name = "_1as_0lib_1header_0root_bmodule_bloader"]
        pub static __SIP_INTEROP_PLUGIN_ROOT: $crate::ffi::abi_stable::library::LibHeader =
            $crate::sdk::export::lib_header::<__SipInteropExport>();
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn root_module_symbol_matches_abi_stable() {
        assert_eq!(
            super::ROOT_MODULE_SYMBOL,
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }
}
