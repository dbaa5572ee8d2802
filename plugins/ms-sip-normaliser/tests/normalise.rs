//! The normaliser's rules, per direction, on the MS-SIP fixtures (composed from the Microsoft open
//! specifications; see `fixtures/README.md`), run through the SDK's in-process bench exactly as the
//! host runs a hook: parse, hook, apply the edits, serialise.

mod support;

use ms_sip_normaliser::{
    Normaliser, DIRECTION_KEY, FAR_DIALECT_KEY, IM_FIRST_MESSAGE_KEY, IM_SESSION_KEY,
};
use sip_interop_abi::prelude::*;
use sip_interop_abi::sdk::testing::Bench;
use sip_interop_abi::sdk::PEER_DIALECT_KEY;
use sip_interop_abi::sip::Message;
use support::{fixture, with_header, CONFIG};

const LYNC_POOL: &str = "192.0.2.20:5061";
const CUCM: &str = "198.51.100.10:5060";

fn normaliser(extra: &str) -> Normaliser {
    Normaliser::from_toml(&format!("{CONFIG}{extra}")).unwrap_or_else(|e| panic!("{e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scratch<'a>(bench: &'a Bench, key: &str) -> Option<&'a ScratchValue> {
    bench.scratchpad.get(key)
}

fn scratch_text(bench: &Bench, key: &str) -> String {
    match scratch(bench, key) {
        Some(ScratchValue::Text(t)) => t.to_string(),
        other => format!("{other:?}"),
    }
}

/// Every header line of a serialised message, as (name, value).
fn headers(msg: &[u8]) -> Vec<(String, String)> {
    let m = Message::parse(msg).expect("the edited message parses");
    m.headers()
        .map(|h| (h.name.to_string(), h.value.to_string()))
        .collect()
}

fn header<'a>(hs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    hs.iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

fn assert_valid(msg: &[u8]) {
    let m = Message::parse(msg).unwrap_or_else(|e| panic!("{e}\n{}", text(msg)));
    assert_eq!(m.validate(), Ok(()), "{}", text(msg));
    assert_eq!(
        m.content_length().and_then(|c| c.ok()).unwrap_or(0) as usize,
        m.body().len()
    );
}

// ---- Microsoft → standards side --------------------------------------------------------------

#[test]
fn a_lync_2013_multipart_invite_reaches_the_standards_side_as_plain_sip() {
    let n = normaliser("");
    let mut bench = Bench::new(LYNC_POOL.parse().unwrap());
    bench.explain = true;
    let input = fixture("lync2013-multipart-invite.sip");
    let out = bench.request(&n, &input).unwrap();
    assert_eq!(out.verdict, Verdict::Continue);
    assert_valid(&out.message);
    let hs = headers(&out.message);
    let t = text(&out.message);
    // dialects recorded for later plugins
    assert_eq!(scratch_text(&bench, PEER_DIALECT_KEY), "ms");
    assert_eq!(scratch_text(&bench, FAR_DIALECT_KEY), "standard");
    assert_eq!(scratch_text(&bench, DIRECTION_KEY), "ms-to-standard");
    // one SDP body
    assert_eq!(header(&hs, "Content-Type"), ["application/sdp"]);
    assert!(
        !t.contains("multipart") && !t.contains("ms-proxy-2007fallback"),
        "{t}"
    );
    // no Microsoft header, option tag, method or epid
    for (name, value) in &hs {
        assert!(!name.to_ascii_lowercase().starts_with("ms-"), "{name} left");
        assert!(
            !["Roster-Manager", "EndPoints", "Authentication-Info"]
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name)),
            "{name} left"
        );
        if name.eq_ignore_ascii_case("Supported") {
            assert!(
                !value.contains("ms-") && !value.contains("100rel"),
                "Supported: {value}"
            );
        }
        if name.eq_ignore_ascii_case("Allow") {
            assert!(
                !value.contains("BENOTIFY") && value.contains("INVITE"),
                "Allow: {value}"
            );
        }
    }
    assert!(!t.contains("epid="), "{t}");
    // Microsoft codecs and attributes gone, standard ones kept
    for gone in [
        "x-msrta",
        "SIREN",
        "G722/8000/2",
        "X-H264UC",
        "x-rtvc1",
        "x-ssrc-range",
        "x-caps",
        "cryptoscale",
        "x-message",
        "label:main-audio",
        "TCP-ACT",
        "a=encryption",
    ] {
        assert!(!t.contains(gone), "{gone} left:\n{t}");
    }
    for kept in ["PCMU/8000", "telephone-event", "a=crypto:"] {
        assert!(t.contains(kept), "{kept} lost:\n{t}");
    }
    // the pool's Via and Record-Route stay byte-exact (ms-* parameters and all)
    let orig = text(&input);
    for line in orig
        .split("\r\n")
        .filter(|l| l.starts_with("Via:") || l.starts_with("Record-Route:"))
    {
        assert!(t.contains(line), "changed: {line}");
    }
    // the number stays +E.164 (the standards side is configured e164)
    assert!(
        t.starts_with("INVITE sip:+14085551234@lync.example.com;user=phone SIP/2.0\r\n"),
        "{t}"
    );
    // explain names the rules
    let why = out.explanation.join("\n");
    for rule in [
        "dialect: from ms",
        "body.single-sdp",
        "headers.microsoft-only",
        "options.microsoft-only",
        "allow.standard",
        "epid.strip",
        "sdp.standard",
    ] {
        assert!(why.contains(rule), "no {rule} in:\n{why}");
    }
}

