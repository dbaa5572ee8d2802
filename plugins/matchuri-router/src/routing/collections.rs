//! Which route collection applies on this host (decided once, at load), and the most specific
//! matching route in it (per request).

use std::cmp::Ordering;

use crate::routing::alias::ParsedUri;
use crate::routing::config::{Collection, Config, Route};
use crate::routing::explain::{note, Explain};
use crate::routing::match_uri::{compare_specificity, HostMatch};

/// The collection chosen at load.
#[derive(Debug)]
pub(crate) struct Selection {
    /// Index into `Config::collections` (0 = global).
    pub(crate) primary: usize,
    /// Consult global when `primary` has no match (its `merge_global`).
    pub(crate) fallback_global: bool,
    /// One explanation line: which collection and why.
    pub(crate) why: String,
}

/// Lync's rule: the `service:Registrar:<registrar_pool>` collection if it exists, else global.
pub(crate) fn select(registrar_pool: Option<&str>, collections: &[Collection]) -> Selection {
    let Some(pool) = registrar_pool else {
        return Selection {
            primary: 0,
            fallback_global: false,
            why: "collection global applies (no registrar_pool configured)".into(),
        };
    };
    let found = collections.iter().position(|c| {
        c.identity
            .get(18..)
            .is_some_and(|p| p.trim_end_matches('.').eq_ignore_ascii_case(pool))
    });
    match found {
        Some(i) => {
            let c = &collections[i];
            Selection {
                primary: i,
                fallback_global: c.merge_global,
                why: if c.merge_global {
                    format!("collection {} applies (registrar_pool {pool}); merge_global = true: global routes are consulted when none of its routes matches", c.identity)
                } else {
                    format!("collection {} applies (registrar_pool {pool}); merge_global = false: global routes are not consulted", c.identity)
                },
            }
        }
        None => Selection {
            primary: 0,
            fallback_global: false,
            why: format!(
                "collection global applies (no collection service:Registrar:{pool} is configured)"
            ),
        },
    }
}

/// The route to use for `uri`, explaining each route considered.
pub(crate) fn find_route(
    config: &Config,
    uri: Option<&ParsedUri<'_>>,
    ex: &mut Explain<'_>,
) -> Option<usize> {
    note!(ex, "{}", config.selection.why);
    let Some(host) = uri.and_then(|u| u.match_host()) else {
        note!(
            ex,
            "static routes: the Request-URI has no host to match (not a sip:/sips: URI)"
        );
        return None;
    };
    let phone = uri.is_some_and(|u| u.is_phone());
    let primary = &config.collections[config.selection.primary];
    if let Some(i) = best_in(config, primary, host, phone, ex) {
        return Some(i);
    }
    if config.selection.fallback_global {
        note!(
            ex,
            "no route of {} matched; merge_global = true: consulting global",
            primary.identity
        );
        if let Some(i) = best_in(config, &config.collections[0], host, phone, ex) {
            return Some(i);
        }
    }
    note!(ex, "no static route matched host {host}");
    None
}

fn best_in(
    config: &Config,
    collection: &Collection,
    host: &str,
    phone: bool,
    ex: &mut Explain<'_>,
) -> Option<usize> {
    if collection.routes.is_empty() {
        note!(ex, "collection {} has no routes", collection.identity);
        return None;
    }
    let mut best: Option<usize> = None;
    for &i in &collection.routes {
        let r = &config.routes[i];
        if !considers(r, host, phone, ex) {
            continue;
        }
        best = match best {
            Some(b) => {
                let rb = &config.routes[b];
                if compare_specificity((&r.match_uri, r.phone_only), (&rb.match_uri, rb.phone_only))
                    == Ordering::Greater
                {
                    Some(i)
                } else {
                    Some(b)
                }
            }
            None => Some(i),
        };
    }
    if let Some(b) = best {
        let r = &config.routes[b];
        note!(
            ex,
            "chosen: {} (the most specific match in {})",
            r.label,
            collection.identity
        );
    }
    best
}

/// Does route `r` match? Explains the answer.
fn considers(r: &Route, host: &str, phone: bool, ex: &mut Explain<'_>) -> bool {
    if !r.enabled {
        note!(ex, "{}: skipped, disabled", r.label);
        return false;
    }
    let m = r.match_uri.check(host);
    match m {
        HostMatch::No if r.match_uri.wildcard => {
            note!(
                ex,
                "{}: host {host} does not end in {}",
                r.label,
                r.match_uri.needle
            );
            return false;
        }
        HostMatch::No => {
            note!(ex, "{}: host {host} is not {}", r.label, r.match_uri.domain);
            return false;
        }
        HostMatch::ParentOfWildcard => {
            note!(
                ex,
                "{}: host {host} is the parent domain; {} matches only its subdomains",
                r.label,
                r.match_uri.text
            );
            return false;
        }
        HostMatch::Exact | HostMatch::Subdomain => {}
    }
    if r.phone_only && !phone {
        note!(
            ex,
            "{}: host {host} matches, but the Request-URI has no user=phone",
            r.label
        );
        return false;
    }
    note!(
        ex,
        "{}: matches host {host} ({})",
        r.label,
        if m == HostMatch::Exact {
            "exact"
        } else {
            "wildcard"
        }
    );
    true
}
