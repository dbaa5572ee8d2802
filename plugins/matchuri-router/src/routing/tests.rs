//! Behaviour tests: config in, decision and explanation out.

use crate::routing::*;

const POOL: &str = "pool01.contoso.com";

fn config(toml: &str) -> Config {
    Config::from_toml(toml).unwrap_or_else(|e| panic!("config refused: {e}\n{toml}"))
}

fn problem(toml: &str) -> ConfigProblem {
    match Config::from_toml(toml) {
        Ok(_) => panic!("config accepted:\n{toml}"),
        Err(e) => e,
    }
}

fn tls_route(name: &str, match_uri: &str, dest: &str) -> String {
    format!(
        "[[route]]\nname = \"{name}\"\nmatch_uri = \"{match_uri}\"\ntransport = \"tls\"\ndestination = \"{dest}\"\nport = 5061\n"
    )
}

struct Req {
    uri: &'static str,
    source: &'static str,
    transport: &'static str,
    in_dialog: bool,
    has_route: bool,
}

fn req(uri: &'static str) -> Req {
    Req {
        uri,
        source: "192.0.2.7:5061",
        transport: "tls",
        in_dialog: false,
        has_route: false,
    }
}

fn run_with(c: &Config, r: &Req, dir: &dyn Directory) -> (Decision, Vec<String>) {
    let facts = RequestFacts {
        request_uri: r.uri,
        source: r.source.parse().unwrap(),
        transport: r.transport,
        in_dialog: r.in_dialog,
        has_route: r.has_route,
    };
    let mut lines = Vec::new();
    let with = decide(c, &facts, dir, Some(&mut lines));
    let without = decide(c, &facts, dir, None);
    assert_eq!(with, without, "the explanation changed the decision");
    (with, lines)
}

fn run(c: &Config, r: &Req) -> (Decision, Vec<String>) {
    run_with(c, r, &NoDirectory)
}

fn hop(c: &Config, uri: &'static str) -> NextHop {
    match run(c, &req(uri)) {
        (Decision::Route(h), _) => h,
        (other, lines) => panic!(
            "expected a route for {uri}, got {other:?}\n{}",
            lines.join("\n")
        ),
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    &headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
        .1
}

// ---- collections --------------------------------------------------------------------------------

fn pool_config(merge_global: bool) -> Config {
    config(&format!(
        "registrar_pool = \"{POOL}\"\n\
         [[collection]]\nidentity = \"service:Registrar:{POOL}\"\nmerge_global = {merge_global}\n\
         {}collection = \"service:Registrar:{POOL}\"\n\
         {}{}",
        tls_route("pool-fabrikam", "fabrikam.com", "edge-pool.contoso.com"),
        tls_route("global-fabrikam", "fabrikam.com", "edge-global.contoso.com"),
        tls_route("global-litware", "litware.com", "edge-global.contoso.com"),
    ))
}

#[test]
fn pool_collection_beats_global() {
    let c = pool_config(false);
    let h = hop(&c, "sip:bob@fabrikam.com");
    assert_eq!(h.next_hop, "sip:edge-pool.contoso.com:5061;transport=tls");
    assert_eq!(
        h.matched_by,
        format!("route pool-fabrikam in service:Registrar:{POOL}")
    );
    // Without merge_global, global is not consulted at all.
    let (d, lines) = run(&c, &req("sip:bob@litware.com"));
    assert!(matches!(d, Decision::Reply { status: 404, .. }), "{d:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("global routes are not consulted")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("global-litware")),
        "{lines:#?}"
    );
}

#[test]
fn pool_collection_applies_only_to_its_pool() {
    let c = config(&format!(
        "registrar_pool = \"pool02.contoso.com\"\n\
         [[collection]]\nidentity = \"service:Registrar:{POOL}\"\n\
         {}collection = \"service:Registrar:{POOL}\"\n{}",
        tls_route("pool-fabrikam", "fabrikam.com", "edge-pool.contoso.com"),
        tls_route("global-fabrikam", "fabrikam.com", "edge-global.contoso.com"),
    ));
    let (d, lines) = run(&c, &req("sip:bob@fabrikam.com"));
    let Decision::Route(h) = d else {
        panic!("{d:?}")
    };
    assert_eq!(h.matched_by, "route global-fabrikam in global");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("no collection service:Registrar:pool02.contoso.com")),
        "{lines:#?}"
    );
}

#[test]
fn merge_global_falls_back_only_without_a_pool_match() {
    let c = pool_config(true);
    // The pool's own route still wins where it matches.
    assert_eq!(
        hop(&c, "sip:bob@fabrikam.com").matched_by,
        format!("route pool-fabrikam in service:Registrar:{POOL}")
    );
    // Global is consulted when the pool collection has no match.
    let (d, lines) = run(&c, &req("sip:bob@litware.com"));
    let Decision::Route(h) = d else {
        panic!("{d:?}")
    };
    assert_eq!(h.matched_by, "route global-litware in global");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("merge_global = true: consulting global")),
        "{lines:#?}"
    );
}