#[test]
fn numbers_follow_the_standards_side_format_and_tel_identities_become_sip() {
    let n = normaliser("").clone_with_numbers_no_plus();
    let mut bench = Bench::new("192.0.2.30:5068".parse().unwrap());
    let out = bench
        .request(&n, &fixture("sfb-single-sdp-invite-tel-pai.sip"))
        .unwrap();
    assert_eq!(out.verdict, Verdict::Continue);
    assert_valid(&out.message);
    let hs = headers(&out.message);
    let pai = header(&hs, "P-Asserted-Identity").join(", ");
    assert!(!pai.contains("tel:"), "{pai}");
    assert!(
        pai.contains("sip:01114085550100@") && pai.contains(";user=phone"),
        "{pai}"
    );
    assert_eq!(
        scratch_text(&bench, PEER_DIALECT_KEY),
        "ms",
        "detected by its Server/User-Agent"
    );
}

trait NoPlus {
    fn clone_with_numbers_no_plus(self) -> Normaliser;
}
impl NoPlus for Normaliser {
    fn clone_with_numbers_no_plus(self) -> Normaliser {
        Normaliser::from_toml(&CONFIG.replace("standard = \"e164\"", "standard = \"no-plus\""))
            .unwrap()
    }
}

#[test]
fn an_application_sharing_only_invite_is_answered_488_with_the_reason() {
    let n = normaliser("");
    let mut bench = Bench::new(LYNC_POOL.parse().unwrap());
    let out = bench
        .request(&n, &fixture("appsharing-invite.sip"))
        .unwrap();
    let Verdict::Respond(r) = out.verdict else {
        panic!("{:?}", out.verdict)
    };
    assert_eq!(r.status, 488);
    assert!(
        r.headers
            .iter()
            .any(|(n, v)| n == "Warning" && v.contains("no media")),
        "{:?}",
        r.headers
    );
}

#[test]
fn an_im_session_invite_is_marked_for_the_splitter_with_its_first_message() {
    let n = normaliser("");
    let mut bench = Bench::new(LYNC_POOL.parse().unwrap());
    let out = bench
        .request(&n, &fixture("im-session-invite.sip"))
        .unwrap();
    assert_eq!(out.verdict, Verdict::Continue);
    assert_eq!(
        scratch(&bench, IM_SESSION_KEY),
        Some(&ScratchValue::Bool(true))
    );
    assert!(!scratch_text(&bench, IM_FIRST_MESSAGE_KEY).is_empty());
    // a Lync user to a Lync user: nothing translated
    assert_eq!(scratch_text(&bench, DIRECTION_KEY), "none");
    assert!(out.edits.is_empty(), "{:?}", out.edits);
}

