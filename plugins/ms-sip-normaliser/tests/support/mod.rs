//! Fixture loading shared by the normaliser's tests and benchmark.

use std::path::PathBuf;

/// A gateway between a Lync pool (192.0.2.20) and a Cisco UCM (198.51.100.10), North American
/// numbers: the config of the fixture tests and the benchmark.
pub const CONFIG: &str = include_str!("gateway.toml");

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture as wire bytes: leading `;` comment lines dropped, LF → CRLF, Content-Length recomputed.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body_start = text.lines().position(|l| !l.starts_with(';')).unwrap_or(0);
    let msg: Vec<&str> = text.lines().skip(body_start).collect();
    let wire = msg.join("\r\n");
    let (head, body) = match wire.find("\r\n\r\n") {
        Some(i) => (&wire[..i], &wire[i + 4..]),
        None => (wire.as_str(), ""),
    };
    // The file's last line break belongs to the body (SDP lines end with CRLF).
    let body = if body.is_empty() {
        String::new()
    } else {
        format!("{body}\r\n")
    };
    let mut out = String::with_capacity(wire.len() + 8);
    // A file without a body ends with the blank line after its headers: no blank line belongs in the
    // header block.
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        if line.to_ascii_lowercase().starts_with("content-length:") || line.starts_with("l:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    out.push_str(&body);
    out.into_bytes()
}

/// Replace a header line's value (first line of that name) in wire bytes.
pub fn with_header(msg: &[u8], name: &str, value: &str) -> Vec<u8> {
    let text = String::from_utf8(msg.to_vec()).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut done = false;
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    for line in head.split("\r\n") {
        if !done
            && line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name)
            && line[name.len()..].starts_with(':')
        {
            out.push_str(&format!("{name}: {value}\r\n"));
            done = true;
        } else {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    assert!(done, "no {name} header");
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}
