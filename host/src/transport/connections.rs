//! The table of live stream connections (accepted and outbound), by id and by remote address.

use super::stats::{dec, inc};
use super::{ConnectionId, SendError, Stats, Transport};
use std::collections::HashMap;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One live stream connection. The reader thread owns the read half; writers share
/// the write half through a mutex so messages never interleave.
pub(crate) struct Connection {
    /// Table key, carried in [`Inbound::connection`](super::Inbound::connection).
    pub(crate) id: ConnectionId,
    /// Tcp today; Tls rides on the same socket later.
    pub(crate) transport: Transport,
    /// The peer's address.
    pub(crate) remote: SocketAddr,
    /// Our address of this connection (the listener's for accepted ones).
    pub(crate) local: SocketAddr,
    /// Write half: any byte sink (a TcpStream clone today, a TLS writer later).
    writer: Mutex<Box<dyn Write + Send>>,
    /// The underlying socket, shut down on close so a blocked reader wakes at once.
    socket: TcpStream,
    closed: AtomicBool,
    created: Instant,
    /// Milliseconds after `created` of the last byte read or written.
    last_activity_ms: AtomicU64,
}

impl Connection {
    /// A connection over `socket`, writing through `writer`.
    pub(crate) fn new(
        id: ConnectionId,
        transport: Transport,
        remote: SocketAddr,
        local: SocketAddr,
        socket: TcpStream,
        writer: Box<dyn Write + Send>,
    ) -> Connection {
        Connection {
            id,
            transport,
            remote,
            local,
            writer: Mutex::new(writer),
            socket,
            closed: AtomicBool::new(false),
            created: Instant::now(),
            last_activity_ms: AtomicU64::new(0),
        }
    }

    /// Whether the connection has been closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Records traffic now (resets the idle timer).
    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.created.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_activity_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// Time since the last byte in either direction.
    pub(crate) fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_activity_ms.load(Ordering::Relaxed));
        self.created.elapsed().saturating_sub(last)
    }

    /// Writes all of `data`. The caller closes the connection when this fails: a partly
    /// written message leaves the stream unframeable.
    pub(crate) fn write(&self, data: &[u8]) -> Result<(), SendError> {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_closed() {
            return Err(SendError::ConnectionClosed);
        }
        writer
            .write_all(data)
            .and_then(|()| writer.flush())
            .map_err(SendError::Io)?;
        self.touch();
        Ok(())
    }

    /// Sends nothing more (FIN after what was written); reading goes on until the close.
    pub(crate) fn finish_writing(&self) {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = self.socket.shutdown(Shutdown::Write);
    }

    /// Marks the connection closed and shuts its socket; true only the first time.
    fn shut(&self) -> bool {
        if self.closed.swap(true, Ordering::AcqRel) {
            return false;
        }
        // Already shut by the peer is fine: the point is to wake the reader.
        let _ = self.socket.shutdown(Shutdown::Both);
        true
    }
}

#[derive(Default)]
struct Table {
    by_id: HashMap<ConnectionId, std::sync::Arc<Connection>>,
    by_remote: HashMap<(Transport, SocketAddr), Vec<ConnectionId>>,
}

/// Every live connection, bounded by `max_connections`.
pub(crate) struct ConnectionTable {
    table: Mutex<Table>,
    next_id: AtomicU64,
    max: usize,
}

impl ConnectionTable {
    /// An empty table holding at most `max` connections.
    pub(crate) fn new(max: usize) -> ConnectionTable {
        ConnectionTable {
            table: Mutex::new(Table::default()),
            next_id: AtomicU64::new(1),
            max,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh connection id (never reused).
    pub(crate) fn next_id(&self) -> ConnectionId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers `conn`; false (and counted as refused) when the table is full.
    pub(crate) fn insert(&self, conn: std::sync::Arc<Connection>, stats: &Stats) -> bool {
        let mut t = self.lock();
        if t.by_id.len() >= self.max {
            drop(t);
            inc(&stats.connections_refused);
            return false;
        }
        t.by_remote
            .entry((conn.transport, conn.remote))
            .or_default()
            .push(conn.id);
        t.by_id.insert(conn.id, conn);
        inc(&stats.connections_open);
        true
    }

    /// The live connection with this id.
    pub(crate) fn get(&self, id: ConnectionId) -> Option<std::sync::Arc<Connection>> {
        self.lock()
            .by_id
            .get(&id)
            .filter(|c| !c.is_closed())
            .cloned()
    }

    /// The newest live connection of `transport` to `remote`.
    pub(crate) fn find(
        &self,
        transport: Transport,
        remote: SocketAddr,
    ) -> Option<std::sync::Arc<Connection>> {
        let t = self.lock();
        t.by_remote
            .get(&(transport, remote))?
            .iter()
            .rev()
            .filter_map(|id| t.by_id.get(id))
            .find(|c| !c.is_closed())
            .cloned()
    }

    /// Every registered connection.
    pub(crate) fn all(&self) -> Vec<std::sync::Arc<Connection>> {
        self.lock().by_id.values().cloned().collect()
    }

    /// Closes `conn` (idempotent): shuts the socket and removes it from the table.
    pub(crate) fn close(&self, conn: &Connection, stats: &Stats) {
        if !conn.shut() {
            return;
        }
        let mut t = self.lock();
        if t.by_id.remove(&conn.id).is_some() {
            dec(&stats.connections_open);
        }
        let key = (conn.transport, conn.remote);
        if let Some(ids) = t.by_remote.get_mut(&key) {
            ids.retain(|id| *id != conn.id);
            if ids.is_empty() {
                t.by_remote.remove(&key);
            }
        }
    }
}
