//! Verdicts: what a hook decides, in safe Rust, and their wire forms.

use abi_stable::std_types::{RString, RVec, Tuple2};
use std::time::Duration;

use crate::ffi::{ReplyFfi, ResponseVerdictFfi, TargetFfi, VerdictFfi};

/// A SIP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Transport {
    /// Unspecified: as the target URI and RFC 3263 say.
    Any = 0,
    /// UDP.
    Udp = 1,
    /// TCP.
    Tcp = 2,
    /// TLS over TCP.
    Tls = 3,
    /// WebSocket.
    Ws = 4,
    /// Secure WebSocket.
    Wss = 5,
}

impl Transport {
    /// From the wire number (unknown numbers read as `Any`).
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Transport::Udp,
            2 => Transport::Tcp,
            3 => Transport::Tls,
            4 => Transport::Ws,
            5 => Transport::Wss,
            _ => Transport::Any,
        }
    }

    /// Lower-case name as in a `transport=` URI parameter (`any` when unspecified).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Any => "any",
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }

    /// Parse a config/URI name, case-insensitive.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "any" | "" => Transport::Any,
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            "tls" => Transport::Tls,
            "ws" => Transport::Ws,
            "wss" => Transport::Wss,
            _ => return None,
        })
    }
}

/// A reply the host sends in place of forwarding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// A body and its Content-Type (`None`: no body).
    pub body: Option<(String, Vec<u8>)>,
}

impl Reply {
    /// Whether the host can write this reply as it is: a status 100–699, and a reason, header values
    /// and a Content-Type without CR, LF or NUL, header names that are tokens (else a value could
    /// smuggle in header lines). The host treats a reply that fails this like refused edits.
    pub fn check(&self) -> Result<(), &'static str> {
        use crate::sip::edit::{is_token, one_line};
        if !(100..=699).contains(&self.status) || !one_line(&self.reason) {
            return Err("a reply's status must be 100-699 and its reason one line");
        }
        if !self.headers.iter().all(|(n, v)| is_token(n) && one_line(v)) {
            return Err(
                "a reply's header names must be tokens and values must not contain CR, LF or NUL",
            );
        }
        if let Some((ct, _)) = &self.body {
            if !one_line(ct) || !ct.contains('/') {
                return Err("a reply body's Content-Type must be one line of type/subtype");
            }
        }
        Ok(())
    }

    /// A reply with `status` and `reason`, no extra header, no body.
    pub fn new(status: u16, reason: &str) -> Self {
        Reply {
            status,
            reason: reason.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Add a header to the reply.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Give the reply a body (Content-Length is the host's job).
    pub fn body(mut self, content_type: &str, body: &[u8]) -> Self {
        self.body = Some((content_type.into(), body.into()));
        self
    }
}

/// One place to forward a request to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// SIP or SIPS URI of the branch.
    pub uri: String,
    /// Transport to use.
    pub transport: Transport,
    /// Start this branch this long after the fork begins.
    pub delay: Duration,
    /// Fork group.
    pub fork_group: u32,
    /// Absorb a 2xx that arrives on this branch sooner than this (answer-too-soon guard).
    pub min_answer: Duration,
    /// Where to send the branch when that is not its Request-URI: a SIP URI such as
    /// `sip:gw.example.com:5061;transport=tls`, resolved by the host per RFC 3263 (NAPTR, SRV,
    /// A/AAAA). `None`: the first Route, else the Request-URI, decides.
    pub next_hop: Option<String>,
    /// Requests with the same key stick to the same address of a multi-address next hop (`None`:
    /// the request's source address).
    pub sticky_key: Option<String>,
    /// How long an address that failed is skipped by later requests (`None`: the host's default;
    /// zero: never skipped, only this request moves on to the next address).
    pub mark_down: Option<Duration>,
}

impl Target {
    /// A target with defaults: any transport, no delay, group 0, no guard.
    pub fn new(uri: &str) -> Self {
        Target {
            uri: uri.into(),
            transport: Transport::Any,
            delay: Duration::ZERO,
            fork_group: 0,
            min_answer: Duration::ZERO,
            next_hop: None,
            sticky_key: None,
            mark_down: None,
        }
    }

    /// Set the transport.
    pub fn transport(mut self, t: Transport) -> Self {
        self.transport = t;
        self
    }

    /// Set the start delay.
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }

    /// Set the fork group.
    pub fn fork_group(mut self, g: u32) -> Self {
        self.fork_group = g;
        self
    }

    /// Set the answer-too-soon guard.
    pub fn min_answer(mut self, d: Duration) -> Self {
        self.min_answer = d;
        self
    }

    /// Send the branch to `uri` (a SIP URI) instead of its Request-URI.
    pub fn next_hop(mut self, uri: &str) -> Self {
        self.next_hop = Some(uri.into());
        self
    }

    /// Make requests with `key` stick to one address of the next hop.
    pub fn sticky_key(mut self, key: &str) -> Self {
        self.sticky_key = Some(key.into());
        self
    }

    /// Skip a failed address of the next hop for `d`.
    pub fn mark_down(mut self, d: Duration) -> Self {
        self.mark_down = Some(d);
        self
    }
}

