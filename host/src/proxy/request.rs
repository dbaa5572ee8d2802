//! Requests: retransmissions absorbed, ACK and CANCEL matched, loops refused, new transactions run
//! through the chain and forked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sip_interop_abi::sdk::{Target, Verdict};
use sip_interop_abi::sip::{serialize, Message};

use super::build::{self, loop_hash, loop_hash_of_branch};
use super::core::{reply_dest, Core};
use super::next_hop::Plan;
use super::timer::TimerKind;
use super::tx::{ServerKey, ServerState, ServerTx};
use crate::chain::TxContext;
use crate::transport::{Destination, Inbound};

/// Our own Route entry to remove from a request: header index, and what remains of that line.
pub(super) type PopRoute = Option<(usize, Option<String>)>;

impl Core {
    /// A request that passed the RFC 3261 checks.
    pub(super) fn request(&self, inb: &Inbound, m: &Message<'_>) {
        let Some(Ok(via)) = m.top_via() else { return };
        let method = m
            .method()
            .map(|x| x.as_str().to_string())
            .unwrap_or_default();
        match method.as_str() {
            "ACK" => self.ack(inb, m, &via),
            "CANCEL" => self.cancel(inb, m, &via),
            _ => self.new_or_retransmitted(inb, m, &via, &method),
        }
    }

    /// An ACK matching an INVITE server transaction (RFC 3261 §17.2.3: the top Via's branch and
    /// sent-by) is the ACK for our non-2xx final answer: hop by hop, it ends here and stops the
    /// answer's retransmissions. Whether it matched.
    fn absorb_ack(&self, m: &Message<'_>, via: &sip_interop_abi::sip::Via<'_>) -> bool {
        let Some(txr) = self.table.get(&ServerKey::with_class(m, via, 0)) else {
            return false;
        };
        let mut tx = txr.lock().unwrap_or_else(|p| p.into_inner());
        if tx.state == ServerState::Completed {
            tx.state = ServerState::Confirmed;
            let after = if tx.reply_to.transport == crate::transport::Transport::Udp {
                self.t4()
            } else {
                Duration::ZERO
            };
            self.arm_server(&txr, &mut tx, TimerKind::Done, after);
        }
        true
    }

    fn ack(&self, inb: &Inbound, m: &Message<'_>, via: &sip_interop_abi::sip::Via<'_>) {
        if self.absorb_ack(m, via) {
            return;
        }
        // ACK for an answer this proxy wrote itself without keeping a transaction (503 at the limit):
        // its To tag is ours, so it ends here.
        if m.to()
            .and_then(|t| t.ok())
            .and_then(|t| t.tag())
            .is_some_and(|t| t.starts_with(build::LOCAL_TAG_PREFIX))
        {
            return;
        }
        // ACK for a 2xx: end to end, forwarded without a transaction.
        let chain = self.host.snapshot();
        let mut ctx = TxContext::new(inb.source, inb.local, inb.transport, 0);
        let out = chain.run_request(m, &mut ctx, self.host.metrics(), None);
        let target = match out.verdict {
            Verdict::Continue => Target::new(m.request_uri_str().unwrap_or("")),
            Verdict::Route(mut t) if !t.is_empty() => t.swap_remove(0),
            _ => return,
        };
        let base = out.edited.unwrap_or_else(|| inb.data.clone());
        let Ok(bm) = Message::parse(&base) else {
            return;
        };
        let id = build::branch_id(loop_hash(&bm), 0, 0);
        self.forward_stateless(&bm, &target, &id);
    }

    fn cancel(&self, inb: &Inbound, m: &Message<'_>, via: &sip_interop_abi::sip::Via<'_>) {
        let Some(txr) = self.table.get(&ServerKey::with_class(m, via, 0)) else {
            let r = build::reply(m, 481, None, &build::local_tag(0), &[]);
            self.send(&reply_dest(inb, m), &r);
            return;
        };
        let mut tx = txr.lock().unwrap_or_else(|p| p.into_inner());
        let r = build::reply(m, 200, None, &build::local_tag(tx.id), &[]);
        self.send(&reply_dest(inb, m), &r);
        if !tx.final_sent && !tx.cancelled {
            tx.cancelled = true;
            self.cancel_branches(&txr, &mut tx);
        }
    }

