//! The proxy's transaction timers (RFC 3261 §17: A–K, and Timer C): one thread with a deadline heap that
//! hands due timers to the workers through a channel. A timer carries the generation of what it was
//! armed for; a worker ignores it when the state moved on.

use crossbeam_channel::Sender;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use super::tx::ServerTx;

/// What a timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// A/E on a branch (request retransmission), G on the server side (final response retransmission).
    Retransmit = 0,
    /// B/F on a branch: no final answer in time → 408.
    Timeout = 1,
    /// Timer C: an INVITE branch rang too long → CANCEL.
    RingTimeout = 2,
    /// A delayed fork target is due.
    StartBranch = 3,
    /// D/K on a branch, H/I/J/L on the server side: the transaction is over.
    Done = 4,
    /// A branch's next-hop address gave no answer at all in time: try the next address.
    Failover = 5,
}

/// Number of [`TimerKind`]s (size of the generation arrays).
pub const KINDS: usize = 6;

/// A due timer.
pub struct TimerEvent {
    /// The server transaction.
    pub tx: Weak<Mutex<ServerTx>>,
    /// The branch, or `None` for the server side.
    pub branch: Option<usize>,
    /// What for.
    pub kind: TimerKind,
    /// Generation it was armed with.
    pub generation: u32,
}

struct Queue {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    events: HashMap<u64, TimerEvent>,
    next: u64,
    stop: bool,
}

/// The timer thread's queue.
pub struct Timers {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Timers {
    /// Start the timer thread; due timers go to `out`.
    pub fn start(out: Sender<TimerEvent>) -> Arc<Timers> {
        let t = Arc::new(Timers {
            queue: Mutex::new(Queue {
                heap: BinaryHeap::new(),
                events: HashMap::new(),
                next: 0,
                stop: false,
            }),
            wake: Condvar::new(),
        });
        let runner = t.clone();
        std::thread::Builder::new()
            .name("sip-tx-timers".into())
            .spawn(move || runner.run(out))
            .expect("spawn the transaction timer thread");
        t
    }

    /// Arm a timer in place of timer `replaces` (cancelled if still pending; 0 for none). The id
    /// returned cancels it.
    pub fn arm(&self, after: Duration, event: TimerEvent, replaces: u64) -> u64 {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if replaces != 0 {
            q.events.remove(&replaces);
        }
        q.next += 1;
        let id = q.next;
        q.heap.push(Reverse((Instant::now() + after, id)));
        q.events.insert(id, event);
        self.wake.notify_one();
        id
    }

    /// Cancel timers that have not fired (ids of fired or cancelled timers, and 0, are ignored). The
    /// event, and with it the weak reference that keeps its transaction's allocation, goes at once;
    /// only the heap's (deadline, id) entry waits for its deadline.
    pub fn cancel(&self, ids: impl IntoIterator<Item = u64>) {
        let mut ids = ids.into_iter().filter(|&id| id != 0).peekable();
        if ids.peek().is_none() {
            return;
        }
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            q.events.remove(&id);
        }
    }

    /// Pending timers (for the memory report).
    pub fn pending(&self) -> usize {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .events
            .len()
    }

    /// Stop the thread.
    pub fn stop(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).stop = true;
        self.wake.notify_one();
    }

    fn run(&self, out: Sender<TimerEvent>) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if q.stop {
                return;
            }
            let now = Instant::now();
            match q.heap.peek().copied() {
                Some(Reverse((at, id))) if at <= now => {
                    q.heap.pop();
                    if let Some(ev) = q.events.remove(&id) {
                        if out.send(ev).is_err() {
                            return;
                        }
                    }
                }
                Some(Reverse((at, _))) => {
                    q = self
                        .wake
                        .wait_timeout(q, at - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => q = self.wake.wait(q).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: TimerKind) -> TimerEvent {
        TimerEvent {
            tx: Weak::new(),
            branch: Some(0),
            kind,
            generation: 1,
        }
    }

    #[test]
    fn a_cancelled_timer_leaves_the_queue_at_once_and_never_fires() {
        let (out, due) = crossbeam_channel::unbounded();
        let timers = Timers::start(out);
        let ring = timers.arm(Duration::from_millis(30), event(TimerKind::RingTimeout), 0);
        let _done = timers.arm(Duration::from_millis(60), event(TimerKind::Done), 0);
        assert_eq!(timers.pending(), 2);
        timers.cancel([ring, 0, 12345]);
        assert_eq!(
            timers.pending(),
            1,
            "the cancelled event is gone before its deadline"
        );
        let fired = due
            .recv_timeout(Duration::from_secs(2))
            .expect("the other timer fires");
        assert_eq!(fired.kind, TimerKind::Done);
        assert!(due.recv_timeout(Duration::from_millis(100)).is_err());
        timers.stop();
    }

    #[test]
    fn arming_in_place_of_a_pending_timer_cancels_it() {
        let (out, due) = crossbeam_channel::unbounded();
        let timers = Timers::start(out);
        let first = timers.arm(Duration::from_millis(20), event(TimerKind::Retransmit), 0);
        timers.arm(Duration::from_millis(40), event(TimerKind::Timeout), first);
        assert_eq!(timers.pending(), 1);
        assert_eq!(
            due.recv_timeout(Duration::from_secs(2)).unwrap().kind,
            TimerKind::Timeout
        );
        assert!(due.recv_timeout(Duration::from_millis(60)).is_err());
        timers.stop();
    }
}
