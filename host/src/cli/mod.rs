//! The `sip-interop` operator commands.

mod check_config;
mod check_message;
mod ctl;
mod explain;
mod plugin_info;
mod run;

pub use explain::describe_edit;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// SIP Interop Host: a plugin host in the SIP signalling path between Lync/Skype for Business and
/// standards-based SIP.
#[derive(Parser, Debug)]
#[command(name = "sip-interop", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the host with a config file (admin/metrics listener, reload on SIGHUP).
    Run {
        /// The config file.
        #[arg(short, long)]
        config: PathBuf,
    },
    /// Validate a config file completely, loading every plugin with its table. Exit 0 only if it would run.
    CheckConfig {
        /// The config file.
        file: PathBuf,
    },
    /// Parse one raw SIP message and say what a proxy would do with it.
    CheckMessage {
        /// File holding the raw message (CRLF line ends).
        file: PathBuf,
    },
    /// Dry-run: walk a message through the configured chain and show each plugin's edits and verdict.
    Explain(explain::ExplainArgs),
    /// Show what a plugin shared object says about itself (loads it the way the host does).
    PluginInfo {
        /// The plugin's shared object.
        plugin: PathBuf,
    },
    /// Check a plugin before loading it: manifest, config refusals, RFC 4475 and PROTOS traffic through
    /// its hooks, time per hook, determinism, concurrency, hot swap, well-formed edits, no stray output.
    /// Exit 0 only if every check passes.
    Conform(crate::conform::ConformArgs),
    /// Control a running host through its admin listener.
    Ctl {
        /// Admin address of the host (default: taken from --config, else 127.0.0.1:9060).
        #[arg(long)]
        admin: Option<std::net::SocketAddr>,
        /// Config file of the running host (to find its admin address).
        #[arg(short, long)]
        config: Option<PathBuf>,
        /// What to do.
        #[arg(value_enum)]
        action: ctl::Action,
    },
}

/// Load `path` and build its host, printing every problem (one line each) on failure.
fn load_host(
    path: &std::path::Path,
) -> Result<(crate::Host, crate::config::LoadedConfig), ExitCode> {
    let loaded = crate::config::load_file(path).map_err(|e| {
        eprintln!("{e}");
        ExitCode::FAILURE
    })?;
    crate::Host::from_config(loaded.clone())
        .map(|h| (h, loaded))
        .map_err(|e| {
            for p in &e.problems {
                eprintln!("{p}");
            }
            ExitCode::FAILURE
        })
}

/// `400 Bad Request: reason (Unsupported: tags)` for a refused message.
fn describe_refusal(status: u16, reason: &str, unsupported: &[String]) -> String {
    let extra = if unsupported.is_empty() {
        String::new()
    } else {
        format!(" (Unsupported: {})", unsupported.join(", "))
    };
    format!(
        "{status} {}: {reason}{extra}",
        sip_interop_abi::sip::reason_phrase(status)
    )
}

/// Run the command line; the exit code says whether it succeeded.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::CheckConfig { .. } | Command::Explain(_) | Command::PluginInfo { .. }
    ) {
        crate::logging::init_for_tools();
    }
    match cli.command {
        Command::PluginInfo { plugin } => plugin_info::plugin_info(&plugin),
        Command::Run { config } => run::run(&config),
        Command::CheckConfig { file } => check_config::check_config(&file),
        Command::CheckMessage { file } => check_message::check_message(&file),
        Command::Explain(args) => explain::explain(&args),
        Command::Conform(args) => crate::conform::conform(&args),
        Command::Ctl {
            admin,
            config,
            action,
        } => ctl::ctl(admin, config.as_deref(), action),
    }
}
