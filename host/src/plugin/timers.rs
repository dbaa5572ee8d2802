//! One timer thread for the process: a deadline heap, woken by a condition variable.
//!
//! A fired timer is delivered to the *current* instance of the chain entry that armed it, so a timer
//! armed before a hot swap reaches the successor that imported the state.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

struct Wheel {
    heap: BinaryHeap<Reverse<(Instant, u64, u64, u64)>>, // deadline, id, handle, token
    pending: HashSet<u64>,
}

struct Timers {
    wheel: Mutex<Wheel>,
    wake: Condvar,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// At most this many timers pending; arming more returns 0 (refused) instead of growing.
pub const MAX_PENDING: usize = 1_000_000;

fn timers() -> &'static Timers {
    static T: OnceLock<&'static Timers> = OnceLock::new();
    T.get_or_init(|| {
        let t: &'static Timers = Box::leak(Box::new(Timers {
            wheel: Mutex::new(Wheel {
                heap: BinaryHeap::new(),
                pending: HashSet::new(),
            }),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("sip-timers".into())
            .spawn(move || run(t))
            .expect("spawn the timer thread");
        t
    })
}

fn run(t: &'static Timers) {
    let mut w = t.wheel.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let now = Instant::now();
        match w.heap.peek().copied() {
            Some(Reverse((deadline, id, handle, token))) if deadline <= now => {
                w.heap.pop();
                if w.pending.remove(&id) {
                    drop(w);
                    super::services::deliver(handle, token);
                    w = t.wheel.lock().unwrap_or_else(|p| p.into_inner());
                }
            }
            Some(Reverse((deadline, ..))) => {
                w = t
                    .wake
                    .wait_timeout(w, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            None => {
                w = t.wake.wait(w).unwrap_or_else(|p| p.into_inner());
            }
        }
    }
}

/// Arm a timer for `handle`; returns its id, or 0 when the table is full.
pub fn arm(handle: u64, delay_ms: u64, token: u64) -> u64 {
    let t = timers();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_millis(delay_ms);
    let mut w = t.wheel.lock().unwrap_or_else(|p| p.into_inner());
    if w.pending.len() >= MAX_PENDING {
        tracing::warn!(handle, "timer refused: {MAX_PENDING} timers pending");
        return 0;
    }
    w.pending.insert(id);
    w.heap.push(Reverse((deadline, id, handle, token)));
    t.wake.notify_one();
    id
}

/// Cancel timer `id`; true if it was pending.
pub fn cancel(id: u64) -> bool {
    let t = timers();
    let mut w = t.wheel.lock().unwrap_or_else(|p| p.into_inner());
    w.pending.remove(&id)
}
