//! `plugin_add_header`: the add-header example plugin's request hook on arbitrary messages, run
//! in-process through the SDK test bench (parse, hook, apply the edits, serialise).
//!
//! Two configs: headers for every method (a well-known name, `Content-Length` and `Via` among them,
//! which the serialiser treats specially), and headers only for INVITE and MESSAGE. Requests go
//! through the request hook; responses through the response hook (the plugin has none: the SDK's
//! default must leave them alone).
//!
//! Checks: no panic; the message after the edits parses again with a correct Content-Length; on
//! well-formed input, every edit passes the host's acceptance rule and the result is still
//! well-formed (see `assert_plugin_edits`); the plugin has no response hook, so responses get no edits.

#![no_main]

use add_header::{AddHeader, Config, HeaderConfig};
use libfuzzer_sys::fuzz_target;
use sip_interop_abi::sdk::testing::Bench;
use sip_interop_abi::sip::Message;
use sip_interop_fuzz::{assert_plugin_edits, assert_verdict_ok, within_host_limits};
use std::sync::OnceLock;

fn header(name: &str, value: &str) -> HeaderConfig {
    HeaderConfig {
        name: name.into(),
        value: value.into(),
    }
}

fn plugins() -> &'static [AddHeader; 2] {
    static PLUGINS: OnceLock<[AddHeader; 2]> = OnceLock::new();
    PLUGINS.get_or_init(|| {
        let every = Config {
            headers: vec![
                header("X-Interop", "sip-interop-host"),
                header("Subject", ""),
                header("Content-Length", "999"),
                header("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-added"),
            ],
            methods: Vec::new(),
        };
        let some = Config {
            headers: vec![header("P-Fuzz", "a, b;c=\"d\"")],
            methods: vec!["INVITE".into(), "MESSAGE".into()],
        };
        [
            AddHeader::new(every).expect("valid config"),
            AddHeader::new(some).expect("valid config"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    // Only what the host would hand to the chain: over its size limits, it answers 513 itself.
    let Ok(m) = Message::parse(data) else {
        return;
    };
    if !within_host_limits(&m) {
        return;
    }
    for plugin in plugins() {
        let mut bench = Bench::new("192.0.2.7:5060".parse().expect("literal address"));
        if m.is_request() {
            let out = bench.request(plugin, data).expect("parsed above");
            assert_plugin_edits(&m, &out.edits, &out.message);
            assert_verdict_ok(&out.verdict);
        } else {
            let out = bench.response(plugin, data).expect("parsed above");
            assert!(out.edits.is_empty(), "add-header has no response hook");
            assert_plugin_edits(&m, &out.edits, &out.message);
        }
    }
});
