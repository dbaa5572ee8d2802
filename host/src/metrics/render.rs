//! Prometheus text exposition format (version 0.0.4).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use super::{PluginMetrics, Registry, LATENCY_BUCKETS_SECONDS, VERDICT_KINDS};

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One unlabelled metric.
fn scalar(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// One counter per plugin, labelled `plugin`.
fn per_plugin(
    out: &mut String,
    plugins: &[(String, Arc<PluginMetrics>)],
    name: &str,
    help: &str,
    value: impl Fn(&PluginMetrics) -> &AtomicU64,
) {
    header(out, name, "counter", help);
    for (plugin, m) in plugins {
        let _ = writeln!(
            out,
            "{name}{{plugin=\"{}\"}} {}",
            escape(plugin),
            value(m).load(Relaxed)
        );
    }
}

/// Render every metric of `r`.
pub fn render(r: &Registry) -> String {
    let mut out = String::with_capacity(4096);
    header(
        &mut out,
        "sip_interop_reloads_total",
        "counter",
        "Chain reloads by result (failed = the old chain stayed in force).",
    );
    let _ = writeln!(
        out,
        "sip_interop_reloads_total{{result=\"ok\"}} {}",
        r.reloads_ok.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "sip_interop_reloads_total{{result=\"failed\"}} {}",
        r.reloads_failed.load(Relaxed)
    );
    scalar(
        &mut out,
        "sip_interop_chain_generation",
        "gauge",
        "Generation of the live chain.",
        r.chain_generation.load(Relaxed),
    );
    scalar(
        &mut out,
        "sip_interop_plugin_images_loaded_total",
        "counter",
        "Plugin shared-object images loaded since start (never unmapped).",
        r.images_loaded.load(Relaxed),
    );
    scalar(
        &mut out,
        "sip_interop_plugin_images_retained_bytes",
        "gauge",
        "Memory retained by loaded plugin images, including replaced ones.",
        r.images_retained_bytes.load(Relaxed),
    );
    header(
        &mut out,
        "sip_interop_messages_total",
        "counter",
        "Messages that walked the chain, by direction.",
    );
    let _ = writeln!(
        out,
        "sip_interop_messages_total{{direction=\"request\"}} {}",
        r.requests.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "sip_interop_messages_total{{direction=\"response\"}} {}",
        r.responses.load(Relaxed)
    );
    scalar(
        &mut out,
        "sip_interop_proxy_transactions_total",
        "counter",
        "Server transactions created by the standalone proxy.",
        r.proxy_transactions.load(Relaxed),
    );
    scalar(
        &mut out,
        "sip_interop_proxy_overload_total",
        "counter",
        "Requests answered 503 at the transaction limit.",
        r.proxy_overload.load(Relaxed),
    );
    scalar(
        &mut out,
        "sip_interop_proxy_loops_total",
        "counter",
        "Requests answered 482 Loop Detected.",
        r.proxy_loops.load(Relaxed),
    );

    let plugins = r.plugins();
    header(
        &mut out,
        "sip_interop_plugin_hook_calls_total",
        "counter",
        "Plugin hook calls by hook.",
    );
    for (name, m) in &plugins {
        let n = escape(name);
        for (hook, c) in [
            ("request", &m.request_calls),
            ("response", &m.response_calls),
            ("timer", &m.timer_calls),
        ] {
            let _ = writeln!(
                out,
                "sip_interop_plugin_hook_calls_total{{plugin=\"{n}\",hook=\"{hook}\"}} {}",
                c.load(Relaxed)
            );
        }
    }
    header(
        &mut out,
        "sip_interop_plugin_verdicts_total",
        "counter",
        "Request verdicts by plugin and kind.",
    );
    for (name, m) in &plugins {
        let n = escape(name);
        for (i, kind) in VERDICT_KINDS.iter().enumerate() {
            let _ = writeln!(
                out,
                "sip_interop_plugin_verdicts_total{{plugin=\"{n}\",verdict=\"{kind}\"}} {}",
                m.verdicts[i].load(Relaxed)
            );
        }
    }
    per_plugin(
        &mut out,
        &plugins,
        "sip_interop_plugin_panics_total",
        "Panics caught in plugin hooks.",
        |m| &m.panics,
    );
    per_plugin(
        &mut out,
        &plugins,
        "sip_interop_plugin_bad_edits_total",
        "Hook calls whose edits were refused (they would not yield a well-formed message).",
        |m| &m.bad_edits,
    );
    per_plugin(
        &mut out,
        &plugins,
        "sip_interop_plugin_budget_overruns_total",
        "Hook calls that exceeded the plugin's time budget.",
        |m| &m.budget_overruns,
    );
    header(
        &mut out,
        "sip_interop_plugin_hook_duration_seconds",
        "histogram",
        "Plugin hook latency.",
    );
    for (name, m) in &plugins {
        let n = escape(name);
        let c = m.latency.cumulative();
        for (i, le) in LATENCY_BUCKETS_SECONDS.iter().enumerate() {
            let _ = writeln!(
                out,
                "sip_interop_plugin_hook_duration_seconds_bucket{{plugin=\"{n}\",le=\"{le}\"}} {}",
                c[i]
            );
        }
        let _ = writeln!(
            out,
            "sip_interop_plugin_hook_duration_seconds_bucket{{plugin=\"{n}\",le=\"+Inf\"}} {}",
            c[14]
        );
        let _ = writeln!(
            out,
            "sip_interop_plugin_hook_duration_seconds_sum{{plugin=\"{n}\"}} {}",
            m.latency.sum_seconds()
        );
        let _ = writeln!(
            out,
            "sip_interop_plugin_hook_duration_seconds_count{{plugin=\"{n}\"}} {}",
            m.latency.count()
        );
    }
    header(
        &mut out,
        "sip_interop_plugin_counter_total",
        "counter",
        "Counters kept by plugins.",
    );
    for (name, m) in &plugins {
        let cs = m.custom_counters.lock().unwrap_or_else(|p| p.into_inner());
        for (k, v) in cs.iter() {
            let _ = writeln!(
                out,
                "sip_interop_plugin_counter_total{{plugin=\"{}\",name=\"{}\"}} {v}",
                escape(name),
                escape(k)
            );
        }
    }
    header(
        &mut out,
        "sip_interop_plugin_gauge",
        "gauge",
        "Gauges set by plugins.",
    );
    for (name, m) in &plugins {
        let gs = m.custom_gauges.lock().unwrap_or_else(|p| p.into_inner());
        for (k, v) in gs.iter() {
            let _ = writeln!(
                out,
                "sip_interop_plugin_gauge{{plugin=\"{}\",name=\"{}\"}} {v}",
                escape(name),
                escape(k)
            );
        }
    }
    out
}