// ---- MatchUri ------------------------------------------------------------------------------------

#[test]
fn wildcard_does_not_match_the_parent_domain() {
    let c = config(&tls_route("subs", "*.contoso.com", "gw.contoso.com"));
    assert_eq!(
        hop(&c, "sip:bob@a.contoso.com").matched_by,
        "route subs in global"
    );
    assert_eq!(
        hop(&c, "sip:bob@A.B.CONTOSO.com").matched_by,
        "route subs in global"
    );
    let (d, lines) = run(&c, &req("sip:bob@contoso.com"));
    assert!(matches!(d, Decision::Reply { .. }), "{d:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("host contoso.com is the parent domain")),
        "{lines:#?}"
    );
}

#[test]
fn parent_domain_route_matches_case_insensitively() {
    let c = config(&format!(
        "{}{}",
        tls_route("parent", "Contoso.COM", "parent.contoso.com"),
        tls_route("subs", "*.contoso.com", "subs.contoso.com")
    ));
    assert_eq!(
        hop(&c, "sip:bob@CONTOSO.com").matched_by,
        "route parent in global"
    );
    assert_eq!(
        hop(&c, "sip:bob@x.contoso.com").matched_by,
        "route subs in global"
    );
}

#[test]
fn most_specific_route_wins() {
    let c = config(&format!(
        "{}{}{}",
        tls_route("short", "*.contoso.com", "short.contoso.com"),
        tls_route("long", "*.emea.contoso.com", "long.contoso.com"),
        tls_route("exact", "lon.emea.contoso.com", "exact.contoso.com"),
    ));
    assert_eq!(
        hop(&c, "sip:a@lon.emea.contoso.com").matched_by,
        "route exact in global"
    );
    assert_eq!(
        hop(&c, "sip:a@par.emea.contoso.com").matched_by,
        "route long in global"
    );
    assert_eq!(
        hop(&c, "sip:a@us.contoso.com").matched_by,
        "route short in global"
    );
}

#[test]
fn phone_only_routes() {
    // Declared after the other route, so only specificity can make it win.
    let c = config(&format!(
        "{}{}match_only_phone_uri = true\n",
        tls_route("people", "contoso.com", "edge.contoso.com"),
        tls_route("phones", "contoso.com", "gw.contoso.com"),
    ));
    // For a phone URI, the phone-only route is more specific.
    assert_eq!(
        hop(&c, "sip:+15551234@contoso.com;user=phone").matched_by,
        "route phones in global"
    );
    // Without user=phone, only the other route can match.
    let (d, lines) = run(&c, &req("sip:bob@contoso.com"));
    let Decision::Route(h) = d else {
        panic!("{d:?}")
    };
    assert_eq!(h.matched_by, "route people in global");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route phones") && l.contains("no user=phone")),
        "{lines:#?}"
    );

    let only = config(&format!(
        "{}match_only_phone_uri = true\n",
        tls_route("phones", "contoso.com", "gw.contoso.com")
    ));
    assert!(matches!(
        run(&only, &req("sip:bob@contoso.com")).0,
        Decision::Reply { .. }
    ));
}

#[test]
fn disabled_route_is_skipped() {
    let c = config(&format!(
        "{}enabled = false\n{}",
        tls_route("exact", "a.contoso.com", "exact.contoso.com"),
        tls_route("subs", "*.contoso.com", "subs.contoso.com"),
    ));
    let (d, lines) = run(&c, &req("sip:bob@a.contoso.com"));
    let Decision::Route(h) = d else {
        panic!("{d:?}")
    };
    assert_eq!(h.matched_by, "route subs in global");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route exact (a.contoso.com): skipped, disabled")),
        "{lines:#?}"
    );
}

#[test]
fn route_next_hop_tcp_and_certificate() {
    let c = config(
        "[[route]]\nname = \"v6\"\nmatch_uri = \"b.com\"\ntransport = \"tcp\"\ndestination = \"2001:db8::5\"\nport = 5060\n\
         [[route]]\nname = \"v4\"\nmatch_uri = \"a.com\"\ntransport = \"tcp\"\ndestination = \"10.0.0.5\"\nport = 5060\n",
    );
    let h = hop(&c, "sip:bob@a.com");
    assert_eq!(h.next_hop, "sip:10.0.0.5:5060;transport=tcp");
    assert_eq!(h.transport, Transport::Tcp);
    assert_eq!(h.tls_certificate, None);
    assert_eq!(h.sticky_key, "192.0.2.7");
    assert_eq!(h.mark_down, std::time::Duration::from_secs(600));
    assert_eq!(h.request_uri, "sip:bob@a.com");
    assert_eq!(
        hop(&c, "sip:bob@b.com").next_hop,
        "sip:[2001:db8::5]:5060;transport=tcp"
    );

    let tls = config(&tls_route("t", "a.com", "GW.a.com"));
    let h = hop(&tls, "sip:bob@a.com");
    assert_eq!(h.next_hop, "sip:gw.a.com:5061;transport=tls");
    assert_eq!(h.transport, Transport::Tls);
    assert_eq!(h.tls_certificate, Some(CertificateChoice::Default));
}

