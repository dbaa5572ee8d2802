//! The decision for one request, and its explanation.

use std::net::SocketAddr;
use std::time::Duration;

use crate::routing::alias::{transport_of_uri, ParsedUri};
use crate::routing::collections::find_route;
use crate::routing::config::{CertificateChoice, Config, Consult, OnNoMatch};
use crate::routing::diagnostics::{NO_MATCH_REASON, NO_MATCH_STATUS};
use crate::routing::directory::Directory;
use crate::routing::explain::{note, Explain};
use crate::routing::rules::{find_rule, RuleTarget};

/// Outgoing transport of a next hop: the SDK's (`Any` = as the next-hop URI and RFC 3263 say).
pub use sip_interop_abi::sdk::Transport;

/// What the adapter knows about the request.
#[derive(Clone, Copy, Debug)]
pub struct RequestFacts<'a> {
    /// The Request-URI as received.
    pub request_uri: &'a str,
    /// The address the request came from.
    pub source: SocketAddr,
    /// The transport it arrived on: `udp`, `tcp`, `tls` (also `ws`, `wss`), any case.
    pub transport: &'a str,
    /// True for an in-dialog request (the To header has a tag).
    pub in_dialog: bool,
    /// True when the request carries a Route header.
    pub has_route: bool,
}

/// Where to send the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextHop {
    /// The Request-URI to send (rewritten by a rule or by `replace_host_in_request_uri`, else as
    /// received).
    pub request_uri: String,
    /// A SIP URI for the host to resolve, e.g. `sip:cucm.contoso.com:5061;transport=tls` or
    /// `sip:10.0.0.5:5060;transport=tcp`.
    pub next_hop: String,
    /// The transport to use.
    pub transport: Transport,
    /// The source IP address as text: the host keeps one client on one address of a
    /// multi-address destination.
    pub sticky_key: String,
    /// How long the host skips an address of this next hop that failed.
    pub mark_down: Duration,
    /// What chose this hop: `local user alice@contoso.com`, `route to-cucm in global`,
    /// `rule E.164 to CUCM (priority 10)`.
    pub matched_by: String,
    /// The certificate to present, for a TLS next hop.
    pub tls_certificate: Option<CertificateChoice>,
}

/// The routing decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Forward to this next hop.
    Route(NextHop),
    /// Answer the request (404 with `ms-diagnostics: 1005` and `Warning: 399` when nothing
    /// matched and `on_no_match = "reply"`).
    Reply {
        /// Status code.
        status: u16,
        /// Reason phrase.
        reason: String,
        /// Headers to add to the answer.
        headers: Vec<(String, String)>,
    },
    /// Not ours to route: let the next plugin (or the host's default routing) decide.
    Continue,
}

/// Decide where the request described by `facts` goes. With `explain = Some(lines)`, one line per
/// step is appended; with `None`, no explanation text is built.
pub fn decide(
    config: &Config,
    facts: &RequestFacts<'_>,
    directory: &dyn Directory,
    explain: Option<&mut Vec<String>>,
) -> Decision {
    let mut ex = Explain::new(explain);
    if facts.in_dialog {
        note!(
            ex,
            "in-dialog request (To tag present): not routed by this plugin; continue"
        );
        return Decision::Continue;
    }
    if facts.has_route {
        note!(
            ex,
            "the request carries a Route header: it follows its route set, not routed by this plugin; continue"
        );
        return Decision::Continue;
    }
    let uri = ParsedUri::parse(facts.request_uri);
    if uri.is_none() {
        note!(
            ex,
            "Request-URI {} is not a sip:, sips: or tel: URI: only rules with match_full_uri can match",
            facts.request_uri
        );
    }

    if let Some(hop) = local_user(config, facts, uri.as_ref(), directory, &mut ex) {
        return finish(config, facts, hop, &mut ex);
    }

    let order = match config.consult {
        Consult::RoutesFirst => [Step::Routes, Step::Rules],
        Consult::RulesFirst => [Step::Rules, Step::Routes],
    };
    for (n, step) in order.into_iter().enumerate() {
        if n == 0 {
            note!(
                ex,
                "consult = {}: {} first",
                match config.consult {
                    Consult::RoutesFirst => "routes_first",
                    Consult::RulesFirst => "rules_first",
                },
                step.name()
            );
        } else {
            note!(ex, "then {}", step.name());
        }
        let hop = match step {
            Step::Routes => find_route(config, uri.as_ref(), &mut ex)
                .map(|i| route_hop(config, i, facts, uri.as_ref())),
            Step::Rules => rule_step(config, facts, uri.as_ref(), &mut ex),
        };
        if let Some(hop) = hop {
            return finish(config, facts, hop, &mut ex);
        }
    }

    match config.on_no_match {
        OnNoMatch::Reply => {
            note!(
                ex,
                "nothing matched: answer {NO_MATCH_STATUS} {NO_MATCH_REASON} with ms-diagnostics 1005 (on_no_match = reply)"
            );
            Decision::Reply {
                status: NO_MATCH_STATUS,
                reason: NO_MATCH_REASON.to_string(),
                headers: config.no_match_headers.clone(),
            }
        }
        OnNoMatch::Continue => {
            note!(
                ex,
                "nothing matched: continue, the next plugin decides (on_no_match = continue)"
            );
            Decision::Continue
        }
    }
}

