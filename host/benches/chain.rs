//! Cost of the chain walk through the plugin ABI: an empty chain, one plugin that only reads, one that
//! edits (one serialisation), and the live-chain snapshot (`arc-swap` load).

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};

use sip_interop_abi::sdk::Transport;
use sip_interop_abi::sip::Message;
use sip_interop_host::chain::TxContext;
use sip_interop_host::config::parse_str;
use sip_interop_host::Host;

fn plugin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    // Benches run from target/release/deps; plugins are built by `cargo build --release --workspace`.
    let p = dir.join(format!("lib{name}.so"));
    assert!(
        p.exists(),
        "{} missing: run `cargo build --release --workspace` first (scripts/bench does)",
        p.display()
    );
    p
}

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\nFrom: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@pc33.atlanta.example.com>\r\nContent-Length: 0\r\n\r\n";

fn host(chain: &str) -> Host {
    let dir = std::env::temp_dir();
    Host::from_config(parse_str(&dir.join("bench.toml"), chain.to_string()).unwrap()).unwrap()
}

fn bench(c: &mut Criterion) {
    let msg = Message::parse(INVITE).unwrap();
    let ctx = TxContext::new(
        "192.0.2.1:5060".parse().unwrap(),
        "127.0.0.1:5060".parse().unwrap(),
        Transport::Udp,
        1,
    );

    let empty = host("");
    c.bench_function("chain_empty", |b| {
        b.iter(|| empty.process_request(&msg, &mut ctx.clone(), None))
    });

    let reader = host(&format!(
        "[[chain]]\nplugin = \"{}\"\n[chain.config]\nheaders = []\n",
        plugin("add_header").display()
    ));
    c.bench_function("chain_one_plugin_no_edit", |b| {
        b.iter(|| reader.process_request(&msg, &mut ctx.clone(), None))
    });

    let editor = host(&format!("[[chain]]\nplugin = \"{}\"\n[chain.config]\nheaders = [{{ name = \"X-Interop\", value = \"1\" }}]\n", plugin("add_header").display()));
    c.bench_function("chain_one_plugin_one_edit", |b| {
        b.iter(|| editor.process_request(&msg, &mut ctx.clone(), None))
    });

    c.bench_function("live_chain_snapshot", |b| b.iter(|| editor.snapshot()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
