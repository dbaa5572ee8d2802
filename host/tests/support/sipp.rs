//! SIPp peers and the `sip-interop run` process for tests on loopback; every process is stopped by
//! its PID when its handle drops.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/sipp")
}

/// A child process stopped (by its PID) when dropped.
pub struct Proc {
    pub child: Child,
    pub what: String,
}

impl Proc {
    pub fn wait(mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not finish within {limit:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn have_sipp() -> bool {
    Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A port free for both UDP and TCP on 127.0.0.1.
pub fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub fn sipp(dir: &Path, what: &str, args: &[String]) -> Proc {
    let child = Command::new("sipp")
        .args(args)
        .args(["-nostdin", "-trace_err"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sipp (Debian package sip-tester; scripts/setup installs it)");
    Proc {
        child,
        what: what.to_string(),
    }
}

pub fn uas(dir: &Path, scenario: &str, port: u16, tcp: bool, extra: &[&str]) -> Proc {
    let mut a = vec![
        "-sf".into(),
        scenarios().join(scenario).display().to_string(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-m".into(),
        "1".into(),
    ];
    if tcp {
        a.extend(["-t".into(), "t1".into()]);
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    sipp(dir, &format!("UAS {scenario} on {port}"), &a)
}

pub fn uac(dir: &Path, scenario: &str, remote: &str, proxy: u16, tcp: bool) -> Proc {
    uac_with(dir, scenario, remote, proxy, tcp, &[])
}

/// [`uac`] with more SIPp arguments (`-s USER`, `-d MS`).
pub fn uac_with(
    dir: &Path,
    scenario: &str,
    remote: &str,
    proxy: u16,
    tcp: bool,
    extra: &[&str],
) -> Proc {
    let mut a = vec![
        remote.to_string(),
        "-rsa".into(),
        format!("127.0.0.1:{proxy}"),
        "-sf".into(),
        scenarios().join(scenario).display().to_string(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        free_port().to_string(),
        "-m".into(),
        "1".into(),
        "-timeout".into(),
        "30s".into(),
    ];
    if tcp {
        a.extend(["-t".into(), "t1".into()]);
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    sipp(dir, &format!("UAC {scenario}"), &a)
}

/// Start `sip-interop run` on a free port (UDP and TCP) with `chain` (TOML of [[chain]] entries).
pub fn proxy(dir: &Path, chain: &str) -> (Proc, u16) {
    proxy_with(dir, "", chain)
}

/// [`proxy`] with more top-level settings (`[proxy]`, `[directory]`) before the chain.
pub fn proxy_with(dir: &Path, settings: &str, chain: &str) -> (Proc, u16) {
    let port = free_port();
    let admin = free_port();
    let cfg = dir.join("host.toml");
    std::fs::write(
        &cfg,
        format!("[[listen]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n[[listen]]\ntransport = \"tcp\"\naddress = \"127.0.0.1:{port}\"\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n[logging]\nlevel = \"warn\"\n\n{settings}\n{chain}"),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("proxy.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_sip-interop"))
        .args(["run", "-c", cfg.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let p = Proc {
        child,
        what: "sip-interop".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", admin)).is_err() {
        assert!(
            Instant::now() < deadline,
            "proxy did not come up: {}",
            std::fs::read_to_string(dir.join("proxy.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (p, port)
}

pub fn passed(st: ExitStatus, what: &str, dir: &Path) {
    let mut errors = String::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().ends_with("errors.log") {
                errors.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    let log = std::fs::read_to_string(dir.join("proxy.log")).unwrap_or_default();
    assert!(
        st.success(),
        "{what} failed ({st}); SIPp errors:\n{errors}\nproxy log:\n{log}"
    );
}

/// Send `request` over UDP to `port` on loopback and return the first final answer (within 20 s).
pub fn final_answer(port: u16, request: &[u8]) -> String {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s.send_to(request, ("127.0.0.1", port)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = vec![0u8; 65536];
    loop {
        assert!(Instant::now() < deadline, "no final answer");
        let Ok((n, _)) = s.recv_from(&mut buf) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        let code: u16 = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        if code >= 200 {
            return text;
        }
    }
}
