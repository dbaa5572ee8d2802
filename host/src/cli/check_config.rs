//! `sip-interop check-config FILE`.

use std::path::Path;
use std::process::ExitCode;

use crate::config::load_file;
use crate::Host;

pub(super) fn check_config(file: &Path) -> ExitCode {
    let loaded = match load_file(file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match Host::from_config(loaded) {
        Ok(host) => {
            let chain = host.snapshot();
            let names: Vec<String> = chain
                .links
                .iter()
                .map(|l| {
                    format!(
                        "{} ({} {})",
                        l.name, l.instance.image.manifest.name, l.instance.image.manifest.version
                    )
                })
                .collect();
            println!(
                "ok: {} would run with {} plugin(s){}{}",
                file.display(),
                names.len(),
                if names.is_empty() { "" } else { ": " },
                names.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            for p in &e.problems {
                eprintln!("{p}");
            }
            ExitCode::FAILURE
        }
    }
}
