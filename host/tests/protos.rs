//! PROTOS c07-sip (University of Oulu, 2002) against the running proxy: all 4527 test INVITEs, over
//! UDP on loopback (the 81 too large for one datagram over TCP, one connection each), to a callee
//! this test runs, which answers every INVITE 486. The suite runs twice: the first pass warms the
//! proxy up and gives the memory baseline, the second is measured against it.
//!
//! Every case must get exactly one treatment: answered 4xx/5xx by the proxy itself, forwarded to the
//! callee with its 486 relayed back, or dropped. Never a 2xx; never a forwarded message (nor an ACK
//! the proxy writes) that does not parse or pass the RFC 3261 checks; the same treatment in both
//! passes; what the running proxy does must agree with the checks it runs before any plugin (stream
//! framing, the message limits, `disposition_of`: the oracle `sip-interop check-message` prints, and
//! an answer only with a Via to send it to); and afterwards the proxy still routes calls, has not
//! panicked, and its memory is back near its baseline.
//!
//! Attribution: a case keeps either its Call-ID (`protos-NNNNNNN@…`) or its Via branch
//! (`z9hG4bK0000<n><NNNNNNN>`) intact: the Call-ID mutations (1468–1782) keep the Via, the Via
//! mutations (330–629) keep the Call-ID. Every answer the proxy writes copies both, and a forwarded
//! request keeps both, so cases can be sent concurrently (a window of [`WINDOW`]) and matched by
//! either; the proxy's own ACK to the callee is matched by its branch on the forwarded INVITE. A
//! message naming no case fails the test. Answers to a mutated Via port (no `rport`: RFC 3261
//! §18.2.2 sends them to that port) are caught by listeners on those ports where they can be bound.
//!
//! Bounded: about 30 s on two cores (debug build); the proxy runs with T1 = 50 ms so each
//! transaction is over within 64×T1 = 3.2 s, Timer C is 4 s, and DNS points at a closed loopback
//! port so names in mutated Request-URIs fail at once.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sip_interop_abi::sip::header_name::kind;
use sip_interop_abi::sip::{disposition_of, frame, Disposition, Frame, Message, Uri};
use sip_interop_host::conform::protos::{self, Case, Parties};
use support::sipp::{free_port, proxy_with};
use support::{status_field, temp_dir};

/// T1 of the proxy under test: 64×T1 = 3.2 s bounds every transaction.
const T1_MS: u64 = 50;
/// Cases in flight at once.
const WINDOW: usize = 32;
/// A case with no sign of life this long after it was sent frees its window slot (the verdict is
/// taken only at the end, with everything that arrived).
const QUIET: Duration = Duration::from_millis(300);
/// Nothing about a case can still be on its way this long after it was sent (64×T1 plus margin).
const HARD: Duration = Duration::from_millis(64 * T1_MS + 1500);
/// The largest UDP payload IPv4 can carry.
const UDP_MAX: usize = 65_507;
/// `[proxy] max_header_bytes` (the default).
const MAX_HEADER_BYTES: usize = 16_384;
/// What forwarding adds to an INVITE, in bytes: at least the proxy's Via (`Via: SIP/2.0/UDP
/// 127.0.0.1:PORT;branch=z9hG4bK-sih-<16 hex>-<tx>-0;rport`) and Record-Route lines, at most those
/// with the longest port and transaction numbers, and Max-Forwards added.
const FORWARD_GROWTH: std::ops::Range<usize> = 100..150;
/// `[proxy] max_body_bytes` (the default).
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// `[proxy] max_headers` (the default).
const MAX_HEADERS: usize = 256;
/// Memory the proxy may hold, once every transaction of the second pass is over, above what it held
/// after the first. The passes are the same work, so the allocator reuses what the first one freed
/// (measured: within 3 MiB). A pass whose transactions were never freed holds about 48 MiB more
/// (measured by leaving them in the table).
const RSS_SLACK_KIB: u64 = 8 * 1024;

/// What one case caused.
#[derive(Default, Debug)]
struct Seen {
    /// Final answers that reached the caller: (status, written by the proxy itself).
    finals: BTreeSet<(u16, bool)>,
    /// Provisional answers.
    provisional: usize,
    /// 2xx answers (must never happen: the callee only says 486).
    ok: usize,
    /// INVITEs the callee received.
    at_callee: Vec<Vec<u8>>,
    /// ACKs the callee received (the proxy's hop-by-hop ACK of the 486).
    acks_at_callee: Vec<Vec<u8>>,
    /// Other requests the callee received.
    other_at_callee: Vec<Vec<u8>>,
}

#[derive(Default)]
struct Board {
    cases: HashMap<u32, Seen>,
    /// Messages that named no case (or two).
    unattributed: Vec<String>,
    /// Responses from the proxy that did not parse.
    unparseable_answers: Vec<String>,
    /// Answers the proxy wrote that do not pass `validate()`: they copy a malformed From, To,
    /// Call-ID, CSeq or Via of the request, as RFC 3261 §8.2.6.2 requires.
    invalid_local_answers: usize,
    /// Final answers written by the proxy, retransmissions included.
    local_finals: usize,
    /// Last time anything arrived anywhere.
    last_activity: Option<Instant>,
}

type Shared = Arc<Mutex<Board>>;

fn lock(b: &Shared) -> std::sync::MutexGuard<'_, Board> {
    b.lock().unwrap_or_else(|p| p.into_inner())
}

