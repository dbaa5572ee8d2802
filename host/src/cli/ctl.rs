//! `sip-interop ctl reload|status|metrics`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use crate::admin;
use crate::config::load_file;

/// What `ctl` asks the running host.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(super) enum Action {
    /// Rebuild the chain from the config file; the old chain stays if anything fails.
    Reload,
    /// Show the live chain and the last reload.
    Status,
    /// Print the Prometheus metrics.
    Metrics,
}

pub(super) fn ctl(
    admin_addr: Option<SocketAddr>,
    config: Option<&Path>,
    action: Action,
) -> ExitCode {
    let addr = match (admin_addr, config) {
        (Some(a), _) => a,
        (None, Some(c)) => match load_file(c) {
            Ok(l) => l.config.admin.listen,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        (None, None) => crate::config::AdminConfig::default().listen,
    };
    let (method, path) = match action {
        Action::Reload => ("POST", "/reload"),
        Action::Status => ("GET", "/status"),
        Action::Metrics => ("GET", "/metrics"),
    };
    match admin::request(addr, method, path) {
        Ok((200, body)) => {
            print!("{body}");
            ExitCode::SUCCESS
        }
        Ok((status, body)) => {
            eprint!("{body}");
            if body.is_empty() {
                eprintln!("the host at {addr} answered HTTP {status}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cannot reach the host's admin listener at {addr}: {e} (is `sip-interop run` running with this config?)");
            ExitCode::from(2)
        }
    }
}
