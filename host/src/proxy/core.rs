//! The proxy core: what every worker runs for an inbound message or a due timer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use sip_interop_abi::sdk::ResponseVerdict;
use sip_interop_abi::sip::{disposition_of, Disposition, Message, Via};

use super::next_hop::{Dns, Health, Located, Query};
use super::timer::{TimerEvent, TimerKind, Timers};
use super::tx::{ServerTx, TxTable};
use crate::config::ProxyConfig;
use crate::transport::{Destination, Inbound, Transport, Transports};
use crate::Host;
use crossbeam_channel::Sender;

/// Everything the workers share.
pub struct Core {
    pub(super) host: Host,
    pub(super) cfg: ProxyConfig,
    pub(super) transports: Arc<Transports>,
    pub(super) table: TxTable,
    pub(super) timers: Arc<Timers>,
    pub(super) next_tx: AtomicU64,
    /// Our listening addresses: a Route or Via naming one of them is ours.
    pub(super) ours: Vec<SocketAddr>,
    /// The resolver thread (RFC 3263 lookups).
    pub(super) dns: Dns,
    /// Next-hop addresses that failed recently.
    pub(super) health: Health,
    /// Work handed back to the workers (DNS answers).
    pub(super) deferred: Sender<Deferred>,
}

/// Work a worker runs on behalf of another thread (the continuation of a DNS lookup).
pub type Deferred = Box<dyn FnOnce(&Core) + Send>;

