//! The `sip-interop` binary as an operator uses it.

mod support;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sip-interop"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run sip-interop")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn corpus(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/corpora/rfc4475")
        .join(name)
        .display()
        .to_string()
}

fn add_header_config(dir: &Path, admin_port: u16) -> std::path::PathBuf {
    let text = format!(
        "[admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\n[[chain]]\nname = \"tag\"\nplugin = \"{}\"\n[chain.config]\nheaders = [{{ name = \"X-Interop\", value = \"v1\" }}]\n",
        plugin("add_header").display()
    );
    let path = dir.join("host.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_config_accepts_a_good_file_and_names_the_line_of_a_bad_one() {
    let dir = temp_dir("cli-check-config");
    let good = add_header_config(&dir, 1);
    let out = run(&["check-config", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 plugin(s): tag (add-header"),
        "{}",
        text(&out.stdout)
    );

    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "[[chain]]\nplugin = \"{}\"\n[chain.config]\nheaders = []\nmethod = [\"INVITE\"]\n",
            plugin("add_header").display()
        ),
    )
    .unwrap();
    let out = run(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("bad.toml:5:1: chain[0].config.method: add-header refused its config: unknown field `method`"), "{err}");

    let typo = dir.join("typo.toml");
    std::fs::write(&typo, "[admin]\nlisten = \"127.0.0.1\"\n").unwrap();
    let out = run(&["check-config", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with(&format!("{}:2:", typo.display())), "{err}");
    assert!(err.contains("fix:"), "says how to fix it: {err}");
}

#[test]
fn check_message_summarises_a_good_message_and_gives_the_status_for_a_bad_one() {
    let out = run(&["check-message", &corpus("wsinv.dat")]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let s = text(&out.stdout);
    assert!(
        s.contains("request INVITE sip:vivekg@chair-dnrc.example.com;unknownparam"),
        "{s}"
    );
    assert!(s.contains("Call-ID: wsinv.ndaksdj@192.0.2.1"), "{s}");
    assert!(s.contains("top Via branch: 390skdjuw"), "{s}");
    assert!(s.contains("body: application/sdp"), "{s}");

    let out = run(&["check-message", &corpus("badvers.dat")]);
    assert_eq!(out.status.code(), Some(1));
    let s = text(&out.stdout);
    assert_eq!(s.lines().count(), 1, "{s}");
    assert!(s.starts_with("505 Version Not Supported"), "{s}");

    let out = run(&["check-message", &corpus("zeromf.dat")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with("483 Too Many Hops"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn explain_shows_each_plugins_edits_and_verdict() {
    let dir = temp_dir("cli-explain");
    let cfg = add_header_config(&dir, 1);
    let msg = dir.join("invite.sip");
    std::fs::write(&msg, invite("explain-1", "")).unwrap();
    let out = run(&[
        "explain",
        "-c",
        cfg.to_str().unwrap(),
        msg.to_str().unwrap(),
        "--show-message",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("1. tag — 1 edit(s), verdict: continue"), "{s}");
    assert!(s.contains("add header X-Interop: v1"), "{s}");
    assert!(s.contains("default route"), "{s}");
    assert!(
        s.contains("\r\nContent-Length: 0\r\nX-Interop: v1\r\n\r\n"),
        "the edited message is printed: {s}"
    );

    // A message the host refuses before the chain says so and names the answer.
    let out = run(&[
        "explain",
        "-c",
        cfg.to_str().unwrap(),
        &corpus("zeromf.dat"),
    ]);
    assert!(
        text(&out.stdout).contains("the host answers 483 Too Many Hops"),
        "{}",
        text(&out.stdout)
    );
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ctl(port: u16, action: &str) -> Output {
    run(&["ctl", "--admin", &format!("127.0.0.1:{port}"), action])
}

#[test]
fn a_running_host_reloads_on_ctl_and_sighup_and_keeps_its_chain_when_the_new_config_is_bad() {
    let dir = temp_dir("cli-run");
    let port = free_port();
    let cfg = add_header_config(&dir, port);
    let child = bin()
        .args(["run", "-c", cfg.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut host = Running(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ctl(port, "status").status.success() {
        assert!(Instant::now() < deadline, "host did not come up");
        assert!(host.0.try_wait().unwrap().is_none(), "host exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = text(&ctl(port, "status").stdout);
    assert!(
        status.contains("chain generation: 1 (1 plugins)"),
        "{status}"
    );
    assert!(status.contains("1. tag — add-header"), "{status}");

    let out = ctl(port, "reload");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("generation 2 is live"));

    // SIGHUP reloads too.
    Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !text(&ctl(port, "status").stdout).contains("chain generation: 3") {
        assert!(Instant::now() < deadline, "SIGHUP did not reload");
        std::thread::sleep(Duration::from_millis(50));
    }

    // A broken config is refused; generation 3 stays in force.
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        good.replace("name = \"X-Interop\"", "name = \"X Interop\""),
    )
    .unwrap();
    let out = ctl(port, "reload");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("host.toml:8:14: chain[0].config.headers[0].name"),
        "{err}"
    );
    let status = text(&ctl(port, "status").stdout);
    assert!(status.contains("chain generation: 3"), "{status}");
    assert!(status.contains("REFUSED"), "{status}");

    let metrics = text(&ctl(port, "metrics").stdout);
    assert!(
        metrics.contains("sip_interop_reloads_total{result=\"ok\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sip_interop_reloads_total{result=\"failed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sip_interop_chain_generation 3"),
        "{metrics}"
    );

    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(st) = host.0.try_wait().unwrap() {
            assert!(st.success(), "clean exit on SIGTERM");
            break;
        }
        assert!(Instant::now() < deadline, "host did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ctl_without_a_running_host_says_so() {
    let port = free_port();
    let out = ctl(port, "status");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot reach the host's admin listener"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_plugin_panic_goes_to_the_hosts_log_and_nowhere_else() {
    let dir = temp_dir("cli-panic-quiet");
    let cfg = dir.join("host.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[chain]]\nname = \"boom\"\nplugin = \"{}\"\n",
            plugin("test_plugin_panicking").display()
        ),
    )
    .unwrap();
    let msg = dir.join("invite.sip");
    std::fs::write(&msg, invite("quiet-1", "")).unwrap();
    let out = run(&[
        "explain",
        "-c",
        cfg.to_str().unwrap(),
        msg.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.contains("1. boom — 0 edit(s), verdict: FAILED (panicked: test plugin panics on purpose); on_panic = reject applies"), "{s}");
    assert!(
        s.contains("result: respond 500 Server Internal Error (decided by boom)"),
        "{s}"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("ERROR") && err.contains("plugin=\"boom\"") && err.contains("plugin panicked"),
        "the panic is in the host's log: {err}"
    );
    assert!(
        !err.contains("thread '"),
        "std's own panic printout never appears: {err}"
    );
}

#[test]
fn plugin_info_shows_the_manifest_and_refuses_a_mismatch_in_one_line() {
    let out = run(&["plugin-info", plugin("add_header").to_str().unwrap()]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.starts_with("add-header 0.1.0\n"), "{s}");
    assert!(s.contains("hooks: request"), "{s}");
    assert!(s.contains("headers: array of"), "{s}");
    let out = run(&[
        "plugin-info",
        plugin("test_plugin_mismatched").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("incompatible plugin interface"), "{err}");
}

#[test]
fn with_reload_watch_a_changed_config_file_is_picked_up() {
    let dir = temp_dir("cli-watch");
    let port = free_port();
    let cfg = add_header_config(&dir, port);
    let original = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("[reload]\nwatch = true\nwatch_interval_ms = 100\n\n{original}"),
    )
    .unwrap();
    let child = bin()
        .args(["run", "-c", cfg.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _host = Running(child);
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = text(&ctl(port, "status").stdout);
            if status.contains(needle) {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {needle:?}; last status:\n{status}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for("chain generation: 1");
    // Editing the file (as an operator would) reloads it; the new value is live.
    let now = std::fs::read_to_string(&cfg).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&cfg, now.replace("value = \"v1\"", "value = \"v2\"")).unwrap();
    let status = wait_for("chain generation: 2");
    assert!(status.contains("last reload: ok (file change"), "{status}");
}

#[test]
fn explain_says_which_route_the_router_chose_and_why() {
    let dir = temp_dir("cli-explain-router");
    std::fs::write(
        dir.join("users.csv"),
        "aor,home\nalice@contoso.com,sip:10.1.1.1:5061;transport=tcp\n",
    )
    .unwrap();
    let cfg = dir.join("host.toml");
    std::fs::write(
        &cfg,
        format!(
            "[directory]\nfile = \"users.csv\"\n\n[[chain]]\nname = \"router\"\nplugin = \"{}\"\n[chain.config]\nregistrar_pool = \"pool01.contoso.com\"\nlocal_domains = [\"contoso.com\"]\n\n[[chain.config.collection]]\nidentity = \"service:Registrar:pool01.contoso.com\"\n\n[[chain.config.route]]\nname = \"pool-edge\"\ncollection = \"service:Registrar:pool01.contoso.com\"\nmatch_uri = \"*.contoso.com\"\ntransport = \"tcp\"\ndestination = \"192.0.2.60\"\nport = 5060\n\n[[chain.config.route]]\nname = \"global-edge\"\nmatch_uri = \"*.contoso.com\"\ntransport = \"tcp\"\ndestination = \"192.0.2.70\"\nport = 5060\n",
            plugin("matchuri_router").display()
        ),
    )
    .unwrap();
    let explain = |ruri: &str| {
        let msg = dir.join("invite.sip");
        let m = String::from_utf8(invite("explain-router", ""))
            .unwrap()
            .replace("sip:bob@example.com SIP/2.0", &format!("{ruri} SIP/2.0"));
        std::fs::write(&msg, m).unwrap();
        let out = run(&[
            "explain",
            "-c",
            cfg.to_str().unwrap(),
            msg.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // The pool's own collection applies, not global; the next hop and stickiness key are shown.
    let s = explain("sip:bob@emea.contoso.com");
    assert!(
        s.contains("· collection service:Registrar:pool01.contoso.com applies"),
        "{s}"
    );
    assert!(
        s.contains("· route pool-edge (*.contoso.com): matches"),
        "{s}"
    );
    assert!(!s.contains("global-edge"), "global is not consulted: {s}");
    assert!(
        s.contains("1. tcp 192.0.2.60:5060 (IP literal)")
            && s.contains("stickiness key 192.0.2.10"),
        "{s}"
    );
    // A user in the directory goes home first.
    let s = explain("sip:alice@contoso.com");
    assert!(
        s.contains("· local user alice@contoso.com: homed at"),
        "{s}"
    );
    assert!(s.contains("1. tcp 10.1.1.1:5061"), "{s}");
    // Nothing matches: the Lync answer.
    let s = explain("sip:carol@example.org");
    assert!(
        s.contains("respond 404") && s.contains("ms-diagnostics: 1005"),
        "{s}"
    );
}

#[test]
fn the_shipped_lync_gateway_explains_a_lync_invite_rule_by_rule() {
    // examples/lync-gateway.toml with its plugin paths pointed at this build's target folder.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let dir = temp_dir("cli-explain-lync");
    let cfg = dir.join("lync-gateway.toml");
    let example = std::fs::read_to_string(root.join("examples/lync-gateway.toml")).unwrap();
    let so = plugin("ms_sip_normaliser");
    std::fs::write(
        &cfg,
        example.replace("../target/debug", so.parent().unwrap().to_str().unwrap()),
    )
    .unwrap();
    let out = run(&[
        "explain",
        "-c",
        cfg.to_str().unwrap(),
        root.join("examples/messages/lync-invite.sip")
            .to_str()
            .unwrap(),
        "--source",
        "192.0.2.20:5061",
        "--show-message",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for line in [
        "· dialect: from ms (source 192.0.2.20:5061 is peer lync-pool (dialect ms))",
        "· dialect: to standard (a phone number in lync.example.com from Microsoft goes to the standards side)",
        "· body.single-sdp: kept the RFC 5245 SDP of the multipart body",
        "· sdp.standard: removed codec x-msrta/16000",
        "· headers.microsoft-only: removed ms-subnet",
        "· epid.strip: removed epid=6b1f0e9c2d from From",
        "· rule Lync numbers to CUCM (priority 10) -> target route cisco-users",
    ] {
        assert!(s.contains(line), "no `{line}` in:\n{s}");
    }
    // The message as it would leave: one SDP body, nothing Microsoft in the headers.
    let sent = s
        .split("--- message as it would leave the host ---")
        .nth(1)
        .unwrap_or(&s);
    assert!(sent.contains("Content-Type: application/sdp"), "{s}");
    assert!(
        !sent.contains("multipart/alternative") && !sent.contains("ms-subnet"),
        "{sent}"
    );
}