/// What a request hook decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go on with the next plugin.
    Continue,
    /// Answer the request.
    Respond(Reply),
    /// Forward (several targets = a fork).
    Route(Vec<Target>),
    /// Drop silently.
    Drop,
}

impl Verdict {
    /// Answer with `status` and `reason`.
    pub fn respond(status: u16, reason: &str) -> Self {
        Verdict::Respond(Reply::new(status, reason))
    }

    /// Forward to one URI.
    pub fn route_to(uri: &str) -> Self {
        Verdict::Route(vec![Target::new(uri)])
    }

    /// Short name for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Continue => "continue",
            Verdict::Respond(_) => "respond",
            Verdict::Route(_) => "route",
            Verdict::Drop => "drop",
        }
    }
}

/// What a response hook decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseVerdict {
    /// Pass the response on.
    Continue,
    /// Drop it.
    Drop,
}

fn ms(d: Duration) -> u32 {
    d.as_millis().min(u32::MAX as u128) as u32
}

impl From<Verdict> for VerdictFfi {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Continue => VerdictFfi::Continue,
            Verdict::Drop => VerdictFfi::Drop,
            Verdict::Respond(r) => VerdictFfi::Respond(ReplyFfi {
                status: r.status,
                reason: r.reason.into(),
                headers: r
                    .headers
                    .into_iter()
                    .map(|(n, v)| Tuple2(RString::from(n), RString::from(v)))
                    .collect(),
                content_type: r
                    .body
                    .as_ref()
                    .map(|(t, _)| RString::from(t.as_str()))
                    .unwrap_or_default(),
                body: r.body.map(|(_, b)| RVec::from(b)).unwrap_or_default(),
            }),
            Verdict::Route(ts) => VerdictFfi::Route(
                ts.into_iter()
                    .map(|t| TargetFfi {
                        uri: t.uri.into(),
                        transport: t.transport as u8,
                        delay_ms: ms(t.delay),
                        fork_group: t.fork_group,
                        min_answer_ms: ms(t.min_answer),
                        next_hop: t.next_hop.unwrap_or_default().into(),
                        sticky_key: t.sticky_key.unwrap_or_default().into(),
                        mark_down_s: match t.mark_down {
                            None => 0,
                            Some(d) if d.is_zero() => u32::MAX,
                            Some(d) => d.as_secs().clamp(1, u32::MAX as u64 - 1) as u32,
                        },
                    })
                    .collect::<RVec<_>>(),
            ),
        }
    }
}

