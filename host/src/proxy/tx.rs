//! Transaction state (RFC 3261 §17) as a proxy keeps it: one server transaction per request received,
//! one client transaction ("branch") per place it is forwarded to, and the table that finds them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sip_interop_abi::sdk::{LocalFailure, Target};
use sip_interop_abi::sip::{Message, Via};

use super::next_hop::Candidate;
use super::request::PopRoute;
use super::timer::KINDS;
use crate::chain::{Chain, TxContext};
use crate::transport::Destination;

/// Which transaction a request belongs to (RFC 3261 §17.2.3): the top Via's branch and sent-by, and
/// the method class (ACK matches its INVITE; CANCEL is its own transaction).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerKey {
    branch: String,
    sent_by: String,
    class: u8,
}

impl ServerKey {
    /// Key of `m` (a request) taken as a request of class `class` (0 INVITE/ACK, 1 CANCEL, 2 other).
    pub fn with_class(m: &Message<'_>, via: &Via<'_>, class: u8) -> ServerKey {
        let branch = via.branch().unwrap_or("");
        let branch = if branch.starts_with("z9hG4bK") {
            branch.to_string()
        } else {
            // RFC 2543 peer: no unique branch; fall back to the dialog and sequence identifiers.
            format!(
                "2543:{}:{}:{}:{}",
                branch,
                m.call_id().unwrap_or(""),
                m.cseq().and_then(|c| c.ok()).map(|c| c.seq).unwrap_or(0),
                m.from()
                    .and_then(|f| f.ok())
                    .and_then(|f| f.tag())
                    .unwrap_or("")
            )
        };
        let port = via.port.unwrap_or(5060);
        ServerKey {
            branch,
            sent_by: format!("{}:{port}", via.host_text.to_ascii_lowercase()),
            class,
        }
    }

    /// The class of a request method.
    pub fn class_of(method: &str) -> u8 {
        match method {
            "INVITE" | "ACK" => 0,
            "CANCEL" => 1,
            _ => 2,
        }
    }
}

/// Server transaction states (INVITE: Proceeding → Completed → Confirmed, or Accepted after a 2xx per
/// RFC 6026; non-INVITE: Proceeding → Completed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerState {
    /// Waiting for a final answer.
    Proceeding,
    /// A non-2xx final was sent (INVITE: waiting for ACK).
    Completed,
    /// The ACK arrived.
    Confirmed,
    /// A 2xx was forwarded (INVITE); late 2xx retransmissions still pass.
    Accepted,
}

/// Client transaction ("branch") states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BranchState {
    /// A delayed fork target, not started yet.
    Waiting,
    /// Its next hop is being looked up in DNS.
    Resolving,
    /// Never started (answered or cancelled first).
    NotStarted,
    /// Sent, nothing back yet (INVITE: Calling; non-INVITE: Trying).
    Calling,
    /// A provisional answer arrived.
    Proceeding,
    /// A final answer arrived (or was synthesised).
    Completed,
}

/// One forwarded copy of a request.
pub struct Branch {
    /// Its Via branch parameter.
    pub id: String,
    /// Where the chain (or the default route) sent it.
    pub target: Target,
    /// Where it went.
    pub dest: Option<Destination>,
    /// The bytes sent (for retransmission and to build CANCEL/ACK).
    pub request: Vec<u8>,
    /// State.
    pub state: BranchState,
    /// Final status, received or synthesised.
    pub status: Option<u16>,
    /// Final response received (our Via removed), kept for response aggregation.
    pub response: Option<Vec<u8>>,
    /// When it was sent.
    pub started: Option<Instant>,
    /// Send CANCEL as soon as a provisional answer arrives.
    pub cancel_on_provisional: bool,
    /// CANCEL sent.
    pub cancel_sent: bool,
    /// Current retransmission interval.
    pub interval: Duration,
    /// Timer generations by kind.
    pub gens: [u32; KINDS],
    /// Id of the last timer armed of each kind (0: none), to cancel it.
    pub timer_ids: [u64; KINDS],
    /// The addresses of the next hop, in the order they are tried.
    pub hops: Vec<Candidate>,
    /// The one in use (index into `hops`).
    pub hop: usize,
    /// Ids of earlier attempts on other addresses (still in the table, so their late answers are
    /// recognised and ignored).
    pub retired: Vec<String>,
    /// Why the host ended this branch itself, when it did (no address, unreachable, no answer).
    pub failure: Option<(LocalFailure, String)>,
    /// Our own Route entry removed from what this branch sends.
    pub pop_route: PopRoute,
    /// Its 2xx came sooner than the target's `min_answer`: the proxy ACKed it and sent BYE, and
    /// absorbs its retransmissions (ACKing them again) instead of passing them up.
    pub ended_too_soon: bool,
}

impl Branch {
    /// A branch for `target`, not sent yet.
    pub fn new(id: String, target: Target) -> Self {
        Branch {
            id,
            target,
            dest: None,
            request: Vec::new(),
            state: BranchState::Waiting,
            status: None,
            response: None,
            started: None,
            cancel_on_provisional: false,
            cancel_sent: false,
            interval: Duration::ZERO,
            gens: [0; KINDS],
            timer_ids: [0; KINDS],
            hops: Vec::new(),
            hop: 0,
            retired: Vec::new(),
            failure: None,
            pop_route: None,
            ended_too_soon: false,
        }
    }

