//! SIP Interop Host embedded in a real Kamailio 5.6 (the shipped scripts/kamailio glue, KEMI Lua, our
//! Lua module), driven by SIPp on loopback: calls routed by the MatchURI router inside Kamailio, a
//! fork, a reply decided by a plugin, MS-SIP normalisation both ways, a reload while calls run, a
//! panicking plugin, and a plugin with its own Lua 5.4 beside Kamailio's Lua 5.1. Kamailio runs two
//! UDP workers, each with its own host; every process is stopped by its PID.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::kamailio::Kamailio;
use support::sipp::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(60);

fn chain_entry(name: &str, plugin_file: &str, config: &str) -> String {
    format!(
        "[[chain]]\nname = \"{name}\"\nplugin = \"{}\"\n[chain.config]\n{config}\n",
        plugin(plugin_file).display()
    )
}

fn host_toml(chain: &str) -> String {
    format!("[logging]\nlevel = \"warn\"\n[reload]\nwatch_interval_ms = 200\n\n{chain}")
}

/// The MatchURI router sending calls to `service` to the callee's port (the caller dials port 9,
/// where nothing listens: only the router's next hop reaches the callee).
fn router_to(port: u16) -> String {
    chain_entry(
        "router",
        "matchuri_router",
        &format!(
            "[[chain.config.rule]]\nname = \"service to the callee\"\npriority = 10\nmatch = \"service\"\ntarget = {{ uri = \"sip:127.0.0.1:{port}\" }}\n"
        ),
    )
}

fn tag(value: &str) -> String {
    chain_entry(
        "tag",
        "add_header",
        &format!(
            "methods = [\"INVITE\"]\nheaders = [ {{ name = \"X-Interop\", value = \"{value}\" }} ]"
        ),
    )
}

/// A SIPp callee for `calls` calls that logs what it receives to `<name>-messages.log`.
fn callee(dir: &Path, scenario: &str, port: u16, calls: u32, name: &str) -> Proc {
    sipp(
        dir,
        &format!("UAS {name} on {port}"),
        &[
            "-sf".into(),
            scenarios().join(scenario).display().to_string(),
            "-i".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
            "-m".into(),
            calls.to_string(),
            "-timeout".into(),
            "50s".into(),
            "-trace_msg".into(),
            "-message_file".into(),
            dir.join(format!("{name}-messages.log"))
                .display()
                .to_string(),
        ],
    )
}

/// A SIPp caller placing `calls` calls at `rate` per second to `remote` through Kamailio.
fn caller(
    dir: &Path,
    k: &Kamailio,
    scenario: &str,
    remote: &str,
    calls: u32,
    rate: u32,
    service: &str,
) -> Proc {
    sipp(
        dir,
        "UAC",
        &[
            remote.into(),
            "-rsa".into(),
            format!("127.0.0.1:{}", k.port),
            "-sf".into(),
            scenarios().join(scenario).display().to_string(),
            "-s".into(),
            service.into(),
            "-i".into(),
            "127.0.0.1".into(),
            "-p".into(),
            free_port().to_string(),
            "-m".into(),
            calls.to_string(),
            "-r".into(),
            rate.to_string(),
            "-timeout".into(),
            "50s".into(),
        ],
    )
}

fn received(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}-messages.log"))).unwrap_or_default()
}

fn invites(log: &str) -> usize {
    log.lines().filter(|l| l.starts_with("INVITE ")).count()
}

fn ok(st: std::process::ExitStatus, what: &str, dir: &Path, k: &Kamailio) {
    assert!(
        st.success(),
        "{what} failed ({st}); kamailio log:\n{}\nfiles in {}",
        k.log(),
        dir.display()
    );
}

#[test]
fn calls_are_routed_by_the_matchuri_router_inside_kamailio() {
    let dir = temp_dir("kam-router");
    let port = free_port();
    let k = Kamailio::start(
        &dir,
        &host_toml(&format!("{}{}", tag("embedded"), router_to(port))),
    );
    let uas = callee(&dir, "uas-basic.xml", port, 5, "callee");
    std::thread::sleep(Duration::from_millis(200));
    let uac = caller(&dir, &k, "uac-basic.xml", "127.0.0.1:9", 5, 10, "service");
    ok(uac.wait(LIMIT), "caller", &dir, &k);
    ok(uas.wait(LIMIT), "callee", &dir, &k);
    let got = received(&dir, "callee");
    assert_eq!(invites(&got), 5, "{got}");
    // Edited by the chain: the add-header plugin's header arrived, applied by Kamailio's hdr.append.
    assert_eq!(got.matches("X-Interop: embedded").count(), 5, "{got}");
}

