//! Test plugin that misbehaves: panics in a hook (with `when_header` set, only for requests carrying
//! that header, so the same instance also proves the next message is served normally), or, with
//! `inject_header`, tries to smuggle an extra header line into the message through an edit.

use serde::Deserialize;
use sip_interop_abi::prelude::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    when_header: String,
    #[serde(default)]
    in_response: bool,
    #[serde(default)]
    inject_header: bool,
}

struct Panicking {
    when_header: String,
    in_response: bool,
    inject_header: bool,
}

impl Plugin for Panicking {
    const EXAMPLE_CONFIG: &'static str = "when_header = \"X-Panic\"\n";

    fn on_request(&self, req: &mut Request<'_>, _ctx: &mut Context<'_>) -> Verdict {
        if self.inject_header {
            req.add_header("X-Note", "harmless\r\nRoute: <sip:attacker.example.com;lr>");
            return Verdict::Continue;
        }
        if self.when_header.is_empty() || req.header(&self.when_header).is_some() {
            panic!("test plugin panics on purpose");
        }
        Verdict::Continue
    }

    fn on_response(&self, _resp: &mut Response<'_>, _ctx: &mut Context<'_>) -> ResponseVerdict {
        if self.in_response {
            panic!("test plugin panics on purpose in a response");
        }
        ResponseVerdict::Continue
    }
}

export_plugin!(Panicking, |c: Config| Ok(Panicking {
    when_header: c.when_header,
    in_response: c.in_response,
    inject_header: c.inject_header,
}));
