//! The text of `GET /status` and `sip-interop ctl status`.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use sip_interop_abi::ffi::hooks;

use crate::Host;

/// A human-readable status report.
pub fn status_text(host: &Host) -> String {
    let chain = host.snapshot();
    let cfg = host.config();
    let m = host.metrics();
    let mut out = String::new();
    let _ = writeln!(out, "config: {}", cfg.path.display());
    let _ = writeln!(out, "uptime: {}s", host.uptime().as_secs());
    let _ = writeln!(
        out,
        "chain generation: {} ({} plugins)",
        chain.generation,
        chain.links.len()
    );
    for (i, link) in chain.links.iter().enumerate() {
        let man = &link.instance.image.manifest;
        let _ = writeln!(
            out,
            "  {}. {} — {} {} [{}] from {} (image #{}, {} KiB)",
            i + 1,
            link.name,
            man.name,
            man.version,
            hooks::names(link.hooks).join(","),
            link.instance.image.source.display(),
            link.instance.image.serial,
            link.instance.image.bytes / 1024
        );
    }
    let _ = writeln!(
        out,
        "reloads: {} ok, {} refused",
        m.reloads_ok.load(Relaxed),
        m.reloads_failed.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "plugin images retained: {} KiB in {} loads",
        m.images_retained_bytes.load(Relaxed) / 1024,
        m.images_loaded.load(Relaxed)
    );
    if let Some(r) = host.last_reload() {
        let ago = r.at.elapsed().map(|d| d.as_secs()).unwrap_or(0);
        match &r.result {
            Ok(moved) => {
                let _ = writeln!(
                    out,
                    "last reload: ok ({}, {ago}s ago, {moved} plugin states handed over)",
                    r.trigger
                );
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "last reload: REFUSED ({}, {ago}s ago); generation {} stays in force:",
                    r.trigger, r.generation
                );
                for p in &e.problems {
                    let _ = writeln!(out, "  {p}");
                }
            }
        }
    }
    out
}
