//! Forking owned by the host: branches started at once or after their delay, CANCEL to the others when
//! one answers, Timer C, and RFC 3261 §16.7 response aggregation (best answer, 6xx, 503 → 500, no
//! answer → 408).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sip_interop_abi::sdk::{LocalFailure, Target};
use sip_interop_abi::sip::Message;

use super::build;
use super::core::Core;
use super::next_hop::{self, Candidate, Located, Plan};
use super::timer::TimerKind;
use super::tx::{Branch, BranchState, ServerState, ServerTx};
use crate::transport::{Destination, Transport};

type TxRef = Arc<Mutex<ServerTx>>;

impl Core {
    /// Fork `tx` to `targets`.
    pub(super) fn fork(&self, txr: &TxRef, tx: &mut ServerTx, targets: Vec<Target>) {
        for (i, t) in targets.into_iter().enumerate() {
            let id = build::branch_id(tx.loop_hash, tx.id, i);
            self.table.add_branch(&id, txr);
            let delay = t.delay;
            tx.branches.push(Branch::new(id, t));
            if delay.is_zero() {
                self.start_branch(txr, tx, i);
            } else {
                self.arm_branch(txr, tx, i, TimerKind::StartBranch, delay);
            }
        }
        self.check_complete(txr, tx);
    }

    /// Start branch `b`: plan its next hop, then send to the first address (at once for an IP
    /// literal, after the DNS answer for a name).
    pub(super) fn start_branch(&self, txr: &TxRef, tx: &mut ServerTx, b: usize) {
        // One parse: the next hop, our Route to pop and, for an IP literal, the bytes to send.
        let (hop, planned, ready) = {
            let Ok(m) = Message::parse(tx.routed()) else {
                return;
            };
            let br = &tx.branches[b];
            let (hop, pop_route) = self.next_hop_of(&m, &br.target);
            let planned = next_hop::plan(&hop, br.target.transport);
            let ready = match &planned {
                Ok(Plan::Ready(dest)) => {
                    Some(self.build_forward(&m, &br.target, &br.id, dest, pop_route.clone()))
                }
                _ => None,
            };
            tx.branches[b].pop_route = pop_route;
            (hop, planned, ready)
        };
        match planned {
            Err(e) => {
                tracing::info!(tx = tx.id, target = %tx.branches[b].target.uri, "branch not sent: {}", e.why);
                // Planning needs no DNS: a 503 here is a transport this build cannot send on.
                let failure = (e.status == 503).then_some(LocalFailure::Unreachable);
                self.branch_failed(tx, b, e.status, failure, e.why);
            }
            Ok(Plan::Ready(dest)) => {
                tx.branches[b].hops = vec![Candidate::from(&dest)];
                let bytes = ready.unwrap_or_default();
                if !self.attempt(txr, tx, b, dest, bytes) {
                    self.try_hops(txr, tx, b);
                }
            }
            Ok(Plan::Lookup(q)) => {
                tx.branches[b].state = BranchState::Resolving;
                // Bounded even if the resolver never answers: Timer B/F.
                let t1 = self.t1();
                self.arm_branch(txr, tx, b, TimerKind::Timeout, t1 * 64);
                let weak = Arc::downgrade(txr);
                let submitted = self.defer_lookup(q, move |core, found| {
                    let Some(txr) = weak.upgrade() else { return };
                    let mut tx = txr.lock().unwrap_or_else(|p| p.into_inner());
                    core.resolved(&txr, &mut tx, b, &hop, found);
                });
                if !submitted {
                    let why = format!(
                        "next hop {}: the DNS queue is full",
                        tx.branches[b].target.uri
                    );
                    self.branch_failed(tx, b, 503, Some(LocalFailure::Unresolvable), why);
                }
            }
        }
    }

