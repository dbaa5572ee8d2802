//! `sip-interop conform`: the plugin conformance harness, and the test corpora it runs plugins over.
//!
//! The checks run in a child process (the same binary, `--child-report FILE`) whose stdout and stderr
//! the parent captures: a plugin that prints outside the host's logging fails the `quiet` check, and a
//! plugin that crashes or hangs the process fails without taking the harness down, with the check it
//! was in named. The child streams one JSON event per line to the report file; the parent assembles
//! the [`report::Report`] and prints it as text or JSON.

pub mod corpus;
pub mod protos;
pub mod report;
pub mod suite;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use report::{Check, LogSummary, Report};
use suite::Event;

/// Arguments of `sip-interop conform`.
#[derive(clap::Args, Debug)]
pub struct ConformArgs {
    /// The plugin's shared object (`lib<crate>.so`).
    pub plugin: PathBuf,
    /// The plugin's config table as a TOML file (what goes under `[chain.config]`). Default: the
    /// example config in the plugin's manifest.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A folder of extra raw SIP messages (one per file, CRLF line ends) to run the hooks over.
    #[arg(long)]
    pub messages: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Time budget per hook call in ms: the 99th percentile must stay within it.
    #[arg(long, default_value_t = 5)]
    pub budget_ms: u64,
    /// Threads calling the hooks at once in the concurrency check.
    #[arg(long, default_value_t = 4)]
    pub threads: usize,
    /// Give up on a plugin that has not finished the suite after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_s: u64,
    /// Internal: run the checks and write events to this file.
    #[arg(long, hide = true)]
    pub child_report: Option<PathBuf>,
}

/// Entry point of the command.
pub fn conform(a: &ConformArgs) -> ExitCode {
    match &a.child_report {
        Some(path) => child(a, path),
        None => parent(a),
    }
}

/// The child: logging to a file next to the report, then the suite.
fn child(a: &ConformArgs, report: &Path) -> ExitCode {
    let log = report.with_extension("log");
    if let Ok(file) = std::fs::File::create(&log) {
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    }
    let config = match &a.config {
        None => None,
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("--config {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
    };
    let options = suite::Options {
        plugin: a.plugin.clone(),
        config,
        messages: a.messages.clone(),
        budget: Duration::from_millis(a.budget_ms),
        threads: a.threads,
    };
    let Ok(mut events) = suite::Events::create(report) else {
        return ExitCode::from(2);
    };
    suite::run(&options, &mut events);
    ExitCode::SUCCESS
}

/// A scratch folder removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The parent: run the child, watch it, judge its output, print the report.
fn parent(a: &ConformArgs) -> ExitCode {
    if !a.plugin.is_file() {
        eprintln!("{}: no such plugin file", a.plugin.display());
        return ExitCode::from(2);
    }
    if let Some(c) = &a.config {
        if let Err(e) = std::fs::read_to_string(c) {
            eprintln!("--config {}: {e}", c.display());
            return ExitCode::from(2);
        }
    }
    let plugin = a.plugin.canonicalize().unwrap_or_else(|_| a.plugin.clone());
    let dir = std::env::temp_dir().join(format!("sip-interop-conform-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::from(2);
    }
    let scratch = Scratch(dir);
    let events = scratch.0.join("events.jsonl");
    let (out, err) = (scratch.0.join("stdout"), scratch.0.join("stderr"));
    let (Ok(out_f), Ok(err_f)) = (std::fs::File::create(&out), std::fs::File::create(&err)) else {
        eprintln!("{}: cannot create capture files", scratch.0.display());
        return ExitCode::from(2);
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("sip-interop"));
    let mut cmd = Command::new(exe);
    cmd.arg("conform")
        .arg(&plugin)
        .args(["--budget-ms", &a.budget_ms.to_string()])
        .args(["--threads", &a.threads.to_string()])
        .arg("--child-report")
        .arg(&events)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(out_f)
        .stderr(err_f);
    if let Some(c) = &a.config {
        cmd.arg("--config").arg(c);
    }
    if let Some(m) = &a.messages {
        cmd.arg("--messages").arg(m);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot start the checks: {e}");
            return ExitCode::from(2);
        }
    };
    let deadline = Instant::now() + Duration::from_secs(a.timeout_s);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let mut report = assemble(&plugin, &events, a.budget_ms);
    // A child that stopped early names the check it was in.
    let last_started = last_started(&events);
    match status {
        Some(st) if st.success() => {}
        Some(st) => report.checks.push(Check::fail(
            "process",
            format!(
                "the checks' process ended with {st} during `{}`: the plugin crashed the host",
                last_started.as_deref().unwrap_or("start")
            ),
        )),
        None => report.checks.push(Check::fail(
            "process",
            format!(
                "no result within {} s; stopped during `{}` (a hook that never returns?)",
                a.timeout_s,
                last_started.as_deref().unwrap_or("start")
            ),
        )),
    }
    let printed: Vec<String> = [("stdout", &out), ("stderr", &err)]
        .iter()
        .filter_map(|(what, p)| {
            let bytes = std::fs::read(p).unwrap_or_default();
            (!bytes.is_empty()).then(|| {
                let text = String::from_utf8_lossy(&bytes);
                let first = text
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(120)
                    .collect::<String>();
                format!("{what}: {} bytes, first line: {first}", bytes.len())
            })
        })
        .collect();
    report.checks.push(
        Check::verdict(
            "quiet",
            printed.is_empty(),
            if printed.is_empty() {
                "nothing written to stdout or stderr: everything went through the host's logging"
                    .to_string()
            } else {
                "the plugin wrote to stdout/stderr directly (use the SDK's logging: tracing macros)"
                    .to_string()
            },
        )
        .with_details(printed),
    );
    report.log = log_summary(&events.with_extension("log"));
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serialises")
        );
    } else {
        print!("{}", report.to_text());
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Read the child's events into a report.
fn assemble(plugin: &Path, events: &Path, budget_ms: u64) -> Report {
    let mut r = Report {
        plugin: plugin.display().to_string(),
        budget_ms,
        ..Report::default()
    };
    let text = std::fs::read_to_string(events).unwrap_or_default();
    for line in text.lines() {
        match serde_json::from_str::<Event>(line) {
            Ok(Event::Loaded { name, version }) => {
                r.name = name;
                r.version = version;
            }
            Ok(Event::Done(c)) => r.checks.push(c),
            Ok(Event::Timings(t)) => r.timings = t,
            Ok(Event::Started(_)) | Err(_) => {}
        }
    }
    r
}

fn last_started(events: &Path) -> Option<String> {
    let text = std::fs::read_to_string(events).ok()?;
    text.lines()
        .rev()
        .find_map(|l| match serde_json::from_str::<Event>(l) {
            Ok(Event::Started(s)) => Some(s),
            _ => None,
        })
}

/// Count the warn/error lines the child logged (the plugin's and the host's about it). The host's
/// budget-overrun warnings are left out: the `time-budget` check measures that on a quiet thread,
/// while the concurrency check runs more threads than there are cores on purpose.
fn log_summary(log: &Path) -> LogSummary {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut s = LogSummary::default();
    for line in text
        .lines()
        .filter(|l| !l.contains("exceeded its time budget"))
    {
        let is_warn = line.contains(" WARN ");
        let is_error = line.contains(" ERROR ");
        s.warnings += is_warn as usize;
        s.errors += is_error as usize;
        if (is_warn || is_error) && s.sample.len() < 3 {
            s.sample.push(line.chars().take(200).collect());
        }
    }
    s
}
