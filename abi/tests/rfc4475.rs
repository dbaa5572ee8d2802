//! RFC 4475 torture tests: every manifest row gets its expected outcome.

use sip_interop_abi::sip::{
    header_name::kind, proxy_disposition, Disposition, Host, Message, Method, Uri,
};
use std::collections::HashMap;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/corpora/rfc4475");
    assert!(
        dir.join("manifest.tsv").is_file(),
        "{} has no manifest.tsv",
        dir.display()
    );
    dir
}

struct Row {
    file: String,
    category: String,
    parse: String,
    bytes: usize,
}

fn manifest() -> Vec<Row> {
    let text = std::fs::read_to_string(corpus_dir().join("manifest.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(
        &header[..6],
        [
            "file",
            "rfc4475_section",
            "title",
            "category",
            "parse_expectation",
            "expected_behaviour_per_rfc"
        ]
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Row {
                file: c[0].into(),
                category: c[3].into(),
                parse: c[4].into(),
                bytes: c[6].parse().unwrap(),
            }
        })
        .collect()
}

fn expected() -> HashMap<String, String> {
    let text = std::fs::read_to_string(corpus_dir().join("expected-disposition.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (f, e) = l.split_once('\t').unwrap();
            (f.to_string(), e.trim().to_string())
        })
        .collect()
}

fn read(file: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(file)).unwrap()
}

fn outcome(d: &Disposition) -> String {
    match d {
        Disposition::Forward => "forward".into(),
        Disposition::Drop { .. } => "drop".into(),
        Disposition::Reject { status, .. } => status.to_string(),
    }
}

