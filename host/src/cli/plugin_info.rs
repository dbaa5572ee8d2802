//! `sip-interop plugin-info PLUGIN.so`: the manifest a plugin exports.

use std::path::Path;
use std::process::ExitCode;

use sip_interop_abi::ffi::hooks;

use crate::metrics::Registry;
use crate::plugin::ImageCache;

pub(super) fn plugin_info(path: &Path) -> ExitCode {
    let images = ImageCache::new(std::env::temp_dir().join("sip-interop-images"));
    match images.load(path, u64::MAX, &Registry::default()) {
        Ok(img) => {
            let m = &img.manifest;
            println!("{} {}", m.name, m.version);
            if !m.description.is_empty() {
                println!("{}", m.description);
            }
            println!("hooks: {}", hooks::names(m.hooks).join(", "));
            if !m.config_schema.is_empty() {
                println!("\nconfig:");
                for line in m.config_schema.lines() {
                    println!("  {line}");
                }
            }
            if !m.example_config.is_empty() {
                println!("\nexample [chain.config]:");
                for line in m.example_config.lines() {
                    println!("  {line}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