#[test]
fn microsoft_failures_reach_the_standards_side_in_its_terms() {
    let n = normaliser("");
    // The request went from CUCM to Lync; these are Lync's answers coming back.
    for (file, status, check) in [
        ("ms-504-diagnostics.sip", 504, "Warning"),
        ("ms-430-flow-failed.sip", 481, ""),
        ("sfb-180-ringing-no-invite-in-allow.sip", 180, "Allow"),
    ] {
        let mut bench = Bench::new(CUCM.parse().unwrap());
        bench.request(&n, &fixture("cucm-invite-srtp.sip")).unwrap();
        let out = bench.response(&n, &fixture(file)).unwrap();
        assert_valid(&out.message);
        let m = Message::parse(&out.message).unwrap();
        assert_eq!(m.status(), Some(status), "{file}");
        let hs = headers(&out.message);
        assert!(
            hs.iter()
                .all(|(n, _)| !n.to_ascii_lowercase().starts_with("ms-")),
            "{file}: {hs:?}"
        );
        match check {
            "Warning" => {
                let w = header(&hs, "Warning").join(" ");
                assert!(w.starts_with("399 ") && w.contains("ms-diagnostics"), "{w}");
                assert!(
                    header(&hs, "Reason").join("").starts_with("SIP;cause=504"),
                    "{hs:?}"
                );
            }
            "Allow" => {
                let a = header(&hs, "Allow").join(",");
                assert!(
                    a.contains("INVITE") && a.contains("ACK") && !a.contains("BENOTIFY"),
                    "{a}"
                );
            }
            _ => {}
        }
    }
}

// ---- standards side → Microsoft --------------------------------------------------------------

#[test]
fn a_cisco_invite_reaches_lync_with_e164_epid_and_lync_srtp() {
    let n = normaliser("");
    let mut bench = Bench::new(CUCM.parse().unwrap());
    bench.explain = true;
    let out = bench.request(&n, &fixture("cucm-invite-srtp.sip")).unwrap();
    assert_eq!(out.verdict, Verdict::Continue);
    assert_valid(&out.message);
    let t = text(&out.message);
    assert_eq!(scratch_text(&bench, DIRECTION_KEY), "standard-to-ms");
    assert!(
        t.starts_with("INVITE sip:+14085551234@lync.example.com;user=phone SIP/2.0\r\n"),
        "{t}"
    );
    let hs = headers(&out.message);
    let from = header(&hs, "From")[0];
    assert!(
        from.contains("sip:+14085550199@cucm.example.net;user=phone") && from.contains(";epid="),
        "{from}"
    );
    let to = header(&hs, "To")[0];
    assert!(
        to.contains("sip:+14085551234@lync.example.com;user=phone"),
        "{to}"
    );
    // SRTP the way Lync takes it
    assert!(t.contains("m=audio 24580 RTP/AVP "), "{t}");
    assert!(
        t.contains(" AES_CM_128_HMAC_SHA1_80 inline:") && t.contains("|2^31\r\n"),
        "{t}"
    );
    assert!(!t.contains("AES_CM_128_HMAC_SHA1_32"), "{t}");
    assert!(t.contains("a=encryption:"), "{t}");
    let why = out.explanation.join("\n");
    for rule in ["numbers.microsoft", "epid.add", "sdp.microsoft"] {
        assert!(why.contains(rule), "no {rule} in:\n{why}");
    }
    // the same identity always gets the same epid
    let mut again = Bench::new(CUCM.parse().unwrap());
    let out2 = again.request(&n, &fixture("cucm-invite-srtp.sip")).unwrap();
    assert_eq!(header(&headers(&out2.message), "From")[0], from);
}