    /// The DNS answer for branch `b`'s next hop `hop`.
    fn resolved(&self, txr: &TxRef, tx: &mut ServerTx, b: usize, hop: &str, found: Located) {
        if tx.ended || tx.branches[b].state != BranchState::Resolving {
            return;
        }
        self.disarm_branch(tx, b, TimerKind::Timeout);
        if tx.answered || tx.cancelled || tx.final_sent {
            tx.branches[b].state = BranchState::NotStarted;
        } else {
            match found {
                Ok(c) if !c.is_empty() => {
                    let br = &tx.branches[b];
                    let key = br
                        .target
                        .sticky_key
                        .clone()
                        .unwrap_or_else(|| tx.ctx.source.ip().to_string());
                    let ordered = next_hop::order(c, &key, &self.health, Instant::now());
                    tracing::debug!(tx = tx.id, %hop, addresses = ordered.len(), first = %ordered[0].addr, "next hop resolved");
                    tx.branches[b].hops = ordered;
                    self.try_hops(txr, tx, b);
                }
                Ok(_) => {
                    let why = format!("next hop {hop}: DNS has no address for it");
                    tracing::info!(tx = tx.id, "{why}");
                    self.branch_failed(tx, b, 503, Some(LocalFailure::Unresolvable), why);
                }
                Err(e) => {
                    let why = format!("next hop {hop}: {e}");
                    tracing::info!(tx = tx.id, "{why}");
                    self.branch_failed(tx, b, 503, Some(LocalFailure::Unresolvable), why);
                }
            }
        }
        self.check_complete(txr, tx);
    }

    /// Send branch `b` to its current address; on a transport error mark it down and go on with the
    /// next one (RFC 3263 §4.3). No address left: the branch ends with 503.
    fn try_hops(&self, txr: &TxRef, tx: &mut ServerTx, b: usize) {
        loop {
            let br = &tx.branches[b];
            let Some(c) = br.hops.get(br.hop) else {
                let why = format!(
                    "next hop of {}: no address could be sent to ({} tried)",
                    br.target.uri,
                    br.hops.len()
                );
                self.branch_failed(tx, b, 503, Some(LocalFailure::Unreachable), why);
                return;
            };
            let dest = c.destination();
            if br.hop > 0 {
                // A new client transaction for the new address: a new branch id.
                let base = br.retired.first().unwrap_or(&br.id).clone();
                let id = format!("{base}.{}", br.hop);
                self.table.add_branch(&id, txr);
                let br = &mut tx.branches[b];
                let old = std::mem::replace(&mut br.id, id);
                br.retired.push(old);
            }
            let bytes = {
                let Ok(m) = Message::parse(tx.routed()) else {
                    return;
                };
                let br = &tx.branches[b];
                self.build_forward(&m, &br.target, &br.id, &dest, br.pop_route.clone())
            };
            if self.attempt(txr, tx, b, dest, bytes) {
                return;
            }
        }
    }

    /// Send branch `b`'s `bytes` to `dest`: on success it is Calling; on a transport error the
    /// address is marked down and the branch moves to its next one (`false`).
    fn attempt(
        &self,
        txr: &TxRef,
        tx: &mut ServerTx,
        b: usize,
        dest: Destination,
        bytes: Vec<u8>,
    ) -> bool {
        if self.send(&dest, &bytes) {
            self.sent_to_hop(txr, tx, b, dest, bytes);
            return true;
        }
        self.mark_down(tx, b);
        tx.branches[b].hop += 1;
        false
    }