#[derive(Clone, Copy)]
enum Step {
    Routes,
    Rules,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Routes => "static routes",
            Step::Rules => "regex rules",
        }
    }
}

/// A next hop without the request-independent fields filled in yet.
struct Hop {
    request_uri: String,
    next_hop: String,
    transport: Transport,
    matched_by: String,
    tls_certificate: Option<CertificateChoice>,
}

fn finish(config: &Config, facts: &RequestFacts<'_>, hop: Hop, ex: &mut Explain<'_>) -> Decision {
    let next = NextHop {
        request_uri: hop.request_uri,
        next_hop: hop.next_hop,
        transport: hop.transport,
        sticky_key: facts.source.ip().to_string(),
        mark_down: config.mark_down,
        matched_by: hop.matched_by,
        tls_certificate: hop.tls_certificate,
    };
    note!(
        ex,
        "next hop {} (transport {}), Request-URI {}, chosen by {}; sticky key {} (one source stays on one address of the next hop); a failed address is skipped for {} min",
        next.next_hop,
        next.transport.as_str(),
        next.request_uri,
        next.matched_by,
        next.sticky_key,
        next.mark_down.as_secs() / 60
    );
    Decision::Route(next)
}

fn default_cert(t: Transport) -> Option<CertificateChoice> {
    (t == Transport::Tls).then_some(CertificateChoice::Default)
}

fn local_user(
    config: &Config,
    facts: &RequestFacts<'_>,
    uri: Option<&ParsedUri<'_>>,
    directory: &dyn Directory,
    ex: &mut Explain<'_>,
) -> Option<Hop> {
    if config.local_domains.is_empty() {
        return None;
    }
    let uri = uri?;
    let host = uri.match_host()?;
    let domain = config
        .local_domains
        .iter()
        .find(|d| d.eq_ignore_ascii_case(host))?;
    let Some(user) = uri.user else {
        note!(
            ex,
            "local domain {domain}: the Request-URI has no user part, so no local user lookup"
        );
        return None;
    };
    let aor = format!("{user}@{domain}");
    match directory.home_of(&aor) {
        Some(home) => {
            note!(ex, "local user {aor}: homed at {home}");
            let transport = transport_of_uri(&home);
            Some(Hop {
                request_uri: facts.request_uri.to_string(),
                next_hop: home,
                transport,
                matched_by: format!("local user {aor}"),
                tls_certificate: default_cert(transport),
            })
        }
        None => {
            note!(
                ex,
                "local domain {domain}: no local user {aor} in the directory; static routes and rules apply"
            );
            None
        }
    }
}

fn route_hop(
    config: &Config,
    i: usize,
    facts: &RequestFacts<'_>,
    uri: Option<&ParsedUri<'_>>,
) -> Hop {
    let r = &config.routes[i];
    let request_uri = if r.replace_host {
        uri.and_then(|u| u.with_host(&r.uri_host))
            .unwrap_or_else(|| facts.request_uri.to_string())
    } else {
        facts.request_uri.to_string()
    };
    Hop {
        request_uri,
        next_hop: r.next_hop.clone(),
        transport: r.transport,
        matched_by: r.matched_by.clone(),
        tls_certificate: r.certificate.clone(),
    }
}

fn rule_step(
    config: &Config,
    facts: &RequestFacts<'_>,
    uri: Option<&ParsedUri<'_>>,
    ex: &mut Explain<'_>,
) -> Option<Hop> {
    let hit = find_rule(
        &config.rules,
        &config.routes,
        facts.request_uri,
        uri,
        facts.source,
        facts.transport,
        ex,
    )?;
    let rule = &config.rules[hit.rule];
    let hop = match &rule.target {
        RuleTarget::Route(k) => {
            let r = &config.routes[*k];
            let request_uri = if r.replace_host {
                match ParsedUri::parse(&hit.request_uri).and_then(|u| u.with_host(&r.uri_host)) {
                    Some(u) => u,
                    None => {
                        note!(
                            ex,
                            "{}: replace_host_in_request_uri cannot apply to {} (no host)",
                            r.label,
                            hit.request_uri
                        );
                        hit.request_uri
                    }
                }
            } else {
                hit.request_uri
            };
            note!(
                ex,
                "{} -> target {} in {}",
                rule.label,
                r.label,
                config.collections[r.collection].identity
            );
            Hop {
                request_uri,
                next_hop: r.next_hop.clone(),
                transport: r.transport,
                matched_by: rule.label.clone(),
                tls_certificate: r.certificate.clone(),
            }
        }
        RuleTarget::Pool(k) => {
            let p = &config.pools[*k];
            note!(ex, "{} -> target trusted pool {}", rule.label, p.name);
            Hop {
                request_uri: hit.request_uri,
                next_hop: p.next_hop.clone(),
                transport: p.transport,
                matched_by: rule.label.clone(),
                tls_certificate: default_cert(p.transport),
            }
        }
        RuleTarget::Uri { uri, transport } => {
            note!(ex, "{} -> target uri {uri}", rule.label);
            Hop {
                request_uri: hit.request_uri,
                next_hop: uri.clone(),
                transport: *transport,
                matched_by: rule.label.clone(),
                tls_certificate: default_cert(*transport),
            }
        }
    };
    Some(hop)
}
