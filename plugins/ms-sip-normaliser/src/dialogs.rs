//! What the normaliser remembers per call (by Call-ID), bounded in count and idle time: the
//! Microsoft party's `epid` (stripped towards the standards side, restored on `To` when the standards
//! side sends in-dialog requests back), the last SDP Microsoft received from us (the local answer to
//! Lync's post-ICE re-INVITE), the standards party's Contact, and the CSeq numbers whose ACK must be
//! absorbed or stripped. Handed to a successor on hot swap.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

const SHARDS: usize = 16;

/// One call's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dialog {
    /// The Microsoft party's endpoint id.
    pub ms_epid: Option<String>,
    /// The last SDP sent towards Microsoft (after translation).
    pub ms_facing_sdp: Option<Vec<u8>>,
    /// The standards party's Contact URI.
    pub standard_contact: Option<String>,
    /// CSeq of a re-INVITE answered locally: its ACK is absorbed.
    pub local_answer_cseq: Option<u32>,
    /// CSeq of an INVITE given the default offer: its ACK's SDP is not for Microsoft.
    pub default_offer_cseq: Option<u32>,
}

struct Entry {
    dialog: Dialog,
    seen: Instant,
}

/// The dialog table.
pub struct Dialogs {
    shards: Vec<Mutex<HashMap<String, Entry>>>,
    per_shard: usize,
    idle: Duration,
}

fn shard_of(call_id: &str) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    for b in call_id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h as usize % SHARDS
}

impl Dialogs {
    /// A table holding at most about `max` calls, forgetting one idle for `idle`.
    pub fn new(max: usize, idle: Duration) -> Self {
        Dialogs {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: max.div_ceil(SHARDS).max(1),
            idle,
        }
    }

    fn shard(&self, call_id: &str) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.shards[shard_of(call_id)]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of a call's state.
    pub fn get(&self, call_id: &str) -> Option<Dialog> {
        let now = Instant::now();
        let mut s = self.shard(call_id);
        let e = s.get_mut(call_id)?;
        if now.duration_since(e.seen) > self.idle {
            s.remove(call_id);
            return None;
        }
        e.seen = now;
        Some(e.dialog.clone())
    }

    /// Change a call's state (created if new). Returns false when the table is full of live calls
    /// and the call is new: nothing is stored (the caller counts it; the table never grows past
    /// its bound).
    pub fn update(&self, call_id: &str, f: impl FnOnce(&mut Dialog)) -> bool {
        let now = Instant::now();
        let mut s = self.shard(call_id);
        if let Some(e) = s.get_mut(call_id) {
            f(&mut e.dialog);
            e.seen = now;
            return true;
        }
        if s.len() >= self.per_shard {
            let idle = self.idle;
            s.retain(|_, e| now.duration_since(e.seen) <= idle);
            if s.len() >= self.per_shard {
                return false;
            }
        }
        let mut d = Dialog::default();
        f(&mut d);
        s.insert(
            call_id.to_string(),
            Entry {
                dialog: d,
                seen: now,
            },
        );
        true
    }

    /// Forget a call (its BYE was answered).
    pub fn end(&self, call_id: &str) {
        self.shard(call_id).remove(call_id);
    }

    /// Calls remembered.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The table as text for a successor: one line per call, fields base64 (`-` for none).
    pub fn export(&self) -> Vec<u8> {
        let mut out = String::from("ms-sip-normaliser dialogs 1\n");
        let f = |v: Option<&[u8]>| v.map_or_else(|| "-".to_string(), |b| B64.encode(b));
        let n = |v: Option<u32>| v.map_or_else(|| "-".to_string(), |x| x.to_string());
        for s in &self.shards {
            for (id, e) in s.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                let d = &e.dialog;
                out.push_str(&format!(
                    "{} {} {} {} {} {}\n",
                    B64.encode(id),
                    f(d.ms_epid.as_deref().map(str::as_bytes)),
                    f(d.ms_facing_sdp.as_deref()),
                    f(d.standard_contact.as_deref().map(str::as_bytes)),
                    n(d.local_answer_cseq),
                    n(d.default_offer_cseq),
                ));
            }
        }
        out.into_bytes()
    }

    /// Take over a predecessor's table.
    pub fn import(&self, state: &[u8]) -> Result<usize, String> {
        if state.is_empty() {
            return Ok(0);
        }
        let text =
            std::str::from_utf8(state).map_err(|_| "dialog state is not text".to_string())?;
        let mut lines = text.lines();
        if lines.next() != Some("ms-sip-normaliser dialogs 1") {
            return Err("dialog state from an unknown version of ms-sip-normaliser".into());
        }
        let bytes = |s: &str| -> Result<Option<Vec<u8>>, String> {
            if s == "-" {
                return Ok(None);
            }
            B64.decode(s)
                .map(Some)
                .map_err(|e| format!("dialog state: {e}"))
        };
        let string = |s: &str| -> Result<Option<String>, String> {
            bytes(s)?
                .map(|b| String::from_utf8(b).map_err(|_| "dialog state: not UTF-8".to_string()))
                .transpose()
        };
        let num = |s: &str| -> Result<Option<u32>, String> {
            if s == "-" {
                return Ok(None);
            }
            s.parse()
                .map(Some)
                .map_err(|_| format!("dialog state: `{s}` is not a CSeq"))
        };
        let mut count = 0;
        for (i, line) in lines.enumerate() {
            let f: Vec<&str> = line.split(' ').collect();
            if f.len() != 6 {
                return Err(format!(
                    "dialog state line {}: {} fields, expected 6",
                    i + 2,
                    f.len()
                ));
            }
            let id = string(f[0])?.ok_or("dialog state: no Call-ID")?;
            let d = Dialog {
                ms_epid: string(f[1])?,
                ms_facing_sdp: bytes(f[2])?,
                standard_contact: string(f[3])?,
                local_answer_cseq: num(f[4])?,
                default_offer_cseq: num(f[5])?,
            };
            if self.update(&id, |x| *x = d) {
                count += 1;
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_bounded_and_forgets_idle_calls() {
        let t = Dialogs::new(16, Duration::from_secs(60));
        let stored = (0..100)
            .filter(|i| t.update(&format!("call-{i}"), |d| d.local_answer_cseq = Some(*i)))
            .count();
        assert!((16..100).contains(&stored), "stored {stored}");
        assert_eq!(t.len(), stored);
        let idle = Dialogs::new(1, Duration::from_millis(1));
        assert!(idle.update("a", |_| {}));
        std::thread::sleep(Duration::from_millis(5));
        assert!(idle.update("b", |_| {}), "an idle call makes room");
        assert_eq!(idle.get("a"), None);
    }

    #[test]
    fn state_round_trips_to_a_successor() {
        let t = Dialogs::new(100, Duration::from_secs(60));
        t.update("c1@x", |d| {
            d.ms_epid = Some("0a1b2c".into());
            d.ms_facing_sdp = Some(b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n".to_vec());
            d.local_answer_cseq = Some(3);
        });
        t.update("c2 with space", |d| {
            d.standard_contact = Some("<sip:b@192.0.2.2>".into())
        });
        let next = Dialogs::new(100, Duration::from_secs(60));
        assert_eq!(next.import(&t.export()), Ok(2));
        assert_eq!(next.get("c1@x"), t.get("c1@x"));
        assert_eq!(next.get("c2 with space"), t.get("c2 with space"));
        assert!(next.import(b"something else\n").is_err());
        t.end("c1@x");
        assert_eq!(t.get("c1@x"), None);
    }
}
