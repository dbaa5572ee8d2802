//! The MS-SIP normaliser inside the standalone proxy, between real SIPp peers on loopback:
//! a Lync 2013-style caller (multipart body, ms-* headers, epid, Microsoft codecs) reaches a standard
//! callee whose scenario refuses the call if anything Microsoft arrives; a Cisco-style caller
//! (national number, RTP/SAVP) reaches a Lync-side callee whose scenario refuses the call unless it
//! gets +E.164 with user=phone, an epid and SRTP in the Lync form; and Lync's answer (epid, ms-*
//! headers, Microsoft SDP attributes) goes back to the Cisco caller normalised. Every process is
//! stopped by its PID.

mod support;

use std::time::Duration;
use support::sipp::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(40);

fn chain(peers: &str) -> String {
    format!(
        "[[chain]]\nname = \"ms\"\nplugin = \"{}\"\n[chain.config]\n{peers}\n[chain.config.numbers]\ncountry_code = \"1\"\n",
        plugin("ms_sip_normaliser").display()
    )
}

/// A caller that dials `service` at the callee through the proxy.
fn caller(dir: &std::path::Path, scenario: &str, callee: u16, proxy: u16, service: &str) -> Proc {
    let args: Vec<String> = [
        format!("127.0.0.1:{callee}"),
        "-rsa".into(),
        format!("127.0.0.1:{proxy}"),
        "-sf".into(),
        scenarios().join(scenario).display().to_string(),
        "-s".into(),
        service.into(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        free_port().to_string(),
        "-m".into(),
        "1".into(),
        "-timeout".into(),
        "30s".into(),
    ]
    .into();
    sipp(dir, &format!("UAC {scenario}"), &args)
}

#[test]
fn a_lync_call_reaches_a_standard_callee_with_nothing_microsoft_left() {
    let dir = temp_dir("ms-to-standard");
    let (_proxy, port) = proxy(&dir, &chain(""));
    let callee_port = free_port();
    let callee = uas(
        &dir,
        "uas-standard-checks.xml",
        callee_port,
        false,
        &["-timeout", "30s"],
    );
    std::thread::sleep(Duration::from_millis(200));
    let lync = caller(
        &dir,
        "uac-lync-invite.xml",
        callee_port,
        port,
        "+14085551234",
    );
    passed(lync.wait(LIMIT), "Lync-style caller", &dir);
    // The callee's exit code is the verdict of its checks on what arrived.
    passed(
        callee.wait(LIMIT),
        "standard callee checking for Microsoft leftovers",
        &dir,
    );
}

#[test]
fn a_cisco_call_reaches_a_lync_callee_in_the_form_lync_needs() {
    let dir = temp_dir("standard-to-ms");
    let callee_port = free_port();
    let peers = format!(
        "[[chain.config.peer]]\nname = \"lync\"\naddress = \"127.0.0.1:{callee_port}\"\ndialect = \"ms\"\n"
    );
    let (_proxy, port) = proxy(&dir, &chain(&peers));
    let callee = uas(
        &dir,
        "uas-lync-checks.xml",
        callee_port,
        false,
        &["-timeout", "30s"],
    );
    std::thread::sleep(Duration::from_millis(200));
    let cisco = caller(
        &dir,
        "uac-standard-invite.xml",
        callee_port,
        port,
        "4085551234",
    );
    passed(cisco.wait(LIMIT), "Cisco-style caller", &dir);
    passed(
        callee.wait(LIMIT),
        "Lync callee checking what it needs",
        &dir,
    );
}

#[test]
fn without_the_normaliser_the_standard_callee_refuses_the_lync_call() {
    // The negative of the first test: the same peers with an empty chain. If this passed, the
    // callee's checks would prove nothing.
    let dir = temp_dir("ms-unnormalised");
    let (_proxy, port) = proxy(&dir, "");
    let callee_port = free_port();
    let callee = uas(
        &dir,
        "uas-standard-checks.xml",
        callee_port,
        false,
        &["-timeout", "30s"],
    );
    std::thread::sleep(Duration::from_millis(200));
    let lync = caller(
        &dir,
        "uac-lync-invite.xml",
        callee_port,
        port,
        "+14085551234",
    );
    let _ = lync.wait(LIMIT);
    let st = callee.wait(LIMIT);
    assert!(
        !st.success(),
        "the callee accepted an unnormalised Lync INVITE"
    );
}

#[test]
fn without_the_normaliser_the_cisco_caller_refuses_lyncs_answer() {
    // The negative of the second test, for the answer's checks in the caller's scenario.
    let dir = temp_dir("ms-answer-unnormalised");
    let (_proxy, port) = proxy(&dir, "");
    let callee_port = free_port();
    let callee = uas(
        &dir,
        "uas-lync-checks.xml",
        callee_port,
        false,
        &["-timeout", "30s"],
    );
    std::thread::sleep(Duration::from_millis(200));
    let cisco = caller(
        &dir,
        "uac-standard-invite.xml",
        callee_port,
        port,
        "4085551234",
    );
    let st = cisco.wait(LIMIT);
    let _ = callee.wait(LIMIT);
    assert!(
        !st.success(),
        "the caller accepted Lync's answer unnormalised"
    );
}
