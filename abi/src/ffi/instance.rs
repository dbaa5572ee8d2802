//! A configured plugin instance, as a layout-checked trait object.

use abi_stable::sabi_trait;
use abi_stable::std_types::{RBox, RResult, RSlice, RString, RVec};

use super::{ContextFfi, MessageFfi, ResponseVerdictFfi, VerdictFfi};
use crate::sip::Edit;

/// The hooks of a plugin instance. Every method returns `RErr(reason)` if the plugin panicked (the SDK
/// catches the panic inside the plugin: a panic never unwinds across this boundary).
#[sabi_trait]
pub trait PluginInstance: Send + Sync {
    /// A request walks the chain: read `msg`, push edits, decide.
    fn on_request(
        &self,
        msg: MessageFfi<'_>,
        ctx: &mut ContextFfi<'_>,
        edits: &mut RVec<Edit>,
    ) -> RResult<VerdictFfi, RString>;

    /// A response walks the chain backwards.
    fn on_response(
        &self,
        msg: MessageFfi<'_>,
        ctx: &mut ContextFfi<'_>,
        edits: &mut RVec<Edit>,
    ) -> RResult<ResponseVerdictFfi, RString>;

    /// A timer armed by this plugin fired.
    fn on_timer(&self, token: u64) -> RResult<(), RString>;

    /// Hand the plugin's state to its successor (hot swap).
    fn export_state(&self) -> RResult<RVec<u8>, RString>;

    /// Take over the state of the predecessor.
    #[sabi(last_prefix_field)]
    fn import_state(&self, state: RSlice<'_, u8>) -> RResult<(), RString>;
}

/// An owned plugin instance.
pub type PluginInstanceBox = PluginInstance_TO<'static, RBox<()>>;