#[test]
fn replace_host_in_request_uri_keeps_user_and_params() {
    let c = config(&format!(
        "{}replace_host_in_request_uri = true\n",
        tls_route("cucm", "*.contoso.com", "cucm.contoso.com")
    ));
    let h = hop(
        &c,
        "sip:+15551234@voice.contoso.com;user=phone;transport=tls",
    );
    assert_eq!(
        h.request_uri,
        "sip:+15551234@cucm.contoso.com;user=phone;transport=tls"
    );
    assert_eq!(h.next_hop, "sip:cucm.contoso.com:5061;transport=tls");
    let tcp = config("[[route]]\nmatch_uri = \"a.com\"\ntransport = \"tcp\"\ndestination = \"2001:db8::5\"\nport = 5060\nreplace_host_in_request_uri = true\n");
    assert_eq!(
        hop(&tcp, "sips:bob@a.com:5070;x=1").request_uri,
        "sips:bob@[2001:db8::5];x=1"
    );
}

#[test]
fn tel_uri_has_no_host_for_routes() {
    let c = config(&tls_route("subs", "*.contoso.com", "gw.contoso.com"));
    let (d, lines) = run(&c, &req("tel:+15551234"));
    assert!(matches!(d, Decision::Reply { .. }));
    assert!(lines.iter().any(|l| l.contains("no host")), "{lines:#?}");
}

// ---- local users ------------------------------------------------------------------------------

#[test]
fn local_user_first_then_routes() {
    let c = config(&format!(
        "local_domains = [\"Contoso.com\"]\n{}",
        tls_route("catch-all", "contoso.com", "legacy-pbx.contoso.com")
    ));
    let dir = MemoryDirectory::new().with(
        "alice@contoso.com",
        "sip:pool01.contoso.com:5061;transport=tls",
    );
    let (d, lines) = run_with(&c, &req("sip:alice@CONTOSO.COM"), &dir);
    let Decision::Route(h) = d else {
        panic!("{d:?}")
    };
    assert_eq!(h.matched_by, "local user alice@contoso.com");
    assert_eq!(h.next_hop, "sip:pool01.contoso.com:5061;transport=tls");
    assert_eq!(h.transport, Transport::Tls);
    assert_eq!(h.request_uri, "sip:alice@CONTOSO.COM");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("local user alice@contoso.com: homed at")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("catch-all")),
        "routes were consulted: {lines:#?}"
    );

    // Unknown user: static routes apply as usual.
    let (d, lines) = run_with(&c, &req("sip:bob@contoso.com"), &dir);
    let Decision::Route(h) = d else {
        panic!("{d:?}")
    };
    assert_eq!(h.matched_by, "route catch-all in global");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("no local user bob@contoso.com")),
        "{lines:#?}"
    );

    // Not a local domain: the directory is not asked.
    let c2 = config(&format!(
        "local_domains = [\"fabrikam.com\"]\n{}",
        tls_route("catch-all", "contoso.com", "legacy-pbx.contoso.com")
    ));
    assert_eq!(
        hop_with(&c2, "sip:alice@contoso.com", &dir).matched_by,
        "route catch-all in global"
    );
}

fn hop_with(c: &Config, uri: &'static str, dir: &dyn Directory) -> NextHop {
    match run_with(c, &req(uri), dir) {
        (Decision::Route(h), _) => h,
        (other, lines) => panic!("{other:?}\n{}", lines.join("\n")),
    }
}

// ---- no match ----------------------------------------------------------------------------------

#[test]
fn no_match_replies_404_with_ms_diagnostics_and_warning() {
    let c = config(&format!(
        "registrar_pool = \"{POOL}\"\n{}",
        tls_route("a", "a.com", "gw.a.com")
    ));
    let (d, lines) = run(&c, &req("sip:bob@b.com"));
    let Decision::Reply {
        status,
        reason,
        headers,
    } = d
    else {
        panic!("{d:?}")
    };
    assert_eq!(status, 404);
    assert_eq!(reason, "Not Found");
    assert_eq!(
        header(&headers, "ms-diagnostics"),
        format!("1005;reason=\"Cannot route to destination domain\";source=\"{POOL}\"")
    );
    assert_eq!(
        header(&headers, "Warning"),
        format!("399 {POOL} \"Cannot route to destination domain\"")
    );
    assert!(lines.last().unwrap().contains("404"), "{lines:#?}");

    // Without registrar_pool, server_name names us.
    let c = config("server_name = \"sip1.contoso.com\"\n");
    let Decision::Reply { headers, .. } = run(&c, &req("sip:bob@b.com")).0 else {
        panic!()
    };
    assert!(header(&headers, "ms-diagnostics").ends_with("source=\"sip1.contoso.com\""));
    assert!(header(&headers, "Warning").starts_with("399 sip1.contoso.com "));
}

