//! Test plugin: routes every INVITE (and, with `all_methods`, every request) to a fixed target set, so
//! the proxy's forking can be exercised: several targets fork in parallel, `delay_ms` staggers a
//! target, `min_answer_ms` arms the answer-too-soon guard, `respond` answers instead.

use serde::Deserialize;
use sip_interop_abi::prelude::*;
use std::time::Duration;

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct TargetConfig {
    uri: String,
    #[serde(default)]
    transport: String,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    min_answer_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    targets: Vec<TargetConfig>,
    #[serde(default)]
    all_methods: bool,
    #[serde(default)]
    respond: Option<u16>,
}

struct Router {
    targets: Vec<Target>,
    all_methods: bool,
    respond: Option<u16>,
}

impl Plugin for Router {
    const EXAMPLE_CONFIG: &'static str = "[[targets]]\nuri = \"sip:a@127.0.0.1:5090\"\n";

    fn on_request(&self, req: &mut Request<'_>, _ctx: &mut Context<'_>) -> Verdict {
        let invite = req.method().is_some_and(|m| m.as_str() == "INVITE");
        if !invite && !self.all_methods {
            return Verdict::Continue;
        }
        if let Some(status) = self.respond {
            return Verdict::respond(status, "Decided By Plugin").into_with_header();
        }
        Verdict::Route(self.targets.clone())
    }
}

trait WithHeader {
    fn into_with_header(self) -> Verdict;
}

impl WithHeader for Verdict {
    fn into_with_header(self) -> Verdict {
        match self {
            Verdict::Respond(r) => Verdict::Respond(r.header("X-Decided-By", "test-plugin-router")),
            v => v,
        }
    }
}

export_plugin!(Router, |c: Config| {
    let mut targets = Vec::new();
    for (i, t) in c.targets.iter().enumerate() {
        let transport = Transport::parse(&t.transport).ok_or_else(|| {
            ConfigError::field(format!("targets[{i}].transport"), "udp, tcp or empty")
        })?;
        targets.push(
            Target::new(&t.uri)
                .transport(transport)
                .delay(Duration::from_millis(t.delay_ms))
                .min_answer(Duration::from_millis(t.min_answer_ms))
                .fork_group(1),
        );
    }
    Ok(Router {
        targets,
        all_methods: c.all_methods,
        respond: c.respond,
    })
});
