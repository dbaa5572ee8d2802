//! Reading one stream connection: framing by Content-Length, keep-alives, timeouts.
//!
//! Works over any `Read` whose underlying socket has a read timeout of about
//! [`TICK`](super::limits::TICK), so TCP today and TLS later share this loop.

use super::connections::Connection;
use super::limits::{LINGER, LINGER_BYTES, STREAM_READ_CHUNK};
use super::refusal;
use super::shared::Shared;
use super::stats::inc;
use super::Inbound;
use sip_interop_abi::sip::{frame, Frame};
use std::io::{ErrorKind, Read};
use std::sync::Arc;
use std::time::Instant;

/// Reads messages from `conn` until it closes, then removes it from the table.
pub(crate) fn serve<R: Read>(shared: &Shared, conn: &Arc<Connection>, mut reader: R) {
    let reason = read_messages(shared, conn, &mut reader);
    tracing::debug!(
        id = conn.id,
        transport = conn.transport.as_str(),
        remote = %conn.remote,
        %reason,
        "connection closed"
    );
    shared.connections.close(conn, &shared.stats);
}

/// The read loop; returns why it ended.
fn read_messages(shared: &Shared, conn: &Connection, reader: &mut impl Read) -> String {
    let limits = &shared.limits;
    let mut buf = Vec::with_capacity(STREAM_READ_CHUNK);
    let mut chunk = vec![0u8; STREAM_READ_CHUNK];
    // When the first byte of the pending (incomplete) message arrived.
    let mut started: Option<Instant> = None;
    loop {
        if shared.is_stopped() {
            return "shutdown".into();
        }
        if conn.is_closed() {
            return "closed locally".into();
        }
        match reader.read(&mut chunk) {
            Ok(0) => return "closed by peer".into(),
            Ok(n) => {
                let now = Instant::now();
                conn.touch();
                buf.extend_from_slice(&chunk[..n]);
                let emitted = match drain_frames(shared, conn, &mut buf, now) {
                    Ok(emitted) => emitted,
                    Err(Closing { reason, answered }) => {
                        if answered {
                            linger(conn, reader);
                        }
                        return reason;
                    }
                };
                started = if only_crlf(&buf) {
                    None
                } else if emitted {
                    Some(now)
                } else {
                    started.or(Some(now))
                };
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return format!("read error: {e}"),
        }
        if let Some(t) = started {
            if t.elapsed() >= limits.message_timeout {
                inc(&shared.stats.connections_closed_timeout);
                return format!(
                    "message incomplete after {:?} ({} bytes buffered)",
                    limits.message_timeout,
                    buf.len()
                );
            }
        } else if conn.idle_for() >= limits.idle_timeout {
            inc(&shared.stats.connections_closed_timeout);
            return format!("idle for {:?}", limits.idle_timeout);
        }
    }
}

/// Why a connection must close, and whether an answer was written on it first.
struct Closing {
    reason: String,
    answered: bool,
}

impl From<String> for Closing {
    fn from(reason: String) -> Closing {
        Closing {
            reason,
            answered: false,
        }
    }
}

/// After an answer written just before closing: stop sending (FIN after the answer) and read
/// what the peer still sends, briefly, so the close does not turn into a reset that could destroy
/// the answer before the peer reads it (a "lingering close"). Bounded by [`LINGER`] and
/// [`LINGER_BYTES`].
fn linger(conn: &Connection, reader: &mut impl Read) {
    conn.finish_writing();
    let t0 = Instant::now();
    let mut discarded = 0;
    let mut chunk = [0u8; 4096];
    while t0.elapsed() < LINGER && discarded < LINGER_BYTES {
        match reader.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => discarded += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Emits every complete message at the front of `buf` and consumes keep-alives.
/// Returns whether a message was emitted, or why the connection must close.
fn drain_frames(
    shared: &Shared,
    conn: &Connection,
    buf: &mut Vec<u8>,
    now: Instant,
) -> Result<bool, Closing> {
    let limits = &shared.limits;
    let mut pos = 0;
    let mut emitted = false;
    let result = loop {
        match frame(&buf[pos..], limits.max_header_bytes, limits.max_body_bytes) {
            Frame::Complete { len } => {
                shared.deliver(Inbound {
                    data: buf[pos..pos + len].to_vec(),
                    source: conn.remote,
                    local: conn.local,
                    transport: conn.transport,
                    connection: Some(conn.id),
                    received_at: now,
                });
                pos += len;
                emitted = true;
            }
            Frame::KeepAlive { len } => {
                if len == 4 {
                    // RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong.
                    if let Err(e) = conn.write(b"\r\n") {
                        break Err(format!("keep-alive pong failed: {e}").into());
                    }
                    inc(&shared.stats.keepalives_answered);
                }
                pos += len;
            }
            Frame::Incomplete => break Ok(emitted),
            Frame::Invalid(e) => {
                // RFC 3261 §18.3: a stream that cannot be framed cannot be resynchronised.
                inc(&shared.stats.invalid_frames);
                tracing::warn!(
                    id = conn.id,
                    remote = %conn.remote,
                    error = %e,
                    "unframeable stream: closing connection"
                );
                // A request that can be answered is told why (513, 413 or 400) before the close.
                let answer = e.status.and_then(|status| {
                    let why = match status {
                        513 => format!("header section over {} bytes", limits.max_header_bytes),
                        413 => format!("body over {} bytes", limits.max_body_bytes),
                        _ => e.reason.clone(),
                    };
                    refusal::answer(&buf[pos..], limits.max_header_bytes, status, &why)
                });
                let answered = answer.is_some_and(|a| conn.write(&a).is_ok());
                if answered {
                    inc(&shared.stats.invalid_frames_answered);
                }
                break Err(Closing {
                    reason: format!("unframeable stream: {e}"),
                    answered,
                });
            }
        }
    };
    buf.drain(..pos);
    result
}

/// True for an empty buffer or a partial keep-alive (a lone CR/LF run shorter than a ping).
fn only_crlf(buf: &[u8]) -> bool {
    buf.iter().all(|b| *b == b'\r' || *b == b'\n')
}
