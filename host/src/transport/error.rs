//! The error `Transports::send` returns.

use super::Transport;
use std::fmt;

/// Why a message could not be sent.
#[derive(Debug)]
pub enum SendError {
    /// No listener of this transport and address family (`"IPv4"` / `"IPv6"`) to send from,
    /// or the transports have been shut down.
    NoListener(Transport, &'static str),
    /// Opening an outbound connection failed (refused, timed out, or `max_connections` reached).
    Connect(std::io::Error),
    /// Writing failed; a stream connection is closed after a failed write.
    Io(std::io::Error),
    /// The connection closed before the message could be written.
    ConnectionClosed,
    /// The message (this many bytes) is over the transport's size limit.
    TooLarge(usize),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NoListener(t, family) => {
                write!(f, "no {} listener for {family} destinations", t.as_str())
            }
            SendError::Connect(e) => write!(f, "connect failed: {e}"),
            SendError::Io(e) => write!(f, "write failed: {e}"),
            SendError::ConnectionClosed => f.write_str("connection closed"),
            SendError::TooLarge(n) => write!(f, "message of {n} bytes is too large to send"),
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Connect(e) | SendError::Io(e) => Some(e),
            _ => None,
        }
    }
}
