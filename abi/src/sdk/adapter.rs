//! Wraps a [`Plugin`] as the wire-level [`PluginInstance`]: panics are caught here, inside the plugin,
//! and become `RErr` values the host counts.

use abi_stable::std_types::{RErr, ROk, RResult, RSlice, RString, RVec};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::host::with_handle;
use super::{Context, Plugin, Request, Response};
use crate::ffi::{ContextFfi, MessageFfi, PluginInstance, ResponseVerdictFfi, VerdictFfi};
use crate::sip::Edit;

/// A plugin instance plus the host handle it reports under.
pub struct Adapter<P: Plugin> {
    pub(crate) plugin: P,
    pub(crate) handle: u64,
}

/// Text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}

fn guarded<T>(handle: u64, f: impl FnOnce() -> T) -> RResult<T, RString> {
    match catch_unwind(AssertUnwindSafe(|| with_handle(handle, f))) {
        Ok(v) => ROk(v),
        Err(payload) => RErr(format!("panicked: {}", panic_message(&*payload)).into()),
    }
}

impl<P: Plugin> PluginInstance for Adapter<P> {
    fn on_request(
        &self,
        msg: MessageFfi<'_>,
        ctx: &mut ContextFfi<'_>,
        edits: &mut RVec<Edit>,
    ) -> RResult<VerdictFfi, RString> {
        guarded(self.handle, || {
            let mut req = Request::from_ffi(&msg, edits);
            let mut c = Context::from_ffi(ctx);
            self.plugin.on_request(&mut req, &mut c).into()
        })
    }

    fn on_response(
        &self,
        msg: MessageFfi<'_>,
        ctx: &mut ContextFfi<'_>,
        edits: &mut RVec<Edit>,
    ) -> RResult<ResponseVerdictFfi, RString> {
        guarded(self.handle, || {
            let mut resp = Response::from_ffi(&msg, edits);
            let mut c = Context::from_ffi(ctx);
            self.plugin.on_response(&mut resp, &mut c).into()
        })
    }

    fn on_timer(&self, token: u64) -> RResult<(), RString> {
        guarded(self.handle, || self.plugin.on_timer(token))
    }

    fn export_state(&self) -> RResult<RVec<u8>, RString> {
        guarded(self.handle, || RVec::from(self.plugin.export_state()))
    }

    fn import_state(&self, state: RSlice<'_, u8>) -> RResult<(), RString> {
        match guarded(self.handle, || self.plugin.import_state(state.as_slice())) {
            ROk(Ok(())) => ROk(()),
            ROk(Err(e)) => RErr(e.into()),
            RErr(e) => RErr(e),
        }
    }
}
