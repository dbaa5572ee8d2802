//! The order a branch tries the addresses of its next hop: by NAPTR/SRV priority, then — among
//! equals — starting at the one the stickiness key picks, so one client keeps reaching the same
//! server; addresses marked down go last.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Instant;

use super::health::Health;
use crate::transport::Transport;

/// One address a next hop resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Transport to use.
    pub transport: Transport,
    /// Where.
    pub addr: SocketAddr,
    /// Lower goes first (NAPTR order, then SRV priority); 0 for plain A/AAAA.
    pub rank: u32,
    /// SRV weight (higher first among equals before the stickiness rotation).
    pub weight: u16,
    /// How it was found, for `explain` and logs (for example `SRV _sip._udp.example.com`).
    pub found_by: Cow<'static, str>,
}

fn key_hash(key: &str) -> u64 {
    // FNV-1a: stable across runs and builds, so a client sticks to the same address after a restart.
    let mut v: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        v ^= u64::from(*b);
        v = v.wrapping_mul(0x0100_0000_01b3);
    }
    v
}

/// Order `cands` for a request with stickiness `key`; addresses `health` marks down go last (they
/// are still tried when nothing else is left).
pub fn order(
    mut cands: Vec<Candidate>,
    key: &str,
    health: &Health,
    now: Instant,
) -> Vec<Candidate> {
    cands.sort_by(|a, b| {
        (
            a.rank,
            std::cmp::Reverse(a.weight),
            a.addr,
            a.transport as u8,
        )
            .cmp(&(
                b.rank,
                std::cmp::Reverse(b.weight),
                b.addr,
                b.transport as u8,
            ))
    });
    cands.dedup_by(|a, b| a.addr == b.addr && a.transport == b.transport);
    let h = key_hash(key);
    let mut out = Vec::with_capacity(cands.len());
    let mut start = 0;
    while start < cands.len() {
        let rank = cands[start].rank;
        let end = cands[start..]
            .iter()
            .position(|c| c.rank != rank)
            .map_or(cands.len(), |n| start + n);
        let group = &mut cands[start..end];
        let len = group.len();
        group.rotate_left((h % len as u64) as usize);
        out.extend(group.iter().cloned());
        start = end;
    }
    let (up, down): (Vec<_>, Vec<_>) = out
        .into_iter()
        .partition(|c| !health.is_down(c.transport, c.addr, now));
    up.into_iter().chain(down).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn c(addr: &str, rank: u32) -> Candidate {
        Candidate {
            transport: Transport::Udp,
            addr: addr.parse().unwrap(),
            rank,
            weight: 10,
            found_by: Cow::Borrowed(""),
        }
    }

    #[test]
    fn priority_first_then_the_same_client_keeps_its_address() {
        let h = Health::default();
        let now = Instant::now();
        let cands = vec![
            c("192.0.2.3:5060", 20),
            c("192.0.2.1:5060", 10),
            c("192.0.2.2:5060", 10),
        ];
        let first: Vec<SocketAddr> = (0..50)
            .map(|i| order(cands.clone(), &format!("198.51.100.{i}"), &h, now)[0].addr)
            .collect();
        // Lower rank always first; both rank-10 addresses are used by some client.
        assert!(first
            .iter()
            .all(|a| a.port() == 5060 && a.ip().to_string() != "192.0.2.3"));
        assert!(first.iter().any(|a| a.ip().to_string() == "192.0.2.1"));
        assert!(first.iter().any(|a| a.ip().to_string() == "192.0.2.2"));
        // One client: always the same order; the higher rank comes last.
        let a = order(cands.clone(), "198.51.100.7", &h, now);
        let b = order(cands.clone(), "198.51.100.7", &h, now);
        assert_eq!(a, b);
        assert_eq!(a[2].addr.to_string(), "192.0.2.3:5060");
    }

    #[test]
    fn marked_down_addresses_go_last() {
        let h = Health::default();
        let now = Instant::now();
        let cands = vec![c("192.0.2.1:5060", 0), c("192.0.2.2:5060", 0)];
        let first = order(cands.clone(), "k", &h, now)[0].addr;
        h.mark_down(Transport::Udp, first, now, Duration::from_secs(600));
        let again = order(cands.clone(), "k", &h, now);
        assert_ne!(again[0].addr, first);
        assert_eq!(
            again[1].addr, first,
            "still tried when nothing else is left"
        );
    }
}
