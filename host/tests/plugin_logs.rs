//! A plugin's `tracing` events and panic messages arrive in the host's log, attributed to the plugin.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sip_interop_abi::sdk::Transport;
use sip_interop_abi::sip::Message;
use sip_interop_host::chain::TxContext;
use sip_interop_host::Host;
use support::*;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

#[derive(Default, Clone)]
struct Captured(Arc<Mutex<Vec<(String, String, String)>>>); // level, plugin, message

struct Fields {
    plugin: String,
    message: String,
}

impl Visit for Fields {
    fn record_str(&mut self, f: &Field, v: &str) {
        if f.name() == "plugin" {
            self.plugin = v.to_string();
        }
    }
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        match f.name() {
            "message" => self.message = format!("{v:?}"),
            "plugin" => self.plugin = format!("{v:?}"),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Captured {
    fn on_event(&self, e: &tracing::Event<'_>, _: Context<'_, S>) {
        if e.metadata().target() == "plugin" {
            let mut f = Fields {
                plugin: String::new(),
                message: String::new(),
            };
            e.record(&mut f);
            self.0
                .lock()
                .unwrap()
                .push((e.metadata().level().to_string(), f.plugin, f.message));
        }
    }
}

#[test]
fn plugin_logs_and_panics_reach_the_host_log() {
    let captured = Captured::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(captured.clone()))
        .unwrap();

    let dir = temp_dir("plugin-logs");
    let text = format!(
        "[[chain]]\nname = \"boom\"\nplugin = \"{}\"\n[chain.config]\nwhen_header = \"X-Panic\"\n\n[[chain]]\nname = \"counter\"\nplugin = \"{}\"\n[chain.config]\nlabel = \"a\"\n",
        plugin("test_plugin_panicking").display(),
        plugin("test_plugin_stateful").display()
    );
    let host = Host::from_config(config(&dir, &text)).unwrap();
    let mut ctx = TxContext::new(
        "192.0.2.10:5060".parse().unwrap(),
        "127.0.0.1:5060".parse().unwrap(),
        Transport::Udp,
        1,
    );
    let m = invite("logs-1", "X-Arm-Timer: yes\r\n");
    host.process_request(&Message::parse(&m).unwrap(), &mut ctx, None);
    let m = invite("logs-2", "X-Panic: yes\r\n");
    host.process_request(&Message::parse(&m).unwrap(), &mut ctx, None);

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let events = captured.0.lock().unwrap().clone();
        let timer = events.iter().any(|(lvl, p, msg)| {
            lvl == "INFO"
                && p == "counter"
                && msg.contains("timer fired")
                && msg.contains("token=1")
        });
        let panic = events.iter().any(|(lvl, p, msg)| {
            lvl == "ERROR"
                && p == "boom"
                && msg.contains("plugin panicked")
                && msg.contains("test plugin panics on purpose")
        });
        if timer && panic {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "missing plugin events; captured: {events:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
