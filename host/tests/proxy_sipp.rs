//! The standalone proxy against real SIPp peers on loopback: basic call (UDP, TCP), CANCEL, a fork
//! where the loser gets CANCEL, a delayed fork target never started, the answer-too-soon guard,
//! 483 on Max-Forwards 0, and a loop answered 482. Every process is stopped by its PID.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::sipp::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(40);

fn basic_call(tcp: bool) {
    if !have_sipp() {
        panic!("sipp is not installed: run scripts/setup");
    }
    let dir = temp_dir(if tcp {
        "sipp-basic-tcp"
    } else {
        "sipp-basic-udp"
    });
    let (_proxy, port) = proxy(&dir, "");
    let uas_port = free_port();
    let callee = uas(&dir, "uas-basic.xml", uas_port, tcp, &[]);
    std::thread::sleep(Duration::from_millis(200));
    let caller = uac(
        &dir,
        "uac-basic.xml",
        &format!("127.0.0.1:{uas_port}"),
        port,
        tcp,
    );
    passed(caller.wait(LIMIT), "UAC", &dir);
    passed(callee.wait(LIMIT), "UAS", &dir);
}

#[test]
fn basic_call_over_udp() {
    basic_call(false);
}

#[test]
fn basic_call_over_tcp() {
    basic_call(true);
}

#[test]
fn cancel_reaches_the_callee_and_the_caller_gets_487() {
    let dir = temp_dir("sipp-cancel");
    let (_proxy, port) = proxy(&dir, "");
    let uas_port = free_port();
    let callee = uas(&dir, "uas-cancel.xml", uas_port, false, &[]);
    std::thread::sleep(Duration::from_millis(200));
    let caller = uac(
        &dir,
        "uac-cancel.xml",
        &format!("127.0.0.1:{uas_port}"),
        port,
        false,
    );
    passed(caller.wait(LIMIT), "UAC", &dir);
    passed(callee.wait(LIMIT), "UAS", &dir);
}

fn router(targets: &[(u16, u64, u64)]) -> String {
    let mut s = format!(
        "[[chain]]\nname = \"router\"\nplugin = \"{}\"\n[chain.config]\n",
        plugin("test_plugin_router").display()
    );
    for (port, delay, min_answer) in targets {
        s.push_str(&format!("[[chain.config.targets]]\nuri = \"sip:service@127.0.0.1:{port}\"\ndelay_ms = {delay}\nmin_answer_ms = {min_answer}\n"));
    }
    s
}

#[test]
fn a_fork_answered_on_one_branch_cancels_the_other() {
    let dir = temp_dir("sipp-fork");
    let (winner_port, loser_port) = (free_port(), free_port());
    let (_proxy, port) = proxy(&dir, &router(&[(loser_port, 0, 0), (winner_port, 0, 0)]));
    let loser = uas(&dir, "uas-fork-loser.xml", loser_port, false, &[]);
    let winner = uas(&dir, "uas-fork-winner.xml", winner_port, false, &[]);
    std::thread::sleep(Duration::from_millis(200));
    let caller = uac(
        &dir,
        "uac-basic.xml",
        &format!("127.0.0.1:{winner_port}"),
        port,
        false,
    );
    passed(caller.wait(LIMIT), "UAC", &dir);
    passed(winner.wait(LIMIT), "winning UAS", &dir);
    passed(loser.wait(LIMIT), "losing UAS (CANCEL, 487)", &dir);
}

#[test]
fn a_delayed_fork_target_is_never_started_when_the_first_answers() {
    let dir = temp_dir("sipp-delayed");
    let (first, delayed) = (free_port(), free_port());
    let (_proxy, port) = proxy(&dir, &router(&[(first, 0, 0), (delayed, 1500, 0)]));
    let never = uas(&dir, "uas-never.xml", delayed, false, &["-timeout", "4s"]);
    let callee = uas(&dir, "uas-basic.xml", first, false, &[]);
    std::thread::sleep(Duration::from_millis(200));
    let caller = uac(
        &dir,
        "uac-basic.xml",
        &format!("127.0.0.1:{first}"),
        port,
        false,
    );
    passed(caller.wait(LIMIT), "UAC", &dir);
    passed(callee.wait(LIMIT), "UAS", &dir);
    let st = never.wait(LIMIT);
    assert_eq!(
        st.code(),
        Some(97),
        "the delayed target received something (SIPp exit {st})"
    );
}

