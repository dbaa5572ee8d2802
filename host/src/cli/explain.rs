//! `sip-interop explain -c FILE MESSAGE`: the operators' dry run. Nothing is sent.

use std::path::PathBuf;
use std::process::ExitCode;

use sip_interop_abi::sdk::{Transport, Verdict};
use sip_interop_abi::sip::{proxy_disposition, Disposition, Edit, HeaderPosition, Message};

use crate::chain::{StepOutcome, StepTrace, TxContext};

#[derive(clap::Args, Debug)]
pub(super) struct ExplainArgs {
    /// The config file.
    #[arg(short, long)]
    pub config: PathBuf,
    /// File holding the raw request (or response, with --response).
    pub message: PathBuf,
    /// Address the message is taken to come from.
    #[arg(long, default_value = "192.0.2.10:5060")]
    pub source: std::net::SocketAddr,
    /// Transport it is taken to arrive on (udp, tcp, tls, ws, wss).
    #[arg(long, default_value = "udp")]
    pub transport: String,
    /// Treat the message as a response walking the chain backwards.
    #[arg(long)]
    pub response: bool,
    /// Print the message as it would leave the host.
    #[arg(long)]
    pub show_message: bool,
    /// Look next hops given by name up in DNS now (RFC 3263), with the config's name servers.
    #[arg(long)]
    pub resolve: bool,
}

/// Where each target of a route verdict would go: the next hop, and its addresses in the order the
/// proxy would try them for this source (looked up only with `--resolve`).
fn print_next_hops(
    targets: &[sip_interop_abi::sdk::Target],
    source: std::net::SocketAddr,
    cfg: &crate::config::ProxyConfig,
    resolve: bool,
) {
    use crate::proxy::{order, plan, Candidate, Dns, DnsSettings, Health, Plan};
    let dns = resolve
        .then(|| {
            Dns::start(&DnsSettings {
                servers: cfg.dns_servers.clone(),
                timeout: std::time::Duration::from_millis(cfg.dns_timeout_ms),
                queue: 16,
            })
            .map_err(|e| println!("next hops: the resolver did not start: {e}"))
            .ok()
        })
        .flatten();
    for t in targets {
        let hop = t.next_hop.as_deref().unwrap_or(&t.uri);
        let key = t
            .sticky_key
            .clone()
            .unwrap_or_else(|| source.ip().to_string());
        println!("next hop {hop} (a Route header in the request would come first):");
        let found = match plan(hop, t.transport) {
            Err(e) => {
                println!(
                    "     cannot be sent: {} (the branch ends with {})",
                    e.why, e.status
                );
                continue;
            }
            Ok(Plan::Ready(d)) => vec![Candidate::from(&d)],
            Ok(Plan::Lookup(q)) => match &dns {
                None => {
                    println!("     {} is looked up in DNS when the request is sent (NAPTR, SRV, A/AAAA; --resolve looks it up now)", q.name);
                    continue;
                }
                Some(dns) => match dns.locate_blocking(q) {
                    Ok(c) if !c.is_empty() => c,
                    Ok(_) => {
                        println!("     DNS has no address for it: the branch would end with 503");
                        continue;
                    }
                    Err(e) => {
                        println!("     DNS failed: {e}");
                        continue;
                    }
                },
            },
        };
        let ordered = order(found, &key, &Health::default(), std::time::Instant::now());
        println!("     tried in this order for stickiness key {key}:");
        for (i, c) in ordered.iter().enumerate() {
            println!(
                "     {}. {} {} ({})",
                i + 1,
                c.transport.as_str(),
                c.addr,
                c.found_by
            );
        }
    }
}

/// One line describing an edit.
pub fn describe_edit(e: &Edit) -> String {
    match e {
        Edit::SetRequestUri(u) => format!("set Request-URI to {u}"),
        Edit::AddHeader {
            name,
            value,
            position,
        } => {
            let at = if *position == HeaderPosition::First {
                " (first)"
            } else {
                ""
            };
            format!("add header {name}: {value}{at}")
        }
        Edit::RemoveHeader { name } => format!("remove every {name} header"),
        Edit::RemoveHeaderAt { index } => format!("remove header line #{index}"),
        Edit::ReplaceHeader { name, value } => format!("replace {name} with: {value}"),
        Edit::ReplaceHeaderAt { index, value } => {
            format!("replace header line #{index} with: {value}")
        }
        Edit::ReplaceBody { content_type, body } if content_type.is_empty() && body.is_empty() => {
            "remove the body".into()
        }
        Edit::ReplaceBody { content_type, body } => format!(
            "replace the body with {} bytes of {content_type}",
            body.len()
        ),
        Edit::PushVia { value } => format!("push Via: {value}"),
        Edit::PopVia => "pop the top Via".into(),
        Edit::SetStatus { code, reason } => format!("set status to {code} {reason}"),
    }
}

