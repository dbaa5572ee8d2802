//! Kamailio 5.6 (Debian packages `kamailio`, `kamailio-lua-modules`) running the shipped glue
//! (scripts/kamailio/kamailio.cfg + sip-interop.lua) with our Lua module, on loopback. Stopped by its
//! PID (SIGTERM to the main process, which stops its workers) when the handle drops.
#![allow(dead_code)]

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::sipp::free_port;
use super::target_dir;

pub struct Kamailio {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    pub config: PathBuf,
}

fn glue(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/kamailio")
        .join(file)
        .canonicalize()
        .expect("scripts/kamailio is in the tree")
}

impl Kamailio {
    /// Start Kamailio with `host_toml` as the host's config, two UDP workers (so requests and their
    /// replies meet different worker processes, each with its own host).
    pub fn start(dir: &Path, host_toml: &str) -> Kamailio {
        // A port picked free can be taken by a parallel test before Kamailio binds it: try another.
        for _ in 0..3 {
            let (child, port, config) = Self::spawn(dir, host_toml);
            let mut k = Kamailio {
                child,
                port,
                dir: dir.to_path_buf(),
                config,
            };
            if k.wait_until_up() {
                return k;
            }
            assert!(
                k.log().contains("Address already in use"),
                "kamailio exited at start:\n{}",
                k.log()
            );
        }
        panic!("kamailio found no free port in three tries");
    }

    /// Start Kamailio with a host config it must refuse: its exit status and log, within 15 s.
    pub fn refused(dir: &Path, host_toml: &str) -> (std::process::ExitStatus, String) {
        let (mut child, _, _) = Self::spawn(dir, host_toml);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(st) = child.try_wait().expect("wait") {
                let log = std::fs::read_to_string(dir.join("kamailio.log")).unwrap_or_default();
                return (st, log);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("kamailio kept running with a broken host config");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn spawn(dir: &Path, host_toml: &str) -> (Child, u16, PathBuf) {
        let module = target_dir().join("libsip_interop_lua.so");
        assert!(
            module.exists(),
            "{} is missing: build it with `cargo build --manifest-path host/embed-lua/Cargo.toml \
             --target-dir target` (scripts/test does)",
            module.display()
        );
        let config = dir.join("host.toml");
        std::fs::write(&config, host_toml).unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.join("kamailio.log")).unwrap();
        let child = Command::new("kamailio")
            .arg("-f")
            .arg(glue("kamailio.cfg"))
            .args(["-A", &format!("SIP_PORT={port}"), "-A", "CHILDREN=2"])
            .arg("-A")
            .arg(format!(
                "ROUTING_SCRIPT=\"{}\"",
                glue("sip-interop.lua").display()
            ))
            .arg("-A")
            .arg(format!("CTL_SOCKET=\"unix:{}/ctl\"", dir.display()))
            .args(["-DD", "-E", "-m", "64", "-M", "8", "-w"])
            .arg(dir)
            .arg("-Y")
            .arg(dir)
            .arg("-P")
            .arg(dir.join("kamailio.pid"))
            .env("SIP_INTEROP_CONFIG", &config)
            .env("SIP_INTEROP_LIB_DIR", target_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start kamailio (Debian packages kamailio and kamailio-lua-modules; scripts/setup installs them)");
        (child, port, config)
    }

    /// Up when the Lua routing answers: an OPTIONS with Max-Forwards 0 gets 483 from the script.
    /// False when Kamailio exited instead.
    fn wait_until_up(&mut self) -> bool {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut n = 0;
        loop {
            n += 1;
            let probe = format!(
                "OPTIONS sip:probe@127.0.0.1:{p} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{l};branch=z9hG4bKup{n}\r\n\
                 Max-Forwards: 0\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:probe@127.0.0.1>\r\n\
                 Call-ID: up{n}@t\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
                p = self.port,
                l = s.local_addr().unwrap().port()
            );
            let _ = s.send_to(probe.as_bytes(), ("127.0.0.1", self.port));
            let mut buf = [0u8; 2048];
            if let Ok((len, _)) = s.recv_from(&mut buf) {
                if buf[..len].starts_with(b"SIP/2.0 483") {
                    return true;
                }
            }
            if !self.running() {
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "kamailio did not come up:\n{}",
                self.log()
            );
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("kamailio.log")).unwrap_or_default()
    }

    /// `kamcmd` against this instance's control socket.
    pub fn kamcmd(&self, args: &[&str]) -> String {
        let out = Command::new("kamcmd")
            .arg("-s")
            .arg(format!("unix:{}/ctl", self.dir.display()))
            .args(args)
            .output()
            .expect("kamcmd (Debian package kamailio)");
        assert!(
            out.status.success(),
            "kamcmd {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether the main process still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    /// Send `request` over UDP and return the first final answer.
    pub fn final_answer(&self, request: &[u8]) -> String {
        super::sipp::final_answer(self.port, request)
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // SIGTERM to the main process: it stops its workers and exits.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