#[test]
fn lyncs_answer_goes_back_as_cisco_sent_its_request_and_the_dialog_keeps_lyncs_epid() {
    let n = normaliser("");
    let mut bench = Bench::new(CUCM.parse().unwrap());
    let invite = fixture("cucm-invite-srtp.sip");
    bench.request(&n, &invite).unwrap();
    let out = bench.response(&n, &fixture("sfb-200-ok.sip")).unwrap();
    assert_valid(&out.message);
    let hs = headers(&out.message);
    let orig = headers(&invite);
    assert_eq!(
        header(&hs, "From"),
        header(&orig, "From"),
        "From as CUCM sent it"
    );
    let to = header(&hs, "To")[0];
    assert_eq!(to, format!("{};tag=a7d3e1f905", header(&orig, "To")[0]));
    assert!(!text(&out.message).contains("epid="));
    assert!(hs
        .iter()
        .all(|(n, _)| !n.to_ascii_lowercase().starts_with("ms-")));
    // Record-Route with the pool's ms-* parameters untouched
    assert!(header(&hs, "Record-Route")
        .iter()
        .any(|v| v.contains("ms-route-sig=")));
    // CUCM's in-dialog BYE gets Lync's epid back on To
    let bye = format!(
        "BYE sip:bob@192.0.2.11:5061;transport=tls SIP/2.0\r\nVia: SIP/2.0/TCP 198.51.100.10:5060;branch=z9hG4bK-bye1\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: 8f6d2a00-64f1b7e3-1b5-a3c76333@198.51.100.10\r\nCSeq: 102 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        header(&orig, "From")[0]
    );
    let mut b2 = Bench::new(CUCM.parse().unwrap());
    let out = b2.request(&n, bye.as_bytes()).unwrap();
    let to = header(&headers(&out.message), "To")[0].to_string();
    assert!(to.ends_with(";epid=5c2e8b1d47"), "{to}");
    let call = "8f6d2a00-64f1b7e3-1b5-a3c76333@198.51.100.10";
    // A challenge does not end the call; the BYE's 200 does.
    let answer = |status: &str| {
        format!(
            "SIP/2.0 {status}\r\nVia: SIP/2.0/TCP 198.51.100.10:5060;branch=z9hG4bK-bye1\r\nFrom: {}\r\nTo: {to}\r\nCall-ID: {call}\r\nCSeq: 102 BYE\r\nContent-Length: 0\r\n\r\n",
            header(&orig, "From")[0]
        )
    };
    b2.response(&n, answer("407 Proxy Authentication Required").as_bytes())
        .unwrap();
    assert!(
        n.dialogs().get(call).is_some(),
        "a challenged BYE keeps the call"
    );
    b2.response(&n, answer("200 OK").as_bytes()).unwrap();
    assert!(
        n.dialogs().get(call).is_none(),
        "the BYE's 200 ends the call"
    );
}

#[test]
fn a_delayed_offer_needs_the_default_offer() {
    let without = normaliser("");
    let mut bench = Bench::new(CUCM.parse().unwrap());
    let out = bench
        .request(&without, &fixture("cucm-invite-delayed-offer.sip"))
        .unwrap();
    let Verdict::Respond(r) = out.verdict else {
        panic!("{:?}", out.verdict)
    };
    assert_eq!(r.status, 488);
    assert!(
        r.headers.iter().any(|(_, v)| v.contains("default_offer")),
        "{:?}",
        r.headers
    );

    let with = normaliser("default_offer = \"\"\"\nv=0\no=- 1 1 IN IP4 203.0.113.1\ns=-\nc=IN IP4 203.0.113.1\nt=0 0\nm=audio 40000 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^31\n\"\"\"\n");
    let mut bench = Bench::new(CUCM.parse().unwrap());
    let out = bench
        .request(&with, &fixture("cucm-invite-delayed-offer.sip"))
        .unwrap();
    assert_eq!(out.verdict, Verdict::Continue);
    assert_valid(&out.message);
    let t = text(&out.message);
    assert!(
        t.contains("Content-Type: application/sdp\r\n") && t.contains("m=audio 40000 RTP/AVP"),
        "{t}"
    );
}

#[test]
fn a_microsoft_side_that_requires_encryption_refuses_plain_rtp_with_488() {
    let n = normaliser("").clone_with_required_encryption();
    let plain = String::from_utf8(fixture("cucm-invite-srtp.sip"))
        .unwrap()
        .replace("RTP/SAVP", "RTP/AVP")
        .lines()
        .filter(|l| !l.starts_with("a=crypto"))
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n";
    let fixed = fix_length(plain.as_bytes());
    let mut bench = Bench::new(CUCM.parse().unwrap());
    let out = bench.request(&n, &fixed).unwrap();
    let Verdict::Respond(r) = out.verdict else {
        panic!("{:?}", out.verdict)
    };
    assert_eq!(r.status, 488);
    assert!(
        r.headers.iter().any(|(_, v)| v.contains("encryption")),
        "{:?}",
        r.headers
    );
}

