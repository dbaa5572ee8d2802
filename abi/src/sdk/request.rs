//! Request and response views: read through the zero-copy [`Message`], write by recording edits.

use abi_stable::std_types::{RString, RVec};
use std::ops::Deref;

use crate::ffi::MessageFfi;
use crate::sip::{Edit, HeaderPosition, Message};

/// Edit recording shared by [`Request`] and [`Response`].
pub struct Edits<'a> {
    list: &'a mut RVec<Edit>,
}

impl Edits<'_> {
    fn push(&mut self, e: Edit) {
        self.list.push(e);
    }
}

macro_rules! view {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<'a> {
            msg: Message<'a>,
            edits: Edits<'a>,
        }

        impl<'a> $name<'a> {
            /// A view of `msg` recording into `edits` (used by the SDK adapter and by tests).
            pub fn from_ffi(msg: &MessageFfi<'a>, edits: &'a mut RVec<Edit>) -> Self {
                let m = Message::from_parts(msg.bytes.as_slice(), msg.start, msg.headers.as_slice(), msg.body);
                $name { msg: m, edits: Edits { list: edits } }
            }

            /// The message as it reached this plugin (edits recorded by this plugin are not applied yet).
            pub fn message(&self) -> &Message<'a> {
                &self.msg
            }

            /// Edits recorded so far by this plugin.
            pub fn edits(&self) -> &[Edit] {
                self.edits.list.as_slice()
            }

            /// Add a header after the last one.
            pub fn add_header(&mut self, name: &str, value: &str) {
                self.edits.push(Edit::AddHeader { name: name.into(), value: value.into(), position: HeaderPosition::Last });
            }

            /// Add a header right after the start line.
            pub fn add_header_first(&mut self, name: &str, value: &str) {
                self.edits.push(Edit::AddHeader { name: name.into(), value: value.into(), position: HeaderPosition::First });
            }

            /// Remove every line of a header (name case-insensitive, compact forms included).
            pub fn remove_header(&mut self, name: &str) {
                self.edits.push(Edit::RemoveHeader { name: name.into() });
            }

            /// Remove the header line at `index` in [`Message::header_entries`].
            pub fn remove_header_at(&mut self, index: usize) {
                self.edits.push(Edit::RemoveHeaderAt { index: index as u32 });
            }

            /// Replace a header: its first line gets `value`, further lines go; added if absent.
            pub fn replace_header(&mut self, name: &str, value: &str) {
                self.edits.push(Edit::ReplaceHeader { name: name.into(), value: value.into() });
            }

            /// Replace the value of the header line at `index`.
            pub fn replace_header_at(&mut self, index: usize, value: &str) {
                self.edits.push(Edit::ReplaceHeaderAt { index: index as u32, value: value.into() });
            }

            /// Replace the body and its Content-Type (Content-Length is fixed by the host).
            pub fn replace_body(&mut self, content_type: &str, body: &[u8]) {
                self.edits.push(Edit::ReplaceBody { content_type: content_type.into(), body: body.into() });
            }

            /// Remove the body and its Content-Type.
            pub fn remove_body(&mut self) {
                self.edits.push(Edit::ReplaceBody { content_type: RString::new(), body: RVec::new() });
            }
        }

        impl<'a> Deref for $name<'a> {
            type Target = Message<'a>;
            fn deref(&self) -> &Message<'a> {
                &self.msg
            }
        }
    };
}

view! {
    /// A request as a plugin sees it.
    Request
}

view! {
    /// A response as a plugin sees it.
    Response
}

impl Response<'_> {
    /// Replace the status code and reason phrase.
    pub fn set_status(&mut self, code: u16, reason: &str) {
        self.edits.push(Edit::SetStatus {
            code,
            reason: reason.into(),
        });
    }
}

impl Request<'_> {
    /// Set the Request-URI.
    pub fn set_request_uri(&mut self, uri: &str) {
        self.edits.push(Edit::SetRequestUri(uri.into()));
    }

    /// Push a Via (the host pushes its own Via when it forwards; this is for plugins that act as a hop).
    pub fn push_via(&mut self, value: &str) {
        self.edits.push(Edit::PushVia {
            value: value.into(),
        });
    }

    /// Pop the topmost Via value.
    pub fn pop_via(&mut self) {
        self.edits.push(Edit::PopVia);
    }
}