#[test]
fn on_no_match_continue() {
    let c = config("on_no_match = \"continue\"\n");
    let (d, lines) = run(&c, &req("sip:bob@b.com"));
    assert_eq!(d, Decision::Continue);
    assert!(
        lines.last().unwrap().contains("on_no_match = continue"),
        "{lines:#?}"
    );
}

// ---- in-dialog / Route ---------------------------------------------------------------------------

#[test]
fn in_dialog_and_route_header_continue() {
    let c = config(&tls_route("a", "a.com", "gw.a.com"));
    let mut r = req("sip:bob@a.com");
    r.in_dialog = true;
    let (d, lines) = run(&c, &r);
    assert_eq!(d, Decision::Continue);
    assert!(lines[0].contains("in-dialog"), "{lines:#?}");
    assert_eq!(lines.len(), 1);

    let mut r = req("sip:bob@a.com");
    r.has_route = true;
    let (d, lines) = run(&c, &r);
    assert_eq!(d, Decision::Continue);
    assert!(lines[0].contains("Route header"), "{lines:#?}");
}

// ---- rules -----------------------------------------------------------------------------------------

const CUCM_ROUTE: &str = "[[route]]\nname = \"to-cucm\"\nmatch_uri = \"cucm.contoso.com\"\ntransport = \"tls\"\ndestination = \"cucm.contoso.com\"\nport = 5061\n";

fn rule(name: &str, priority: u8, pattern: &str, replace: &str, extra: &str) -> String {
    format!(
        "[[rule]]\nname = \"{name}\"\npriority = {priority}\nmatch = '{pattern}'\nreplace = '{replace}'\ntarget = {{ uri = \"sip:{}.example.net\" }}\n{extra}",
        name.to_lowercase().replace(' ', "-")
    )
}

fn matched_rule(c: &Config, r: &Req) -> String {
    match run(c, r) {
        (Decision::Route(h), _) => h.matched_by,
        (d, lines) => panic!("{d:?}\n{}", lines.join("\n")),
    }
}

#[test]
fn the_brief_example_config_works() {
    let c = config(
        r#"
registrar_pool = "pool01.contoso.com"
consult = "routes_first"
local_domains = ["contoso.com"]
mark_down_minutes = 10
on_no_match = "reply"
max_regex_bytes = 65536

[[collection]]
identity = "service:Registrar:pool01.contoso.com"
merge_global = false

[[route]]
collection = "global"
name = "to-cucm"
match_uri = "*.contoso.com"
match_only_phone_uri = false
enabled = true
transport = "tls"
destination = "cucm.contoso.com"
port = 5061
replace_host_in_request_uri = false
use_default_certificate = true

[[trusted_pool]]
name = "expressway"
fqdn = "vcs.example.net"
transport = "tls"
port = 5061

[[rule]]
name = "E.164 to CUCM"
priority = 10
enabled = true
match = '^\+1(\d{10})@contoso\.com$'
match_full_uri = false
replace = '\1@cucm.contoso.com'
source_transports = ["tls", "tcp"]
source_peers = ["10.0.0.0/8", "192.0.2.7"]
target = { route = "to-cucm" }
transport = "tls"
"#,
    );
    // The pool collection has no routes and merge_global = false, so the rule decides.
    let (d, lines) = run(&c, &req("sip:+14255550123@contoso.com;user=phone"));
    let Decision::Route(h) = d else {
        panic!("{d:?}\n{lines:#?}")
    };
    assert_eq!(h.matched_by, "rule E.164 to CUCM (priority 10)");
    assert_eq!(h.request_uri, "sip:4255550123@cucm.contoso.com;user=phone");
    assert_eq!(h.next_hop, "sip:cucm.contoso.com:5061;transport=tls");
    assert_eq!(h.tls_certificate, Some(CertificateChoice::Default));
}

#[test]
fn backreference_replacement_and_params_kept() {
    let c = config(&format!(
        "{CUCM_ROUTE}[[rule]]\nname = \"E.164 to CUCM\"\npriority = 10\nmatch = '\\+1(\\d{{3}})(\\d{{7}})@contoso\\.com'\nreplace = '\\2-\\1$@cucm.contoso.com'\ntarget = {{ route = \"to-cucm\" }}\n"
    ));
    let h = hop(&c, "sips:+14255550123@contoso.com;user=phone");
    assert_eq!(
        h.request_uri,
        "sips:5550123-425$@cucm.contoso.com;user=phone"
    );
    assert_eq!(h.matched_by, "rule E.164 to CUCM (priority 10)");
}

