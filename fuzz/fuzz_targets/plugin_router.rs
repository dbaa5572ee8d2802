//! `plugin_router`: the matchuri-router's hooks on arbitrary messages, run in-process through the SDK
//! test bench (parse, hook, apply the edits, serialise: what the host does).
//!
//! Each input that parses runs under two configs (routes first with a 404 reply on no match, and
//! rules first with `continue`), both with a registrar-pool collection, global routes (wildcard,
//! phone-only, host replacement), a trusted pool and regex rules (alias and full-URI matches,
//! back-references that copy parts of the Request-URI into the new one, source filters, every kind
//! of target), from a source inside the rules' `source_peers` over TLS and from one outside over
//! UDP. Requests go through the request hook; responses through the response hook (which acts only
//! on a local failure; the bench reports none, so this checks that it leaves answers alone).
//!
//! Checks: no panic; the message after the edits parses again with a correct Content-Length; on
//! well-formed input, every edit passes the host's acceptance rule and the result is still
//! well-formed (see `assert_plugin_edits`); a local reply (404 / ms-diagnostics) has a one-line status and headers.

#![no_main]

use libfuzzer_sys::fuzz_target;
use matchuri_router::MatchUriRouter;
use sip_interop_abi::prelude::Transport;
use sip_interop_abi::sdk::testing::Bench;
use sip_interop_abi::sip::Message;
use sip_interop_fuzz::{assert_plugin_edits, assert_verdict_ok, within_host_limits};
use std::sync::OnceLock;

/// Routes, collections, pools and rules shared by both configs.
const TABLES: &str = r#"
local_domains = ["contoso.com"]
mark_down_minutes = 10
max_regex_bytes = 65536

[[collection]]
identity = "service:Registrar:pool01.contoso.com"
merge_global = true

[[route]]
collection = "service:Registrar:pool01.contoso.com"
name = "pool-fabrikam"
match_uri = "fabrikam.com"
transport = "tls"
destination = "edge-pool.contoso.com"
port = 5061

[[route]]
name = "to-cucm"
match_uri = "*.contoso.com"
transport = "tls"
destination = "cucm.contoso.com"
port = 5061
replace_host_in_request_uri = true

[[route]]
name = "phones"
match_uri = "example.org"
match_only_phone_uri = true
transport = "tls"
destination = "gw.example.org"
port = 5061
use_default_certificate = false
certificate_issuer = "CN=Contoso CA"
certificate_serial = "0a1b2c"

[[trusted_pool]]
name = "expressway"
fqdn = "vcs.example.net"
transport = "tls"
port = 5061

[[rule]]
name = "E.164 to CUCM"
priority = 10
match = '\+1(\d{10})@contoso\.com'
replace = '\1@cucm.contoso.com'
source_transports = ["tls", "tcp"]
source_peers = ["10.0.0.0/8", "192.0.2.7"]
target = { route = "to-cucm" }

[[rule]]
name = "whole URI"
priority = 20
match = 'sips?:(.*)@([^;]*)(;.*)?'
match_full_uri = true
replace = 'sip:\1@rewritten.example.net\3'
target = { uri = "sip:10.1.1.1:5080" }
transport = "udp"

[[rule]]
name = "video"
priority = 30
match = '(.*)@video\.(.*)'
replace = 'sip:\2-\1@vcs.example.net'
target = { trusted_pool = "expressway" }

[[rule]]
name = "anything IPv6"
priority = 40
match = '.*'
source_peers = ["2001:db8::/32"]
target = { uri = "sips:[2001:db8::1]:5061" }
"#;

fn routers() -> &'static [MatchUriRouter; 2] {
    static ROUTERS: OnceLock<[MatchUriRouter; 2]> = OnceLock::new();
    ROUTERS.get_or_init(|| {
        let build = |head: &str| {
            MatchUriRouter::from_toml(&format!("{head}{TABLES}"))
                .unwrap_or_else(|e| panic!("the fuzz config is refused: {e}"))
        };
        [
            build("registrar_pool = \"pool01.contoso.com\"\nconsult = \"routes_first\"\non_no_match = \"reply\"\nserver_name = \"fe01.contoso.com\"\n"),
            build("consult = \"rules_first\"\non_no_match = \"continue\"\n"),
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
    // The router keeps no state between requests: one instance per config serves every input.
    for router in routers() {
        for (source, transport) in [
            ("192.0.2.7:5061", Transport::Tls),
            ("198.51.100.1:5060", Transport::Udp),
        ] {
            let mut bench = Bench::new(source.parse().expect("literal address"));
            bench.transport = transport;
            bench.explain = true;
            if m.is_request() {
                let out = bench.request(router, data).expect("parsed above");
                assert_plugin_edits(&m, &out.edits, &out.message);
                assert_verdict_ok(&out.verdict);
            } else {
                let out = bench.response(router, data).expect("parsed above");
                assert_plugin_edits(&m, &out.edits, &out.message);
            }
        }
    }
});
