//! `sip-interop check-config FILE`.

use std::path::Path;
use std::process::ExitCode;

pub(super) fn check_config(file: &Path) -> ExitCode {
    match super::load_host(file) {
        Ok((host, _)) => {
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
        Err(code) => code,
    }
}