#[test]
fn rule_target_route_applies_replace_host() {
    let c = config(&format!(
        "{CUCM_ROUTE}replace_host_in_request_uri = true\n{}",
        "[[rule]]\nname = \"r\"\npriority = 1\nmatch = '(.*)@old\\.com'\nreplace = '\\1@new.com'\ntarget = { route = \"to-cucm\" }\n"
    ));
    let h = hop(&c, "sip:bob@old.com;x=y");
    assert_eq!(h.request_uri, "sip:bob@cucm.contoso.com;x=y");
}

#[test]
fn empty_replace_keeps_the_request_uri() {
    // The alias of an IP-host URI is the user alone.
    let c = config(&rule("keep", 1, "bob", "", ""));
    let h = hop(&c, "sip:bob@10.9.9.9:5070;transport=udp");
    assert_eq!(h.request_uri, "sip:bob@10.9.9.9:5070;transport=udp");
    assert_eq!(h.next_hop, "sip:keep.example.net");
    assert_eq!(h.transport, Transport::Any);
    assert_eq!(h.tls_certificate, None);
}

#[test]
fn lower_priority_number_wins_even_if_declared_later() {
    let c = config(&format!(
        "{}{}",
        rule("Late but first", 50, r".*@contoso\.com", "", ""),
        rule("Early but second", 5, r".*@contoso\.com", "", ""),
    ));
    let (d, lines) = run(&c, &req("sip:bob@contoso.com"));
    let Decision::Route(h) = d else { panic!() };
    assert_eq!(h.matched_by, "rule Early but second (priority 5)");
    assert!(
        !lines.iter().any(|l| l.contains("Late but first")),
        "{lines:#?}"
    );
}

#[test]
fn disabled_rule_is_skipped() {
    let c = config(&format!(
        "{}enabled = false\n{}",
        rule("Off", 1, r".*", "", ""),
        rule("On", 2, r".*", "", ""),
    ));
    let (d, lines) = run(&c, &req("sip:bob@contoso.com"));
    let Decision::Route(h) = d else { panic!() };
    assert_eq!(h.matched_by, "rule On (priority 2)");
    assert!(
        lines
            .iter()
            .any(|l| l == "rule Off (priority 1): skipped, disabled"),
        "{lines:#?}"
    );
}

#[test]
fn alias_versus_full_uri_matching() {
    // The alias has no scheme and no parameters; the whole alias must match.
    let alias = config(&rule("Alias", 1, r"bob@contoso\.com", "", ""));
    assert_eq!(
        matched_rule(&alias, &req("sip:bob@contoso.com;transport=tls")),
        "rule Alias (priority 1)"
    );
    assert!(matches!(
        run(&alias, &req("sip:bobby@contoso.com")).0,
        Decision::Reply { .. }
    ));
    let scheme_in_alias = config(&rule("Scheme", 1, r"sip:bob@contoso\.com", "", ""));
    assert!(matches!(
        run(&scheme_in_alias, &req("sip:bob@contoso.com")).0,
        Decision::Reply { .. }
    ));

    // A full-URI rule sees scheme and parameters.
    let full = config(&rule(
        "Full",
        1,
        r"sip:bob@contoso\.com;transport=(tls|tcp)",
        r"sip:robert@contoso.com;transport=\1",
        "match_full_uri = true\n",
    ));
    let h = hop(&full, "sip:bob@contoso.com;transport=tcp");
    assert_eq!(h.request_uri, "sip:robert@contoso.com;transport=tcp");
    assert!(matches!(
        run(&full, &req("sip:bob@contoso.com")).0,
        Decision::Reply { .. }
    ));
}

#[test]
fn ip_host_is_stripped_from_the_alias() {
    let c = config(&rule("Number", 1, r"\+1(\d+)", r"\1@gw.example.net", ""));
    let (d, lines) = run(&c, &req("sip:+15551234@10.0.0.1;user=phone"));
    let Decision::Route(h) = d else {
        panic!("{d:?}\n{lines:#?}")
    };
    assert_eq!(h.request_uri, "sip:5551234@gw.example.net;user=phone");
    assert!(
        lines.iter().any(|l| l.contains("alias +15551234 matches")),
        "{lines:#?}"
    );
    // tel: URIs have the number as alias, and become sip: URIs.
    assert_eq!(
        hop(&c, "tel:+15551234").request_uri,
        "sip:5551234@gw.example.net"
    );
}

