//! Responses: matched to their branch by our Via, passed up through the chain, aggregated.

use std::time::Duration;

use sip_interop_abi::sip::{serialize, Edit, Message};

use super::build::{self, BRANCH_PREFIX};
use super::core::{via_dest, Core};
use super::timer::TimerKind;
use super::tx::{BranchState, ServerState};
use crate::transport::{Inbound, Transport};

impl Core {
    /// A response from downstream.
    pub(super) fn response(&self, inb: &Inbound, m: &Message<'_>) {
        let Some(Ok(top)) = m.top_via() else { return };
        let Some(branch) = top.branch().filter(|b| b.starts_with(BRANCH_PREFIX)) else {
            tracing::debug!(source = %inb.source, "response whose top Via is not ours dropped");
            return;
        };
        let status = m.status().unwrap_or(0);
        let cseq_method = m.cseq().and_then(|c| c.ok()).map(|c| c.method.as_str());
        if matches!(cseq_method, Some("CANCEL") | Some("ACK")) || branch.contains("-end") {
            // The answer to a CANCEL (or to the BYE ending a too-soon branch) the proxy sent itself:
            // hop by hop, it ends here.
            return;
        }
        let popped = serialize(m, &[Edit::PopVia]);
        let Some(txr) = self.table.by_branch(branch) else {
            // No transaction (any more): a 2xx retransmission still goes up, statelessly, by Via.
            if (200..300).contains(&status) {
                if let Ok(pm) = Message::parse(&popped) {
                    if let Some(dest) = pm.top_via().and_then(|v| v.ok()).and_then(|v| via_dest(&v))
                    {
                        self.send(&dest, &popped);
                    }
                }
            }
            return;
        };
        let mut tx = txr.lock().unwrap_or_else(|p| p.into_inner());
        let Some(b) = tx.branches.iter().position(|br| br.id == branch) else {
            return;
        };
        let is_invite = tx.invite;
        let state = tx.branches[b].state;
        if state == BranchState::Calling {
            // The address answers: it is up, and no failover is due.
            self.disarm_branch(&mut tx, b, TimerKind::Failover);
            if let Some(d) = tx.branches[b].dest {
                self.health.answered(d.transport, d.addr);
            }
        }
        if state == BranchState::Completed {
            // A retransmitted final answer: ACK it again (INVITE, non-2xx); a 2xx passes up.
            if is_invite && status >= 300 {
                self.ack_branch(&tx.branches[b].request, m, tx.branches[b].dest);
            } else if is_invite && tx.branches[b].ended_too_soon {
                let br = &tx.branches[b];
                self.end_answered_branch(&br.request, m, br.dest, tx.id, b, false);
            } else if (200..300).contains(&status) && is_invite {
                self.forward_response(&mut tx, &popped);
            }
            return;
        }
        if status < 200 {
            if state == BranchState::Calling {
                tx.branches[b].state = BranchState::Proceeding;
                if is_invite {
                    self.disarm_branch(&mut tx, b, TimerKind::Retransmit);
                    self.disarm_branch(&mut tx, b, TimerKind::Timeout);
                } else {
                    let t2 = self.t2();
                    tx.branches[b].interval = t2;
                }
            }
            if is_invite {
                let c = Duration::from_secs(self.cfg.timer_c_s);
                self.arm_branch(&txr, &mut tx, b, TimerKind::RingTimeout, c);
                if tx.branches[b].cancel_on_provisional {
                    self.send_cancel(&mut tx, b);
                }
            }
            if status > 100 && !tx.final_sent && !tx.cancelled {
                // Kept: a retransmitted INVITE gets the latest provisional answer again.
                tx.last_response = self
                    .forward_response(&mut tx, &popped)
                    .or(tx.last_response.take());
            }
            return;
        }
        if (200..300).contains(&status) {
            if is_invite {
                let br = &tx.branches[b];
                let too_soon = !br.target.min_answer.is_zero()
                    && br
                        .started
                        .is_some_and(|t| t.elapsed() < br.target.min_answer);
                if too_soon {
                    tracing::info!(tx = tx.id, target = %br.target.uri, "answered sooner than min_answer: absorbed, the call on that branch is ended");
                    self.end_answered_branch(
                        &tx.branches[b].request,
                        m,
                        tx.branches[b].dest,
                        tx.id,
                        b,
                        true,
                    );
                    tx.branches[b].ended_too_soon = true;
                    self.branch_final(&mut tx, b, 480, None);
                    self.check_complete(&txr, &mut tx);
                    return;
                }
            }
            self.branch_final(&mut tx, b, status, None);
            tx.answered = true;
            let first = !tx.final_sent;
            tx.final_sent = true;
            if let Some(sent) = self.forward_response(&mut tx, &popped) {
                if first {
                    self.after_final(&txr, &mut tx, sent, status);
                }
            }
            self.cancel_branches(&txr, &mut tx);
            return;
        }
        // 3xx–6xx.
        if is_invite {
            self.ack_branch(&tx.branches[b].request, m, tx.branches[b].dest);
        }
        self.branch_final(&mut tx, b, status, Some(popped));
        let udp = tx.branches[b]
            .dest
            .is_some_and(|d| d.transport == Transport::Udp);
        let linger = match (udp, is_invite) {
            (false, _) => Duration::ZERO,
            (true, true) => Duration::from_secs(32),
            (true, false) => self.t4(),
        };
        self.arm_branch(&txr, &mut tx, b, TimerKind::Done, linger);
        if status >= 600 && !tx.final_sent {
            self.cancel_branches(&txr, &mut tx);
        }
        if tx.state == ServerState::Proceeding {
            self.check_complete(&txr, &mut tx);
        }
    }

    /// ACK a non-2xx final answer on a branch (hop by hop).
    fn ack_branch(
        &self,
        forwarded: &[u8],
        response: &Message<'_>,
        dest: Option<crate::transport::Destination>,
    ) {
        let (Ok(fwd), Some(dest)) = (Message::parse(forwarded), dest) else {
            return;
        };
        self.send(&dest, &build::ack_for(&fwd, response));
    }

    /// End a dialog a branch set up too soon: ACK its 2xx, then BYE (`with_bye`; a retransmitted
    /// 2xx only gets the ACK again).
    fn end_answered_branch(
        &self,
        forwarded: &[u8],
        ok: &Message<'_>,
        dest: Option<crate::transport::Destination>,
        tx: u64,
        b: usize,
        with_bye: bool,
    ) {
        let (Ok(fwd), Some(dest)) = (Message::parse(forwarded), dest) else {
            return;
        };
        let seq = fwd.cseq().and_then(|c| c.ok()).map(|c| c.seq).unwrap_or(1);
        let requests = [("ACK", seq, 0), ("BYE", seq + 1, 1)];
        for &(method, cseq, n) in &requests[..if with_bye { 2 } else { 1 }] {
            let branch = format!("{BRANCH_PREFIX}0000000000000000-{tx:x}-{b}-end{n}");
            let via = self.via_for(&dest, &branch);
            if let Some((bytes, hop)) =
                build::dialog_request(&fwd, ok, method, cseq, &via, |uri| self.is_our_uri(uri))
            {
                // The remote target is an address in practice; a name falls back to the branch's.
                let to = match super::next_hop::plan(&hop, dest.transport) {
                    Ok(super::next_hop::Plan::Ready(d)) => d,
                    _ => dest,
                };
                self.send(&to, &bytes);
            }
        }
    }
}
