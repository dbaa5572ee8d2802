//! Walking the chain: requests front to back, responses back to front.
//!
//! Each plugin sees the message as the plugins before it left it. A plugin's edits are folded into new
//! bytes (one serialisation) only when it made some; a chain that edits nothing costs no copy at all.

use abi_stable::std_types::RVec;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use sip_interop_abi::sdk::{ResponseVerdict, Verdict};
use sip_interop_abi::sip::{serialize, Edit, Message};

use super::{Chain, Link, TxContext};
use crate::config::PanicPolicy;
use crate::metrics::Registry;
use sip_interop_abi::ffi::hooks;

/// What one plugin did, for `explain`.
#[derive(Clone, Debug)]
pub struct StepTrace {
    /// Chain name.
    pub plugin: String,
    /// Edits it recorded.
    pub edits: Vec<Edit>,
    /// Its verdict, or what its failure turned into.
    pub outcome: StepOutcome,
    /// Time spent in the hook.
    pub elapsed: Duration,
    /// What the plugin said about its decision (`sip-interop explain` only).
    pub explanation: Vec<String>,
}

/// The outcome of one hook call.
#[derive(Clone, Debug)]
pub enum StepOutcome {
    /// A request verdict.
    Request(Verdict),
    /// A response verdict.
    Response(ResponseVerdict),
    /// The hook failed (panicked, or its edits did not parse); `policy` says what became of the message.
    Failed {
        /// Why.
        error: String,
        /// What the panic policy made of it.
        policy: PanicPolicy,
    },
}

/// The end of a request walk.
#[derive(Clone, Debug)]
pub struct RequestOutcome {
    /// The deciding verdict; `Continue` means every plugin passed and the default route applies.
    pub verdict: Verdict,
    /// Index of the link that decided, if one did.
    pub decided_by: Option<usize>,
    /// The message after all edits; `None` when nobody edited it.
    pub edited: Option<Vec<u8>>,
}

/// The end of a response walk.
#[derive(Clone, Debug)]
pub struct ResponseOutcome {
    /// Pass on or drop.
    pub verdict: ResponseVerdict,
    /// The response after all edits; `None` when nobody edited it.
    pub edited: Option<Vec<u8>>,
}

/// The reply for a request whose plugin failed under the `reject` policy.
pub fn failure_reply() -> Verdict {
    Verdict::respond(500, "Server Internal Error")
}

/// Apply one plugin's edits. The next plugin (and the wire) must get a well-formed message: edits that
/// would smuggle in a line break are refused, and the result must parse and pass the RFC 3261 checks.
fn fold(m: &Message<'_>, edits: &[Edit]) -> Result<Vec<u8>, String> {
    for e in edits {
        e.check().map_err(|why| format!("refused edit ({why})"))?;
    }
    let out = serialize(m, edits);
    let parsed = Message::parse(&out)
        .map_err(|e| format!("its edits produced an unparseable message: {e}"))?;
    parsed
        .validate()
        .map_err(|e| format!("its edits produced an invalid message: {e}"))?;
    Ok(out)
}

/// Call one hook on the message as the plugins before it left it (`edited`, else `msg`) and fold its
/// edits into `edited`. A failure (panic or refused edits) leaves `edited` untouched.
fn call_hook<T>(
    link: &Link,
    msg: &Message<'_>,
    edited: &mut Option<Vec<u8>>,
    hook: impl FnOnce(&Message<'_>, &mut RVec<Edit>) -> (Result<T, String>, Duration),
) -> (Result<T, String>, RVec<Edit>, Duration) {
    let mut edits = RVec::new();
    let (result, folded, elapsed) = {
        let reparsed;
        let m: &Message<'_> = match edited.as_deref() {
            None => msg,
            Some(bytes) => {
                reparsed = Message::parse(bytes).expect("folded messages are checked to parse");
                &reparsed
            }
        };
        let (result, elapsed) = hook(m, &mut edits);
        let folded = match &result {
            Ok(_) if !edits.is_empty() => {
                Some(fold(m, &edits).inspect_err(|why| link.edits_refused(why)))
            }
            _ => None,
        };
        (result, folded, elapsed)
    };
    let result = match folded {
        None => result,
        Some(Ok(bytes)) => {
            *edited = Some(bytes);
            result
        }
        Some(Err(why)) => Err(why),
    };
    (result, edits, elapsed)
}