/// A 7-digit number in the digit run that follows `prefix`: its first 7 digits, or its last 7
/// (`from_end`), when the run is at least `min` digits long.
fn number_after(b: &[u8], prefix: &[u8], min: usize, from_end: bool) -> Option<u32> {
    let at = memchr::memmem::find(b, prefix)? + prefix.len();
    let run = b[at..].iter().take_while(|c| c.is_ascii_digit()).count();
    if run < min {
        return None;
    }
    let start = if from_end { at + run - 7 } else { at };
    std::str::from_utf8(&b[start..start + 7]).ok()?.parse().ok()
}

/// The case a message belongs to, by its Call-ID (`protos-NNNNNNN`, possibly followed by more
/// digits when a mutation removed the `@`) or its Via branch (`z9hG4bK0000` + the PROTOS number +
/// `NNNNNNN`); `None` when neither is there, or they disagree.
fn case_of(b: &[u8]) -> Option<u32> {
    let by_call_id = number_after(b, b"protos-", 7, false);
    let by_branch = number_after(b, b"z9hG4bK0000", 8, true);
    match (by_call_id, by_branch) {
        (Some(a), Some(b)) if a != b => None,
        (a, b) => a.or(b),
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned()
}

/// The callee's answer to `m`: Via lines, From, To (tagged), Call-ID and CSeq copied.
fn answer(m: &Message<'_>, status: u16, reason: &str) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {status} {reason}\r\n");
    for e in m.header_entries() {
        if e.kind == kind::VIA {
            out.push_str(&format!("Via: {}\r\n", m.value_of(e)));
        }
    }
    if let Some(f) = m.first_value(kind::FROM) {
        out.push_str(&format!("From: {f}\r\n"));
    }
    if let Some(t) = m.first_value(kind::TO) {
        let tagged = m
            .to()
            .and_then(|t| t.ok())
            .is_some_and(|t| t.tag().is_some());
        if tagged {
            out.push_str(&format!("To: {t}\r\n"));
        } else {
            out.push_str(&format!("To: {t};tag=callee\r\n"));
        }
    }
    if let Some(c) = m.call_id() {
        out.push_str(&format!("Call-ID: {c}\r\n"));
    }
    if let Some(c) = m.first_value(kind::CSEQ) {
        out.push_str(&format!("CSeq: {c}\r\n"));
    }
    out.push_str("Server: protos-callee\r\nContent-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// The callee: answers INVITE with 486 and CANCEL with 200, ignores ACK, records everything. An ACK
/// or CANCEL the proxy writes itself carries only its own Via: it is matched to its case by the
/// proxy's branch on the INVITE.
fn callee(sock: UdpSocket, board: Shared, stop: Arc<AtomicBool>) {
    let mut buf = vec![0u8; 65_536];
    let mut by_branch: HashMap<String, u32> = HashMap::new();
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let data = buf[..n].to_vec();
        let parsed = Message::parse(&data);
        let method = parsed
            .as_ref()
            .ok()
            .and_then(|m| m.method())
            .map(|x| x.as_str().to_string());
        let top_branch = parsed
            .as_ref()
            .ok()
            .and_then(|m| m.top_via())
            .and_then(|v| v.ok())
            .and_then(|v| v.branch().map(str::to_string));
        let number = case_of(&data).or_else(|| by_branch.get(top_branch.as_ref()?).copied());
        let reply = match (&parsed, method.as_deref()) {
            (Ok(m), Some("INVITE")) => Some(answer(m, 486, "Busy Here")),
            (Ok(m), Some("CANCEL")) => Some(answer(m, 200, "OK")),
            _ => None,
        };
        if let Some(r) = reply {
            let _ = sock.send_to(&r, from);
        }
        let mut b = lock(&board);
        b.last_activity = Some(Instant::now());
        match number {
            Some(n) => {
                let seen = b.cases.entry(n).or_default();
                match method.as_deref() {
                    Some("INVITE") => {
                        seen.at_callee.push(data);
                        if let Some(branch) = top_branch {
                            by_branch.insert(branch, n);
                        }
                    }
                    Some("ACK") => seen.acks_at_callee.push(data),
                    _ => seen.other_at_callee.push(data),
                }
            }
            None => {
                let text = format!("at the callee: {}", lossy(&data));
                b.unattributed.push(text);
            }
        }
    }
}

/// The hop-by-hop ACK for a non-2xx final answer (RFC 3261 §17.1.1.3): the INVITE's Request-URI,
/// the answer's top Via, From, To (with its tag) and Call-ID, CSeq number with ACK.
fn ack_for(resp: &Message<'_>, request_uri: &str) -> Vec<u8> {
    let mut out = format!("ACK {request_uri} SIP/2.0\r\n");
    if let Some(v) = resp.first_value(kind::VIA) {
        out.push_str(&format!("Via: {v}\r\n"));
    }
    for (k, name) in [
        (kind::FROM, "From"),
        (kind::TO, "To"),
        (kind::CALL_ID, "Call-ID"),
    ] {
        if let Some(v) = resp.first_value(k) {
            out.push_str(&format!("{name}: {v}\r\n"));
        }
    }
    let seq = resp.cseq().and_then(|c| c.ok()).map_or(1, |c| c.seq);
    out.push_str(&format!(
        "CSeq: {seq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ));
    out.into_bytes()
}

/// Records one answer from the proxy; returns the ACK to send for a non-2xx final answer.
fn record_answer(board: &Shared, data: &[u8], uris: &HashMap<u32, String>) -> Option<Vec<u8>> {
    let number = case_of(data);
    let mut b = lock(board);
    b.last_activity = Some(Instant::now());
    let m = match Message::parse(data) {
        Ok(m) if !m.is_request() => m,
        _ => {
            b.unparseable_answers.push(lossy(data));
            return None;
        }
    };
    let Some(n) = number else {
        b.unattributed
            .push(format!("at the caller: {}", lossy(data)));
        return None;
    };
    let status = m.status().unwrap_or(0);
    let local = m.header("Server") == Some("sip-interop");
    if local && m.validate().is_err() {
        b.invalid_local_answers += 1;
    }
    if local && status >= 300 {
        b.local_finals += 1;
    }
    let seen = b.cases.entry(n).or_default();
    match status {
        100..=199 => seen.provisional += 1,
        200..=299 => seen.ok += 1,
        _ => {
            seen.finals.insert((status, local));
        }
    }
    drop(b);
    (status >= 300).then(|| ack_for(&m, uris.get(&n).map_or("sip:bob@127.0.0.1", |u| u)))
}

/// The caller's receiver: records answers and ACKs the non-2xx finals.
fn caller(
    sock: UdpSocket,
    proxy: SocketAddr,
    board: Shared,
    uris: Arc<HashMap<u32, String>>,
    stop: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            continue;
        };
        if let Some(ack) = record_answer(&board, &buf[..n], &uris) {
            let _ = sock.send_to(&ack, proxy);
        }
    }
}

/// Sends one case over its own TCP connection and records what comes back on it (the answer, or
/// nothing before the proxy closes the connection).
fn over_tcp(port: u16, bytes: &[u8], board: &Shared, uris: &HashMap<u32, String>) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        lock(board)
            .unattributed
            .push("TCP connect to the proxy failed".into());
        return;
    };
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
    // The proxy may close before it has read everything: a failed write is part of the test.
    let _ = s.write_all(bytes);
    let t0 = Instant::now();
    let mut last = Instant::now();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16_384];
    let mut final_seen = false;
    let mut provisional = false;
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                last = Instant::now();
                while let Frame::Complete { len } = frame(&buf, 1 << 20, 1 << 20) {
                    let msg: Vec<u8> = buf.drain(..len).collect();
                    let status = Message::parse(&msg).ok().and_then(|m| m.status());
                    provisional |= status.is_some_and(|s| s < 200);
                    final_seen |= status.is_some_and(|s| s >= 200);
                    if let Some(ack) = record_answer(board, &msg, uris) {
                        let _ = s.write_all(&ack);
                    }
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        let waited = if provisional { HARD } else { QUIET };
        if final_seen || last.elapsed() > waited || t0.elapsed() > HARD {
            break;
        }
    }
}

