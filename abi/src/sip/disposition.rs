//! What a stateless proxy must do with a received message.

use super::error::ParseError;
use super::message::Message;
use super::uri::Uri;

/// The outcome of [`proxy_disposition`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Process / forward the message.
    Forward,
    /// Answer the request with `status`.
    Reject {
        /// Status code (400, 416, 420, 483, 501, 505, ...).
        status: u16,
        /// Reason phrase / diagnostic.
        reason: String,
        /// Option tags for the `Unsupported` header (420 only).
        unsupported: Vec<String>,
    },
    /// Discard silently.
    Drop {
        /// Why it was dropped.
        why: String,
    },
}

impl Disposition {
    fn reject(status: u16, reason: impl Into<String>) -> Disposition {
        Disposition::Reject {
            status,
            reason: reason.into(),
            unsupported: Vec::new(),
        }
    }

    /// Maps a parse/validation error: a status means reject, `None` means drop.
    pub fn from_error(e: ParseError) -> Disposition {
        match e.status {
            Some(status) => Disposition::reject(status, e.reason),
            None => Disposition::Drop { why: e.reason },
        }
    }
}

/// Parses, validates and decides for a proxy that supports no extensions and
/// the `sip`, `sips` and `tel` URI schemes.
pub fn proxy_disposition(bytes: &[u8]) -> Disposition {
    match Message::parse(bytes) {
        Ok(m) => disposition_of(&m),
        Err(e) => Disposition::from_error(e),
    }
}

/// The disposition of an already-parsed message (see [`proxy_disposition`]). A request that would be
/// answered but has no readable top Via is dropped instead: an answer goes where the top Via says and
/// is matched by its branch (RFC 3261 §18.2.2, §17.1.3), so it could reach nobody. (A forwardable
/// request always has one: `validate` requires it.)
pub fn disposition_of(m: &Message<'_>) -> Disposition {
    match checks(m) {
        Disposition::Reject { .. } if m.is_request() && !matches!(m.top_via(), Some(Ok(_))) => {
            Disposition::Drop {
                why: "no readable Via: an answer could reach nobody".into(),
            }
        }
        d => d,
    }
}

fn checks(m: &Message<'_>) -> Disposition {
    if let Some(method) = m.method() {
        if method.is_extension() {
            if let Some(Ok(cseq)) = m.cseq() {
                if cseq.method != method {
                    return Disposition::reject(501, "Not Implemented");
                }
            }
        }
    }
    if let Err(e) = m.validate() {
        return Disposition::from_error(e);
    }
    if !m.is_request() {
        // The top Via is ours; the next one is where the response would go.
        for via in m.vias().take(2).flatten() {
            let bad_addr = |s: Option<&str>| {
                s.and_then(|s| super::host::Host::parse(s).ok())
                    .is_some_and(|h| h.is_broadcast_or_unspecified())
            };
            if via.host.is_broadcast_or_unspecified()
                || bad_addr(via.maddr())
                || bad_addr(via.received())
            {
                return Disposition::Drop {
                    why: format!(
                        "Via sent-by {} is a broadcast/unspecified address",
                        via.host_text
                    ),
                };
            }
        }
        return Disposition::Forward;
    }
    match m.request_uri() {
        Some(Ok(Uri::Sip(_) | Uri::Tel(_))) => {}
        _ => return Disposition::reject(416, "Unsupported URI Scheme"),
    }
    if let Some(Ok(0)) = m.max_forwards() {
        return Disposition::reject(483, "Too Many Hops");
    }
    let unsupported: Vec<String> = m.proxy_require().map(str::to_owned).collect();
    if !unsupported.is_empty() {
        return Disposition::Reject {
            status: 420,
            reason: "Bad Extension".into(),
            unsupported,
        };
    }
    Disposition::Forward
}
