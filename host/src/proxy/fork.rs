//! Forking owned by the host: branches started at once or after their delay, CANCEL to the others when
//! one answers, Timer C, and RFC 3261 §16.7 response aggregation (best answer, 6xx, 503 → 500, no
//! answer → 408).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sip_interop_abi::sdk::Target;
use sip_interop_abi::sip::Message;

use super::build;
use super::core::Core;
use super::timer::TimerKind;
use super::tx::{Branch, BranchState, ServerState, ServerTx};
use crate::transport::Transport;

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

    /// Send branch `b`.
    pub(super) fn start_branch(&self, txr: &TxRef, tx: &mut ServerTx, b: usize) {
        let prepared = {
            let Ok(m) = Message::parse(tx.routed()) else {
                return;
            };
            let br = &tx.branches[b];
            self.prepare(&m, &br.target, &br.id)
        };
        let (bytes, dest) = match prepared {
            Ok(x) => x,
            Err(e) => {
                tracing::info!(tx = tx.id, target = %tx.branches[b].target.uri, "branch not sent: {}", e.why);
                self.branch_final(tx, b, e.status, None);
                return;
            }
        };
        if !self.send(&dest, &bytes) {
            self.branch_final(tx, b, 503, None);
            return;
        }
        let t1 = self.t1();
        let br = &mut tx.branches[b];
        br.dest = Some(dest);
        br.request = bytes;
        br.state = BranchState::Calling;
        br.started = Some(Instant::now());
        br.interval = t1;
        if dest.transport == Transport::Udp {
            self.arm_branch(txr, tx, b, TimerKind::Retransmit, t1);
        }
        self.arm_branch(txr, tx, b, TimerKind::Timeout, t1 * 64);
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
        for k in [
            TimerKind::Retransmit,
            TimerKind::Timeout,
            TimerKind::RingTimeout,
        ] {
            Core::disarm_branch(tx, b, k);
        }
    }

    /// Stop every branch that is still going: never start the delayed ones, CANCEL the ringing ones
    /// (or as soon as they ring, RFC 3261 §9.1).
    pub(super) fn cancel_branches(&self, txr: &TxRef, tx: &mut ServerTx) {
        if !tx.invite {
            return;
        }
        for b in 0..tx.branches.len() {
            match tx.branches[b].state {
                BranchState::Waiting => {
                    tx.branches[b].state = BranchState::NotStarted;
                    Core::disarm_branch(tx, b, TimerKind::StartBranch);
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
        let (status, response) = match best {
            Some((i, s)) => (s, tx.branches[i].response.clone()),
            None if tx.cancelled => (487, None),
            None => (408, None),
        };
        let Ok(req) = Message::parse(&tx.request) else {
            return;
        };
        let local = build::local_tag(tx.id);
        match (status, response) {
            (503, _) => {
                let r = build::reply(&req, 500, None, &local, &[]);
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
                let r = build::reply(&req, s, None, &local, &[]);
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

    /// Take the transaction out of the table.
    pub(super) fn end(&self, tx: &mut ServerTx) {
        if tx.ended {
            return;
        }
        tx.ended = true;
        self.table
            .remove(&tx.key, tx.branches.iter().map(|b| b.id.clone()));
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
            TimerKind::Timeout
                if state == BranchState::Calling
                    || (!tx.invite && state == BranchState::Proceeding) =>
            {
                // Timer B / F: nothing final in time.
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