/// What happened to a case, seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Treatment {
    /// Answered by the proxy itself with this status.
    Answered(u16),
    /// Forwarded to the callee, its 486 relayed back.
    Forwarded,
    /// No answer, nothing forwarded.
    Dropped,
    /// Not forwarded, and its answers (if any) went to a Via port this test could not listen on.
    Unseen,
}

/// The treatment of a case. `blind`: its answers go to a Via port this test could not listen on, so
/// only what reached the callee can be seen.
fn classify(seen: Option<&Seen>, blind: bool) -> Result<Treatment, String> {
    let Some(s) = seen else {
        return Ok(if blind {
            Treatment::Unseen
        } else {
            Treatment::Dropped
        });
    };
    if s.ok > 0 {
        return Err(format!("{} 2xx answer(s)", s.ok));
    }
    if !s.other_at_callee.is_empty() {
        return Err(format!(
            "the callee got {} unexpected request(s)",
            s.other_at_callee.len()
        ));
    }
    let finals: Vec<_> = s.finals.iter().copied().collect();
    if !s.at_callee.is_empty() {
        return if finals == [(486, false)] || (blind && finals.is_empty()) {
            Ok(Treatment::Forwarded)
        } else {
            Err(format!("forwarded, but the caller got {finals:?}"))
        };
    }
    match finals.as_slice() {
        [] if blind => Ok(Treatment::Unseen),
        [] if s.provisional > 0 => Err("a provisional answer but no final one".into()),
        [] => Ok(Treatment::Dropped),
        [(st, true)] if (400..600).contains(st) => Ok(Treatment::Answered(*st)),
        other => Err(format!("not forwarded, answers {other:?}")),
    }
}

