//! The plugin: a request's facts out of the SDK view, the routing core's decision back as a verdict,
//! and — when the host reports that every address of the chosen next hop failed — the answer in the
//! Lync form (`504` with `ms-diagnostics`).

use sip_interop_abi::prelude::*;
use sip_interop_abi::sdk::{host, ConfigError, LocalFailure};

use crate::routing::{decide, Config, Decision, Directory, FailureKind, RequestFacts};

/// Scratchpad key: the next hop this plugin chose (for its response hook and later plugins).
pub const DESTINATION_KEY: &str = "router.destination";
/// Scratchpad key: which route, rule or local user decided.
pub const MATCHED_BY_KEY: &str = "router.matched_by";

/// The MatchURI router.
pub struct MatchUriRouter {
    config: Config,
}

impl MatchUriRouter {
    /// Build from the plugin's config table.
    pub fn from_table(table: toml::Table) -> Result<Self, ConfigError> {
        let text = toml::to_string(&table).map_err(|e| ConfigError::table(e.to_string()))?;
        Self::from_toml(&text)
    }

    /// Build from the plugin's config table as TOML text.
    pub fn from_toml(table: &str) -> Result<Self, ConfigError> {
        Config::from_toml(table)
            .map(|config| MatchUriRouter { config })
            .map_err(|p| {
                if p.field.is_empty() {
                    ConfigError::table(p.message)
                } else {
                    ConfigError::field(p.field, p.message)
                }
            })
    }
}

/// The host's user directory, as the routing core asks for it.
struct HostDirectory;

impl Directory for HostDirectory {
    fn home_of(&self, user_at_host: &str) -> Option<String> {
        host::directory_home(user_at_host)
    }
}

const EXAMPLE_CONFIG: &str = r#"registrar_pool = "pool01.contoso.com"
consult = "routes_first"
local_domains = ["contoso.com"]
mark_down_minutes = 10

[[route]]
name = "to-cucm"
match_uri = "cucm.example.net"
transport = "tcp"
destination = "192.0.2.50"
port = 5060

[[route]]
name = "partner"
match_uri = "*.fabrikam.com"
transport = "tls"
destination = "edge.fabrikam.com"
port = 5061

[[rule]]
name = "E.164 to CUCM"
priority = 10
match = '\+1([0-9]{10})@contoso\.com'
replace = '+1\1@cucm.example.net'
target = { route = "to-cucm" }
"#;

impl Plugin for MatchUriRouter {
    const DESCRIPTION: &'static str = "MatchURI static router: Lync/Skype for Business static routes (global and registrar-pool collections, local users first) and priority regex routing rules; 404/504 with ms-diagnostics in the Lync form.";
    const EXAMPLE_CONFIG: &'static str = EXAMPLE_CONFIG;
    const CONFIG_SCHEMA: &'static str = "registrar_pool: string (optional) — the Lync registrar pool this host belongs to; selects the collection service:Registrar:<pool>\n\
server_name: string (optional) — ms-diagnostics source and Warning agent\n\
consult: \"routes_first\" | \"rules_first\" (default routes_first)\n\
local_domains: array of string — domains served here; users in the host's directory go to their home first\n\
mark_down_minutes: integer 0..=1440 (default 10) — how long a failed next-hop address is tried last\n\
on_no_match: \"reply\" | \"continue\" (default reply: 404 + ms-diagnostics 1005)\n\
max_regex_bytes: integer (default 1048576) — compiled size limit of each rule's regex\n\
collection: array of {identity: \"service:Registrar:FQDN\", merge_global: bool}\n\
route: array of {collection, name, match_uri, match_only_phone_uri, enabled, transport: tls|tcp, destination, port, replace_host_in_request_uri, use_default_certificate, certificate_issuer, certificate_serial}\n\
trusted_pool: array of {name, fqdn, transport: udp|tcp|tls, port}\n\
rule: array of {name, priority 1..=200, enabled, match, match_full_uri, replace, source_transports, source_peers, target: {route|trusted_pool|uri}, transport}\n";
    const HOOKS: u32 = sip_interop_abi::ffi::hooks::REQUEST | sip_interop_abi::ffi::hooks::RESPONSE;

    fn on_request(&self, req: &mut Request<'_>, ctx: &mut Context<'_>) -> Verdict {
        let Some(uri) = req.request_uri_str() else {
            return Verdict::Continue;
        };
        let in_dialog = req
            .to()
            .and_then(|t| t.ok())
            .is_some_and(|t| t.tag().is_some());
        let has_route = req
            .header_entries()
            .iter()
            .any(|e| e.kind == sip_interop_abi::sip::header_name::kind::ROUTE);
        let transport = ctx.transport().as_str();
        let facts = RequestFacts {
            request_uri: uri,
            source: ctx.source(),
            transport,
            in_dialog,
            has_route,
        };
        let mut explanation = host::explaining().then(Vec::new);
        let decision = decide(&self.config, &facts, &HostDirectory, explanation.as_mut());
        for line in explanation.iter().flatten() {
            host::explain(line);
        }
        match decision {
            Decision::Continue => Verdict::Continue,
            Decision::Reply {
                status,
                reason,
                headers,
            } => {
                host::counter_add("not_routed", 1);
                Verdict::Respond(Reply {
                    status,
                    reason,
                    headers,
                    body: None,
                })
            }
            Decision::Route(hop) => {
                host::counter_add("routed", 1);
                if hop.request_uri != uri {
                    req.set_request_uri(&hop.request_uri);
                }
                ctx.set_text(DESTINATION_KEY, &hop.next_hop);
                ctx.set_text(MATCHED_BY_KEY, &hop.matched_by);
                Verdict::Route(vec![Target::new(&hop.request_uri)
                    .next_hop(&hop.next_hop)
                    .transport(hop.transport)
                    .sticky_key(&hop.sticky_key)
                    .mark_down(hop.mark_down)])
            }
        }
    }

    fn on_response(&self, resp: &mut Response<'_>, ctx: &mut Context<'_>) -> ResponseVerdict {
        let Some(failure) = ctx.local_failure() else {
            return ResponseVerdict::Continue;
        };
        let Some(destination) = ctx.get_text(DESTINATION_KEY).map(str::to_string) else {
            return ResponseVerdict::Continue; // not routed by this plugin
        };
        let kind = match failure {
            LocalFailure::Unresolvable => FailureKind::Unresolvable,
            LocalFailure::Unreachable | LocalFailure::Timeout => FailureKind::Unreachable,
            LocalFailure::Untrusted => FailureKind::Untrusted,
        };
        let (status, headers) = self.config.failure_diagnostics(kind, &destination);
        host::counter_add("next_hop_failed", 1);
        resp.set_status(status, sip_interop_abi::sip::status::reason_phrase(status));
        for (name, value) in &headers {
            if name.eq_ignore_ascii_case("Warning") {
                resp.replace_header(name, value);
            } else {
                resp.add_header(name, value);
            }
        }
        ResponseVerdict::Continue
    }
}

export_plugin!(MatchUriRouter, MatchUriRouter::from_table);