    fn new_or_retransmitted(
        &self,
        inb: &Inbound,
        m: &Message<'_>,
        via: &sip_interop_abi::sip::Via<'_>,
        method: &str,
    ) {
        let key = ServerKey::with_class(m, via, ServerKey::class_of(method));
        if let Some(txr) = self.table.get(&key) {
            self.retransmission(&txr);
            return;
        }
        let hash = loop_hash(m);
        // RFC 3261 §16.3 step 4: our own Via with this request's loop hash means it came back unchanged.
        for v in m.vias().flatten() {
            if self.is_us(v.host_text, v.port)
                && v.branch().and_then(loop_hash_of_branch) == Some(hash)
            {
                self.host
                    .metrics()
                    .proxy_loops
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.reject(inb, m, 482, &[]);
                return;
            }
        }
        let id = self.next_id();
        let tx = self.new_tx(id, key.clone(), method == "INVITE", inb, m, hash);
        let txr = Arc::new(Mutex::new(tx));
        match self
            .table
            .insert(key, txr.clone(), self.cfg.max_transactions)
        {
            Err(()) => {
                self.host
                    .metrics()
                    .proxy_overload
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let extra = [(
                    "Retry-After".to_string(),
                    self.cfg.retry_after_s.to_string(),
                )];
                let r = build::reply(m, 503, None, &build::local_tag(0), &extra);
                self.send(&reply_dest(inb, m), &r);
                return;
            }
            Ok(Some(existing)) => {
                self.retransmission(&existing);
                return;
            }
            Ok(None) => {}
        }
        self.host
            .metrics()
            .proxy_transactions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut tx = txr.lock().unwrap_or_else(|p| p.into_inner());
        if tx.invite {
            let trying = build::reply(m, 100, None, "", &[]);
            self.send(&tx.reply_to, &trying);
        }
        let chain = tx.chain.clone();
        let out = chain.run_request(m, &mut tx.ctx, self.host.metrics(), None);
        tx.routed = out.edited;
        match out.verdict {
            Verdict::Respond(r) => {
                let reply = build::reply_with_body(
                    m,
                    r.status,
                    Some(&r.reason),
                    &build::local_tag(id),
                    &r.headers,
                    r.body.as_ref().map(|(t, b)| (t.as_str(), b.as_slice())),
                );
                self.final_upstream(&txr, &mut tx, reply, r.status);
            }
            Verdict::Drop => self.end(&mut tx),
            Verdict::Route(targets) if !targets.is_empty() => self.fork(&txr, &mut tx, targets),
            Verdict::Route(_) | Verdict::Continue => {
                let uri = Message::parse(tx.routed())
                    .ok()
                    .and_then(|r| r.request_uri_str().map(str::to_string))
                    .unwrap_or_default();
                self.fork(&txr, &mut tx, vec![Target::new(&uri)]);
            }
        }
    }

    /// Answer a request the proxy will not forward. An INVITE gets a server transaction for it, so
    /// the ACK for the answer is absorbed here (not forwarded) and retransmissions get it again.
    /// A request without a readable top Via is dropped instead: an answer could go nowhere.
    pub(super) fn reject(
        &self,
        inb: &Inbound,
        m: &Message<'_>,
        status: u16,
        extra: &[(String, String)],
    ) {
        let method = m.method().map(|x| x.as_str()).unwrap_or("");
        if method == "ACK" {
            // Never answer an ACK. One that fails the checks may still confirm our answer: the ACK
            // for a 400 repeats the malformed header it copied from the INVITE (RFC 3261
            // §17.1.1.3), and matching needs only the top Via (else Timer G resends the answer
            // until Timer H).
            if let Some(Ok(via)) = m.top_via() {
                self.absorb_ack(m, &via);
            }
            return;
        }
        if !matches!(m.top_via(), Some(Ok(_))) {
            // An answer goes where the top Via says and is matched by its branch (RFC 3261 §18.2.2,
            // §17.1.3): without a readable one there is nowhere to send it and nothing to match it.
            tracing::debug!(source = %inb.source, status, "request without a readable Via: dropped, not answered");
            return;
        }
        let id = self.next_id();
        let reply = build::reply(m, status, None, &build::local_tag(id), extra);
        let Some(Ok(via)) = m.top_via().filter(|_| method == "INVITE") else {
            self.send(&reply_dest(inb, m), &reply);
            return;
        };
        let key = ServerKey::with_class(m, &via, 0);
        let mut tx = self.new_tx(id, key.clone(), true, inb, m, 0);
        tx.final_sent = true;
        let txr = Arc::new(Mutex::new(tx));
        match self
            .table
            .insert(key, txr.clone(), self.cfg.max_transactions)
        {
            Ok(None) => {
                // Locked before the answer leaves: an ACK racing back to another worker must find
                // the transaction Completed (else Timer G resends an answer already ACKed).
                let mut tx = txr.lock().unwrap_or_else(|p| p.into_inner());
                self.send(&reply_dest(inb, m), &reply);
                self.after_final(&txr, &mut tx, reply, status);
            }
            Ok(Some(existing)) => self.retransmission(&existing),
            Err(()) => {
                self.send(&reply_dest(inb, m), &reply);
            }
        }
    }

    /// A server transaction for `m`, proceeding, on the live chain snapshot.
    fn new_tx(
        &self,
        id: u64,
        key: ServerKey,
        invite: bool,
        inb: &Inbound,
        m: &Message<'_>,
        loop_hash: u64,
    ) -> ServerTx {
        ServerTx {
            id,
            key,
            invite,
            request: inb.data.clone(),
            routed: None,
            reply_to: reply_dest(inb, m),
            state: ServerState::Proceeding,
            last_response: None,
            chain: self.host.snapshot(),
            ctx: TxContext::new(inb.source, inb.local, inb.transport, id),
            branches: Vec::new(),
            final_sent: false,
            answered: false,
            cancelled: false,
            loop_hash,
            gens: Default::default(),
            timer_ids: Default::default(),
            interval: Duration::ZERO,
            ended: false,
            settled: false,
        }
    }

