//! `sip-interop conform` against the real binary: every shipped plugin passes, and each way a plugin
//! can break the rules makes exactly the check that covers it fail.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::*;

/// Run `conform` on `plugin` with `config` (the plugin's table, if any) and extra args.
fn conform(plugin: &Path, config: Option<&str>, extra: &[&str]) -> (Output, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sip-interop"));
    cmd.arg("conform").arg(plugin).arg("--json").args(extra);
    let dir = temp_dir(&format!(
        "conform-{}-{}",
        plugin.file_stem().unwrap().to_string_lossy(),
        config.map_or(0, |c| c.len())
    ));
    if let Some(c) = config {
        let p = dir.join("table.toml");
        std::fs::write(&p, c).unwrap();
        cmd.arg("--config").arg(p);
    }
    let out = cmd.output().expect("run sip-interop conform");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, report)
}

/// `name → passed` of the report.
fn verdicts(report: &Value) -> Vec<(String, bool)> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["passed"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Names of the failed checks.
fn failed(report: &Value) -> Vec<String> {
    verdicts(report)
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| n)
        .collect()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

/// The shipped plugins: every crate under `plugins/`.
fn shipped() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins");
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| plugin(&e.file_name().to_string_lossy().replace('-', "_")))
        .collect();
    v.sort();
    v
}

#[test]
fn every_shipped_plugin_passes_every_check() {
    let plugins = shipped();
    assert!(plugins.len() >= 3, "{plugins:?}");
    for p in plugins {
        let (out, report) = conform(&p, None, &[]);
        assert!(
            out.status.success() && failed(&report).is_empty(),
            "{}: failed {:?}\n{report:#}",
            p.display(),
            failed(&report)
        );
        let names: Vec<String> = verdicts(&report).into_iter().map(|(n, _)| n).collect();
        for expected in [
            "manifest",
            "example-config",
            "unknown-key-refused",
            "wrong-type-refused",
            "survives-corpus",
            "edits-well-formed",
            "time-budget",
            "deterministic",
            "concurrent",
            "hot-swap",
            "quiet",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{}: no {expected} in {names:?}",
                p.display()
            );
        }
        let timings = report["timings"].as_array().unwrap();
        assert!(!timings.is_empty(), "no hook timings for {}", p.display());
        assert!(timings.iter().all(|t| t["calls"].as_u64().unwrap() > 100));
    }
}

#[test]
fn a_plugin_that_panics_fails_survives_corpus_naming_the_message() {
    let (out, report) = conform(
        &plugin("test_plugin_panicking"),
        Some("when_header = \"\"\n"),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(failed(&report), vec!["survives-corpus"]);
    let details = check(&report, "survives-corpus")["details"].to_string();
    assert!(
        details.contains("test plugin panics on purpose"),
        "{details}"
    );
    assert!(
        details.contains("rfc4475/") || details.contains("protos/"),
        "{details}"
    );
}

#[test]
fn a_plugin_that_injects_a_header_line_fails_edits_well_formed() {
    let (_, report) = conform(
        &plugin("test_plugin_panicking"),
        Some("inject_header = true\n"),
        &[],
    );
    assert_eq!(failed(&report), vec!["edits-well-formed"]);
    assert!(check(&report, "edits-well-formed")["details"]
        .to_string()
        .contains("refused edit"));
}

#[test]
fn a_slow_plugin_fails_the_time_budget() {
    let (_, report) = conform(
        &plugin("test_plugin_slow"),
        Some("sleep_ms = 2\n"),
        &["--budget-ms", "1", "--threads", "2"],
    );
    assert_eq!(failed(&report), vec!["time-budget"]);
    let p99 = report["timings"][0]["p99_us"].as_f64().unwrap();
    assert!(p99 >= 2000.0, "{p99}");
}

#[test]
fn a_plugin_from_another_interface_generation_fails_to_load_in_one_line() {
    let (out, report) = conform(&plugin("test_plugin_mismatched"), None, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(failed(&report), vec!["manifest"]);
    let summary = check(&report, "manifest")["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("the host refuses to load it: plugin "),
        "{summary}"
    );
    assert!(!summary.contains('\n'));
}

#[test]
fn careless_plugins_fail_exactly_the_check_for_their_fault() {
    let careless = plugin("test_plugin_careless");
    for (config, expected) in [
        ("print = false\n", vec!["unknown-key-refused"]),
        ("print = true\n", vec!["unknown-key-refused", "quiet"]),
        (
            "random = true\n",
            vec!["unknown-key-refused", "deterministic", "hot-swap"],
        ),
        ("racy = true\n", vec!["unknown-key-refused", "concurrent"]),
        (
            "hidden_state = true\n",
            vec!["unknown-key-refused", "hot-swap"],
        ),
        (
            "bad_reply = true\n",
            vec!["unknown-key-refused", "edits-well-formed"],
        ),
    ] {
        let (out, report) = conform(&careless, Some(config), &[]);
        assert_eq!(out.status.code(), Some(1), "{config}");
        assert_eq!(failed(&report), expected, "{config}: {report:#}");
    }
}

#[test]
fn a_plugin_that_kills_the_process_is_reported_with_the_check_it_was_in() {
    let (out, report) = conform(&plugin("test_plugin_careless"), Some("abort = true\n"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let process = check(&report, "process")["summary"].as_str().unwrap();
    assert!(process.contains("during `survives-corpus`"), "{process}");
    assert!(
        process.contains("SIGABRT") || process.contains("signal"),
        "{process}"
    );
}

#[test]
fn the_text_report_names_each_check_and_a_missing_file_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_sip-interop"))
        .args(["conform"])
        .arg(plugin("add_header"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("PASS  survives-corpus"), "{text}");
    assert!(text.contains("request hook:"), "{text}");
    assert!(
        text.trim_end().ends_with("result: 11 passed, 0 failed"),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_sip-interop"))
        .args(["conform", "/nonexistent/libnothing.so"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "/nonexistent/libnothing.so: no such plugin file"
    );
}

/// The number of messages `survives-corpus` says reached the hooks.
fn messages_run(report: &Value) -> usize {
    let summary = check(report, "survives-corpus")["summary"]
        .as_str()
        .unwrap();
    let after = summary.split(" over ").nth(1).expect("`… over N messages`");
    after.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn messages_given_with_messages_are_run_too() {
    let add_header = plugin("add_header");
    let (_, builtin) = conform(&add_header, None, &[]);
    let dir = temp_dir("conform-messages");
    std::fs::write(dir.join("my-invite.sip"), invite("conform-extra", "")).unwrap();
    let (out, more) = conform(&add_header, None, &["--messages", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{more:#}");
    assert_eq!(messages_run(&more), messages_run(&builtin) + 1);
}