/// What the proxy may do with `bytes` sent over `tcp` or UDP, from the checks it runs before any
/// plugin: stream framing ([`frame`]), the message limits, then `disposition_of`. `None`: any 4xx or
/// 5xx the proxy writes itself is right (a Request-URI naming a host: DNS fails here, 500).
fn expected(bytes: &[u8], tcp: bool, callee: &str) -> Option<Vec<Treatment>> {
    let mut bytes = bytes;
    if tcp {
        match frame(bytes, MAX_HEADER_BYTES, MAX_BODY_BYTES) {
            Frame::Complete { len } => bytes = &bytes[..len],
            // Answered when what was read holds the headers an answer copies, else just closed.
            Frame::Invalid(e) => {
                return Some(match e.status {
                    Some(s) => vec![Treatment::Answered(s), Treatment::Dropped],
                    None => vec![Treatment::Dropped],
                })
            }
            // Content-Length promises more than is sent: the connection waits, then times out.
            _ => return Some(vec![Treatment::Dropped]),
        }
    }
    let Ok(m) = Message::parse(bytes) else {
        return Some(vec![Treatment::Dropped]);
    };
    // An answer needs a top Via to go to (RFC 3261 §18.2.2): without one the request is dropped.
    let answer = |status| {
        if m.top_via().is_some_and(|v| v.is_ok()) {
            Some(vec![Treatment::Answered(status)])
        } else {
            Some(vec![Treatment::Dropped])
        }
    };
    if m.header_entries().len() > MAX_HEADERS || m.body_span().start as usize > MAX_HEADER_BYTES + 4
    {
        return answer(513);
    }
    match disposition_of(&m) {
        Disposition::Forward => match m.request_uri() {
            // The forwarded copy (our Via and Record-Route added) would not fit in a datagram:
            // the branch fails and the proxy answers 500 itself.
            _ if bytes.len() + FORWARD_GROWTH.start > UDP_MAX => {
                Some(vec![Treatment::Answered(500)])
            }
            _ if bytes.len() + FORWARD_GROWTH.end > UDP_MAX => {
                Some(vec![Treatment::Answered(500), Treatment::Forwarded])
            }
            Some(Ok(Uri::Sip(u)))
                if u.port.map(|p| format!("{}:{p}", u.host_text)).as_deref() == Some(callee) =>
            {
                Some(vec![Treatment::Forwarded])
            }
            _ => None,
        },
        Disposition::Reject { status, .. } => answer(status),
        Disposition::Drop { .. } => Some(vec![Treatment::Dropped]),
    }
}

/// Checks a request the proxy sent the callee: it parses, passes the RFC 3261 checks, and has the
/// proxy's Via on top.
fn check_own_request(got: &[u8], proxy_port: u16) -> Result<Message<'_>, String> {
    let m = Message::parse(got).map_err(|e| format!("does not parse: {e}"))?;
    m.validate()
        .map_err(|e| format!("fails the RFC 3261 checks: {e}"))?;
    let top = m.top_via().and_then(|v| v.ok()).ok_or("no top Via")?;
    if top.host_text != "127.0.0.1"
        || top.port != Some(proxy_port)
        || !top.branch().is_some_and(|b| b.starts_with("z9hG4bK-sih-"))
    {
        return Err(format!("top Via is not the proxy's: {}", top.host_text));
    }
    Ok(m)
}

/// Checks one INVITE the callee received against the one the caller sent: as
/// [`check_own_request`], with the caller's Via lines below the proxy's and Max-Forwards one less.
fn check_forwarded(got: &[u8], sent: &[u8], proxy_port: u16) -> Result<(), String> {
    let m = check_own_request(got, proxy_port)?;
    let orig = Message::parse(sent).map_err(|e| format!("sent INVITE does not parse: {e}"))?;
    let vias = |m: &Message<'_>| -> Vec<String> {
        m.header_values(kind::VIA).map(str::to_string).collect()
    };
    if vias(&m)[1..] != vias(&orig)[..] {
        return Err("the Via lines below the proxy's are not the caller's".into());
    }
    let want = match orig.max_forwards() {
        Some(Ok(n)) => n.saturating_sub(1),
        _ => 70,
    };
    match m.max_forwards() {
        Some(Ok(n)) if n == want => Ok(()),
        other => Err(format!("Max-Forwards {other:?}, expected {want}")),
    }
}

fn rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS:")
}

/// Element ranges from `derived-element-map.tsv`: (first, last, element).
fn element_ranges() -> Vec<(u32, u32, String)> {
    let tsv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/corpora/protos-c07-sip/derived-element-map.tsv");
    std::fs::read_to_string(tsv)
        .expect("derived-element-map.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some((
                f.first()?.parse().ok()?,
                f.get(1)?.parse().ok()?,
                f.get(3)?.to_string(),
            ))
        })
        .collect()
}

/// Extracts the archive into `dir`; returns the folder of case files.
fn extract(dir: &Path) -> std::path::PathBuf {
    let archive = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/corpora/protos-c07-sip/c07-sip-r2-testcases.tar.xz");
    let st = std::process::Command::new("tar")
        .arg("-xJf")
        .arg(&archive)
        .arg("-C")
        .arg(dir)
        .status()
        .expect("run tar (xz-utils is needed: scripts/setup installs it)");
    assert!(st.success(), "tar -xJf {} failed: {st}", archive.display());
    dir.join("testcases")
}

