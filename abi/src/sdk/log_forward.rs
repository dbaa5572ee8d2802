//! Forwards the plugin's `tracing` events and panic messages to the host's log.
//!
//! A plugin shared object carries its own copy of `tracing` and of std's panic hook: without this, its
//! events would have no subscriber and its panics would print to stderr behind the host's back.

use abi_stable::std_types::RStr;
use std::fmt::Write as _;
use std::sync::Once;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::Layer;

use super::host::services;

fn level_number(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let s = format!("{value:?}");
            self.0.insert_str(0, &s);
        } else {
            let _ = write!(self.0, " {}={:?}", field.name(), value);
        }
    }
}

struct ForwardToHost;

impl<S: Subscriber> Layer<S> for ForwardToHost {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: LayerContext<'_, S>) -> bool {
        match services() {
            Some((s, h)) => (s.log_enabled())(h, level_number(metadata.level())),
            None => false,
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: LayerContext<'_, S>) {
        let Some((s, h)) = services() else { return };
        let mut v = MessageVisitor(String::new());
        event.record(&mut v);
        let meta = event.metadata();
        (s.log())(
            h,
            level_number(meta.level()),
            RStr::from(meta.target()),
            RStr::from(v.0.as_str()),
        );
    }
}

/// Install the forwarding subscriber and panic hook once per plugin image.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(ForwardToHost);
        let _ = tracing::subscriber::set_global_default(subscriber);
        std::panic::set_hook(Box::new(|info| {
            if let Some((s, h)) = services() {
                let msg = format!("plugin panicked: {info}");
                (s.log())(h, 1, RStr::from("panic"), RStr::from(msg.as_str()));
            }
        }));
    });
}