impl From<VerdictFfi> for Verdict {
    fn from(v: VerdictFfi) -> Self {
        match v {
            VerdictFfi::Continue => Verdict::Continue,
            VerdictFfi::Drop => Verdict::Drop,
            VerdictFfi::Respond(r) => Verdict::Respond(Reply {
                status: r.status,
                reason: r.reason.into_string(),
                headers: r
                    .headers
                    .into_iter()
                    .map(|Tuple2(n, v)| (n.into_string(), v.into_string()))
                    .collect(),
                body: (!r.content_type.is_empty())
                    .then(|| (r.content_type.into_string(), r.body.into_vec())),
            }),
            VerdictFfi::Route(ts) => Verdict::Route(
                ts.into_iter()
                    .map(|t| Target {
                        uri: t.uri.into_string(),
                        transport: Transport::from_u8(t.transport),
                        delay: Duration::from_millis(t.delay_ms.into()),
                        fork_group: t.fork_group,
                        min_answer: Duration::from_millis(t.min_answer_ms.into()),
                        next_hop: (!t.next_hop.is_empty()).then(|| t.next_hop.into_string()),
                        sticky_key: (!t.sticky_key.is_empty()).then(|| t.sticky_key.into_string()),
                        mark_down: match t.mark_down_s {
                            0 => None,
                            u32::MAX => Some(Duration::ZERO),
                            n => Some(Duration::from_secs(n.into())),
                        },
                    })
                    .collect(),
            ),
        }
    }
}

impl From<ResponseVerdict> for ResponseVerdictFfi {
    fn from(v: ResponseVerdict) -> Self {
        match v {
            ResponseVerdict::Continue => ResponseVerdictFfi::Continue,
            ResponseVerdict::Drop => ResponseVerdictFfi::Drop,
        }
    }
}

impl From<ResponseVerdictFfi> for ResponseVerdict {
    fn from(v: ResponseVerdictFfi) -> Self {
        match v {
            ResponseVerdictFfi::Continue => ResponseVerdict::Continue,
            ResponseVerdictFfi::Drop => ResponseVerdict::Drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_round_trips_through_the_wire_form() {
        let v = Verdict::Route(vec![
            Target::new("sip:a@example.com")
                .transport(Transport::Tls)
                .delay(Duration::from_millis(1500))
                .fork_group(2),
            Target::new("sip:b@example.com").min_answer(Duration::from_millis(300)),
        ]);
        assert_eq!(Verdict::from(VerdictFfi::from(v.clone())), v);
        let r = Verdict::Respond(Reply {
            status: 404,
            reason: "Not Found".into(),
            headers: vec![("ms-diagnostics".into(), "1005".into())],
            body: None,
        });
        assert_eq!(Verdict::from(VerdictFfi::from(r.clone())), r);
        let r = Verdict::Respond(Reply::new(200, "OK").body("application/sdp", b"v=0\r\n"));
        assert_eq!(Verdict::from(VerdictFfi::from(r.clone())), r);
    }

    #[test]
    fn transport_numbers_are_stable() {
        for t in [
            Transport::Any,
            Transport::Udp,
            Transport::Tcp,
            Transport::Tls,
            Transport::Ws,
            Transport::Wss,
        ] {
            assert_eq!(Transport::from_u8(t as u8), t);
            assert_eq!(Transport::parse(t.as_str()), Some(t));
        }
        assert_eq!(Transport::from_u8(200), Transport::Any);
    }
}

#[cfg(test)]
mod reply_check_tests {
    use super::Reply;

    #[test]
    fn a_reply_that_would_smuggle_a_header_line_is_refused() {
        assert_eq!(
            Reply::new(486, "Busy Here")
                .header("Retry-After", "30")
                .check(),
            Ok(())
        );
        assert!(Reply::new(486, "Busy")
            .header("X-A", "1\r\nRoute: <sip:evil>")
            .check()
            .is_err());
        assert!(Reply::new(486, "Busy").header("X A", "1").check().is_err());
        assert!(Reply::new(486, "Busy\r\nX: 1").check().is_err());
        assert!(Reply::new(99, "Low").check().is_err());
        assert!(Reply::new(200, "OK")
            .body("application/sdp\r\nX: 1", b"v=0")
            .check()
            .is_err());
        assert_eq!(
            Reply::new(200, "OK")
                .body("application/sdp", b"v=0")
                .check(),
            Ok(())
        );
    }
}
