//! Test plugin: sleeps in its request hook, longer than any sensible budget.

use serde::Deserialize;
use sip_interop_abi::prelude::*;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    sleep_ms: u64,
}

struct Slow {
    sleep: Duration,
}

impl Plugin for Slow {
    const EXAMPLE_CONFIG: &'static str = "sleep_ms = 50\n";

    fn on_request(&self, _req: &mut Request<'_>, _ctx: &mut Context<'_>) -> Verdict {
        std::thread::sleep(self.sleep);
        Verdict::Continue
    }
}

export_plugin!(Slow, |c: Config| Ok(Slow {
    sleep: Duration::from_millis(c.sleep_ms)
}));
