//! Normaliser cost per message, in-process (no ABI crossing): the Lync 2013 multipart INVITE towards
//! the standards side (the heaviest message: multipart, two SDPs, every Microsoft header), a Cisco
//! SRTP INVITE towards Microsoft, and Lync's 200 answer going back to Cisco.

use criterion::{criterion_group, criterion_main, Criterion};
use ms_sip_normaliser::Normaliser;
use sip_interop_abi::sdk::testing::Bench;

#[path = "../tests/support/mod.rs"]
#[allow(dead_code)]
mod support;

fn bench(c: &mut Criterion) {
    let n = Normaliser::from_toml(support::CONFIG).unwrap();
    let lync = support::fixture("lync2013-multipart-invite.sip");
    let cucm = support::fixture("cucm-invite-srtp.sip");
    let ok = support::fixture("sfb-200-ok.sip");
    let mut g = c.benchmark_group("ms-sip-normaliser");
    g.bench_function(
        "lync multipart INVITE to standard (hook + serialise)",
        |b| {
            b.iter(|| {
                let mut bench = Bench::new("192.0.2.20:5061".parse().unwrap());
                bench.request(&n, &lync).unwrap()
            })
        },
    );
    g.bench_function("cisco SRTP INVITE to microsoft (hook + serialise)", |b| {
        b.iter(|| {
            let mut bench = Bench::new("198.51.100.10:5060".parse().unwrap());
            bench.request(&n, &cucm).unwrap()
        })
    });
    g.bench_function(
        "lync 200 OK back to cisco (request + response hooks)",
        |b| {
            b.iter(|| {
                let mut bench = Bench::new("198.51.100.10:5060".parse().unwrap());
                bench.request(&n, &cucm).unwrap();
                bench.response(&n, &ok).unwrap()
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