#[test]
fn source_transport_and_peer_filters() {
    let c = config(&format!(
        "{}source_transports = [\"tls\"]\n{}source_peers = [\"10.0.0.0/8\", \"2001:db8::/32\"]\n{}",
        rule("TLS only", 1, ".*", "", ""),
        rule("Inside", 2, ".*", "", ""),
        rule("Anyone", 3, ".*", "", ""),
    ));
    let mut r = req("sip:bob@contoso.com");
    r.transport = "TLS";
    r.source = "192.0.2.1:5061";
    assert_eq!(matched_rule(&c, &r), "rule TLS only (priority 1)");

    r.transport = "udp";
    r.source = "10.1.2.3:5060";
    let (d, lines) = run(&c, &r);
    let Decision::Route(h) = d else { panic!() };
    assert_eq!(h.matched_by, "rule Inside (priority 2)");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("source transport udp is not in source_transports [tls]")),
        "{lines:#?}"
    );

    r.source = "[2001:db8::7]:5060";
    assert_eq!(matched_rule(&c, &r), "rule Inside (priority 2)");

    r.source = "198.51.100.1:5060";
    let (d, lines) = run(&c, &r);
    let Decision::Route(h) = d else { panic!() };
    assert_eq!(h.matched_by, "rule Anyone (priority 3)");
    assert!(
        lines.iter().any(|l| l
            .contains("source 198.51.100.1 is not in source_peers [10.0.0.0/8, 2001:db8::/32]")),
        "{lines:#?}"
    );
}

#[test]
fn rule_targets_pool_and_uri() {
    let c = config(
        "[[trusted_pool]]\nname = \"expressway\"\nfqdn = \"vcs.example.net\"\ntransport = \"tls\"\nport = 5061\n\
         [[rule]]\nname = \"video\"\npriority = 1\nmatch = '.*@video\\.contoso\\.com'\ntarget = { trusted_pool = \"expressway\" }\n\
         [[rule]]\nname = \"lab\"\npriority = 2\nmatch = '.*@lab\\.contoso\\.com'\ntarget = { uri = \"sip:10.1.1.1:5080\" }\ntransport = \"udp\"\n",
    );
    let h = hop(&c, "sip:room@video.contoso.com");
    assert_eq!(h.next_hop, "sip:vcs.example.net:5061;transport=tls");
    assert_eq!(h.transport, Transport::Tls);
    assert_eq!(h.tls_certificate, Some(CertificateChoice::Default));
    let h = hop(&c, "sip:x@lab.contoso.com");
    assert_eq!(h.next_hop, "sip:10.1.1.1:5080");
    assert_eq!(h.transport, Transport::Udp);
}

#[test]
fn rule_whose_target_route_is_disabled_is_skipped() {
    let c = config(&format!(
        "{CUCM_ROUTE}enabled = false\n\
         [[rule]]\nname = \"to disabled\"\npriority = 1\nmatch = '.*'\ntarget = {{ route = \"to-cucm\" }}\n{}",
        rule("Fallback", 2, ".*", "", "")
    ));
    let (d, lines) = run(&c, &req("sip:bob@contoso.com"));
    let Decision::Route(h) = d else { panic!() };
    assert_eq!(h.matched_by, "rule Fallback (priority 2)");
    assert!(
        lines.iter().any(
            |l| l.contains("rule to disabled (priority 1): its target route to-cucm")
                && l.contains("disabled")
        ),
        "{lines:#?}"
    );
}

#[test]
fn replacement_that_is_not_a_uri_skips_the_rule() {
    let c = config(&format!(
        "{}{}",
        rule("Broken", 1, r"sip:(.*)", r"\1", "match_full_uri = true\n"),
        rule("Next", 2, ".*", "", "")
    ));
    let (d, lines) = run(&c, &req("sip:bob@contoso.com"));
    let Decision::Route(h) = d else { panic!() };
    assert_eq!(h.matched_by, "rule Next (priority 2)");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("is not a sip:, sips: or tel: URI; rule skipped")),
        "{lines:#?}"
    );
}

#[test]
fn routes_first_versus_rules_first() {
    let body = format!(
        "{}{}",
        tls_route("route-a", "contoso.com", "route.contoso.com"),
        rule("Rule A", 1, r".*@contoso\.com", "", "")
    );
    let routes_first = config(&body);
    let (d, lines) = run(&routes_first, &req("sip:bob@contoso.com"));
    let Decision::Route(h) = d else { panic!() };
    assert_eq!(h.matched_by, "route route-a in global");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("consult = routes_first: static routes first")),
        "{lines:#?}"
    );

    let rules_first = config(&format!("consult = \"rules_first\"\n{body}"));
    let (d, lines) = run(&rules_first, &req("sip:bob@contoso.com"));
    let Decision::Route(h) = d else { panic!() };
    assert_eq!(h.matched_by, "rule Rule A (priority 1)");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("consult = rules_first: regex rules first")),
        "{lines:#?}"
    );

    // The second source is consulted when the first gives nothing.
    assert_eq!(
        matched_rule(&rules_first, &req("sip:bob@contoso.com")),
        "rule Rule A (priority 1)"
    );
    let only_route = config(&format!(
        "consult = \"rules_first\"\n{}{}",
        tls_route("route-a", "contoso.com", "route.contoso.com"),
        rule("Other", 1, r".*@other\.com", "", "")
    ));
    let (d, lines) = run(&only_route, &req("sip:bob@contoso.com"));
    let Decision::Route(h) = d else { panic!() };
    assert_eq!(h.matched_by, "route route-a in global");
    assert!(
        lines.iter().any(|l| l == "then static routes"),
        "{lines:#?}"
    );
}