fn record(
    trace: &mut Option<&mut Vec<StepTrace>>,
    link: &Link,
    edits: RVec<Edit>,
    outcome: StepOutcome,
    elapsed: Duration,
) {
    if let Some(t) = trace.as_deref_mut() {
        t.push(StepTrace {
            plugin: link.name.clone(),
            edits: edits.into_iter().collect(),
            outcome,
            elapsed,
            explanation: crate::plugin::services::take_explanation(),
        });
    }
}

impl Chain {
    /// Walk a request through the chain. `trace` collects per-plugin steps for `explain`.
    pub fn run_request(
        &self,
        msg: &Message<'_>,
        ctx: &mut TxContext,
        metrics: &Registry,
        mut trace: Option<&mut Vec<StepTrace>>,
    ) -> RequestOutcome {
        metrics.requests.fetch_add(1, Relaxed);
        let mut edited: Option<Vec<u8>> = None;
        for (i, link) in self.links.iter().enumerate() {
            if link.hooks & hooks::REQUEST == 0 {
                continue;
            }
            let (result, edits, elapsed) = call_hook(link, msg, &mut edited, |m, e| {
                link.on_request(m, ctx, self.generation, e)
            });
            // A local reply is written as the plugin built it: it gets the same check as edits.
            let result = result.map(Verdict::from).and_then(|v| match &v {
                Verdict::Respond(r) => match r.check() {
                    Ok(()) => Ok(v),
                    Err(why) => {
                        link.edits_refused(why);
                        Err(format!("refused reply ({why})"))
                    }
                },
                _ => Ok(v),
            });
            let (verdict, outcome) = match result {
                Ok(v) => {
                    link.metrics.verdict(v.kind());
                    (v.clone(), StepOutcome::Request(v))
                }
                Err(error) => {
                    let v = match link.on_panic {
                        PanicPolicy::Reject => failure_reply(),
                        PanicPolicy::Drop => Verdict::Drop,
                        PanicPolicy::Skip => Verdict::Continue,
                    };
                    (
                        v,
                        StepOutcome::Failed {
                            error,
                            policy: link.on_panic,
                        },
                    )
                }
            };
            record(&mut trace, link, edits, outcome, elapsed);
            if verdict != Verdict::Continue {
                return RequestOutcome {
                    verdict,
                    decided_by: Some(i),
                    edited,
                };
            }
        }
        RequestOutcome {
            verdict: Verdict::Continue,
            decided_by: None,
            edited,
        }
    }

    /// Walk a response back through the chain.
    pub fn run_response(
        &self,
        msg: &Message<'_>,
        ctx: &mut TxContext,
        metrics: &Registry,
        mut trace: Option<&mut Vec<StepTrace>>,
    ) -> ResponseOutcome {
        metrics.responses.fetch_add(1, Relaxed);
        let mut edited: Option<Vec<u8>> = None;
        for link in self.links.iter().rev() {
            if link.hooks & hooks::RESPONSE == 0 {
                continue;
            }
            let (result, edits, elapsed) = call_hook(link, msg, &mut edited, |m, e| {
                link.on_response(m, ctx, self.generation, e)
            });
            let (verdict, outcome) = match result {
                Ok(v) => {
                    let v = ResponseVerdict::from(v);
                    (v, StepOutcome::Response(v))
                }
                Err(error) => {
                    let v = if link.on_panic == PanicPolicy::Drop {
                        ResponseVerdict::Drop
                    } else {
                        ResponseVerdict::Continue
                    };
                    (
                        v,
                        StepOutcome::Failed {
                            error,
                            policy: link.on_panic,
                        },
                    )
                }
            };
            record(&mut trace, link, edits, outcome, elapsed);
            if verdict == ResponseVerdict::Drop {
                return ResponseOutcome { verdict, edited };
            }
        }
        ResponseOutcome {
            verdict: ResponseVerdict::Continue,
            edited,
        }
    }
}
