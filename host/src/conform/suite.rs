//! The checks, run in a child process (see [`super`]): the plugin is loaded the way the host loads
//! it, configured through a host config, and its hooks are called through the host's own chain walk,
//! so edits are folded and checked exactly as in production.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sip_interop_abi::ffi::hooks;
use sip_interop_abi::sdk::Transport;
use sip_interop_abi::sip::{kind, Message};

use super::corpus::{Corpus, Item};
use super::report::{Check, HookTiming};
use crate::chain::{Chain, StepOutcome, StepTrace, TxContext};
use crate::config::LoadedConfig;
use crate::metrics::Registry;
use crate::plugin::ImageCache;
use crate::Host;

/// What the child tells the parent, one JSON line each, as it goes (a crash loses nothing written).
#[derive(Serialize, Deserialize, Debug)]
pub enum Event {
    /// The manifest, once loaded.
    Loaded {
        /// Manifest name.
        name: String,
        /// Manifest version.
        version: String,
    },
    /// A check is starting (names the culprit if the plugin kills the process).
    Started(String),
    /// A check finished.
    Done(Check),
    /// Hook timings.
    Timings(Vec<HookTiming>),
}

/// What the suite runs with.
#[derive(Clone, Debug)]
pub struct Options {
    /// The plugin's shared object.
    pub plugin: PathBuf,
    /// Its config table (TOML text); `None`: the manifest's example.
    pub config: Option<String>,
    /// Extra messages.
    pub messages: Option<PathBuf>,
    /// Per-hook budget.
    pub budget: Duration,
    /// Threads for the concurrency check.
    pub threads: usize,
}

/// Writes events to the report file.
pub struct Events(std::fs::File);

impl Events {
    /// Append to `path`.
    pub fn create(path: &Path) -> std::io::Result<Events> {
        Ok(Events(std::fs::File::create(path)?))
    }

    fn send(&mut self, e: &Event) {
        let mut line = serde_json::to_string(e).expect("events serialise");
        line.push('\n');
        let _ = self.0.write_all(line.as_bytes());
        let _ = self.0.flush();
    }

    fn started(&mut self, name: &str) {
        self.send(&Event::Started(name.into()));
    }

    fn done(&mut self, c: Check) {
        self.send(&Event::Done(c));
    }
}

/// The chain entry name the plugin runs under.
const ENTRY: &str = "conform";

/// A host config running `plugin` alone with `table` as its `[chain.config]`.
fn host_config(
    plugin: &Path,
    table: &toml::Table,
    budget: Duration,
) -> Result<LoadedConfig, String> {
    let mut entry = toml::Table::new();
    entry.insert("name".into(), ENTRY.into());
    entry.insert("plugin".into(), plugin.display().to_string().into());
    entry.insert(
        "budget_ms".into(),
        (budget.as_millis().max(1) as i64).into(),
    );
    entry.insert("config".into(), toml::Value::Table(table.clone()));
    let mut root = toml::Table::new();
    root.insert(
        "chain".into(),
        toml::Value::Array(vec![toml::Value::Table(entry)]),
    );
    let text = toml::to_string(&root).map_err(|e| e.to_string())?;
    crate::config::parse_str(Path::new("conform.toml"), text).map_err(|e| e.to_string())
}

/// The plugin's words from a refused host build, without the synthetic file position.
fn refusal(e: &crate::reload::ReloadError) -> String {
    let all = e.problems.join("; ");
    match all.split_once(": ") {
        Some((loc, rest)) if loc.starts_with("conform.toml") => rest.to_string(),
        _ => all,
    }
}

/// Build a host running the plugin with `table`.
fn build(o: &Options, table: &toml::Table) -> Result<Host, String> {
    let cfg = host_config(&o.plugin, table, o.budget)?;
    Host::from_config(cfg).map_err(|e| refusal(&e))
}

/// What one message did, rendered so that two runs can be compared.
type Outcomes = Vec<String>;

/// Problems a pass saw.
#[derive(Default)]
struct Seen {
    /// Hook failures that were not about edits (panics).
    panics: Vec<String>,
    /// Edits the host refused, or results whose Content-Length is wrong.
    bad_edits: Vec<String>,
    /// Messages the plugin edited.
    edited: usize,
    /// Hook calls.
    calls: BTreeMap<&'static str, Vec<(f64, String)>>,
}

