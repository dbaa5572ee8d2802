//! SIP Interop Host as a shared object with a C ABI, for a C proxy (a Kamailio or OpenSIPS module, or
//! any other): `include/sip_interop.h`, generated from this crate by cbindgen.
//!
//! ```c
//! char err[256];
//! SipInteropHost *h = sip_interop_host_new("/etc/sip-interop/host.toml", err, sizeof err);  // in the worker
//! SipInteropArrival a = { msg, msg_len, "192.0.2.1", 5060, NULL, 0, SIP_INTEROP_TRANSPORT_UDP, NULL, 0 };
//! SipInteropDecision *d = NULL;
//! if (sip_interop_request(h, &a, &d) == SIP_INTEROP_STATUS_OK) {
//!     /* apply d->request_uri, d->remove_headers, d->add_headers, d->body; then d->action */
//!     sip_interop_decision_free(d);
//! }
//! sip_interop_host_free(h);
//! ```
//!
//! Everything unsafe in this crate is the pointer handling at the boundary (each with its `SAFETY:`
//! note); the work is done by the safe [`sip_interop_host::embed`] core.

mod decision;
mod input;

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use sip_interop_host::embed::EmbeddedHost;

pub use decision::{
    SipInteropAction, SipInteropDecision, SipInteropHeader, SipInteropStr, SipInteropTarget,
};
pub use input::{SipInteropArrival, SipInteropTransport};

/// What a call reports.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SipInteropStatus {
    /// Done; the out-parameter is set.
    Ok = 0,
    /// A NULL or unreadable argument (a bad address, a message length of 0, ...).
    InvalidArgument = 1,
    /// The host was created in another process (before a fork): create one in this process.
    WrongProcess = 2,
    /// The config (or a plugin) was refused; the error buffer names the problem, and for a reload the
    /// running chain stays in force.
    ConfigRefused = 3,
    /// An internal failure (a panic caught at the boundary); the message was not processed.
    InternalError = 4,
}

/// A host: one chain with its plugins, reload machinery and config watcher. Opaque.
pub struct SipInteropHost {
    inner: EmbeddedHost,
}

/// Copy `msg` into the caller's `buf` of `len` bytes, truncated and NUL-terminated.
fn write_error(buf: *mut c_char, len: usize, msg: &str) {
    if buf.is_null() || len == 0 {
        return;
    }
    let n = msg.len().min(len - 1);
    // SAFETY: the caller passes a writable buffer of `len` bytes (documented on every function taking
    // one); we write n + 1 <= len bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
        *buf.add(n) = 0;
    }
}

/// The library version, a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn sip_interop_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Create a host from the TOML config at `config_path` (NUL-terminated): loads the plugins and starts
/// the config watcher thread, so call it in the process that will use the host (after the proxy's
/// fork). Returns NULL when the config or a plugin is refused, with one line naming the problem in
/// `error` (a buffer of `error_len` bytes; may be NULL). Free with `sip_interop_host_free`.
///
/// # Safety
/// `config_path` is NULL or NUL-terminated; `error` is NULL or writable for `error_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sip_interop_host_new(
    config_path: *const c_char,
    error: *mut c_char,
    error_len: usize,
) -> *mut SipInteropHost {
    if config_path.is_null() {
        write_error(error, error_len, "config_path is NULL");
        return std::ptr::null_mut();
    }
    // SAFETY: not NULL (checked); the caller passes a NUL-terminated string that outlives the call.
    let path = unsafe { CStr::from_ptr(config_path) };
    let Ok(path) = path.to_str() else {
        write_error(error, error_len, "config_path is not UTF-8");
        return std::ptr::null_mut();
    };
    match catch_unwind(|| EmbeddedHost::open(std::path::Path::new(path))) {
        Ok(Ok(inner)) => Box::into_raw(Box::new(SipInteropHost { inner })),
        Ok(Err(e)) => {
            write_error(error, error_len, &e);
            std::ptr::null_mut()
        }
        Err(_) => {
            write_error(error, error_len, "internal error while starting the host");
            std::ptr::null_mut()
        }
    }
}

/// Destroy a host made by `sip_interop_host_new` (NULL is ignored). Decisions already returned stay
/// valid. Plugin code stays mapped (shared objects are never unloaded).
///
/// # Safety
/// `host` is NULL or a handle from `sip_interop_host_new`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn sip_interop_host_free(host: *mut SipInteropHost) {
    if host.is_null() {
        return;
    }
    // SAFETY: `host` came from Box::into_raw in sip_interop_host_new and is freed once (the caller's
    // contract, as for free()).
    let host = unsafe { Box::from_raw(host) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(host)));
}

/// Borrow the host behind a handle, or `None` for NULL.
fn host_ref<'a>(host: *const SipInteropHost) -> Option<&'a SipInteropHost> {
    // SAFETY: a non-NULL handle comes from sip_interop_host_new and is not yet freed (caller's
    // contract); the host is Sync, so shared references from several threads are fine.
    unsafe { host.as_ref() }
}