    /// Branch `b` went out to `dest`: Calling, with its timers.
    fn sent_to_hop(
        &self,
        txr: &TxRef,
        tx: &mut ServerTx,
        b: usize,
        dest: Destination,
        bytes: Vec<u8>,
    ) {
        let t1 = self.t1();
        let br = &mut tx.branches[b];
        br.dest = Some(dest);
        br.request = bytes;
        br.state = BranchState::Calling;
        br.started = Some(Instant::now());
        br.interval = t1;
        let more = br.hop + 1 < br.hops.len();
        if dest.transport == Transport::Udp {
            self.arm_branch(txr, tx, b, TimerKind::Retransmit, t1);
        }
        self.arm_branch(txr, tx, b, TimerKind::Timeout, t1 * 64);
        if more {
            let after = Duration::from_millis(self.cfg.next_hop_timeout_ms);
            self.arm_branch(txr, tx, b, TimerKind::Failover, after);
        }
        if tx.invite {
            self.arm_branch(
                txr,
                tx,
                b,
                TimerKind::RingTimeout,
                Duration::from_secs(self.cfg.timer_c_s),
            );
        }
    }

    /// The current address of branch `b` failed: later requests try it last for a while.
    fn mark_down(&self, tx: &ServerTx, b: usize) {
        let br = &tx.branches[b];
        let Some(c) = br.hops.get(br.hop) else { return };
        let period = br
            .target
            .mark_down
            .unwrap_or(Duration::from_secs(self.cfg.next_hop_down_s));
        if period.is_zero() {
            tracing::info!(tx = tx.id, addr = %c.addr, "next-hop address failed (not marked down: the target says never)");
            return;
        }
        tracing::warn!(tx = tx.id, addr = %c.addr, transport = c.transport.as_str(), found_by = %c.found_by, down_for_s = period.as_secs(), "next-hop address failed: marked down");
        self.health
            .mark_down(c.transport, c.addr, Instant::now(), period);
    }

    /// Nothing at all came back from branch `b`'s address in time: mark it down and try the next.
    fn fail_over(&self, txr: &TxRef, tx: &mut ServerTx, b: usize) {
        self.mark_down(tx, b);
        self.disarm_client_timers(tx, b);
        tx.branches[b].hop += 1;
        if tx.answered || tx.cancelled || tx.final_sent {
            tx.branches[b].state = BranchState::NotStarted;
        } else {
            self.try_hops(txr, tx, b);
        }
        self.check_complete(txr, tx);
    }

    /// Stop branch `b`'s client-transaction timers (retransmission, B/F, C, failover).
    fn disarm_client_timers(&self, tx: &mut ServerTx, b: usize) {
        for k in [
            TimerKind::Retransmit,
            TimerKind::Timeout,
            TimerKind::RingTimeout,
            TimerKind::Failover,
        ] {
            self.disarm_branch(tx, b, k);
        }
    }

    /// The host ends branch `b` itself with `status` (no response from downstream).
    pub(super) fn branch_failed(
        &self,
        tx: &mut ServerTx,
        b: usize,
        status: u16,
        failure: Option<LocalFailure>,
        why: String,
    ) {
        self.branch_final(tx, b, status, None);
        tx.branches[b].failure = failure.map(|f| (f, why));
    }

    /// A branch ended with `status` (`response` = the answer received, our Via removed).
    pub(super) fn branch_final(
        &self,
        tx: &mut ServerTx,
        b: usize,
        status: u16,
        response: Option<Vec<u8>>,
    ) {
        let br = &mut tx.branches[b];
        br.state = BranchState::Completed;
        br.status = Some(status);
        br.response = response;
        self.disarm_client_timers(tx, b);
    }

    /// Stop every branch that is still going: never start the delayed ones, CANCEL the ringing ones
    /// (or as soon as they ring, RFC 3261 §9.1).
    pub(super) fn cancel_branches(&self, txr: &TxRef, tx: &mut ServerTx) {
        if !tx.invite {
            return;
        }
        for b in 0..tx.branches.len() {
            match tx.branches[b].state {
                BranchState::Waiting | BranchState::Resolving => {
                    tx.branches[b].state = BranchState::NotStarted;
                    self.disarm_branch(tx, b, TimerKind::StartBranch);
                    self.disarm_branch(tx, b, TimerKind::Timeout);
                }
                BranchState::Calling => tx.branches[b].cancel_on_provisional = true,
                BranchState::Proceeding => self.send_cancel(tx, b),
                _ => {}
            }
        }
        self.check_complete(txr, tx);
    }