#[test]
fn a_plugin_forks_the_call_and_kamailio_runs_the_branches() {
    let dir = temp_dir("kam-fork");
    let (winner, loser) = (free_port(), free_port());
    let fork = chain_entry(
        "fork",
        "test_plugin_router",
        &format!("targets = [ {{ uri = \"sip:service@127.0.0.1:{winner}\" }}, {{ uri = \"sip:service@127.0.0.1:{loser}\" }} ]"),
    );
    let k = Kamailio::start(&dir, &host_toml(&fork));
    let w = callee(&dir, "uas-fork-winner.xml", winner, 1, "winner");
    let l = callee(&dir, "uas-fork-loser.xml", loser, 1, "loser");
    std::thread::sleep(Duration::from_millis(200));
    let uac = caller(&dir, &k, "uac-basic.xml", "127.0.0.1:9", 1, 1, "service");
    ok(uac.wait(LIMIT), "caller", &dir, &k);
    ok(w.wait(LIMIT), "winning branch", &dir, &k);
    // The loser saw the INVITE and then Kamailio's CANCEL when the winner answered.
    ok(l.wait(LIMIT), "losing branch (expects CANCEL)", &dir, &k);
    assert!(
        received(&dir, "loser").contains("CANCEL sip:service@127.0.0.1"),
        "{}",
        received(&dir, "loser")
    );
}

#[test]
fn a_reply_decided_by_a_plugin_is_sent_by_kamailio() {
    let dir = temp_dir("kam-reply");
    let reply = chain_entry("decider", "test_plugin_router", "respond = 486");
    let k = Kamailio::start(&dir, &host_toml(&reply));
    let answer = k.final_answer(&invite("kam-reply-1", ""));
    assert!(
        answer.starts_with("SIP/2.0 486 Decided By Plugin\r\n"),
        "{answer}"
    );
    assert_eq!(
        header_values(answer.as_bytes(), "X-Decided-By"),
        vec!["test-plugin-router"],
        "{answer}"
    );
}

#[test]
fn a_lync_invite_is_normalised_inside_kamailio_and_lyncs_answer_too() {
    let normaliser = |peers: &str| {
        chain_entry(
            "ms",
            "ms_sip_normaliser",
            &format!("{peers}\n[chain.config.numbers]\ncountry_code = \"1\""),
        )
    };
    // Lync caller -> standard callee, which refuses the call if anything Microsoft arrives.
    let dir = temp_dir("kam-ms-to-standard");
    let port = free_port();
    let k = Kamailio::start(&dir, &host_toml(&normaliser("")));
    let uas = callee(&dir, "uas-standard-checks.xml", port, 1, "standard");
    std::thread::sleep(Duration::from_millis(200));
    let remote = format!("127.0.0.1:{port}");
    let uac = caller(
        &dir,
        &k,
        "uac-lync-invite.xml",
        &remote,
        1,
        1,
        "+14085551234",
    );
    ok(uac.wait(LIMIT), "Lync-style caller", &dir, &k);
    ok(
        uas.wait(LIMIT),
        "standard callee checking for Microsoft leftovers",
        &dir,
        &k,
    );
    drop(k);

    // Cisco caller -> Lync callee: the INVITE in Lync's form, and Lync's answer normalised on its way
    // back (the response walk in another worker, with the request's facts carried by the transaction).
    let dir = temp_dir("kam-standard-to-ms");
    let port = free_port();
    let peer = format!(
        "[[chain.config.peer]]\nname = \"lync\"\naddress = \"127.0.0.1:{port}\"\ndialect = \"ms\""
    );
    let k = Kamailio::start(&dir, &host_toml(&normaliser(&peer)));
    let uas = callee(&dir, "uas-lync-checks.xml", port, 1, "lync");
    std::thread::sleep(Duration::from_millis(200));
    let remote = format!("127.0.0.1:{port}");
    let uac = caller(
        &dir,
        &k,
        "uac-standard-invite.xml",
        &remote,
        1,
        1,
        "4085551234",
    );
    ok(
        uac.wait(LIMIT),
        "Cisco-style caller checking Lync's answer",
        &dir,
        &k,
    );
    ok(
        uas.wait(LIMIT),
        "Lync callee checking what it needs",
        &dir,
        &k,
    );
}

