//! `parse`: the message core on arbitrary bytes.
//!
//! Checks that [`Message::parse`] never panics and, when it accepts the bytes, that every typed
//! accessor, the strict validation, the proxy disposition and the view's span index hold up (see
//! [`sip_interop_fuzz::exercise_message`]); that [`proxy_disposition`] agrees with parsing plus
//! [`disposition_of`]; and that stream framing ([`frame`]) never panics and never claims more
//! bytes than it was given.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_interop_abi::sip::{disposition_of, frame, proxy_disposition, Frame, Message};
use sip_interop_fuzz::touch;

fuzz_target!(|data: &[u8]| {
    let disposition = proxy_disposition(data);
    match Message::parse(data) {
        Ok(m) => {
            sip_interop_fuzz::exercise_message(&m);
            assert_eq!(disposition, disposition_of(&m));
        }
        Err(e) => {
            touch(e.to_string());
        }
    }
    match frame(data, 16384, 1 << 20) {
        Frame::Complete { len } | Frame::KeepAlive { len } => {
            assert!(
                len > 0 && len <= data.len(),
                "frame length {len} of {}",
                data.len()
            );
        }
        Frame::Incomplete => {}
        Frame::Invalid(e) => {
            touch(e.to_string());
        }
    }
});