fn describe_verdict(v: &Verdict) -> String {
    match v {
        Verdict::Continue => "continue".into(),
        Verdict::Drop => "drop".into(),
        Verdict::Respond(r) => {
            let mut s = format!("respond {} {}", r.status, r.reason);
            for (n, v) in &r.headers {
                s.push_str(&format!("; {n}: {v}"));
            }
            if let Some((t, b)) = &r.body {
                s.push_str(&format!("; body {t}, {} bytes", b.len()));
            }
            s
        }
        Verdict::Route(ts) => {
            let list: Vec<String> = ts
                .iter()
                .map(|t| {
                    let mut s = t.uri.clone();
                    if t.transport != Transport::Any {
                        s.push_str(&format!(" over {}", t.transport.as_str()));
                    }
                    if !t.delay.is_zero() {
                        s.push_str(&format!(" after {} ms", t.delay.as_millis()));
                    }
                    if t.fork_group != 0 {
                        s.push_str(&format!(" (fork group {})", t.fork_group));
                    }
                    if !t.min_answer.is_zero() {
                        s.push_str(&format!(
                            " (2xx before {} ms absorbed)",
                            t.min_answer.as_millis()
                        ));
                    }
                    if let Some(hop) = &t.next_hop {
                        s.push_str(&format!(" via next hop {hop}"));
                    }
                    if let Some(key) = &t.sticky_key {
                        s.push_str(&format!(" (stickiness key {key})"));
                    }
                    if let Some(d) = t.mark_down {
                        s.push_str(&format!(
                            " (failed addresses skipped for {} s)",
                            d.as_secs()
                        ));
                    }
                    s
                })
                .collect();
            format!("route to {}", list.join(", "))
        }
    }
}

fn print_steps(steps: &[StepTrace]) {
    for (i, s) in steps.iter().enumerate() {
        let what = match &s.outcome {
            StepOutcome::Request(v) => describe_verdict(v),
            StepOutcome::Response(v) => format!("{v:?}").to_lowercase(),
            StepOutcome::Failed { error, policy } => {
                let policy = format!("{policy:?}").to_lowercase();
                format!("FAILED ({error}); on_panic = {policy} applies")
            }
        };
        println!(
            "{}. {} — {} edit(s), verdict: {what} [{} µs]",
            i + 1,
            s.plugin,
            s.edits.len(),
            s.elapsed.as_micros()
        );
        for line in &s.explanation {
            println!("     · {line}");
        }
        for e in &s.edits {
            println!("     {}", describe_edit(e));
        }
    }
}

pub(super) fn explain(a: &ExplainArgs) -> ExitCode {
    let Some(transport) = Transport::parse(&a.transport) else {
        eprintln!(
            "--transport: `{}` is not udp, tcp, tls, ws or wss",
            a.transport
        );
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&a.message) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: cannot read: {e}", a.message.display());
            return ExitCode::from(2);
        }
    };
    let host = match super::load_host(&a.config) {
        Ok((h, _)) => h,
        Err(code) => return code,
    };
    let chain = host.snapshot();
    println!(
        "config {} — chain generation {} with {} plugin(s)",
        a.config.display(),
        chain.generation,
        chain.links.len()
    );
    match proxy_disposition(&bytes) {
        Disposition::Forward => {}
        Disposition::Reject {
            status,
            reason,
            unsupported,
        } => {
            println!(
                "before the chain: the host answers {}",
                super::describe_refusal(status, &reason, &unsupported)
            );
            println!("the chain is not consulted");
            return ExitCode::SUCCESS;
        }
        Disposition::Drop { why } => {
            println!("before the chain: the host drops it: {why}");
            return ExitCode::SUCCESS;
        }
    }
    let msg = Message::parse(&bytes).expect("forwardable messages parse");
    print!("{}", super::check_message::summary(&msg));
    let local: std::net::SocketAddr = "127.0.0.1:5060".parse().expect("constant");
    let mut ctx = TxContext::new(a.source, local, transport, 1);
    let mut steps = Vec::new();
    crate::plugin::services::start_explaining();
    let edited = if a.response || !msg.is_request() {
        println!("response walk (last plugin first):");
        let out = host.process_response(&chain, &msg, &mut ctx, Some(&mut steps));
        print_steps(&steps);
        println!(
            "result: {}",
            if out.verdict == sip_interop_abi::sdk::ResponseVerdict::Drop {
                "dropped"
            } else {
                "passed on"
            }
        );
        out.edited
    } else {
        println!("request walk:");
        let out = host.process_request(&msg, &mut ctx, Some(&mut steps));
        print_steps(&steps);
        let by = out.decided_by.map(|i| chain.links[i].name.clone());
        match (&out.verdict, by) {
            (Verdict::Continue, _) => println!(
                "result: no plugin decided: default route by Request-URI/Route ({})",
                msg.request_uri_str().unwrap_or("")
            ),
            (v, Some(by)) => println!("result: {} (decided by {by})", describe_verdict(v)),
            (v, None) => println!("result: {}", describe_verdict(v)),
        }
        if let Verdict::Route(targets) = &out.verdict {
            print_next_hops(targets, a.source, &host.config().config.proxy, a.resolve);
        }
        out.edited
    };
    if !ctx.scratchpad.entries.is_empty() {
        println!("facts recorded for later plugins:");
        for e in ctx.scratchpad.entries.iter() {
            println!("     {} = {:?}", e.key, e.value);
        }
    }
    if a.show_message {
        println!("--- message as it would leave the host ---");
        print!(
            "{}",
            String::from_utf8_lossy(edited.as_deref().unwrap_or(&bytes))
        );
    } else if edited.is_some() {
        println!("(the message was edited; --show-message prints it)");
    }
    ExitCode::SUCCESS
}
