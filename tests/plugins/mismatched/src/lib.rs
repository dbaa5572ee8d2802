//! Test plugin: built against a different plugin interface. It exports a root module under the same name
//! as the real one, but whose `create` takes its config in another shape (as an older or newer interface
//! generation would), so the host's layout check must refuse it with one line.

use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RString};
use abi_stable::{
    declare_root_module_statics, export_root_module, package_version_strings, StableAbi,
};

#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = OtherModuleRef)))]
#[sabi(missing_field(panic))]
pub struct OtherModule {
    pub interface_version: u32,
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(config: u64) -> RResult<u64, RString>,
}

impl RootModule for OtherModuleRef {
    declare_root_module_statics! {OtherModuleRef}
    const BASE_NAME: &'static str = "sip_interop_plugin";
    const NAME: &'static str = "sip_interop_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

extern "C" fn create(config: u64) -> RResult<u64, RString> {
    RResult::ROk(config)
}

#[export_root_module]
pub fn root() -> OtherModuleRef {
    OtherModule {
        interface_version: 0,
        create,
    }
    .leak_into_prefix()
}