/// Run `f` on a valid host and arrival, catching panics, and store its decision in `*out`.
fn decide(
    host: *const SipInteropHost,
    arrival: *const SipInteropArrival,
    out: *mut *mut SipInteropDecision,
    f: impl FnOnce(
        &EmbeddedHost,
        &sip_interop_host::embed::Arrival<'_>,
    ) -> Result<decision::Owned, &'static str>,
) -> SipInteropStatus {
    if out.is_null() {
        return SipInteropStatus::InvalidArgument;
    }
    // SAFETY: `out` is not NULL (checked) and points to a writable pointer (caller's contract).
    unsafe { *out = std::ptr::null_mut() };
    let Some(h) = host_ref(host) else {
        return SipInteropStatus::InvalidArgument;
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `arrival` is NULL or points to a SipInteropArrival whose pointers are valid for this
        // call (caller's contract); input::read checks NULLs and lengths.
        let a = unsafe { input::read(arrival) }?;
        Some(f(&h.inner, &a))
    }));
    match result {
        Ok(Some(Ok(owned))) => {
            // SAFETY: as above; the decision is handed over to the caller, who frees it with
            // sip_interop_decision_free.
            unsafe { *out = owned.into_raw() };
            SipInteropStatus::Ok
        }
        // The one error the host reports for a readable call.
        Ok(Some(Err(_wrong_process))) => SipInteropStatus::WrongProcess,
        Ok(None) => SipInteropStatus::InvalidArgument,
        Err(_) => SipInteropStatus::InternalError,
    }
}

/// Walk a request through the chain. On `SIP_INTEROP_STATUS_OK`, `*out` holds the decision: apply its
/// edits (request_uri, remove_headers then add_headers, body), then its action. Free it with
/// `sip_interop_decision_free`. Keep `transaction_state` with the transaction for its responses.
///
/// # Safety
/// `host` is NULL or a live handle; `arrival` is NULL or valid as `SipInteropArrival` documents, for the call; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sip_interop_request(
    host: *const SipInteropHost,
    arrival: *const SipInteropArrival,
    out: *mut *mut SipInteropDecision,
) -> SipInteropStatus {
    decide(host, arrival, out, |h, a| {
        h.request(a).map(|d| decision::Owned::request(&d))
    })
}

/// Walk a response back through the chain. `transaction_state` (`state_len` bytes; NULL/0 when unknown)
/// is what the request's decision carried. The decision's action is RELAY or DROP, with edits to the
/// response's headers and body.
///
/// # Safety
/// as `sip_interop_request`, and `transaction_state` is NULL or readable for `state_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sip_interop_response(
    host: *const SipInteropHost,
    arrival: *const SipInteropArrival,
    transaction_state: *const c_char,
    state_len: usize,
    out: *mut *mut SipInteropDecision,
) -> SipInteropStatus {
    let state = if transaction_state.is_null() || state_len == 0 {
        String::new()
    } else {
        // SAFETY: not NULL (checked); the caller passes `state_len` readable bytes.
        let b = unsafe { std::slice::from_raw_parts(transaction_state.cast::<u8>(), state_len) };
        String::from_utf8_lossy(b).into_owned()
    };
    decide(host, arrival, out, |h, a| {
        h.response(a, &state).map(|d| decision::Owned::response(&d))
    })
}

/// Free a decision (NULL is ignored).
///
/// # Safety
/// `decision` is NULL or a decision from this library, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn sip_interop_decision_free(decision: *mut SipInteropDecision) {
    if decision.is_null() {
        return;
    }
    // SAFETY: `decision` came from sip_interop_request/_response (Owned::into_raw) and is freed once.
    let owned = unsafe { decision::Owned::from_raw(decision) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(owned)));
}

/// Reload the config file and plugins now (the config watcher also reloads on file changes within a
/// second). `SIP_INTEROP_STATUS_CONFIG_REFUSED`: the running chain stays, `error` says why.
///
/// # Safety
/// `host` is NULL or a live handle; `error` is NULL or writable for `error_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sip_interop_reload(
    host: *const SipInteropHost,
    error: *mut c_char,
    error_len: usize,
) -> SipInteropStatus {
    let Some(h) = host_ref(host) else {
        return SipInteropStatus::InvalidArgument;
    };
    if h.inner.check_process().is_err() {
        write_error(error, error_len, sip_interop_host::embed::WRONG_PROCESS);
        return SipInteropStatus::WrongProcess;
    }
    match catch_unwind(AssertUnwindSafe(|| h.inner.reload("sip_interop_reload"))) {
        Ok(Ok(_)) => SipInteropStatus::Ok,
        Ok(Err(e)) => {
            write_error(error, error_len, &e);
            SipInteropStatus::ConfigRefused
        }
        Err(_) => SipInteropStatus::InternalError,
    }
}

/// The generation of the live chain (1 after start, +1 per successful reload); 0 for NULL.
///
/// # Safety
/// `host` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn sip_interop_generation(host: *const SipInteropHost) -> u64 {
    host_ref(host).map_or(0, |h| h.inner.generation())
}
