//! One timer thread for the process: a deadline heap, woken by a condition variable.
//!
//! A timer belongs to a chain entry (its name, in one host), not to the instance that armed it: when it
//! fires it goes to the instance of that entry that is live then — the successor that imported the
//! state after a hot swap — provided it is still the same plugin.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::services::TimerSink;

/// Who a timer belongs to.
#[derive(Clone)]
pub struct TimerOwner {
    /// Chain entry name.
    pub plugin: Arc<str>,
    /// The plugin (manifest name) that armed it.
    pub manifest_name: Arc<str>,
    /// The host whose chain receives it.
    pub sink: Weak<dyn TimerSink>,
}

impl TimerOwner {
    fn same_entry(&self, other: &TimerOwner) -> bool {
        self.plugin == other.plugin
            && self.manifest_name == other.manifest_name
            && Weak::ptr_eq(&self.sink, &other.sink)
    }
}

struct Pending {
    owner: TimerOwner,
    token: u64,
}

struct Wheel {
    heap: BinaryHeap<Reverse<(Instant, u64)>>, // deadline, id
    pending: HashMap<u64, Pending>,
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
                pending: HashMap::new(),
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
            Some(Reverse((deadline, id))) if deadline <= now => {
                w.heap.pop();
                if let Some(p) = w.pending.remove(&id) {
                    drop(w);
                    if let Some(sink) = p.owner.sink.upgrade() {
                        sink.fire(&p.owner.plugin, &p.owner.manifest_name, p.token);
                    }
                    w = t.wheel.lock().unwrap_or_else(|p| p.into_inner());
                }
            }
            Some(Reverse((deadline, _))) => {
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

/// Arm a timer; returns its id, or 0 when the table is full.
pub fn arm(owner: TimerOwner, delay_ms: u64, token: u64) -> u64 {
    let t = timers();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_millis(delay_ms);
    let mut w = t.wheel.lock().unwrap_or_else(|p| p.into_inner());
    if w.pending.len() >= MAX_PENDING {
        tracing::warn!(plugin = %owner.plugin, "timer refused: {MAX_PENDING} timers pending");
        return 0;
    }
    w.pending.insert(id, Pending { owner, token });
    w.heap.push(Reverse((deadline, id)));
    t.wake.notify_one();
    id
}

/// Cancel timer `id` if it belongs to `caller`'s chain entry; true if it was pending.
pub fn cancel(id: u64, caller: &TimerOwner) -> bool {
    let t = timers();
    let mut w = t.wheel.lock().unwrap_or_else(|p| p.into_inner());
    match w.pending.get(&id) {
        Some(p) if p.owner.same_entry(caller) => {
            w.pending.remove(&id);
            true
        }
        _ => false,
    }
}
