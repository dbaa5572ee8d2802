//! The stable binary interface between the host and plugin shared objects.
//!
//! Every type here is `#[repr(C)]` and derives [`StableAbi`], so `abi_stable` can compare the layout the
//! host expects with the layout a plugin was built with, and refuse a mismatch at load time instead of
//! crashing later. Plugin authors do not use this module: the [`crate::sdk`] wraps it.
//!
//! Evolution rules (see `docs/ARCHITECTURE.md`, "The ABI"): the root module is a prefix type, so a plugin
//! built against a *newer* interface loads in an *older* host; new capabilities are added as new, optional
//! fields after the last prefix field or as separately negotiated tables, never by changing an existing
//! type.

mod context;
mod host_services;
#[allow(non_local_definitions)] // abi_stable's #[sabi_trait] expansion
mod instance;
mod manifest;
mod module;
mod verdict;

pub use context::{ContextFfi, MessageFfi, PeerAddr, ScratchEntry, ScratchValue, Scratchpad};
pub use host_services::{HostServices, HostServicesRef};
pub use instance::{PluginInstance, PluginInstanceBox, PluginInstance_TO};
pub use manifest::{hooks, Manifest};
pub use module::{PluginModule, PluginModuleRef, PLUGIN_INTERFACE_VERSION};
pub use verdict::{ReplyFfi, ResponseVerdictFfi, TargetFfi, VerdictFfi};

pub use abi_stable;
