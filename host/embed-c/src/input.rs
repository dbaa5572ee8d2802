//! What the proxy hands over, as C sees it, and its reading into the safe [`Arrival`].

use std::ffi::{c_char, CStr};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use sip_interop_abi::sdk::Transport;
use sip_interop_host::embed::{parse_ip, Arrival};

/// The transport a message arrived on.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SipInteropTransport {
    /// Not known.
    Any = 0,
    /// UDP.
    Udp = 1,
    /// TCP.
    Tcp = 2,
    /// TLS.
    Tls = 3,
    /// WebSocket.
    Ws = 4,
    /// Secure WebSocket.
    Wss = 5,
}

/// A message as the proxy received it. Every pointer is borrowed for the call only.
#[repr(C)]
pub struct SipInteropArrival {
    /// The raw message (start line, headers, body).
    pub message: *const u8,
    /// Its length in bytes.
    pub message_len: usize,
    /// The sender's IP address as text ("192.0.2.1", "2001:db8::1" or "[2001:db8::1]"), NUL-terminated.
    pub source_ip: *const c_char,
    /// The sender's port.
    pub source_port: u16,
    /// The proxy's receiving address as text, NUL-terminated; NULL when not known.
    pub local_ip: *const c_char,
    /// The proxy's receiving port (0 when not known).
    pub local_port: u16,
    /// The transport it arrived on: a `SipInteropTransport` value (unknown values read as ANY).
    pub transport: u8,
    /// The TLS peer's verified certificate names, NUL-terminated strings; NULL when none.
    pub tls_peer_names: *const *const c_char,
    /// How many names `tls_peer_names` holds.
    pub tls_peer_names_len: usize,
}

/// A NUL-terminated IP address, brackets allowed.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn ip(p: *const c_char) -> Option<IpAddr> {
    if p.is_null() {
        return None;
    }
    // SAFETY: not NULL; NUL-terminated by the caller's contract.
    parse_ip(unsafe { CStr::from_ptr(p) }.to_str().ok()?)
}

/// Read an arrival; `None` for a NULL arrival, message or source, or an unreadable address.
///
/// # Safety
/// `a` is NULL or points to a `SipInteropArrival` whose pointers are valid as documented, for the
/// lifetime `'a` of the returned value (the duration of the call).
pub(crate) unsafe fn read<'a>(a: *const SipInteropArrival) -> Option<Arrival<'a>> {
    // SAFETY: NULL or valid (contract above).
    let a = unsafe { a.as_ref() }?;
    if a.message.is_null() || a.message_len == 0 {
        return None;
    }
    // SAFETY: not NULL; `message_len` readable bytes (caller's contract).
    let bytes = unsafe { std::slice::from_raw_parts(a.message, a.message_len) };
    // SAFETY: NULL or NUL-terminated (contract).
    let source = SocketAddr::new(unsafe { ip(a.source_ip) }?, a.source_port);
    let transport = Transport::from_u8(a.transport);
    let mut arrival = Arrival::new(bytes, source, transport);
    // SAFETY: NULL or NUL-terminated (contract).
    if let Some(local) = unsafe { ip(a.local_ip) } {
        arrival.local = SocketAddr::new(local, a.local_port);
    } else {
        arrival.local = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), a.local_port);
    }
    if !a.tls_peer_names.is_null() {
        // SAFETY: not NULL; `tls_peer_names_len` pointers, each NULL or NUL-terminated (contract).
        let names = unsafe { std::slice::from_raw_parts(a.tls_peer_names, a.tls_peer_names_len) };
        for &n in names.iter().filter(|n| !n.is_null()) {
            // SAFETY: not NULL (filtered); NUL-terminated (contract).
            let name = unsafe { CStr::from_ptr(n) };
            arrival
                .tls_peer_names
                .push(name.to_string_lossy().into_owned());
        }
    }
    Some(arrival)
}
