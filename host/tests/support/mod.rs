//! Shared helpers for the host's integration tests.
#![allow(dead_code)]

pub mod kamailio;
pub mod sipp;

use std::path::{Path, PathBuf};

use sip_interop_host::config::{parse_str, LoadedConfig};

/// The cargo target profile folder holding the plugin shared objects (built by `cargo build --workspace`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

/// Path of a built plugin, e.g. `plugin("test_plugin_stateful")`.
pub fn plugin(name: &str) -> PathBuf {
    let p = target_dir().join(format!("lib{name}.so"));
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace` before the tests (scripts/test does)",
        p.display()
    );
    p
}

/// A fresh temporary folder for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sip-interop-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// Parse config text as if it were the file `dir/host.toml`.
pub fn config(dir: &Path, text: &str) -> LoadedConfig {
    let path = dir.join("host.toml");
    std::fs::write(&path, text).expect("write config");
    parse_str(&path, text.to_string()).expect("test config parses")
}

/// A well-formed INVITE.
pub fn invite(call_id: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-{call_id};rport\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\nFrom: Alice <sip:alice@example.org>;tag=1928301774\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.10:5060>\r\n{extra_headers}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The 200 OK answering [`invite`].
pub fn ok_response(call_id: &str) -> Vec<u8> {
    format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-{call_id};rport\r\nTo: Bob <sip:bob@example.com>;tag=8321234356\r\nFrom: Alice <sip:alice@example.org>;tag=1928301774\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.20:5060>\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// All values of header `name` in raw message bytes (simple test-side reading).
pub fn header_values(bytes: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// A number field of `/proc/PID/status` (`"VmRSS:"` in KiB, `"Threads:"`); 0 when absent.
pub fn status_field(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