// ---- rule config problems ------------------------------------------------------------------------

#[test]
fn invalid_regex_is_refused_naming_the_rule() {
    let e = problem("[[rule]]\nname = \"Broken one\"\npriority = 1\nmatch = '(unclosed'\ntarget = { uri = \"sip:a.com\" }\n");
    assert_eq!(e.field, "rule[0].match");
    assert!(e.message.contains("rule \"Broken one\""), "{e}");
    assert!(
        e.message.contains("unclosed group"),
        "the regex crate's error is missing: {e}"
    );
}

#[test]
fn regex_over_the_size_limit_is_refused() {
    let r = "[[rule]]\nname = \"Huge\"\npriority = 1\nmatch = '\\w{50}'\ntarget = { uri = \"sip:a.com\" }\n";
    let e = problem(&format!("max_regex_bytes = 2048\n{r}"));
    assert_eq!(e.field, "rule[0].match");
    assert!(
        e.message.contains("max_regex_bytes") && e.message.contains("Huge"),
        "{e}"
    );
    // The default limit takes ordinary rules, and a raised one takes this one.
    config(&rule(
        "Normal",
        1,
        r"^\+1(\d{10})@contoso\.com$",
        r"\1@cucm.contoso.com",
        "",
    ));
    config(&format!("max_regex_bytes = 10000000\n{r}"));
}

#[test]
fn priorities_are_checked() {
    let e = problem(&rule("Zero", 0, ".*", "", ""));
    assert_eq!(e.field, "rule[0].priority");
    let e = problem(&rule("Big", 201, ".*", "", ""));
    assert_eq!(e.field, "rule[0].priority");
    let e = problem(&format!(
        "{}{}",
        rule("A", 7, ".*", "", ""),
        rule("B", 7, ".*", "", "")
    ));
    assert_eq!(e.field, "rule[1].priority");
    assert!(e.message.contains("\"A\""), "{e}");
    config(&format!(
        "{}{}",
        rule("A", 1, ".*", "", ""),
        rule("B", 200, ".*", "", "")
    ));
}

#[test]
fn targets_are_checked() {
    let base = "[[rule]]\nname = \"T\"\npriority = 1\nmatch = '.*'\n";
    let e = problem(&format!("{base}target = {{ route = \"nowhere\" }}\n"));
    assert_eq!(e.field, "rule[0].target.route");
    let e = problem(&format!(
        "{base}target = {{ trusted_pool = \"nowhere\" }}\n"
    ));
    assert_eq!(e.field, "rule[0].target.trusted_pool");
    let e = problem(&format!("{base}target = {{}}\n"));
    assert_eq!(e.field, "rule[0].target");
    let e = problem(&format!(
        "{base}target = {{ uri = \"sip:a.com\", route = \"x\" }}\n"
    ));
    assert_eq!(e.field, "rule[0].target");
    assert!(e.message.contains("exactly one"), "{e}");
    let e = problem(&format!("{base}target = {{ uri = \"http://a.com\" }}\n"));
    assert_eq!(e.field, "rule[0].target.uri");
    let e = problem(&format!(
        "{CUCM_ROUTE}{base}target = {{ route = \"to-cucm\" }}\ntransport = \"udp\"\n"
    ));
    assert_eq!(e.field, "rule[0].transport");
    config(&format!(
        "{CUCM_ROUTE}{base}target = {{ route = \"to-cucm\" }}\ntransport = \"tls\"\n"
    ));
}

#[test]
fn route_names_used_in_two_collections_are_ambiguous_targets() {
    let e = problem(&format!(
        "[[collection]]\nidentity = \"service:Registrar:{POOL}\"\n{}{}collection = \"service:Registrar:{POOL}\"\n\
         [[rule]]\nname = \"T\"\npriority = 1\nmatch = '.*'\ntarget = {{ route = \"edge\" }}\n",
        tls_route("edge", "a.com", "gw.a.com"),
        tls_route("edge", "a.com", "gw.a.com"),
    ));
    assert_eq!(e.field, "rule[0].target.route");
    assert!(e.message.contains("distinct names"), "{e}");
}

