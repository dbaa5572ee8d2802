//! The MatchURI router inside the standalone proxy, against real peers on loopback: a next hop
//! given by name resolved through a real DNS server (dnsmasq: SRV → two SIPp callees), the caller
//! sticking to one of them, failover with mark-down when that one stops, 404 with `ms-diagnostics`
//! when nothing matches, and 504 with `ms-diagnostics` when every address of the next hop fails.
//! Every process is stopped by its PID.

mod support;

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::sipp::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(60);

fn dnsmasq_binary() -> &'static str {
    if Path::new("/usr/sbin/dnsmasq").exists() {
        "/usr/sbin/dnsmasq"
    } else {
        "dnsmasq"
    }
}

/// A real DNS server on 127.0.0.1:`port` answering for `records` (dnsmasq options such as
/// `--srv-host=…`), nothing else.
fn dns_server(dir: &Path, port: u16, records: &[String]) -> Proc {
    let log = std::fs::File::create(dir.join("dnsmasq.log")).unwrap();
    let child = Command::new(dnsmasq_binary())
        .args([
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--pid-file=",
            "--log-queries",
            "--log-facility=-",
            &format!("--port={port}"),
        ])
        .args(records)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start dnsmasq (Debian package dnsmasq-base; scripts/setup installs it)");
    let p = Proc {
        child,
        what: "dnsmasq".into(),
    };
    // Up when it answers a query for a name it serves.
    let deadline = Instant::now() + Duration::from_secs(10);
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // A minimal DNS query for a.pool.test A.
    let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["a", "pool", "test"] {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    loop {
        let _ = probe.send_to(&q, ("127.0.0.1", port));
        let mut buf = [0u8; 512];
        if probe.recv_from(&mut buf).is_ok() {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "dnsmasq did not come up: {}",
            std::fs::read_to_string(dir.join("dnsmasq.log")).unwrap_or_default()
        );
    }
}

fn router_chain(config: &str) -> String {
    format!(
        "[[chain]]\nname = \"router\"\nplugin = \"{}\"\n[chain.config]\n{config}",
        plugin("matchuri_router").display()
    )
}

/// A SIPp callee answering up to `calls` calls, logging the messages it gets.
fn callee(dir: &Path, port: u16, calls: u32, name: &str) -> Proc {
    sipp(
        dir,
        &format!("UAS {name} on {port}"),
        &[
            "-sf".into(),
            scenarios().join("uas-basic.xml").display().to_string(),
            "-i".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
            "-m".into(),
            calls.to_string(),
            "-trace_msg".into(),
            "-message_file".into(),
            dir.join(format!("{name}-messages.log"))
                .display()
                .to_string(),
        ],
    )
}

/// A SIPp caller placing `calls` calls one after the other through the proxy.
fn caller(dir: &Path, proxy_port: u16, calls: u32) -> Proc {
    sipp(
        dir,
        "UAC",
        &[
            "127.0.0.1:9".into(),
            "-rsa".into(),
            format!("127.0.0.1:{proxy_port}"),
            "-sf".into(),
            scenarios().join("uac-basic.xml").display().to_string(),
            "-i".into(),
            "127.0.0.1".into(),
            "-p".into(),
            free_port().to_string(),
            "-m".into(),
            calls.to_string(),
            "-l".into(),
            "1".into(),
            "-r".into(),
            "10".into(),
            "-timeout".into(),
            "50s".into(),
        ],
    )
}

fn invites_received(dir: &Path, name: &str) -> usize {
    std::fs::read_to_string(dir.join(format!("{name}-messages.log")))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("INVITE "))
        .count()
}

#[test]
fn a_pool_found_by_srv_keeps_its_caller_and_fails_over_when_that_server_stops() {
    let dir = temp_dir("router-failover");
    let (dns_port, a_port, b_port) = (free_port(), free_port(), free_port());
    let _dns = dns_server(
        &dir,
        dns_port,
        &[
            format!("--srv-host=_sip._udp.pool.test,a.pool.test,{a_port},10,50"),
            format!("--srv-host=_sip._udp.pool.test,b.pool.test,{b_port},10,50"),
            "--host-record=a.pool.test,127.0.0.1".into(),
            "--host-record=b.pool.test,127.0.0.1".into(),
        ],
    );
    let (_proxy, port) = proxy_with(
        &dir,
        &format!("[proxy]\ndns_servers = [\"127.0.0.1:{dns_port}\"]\nnext_hop_timeout_ms = 1000\n"),
        &router_chain(
            "[[chain.config.rule]]\nname = \"service to the pool\"\npriority = 10\nmatch = \"service\"\ntarget = { uri = \"sip:pool.test\" }\n",
        ),
    );
    let a = callee(&dir, a_port, 40, "a");
    let b = callee(&dir, b_port, 40, "b");
    std::thread::sleep(Duration::from_millis(300));

    // One caller, five calls: all reach the same server of the pool.
    passed(caller(&dir, port, 5).wait(LIMIT), "first five calls", &dir);
    let (got_a, got_b) = (invites_received(&dir, "a"), invites_received(&dir, "b"));
    assert!(
        (got_a, got_b) == (5, 0) || (got_a, got_b) == (0, 5),
        "one caller sticks to one server: a got {got_a}, b got {got_b}"
    );

    // That server stops; the next calls all complete on the other one.
    let (sticky, other, other_name) = if got_a == 5 { (a, b, "b") } else { (b, a, "a") };
    drop(sticky);
    let before = invites_received(&dir, other_name);
    passed(
        caller(&dir, port, 5).wait(LIMIT),
        "five calls after the server stopped",
        &dir,
    );
    assert_eq!(invites_received(&dir, other_name) - before, 5);
    let log = std::fs::read_to_string(dir.join("proxy.log")).unwrap();
    assert_eq!(
        log.matches("marked down").count(),
        1,
        "the dead address is marked down once, then skipped:\n{log}"
    );
    drop(other);
}

/// Send `request` from a fresh socket to the proxy and return the first final response.
#[test]
fn no_route_is_404_and_an_unreachable_next_hop_is_504_both_in_the_lync_form() {
    let dir = temp_dir("router-diagnostics");
    let dead = free_port(); // nothing listens here
    let (_proxy, port) = proxy(
        &dir,
        &router_chain(&format!(
            "server_name = \"sip1.contoso.com\"\n[[chain.config.route]]\nname = \"gateway\"\nmatch_uri = \"example.com\"\ntransport = \"tcp\"\ndestination = \"127.0.0.1\"\nport = {dead}\n"
        )),
    );
    let unknown = String::from_utf8(invite("router-404", ""))
        .unwrap()
        .replace(
            "sip:bob@example.com SIP/2.0",
            "sip:bob@unknown.example SIP/2.0",
        );
    let answer = final_answer(port, unknown.as_bytes());
    assert!(answer.starts_with("SIP/2.0 404 "), "{answer}");
    let diag = header_values(answer.as_bytes(), "ms-diagnostics");
    assert!(
        diag.len() == 1
            && diag[0].starts_with("1005;reason=\"Cannot route to destination domain\""),
        "{answer}"
    );
    assert_eq!(
        header_values(answer.as_bytes(), "Warning").len(),
        1,
        "{answer}"
    );

    let answer = final_answer(port, &invite("router-504", ""));
    assert!(answer.starts_with("SIP/2.0 504 "), "{answer}");
    let diag = header_values(answer.as_bytes(), "ms-diagnostics");
    assert!(diag.len() == 1 && diag[0].starts_with("1046;"), "{answer}");
    assert!(diag[0].contains(&format!("127.0.0.1:{dead}")), "{answer}");
}