fn step_outcome(
    steps: &[StepTrace],
    name: &str,
    hook: &'static str,
    seen: &mut Option<&mut Seen>,
) -> String {
    let Some(s) = steps.first() else {
        return "-".into();
    };
    if let Some(seen) = seen.as_deref_mut() {
        seen.calls
            .entry(hook)
            .or_default()
            .push((s.elapsed.as_secs_f64() * 1e6, name.to_string()));
        if let StepOutcome::Failed { error, .. } = &s.outcome {
            let line = format!("{name} ({hook} hook): {error}");
            if error.starts_with("refused edit")
                || error.starts_with("refused reply")
                || error.starts_with("its edits produced")
            {
                seen.bad_edits.push(line);
            } else {
                seen.panics.push(line);
            }
        }
    }
    format!("{:?} {:?}", s.outcome, s.edits)
}

/// A message the plugin edited: it must parse (the host checked) and its Content-Length must be right.
fn check_edited(bytes: &[u8], name: &str, seen: &mut Option<&mut Seen>) {
    let Some(seen) = seen.as_deref_mut() else {
        return;
    };
    seen.edited += 1;
    match Message::parse(bytes) {
        Err(e) => seen
            .bad_edits
            .push(format!("{name}: the edited message does not parse: {e}")),
        Ok(m) => {
            let declared = m.first_value(kind::CONTENT_LENGTH).map(str::trim);
            let actual = m.body().len().to_string();
            if declared != Some(actual.as_str()) {
                seen.bad_edits.push(format!(
                    "{name}: Content-Length {declared:?} but the body is {actual} bytes"
                ));
            }
        }
    }
}

/// Walk the whole corpus through `chain` once, as the host would, one transaction per item.
fn pass(
    chain: &Chain,
    metrics: &Registry,
    corpus: &Corpus,
    mut seen: Option<&mut Seen>,
) -> Outcomes {
    let source = "192.0.2.10:5060".parse().expect("literal");
    let local = "127.0.0.1:5060".parse().expect("literal");
    let mut out = Vec::with_capacity(corpus.hook_calls());
    for (i, item) in corpus.items.iter().enumerate() {
        let mut ctx = TxContext::new(source, local, Transport::Udp, i as u64 + 1);
        let (request, answers) = match item {
            Item::Request { request, answers } => (Some(request), answers.as_slice()),
            Item::Response(r) => (None, std::slice::from_ref(r)),
        };
        if let Some(req) = request {
            let m = Message::parse(&req.bytes).expect("the corpus holds parsed messages");
            let mut steps = Vec::new();
            let r = chain.run_request(&m, &mut ctx, metrics, Some(&mut steps));
            let step = step_outcome(&steps, &req.name, "request", &mut seen);
            if let Some(e) = &r.edited {
                check_edited(e, &req.name, &mut seen);
            }
            out.push(format!("{step} => {:?}", r.verdict));
        }
        for a in answers {
            let m = Message::parse(&a.bytes).expect("the corpus holds parsed messages");
            let mut steps = Vec::new();
            let r = chain.run_response(&m, &mut ctx, metrics, Some(&mut steps));
            let step = step_outcome(&steps, &a.name, "response", &mut seen);
            if let Some(e) = &r.edited {
                check_edited(e, &a.name, &mut seen);
            }
            out.push(format!("{step} => {:?}", r.verdict));
        }
    }
    out
}

/// Names of the hook calls in corpus order (to say which message differed).
fn call_names(corpus: &Corpus) -> Vec<String> {
    let mut v = Vec::new();
    for item in &corpus.items {
        match item {
            Item::Request { request, answers } => {
                v.push(request.name.clone());
                v.extend(answers.iter().map(|a| a.name.clone()));
            }
            Item::Response(r) => v.push(r.name.clone()),
        }
    }
    v
}

/// Where two passes differ (at most `limit` lines).
fn differences(
    a: &Outcomes,
    b: &Outcomes,
    names: &[String],
    only: Option<&[bool]>,
    limit: usize,
) -> (usize, Vec<String>) {
    let mut n = 0;
    let mut lines = Vec::new();
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if only.is_some_and(|o| !o[i]) || x == y {
            continue;
        }
        n += 1;
        if lines.len() < limit {
            lines.push(format!(
                "{}: {x}  ≠  {y}",
                names.get(i).map_or("?", String::as_str)
            ));
        }
    }
    if a.len() != b.len() {
        n += 1;
        lines.push(format!("{} results against {}", a.len(), b.len()));
    }
    (n, lines)
}

