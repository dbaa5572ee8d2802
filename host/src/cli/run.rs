//! `sip-interop run -c FILE`.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::load_file;
use crate::{admin, logging, Host};

pub(super) fn run(config_path: &Path) -> ExitCode {
    // Logging follows the file's [logging] table, so it is read before the chain is built.
    let loaded = match load_file(config_path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    logging::init(&loaded.config.logging);
    let cfg = loaded.config.clone();
    let host = match Host::from_config(loaded) {
        Ok(h) => h,
        Err(e) => {
            for p in &e.problems {
                eprintln!("{p}");
            }
            return ExitCode::FAILURE;
        }
    };
    let _proxy = if cfg.listen.is_empty() {
        tracing::info!("no [[listen]] configured: running the admin interface only");
        None
    } else {
        match crate::proxy::Proxy::start(host.clone(), &cfg.listen, cfg.proxy.clone()) {
            Ok(p) => {
                for (t, a) in p.local_addrs() {
                    tracing::info!(transport = t.as_str(), %a, "SIP listener up");
                }
                Some(p)
            }
            Err(e) => {
                eprintln!(
                    "{}: listen: cannot start the SIP listeners: {e}",
                    config_path.display()
                );
                return ExitCode::FAILURE;
            }
        }
    };
    // The admin listener comes up last: once it answers, SIP is being received.
    if cfg.admin.enabled {
        match admin::spawn(host.clone(), cfg.admin.listen) {
            Ok(addr) => {
                tracing::info!(%addr, "admin listener up: GET /metrics, GET /status, POST /reload")
            }
            Err(e) => {
                eprintln!(
                    "{}: admin.listen: cannot listen on {}: {e}",
                    config_path.display(),
                    cfg.admin.listen
                );
                return ExitCode::FAILURE;
            }
        }
    }
    if cfg.reload.watch {
        spawn_watcher(
            host.clone(),
            Duration::from_millis(cfg.reload.watch_interval_ms),
        );
    }
    let mut signals = match Signals::new([SIGHUP, SIGINT, SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        generation = host.generation(),
        "sip-interop running; SIGHUP reloads, SIGTERM stops"
    );
    for sig in signals.forever() {
        match sig {
            SIGHUP => {
                let _ = host.reload("SIGHUP");
            }
            _ => {
                tracing::info!("stopping");
                break;
            }
        }
    }
    ExitCode::SUCCESS
}

fn spawn_watcher(host: Host, every: Duration) {
    let _ = std::thread::Builder::new()
        .name("sip-watch".into())
        .spawn(move || {
            let mut last = host.watch_signature();
            loop {
                std::thread::sleep(every);
                let now = host.watch_signature();
                if now != last {
                    last = now;
                    let _ = host.reload("file change");
                }
            }
        });
}
