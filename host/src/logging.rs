//! Log output for the `sip-interop` binary: `tracing` to stderr, text or JSON, filtered per config.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LoggingConfig};

/// Install the process-wide subscriber. `RUST_LOG`, when set, overrides the configured filter.
pub fn init(cfg: &LoggingConfig) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| {
            EnvFilter::try_new(&cfg.level).unwrap_or_else(|_| EnvFilter::new("info"))
        });
    let builder = tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match cfg.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// For the one-shot commands (`check-config`, `explain`, `plugin-info`): warnings and errors, the
/// plugins' included, to stderr; `RUST_LOG` overrides.
pub fn init_for_tools() {
    init(&LoggingConfig {
        level: "warn".into(),
        format: LogFormat::Text,
    });
}
