//! The C ABI as a C proxy sees it: tests/c/decide.c is compiled with gcc against the generated
//! include/sip_interop.h, linked to the built libsip_interop.so, and run. Each test reads the facts the
//! program prints. Needs `cargo build --workspace` first (the plugins; scripts/test does it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

fn plugin(name: &str) -> String {
    let p = target_dir().join(format!("lib{name}.so"));
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace` first",
        p.display()
    );
    p.display().to_string()
}

fn work_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("sip-interop-c-abi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The C program, compiled once per test run.
fn program() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let lib = target_dir();
        assert!(
            lib.join("libsip_interop.so").exists(),
            "libsip_interop.so is missing: run `cargo build --workspace` first"
        );
        let exe = work_dir().join("decide");
        let out = Command::new("gcc")
            .args([
                "-std=c11",
                "-D_GNU_SOURCE",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-I",
            ])
            .arg(manifest.join("include"))
            .arg(manifest.join("tests/c/decide.c"))
            .arg("-o")
            .arg(&exe)
            .arg(format!("-L{}", lib.display()))
            .arg("-lsip_interop")
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-lpthread")
            .output()
            .expect("gcc (build-essential; scripts/setup installs it)");
        assert!(
            out.status.success(),
            "the C program does not compile against sip_interop.h:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        exe
    })
}

fn config(name: &str, text: &str) -> PathBuf {
    let p = work_dir().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn tag_and_fork(tag: &str) -> String {
    format!(
        "[logging]\nlevel = \"error\"\n\
         [[chain]]\nname = \"tag\"\nplugin = \"{}\"\n[chain.config]\nmethods = [\"INVITE\"]\n\
         headers = [ {{ name = \"X-Interop\", value = \"{tag}\" }} ]\n\
         [[chain]]\nname = \"fork\"\nplugin = \"{}\"\n[chain.config]\n\
         targets = [ {{ uri = \"sip:bob@127.0.0.1:5091\" }}, \
         {{ uri = \"sip:bob@127.0.0.1:5092\", transport = \"tcp\", delay_ms = 2000 }} ]\n",
        plugin("add_header"),
        plugin("test_plugin_router")
    )
}

/// Run the program; its stdout as lines.
fn run(config: &Path, mode: &str) -> Vec<String> {
    let out = Command::new(program())
        .arg(config)
        .arg(mode)
        .output()
        .expect("run the C program");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "decide {mode} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

fn has(lines: &[String], line: &str) -> bool {
    lines.iter().any(|l| l == line)
}

#[test]
fn a_c_program_gets_the_chains_edits_and_fork_as_data() {
    let cfg = config("fork.toml", &tag_and_fork("from-c"));
    let out = run(&cfg, "request");
    for want in [
        "status=0",
        "request.action=forward",
        "add=X-Interop: from-c",
        "target=sip:bob@127.0.0.1:5091 transport=any delay_ms=0 group=1",
        "target=sip:bob@127.0.0.1:5092 transport=tcp delay_ms=2000 group=1",
        "decided_by=fork",
        "request.generation=1",
        "response_status=0",
        "response.action=relay",
    ] {
        assert!(has(&out, want), "missing {want:?} in:\n{}", out.join("\n"));
    }
}

#[test]
fn bad_input_gets_a_clear_answer_and_null_arguments_are_refused() {
    let cfg = config("fork-bad-input.toml", &tag_and_fork("x"));
    let out = run(&cfg, "request");
    // A request with no readable Via cannot be answered: dropped, with the reason.
    assert!(has(&out, "malformed.action=drop"), "{}", out.join("\n"));
    assert!(
        out.iter()
            .any(|l| l.starts_with("host_reason=no readable Via")),
        "{}",
        out.join("\n")
    );
    assert!(
        has(&out, "empty_message=1"),
        "INVALID_ARGUMENT expected: {}",
        out.join("\n")
    );

    let broken = config(
        "broken.toml",
        "[logging]\nlevel = \"warn\"\n[[chain]]\nname = \"x\"\nplugn = \"y\"\n",
    );
    let out = run(&broken, "refused");
    assert!(has(&out, "host=NULL"), "{}", out.join("\n"));
    let error = out.iter().find(|l| l.starts_with("error=")).unwrap();
    assert!(
        error.contains("broken.toml:5") && error.contains("plugn"),
        "the error names file, line and key: {error}"
    );
    assert!(has(&out, "null_host=1"), "{}", out.join("\n"));
}

#[test]
fn a_host_used_from_a_forked_child_refuses_instead_of_running_without_its_threads() {
    let cfg = config("fork-child.toml", &tag_and_fork("x"));
    let out = run(&cfg, "fork");
    assert!(
        has(&out, "child_status=2"),
        "WRONG_PROCESS expected: {}",
        out.join("\n")
    );
    assert!(has(&out, "child_exited=0"), "{}", out.join("\n"));
}

#[test]
fn one_host_serves_four_threads_at_once() {
    let cfg = config("threads.toml", &tag_and_fork("x"));
    let out = run(&cfg, "threads");
    assert!(has(&out, "forwarded=8000"), "{}", out.join("\n"));
}

#[test]
fn reload_from_c_swaps_in_a_new_generation() {
    let cfg = config("reload.toml", &tag_and_fork("x"));
    let out = run(&cfg, "reload");
    let gens: Vec<&String> = out
        .iter()
        .filter(|l| l.starts_with("generation="))
        .collect();
    assert_eq!(gens, ["generation=1", "generation=2"], "{}", out.join("\n"));
    assert!(has(&out, "reload=0"), "{}", out.join("\n"));
}

#[test]
fn the_committed_header_is_the_one_the_build_generates() {
    // build.rs rewrites include/sip_interop.h from the sources; a stale committed copy shows up as a
    // difference against git's version.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("git")
        .args([
            "diff",
            "--exit-code",
            "--stat",
            "--",
            "include/sip_interop.h",
        ])
        .current_dir(manifest)
        .output();
    if let Ok(out) = out {
        if String::from_utf8_lossy(&out.stderr).contains("not a git repository") {
            return;
        }
        assert!(
            out.status.success(),
            "include/sip_interop.h changed when built: commit the regenerated header\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