trait Required {
    fn clone_with_required_encryption(self) -> Normaliser;
}
impl Required for Normaliser {
    fn clone_with_required_encryption(self) -> Normaliser {
        Normaliser::from_toml(&CONFIG.replace(
            "epid_seed = \"test-gateway\"",
            "epid_seed = \"test-gateway\"\nencryption = \"required\"",
        ))
        .unwrap()
    }
}

fn fix_length(msg: &[u8]) -> Vec<u8> {
    let t = String::from_utf8(msg.to_vec()).unwrap();
    let (_, body) = t.split_once("\r\n\r\n").unwrap();
    with_header(msg, "Content-Length", &body.len().to_string())
}

// ---- Lync's re-INVITE after ICE, and hot swap ------------------------------------------------

#[test]
fn lyncs_ice_reinvite_is_answered_here_and_survives_a_hot_swap() {
    let n = normaliser("");
    let call_id = "3c6b1a2f9e0d4f7a8b5c2d1e0f9a8b7c";
    // Lync calls Cisco; Cisco answers.
    let mut bench = Bench::new(LYNC_POOL.parse().unwrap());
    bench
        .request(&n, &fixture("lync2013-multipart-invite.sip"))
        .unwrap();
    let ok = bench.response(&n, &fixture("cucm-200-ok.sip")).unwrap();
    assert_valid(&ok.message);
    let ok_text = text(&ok.message);
    assert!(ok_text.contains("From: \"Alice Example\"<sip:alice@lync.example.com>;tag=8f2c51a7e3;epid=6b1f0e9c2d\r\n"), "Lync gets its From back:\n{ok_text}");
    // Hot swap: the successor takes over the dialogs.
    let next = normaliser("");
    next.import_state(&n.export_state()).unwrap();
    // Lync's re-INVITE after its checks, in that call.
    let reinvite = with_header(&fixture("lync-ice-reinvite.sip"), "Call-ID", call_id);
    let mut b2 = Bench::new(LYNC_POOL.parse().unwrap());
    let out = b2.request(&next, &reinvite).unwrap();
    let Verdict::Respond(r) = out.verdict else {
        panic!("{:?}", out.verdict)
    };
    assert_eq!(r.status, 200);
    let (ct, body) = r.body.expect("the 200 carries the last answer");
    assert_eq!(ct, "application/sdp");
    let ok_body = Message::parse(&ok.message).unwrap().body().to_vec();
    assert_eq!(body, ok_body, "the answer Lync already has");
    assert!(
        r.headers
            .iter()
            .any(|(n, v)| n == "Contact" && v.contains("198.51.100.10")),
        "{:?}",
        r.headers
    );
    // Its ACK ends here.
    let ack = format!(
        "ACK sip:4085551234@198.51.100.20:5061;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.20:5061;branch=z9hG4bK-ack2\r\nFrom: <sip:alice@lync.example.com>;tag=0b2d4f6a8c;epid=6b1f0e9c2d\r\nTo: <sip:+14085551234@lync.example.com;user=phone>;tag=7f1c3e5a9b2d4f60\r\nCall-ID: {call_id}\r\nCSeq: 2 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    let mut b3 = Bench::new(LYNC_POOL.parse().unwrap());
    assert_eq!(
        b3.request(&next, ack.as_bytes()).unwrap().verdict,
        Verdict::Drop
    );
    // With ICE on the standards side the re-INVITE goes through.
    let ice = Normaliser::from_toml(&format!("{CONFIG}\n[standard]\nice = true\n")).unwrap();
    ice.import_state(&n.export_state()).unwrap();
    let mut b4 = Bench::new(LYNC_POOL.parse().unwrap());
    assert_eq!(
        b4.request(&ice, &reinvite).unwrap().verdict,
        Verdict::Continue
    );
}

#[test]
fn every_fixture_survives_both_hooks_and_stays_well_formed() {
    let n = normaliser("");
    for entry in std::fs::read_dir(support::fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sip") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap();
        let msg = fixture(name);
        let m = Message::parse(&msg).unwrap_or_else(|e| panic!("{name}: {e}"));
        for source in [LYNC_POOL, CUCM, "203.0.113.99:5060"] {
            let mut bench = Bench::new(source.parse().unwrap());
            if m.is_request() {
                let out = bench.request(&n, &msg).unwrap();
                assert_valid(&out.message);
            } else {
                bench.request(&n, &fixture("cucm-invite-srtp.sip")).unwrap();
                let out = bench.response(&n, &msg).unwrap();
                assert_valid(&out.message);
            }
        }
    }
}

#[test]
fn a_config_that_does_not_make_sense_is_refused_naming_the_field() {
    for (table, field) in [
        ("[[peer]]\nname = \"x\"\naddress = \"pool.example.com\"\ndialect = \"ms\"\n", "peer[0].address"),
        ("[[peer]]\nname = \"x\"\naddress = \"192.0.2.1\"\ndialect = \"cisco\"\n", "peer[0].dialect"),
        ("[[peer]]\nname = \"x\"\naddress = \"192.0.2.1\"\ndialect = \"standard\"\nencryption = \"required\"\n", "peer[0].encryption"),
        ("[numbers]\nstandard = \"plus\"\n", "numbers.standard"),
        ("[microsoft]\ndefault_offer = \"hello\"\n", "microsoft.default_offer"),
        ("[microsoft]\nencryption = \"maybe\"\n", "microsoft.encryption"),
        ("ms_domain = [\"x\"]\n", "ms_domain"),
        ("max_dialogs = 0\n", "max_dialogs"),
        ("[[peer]]\nname = \"a\"\naddress = \"192.0.2.1\"\ndialect = \"ms\"\n[[peer]]\nname = \"a\"\naddress = \"192.0.2.2\"\ndialect = \"ms\"\n", "peer[1].name"),
    ] {
        let e = match Normaliser::from_toml(table) {
            Ok(_) => panic!("accepted: {table}"),
            Err(e) => e,
        };
        assert_eq!(e.field.as_deref().unwrap_or(""), field, "{table}: {e}");
    }
}

#[test]
fn a_trusted_microsoft_pool_is_microsoft_without_any_sign_on_the_message() {
    let n =
        Normaliser::from_toml(&format!("ms_trusted_pools = [\"lync-edge\"]\n{CONFIG}")).unwrap();
    let options = b"OPTIONS sip:gw@example.net SIP/2.0\r\nVia: SIP/2.0/TLS 203.0.113.7:5061;branch=z9hG4bK-o1\r\nFrom: <sip:edge@lync.example.com>;tag=1\r\nTo: <sip:gw@example.net>\r\nCall-ID: opt-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    let mut plain = Bench::new("203.0.113.7:5061".parse().unwrap());
    plain.request(&n, options).unwrap();
    assert_eq!(scratch_text(&plain, PEER_DIALECT_KEY), "standard");
    let mut pooled = Bench::new("203.0.113.7:5061".parse().unwrap());
    pooled.trusted_pool = "lync-edge".into();
    pooled.explain = true;
    let out = pooled.request(&n, options).unwrap();
    assert_eq!(scratch_text(&pooled, PEER_DIALECT_KEY), "ms");
    assert!(
        out.explanation
            .iter()
            .any(|l| l.contains("trusted pool lync-edge")),
        "{:?}",
        out.explanation
    );
}

#[test]
fn requests_outside_a_dialog_leave_nothing_in_the_dialog_table() {
    let n = normaliser("");
    let mut bench = Bench::new(LYNC_POOL.parse().unwrap());
    // An out-of-dialog MESSAGE with an epid on From (pager mode): nothing to remember.
    let msg = b"MESSAGE sip:carol@cucm.example.net SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.20:5061;branch=z9hG4bK-m1\r\nFrom: <sip:alice@lync.example.com>;tag=1;epid=0a1b2c3d4e\r\nTo: <sip:carol@cucm.example.net>\r\nCall-ID: pager-1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
    let out = bench.request(&n, msg).unwrap();
    assert!(!text(&out.message).contains("epid="));
    assert!(n.dialogs().is_empty());
    // An INVITE does.
    let mut b2 = Bench::new(LYNC_POOL.parse().unwrap());
    b2.request(&n, &fixture("lync2013-multipart-invite.sip"))
        .unwrap();
    assert_eq!(n.dialogs().len(), 1);
}