    pub(super) fn send_cancel(&self, tx: &mut ServerTx, b: usize) {
        let br = &mut tx.branches[b];
        if br.cancel_sent {
            return;
        }
        let (Some(dest), Ok(m)) = (br.dest, Message::parse(&br.request)) else {
            return;
        };
        let cancel = build::cancel_for(&m);
        br.cancel_sent = true;
        self.send(&dest, &cancel);
    }

    /// When every branch is over and nothing final went upstream, send the best answer (§16.7).
    pub(super) fn check_complete(&self, txr: &TxRef, tx: &mut ServerTx) {
        if tx.final_sent || tx.branches.iter().any(Branch::pending) {
            return;
        }
        let best = tx
            .branches
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.status.map(|s| (i, s)))
            .min_by_key(|&(i, s)| (if s >= 600 { 0 } else { s / 100 }, i));
        let (status, response, failure) = match best {
            Some((i, s)) => (
                s,
                tx.branches[i].response.clone(),
                tx.branches[i].failure.clone(),
            ),
            None if tx.cancelled => (487, None, None),
            None => (408, None, None),
        };
        let Ok(req) = Message::parse(&tx.request) else {
            return;
        };
        let local = build::local_tag(tx.id);
        // An answer the host writes because the next hop failed says why, for people (Warning)
        // and for the response hooks (the context's local failure).
        let mut extra = Vec::new();
        if let Some((kind, why)) = failure {
            tx.ctx.local_failure = Some(kind);
            extra.push((
                "Warning".to_string(),
                format!("399 sip-interop \"{}\"", why.replace('"', "'")),
            ));
        }
        match (status, response) {
            (503, _) => {
                let r = build::reply(&req, 500, None, &local, &extra);
                self.final_upstream(txr, tx, r, 500);
            }
            (s, Some(bytes)) => {
                tx.final_sent = true;
                if let Some(sent) = self.forward_response(tx, &bytes) {
                    self.after_final(txr, tx, sent, s);
                } else {
                    self.end(tx);
                }
            }
            (s, None) => {
                let r = build::reply(&req, s, None, &local, &extra);
                self.final_upstream(txr, tx, r, s);
            }
        }
    }

    /// Send a final answer the proxy wrote itself (through the response chain).
    pub(super) fn final_upstream(
        &self,
        txr: &TxRef,
        tx: &mut ServerTx,
        reply: Vec<u8>,
        status: u16,
    ) {
        tx.final_sent = true;
        match self.forward_response(tx, &reply) {
            Some(sent) => self.after_final(txr, tx, sent, status),
            None => self.end(tx),
        }
    }

    /// Server transaction bookkeeping after a final answer went upstream.
    pub(super) fn after_final(&self, txr: &TxRef, tx: &mut ServerTx, sent: Vec<u8>, status: u16) {
        self.settle(tx);
        let udp = tx.reply_to.transport == Transport::Udp;
        tx.last_response = Some(sent);
        if tx.invite && status >= 300 {
            tx.state = ServerState::Completed;
            if udp {
                tx.interval = self.t1();
                self.arm_server(txr, tx, TimerKind::Retransmit, self.t1());
            }
            self.arm_server(txr, tx, TimerKind::Done, self.t1() * 64);
        } else if tx.invite {
            tx.state = ServerState::Accepted;
            self.arm_server(txr, tx, TimerKind::Done, self.t1() * 64);
        } else {
            tx.state = ServerState::Completed;
            self.arm_server(
                txr,
                tx,
                TimerKind::Done,
                if udp { self.t1() * 64 } else { Duration::ZERO },
            );
        }
    }

    /// The transaction no longer counts against `max_transactions` (counted once).
    fn settle(&self, tx: &mut ServerTx) {
        if !tx.settled {
            tx.settled = true;
            self.table.settled();
        }
    }

    /// Take the transaction out of the table.
    pub(super) fn end(&self, tx: &mut ServerTx) {
        self.settle(tx);
        if tx.ended {
            return;
        }
        tx.ended = true;
        self.disarm_all(tx);
        self.table
            .remove(&tx.key, tx.branches.iter().flat_map(|b| b.ids()));
    }

    /// A due server-side timer.
    pub(super) fn server_timer(&self, txr: &TxRef, tx: &mut ServerTx, kind: TimerKind) {
        match kind {
            TimerKind::Retransmit if tx.state == ServerState::Completed => {
                // Timer G: the final answer again until the ACK comes.
                if let Some(r) = &tx.last_response {
                    self.send(&tx.reply_to, r);
                }
                tx.interval = (tx.interval * 2).min(self.t2());
                let after = tx.interval;
                self.arm_server(txr, tx, TimerKind::Retransmit, after);
            }
            TimerKind::Done => self.end(tx),
            _ => {}
        }
    }

    /// A due branch timer.
    pub(super) fn branch_timer(&self, txr: &TxRef, tx: &mut ServerTx, b: usize, kind: TimerKind) {
        let state = tx.branches[b].state;
        match kind {
            TimerKind::StartBranch if state == BranchState::Waiting => {
                if tx.answered || tx.cancelled || tx.final_sent {
                    tx.branches[b].state = BranchState::NotStarted;
                    self.check_complete(txr, tx);
                } else {
                    self.start_branch(txr, tx, b);
                    self.check_complete(txr, tx);
                }
            }
            TimerKind::Retransmit
                if state == BranchState::Calling
                    || (!tx.invite && state == BranchState::Proceeding) =>
            {
                // Timer A (INVITE, doubling) / E (non-INVITE, capped at T2).
                let br = &mut tx.branches[b];
                if let Some(dest) = br.dest {
                    let bytes = br.request.clone();
                    br.interval = if tx.invite {
                        br.interval * 2
                    } else {
                        (br.interval * 2).min(self.t2())
                    };
                    let after = br.interval;
                    self.send(&dest, &bytes);
                    self.arm_branch(txr, tx, b, TimerKind::Retransmit, after);
                }
            }
            TimerKind::Failover if state == BranchState::Calling => self.fail_over(txr, tx, b),
            TimerKind::Timeout if state == BranchState::Calling => {
                // Timer B / F without any answer: this address is dead; the next one, if any.
                let br = &tx.branches[b];
                if br.hop + 1 < br.hops.len() {
                    self.fail_over(txr, tx, b);
                } else {
                    self.mark_down(tx, b);
                    let why = format!(
                        "next hop of {}: no answer from {}",
                        br.target.uri,
                        br.hops
                            .get(br.hop)
                            .map(|c| c.addr.to_string())
                            .unwrap_or_default()
                    );
                    self.branch_failed(tx, b, 408, Some(LocalFailure::Timeout), why);
                    self.check_complete(txr, tx);
                }
            }
            TimerKind::Timeout if state == BranchState::Resolving => {
                let why = format!(
                    "next hop of {}: DNS gave no answer in time",
                    tx.branches[b].target.uri
                );
                self.branch_failed(tx, b, 503, Some(LocalFailure::Unresolvable), why);
                self.check_complete(txr, tx);
            }
            TimerKind::Timeout if !tx.invite && state == BranchState::Proceeding => {
                // Timer F after a provisional answer: nothing final in time.
                self.branch_final(tx, b, 408, None);
                self.check_complete(txr, tx);
            }
            TimerKind::RingTimeout if state == BranchState::Proceeding => self.send_cancel(tx, b),
            TimerKind::RingTimeout if state == BranchState::Calling => {
                self.branch_final(tx, b, 408, None);
                self.check_complete(txr, tx);
            }
            _ => {}
        }
    }
}