#[test]
fn an_answer_sooner_than_min_answer_is_absorbed_and_that_call_ended() {
    let dir = temp_dir("sipp-too-soon");
    let (hasty, normal) = (free_port(), free_port());
    let (_proxy, port) = proxy(&dir, &router(&[(hasty, 0, 5000), (normal, 0, 0)]));
    let hasty_uas = uas(
        &dir,
        "uas-answer-at-once.xml",
        hasty,
        false,
        &["-timeout", "20s"],
    );
    let callee = uas(&dir, "uas-basic.xml", normal, false, &[]);
    std::thread::sleep(Duration::from_millis(200));
    let caller = uac(
        &dir,
        "uac-basic.xml",
        &format!("127.0.0.1:{normal}"),
        port,
        false,
    );
    passed(
        caller.wait(LIMIT),
        "UAC (gets the normal branch's 200 only)",
        &dir,
    );
    passed(callee.wait(LIMIT), "normal UAS", &dir);
    passed(
        hasty_uas.wait(LIMIT),
        "hasty UAS (ACK then BYE from the proxy)",
        &dir,
    );
}

#[test]
fn max_forwards_zero_is_answered_483_and_goes_nowhere() {
    let dir = temp_dir("sipp-483");
    let (_proxy, port) = proxy(&dir, "");
    let uas_port = free_port();
    let never = uas(&dir, "uas-never.xml", uas_port, false, &["-timeout", "3s"]);
    let caller = uac(
        &dir,
        "uac-max-forwards-0.xml",
        &format!("127.0.0.1:{uas_port}"),
        port,
        false,
    );
    passed(caller.wait(LIMIT), "UAC expecting 483", &dir);
    assert_eq!(
        never.wait(LIMIT).code(),
        Some(97),
        "nothing may reach the UAS"
    );
}

#[test]
fn a_request_that_loops_back_is_answered_482() {
    let dir = temp_dir("sipp-482");
    let (_proxy, port) = proxy(&dir, "");
    let caller = uac(
        &dir,
        "uac-loop.xml",
        &format!("127.0.0.1:{port}"),
        port,
        false,
    );
    passed(caller.wait(LIMIT), "UAC expecting 482", &dir);
}

/// Without SIPp: raw UDP requests, for limits and answers a SIPp scenario cannot provoke.
fn raw_invite(call_id: &str, uac_port: u16, target_port: u16) -> Vec<u8> {
    format!(
        "INVITE sip:x@127.0.0.1:{target_port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{uac_port};branch=z9hG4bK-{call_id};rport\r\nMax-Forwards: 70\r\nTo: <sip:x@127.0.0.1>\r\nFrom: <sip:u@127.0.0.1>;tag=1\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn recv_status(sock: &std::net::UdpSocket, want: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    loop {
        assert!(Instant::now() < deadline, "no {want} arrived");
        if let Ok(n) = sock.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            if text.starts_with(&format!("SIP/2.0 {want} ")) {
                return text;
            }
        }
    }
}

#[test]
fn at_the_transaction_limit_new_requests_get_503_with_retry_after() {
    let dir = temp_dir("limit-503");
    let port = free_port();
    let admin = free_port();
    let cfg = dir.join("host.toml");
    std::fs::write(&cfg, format!("[[listen]]\ntransport = \"udp\"\naddress = \"127.0.0.1:{port}\"\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n[proxy]\nmax_transactions = 1\nretry_after_s = 7\n")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_sip-interop"))
        .args(["run", "-c", cfg.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _p = Proc {
        child,
        what: "sip-interop".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", admin)).is_err() {
        assert!(Instant::now() < deadline, "proxy did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A callee that never answers keeps the first transaction open.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let uac = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    uac.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let uac_port = uac.local_addr().unwrap().port();
    uac.connect(("127.0.0.1", port)).unwrap();
    uac.send(&raw_invite("limit-1", uac_port, silent_port))
        .unwrap();
    recv_status(&uac, 100);
    uac.send(&raw_invite("limit-2", uac_port, silent_port))
        .unwrap();
    let busy = recv_status(&uac, 503);
    assert!(busy.contains("Retry-After: 7\r\n"), "{busy}");
    assert!(busy.contains("Call-ID: limit-2\r\n"), "{busy}");
    // Its ACK ends at the proxy: the callee sees the first INVITE (and its retransmissions) only.
    let to = busy
        .lines()
        .find(|l| l.starts_with("To:"))
        .unwrap()
        .to_string();
    let ack = format!("ACK sip:x@127.0.0.1:{silent_port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{uac_port};branch=z9hG4bK-limit-2;rport\r\nMax-Forwards: 70\r\n{to}\r\nFrom: <sip:u@127.0.0.1>;tag=1\r\nCall-ID: limit-2\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n");
    uac.send(ack.as_bytes()).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < deadline {
        if let Ok(n) = silent.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            assert!(
                !text.starts_with("ACK"),
                "the ACK for our own 503 was forwarded: {text}"
            );
        }
    }
}