    /// Every id this branch was sent with.
    pub fn ids(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(self.id.clone()).chain(self.retired.iter().cloned())
    }

    /// Whether it still waits for something.
    pub fn pending(&self) -> bool {
        matches!(
            self.state,
            BranchState::Waiting
                | BranchState::Resolving
                | BranchState::Calling
                | BranchState::Proceeding
        )
    }
}

/// A request received and what became of it.
pub struct ServerTx {
    /// Number within this proxy.
    pub id: u64,
    /// Its key.
    pub key: ServerKey,
    /// INVITE transaction.
    pub invite: bool,
    /// The request as received.
    pub request: Vec<u8>,
    /// The request after the chain's edits, when the chain edited it (else branches are made from
    /// `request`: no second copy).
    pub routed: Option<Vec<u8>>,
    /// Where responses go (RFC 3261 §18.2.2, RFC 3581).
    pub reply_to: Destination,
    /// State.
    pub state: ServerState,
    /// Last response sent upstream (retransmitted on request retransmissions); `None` with an INVITE
    /// still proceeding means our 100 Trying, rebuilt from the request when needed.
    pub last_response: Option<Vec<u8>>,
    /// The chain snapshot the transaction runs on, start to end.
    pub chain: Arc<Chain>,
    /// Context and scratchpad shared by its hooks.
    pub ctx: TxContext,
    /// Forwarded copies.
    pub branches: Vec<Branch>,
    /// A final response went upstream.
    pub final_sent: bool,
    /// A 2xx arrived on some branch.
    pub answered: bool,
    /// CANCELled by the caller.
    pub cancelled: bool,
    /// Loop hash of the request.
    pub loop_hash: u64,
    /// Server-side timer generations by kind.
    pub gens: [u32; KINDS],
    /// Id of the last server-side timer armed of each kind (0: none).
    pub timer_ids: [u64; KINDS],
    /// Current retransmission interval of the final response (Timer G).
    pub interval: Duration,
    /// Removed from the table.
    pub ended: bool,
    /// No longer counted against the in-progress limit (a final answer went up, or it ended).
    pub settled: bool,
}

impl ServerTx {
    /// What branches are made from: the request as the chain left it.
    pub fn routed(&self) -> &[u8] {
        self.routed.as_deref().unwrap_or(&self.request)
    }
}

/// Shared handle to a transaction.
pub type TxRef = Arc<Mutex<ServerTx>>;

/// The transaction table: the one shared structure on the hot path.
#[derive(Default)]
pub struct TxTable {
    by_key: Mutex<HashMap<ServerKey, TxRef>>,
    by_branch: Mutex<HashMap<String, TxRef>>,
    live: AtomicUsize,
    in_progress: AtomicUsize,
}

impl TxTable {
    /// The transaction with `key`.
    pub fn get(&self, key: &ServerKey) -> Option<TxRef> {
        self.by_key
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// Insert unless `max` transactions are in progress already; `Err` = full. `Ok(Some(existing))`
    /// when another worker inserted the same key first (a retransmission raced the original).
    /// Completed transactions that linger for their RFC 3261 timers (to absorb retransmissions) do
    /// not count: their number is bounded by the call rate times 64×T1.
    pub fn insert(&self, key: ServerKey, tx: TxRef, max: usize) -> Result<Option<TxRef>, ()> {
        let mut m = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = m.get(&key) {
            return Ok(Some(existing.clone()));
        }
        if self.in_progress.load(Ordering::Relaxed) >= max {
            return Err(());
        }
        self.in_progress.fetch_add(1, Ordering::Relaxed);
        m.insert(key, tx);
        self.live.store(m.len(), Ordering::Relaxed);
        Ok(None)
    }

    /// Find a transaction by one of its branch ids.
    pub fn by_branch(&self, branch: &str) -> Option<TxRef> {
        self.by_branch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(branch)
            .cloned()
    }

    /// Register a branch id.
    pub fn add_branch(&self, branch: &str, tx: &TxRef) {
        self.by_branch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(branch.to_string(), tx.clone());
    }

    /// Forget a transaction and its branches.
    pub fn remove(&self, key: &ServerKey, branches: impl Iterator<Item = String>) {
        {
            let mut b = self.by_branch.lock().unwrap_or_else(|p| p.into_inner());
            for id in branches {
                b.remove(&id);
            }
        }
        let mut m = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        m.remove(key);
        self.live.store(m.len(), Ordering::Relaxed);
    }

    /// Transactions in the table (in progress and lingering).
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// A transaction stopped counting as in progress.
    pub fn settled(&self) {
        self.in_progress.fetch_sub(1, Ordering::Relaxed);
    }

    /// Transactions without a final answer yet.
    pub fn in_progress(&self) -> usize {
        self.in_progress.load(Ordering::Relaxed)
    }
}
