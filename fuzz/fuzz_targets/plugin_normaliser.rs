//! `plugin_normaliser`: the ms-sip-normaliser's hooks on arbitrary messages, run in-process through
//! the SDK test bench (parse, hook, apply the edits, serialise: what the host does).
//!
//! Each input that parses is run under two configs (the fixture tests' gateway: E.164, optional
//! SRTP, no default offer; and a second one: `no-plus` numbers with a national prefix, SRTP
//! required, a default offer, ICE on the standards side) and from three sources (the Microsoft peer,
//! the standards peer, an unknown address that only detection can place), on one normaliser per
//! config so the dialog table carries from one run to the next.
//! - A request goes through the request hook.
//! - A response goes through the response hook, in both directions, after the request hook has seen
//!   an INVITE carrying the response's Call-ID, From, To and CSeq (so the scratchpad and the dialog
//!   table hold what a real transaction would).
//!
//! Checks: no panic; the message after the edits parses again with a correct Content-Length; on
//! well-formed input, every edit passes the host's acceptance rule and the result is still
//! well-formed (see `assert_plugin_edits`); a local reply has a one-line status and headers.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ms_sip_normaliser::{Config, Normaliser};
use sip_interop_abi::sdk::parse_config;
use sip_interop_abi::sdk::testing::Bench;
use sip_interop_abi::sip::{header_name::kind, Message};
use sip_interop_fuzz::{assert_plugin_edits, assert_verdict_ok, within_host_limits};
use std::sync::OnceLock;

const LYNC_POOL: &str = "192.0.2.20:5061";
const CUCM: &str = "198.51.100.10:5060";
const UNKNOWN: &str = "203.0.113.9:5060";

/// The fixture tests' config (`plugins/ms-sip-normaliser/tests/support/mod.rs`).
const CONFIG_A: &str = include_str!("../../plugins/ms-sip-normaliser/tests/support/gateway.toml");

/// The other settings: numbers without `+`, SRTP required, a default offer, ICE on the standards
/// side, the ICE re-INVITE not answered locally.
const CONFIG_B: &str = r#"
ms_domains = ["lync.example.com", "contoso.com"]
ms_trusted_pools = ["lync-pool"]

[[peer]]
name = "lync-pool"
address = "192.0.2.20:5061"
dialect = "ms"
encryption = "required"

[[peer]]
name = "cucm"
address = "198.51.100.10"
dialect = "standard"
ice = true

[numbers]
standard = "no-plus"
international_prefix = "00"
country_code = "49"
national_prefix = "0"

[microsoft]
encryption = "rejected"
epid_seed = "fuzz"
answer_ice_reinvite = false
default_offer = "v=0\r\no=- 0 0 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n"

[standard]
ice = true
"#;

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

/// An INVITE from `source` towards `dest_host` carrying `resp`'s Call-ID, From, To and CSeq number,
/// so that the response's transaction looks real.
fn invite_for(resp: &Message<'_>, dest_host: &str, source: &str) -> Vec<u8> {
    let value = |k: u16, default: &str| resp.first_value(k).unwrap_or(default).to_owned();
    let seq = resp.cseq().and_then(Result::ok).map_or(1, |c| c.seq);
    format!(
        "INVITE sip:+14085551234@{dest_host} SIP/2.0\r\n\
Via: SIP/2.0/TLS {source};branch=z9hG4bK-fuzz\r\n\
From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {seq} INVITE\r\nMax-Forwards: 70\r\n\
Contact: <sip:caller@{source}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{OFFER}",
        value(kind::FROM, "<sip:alice@example.net>;tag=a"),
        value(kind::TO, "<sip:bob@lync.example.com>"),
        value(kind::CALL_ID, "fuzz-call"),
        OFFER.len(),
    )
    .into_bytes()
}

fn run_request(n: &Normaliser, source: &str, m: &Message<'_>) {
    let mut bench = Bench::new(source.parse().expect("literal address"));
    bench.explain = true;
    let out = bench.request(n, m.bytes()).expect("parsed before");
    assert_plugin_edits(m, &out.edits, &out.message);
    assert_verdict_ok(&out.verdict);
}

fn run_response(n: &Normaliser, m: &Message<'_>) {
    // (source of the request, where it goes): Microsoft → standards, then standards → Microsoft.
    for (source, dest_host) in [(LYNC_POOL, "198.51.100.10"), (CUCM, "lync.example.com")] {
        let mut bench = Bench::new(source.parse().expect("literal address"));
        bench.explain = true;
        let invite = invite_for(m, dest_host, source);
        if bench.request(n, &invite).is_err() {
            continue; // the response's own header values made the INVITE unparseable
        }
        let out = bench.response(n, m.bytes()).expect("parsed before");
        assert_plugin_edits(m, &out.edits, &out.message);
    }
}

/// The two configs, parsed once (a fresh normaliser per input keeps runs reproducible: the dialog
/// table starts empty each time).
fn configs() -> &'static [Config; 2] {
    static CONFIGS: OnceLock<[Config; 2]> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        [CONFIG_A, CONFIG_B].map(|c| parse_config(c).expect("the fuzz configs are valid"))
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
    for config in configs() {
        let n = Normaliser::new(config.clone()).expect("the fuzz configs are valid");
        if m.is_request() {
            for source in [LYNC_POOL, CUCM, UNKNOWN] {
                run_request(&n, source, &m);
            }
        } else {
            run_response(&n, &m);
        }
    }
});