#[test]
fn every_manifest_row_has_the_expected_disposition() {
    let rows = manifest();
    let exp = expected();
    assert_eq!(rows.len(), 50);
    assert_eq!(exp.len(), rows.len());
    let mut failures = Vec::new();
    for r in &rows {
        let bytes = read(&r.file);
        assert_eq!(bytes.len(), r.bytes, "{}: not a byte-exact copy", r.file);
        let parsed = Message::parse(&bytes);
        if r.parse == "accept" || r.parse == "accept-parse" {
            assert!(parsed.is_ok(), "{}: must parse: {:?}", r.file, parsed.err());
        }
        if r.category == "valid" {
            let m = parsed.as_ref().unwrap();
            assert_eq!(
                m.validate(),
                Ok(()),
                "{}: valid message must validate",
                r.file
            );
        }
        let want = exp
            .get(&r.file)
            .unwrap_or_else(|| panic!("{} missing in expected-disposition.tsv", r.file));
        let got = proxy_disposition(&bytes);
        if &outcome(&got) != want {
            failures.push(format!("{}: expected {want}, got {got:?}", r.file));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn msg(file: &str) -> (Vec<u8>, ()) {
    (read(file), ())
}

#[test]
fn escnull_is_not_truncated() {
    let (b, _) = msg("escnull.dat");
    let m = Message::parse(&b).unwrap();
    let to = m.to().unwrap().unwrap();
    assert_eq!(to.uri_str, "sip:null-%00-null@example.com");
    let users: Vec<_> = m
        .contacts()
        .map(|c| c.unwrap().uri().unwrap().as_sip().unwrap().user.unwrap())
        .collect();
    assert_eq!(users, ["%00", "%00%00"]);
    assert_eq!(m.content_length().unwrap(), Ok(0));
}

#[test]
fn semiuri_user_part() {
    let (b, _) = msg("semiuri.dat");
    let m = Message::parse(&b).unwrap();
    match m.request_uri().unwrap().unwrap() {
        Uri::Sip(u) => {
            assert_eq!(u.user, Some("user;par=u%40example.net"));
            assert_eq!(u.host, Host::Domain("example.com"));
            assert!(u.params.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dblreq_ignores_trailing_octets() {
    let (b, _) = msg("dblreq.dat");
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.method(), Some(Method::Register));
    assert!(m.body().is_empty());
    assert!(m.message_len() < b.len());
    assert!(b[m.message_len()..].starts_with(b"\r\nINVITE"));
    assert_eq!(m.call_id(), Some("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
    assert_eq!(m.validate(), Ok(()));
}

#[test]
fn mpart01_body_framed_by_content_length() {
    let (b, _) = msg("mpart01.dat");
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.body().len(), 553);
    assert!(m.body().contains(&0));
    assert_eq!(m.body_span().end as usize, b.len());
    assert_eq!(m.top_via().unwrap().unwrap().rport(), Some(None));
}

#[test]
fn reasons() {
    let (b, _) = msg("unreason.dat");
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.status(), Some(200));
    let r = std::str::from_utf8(m.reason().unwrap()).unwrap();
    assert!(r.starts_with("= 2**3 * 5**2 "));
    let (b, _) = msg("noreason.dat");
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.status(), Some(100));
    assert_eq!(m.reason(), Some(&b""[..]));
}

#[test]
fn wsinv_folding_and_spaced_names() {
    let (b, _) = msg("wsinv.dat");
    let m = Message::parse(&b).unwrap();
    let to = m.to().unwrap().unwrap();
    assert_eq!(to.uri_str, "sip:vivekg@chair-dnrc.example.com");
    assert_eq!(to.tag(), Some("1918181833n"));
    let from = m.from().unwrap().unwrap();
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(from.display_name, Some("J Rosenberg \\\\\\\""));
    assert_eq!(m.max_forwards().unwrap(), Ok(68));
    assert_eq!(m.content_length().unwrap(), Ok(150));
    let cseq = m.cseq().unwrap().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, Method::Invite));
    let vias: Vec<_> = m.vias().map(|v| v.unwrap()).collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(vias[2].host_text, "192.168.255.111");
    assert_eq!(
        m.header("newfangledheader"),
        Some("newfangled value\r\n continued newfangled value")
    );
    assert_eq!(m.header("Subject"), Some(""));
    let c = m.contacts().next().unwrap().unwrap();
    assert_eq!(c.params.get("newparam"), Some(Some("newvalue")));
    assert_eq!(c.params.get("q"), Some(Some("0.33")));
    assert_eq!(m.routes().count(), 1);
    assert!(m.sdp().unwrap().is_ok());
}

#[test]
fn intmeth_extension_method() {
    let (b, _) = msg("intmeth.dat");
    let m = Message::parse(&b).unwrap();
    let meth = "!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!(m.method(), Some(Method::Extension(meth)));
    assert_eq!(m.cseq().unwrap().unwrap().method, Method::Extension(meth));
    assert_eq!(m.from().unwrap().unwrap().tag(), Some("_token~1'+`*%!-."));
}

#[test]
fn transports_unknown_via_transports() {
    let (b, _) = msg("transports.dat");
    let m = Message::parse(&b).unwrap();
    let t: Vec<_> = m.vias().map(|v| v.unwrap().transport).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

#[test]
fn lwsdisp_display_name() {
    let (b, _) = msg("lwsdisp.dat");
    let m = Message::parse(&b).unwrap();
    let f = m.from().unwrap().unwrap();
    assert_eq!(f.display_name, Some("caller"));
    assert_eq!(f.uri_str, "sip:caller@example.com");
}

#[test]
fn bext01_lists_proxy_require_tags() {
    let b = read("bext01.dat");
    match proxy_disposition(&b) {
        Disposition::Reject {
            status: 420,
            unsupported,
            ..
        } => {
            assert_eq!(
                unsupported,
                ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn longreq_many_vias_and_compact_forms() {
    let b = read("longreq.dat");
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.vias().count(), 34);
    assert_eq!(m.header_values(kind::VIA).count(), 34);
    assert!(m
        .from()
        .unwrap()
        .unwrap()
        .tag()
        .unwrap()
        .starts_with("1298298"));
}

#[test]
fn insuf_names_the_missing_header() {
    match proxy_disposition(&read("insuf.dat")) {
        Disposition::Reject {
            status: 400,
            reason,
            ..
        } => {
            assert!(
                reason.contains("To") || reason.contains("From") || reason.contains("Call-ID"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}