#[test]
fn backreference_beyond_group_count_is_refused() {
    let e = problem(&rule("Refs", 1, r"(\d+)@(.*)", r"\3", ""));
    assert_eq!(e.field, "rule[0].replace");
    assert!(
        e.message.contains("Refs") && e.message.contains("\\3"),
        "{e}"
    );
    config(&rule("Refs", 1, r"(\d+)@(.*)", r"\2\1\0", ""));
}

#[test]
fn bad_cidr_is_refused() {
    for bad in ["10.0.0.0/40", "not-an-ip", "10.0.0.1/8", "2001:db8::/200"] {
        let e = problem(&rule(
            "Peers",
            1,
            ".*",
            "",
            &format!("source_peers = [\"192.0.2.1\", \"{bad}\"]\n"),
        ));
        assert_eq!(e.field, "rule[0].source_peers[1]", "{bad}: {e}");
        assert!(e.message.contains("Peers"), "{e}");
    }
    let e = problem(&rule("Tr", 1, ".*", "", "source_transports = [\"sctp\"]\n"));
    assert_eq!(e.field, "rule[0].source_transports", "{e}");
}

// ---- explanations -----------------------------------------------------------------------------------

#[test]
fn explanation_mentions_every_route_and_rule_considered() {
    let c = config(&format!(
        "{}{}enabled = false\n{}{}{}enabled = false\n{}",
        tls_route("to-cucm", "*.contoso.com", "cucm.contoso.com"),
        tls_route("off", "example.org", "gw.example.org"),
        tls_route("fabrikam", "fabrikam.com", "gw.fabrikam.com"),
        rule("Numbers", 10, r"\+\d+", "", ""),
        rule("Disabled", 20, ".*", "", ""),
        rule(
            "Example",
            30,
            r".*@sip\.example\.org",
            r"bob@example.net",
            ""
        ),
    ));
    let (d, lines) = run(&c, &req("sip:alice@sip.example.org"));
    let Decision::Route(h) = d else {
        panic!("{d:?}")
    };
    assert_eq!(h.matched_by, "rule Example (priority 30)");
    let text = lines.join("\n");
    for expected in [
        "collection global applies (no registrar_pool configured)",
        "route to-cucm (*.contoso.com): host sip.example.org does not end in .contoso.com",
        "route off (example.org): skipped, disabled",
        "route fabrikam (fabrikam.com): host sip.example.org is not fabrikam.com",
        "no static route matched host sip.example.org",
        "rule Numbers (priority 10): alias alice@sip.example.org does not match \\+\\d+",
        "rule Disabled (priority 20): skipped, disabled",
        "rule Example (priority 30): alias alice@sip.example.org matches",
        "-> target uri sip:example.example.net",
        "sticky key 192.0.2.7",
        "next hop sip:example.example.net",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(lines.last().unwrap().starts_with("next hop"), "{text}");
}

#[test]
fn no_explanation_when_not_asked() {
    let c = config(&tls_route("a", "a.com", "gw.a.com"));
    let facts = RequestFacts {
        request_uri: "sip:bob@a.com",
        source: "192.0.2.7:5061".parse().unwrap(),
        transport: "tls",
        in_dialog: false,
        has_route: false,
    };
    assert!(matches!(
        decide(&c, &facts, &NoDirectory, None),
        Decision::Route(_)
    ));
}

#[test]
fn config_failure_diagnostics_names_this_host() {
    let c = config(&format!("registrar_pool = \"{POOL}\"\n"));
    let (status, h) = c.failure_diagnostics(FailureKind::Unresolvable, "cucm.contoso.com");
    assert_eq!(status, 504);
    assert_eq!(
        header(&h, "ms-diagnostics"),
        format!("1008;reason=\"Unable to resolve DNS SRV record\";fqdn=\"cucm.contoso.com\";source=\"{POOL}\"")
    );
    assert_eq!(
        header(&h, "Warning"),
        format!("399 {POOL} \"Unable to resolve DNS SRV record: cucm.contoso.com\"")
    );
}

#[test]
fn config_can_be_shared_between_threads() {
    fn check<T: Send + Sync>() {}
    check::<Config>();
}

#[test]
fn non_sip_request_uri_only_meets_full_uri_rules() {
    let c = config(&format!(
        "{}{}",
        rule("Alias", 1, ".*", "", ""),
        rule("Full", 2, "urn:service:sos", "", "match_full_uri = true\n")
    ));
    let (d, lines) = run(&c, &req("urn:service:sos"));
    let Decision::Route(h) = d else {
        panic!("{d:?}")
    };
    assert_eq!(h.matched_by, "rule Full (priority 2)");
    assert_eq!(h.request_uri, "urn:service:sos");
    assert!(
        lines
            .iter()
            .any(|l| l
                .contains("rule Alias (priority 1): the Request-URI is not a sip:/sips:/tel: URI")),
        "{lines:#?}"
    );
}