/// Sends `cases` (number, bytes) over UDP at most [`WINDOW`] at a time, each until it is answered or
/// quiet; calls `tick` while waiting.
fn send_windowed(
    sock: &UdpSocket,
    proxy: SocketAddr,
    cases: &[(u32, Vec<u8>)],
    board: &Shared,
    mut tick: impl FnMut(),
) {
    let mut flight: Vec<(u32, Instant)> = Vec::new();
    let settled = |n: u32, sent: Instant| {
        let b = lock(board);
        let s = b.cases.get(&n);
        let waited = sent.elapsed();
        match s {
            Some(s) if !s.finals.is_empty() => true,
            Some(s) if s.provisional > 0 || !s.at_callee.is_empty() => waited > HARD,
            _ => waited > QUIET,
        }
    };
    let mut next = cases.iter();
    loop {
        flight.retain(|&(n, t)| !settled(n, t));
        while flight.len() < WINDOW {
            let Some((n, bytes)) = next.next() else { break };
            sock.send_to(bytes, proxy)
                .expect("send a case to the proxy");
            flight.push((*n, Instant::now()));
        }
        if flight.is_empty() {
            return;
        }
        tick();
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until nothing has arrived for `quiet`.
fn settle(board: &Shared, quiet: Duration, limit: Duration) {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        let last = lock(board).last_activity.unwrap_or(t0);
        if last.elapsed() >= quiet {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One pass over the suite: every case's number is its PROTOS number plus `offset`.
struct Pass {
    name: &'static str,
    cases: Vec<(u32, Vec<u8>)>,
}

impl Pass {
    fn new(name: &'static str, cases: &[Case], offset: u32, parties: &Parties) -> Pass {
        let cases = cases
            .iter()
            .map(|c| {
                let n = c.number + offset;
                let case = Case {
                    number: n,
                    ..c.clone()
                };
                (n, case.invite_for(parties))
            })
            .collect();
        Pass { name, cases }
    }

    /// Sends the pass: UDP for what fits in a datagram, TCP (one connection each) for the rest;
    /// returns once everything it caused has arrived.
    fn run(
        &self,
        sock: &UdpSocket,
        proxy: SocketAddr,
        board: &Shared,
        uris: &HashMap<u32, String>,
        mut tick: impl FnMut(),
    ) -> Duration {
        let t0 = Instant::now();
        let udp: Vec<_> = self
            .cases
            .iter()
            .filter(|(_, b)| b.len() <= UDP_MAX)
            .cloned()
            .collect();
        send_windowed(sock, proxy, &udp, board, &mut tick);
        for (_, bytes) in self.cases.iter().filter(|(_, b)| b.len() > UDP_MAX) {
            over_tcp(proxy.port(), bytes, board, uris);
            tick();
        }
        settle(board, Duration::from_secs(1), HARD);
        t0.elapsed()
    }
}

/// The verdict on one pass: treatment per case, and everything wrong.
struct Verdict {
    treatments: BTreeMap<u32, Treatment>,
    problems: Vec<String>,
    mismatches: Vec<String>,
}

fn judge(
    pass: &Pass,
    offset: u32,
    b: &Board,
    blind: &BTreeSet<u32>,
    callee: &str,
    proxy_port: u16,
) -> Verdict {
    let mut v = Verdict {
        treatments: BTreeMap::new(),
        problems: Vec::new(),
        mismatches: Vec::new(),
    };
    for (n, bytes) in &pass.cases {
        let number = n - offset;
        let seen = b.cases.get(n);
        match classify(seen, blind.contains(&number)) {
            Ok(t) => {
                v.treatments.insert(number, t);
                let want = expected(bytes, bytes.len() > UDP_MAX, callee);
                let agrees = match &want {
                    _ if t == Treatment::Unseen => true,
                    Some(w) => w.contains(&t),
                    None => matches!(t, Treatment::Answered(400..=599)),
                };
                if !agrees {
                    v.mismatches.push(format!(
                        "{} case {number}: got {t:?}, expected {want:?}",
                        pass.name
                    ));
                }
            }
            Err(e) => v.problems.push(format!("{} case {number}: {e}", pass.name)),
        }
        if let Some(s) = seen {
            for got in &s.at_callee {
                if let Err(e) = check_forwarded(got, bytes, proxy_port) {
                    v.problems.push(format!(
                        "{} case {number}: forwarded request {e}: {}",
                        pass.name,
                        lossy(got)
                    ));
                }
            }
            for got in &s.acks_at_callee {
                if let Err(e) = check_own_request(got, proxy_port) {
                    v.problems.push(format!(
                        "{} case {number}: the proxy's ACK {e}: {}",
                        pass.name,
                        lossy(got)
                    ));
                }
            }
            if !s.at_callee.is_empty() && s.acks_at_callee.is_empty() {
                v.problems.push(format!(
                    "{} case {number}: the proxy never ACKed the callee's 486",
                    pass.name
                ));
            }
        }
    }
    v
}

/// Listeners on the ports that mutated Via headers name (RFC 3261 §18.2.2: without `rport` the
/// answer goes to the source address and the Via's port): the case numbers whose port could not
/// be bound (port 0, privileged ports without the right, ports in use) are returned.
fn via_port_listeners(
    cases: &[Case],
    parties: &Parties,
    caller_port: u16,
    spawn: &mut dyn FnMut(UdpSocket),
) -> BTreeSet<u32> {
    let mut ports: BTreeMap<u16, Vec<u32>> = BTreeMap::new();
    for c in cases {
        let bytes = c.invite_for(parties);
        let Ok(m) = Message::parse(&bytes) else {
            continue;
        };
        let Some(Ok(via)) = m.top_via() else { continue };
        let port = via.port.unwrap_or(5060);
        if port != caller_port && via.rport().is_none() {
            ports.entry(port).or_default().push(c.number);
        }
    }
    let mut blind = BTreeSet::new();
    for (port, numbers) in ports {
        match (port != 0).then(|| UdpSocket::bind(("127.0.0.1", port))) {
            Some(Ok(sock)) => {
                sock.set_read_timeout(Some(Duration::from_millis(50)))
                    .unwrap();
                spawn(sock);
            }
            _ => blind.extend(numbers),
        }
    }
    blind
}

#[test]
fn protos_c07_sip_gets_a_clear_treatment_per_case_and_leaves_the_proxy_healthy() {
    let started = Instant::now();
    let dir = temp_dir("protos");
    let cases_dir = extract(&dir);
    let cases = protos::read_dir(&cases_dir).expect("read the case files");
    assert_eq!(cases.len(), 4527, "PROTOS c07-sip r2 has 4527 cases");

    let callee_sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let callee_addr = callee_sock.local_addr().unwrap();
    let caller_sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller_port = caller_sock.local_addr().unwrap().port();
    for s in [&callee_sock, &caller_sock] {
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let _ = socket2::SockRef::from(s).set_recv_buffer_size(4 << 20);
    }
    // DNS goes to a closed loopback port: names in mutated Request-URIs fail at once.
    let dead_dns = free_port();
    let settings = format!(
        "[proxy]\nt1_ms = {T1_MS}\nt2_ms = 400\nt4_ms = 250\ntimer_c_s = 4\nworkers = 2\n\
         dns_servers = [\"127.0.0.1:{dead_dns}\"]\ndns_timeout_ms = 200\n"
    );
    let (mut proxy, port) = proxy_with(&dir, &settings, "");
    let pid = proxy.child.id();
    let proxy_addr: SocketAddr = ([127, 0, 0, 1], port).into();

    let parties = Parties::loopback(caller_port, &format!("bob@{callee_addr}"));
    let callee_hostport = callee_addr.to_string();
    const SECOND: u32 = 5_000_000;
    let first = Pass::new("first pass", &cases, 0, &parties);
    let second = Pass::new("second pass", &cases, SECOND, &parties);
    let fresh = 9_100_000;
    let mut uris: HashMap<u32, String> = first
        .cases
        .iter()
        .chain(&second.cases)
        .filter_map(|(n, b)| {
            let m = Message::parse(b).ok()?;
            Some((*n, m.request_uri_str()?.to_string()))
        })
        .collect();
    uris.insert(fresh, format!("sip:bob@{callee_addr}"));
    let uris = Arc::new(uris);

    let board: Shared = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    {
        let (board, stop) = (board.clone(), stop.clone());
        threads.push(std::thread::spawn(move || callee(callee_sock, board, stop)));
    }
    let mut spawn_caller = |sock: UdpSocket| {
        let (board, stop, uris) = (board.clone(), stop.clone(), uris.clone());
        threads.push(std::thread::spawn(move || {
            caller(sock, proxy_addr, board, uris, stop)
        }));
    };
    spawn_caller(caller_sock.try_clone().unwrap());
    let blind = via_port_listeners(&cases, &parties, caller_port, &mut spawn_caller);

    // The first pass warms the proxy up; its memory, once the transactions are over, is the
    // baseline for the second pass.
    let first_took = first.run(&caller_sock, proxy_addr, &board, &uris, || {});
    std::thread::sleep(Duration::from_secs(5));
    let baseline = rss_kib(pid);
    let threads_before = status_field(pid, "Threads:");
    let mut peak = baseline;
    let second_took = second.run(&caller_sock, proxy_addr, &board, &uris, || {
        peak = peak.max(rss_kib(pid));
    });

    // After the run: a fresh valid call still goes through, promptly.
    let t_fresh = Instant::now();
    let reference = Case {
        number: fresh,
        ..cases[0].clone()
    };
    caller_sock
        .send_to(&reference.invite_for(&parties), proxy_addr)
        .unwrap();
    while classify(lock(&board).cases.get(&fresh), false) != Ok(Treatment::Forwarded)
        && t_fresh.elapsed() < Duration::from_secs(3)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let fresh_took = t_fresh.elapsed();

    // Memory once every transaction is over (T4 after the ACK, 64×T1 at most; Timer C is 4 s).
    std::thread::sleep(Duration::from_secs(5));
    let after = rss_kib(pid);
    let threads_after = status_field(pid, "Threads:");
    let alive = proxy.child.try_wait().expect("poll the proxy").is_none();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let log = std::fs::read_to_string(dir.join("proxy.log")).unwrap_or_default();

    // Verdicts.
    let b = lock(&board);
    let one = judge(&first, 0, &b, &blind, &callee_hostport, port);
    let two = judge(&second, SECOND, &b, &blind, &callee_hostport, port);
    let differ: Vec<String> = one
        .treatments
        .iter()
        .filter(|(n, t)| two.treatments.get(n).is_some_and(|u| u != *t))
        .map(|(n, t)| format!("case {n}: {t:?}, then {:?}", two.treatments[n]))
        .collect();
    let treatments = &two.treatments;

    // The summary, by element range (second pass).
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for t in treatments.values() {
        if let Treatment::Answered(s) = t {
            *statuses.entry(*s).or_default() += 1;
        }
    }
    let count = |f: &dyn Fn(&Treatment) -> bool, lo: u32, hi: u32| {
        treatments.range(lo..=hi).filter(|(_, t)| f(t)).count()
    };
    let tcp = second
        .cases
        .iter()
        .filter(|(_, b)| b.len() > UDP_MAX)
        .count();
    eprintln!(
        "PROTOS c07-sip: {} cases ({} over UDP, {tcp} over TCP), twice: {:.1} s and {:.1} s",
        cases.len(),
        cases.len() - tcp,
        first_took.as_secs_f64(),
        second_took.as_secs_f64()
    );
    eprintln!(
        "{:>7} {:>7} {:>5} {:>8} {:>9} {:>7}  element",
        "first", "last", "cases", "answered", "forwarded", "dropped"
    );
    for (lo, hi, what) in element_ranges() {
        eprintln!(
            "{lo:>7} {hi:>7} {:>5} {:>8} {:>9} {:>7}  {what}",
            hi - lo + 1,
            count(&|t| matches!(t, Treatment::Answered(_)), lo, hi),
            count(&|t| *t == Treatment::Forwarded, lo, hi),
            count(&|t| *t == Treatment::Dropped, lo, hi),
        );
    }
    eprintln!(
        "total: answered {}, forwarded {}, dropped {}, answers not observable {} (Via port not bindable: cases {blind:?}), failed {}",
        count(&|t| matches!(t, Treatment::Answered(_)), 0, u32::MAX),
        count(&|t| *t == Treatment::Forwarded, 0, u32::MAX),
        count(&|t| *t == Treatment::Dropped, 0, u32::MAX),
        count(&|t| *t == Treatment::Unseen, 0, u32::MAX),
        two.problems.len()
    );
    eprintln!("status codes written by the proxy: {statuses:?}");
    let mut why_dropped: BTreeMap<&str, usize> = BTreeMap::new();
    let mut over_tcp: BTreeMap<String, usize> = BTreeMap::new();
    for (n, bytes) in &second.cases {
        let t = treatments.get(&(n - SECOND));
        if bytes.len() > UDP_MAX {
            *over_tcp
                .entry(t.map_or("failed".into(), |t| format!("{t:?}")))
                .or_default() += 1;
        }
        if t == Some(&Treatment::Dropped) {
            let why = if bytes.len() > UDP_MAX {
                "stream closed without an answer"
            } else if Message::parse(bytes).is_err() {
                "unparseable"
            } else {
                "no readable Via to answer to"
            };
            *why_dropped.entry(why).or_default() += 1;
        }
    }
    eprintln!("dropped: {why_dropped:?}; over TCP: {over_tcp:?}");
    eprintln!(
        "final answers written by the proxy: {} messages (retransmissions included); answers that copy a malformed header (so fail validate()): {}",
        b.local_finals, b.invalid_local_answers
    );
    eprintln!(
        "proxy VmRSS: {baseline} KiB after the first pass (baseline), peak {peak} KiB during the second, {after} KiB after it (bound {} KiB); threads {threads_before} → {threads_after}",
        baseline + RSS_SLACK_KIB
    );
    eprintln!(
        "fresh call after the run: {fresh_took:?}; whole test {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let problems: Vec<&String> = one.problems.iter().chain(&two.problems).collect();
    let mismatches: Vec<&String> = one.mismatches.iter().chain(&two.mismatches).collect();
    for p in problems.iter().take(20) {
        eprintln!("problem: {p}");
    }
    for m in mismatches.iter().take(20) {
        eprintln!("mismatch: {m}");
    }
    for u in b.unattributed.iter().take(20) {
        eprintln!("unattributed: {u}");
    }
    for d in differ.iter().take(20) {
        eprintln!("differs between passes: {d}");
    }

    assert_eq!(
        treatments.get(&0),
        Some(&Treatment::Forwarded),
        "case 0 (valid) is forwarded and its 486 comes back"
    );
    assert!(
        problems.is_empty(),
        "{} case(s) without a clean treatment, first: {:?}",
        problems.len(),
        problems.first()
    );
    assert!(
        b.unattributed.is_empty(),
        "{} message(s) named no case, first: {:?}",
        b.unattributed.len(),
        b.unattributed.first()
    );
    assert!(
        b.unparseable_answers.is_empty(),
        "the proxy sent {} unparseable answer(s), first: {:?}",
        b.unparseable_answers.len(),
        b.unparseable_answers.first()
    );
    assert!(
        mismatches.is_empty(),
        "{} case(s) treated otherwise than the proxy's own checks say, first: {:?}",
        mismatches.len(),
        mismatches.first()
    );
    assert!(
        differ.is_empty(),
        "{} case(s) treated differently the second time, first: {:?}",
        differ.len(),
        differ.first()
    );
    assert_eq!(
        classify(b.cases.get(&fresh), false),
        Ok(Treatment::Forwarded),
        "a fresh valid call after the run"
    );
    assert!(alive, "the proxy exited during the run:\n{log}");
    assert!(!log.contains("panicked"), "the proxy panicked:\n{log}");
    // Every non-2xx final answer was ACKed: retransmissions (Timer G) stop at the ACK, also when
    // the ACK repeats the malformation of its INVITE.
    let answered_cases = one
        .treatments
        .values()
        .chain(two.treatments.values())
        .filter(|t| matches!(t, Treatment::Answered(_)))
        .count();
    assert!(
        b.local_finals <= answered_cases + answered_cases / 10,
        "{} final answers for {answered_cases} answered cases: the ACKs did not stop the retransmissions",
        b.local_finals
    );
    assert!(
        after <= baseline + RSS_SLACK_KIB,
        "proxy memory after the second pass {after} KiB > baseline {baseline} KiB + {RSS_SLACK_KIB} KiB"
    );
    drop(b);
    drop(proxy);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends `invite` (one the proxy refuses with `status`), ACKs the answer at once, and counts how
/// often the answer comes again within 1.2 s (with T1 = 50 ms, Timer G would resend it at 50, 150,
/// 350 and 750 ms).
fn resent_after_ack(port: u16, sock: &UdpSocket, invite: &str, status: u16) -> usize {
    let m = Message::parse(invite.as_bytes()).unwrap();
    assert!(
        matches!(disposition_of(&m), Disposition::Reject { status: s, .. } if s == status),
        "the test INVITE is one the proxy refuses with {status}"
    );
    sock.send_to(invite.as_bytes(), ("127.0.0.1", port))
        .unwrap();
    let mut buf = vec![0u8; 65_536];
    let t0 = Instant::now();
    let answer = loop {
        assert!(t0.elapsed() < Duration::from_secs(2), "no {status}");
        if let Ok(n) = sock.recv(&mut buf) {
            break buf[..n].to_vec();
        }
    };
    let resp = Message::parse(&answer).unwrap();
    assert_eq!(resp.status(), Some(status));
    sock.send_to(&ack_for(&resp, "sip:bob@127.0.0.1:9"), ("127.0.0.1", port))
        .unwrap();
    let t1 = Instant::now();
    let mut again = 0;
    while t1.elapsed() < Duration::from_millis(1200) {
        if sock.recv(&mut buf).is_ok() {
            again += 1;
        }
    }
    again
}

/// The ACK for an answer the proxy wrote itself stops that answer's retransmissions (Timer G), also
/// when it comes back at once (it raced the transaction's bookkeeping: the answer left before the
/// transaction was marked Completed, so the ACK was ignored) and when it repeats the malformation
/// of its INVITE (it failed the checks and was ignored: RFC 3261 §17.1.1.3 has it copy From, To,
/// Call-ID and the top Via, and §17.2.3 matches it by the top Via alone). Either way the answer went
/// out again until Timer H. About 3 s.
#[test]
fn the_ack_for_an_answer_of_the_proxy_stops_its_retransmissions() {
    let dir = temp_dir("protos-ack");
    let (_proxy, port) = proxy_with(&dir, "[proxy]\nt1_ms = 50\n", "");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let local = sock.local_addr().unwrap();
    let invite = |branch: &str, from: &str, max_forwards: u32| {
        format!(
            "INVITE sip:bob@127.0.0.1:9 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{branch}\r\n\
             From: {from}\r\nTo: <sip:bob@127.0.0.1:9>\r\nCall-ID: {branch}@127.0.0.1\r\n\
             CSeq: 1 INVITE\r\nMax-Forwards: {max_forwards}\r\nContent-Length: 0\r\n\r\n"
        )
    };
    // A valid request the proxy refuses (483): its ACK is valid too.
    let hops = resent_after_ack(
        port,
        &sock,
        &invite("ack483", "<sip:alice@127.0.0.1>;tag=1", 0),
        483,
    );
    // A malformed From (400): the ACK copies it.
    let malformed = invite("ack400", "<sip:alice@127.0.0.1>;tag=1;=", 70);
    let ack = {
        let resp = format!(
            "SIP/2.0 400 Bad Request\r\n{}",
            &malformed[malformed.find("Via").unwrap()..]
        );
        ack_for(
            &Message::parse(resp.as_bytes()).unwrap(),
            "sip:bob@127.0.0.1:9",
        )
    };
    assert!(
        Message::parse(&ack).unwrap().validate().is_err(),
        "the ACK copies the malformed From"
    );
    let bad = resent_after_ack(port, &sock, &malformed, 400);
    assert!(
        hops <= 1 && bad <= 1,
        "answers sent again after their ACK: 483 {hops} time(s), 400 {bad} time(s)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A refused request is answered only when the answer has somewhere to go: with a readable top
/// Via (RFC 3261 §18.2.2), even if other headers are broken; without one it is dropped (before, the
/// proxy sent a response with no Via, From, To, Call-ID or CSeq to the source address). About 1 s.
#[test]
fn a_refused_request_is_answered_only_when_it_has_a_via_to_answer_to() {
    let dir = temp_dir("protos-novia");
    let (_proxy, port) = proxy_with(&dir, "[proxy]\nt1_ms = 50\n", "");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let local = sock.local_addr().unwrap();
    let rest = "From: <sip:alice@127.0.0.1>;tag=1\r\nCall-ID: novia@127.0.0.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    let answer_to = |request: String| {
        sock.send_to(request.as_bytes(), ("127.0.0.1", port))
            .unwrap();
        let mut buf = vec![0u8; 65_536];
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(500) {
            if let Ok(n) = sock.recv(&mut buf) {
                return Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        None
    };
    // No Via at all, and an unreadable one: nothing (asked first: the 400 below is resent until
    // it is ACKed).
    let no_via = answer_to(format!(
        "INVITE sip:bob@127.0.0.1:9 SIP/2.0\r\nTo: <sip:bob@127.0.0.1:9>\r\n{rest}"
    ));
    assert_eq!(no_via, None);
    let bad_via = answer_to(format!(
        "INVITE sip:bob@127.0.0.1:9 SIP/2.0\r\nVia: \u{1}\u{2}garbage\r\nTo: <sip:bob@127.0.0.1:9>\r\n{rest}"
    ));
    assert_eq!(bad_via, None);
    // A readable Via, no To: 400, sent by the Via.
    let no_to = answer_to(format!(
        "INVITE sip:bob@127.0.0.1:9 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-noto\r\n{rest}"
    ));
    assert!(
        no_to
            .as_deref()
            .is_some_and(|a| a.starts_with("SIP/2.0 400 ") && a.contains("Missing To")),
        "{no_to:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
