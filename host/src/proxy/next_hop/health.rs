//! Next-hop addresses that failed recently (a transport error or no answer at all): later requests
//! try them last until the mark expires, and the first answer from one clears it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::transport::Transport;

/// The marks, shared by the workers.
#[derive(Default)]
pub struct Health {
    down: Mutex<HashMap<(Transport, SocketAddr), Instant>>,
    /// Some mark exists (expired or not): lets the per-response [`Health::answered`] skip the lock
    /// when nothing was ever marked.
    any: AtomicBool,
}

impl Health {
    /// Mark `addr` down for `period` from `now`.
    pub fn mark_down(
        &self,
        transport: Transport,
        addr: SocketAddr,
        now: Instant,
        period: Duration,
    ) {
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        down.insert((transport, addr), now + period);
        self.any.store(true, Ordering::Relaxed);
        // Bounded: expired marks go whenever a new one is set.
        if down.len() > 1024 {
            down.retain(|_, until| *until > now);
        }
    }

    /// Whether `addr` is marked down at `now`.
    pub fn is_down(&self, transport: Transport, addr: SocketAddr, now: Instant) -> bool {
        if !self.any.load(Ordering::Relaxed) {
            return false;
        }
        let down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        down.get(&(transport, addr))
            .is_some_and(|until| *until > now)
    }

    /// `addr` answered: forget its mark.
    pub fn answered(&self, transport: Transport, addr: SocketAddr) {
        if !self.any.load(Ordering::Relaxed) {
            return;
        }
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        down.remove(&(transport, addr));
        if down.is_empty() {
            self.any.store(false, Ordering::Relaxed);
        }
    }

    /// Addresses marked down at `now`.
    pub fn down_count(&self, now: Instant) -> usize {
        let down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        down.values().filter(|u| **u > now).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_expire_and_answers_clear_them() {
        let h = Health::default();
        let a: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let t0 = Instant::now();
        h.mark_down(Transport::Udp, a, t0, Duration::from_secs(600));
        assert!(h.is_down(Transport::Udp, a, t0 + Duration::from_secs(599)));
        assert!(!h.is_down(Transport::Tcp, a, t0));
        assert!(!h.is_down(Transport::Udp, a, t0 + Duration::from_secs(601)));
        assert_eq!(h.down_count(t0), 1);
        h.answered(Transport::Udp, a);
        assert!(!h.is_down(Transport::Udp, a, t0));
    }
}