    fn retransmission(&self, txr: &Arc<Mutex<ServerTx>>) {
        let tx = txr.lock().unwrap_or_else(|p| p.into_inner());
        match &tx.last_response {
            Some(r) => {
                self.send(&tx.reply_to, r);
            }
            None if tx.invite => {
                // Still proceeding: the 100 Trying again, rebuilt rather than kept per transaction.
                if let Ok(m) = Message::parse(&tx.request) {
                    self.send(&tx.reply_to, &build::reply(&m, 100, None, "", &[]));
                }
            }
            None => {}
        }
    }

    /// Forward `m` to `target` without a transaction (ACK for a 2xx): to the first address of its
    /// next hop, after a DNS lookup when the next hop is a name.
    pub(super) fn forward_stateless(&self, m: &Message<'_>, target: &Target, id: &str) {
        let (hop, pop_route) = self.next_hop_of(m, target);
        match super::next_hop::plan(&hop, target.transport) {
            Err(e) => tracing::debug!(target = %target.uri, "cannot forward: {}", e.why),
            Ok(Plan::Ready(dest)) => {
                let bytes = self.build_forward(m, target, id, &dest, pop_route);
                self.send(&dest, &bytes);
            }
            Ok(Plan::Lookup(q)) => {
                let (bytes, target, id) = (m.bytes().to_vec(), target.clone(), id.to_string());
                self.defer_lookup(q, move |core, found| {
                    let Ok(m) = Message::parse(&bytes) else {
                        return;
                    };
                    match found {
                        Ok(c) if !c.is_empty() => {
                            let dest = c[0].destination();
                            let bytes = core.build_forward(&m, &target, &id, &dest, pop_route);
                            core.send(&dest, &bytes);
                        }
                        Ok(_) => tracing::debug!(%hop, "cannot forward: no address"),
                        Err(e) => tracing::debug!(%hop, "cannot forward: {e}"),
                    }
                });
            }
        }
    }

    /// Where `m` goes when sent to `target` (RFC 3261 §16.6 loose routing): the first Route that
    /// is not us, else the target's next hop, else its URI; and our own Route entry to pop (header
    /// index, what remains of that line).
    pub(super) fn next_hop_of(&self, m: &Message<'_>, target: &Target) -> (String, PopRoute) {
        use sip_interop_abi::sip::header_name::kind;
        use sip_interop_abi::sip::tokens::split_commas;
        use sip_interop_abi::sip::NameAddr;
        let mut pop_route = None;
        let mut next_route: Option<String> = None;
        for (i, e) in m.header_entries().iter().enumerate() {
            if e.kind != kind::ROUTE {
                continue;
            }
            let line = m.value_of(e);
            let mut values = split_commas(line).filter(|v| !v.is_empty());
            let first = values.next();
            let rest: Vec<&str> = values.collect();
            let first_is_us = pop_route.is_none()
                && next_route.is_none()
                && first
                    .and_then(|f| NameAddr::parse(f).ok())
                    .is_some_and(|n| self.is_our_uri(n.uri_str));
            if first_is_us {
                pop_route = Some((
                    i,
                    if rest.is_empty() {
                        None
                    } else {
                        Some(rest.join(", "))
                    },
                ));
                if let Some(r) = rest.first() {
                    next_route = NameAddr::parse(r).ok().map(|n| n.uri_str.to_string());
                }
            } else if next_route.is_none() {
                next_route = first
                    .and_then(|f| NameAddr::parse(f).ok())
                    .map(|n| n.uri_str.to_string());
            }
            if next_route.is_some() {
                break;
            }
        }
        let hop = next_route
            .or_else(|| target.next_hop.clone())
            .unwrap_or_else(|| target.uri.clone());
        (hop, pop_route)
    }

    /// The bytes of `m` forwarded to `target` at `dest` with branch `id`: Request-URI, Max-Forwards,
    /// Record-Route, our Via, our Route popped.
    pub(super) fn build_forward(
        &self,
        m: &Message<'_>,
        target: &Target,
        id: &str,
        dest: &Destination,
        pop_route: PopRoute,
    ) -> Vec<u8> {
        let method = m.method().map(|x| x.as_str()).unwrap_or("");
        let dialog_creating = matches!(method, "INVITE" | "SUBSCRIBE" | "REFER")
            && m.to()
                .and_then(|t| t.ok())
                .is_some_and(|t| t.tag().is_none());
        let local = self.local_for(dest);
        let record_route = (self.cfg.record_route && dialog_creating).then(|| {
            let t = if dest.transport == crate::transport::Transport::Tcp {
                ";transport=tcp"
            } else {
                ""
            };
            format!("<sip:{local}{t};lr>")
        });
        let uri_changes = m.request_uri_str() != Some(target.uri.as_str());
        let edits = build::forward_edits(
            m,
            &build::ForwardEdits {
                request_uri: uri_changes.then_some(target.uri.as_str()),
                via: self.via_for(dest, id),
                record_route,
                pop_route,
            },
        );
        serialize(m, &edits)
    }
}