#[test]
fn a_reload_while_calls_run_fails_no_call_and_reaches_every_worker() {
    let dir = temp_dir("kam-reload");
    let port = free_port();
    let k = Kamailio::start(
        &dir,
        &host_toml(&format!("{}{}", tag("before"), router_to(port))),
    );
    let calls = 120;
    let uas = callee(&dir, "uas-basic.xml", port, calls, "callee");
    std::thread::sleep(Duration::from_millis(200));
    let uac = caller(
        &dir,
        &k,
        "uac-basic.xml",
        "127.0.0.1:9",
        calls,
        15,
        "service",
    );
    let start = Instant::now();

    // 1: the config file changes (the header value): every worker's watcher reloads it.
    std::thread::sleep(Duration::from_secs(2));
    std::fs::write(
        &k.config,
        host_toml(&format!("{}{}", tag("after-file"), router_to(port))),
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    // 2: an operator's `kamcmd app_lua.reload`: each worker re-runs the script, which reloads its host.
    std::fs::write(
        &k.config,
        host_toml(&format!("{}{}", tag("after-rpc"), router_to(port))),
    )
    .unwrap();
    // (the file watcher would pick this up too; the RPC gets there first or at the same time)
    k.kamcmd(&["app_lua.reload"]);
    // 3: a broken config: refused, the running chain stays.
    std::thread::sleep(Duration::from_secs(2));
    std::fs::write(&k.config, "[[chain]]\nname = \"broken\"\nplugn = \"x\"\n").unwrap();

    ok(
        uac.wait(LIMIT),
        "caller (a failed call fails SIPp)",
        &dir,
        &k,
    );
    ok(uas.wait(LIMIT), "callee", &dir, &k);
    assert!(
        start.elapsed() > Duration::from_secs(6),
        "the reloads happened while calls ran"
    );
    let got = received(&dir, "callee");
    let (before, file, rpc) = (
        got.matches("X-Interop: before").count(),
        got.matches("X-Interop: after-file").count(),
        got.matches("X-Interop: after-rpc").count(),
    );
    assert_eq!(
        before + file + rpc,
        calls as usize,
        "every call carried one generation's header"
    );
    assert!(
        before > 0 && file > 0 && rpc > 0,
        "before {before}, after the file change {file}, after the RPC {rpc}"
    );
    // Once seen, an old value never comes back: each worker moved forward.
    let order: Vec<&str> = got
        .lines()
        .filter_map(|l| l.strip_prefix("X-Interop: "))
        .collect();
    let last_before = order.iter().rposition(|v| *v == "before").unwrap();
    let first_rpc = order.iter().position(|v| *v == "after-rpc").unwrap();
    assert!(last_before < first_rpc, "{order:?}");
    let log = k.log();
    assert!(
        log.contains("reload refused, the running chain stays in force"),
        "{log}"
    );
    assert!(
        log.contains("plugn"),
        "the refusal names the bad key:\n{log}"
    );
}

#[test]
fn a_panicking_plugin_answers_500_and_kamailio_keeps_serving() {
    let dir = temp_dir("kam-panic");
    let port = free_port();
    let panicking = chain_entry(
        "panicky",
        "test_plugin_panicking",
        "when_header = \"X-Panic\"",
    );
    let mut k = Kamailio::start(&dir, &host_toml(&format!("{panicking}{}", router_to(port))));
    for i in 0..3 {
        let answer = k.final_answer(&invite(&format!("kam-panic-{i}"), "X-Panic: yes\r\n"));
        assert!(answer.starts_with("SIP/2.0 500 "), "{answer}");
    }
    assert!(k.running(), "kamailio survived the panics");
    let uas = callee(&dir, "uas-basic.xml", port, 2, "callee");
    std::thread::sleep(Duration::from_millis(200));
    let uac = caller(&dir, &k, "uac-basic.xml", "127.0.0.1:9", 2, 5, "service");
    ok(uac.wait(LIMIT), "calls after the panics", &dir, &k);
    ok(uas.wait(LIMIT), "callee", &dir, &k);
    assert!(
        k.log().contains("test plugin panics on purpose"),
        "the panic is logged:\n{}",
        k.log()
    );
}

#[test]
fn a_plugin_with_its_own_lua_5_4_runs_beside_kamailios_lua_5_1() {
    let dir = temp_dir("kam-lua54");
    let port = free_port();
    let probe = chain_entry("lua54", "lua54_probe", "methods = [\"INVITE\"]");
    let k = Kamailio::start(&dir, &host_toml(&format!("{probe}{}", router_to(port))));
    let uas = callee(&dir, "uas-basic.xml", port, 2, "callee");
    std::thread::sleep(Duration::from_millis(200));
    // Kamailio's routing runs in its Lua 5.1; the plugin computes its header in its own Lua 5.4
    // (math.type and // do not exist in 5.1).
    let uac = caller(&dir, &k, "uac-basic.xml", "127.0.0.1:9", 2, 5, "service");
    ok(uac.wait(LIMIT), "caller", &dir, &k);
    ok(uas.wait(LIMIT), "callee", &dir, &k);
    let got = received(&dir, "callee");
    assert_eq!(
        got.matches("X-Lua-Probe: Lua 5.4 integer 3").count(),
        2,
        "{got}"
    );
}

#[test]
fn a_broken_host_config_stops_kamailio_at_start_with_one_line_naming_it() {
    let dir = temp_dir("kam-broken");
    let (status, log) = Kamailio::refused(&dir, "[[chain]]\nname = \"x\"\nplugn = \"y\"\n");
    assert!(!status.success(), "{log}");
    let line = log
        .lines()
        .find(|l| l.starts_with("sip_interop: "))
        .unwrap_or_else(|| panic!("no sip_interop line:\n{log}"));
    assert!(
        line.contains("host.toml:3:1: unknown field `plugn`"),
        "{line}"
    );
    assert!(line.contains("(fix: "), "{line}");
}
