//! Test plugin: panics in a hook. With `when_header` set, only for requests carrying that header, so the
//! same instance can also prove that the next message is served normally.

use serde::Deserialize;
use sip_interop_abi::prelude::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    when_header: String,
    #[serde(default)]
    in_response: bool,
}

struct Panicking {
    when_header: String,
    in_response: bool,
}

impl Plugin for Panicking {
    const EXAMPLE_CONFIG: &'static str = "when_header = \"X-Panic\"\n";

    fn on_request(&self, req: &mut Request<'_>, _ctx: &mut Context<'_>) -> Verdict {
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
    in_response: c.in_response
}));
