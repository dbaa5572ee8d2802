//! Test plugin for `sip-interop conform`: each setting breaks one rule the harness checks. Its config
//! struct does not deny unknown fields, so a misspelt key is silently ignored (the harness's
//! `unknown-key-refused` check fails on it whatever else is set).
//!
//! - `print`: writes to stdout from the request hook instead of logging through the host;
//! - `random`: adds a header whose value comes from a process-wide counter (not deterministic);
//! - `racy`: tags a request when another call is in the hook at the same time;
//! - `hidden_state`: exports state without declaring the state hook;
//! - `abort`: aborts the process in the request hook;
//! - `bad_reply`: answers every INVITE itself with a header value that smuggles in a second line.

use serde::Deserialize;
use sip_interop_abi::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

#[derive(Deserialize, Default)]
struct Config {
    #[serde(default)]
    print: bool,
    #[serde(default)]
    random: bool,
    #[serde(default)]
    racy: bool,
    #[serde(default)]
    hidden_state: bool,
    #[serde(default)]
    abort: bool,
    #[serde(default)]
    bad_reply: bool,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

struct Careless {
    c: Config,
    in_hook: AtomicU64,
}

impl Plugin for Careless {
    const EXAMPLE_CONFIG: &'static str = "print = false\n";

    fn on_request(&self, req: &mut Request<'_>, _ctx: &mut Context<'_>) -> Verdict {
        if self.c.abort {
            std::process::abort();
        }
        let invite = req
            .message()
            .method()
            .is_some_and(|m| m.as_str() == "INVITE");
        if self.c.bad_reply && invite {
            return Verdict::Respond(
                Reply::new(486, "Busy Here")
                    .header("X-Note", "busy\r\nRoute: <sip:attacker.example.com;lr>"),
            );
        }
        if self.c.print {
            println!("careless: saw a request");
        }
        if self.c.random {
            let n = COUNTER.fetch_add(1, SeqCst);
            req.add_header("X-Careless-Counter", &n.to_string());
        }
        if self.c.racy {
            let others = self.in_hook.fetch_add(1, SeqCst);
            std::thread::sleep(Duration::from_micros(200));
            if others > 0 {
                req.add_header("X-Careless-Busy", "1");
            }
            self.in_hook.fetch_sub(1, SeqCst);
        }
        Verdict::Continue
    }

    fn export_state(&self) -> Vec<u8> {
        if self.c.hidden_state {
            b"calls-seen".to_vec()
        } else {
            Vec::new()
        }
    }
}

export_plugin!(Careless, |c: Config| Ok(Careless {
    c,
    in_hook: AtomicU64::new(0),
}));