/// A table with one more key the plugin cannot know.
fn with_unknown_key(t: &toml::Table) -> toml::Table {
    let mut t = t.clone();
    t.insert("conform_unknown_setting".into(), true.into());
    t
}

/// The example table with its first key's value swapped for one of another type.
fn with_wrong_type(t: &toml::Table) -> Option<(String, toml::Table)> {
    let (key, value) = t.iter().next()?;
    let wrong: toml::Value = match value {
        toml::Value::String(_) => 7.into(),
        _ => "conform-wrong-type".into(),
    };
    let mut t = t.clone();
    t.insert(key.clone(), wrong);
    Some((key.clone(), t))
}

/// One line of the plugin's refusal, checked for being one line.
fn one_line(why: &str) -> bool {
    !why.trim().is_empty() && !why.contains('\n')
}

/// Run every check, streaming events. Returns when done (or when a check leaves nothing to go on).
pub fn run(o: &Options, ev: &mut Events) {
    // 1. Load it as the host does.
    ev.started("manifest");
    let images = ImageCache::new(std::env::temp_dir().join("sip-interop-images"));
    let image = match images.load(&o.plugin, u64::MAX, &Registry::default()) {
        Ok(i) => i,
        Err(e) => {
            ev.done(Check::fail(
                "manifest",
                format!("the host refuses to load it: {e}"),
            ));
            return;
        }
    };
    let m = &image.manifest;
    ev.send(&Event::Loaded {
        name: m.name.to_string(),
        version: m.version.to_string(),
    });
    let unknown_bits = m.hooks & !(hooks::REQUEST | hooks::RESPONSE | hooks::TIMER | hooks::STATE);
    let readable = !m.name.trim().is_empty()
        && !m.version.trim().is_empty()
        && unknown_bits == 0
        && m.hooks & (hooks::REQUEST | hooks::RESPONSE) != 0;
    ev.done(Check::verdict(
        "manifest",
        readable,
        format!(
            "{} {}: hooks {}{}{}",
            m.name,
            m.version,
            hooks::names(m.hooks).join(", "),
            if m.description.is_empty() {
                "; no description".to_string()
            } else {
                format!("; \"{}\"", m.description)
            },
            if unknown_bits != 0 {
                format!("; unknown hook bits {unknown_bits:#x}")
            } else {
                String::new()
            },
        ),
    ));
    let has_state = m.hooks & hooks::STATE != 0;

    // 2. Config: the documented example is accepted; an unknown key and a wrong type are refused.
    ev.started("example-config");
    let example: toml::Table = match toml::from_str(&m.example_config) {
        Ok(t) => t,
        Err(e) => {
            ev.done(Check::fail(
                "example-config",
                format!("the manifest's example config is not TOML: {e}"),
            ));
            return;
        }
    };
    match build(o, &example) {
        Ok(_) => ev.done(Check::pass(
            "example-config",
            if m.example_config.trim().is_empty() {
                "no example config in the manifest: an empty table is accepted".to_string()
            } else {
                format!(
                    "the manifest's example config is accepted ({} keys)",
                    example.len()
                )
            },
        )),
        Err(why) => {
            ev.done(Check::fail(
                "example-config",
                format!("the manifest's own example config is refused: {why}"),
            ));
            return;
        }
    }
    ev.started("unknown-key-refused");
    ev.done(match build(o, &with_unknown_key(&example)) {
        Ok(_) => Check::fail("unknown-key-refused", "`conform_unknown_setting = true` was accepted: a misspelt key would be ignored silently (use #[serde(deny_unknown_fields)])"),
        Err(why) => Check::verdict(
            "unknown-key-refused",
            one_line(&why) && why.contains("conform_unknown_setting"),
            format!("refused: {why}"),
        ),
    });
    ev.started("wrong-type-refused");
    ev.done(match with_wrong_type(&example) {
        None => Check::pass(
            "wrong-type-refused",
            "no example key to mistype (the plugin takes no settings)",
        ),
        Some((key, t)) => match build(o, &t) {
            Ok(_) => Check::fail(
                "wrong-type-refused",
                format!("`{key}` with a value of the wrong type was accepted"),
            ),
            Err(why) => Check::verdict(
                "wrong-type-refused",
                one_line(&why),
                format!("`{key}` mistyped, refused: {why}"),
            ),
        },
    });

    // The table the traffic checks run with.
    let table: toml::Table = match &o.config {
        None => example,
        Some(text) => match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                ev.done(Check::fail(
                    "given-config",
                    format!("--config is not a TOML table: {e}"),
                ));
                return;
            }
        },
    };
    if o.config.is_some() {
        ev.started("given-config");
        match build(o, &table) {
            Ok(_) => ev.done(Check::pass(
                "given-config",
                "the --config table is accepted",
            )),
            Err(why) => {
                ev.done(Check::fail(
                    "given-config",
                    format!("the --config table is refused: {why}"),
                ));
                return;
            }
        }
    }
    let corpus = match Corpus::load(o.messages.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            ev.done(Check::fail("corpus", format!("--messages: {e}")));
            return;
        }
    };
    let names = call_names(&corpus);
    let (Ok(a), Ok(b)) = (build(o, &table), build(o, &table)) else {
        ev.done(Check::fail(
            "corpus",
            "the plugin refused a config it accepted a moment ago",
        ));
        return;
    };

    // 3. The corpus through the hooks: no panic, edits well-formed, timings.
    ev.started("survives-corpus");
    let mut seen = Seen::default();
    let chain_a = a.snapshot();
    let first = pass(&chain_a, a.metrics(), &corpus, Some(&mut seen));
    let calls: usize = seen.calls.values().map(Vec::len).sum();
    ev.done(
        Check::verdict(
            "survives-corpus",
            seen.panics.is_empty(),
            format!(
                "{} hook calls over {} messages (RFC 4475, PROTOS c07-sip sample, everyday requests and their answers); {} kept from the plugin by the host (unparseable or answered before the chain); {} failed",
                calls,
                corpus.items.len(),
                corpus.unparseable + corpus.refused_before_chain,
                seen.panics.len()
            ),
        )
        .with_details(seen.panics.iter().take(10).cloned().collect()),
    );
    ev.started("edits-well-formed");
    ev.done(
        Check::verdict(
            "edits-well-formed",
            seen.bad_edits.is_empty(),
            format!(
                "{} messages edited; {}",
                seen.edited,
                if seen.bad_edits.is_empty() {
                    "each result parses, passes the RFC 3261 checks and has a right Content-Length; every local reply can be written as built"
                        .to_string()
                } else {
                    format!("{} refused or wrong", seen.bad_edits.len())
                }
            ),
        )
        .with_details(seen.bad_edits.iter().take(10).cloned().collect()),
    );
    let timings: Vec<HookTiming> = seen
        .calls
        .iter_mut()
        .filter_map(|(hook, samples)| HookTiming::of(hook, samples))
        .collect();
    let budget_us = o.budget.as_secs_f64() * 1e6;
    let over: Vec<String> = timings
        .iter()
        .filter(|t| t.p99_us > budget_us)
        .map(|t| {
            format!(
                "{} hook: p99 {:.0} µs over the {} ms budget (slowest: {})",
                t.hook,
                t.p99_us,
                o.budget.as_millis(),
                t.slowest
            )
        })
        .collect();
    ev.send(&Event::Timings(timings.clone()));
    ev.done(
        Check::verdict(
            "time-budget",
            over.is_empty(),
            format!(
                "99 % of hook calls within the {} ms budget per call",
                o.budget.as_millis()
            ),
        )
        .with_details(over),
    );

    // 4. Determinism: a second instance, same config, same traffic.
    ev.started("deterministic");
    let chain_b = b.snapshot();
    let again = pass(&chain_b, b.metrics(), &corpus, None);
    let (n, lines) = differences(&first, &again, &names, None, 5);
    ev.done(
        Check::verdict(
            "deterministic",
            n == 0,
            format!(
                "a second instance given the same config and traffic: {n} of {} results differ",
                first.len()
            ),
        )
        .with_details(lines),
    );

    // 5. Concurrency: the same traffic from several threads at once, against sequential results.
    ev.started("concurrent");
    let seq1 = pass(&chain_a, a.metrics(), &corpus, None);
    let seq2 = pass(&chain_a, a.metrics(), &corpus, None);
    let stable: Vec<bool> = seq1.iter().zip(&seq2).map(|(x, y)| x == y).collect();
    let history = stable.iter().filter(|s| !**s).count();
    let parallel: Vec<Outcomes> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..o.threads.max(2))
            .map(|_| s.spawn(|| pass(&chain_a, a.metrics(), &corpus, None)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut n = 0;
    let mut lines = Vec::new();
    for (t, got) in parallel.iter().enumerate() {
        let (k, l) = differences(&seq2, got, &names, Some(&stable), 3);
        n += k;
        lines.extend(l.into_iter().map(|l| format!("thread {t}: {l}")));
    }
    ev.done(
        Check::verdict(
            "concurrent",
            n == 0,
            format!(
                "{} threads at once on one instance: {n} results differ from sequential{}",
                parallel.len(),
                if history > 0 {
                    format!(" ({history} results depend on earlier traffic and are not compared)")
                } else {
                    String::new()
                }
            ),
        )
        .with_details(lines.into_iter().take(6).collect()),
    );

    // 6. Hot swap: reload the same plugin and config; the successor takes the state over and then
    // treats traffic exactly as its predecessor does.
    ev.started("hot-swap");
    // Asked even without the state hook: a plugin that has state but does not declare the hook
    // loses it on every reload, because the host only hands state over when the manifest says so.
    let exported = chain_a.links[0]
        .instance
        .hooks
        .export_state()
        .into_result()
        .map(|v| v.len());
    let swapped = host_config(&o.plugin, &table, o.budget)
        .and_then(|c| a.install(c, "conform").map_err(|e| refusal(&e)));
    let check = match (exported, swapped) {
        (Err(e), _) => Check::fail("hot-swap", format!("exporting its state failed: {e}")),
        (_, Err(e)) => Check::fail(
            "hot-swap",
            format!("reloading the same plugin and config failed: {e}"),
        ),
        (Ok(bytes), Ok(_)) if bytes > 0 && !has_state => Check::fail(
            "hot-swap",
            format!("the plugin exports {bytes} bytes of state but its manifest lacks the state hook (HOOKS without hooks::STATE): the host drops that state on every reload"),
        ),
        (Ok(bytes), Ok(_)) => {
            let successor: Arc<Chain> = a.snapshot();
            let old = pass(&chain_a, a.metrics(), &corpus, None);
            let new = pass(&successor, a.metrics(), &corpus, None);
            let (n, lines) = differences(&old, &new, &names, None, 5);
            let state = if has_state {
                format!("{bytes} bytes of state handed over; ")
            } else {
                "no state; ".to_string()
            };
            Check::verdict(
                "hot-swap",
                n == 0,
                format!("{state}after a reload of the same version, {n} of {} results differ between predecessor and successor", old.len()),
            )
            .with_details(lines)
        }
    };
    ev.done(check);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_probes_change_only_what_they_say() {
        let t: toml::Table = toml::from_str("a = \"x\"\nb = 2\n").unwrap();
        let u = with_unknown_key(&t);
        assert_eq!(u.len(), 3);
        assert_eq!(u["conform_unknown_setting"], toml::Value::Boolean(true));
        let (key, w) = with_wrong_type(&t).unwrap();
        assert_eq!(key, "a");
        assert_eq!(w["a"], toml::Value::Integer(7));
        assert_eq!(w["b"], toml::Value::Integer(2));
        assert!(with_wrong_type(&toml::Table::new()).is_none());
    }

    #[test]
    fn the_host_config_nests_the_plugin_table_under_its_entry() {
        let t: toml::Table =
            toml::from_str("methods = [\"INVITE\"]\n[[headers]]\nname = \"X-A\"\nvalue = \"1\"\n")
                .unwrap();
        let c = host_config(
            Path::new("/nonexistent/libx.so"),
            &t,
            Duration::from_millis(5),
        )
        .unwrap();
        let e = &c.config.chain[0];
        assert_eq!(e.name.as_deref(), Some(ENTRY));
        assert_eq!(e.budget_ms, 5);
    }

    #[test]
    fn differences_name_the_message_and_skip_unstable_results() {
        let a = vec!["x".to_string(), "y".into(), "z".into()];
        let b = vec!["x".to_string(), "Y".into(), "Z".into()];
        let names = vec!["m0".to_string(), "m1".into(), "m2".into()];
        let (n, lines) = differences(&a, &b, &names, None, 1);
        assert_eq!(n, 2);
        assert_eq!(lines, vec!["m1: y  ≠  Y".to_string()]);
        let (n, _) = differences(&a, &b, &names, Some(&[true, false, true]), 5);
        assert_eq!(n, 1);
    }
}
