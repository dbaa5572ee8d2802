//! The MS-SIP normaliser inside the standalone proxy, between real SIPp peers on loopback:
//! a Lync 2013-style caller (multipart body, ms-* headers, epid, Microsoft codecs) reaches a standard
//! callee whose scenario refuses the call if anything Microsoft arrives; a Cisco-style caller
//! (national number, RTP/SAVP) reaches a Lync-side callee whose scenario refuses the call unless it
//! gets +E.164 with user=phone, an epid and SRTP in the Lync form; and Lync's answer (epid, ms-*
//! headers, Microsoft SDP attributes) goes back to the Cisco caller normalised. Every process is
//! stopped by its PID.

mod support;

use std::path::PathBuf;
use std::process::ExitStatus;
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

/// One call through a proxy running `chain`: a `caller` scenario dialling `service` at a `callee`
/// scenario on `callee_port`. Returns both SIPp exit statuses (a failed ereg check makes its SIPp
/// exit 1).
fn call(
    tag: &str,
    chain: &str,
    caller: &str,
    service: &str,
    callee: &str,
    callee_port: u16,
) -> (ExitStatus, ExitStatus, PathBuf) {
    let dir = temp_dir(tag);
    let (_proxy, port) = proxy(&dir, chain);
    let callee = uas(&dir, callee, callee_port, false, &["-timeout", "30s"]);
    std::thread::sleep(Duration::from_millis(200));
    let remote = format!("127.0.0.1:{callee_port}");
    let caller = uac_with(&dir, caller, &remote, port, false, &["-s", service]);
    let caller_status = caller.wait(LIMIT);
    (caller_status, callee.wait(LIMIT), dir)
}

#[test]
fn a_lync_call_reaches_a_standard_callee_with_nothing_microsoft_left() {
    let (lync, callee, dir) = call(
        "ms-to-standard",
        &chain(""),
        "uac-lync-invite.xml",
        "+14085551234",
        "uas-standard-checks.xml",
        free_port(),
    );
    passed(lync, "Lync-style caller", &dir);
    // The callee's exit code is the verdict of its checks on what arrived.
    passed(
        callee,
        "standard callee checking for Microsoft leftovers",
        &dir,
    );
}

fn lync_peer(port: u16) -> String {
    chain(&format!(
        "[[chain.config.peer]]\nname = \"lync\"\naddress = \"127.0.0.1:{port}\"\ndialect = \"ms\"\n"
    ))
}

#[test]
fn a_cisco_call_reaches_a_lync_callee_in_the_form_lync_needs() {
    let callee_port = free_port();
    let (cisco, callee, dir) = call(
        "standard-to-ms",
        &lync_peer(callee_port),
        "uac-standard-invite.xml",
        "4085551234",
        "uas-lync-checks.xml",
        callee_port,
    );
    // The caller checks the answer it gets back; the callee checks the INVITE.
    passed(cisco, "Cisco-style caller", &dir);
    passed(callee, "Lync callee checking what it needs", &dir);
}

#[test]
fn without_the_normaliser_the_standard_callee_refuses_the_lync_call() {
    // The negative of the first test: the same peers with an empty chain. If this passed, the
    // callee's checks would prove nothing.
    let (_, callee, _) = call(
        "ms-unnormalised",
        "",
        "uac-lync-invite.xml",
        "+14085551234",
        "uas-standard-checks.xml",
        free_port(),
    );
    assert!(
        !callee.success(),
        "the callee accepted an unnormalised Lync INVITE"
    );
}

#[test]
fn without_the_normaliser_the_cisco_caller_refuses_lyncs_answer() {
    // The negative of the second test, for the answer's checks in the caller's scenario.
    let (cisco, _, _) = call(
        "ms-answer-unnormalised",
        "",
        "uac-standard-invite.xml",
        "4085551234",
        "uas-lync-checks.xml",
        free_port(),
    );
    assert!(
        !cisco.success(),
        "the caller accepted Lync's answer unnormalised"
    );
}