impl Core {
    /// One message from a transport.
    pub fn inbound(&self, inb: Inbound) {
        let m = match Message::parse(&inb.data) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(source = %inb.source, "unparseable message dropped: {e}");
                return;
            }
        };
        tracing::trace!(source = %inb.source, transport = inb.transport.as_str(), "received {}", String::from_utf8_lossy(&inb.data[..inb.data.len().min(80)]).lines().next().unwrap_or(""));
        if let Some(why) = over_limits(&m, &self.cfg) {
            // Before any other work on it: 513 to a request (RFC 3261 §21.5.14), a response dropped.
            tracing::debug!(source = %inb.source, "message over a limit: {why}");
            if m.is_request() {
                let warning = format!("399 sip-interop \"{why}\"");
                self.reject(&inb, &m, 513, &[("Warning".to_string(), warning)]);
            }
            return;
        }
        if !m.is_request() {
            self.response(&inb, &m);
            return;
        }
        match disposition_of(&m) {
            Disposition::Forward => self.request(&inb, &m),
            Disposition::Reject {
                status,
                reason,
                unsupported,
            } => {
                tracing::debug!(source = %inb.source, status, "request refused: {reason}");
                let mut extra = Vec::new();
                if !unsupported.is_empty() {
                    extra.push(("Unsupported".to_string(), unsupported.join(", ")));
                }
                extra.push((
                    "Warning".to_string(),
                    format!("399 sip-interop \"{}\"", reason.replace('"', "'")),
                ));
                self.reject(&inb, &m, status, &extra);
            }
            Disposition::Drop { why } => {
                tracing::debug!(source = %inb.source, "request dropped: {why}")
            }
        }
    }

    /// A due timer.
    pub fn timer(&self, ev: TimerEvent) {
        let Some(txr) = ev.tx.upgrade() else { return };
        let mut tx = txr.lock().unwrap_or_else(|p| p.into_inner());
        if tx.ended {
            return;
        }
        match ev.branch {
            Some(b) => {
                if tx.branches.get(b).map(|br| br.gens[ev.kind as usize]) != Some(ev.generation) {
                    return;
                }
                self.branch_timer(&txr, &mut tx, b, ev.kind);
            }
            None => {
                if tx.gens[ev.kind as usize] != ev.generation {
                    return;
                }
                self.server_timer(&txr, &mut tx, ev.kind);
            }
        }
    }

    /// Look `query` up on the resolver thread; `then` runs on a worker with the answer. `false`
    /// when the resolver's queue is full (`then` is not called).
    pub(super) fn defer_lookup(
        &self,
        query: Query,
        then: impl FnOnce(&Core, Located) + Send + 'static,
    ) -> bool {
        let back = self.deferred.clone();
        self.dns.submit(query, move |found| {
            let _ = back.send(Box::new(move |core: &Core| then(core, found)));
        })
    }

    /// Send, logging failures (the transaction layer handles what follows).
    pub(super) fn send(&self, dest: &Destination, bytes: &[u8]) -> bool {
        tracing::trace!(to = %dest.addr, transport = dest.transport.as_str(), "send {}", String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).lines().next().unwrap_or(""));
        match self.transports.send(dest, bytes) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(to = %dest.addr, transport = dest.transport.as_str(), "send failed: {e}");
                false
            }
        }
    }

    /// Arm a server-side timer.
    pub(super) fn arm_server(
        &self,
        txr: &Arc<std::sync::Mutex<ServerTx>>,
        tx: &mut ServerTx,
        kind: TimerKind,
        after: std::time::Duration,
    ) {
        tx.gens[kind as usize] += 1;
        let previous = tx.timer_ids[kind as usize];
        tx.timer_ids[kind as usize] = self.timers.arm(
            after,
            TimerEvent {
                tx: Arc::downgrade(txr),
                branch: None,
                kind,
                generation: tx.gens[kind as usize],
            },
            previous,
        );
    }

    /// Arm a branch timer.
    pub(super) fn arm_branch(
        &self,
        txr: &Arc<std::sync::Mutex<ServerTx>>,
        tx: &mut ServerTx,
        b: usize,
        kind: TimerKind,
        after: std::time::Duration,
    ) {
        let br = &mut tx.branches[b];
        br.gens[kind as usize] += 1;
        let previous = br.timer_ids[kind as usize];
        br.timer_ids[kind as usize] = self.timers.arm(
            after,
            TimerEvent {
                tx: Arc::downgrade(txr),
                branch: Some(b),
                kind,
                generation: br.gens[kind as usize],
            },
            previous,
        );
    }

    /// Cancel a timer kind: its generation moves on (a timer already handed to a worker is then
    /// ignored) and the pending timer leaves the timer queue.
    pub(super) fn disarm_branch(&self, tx: &mut ServerTx, b: usize, kind: TimerKind) {
        let br = &mut tx.branches[b];
        br.gens[kind as usize] += 1;
        self.timers
            .cancel([std::mem::take(&mut br.timer_ids[kind as usize])]);
    }

    /// Cancel every timer of a transaction that leaves the table (its timers would be ignored).
    pub(super) fn disarm_all(&self, tx: &mut ServerTx) {
        let server = std::mem::take(&mut tx.timer_ids);
        let branches = tx
            .branches
            .iter_mut()
            .flat_map(|b| std::mem::take(&mut b.timer_ids));
        self.timers.cancel(server.into_iter().chain(branches));
    }

    /// Whether `host:port` names this proxy.
    pub(super) fn is_us(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_matches(['[', ']']);
        let Ok(ip) = host.parse::<std::net::IpAddr>() else {
            return false;
        };
        let port = port.unwrap_or(5060);
        self.ours.iter().any(|a| {
            a.port() == port
                && (a.ip() == ip
                    || (a.ip().is_unspecified() && (ip.is_loopback() || ip.is_unspecified())))
        })
    }

    /// Whether a SIP URI (as in a Route or Record-Route) names this proxy.
    pub(super) fn is_our_uri(&self, uri: &str) -> bool {
        sip_interop_abi::sip::Uri::parse(uri)
            .ok()
            .and_then(|u| u.as_sip().map(|s| self.is_us(s.host_text, s.port)))
            .unwrap_or(false)
    }

    /// RFC 3261 timers in this proxy's configuration.
    pub(super) fn t1(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.cfg.t1_ms)
    }

    pub(super) fn t2(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.cfg.t2_ms)
    }

    pub(super) fn t4(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.cfg.t4_ms)
    }

    /// Run a response (our Via already removed) through the transaction's chain and send it upstream.
    /// Returns the bytes sent, or `None` if a plugin dropped it.
    pub(super) fn forward_response(&self, tx: &mut ServerTx, bytes: &[u8]) -> Option<Vec<u8>> {
        let m = Message::parse(bytes).ok()?;
        let chain = tx.chain.clone();
        let out = chain.run_response(&m, &mut tx.ctx, self.host.metrics(), None);
        if out.verdict == ResponseVerdict::Drop {
            return None;
        }
        let sent = out.edited.unwrap_or_else(|| bytes.to_vec());
        self.send(&tx.reply_to, &sent);
        Some(sent)
    }

    /// Our Via value for a request leaving towards `dest`.
    pub(super) fn via_for(&self, dest: &Destination, branch: &str) -> String {
        let local = self.local_for(dest);
        let proto = if dest.transport == Transport::Tcp {
            "TCP"
        } else {
            "UDP"
        };
        format!("SIP/2.0/{proto} {local};branch={branch};rport")
    }

    /// Our address (as written in Via and Record-Route) towards `dest`.
    pub(super) fn local_for(&self, dest: &Destination) -> SocketAddr {
        let mut a = self
            .transports
            .local_addr_for(dest.transport, dest.addr)
            .or_else(|| self.ours.first().copied())
            .unwrap_or_else(|| "127.0.0.1:5060".parse().expect("constant"));
        if a.ip().is_unspecified() {
            a.set_ip(if dest.addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        a
    }

    /// New transaction number.
    pub(super) fn next_id(&self) -> u64 {
        self.next_tx.fetch_add(1, Relaxed)
    }
}

/// Why `m` is over the message limits of `cfg` (`max_headers` header fields, `max_header_bytes` of
/// start line and header fields), if it is. Constant time: the parse already counted and measured.
/// Streams enforce `max_header_bytes` while framing; this applies it to datagrams too.
pub(super) fn over_limits(m: &Message<'_>, cfg: &ProxyConfig) -> Option<String> {
    let fields = m.header_entries().len();
    if fields > cfg.max_headers {
        return Some(format!(
            "{fields} header fields: more than the {} this proxy accepts",
            cfg.max_headers
        ));
    }
    // The header section ends with an empty line (CRLF CRLF): up to 4 bytes beyond the limit are
    // those line ends, as when streams are framed.
    let head = m.body_span().start as usize;
    if head > cfg.max_header_bytes.saturating_add(4) {
        return Some(format!(
            "header section of {head} bytes: more than the {} this proxy accepts",
            cfg.max_header_bytes
        ));
    }
    None
}

/// Where the responses to a request go (RFC 3261 §18.2.2, RFC 3581 `rport`): back on the connection
/// for a stream; over UDP to the source address when the Via asks for `rport`, else to the source IP
/// and the Via's port.
pub(super) fn reply_dest(inb: &Inbound, m: &Message<'_>) -> Destination {
    if inb.transport != Transport::Udp {
        return Destination {
            transport: inb.transport,
            addr: inb.source,
            connection: inb.connection,
        };
    }
    let port = match m.top_via() {
        Some(Ok(v)) if v.rport().is_some() => inb.source.port(),
        Some(Ok(v)) => v.port.unwrap_or(5060),
        _ => inb.source.port(),
    };
    Destination {
        transport: Transport::Udp,
        addr: SocketAddr::new(inb.source.ip(), port),
        connection: None,
    }
}

/// Where a response goes when no transaction holds a destination for it: the (new) top Via's
/// received/rport, else its sent-by.
pub(super) fn via_dest(v: &Via<'_>) -> Option<Destination> {
    let transport = match v.transport.to_ascii_uppercase().as_str() {
        "TCP" => Transport::Tcp,
        "UDP" => Transport::Udp,
        _ => return None,
    };
    let ip = v
        .received()
        .and_then(|r| r.parse().ok())
        .or_else(|| v.host_text.trim_matches(['[', ']']).parse().ok())?;
    let port = v.rport().flatten().or(v.port).unwrap_or(5060);
    Some(Destination {
        transport,
        addr: SocketAddr::new(ip, port),
        connection: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(max_headers: usize, max_header_bytes: usize) -> ProxyConfig {
        ProxyConfig {
            max_headers,
            max_header_bytes,
            ..ProxyConfig::default()
        }
    }

    fn request(extra: &str) -> Vec<u8> {
        format!("OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n{extra}Content-Length: 0\r\n\r\n").into_bytes()
    }

    #[test]
    fn header_fields_over_the_limit_are_refused() {
        // Six header fields as written, plus the ones added here.
        let ok = request(&"X: y\r\n".repeat(4));
        let m = Message::parse(&ok).unwrap();
        assert_eq!(m.header_entries().len(), 10);
        assert_eq!(over_limits(&m, &cfg(10, 16_384)), None);
        let why = over_limits(&m, &cfg(9, 16_384)).expect("over the limit");
        assert!(why.starts_with("10 header fields"), "{why}");
        // Folded lines belong to their field.
        let folded = request("X: a\r\n b\r\n c\r\n");
        let m = Message::parse(&folded).unwrap();
        assert_eq!(over_limits(&m, &cfg(7, 16_384)), None);
    }

    #[test]
    fn a_header_section_over_the_byte_limit_is_refused_on_any_transport() {
        let long = request(&format!("X-Long: {}\r\n", "a".repeat(1000)));
        let m = Message::parse(&long).unwrap();
        let head = m.body_span().start as usize;
        assert_eq!(head, long.len(), "no body");
        // The limit counts the header section without its closing CRLF CRLF, as stream framing does.
        assert_eq!(over_limits(&m, &cfg(256, head - 4)), None);
        let why = over_limits(&m, &cfg(256, head - 5)).expect("over the limit");
        assert!(why.contains(&format!("{head} bytes")), "{why}");
        assert_eq!(over_limits(&m, &ProxyConfig::default()), None);
    }
}
