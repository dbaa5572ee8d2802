//! A configured plugin instance.

use abi_stable::std_types::RResult;
use sip_interop_abi::ffi::PluginInstanceBox;
use sip_interop_abi::sdk::ConfigError;

use super::services::HandleGuard;
use super::Image;

/// A plugin instance built from an image and a config table. Dropping it releases its host handle.
pub struct Instance {
    /// The hooks.
    pub hooks: PluginInstanceBox,
    /// The image it runs from.
    pub image: Image,
    /// Its identity towards the host services (logs, metrics, timers).
    pub handle: HandleGuard,
}

impl Instance {
    /// Build an instance: the plugin validates `config_toml` and may refuse it naming a field.
    pub fn create(
        image: &Image,
        config_toml: &str,
        handle: HandleGuard,
    ) -> Result<Instance, ConfigError> {
        match (image.module.create())(
            config_toml.into(),
            handle.id(),
            super::services::service_table(),
        ) {
            RResult::ROk(hooks) => Ok(Instance {
                hooks,
                image: image.clone(),
                handle,
            }),
            RResult::RErr(e) => Err(ConfigError::from_wire(e.as_str())),
        }
    }
}
