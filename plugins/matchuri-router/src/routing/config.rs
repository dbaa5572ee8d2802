//! The plugin's config table: the TOML model (`Raw*`, serde) and its validation into [`Config`],
//! with every lower-cased match string, next-hop URI and regex prepared once at load.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::routing::collections::{self, Selection};
use crate::routing::match_uri::{check_domain, MatchUri};
use crate::routing::rules::{self, Rule};
use crate::routing::Transport;

/// One config problem: `field` is a path inside the plugin's table (`route[2].destination`,
/// `rule[0].match`; empty for the table as a whole), `message` says what is wrong and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Dotted path with `[i]` indices, in the form the host's config locator understands.
    pub field: String,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

impl ConfigProblem {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigProblem {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigProblem {}

/// Which of static routes and regex rules is consulted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Consult {
    /// Static routes (MatchUri) first, then rules.
    #[default]
    RoutesFirst,
    /// Regex rules first, then static routes.
    RulesFirst,
}

/// What to do when nothing matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnNoMatch {
    /// Answer 404 with `ms-diagnostics: 1005` and a `Warning` (the Lync behaviour).
    #[default]
    Reply,
    /// Let the next plugin decide.
    Continue,
}

/// The TLS certificate to present to a next hop (carried for when the host has TLS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateChoice {
    /// The host's default certificate.
    Default,
    /// A specific certificate, by issuer and serial number.
    Specific {
        /// Issuer distinguished name, as configured.
        issuer: String,
        /// Serial number, as configured.
        serial: String,
    },
}

// ---------------------------------------------------------------------------------------------
// The TOML model.

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    registrar_pool: Option<String>,
    server_name: Option<String>,
    #[serde(default)]
    consult: Consult,
    #[serde(default)]
    local_domains: Vec<String>,
    #[serde(default = "default_mark_down")]
    mark_down_minutes: i64,
    #[serde(default)]
    on_no_match: OnNoMatch,
    #[serde(default = "default_max_regex")]
    max_regex_bytes: i64,
    #[serde(default, rename = "collection")]
    collections: Vec<RawCollection>,
    #[serde(default, rename = "route")]
    routes: Vec<RawRoute>,
    #[serde(default, rename = "trusted_pool")]
    trusted_pools: Vec<RawPool>,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

fn default_mark_down() -> i64 {
    10
}

fn default_max_regex() -> i64 {
    1 << 20
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawCollection {
    identity: String,
    #[serde(default)]
    merge_global: bool,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum RouteTransport {
    Tls,
    Tcp,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    collection: Option<String>,
    name: Option<String>,
    match_uri: String,
    #[serde(default)]
    match_only_phone_uri: bool,
    #[serde(default = "default_true")]
    enabled: bool,
    transport: RouteTransport,
    destination: String,
    port: i64,
    #[serde(default)]
    replace_host_in_request_uri: bool,
    use_default_certificate: Option<bool>,
    certificate_issuer: Option<String>,
    certificate_serial: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OutTransport {
    Udp,
    Tcp,
    Tls,
}

impl From<OutTransport> for Transport {
    fn from(t: OutTransport) -> Transport {
        match t {
            OutTransport::Udp => Transport::Udp,
            OutTransport::Tcp => Transport::Tcp,
            OutTransport::Tls => Transport::Tls,
        }
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawPool {
    name: String,
    fqdn: String,
    transport: OutTransport,
    port: i64,
}

/// Transports a request can arrive on, for `source_transports`.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SourceTransport {
    Udp,
    Tcp,
    Tls,
    Ws,
    Wss,
}

impl SourceTransport {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SourceTransport::Udp => "udp",
            SourceTransport::Tcp => "tcp",
            SourceTransport::Tls => "tls",
            SourceTransport::Ws => "ws",
            SourceTransport::Wss => "wss",
        }
    }
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    pub(crate) route: Option<String>,
    pub(crate) trusted_pool: Option<String>,
    pub(crate) uri: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub(crate) name: String,
    pub(crate) priority: i64,
    #[serde(default = "default_true")]
    pub(crate) enabled: bool,
    #[serde(rename = "match")]
    pub(crate) pattern: String,
    #[serde(default)]
    pub(crate) match_full_uri: bool,
    #[serde(default)]
    pub(crate) replace: String,
    #[serde(default)]
    pub(crate) source_transports: Vec<SourceTransport>,
    #[serde(default)]
    pub(crate) source_peers: Vec<String>,
    pub(crate) target: RawTarget,
    pub(crate) transport: Option<OutTransport>,
}

// ---------------------------------------------------------------------------------------------
// The validated model.

/// A validated configuration, ready for [`crate::routing::decide`].
#[derive(Debug)]
pub struct Config {
    pub(crate) registrar_pool: Option<String>,
    pub(crate) server_name: String,
    pub(crate) consult: Consult,
    /// Lower-cased, without trailing dot.
    pub(crate) local_domains: Vec<String>,
    pub(crate) mark_down: Duration,
    pub(crate) on_no_match: OnNoMatch,
    /// Index 0 is `global`.
    pub(crate) collections: Vec<Collection>,
    pub(crate) routes: Vec<Route>,
    pub(crate) selection: Selection,
    pub(crate) pools: Vec<TrustedPool>,
    /// Sorted by ascending priority.
    pub(crate) rules: Vec<Rule>,
    /// `ms-diagnostics` and `Warning` of the 404 for "no match".
    pub(crate) no_match_headers: Vec<(String, String)>,
}

/// A route collection (`global`, or `service:Registrar:<pool>`).
#[derive(Debug)]
pub(crate) struct Collection {
    pub(crate) identity: String,
    pub(crate) merge_global: bool,
    /// Indices into `Config::routes`, in declaration order.
    pub(crate) routes: Vec<usize>,
}

/// A static route.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) name: String,
    /// Index into `Config::collections`.
    pub(crate) collection: usize,
    pub(crate) match_uri: MatchUri,
    pub(crate) phone_only: bool,
    pub(crate) enabled: bool,
    pub(crate) transport: Transport,
    /// The destination as it goes into a URI host (IPv6 in brackets).
    pub(crate) uri_host: String,
    pub(crate) replace_host: bool,
    pub(crate) certificate: Option<CertificateChoice>,
    /// `sip:<destination>:<port>;transport=<tls|tcp>`.
    pub(crate) next_hop: String,
    /// `route <name> in <collection>`.
    pub(crate) matched_by: String,
    /// `route <name> (<match_uri>[, phone only])` for explanations.
    pub(crate) label: String,
}

/// A trusted pool, a target for rules.
#[derive(Debug)]
pub(crate) struct TrustedPool {
    pub(crate) name: String,
    pub(crate) transport: Transport,
    pub(crate) next_hop: String,
}

/// The agent used when neither `server_name` nor `registrar_pool` is set.
pub const DEFAULT_SERVER_NAME: &str = "sip-interop-host";

const MAX_MARK_DOWN_MINUTES: i64 = 24 * 60;

impl Config {
    /// Parse and validate the plugin's config table (TOML text). The first problem found is
    /// returned.
    pub fn from_toml(text: &str) -> Result<Config, ConfigProblem> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let field = e
                .span()
                .map(|s| field_at(text, s.start))
                .unwrap_or_default();
            ConfigProblem::new(field, e.message().trim().to_string())
        })?;
        Config::validate(raw)
    }

    fn validate(raw: RawConfig) -> Result<Config, ConfigProblem> {
        let registrar_pool = match raw.registrar_pool {
            Some(p) => {
                let p = p.trim().trim_end_matches('.').to_string();
                check_fqdn(&p).map_err(|m| {
                    ConfigProblem::new(
                        "registrar_pool",
                        format!("{m}; give the FQDN of the Lync registrar pool, e.g. \"pool01.contoso.com\""),
                    )
                })?;
                Some(p)
            }
            None => None,
        };
        let server_name = match raw.server_name {
            Some(s) => {
                let s = s.trim().to_string();
                check_fqdn(&s).map_err(|m| {
                    ConfigProblem::new(
                        "server_name",
                        format!("{m}; give this host's FQDN (it names us in ms-diagnostics and Warning headers)"),
                    )
                })?;
                s
            }
            None => registrar_pool
                .clone()
                .unwrap_or_else(|| DEFAULT_SERVER_NAME.to_string()),
        };

        let mut local_domains = Vec::with_capacity(raw.local_domains.len());
        for (i, d) in raw.local_domains.iter().enumerate() {
            let d = d.trim().trim_end_matches('.');
            check_domain(d).map_err(|m| {
                ConfigProblem::new(
                    format!("local_domains[{i}]"),
                    format!("`{d}`: {m}; list plain SIP domains such as \"contoso.com\" (no wildcard, no scheme)"),
                )
            })?;
            local_domains.push(d.to_ascii_lowercase());
        }

        if !(0..=MAX_MARK_DOWN_MINUTES).contains(&raw.mark_down_minutes) {
            return Err(ConfigProblem::new(
                "mark_down_minutes",
                format!(
                    "{} is out of range; give 0 (never skip a failed address) to {MAX_MARK_DOWN_MINUTES} minutes",
                    raw.mark_down_minutes
                ),
            ));
        }
        let mark_down = Duration::from_secs(raw.mark_down_minutes as u64 * 60);

        if raw.max_regex_bytes < 1 {
            return Err(ConfigProblem::new(
                "max_regex_bytes",
                "must be at least 1 (bytes of compiled regex); the default is 1048576 (1 MiB)",
            ));
        }
        let max_regex_bytes = usize::try_from(raw.max_regex_bytes).unwrap_or(usize::MAX);

        let collections = build_collections(&raw.collections)?;
        let mut collections = collections;
        let routes = build_routes(&raw.routes, &mut collections)?;
        let pools = build_pools(&raw.trusted_pools)?;
        let rules = rules::build_rules(&raw.rules, &routes, &pools, max_regex_bytes)?;
        let selection = collections::select(registrar_pool.as_deref(), &collections);
        let no_match_headers = crate::routing::diagnostics::no_match_headers(&server_name);

        Ok(Config {
            registrar_pool,
            server_name,
            consult: raw.consult,
            local_domains,
            mark_down,
            on_no_match: raw.on_no_match,
            collections,
            routes,
            selection,
            pools,
            rules,
            no_match_headers,
        })
    }

    /// The registrar pool this host belongs to, if configured.
    pub fn registrar_pool(&self) -> Option<&str> {
        self.registrar_pool.as_deref()
    }

    /// The name that identifies us in `ms-diagnostics` (`source=`) and `Warning` (agent):
    /// `server_name`, else `registrar_pool`, else [`DEFAULT_SERVER_NAME`].
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// How long a failed next-hop address is skipped (`mark_down_minutes`).
    pub fn mark_down(&self) -> Duration {
        self.mark_down
    }

    /// Which of routes and rules is consulted first.
    pub fn consult(&self) -> Consult {
        self.consult
    }

    /// What happens when nothing matches.
    pub fn on_no_match(&self) -> OnNoMatch {
        self.on_no_match
    }

    /// The identity of the collection whose routes apply on this host, and whether global routes
    /// are the fallback.
    pub fn active_collection(&self) -> (&str, bool) {
        (
            &self.collections[self.selection.primary].identity,
            self.selection.fallback_global,
        )
    }

    /// The failure answer for a next hop all of whose addresses failed, naming this host
    /// ([`Config::server_name`]) as the source. See [`crate::routing::diagnostics::failure_diagnostics`].
    pub fn failure_diagnostics(
        &self,
        kind: crate::routing::FailureKind,
        destination: &str,
    ) -> (u16, Vec<(String, String)>) {
        crate::routing::diagnostics::failure_diagnostics_from(&self.server_name, kind, destination)
    }
}

fn build_collections(raw: &[RawCollection]) -> Result<Vec<Collection>, ConfigProblem> {
    let mut out = vec![Collection {
        identity: "global".into(),
        merge_global: false,
        routes: Vec::new(),
    }];
    for (i, c) in raw.iter().enumerate() {
        let field = format!("collection[{i}].identity");
        let id = c.identity.trim();
        if id.eq_ignore_ascii_case("global") {
            return Err(ConfigProblem::new(
                field,
                "the global collection exists implicitly; do not declare it (routes without `collection` belong to it)",
            ));
        }
        let pool = id
            .get(..18)
            .filter(|p| p.eq_ignore_ascii_case("service:Registrar:"))
            .map(|_| &id[18..]);
        let Some(pool) = pool else {
            return Err(ConfigProblem::new(
                field,
                format!("`{id}`: only registrar pool collections are supported; write \"service:Registrar:<pool FQDN>\", e.g. \"service:Registrar:pool01.contoso.com\""),
            ));
        };
        check_fqdn(pool.trim_end_matches('.')).map_err(|m| {
            ConfigProblem::new(
                field.clone(),
                format!("`{id}`: the pool FQDN after \"service:Registrar:\" is not valid: {m}"),
            )
        })?;
        if out.iter().any(|o| o.identity.eq_ignore_ascii_case(id)) {
            return Err(ConfigProblem::new(
                field,
                format!("collection `{id}` is declared twice; merge the two entries"),
            ));
        }
        out.push(Collection {
            identity: id.to_string(),
            merge_global: c.merge_global,
            routes: Vec::new(),
        });
    }
    Ok(out)
}

fn build_routes(
    raw: &[RawRoute],
    collections: &mut [Collection],
) -> Result<Vec<Route>, ConfigProblem> {
    let mut routes: Vec<Route> = Vec::with_capacity(raw.len());
    // (collection, lower-cased match_uri, phone_only) -> route index, for duplicate detection.
    let mut seen: HashMap<(usize, String, bool), usize> = HashMap::new();
    for (i, r) in raw.iter().enumerate() {
        let at = |f: &str| format!("route[{i}].{f}");
        let coll_name = r.collection.as_deref().unwrap_or("global").trim();
        let Some(collection) = collections
            .iter()
            .position(|c| c.identity.eq_ignore_ascii_case(coll_name))
        else {
            let known: Vec<&str> = collections.iter().map(|c| c.identity.as_str()).collect();
            return Err(ConfigProblem::new(
                at("collection"),
                format!(
                    "no collection `{coll_name}`; declare it with [[collection]] identity = \"{coll_name}\", or use one of: {}",
                    known.join(", ")
                ),
            ));
        };
        let match_uri =
            MatchUri::parse(&r.match_uri).map_err(|m| ConfigProblem::new(at("match_uri"), m))?;
        let name = match &r.name {
            Some(n) if n.trim().is_empty() => {
                return Err(ConfigProblem::new(
                    at("name"),
                    "must not be empty; leave it out to use the match_uri as the name",
                ))
            }
            Some(n) => n.trim().to_string(),
            None => match_uri.text.clone(),
        };
        let key = (
            collection,
            match_uri.domain.clone() + if match_uri.wildcard { "*" } else { "" },
            r.match_only_phone_uri,
        );
        if let Some(&other) = seen.get(&key) {
            return Err(ConfigProblem::new(
                at("match_uri"),
                format!(
                    "route[{other}] in collection `{}` already has match_uri `{}` with match_only_phone_uri = {} (MatchUri is compared case-insensitively); remove one of them",
                    collections[collection].identity, routes[other].match_uri.text, r.match_only_phone_uri
                ),
            ));
        }
        if let Some(other) = routes
            .iter()
            .position(|o| o.collection == collection && o.name == name)
        {
            return Err(ConfigProblem::new(
                at("name"),
                format!(
                    "route[{other}] in collection `{}` is already named `{name}`; give each route of a collection its own name",
                    collections[collection].identity
                ),
            ));
        }
        if !(1..=65535).contains(&r.port) {
            return Err(ConfigProblem::new(
                at("port"),
                format!(
                    "{} is not a port; give 1-65535 (5061 is usual for TLS, 5060 for TCP)",
                    r.port
                ),
            ));
        }
        let port = r.port as u16;
        let dest = r.destination.trim();
        let (transport, uri_host) = match r.transport {
            RouteTransport::Tcp => {
                let Some(ip) = parse_ip(dest) else {
                    return Err(ConfigProblem::new(
                        at("destination"),
                        format!("`{dest}`: a TCP destination must be an IP address; use transport = \"tls\" for an FQDN"),
                    ));
                };
                (Transport::Tcp, uri_host_of_ip(ip))
            }
            RouteTransport::Tls => {
                if parse_ip(dest).is_some() {
                    return Err(ConfigProblem::new(
                        at("destination"),
                        format!("`{dest}`: a TLS destination must be an FQDN, not an IP address (the certificate is checked against the name); use transport = \"tcp\" for an IP address"),
                    ));
                }
                if dest.contains('*') {
                    return Err(ConfigProblem::new(
                        at("destination"),
                        format!("`{dest}`: a destination cannot be a wildcard; give the FQDN of the next hop"),
                    ));
                }
                check_destination_fqdn(dest)
                    .map_err(|m| ConfigProblem::new(at("destination"), m))?;
                (
                    Transport::Tls,
                    dest.trim_end_matches('.').to_ascii_lowercase(),
                )
            }
        };
        let certificate = certificate_choice(r, &at)?;
        let coll_id = &collections[collection].identity;
        let next_hop = format!("sip:{uri_host}:{port};transport={}", transport.as_str());
        let label = {
            let mut l = if name == match_uri.text {
                format!("route {name}")
            } else {
                format!("route {name} ({})", match_uri.text)
            };
            if r.match_only_phone_uri {
                l.push_str(" [phone URIs only]");
            }
            l
        };
        seen.insert(key, i);
        collections[collection].routes.push(i);
        routes.push(Route {
            matched_by: format!("route {name} in {coll_id}"),
            name,
            collection,
            match_uri,
            phone_only: r.match_only_phone_uri,
            enabled: r.enabled,
            transport,
            uri_host,
            replace_host: r.replace_host_in_request_uri,
            certificate,
            next_hop,
            label,
        });
    }
    Ok(routes)
}

fn certificate_choice(
    r: &RawRoute,
    at: &dyn Fn(&str) -> String,
) -> Result<Option<CertificateChoice>, ConfigProblem> {
    let issuer = r.certificate_issuer.as_deref().map(str::trim);
    let serial = r.certificate_serial.as_deref().map(str::trim);
    if r.transport == RouteTransport::Tcp {
        for (key, present) in [
            (
                "use_default_certificate",
                r.use_default_certificate.is_some(),
            ),
            ("certificate_issuer", issuer.is_some()),
            ("certificate_serial", serial.is_some()),
        ] {
            if present {
                return Err(ConfigProblem::new(
                    at(key),
                    "certificates apply only to TLS routes; remove it, or use transport = \"tls\"",
                ));
            }
        }
        return Ok(None);
    }
    match (issuer, serial) {
        (Some(issuer), Some(serial)) => {
            if r.use_default_certificate == Some(true) {
                return Err(ConfigProblem::new(
                    at("use_default_certificate"),
                    "use_default_certificate = true conflicts with certificate_issuer/certificate_serial; keep one certificate choice",
                ));
            }
            if issuer.is_empty() {
                return Err(ConfigProblem::new(at("certificate_issuer"), "must not be empty"));
            }
            if serial.is_empty() {
                return Err(ConfigProblem::new(at("certificate_serial"), "must not be empty"));
            }
            Ok(Some(CertificateChoice::Specific {
                issuer: issuer.to_string(),
                serial: serial.to_string(),
            }))
        }
        (Some(_), None) => Err(ConfigProblem::new(
            at("certificate_serial"),
            "certificate_issuer and certificate_serial go together; add certificate_serial, or remove certificate_issuer to use the default certificate",
        )),
        (None, Some(_)) => Err(ConfigProblem::new(
            at("certificate_issuer"),
            "certificate_issuer and certificate_serial go together; add certificate_issuer, or remove certificate_serial to use the default certificate",
        )),
        (None, None) => {
            if r.use_default_certificate == Some(false) {
                return Err(ConfigProblem::new(
                    at("use_default_certificate"),
                    "with use_default_certificate = false, give certificate_issuer and certificate_serial; or set it to true",
                ));
            }
            Ok(Some(CertificateChoice::Default))
        }
    }
}

fn build_pools(raw: &[RawPool]) -> Result<Vec<TrustedPool>, ConfigProblem> {
    let mut out: Vec<TrustedPool> = Vec::with_capacity(raw.len());
    for (i, p) in raw.iter().enumerate() {
        let name = p.name.trim();
        if name.is_empty() {
            return Err(ConfigProblem::new(
                format!("trusted_pool[{i}].name"),
                "must not be empty",
            ));
        }
        if let Some(other) = out.iter().position(|o| o.name == name) {
            return Err(ConfigProblem::new(
                format!("trusted_pool[{i}].name"),
                format!(
                    "trusted_pool[{other}] is already named `{name}`; give each pool its own name"
                ),
            ));
        }
        let fqdn = p.fqdn.trim();
        if parse_ip(fqdn).is_some() {
            return Err(ConfigProblem::new(
                format!("trusted_pool[{i}].fqdn"),
                format!("`{fqdn}`: a trusted pool is named by its FQDN, not an IP address"),
            ));
        }
        check_destination_fqdn(fqdn)
            .map_err(|m| ConfigProblem::new(format!("trusted_pool[{i}].fqdn"), m))?;
        if !(1..=65535).contains(&p.port) {
            return Err(ConfigProblem::new(
                format!("trusted_pool[{i}].port"),
                format!("{} is not a port; give 1-65535", p.port),
            ));
        }
        let transport: Transport = p.transport.into();
        out.push(TrustedPool {
            name: name.to_string(),
            transport,
            next_hop: format!(
                "sip:{}:{};transport={}",
                fqdn.trim_end_matches('.').to_ascii_lowercase(),
                p.port,
                transport.as_str()
            ),
        });
    }
    Ok(out)
}

fn check_destination_fqdn(dest: &str) -> Result<(), String> {
    if dest.contains("://") || (dest.to_ascii_lowercase().starts_with("sip") && dest.contains(':'))
    {
        return Err(format!(
            "`{dest}`: give only the host name, without a scheme"
        ));
    }
    if dest.contains(':') {
        return Err(format!(
            "`{dest}`: give only the host name; the port goes in `port`"
        ));
    }
    check_fqdn(dest.trim_end_matches('.')).map_err(|m| format!("`{dest}` is not a valid FQDN: {m}"))
}

fn check_fqdn(s: &str) -> Result<(), String> {
    if s.contains('*') {
        return Err(format!("`{s}`: a wildcard is not allowed here"));
    }
    check_domain(s)
}

/// An IP address, IPv6 with or without brackets.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let inner = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    inner.parse().ok()
}

/// True for an IP address literal (IPv6 with or without brackets).
pub(crate) fn is_ip_literal(s: &str) -> bool {
    parse_ip(s).is_some()
}

fn uri_host_of_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Best-effort path of the setting at byte `offset` of `text`: the enclosing `[table]` /
/// `[[array]]` entry (with its index) and the key on that line, e.g. `route[1].port`.
fn field_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut current = String::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let t = line.trim();
        if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let name = name.trim().to_string();
            let n = counts.entry(name.clone()).or_insert(0);
            current = format!("{name}[{n}]");
            *n += 1;
        } else if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
            current = name.trim().to_string();
        } else if offset < line_end || line_end == text.len() {
            // The line holding the offset: add its key, if it has one.
            if let Some((key, _)) = t.split_once('=') {
                let key = key.trim();
                if !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return if current.is_empty() {
                        key.to_string()
                    } else {
                        format!("{current}.{key}")
                    };
                }
            }
            return current;
        }
        if offset < line_end {
            return current;
        }
        line_start = line_end;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(toml: &str) -> ConfigProblem {
        match Config::from_toml(toml) {
            Ok(_) => panic!("config accepted:\n{toml}"),
            Err(e) => e,
        }
    }

    const TLS_ROUTE: &str = "transport = \"tls\"\ndestination = \"gw.contoso.com\"\nport = 5061\n";

    #[test]
    fn minimal_config_defaults() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.consult(), Consult::RoutesFirst);
        assert_eq!(c.on_no_match(), OnNoMatch::Reply);
        assert_eq!(c.mark_down(), Duration::from_secs(600));
        assert_eq!(c.server_name(), DEFAULT_SERVER_NAME);
        assert_eq!(c.active_collection(), ("global", false));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_path() {
        let e = problem("[[route]]\nmatch_uri = \"a.com\"\nmatchuri = \"x\"\n");
        assert!(e.message.contains("matchuri"), "{e}");
        assert_eq!(e.field, "route[0].matchuri");
        let e = problem("colour = \"blue\"\n");
        assert!(e.message.contains("colour"), "{e}");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = problem(&format!(
            "[[route]]\nmatch_uri = \"a.com\"\n{TLS_ROUTE}\n[[route]]\nmatch_uri = \"b.com\"\ntransport = \"tls\"\ndestination = \"gw.contoso.com\"\nport = \"5061\"\n"
        ));
        assert_eq!(e.field, "route[1].port", "{e}");
        let e = problem("consult = \"sometimes\"\n");
        assert_eq!(e.field, "consult");
        assert!(e.message.contains("routes_first"), "{e}");
    }

    #[test]
    fn duplicate_match_uri_case_insensitive_is_refused() {
        let e = problem(&format!(
            "[[route]]\nmatch_uri = \"*.Contoso.com\"\n{TLS_ROUTE}\n[[route]]\nname = \"two\"\nmatch_uri = \"*.contoso.COM\"\n{TLS_ROUTE}"
        ));
        assert_eq!(e.field, "route[1].match_uri");
        assert!(e.message.contains("route[0]"), "{e}");
    }

    #[test]
    fn same_match_uri_differing_in_phone_only_or_collection_is_fine() {
        Config::from_toml(&format!(
            "[[collection]]\nidentity = \"service:Registrar:pool01.contoso.com\"\n\
             [[route]]\nmatch_uri = \"contoso.com\"\n{TLS_ROUTE}\
             [[route]]\nname = \"phone\"\nmatch_uri = \"contoso.com\"\nmatch_only_phone_uri = true\n{TLS_ROUTE}\
             [[route]]\ncollection = \"service:registrar:POOL01.contoso.com\"\nmatch_uri = \"contoso.com\"\n{TLS_ROUTE}"
        ))
        .unwrap();
    }

    #[test]
    fn tcp_destination_must_be_an_ip() {
        let e = problem("[[route]]\nmatch_uri = \"a.com\"\ntransport = \"tcp\"\ndestination = \"gw.a.com\"\nport = 5060\n");
        assert_eq!(e.field, "route[0].destination");
        assert!(e.message.contains("must be an IP address"), "{e}");
        assert!(e.message.contains("transport = \"tls\""), "{e}");
        Config::from_toml("[[route]]\nmatch_uri = \"a.com\"\ntransport = \"tcp\"\ndestination = \"2001:db8::5\"\nport = 5060\n").unwrap();
    }

    #[test]
    fn tls_destination_must_be_an_fqdn() {
        for dest in [
            "10.0.0.5",
            "[2001:db8::5]",
            "*.contoso.com",
            "gw.contoso.com:5061",
            "sip:gw.contoso.com",
        ] {
            let e = problem(&format!(
                "[[route]]\nmatch_uri = \"a.com\"\ntransport = \"tls\"\ndestination = \"{dest}\"\nport = 5061\n"
            ));
            assert_eq!(e.field, "route[0].destination", "{dest}: {e}");
        }
        let e = problem("[[route]]\nmatch_uri = \"a.com\"\ntransport = \"tls\"\ndestination = \"10.0.0.5\"\nport = 5061\n");
        assert!(e.message.contains("not an IP address"), "{e}");
    }

    #[test]
    fn port_zero_is_refused() {
        let e = problem("[[route]]\nmatch_uri = \"a.com\"\ntransport = \"tls\"\ndestination = \"gw.a.com\"\nport = 0\n");
        assert_eq!(e.field, "route[0].port");
        let e = problem(
            "[[trusted_pool]]\nname = \"p\"\nfqdn = \"p.a.com\"\ntransport = \"tls\"\nport = 0\n",
        );
        assert_eq!(e.field, "trusted_pool[0].port");
    }

    #[test]
    fn unknown_collection_is_refused() {
        let e = problem(&format!("[[route]]\ncollection = \"service:Registrar:pool02.contoso.com\"\nmatch_uri = \"a.com\"\n{TLS_ROUTE}"));
        assert_eq!(e.field, "route[0].collection");
        assert!(e.message.contains("[[collection]]"), "{e}");
    }

    #[test]
    fn collection_identities_are_checked() {
        let e = problem("[[collection]]\nidentity = \"site:Redmond\"\n");
        assert_eq!(e.field, "collection[0].identity");
        let e = problem("[[collection]]\nidentity = \"global\"\n");
        assert_eq!(e.field, "collection[0].identity");
        let e = problem("[[collection]]\nidentity = \"service:Registrar:p.a.com\"\n[[collection]]\nidentity = \"Service:Registrar:P.a.com\"\n");
        assert_eq!(e.field, "collection[1].identity");
    }

    #[test]
    fn certificate_choice_rules() {
        let base = "[[route]]\nmatch_uri = \"a.com\"\ntransport = \"tls\"\ndestination = \"gw.a.com\"\nport = 5061\n";
        let e = problem(&format!("{base}certificate_issuer = \"CN=CA\"\n"));
        assert_eq!(e.field, "route[0].certificate_serial");
        let e = problem(&format!("{base}certificate_serial = \"01\"\n"));
        assert_eq!(e.field, "route[0].certificate_issuer");
        let e = problem(&format!("{base}use_default_certificate = false\n"));
        assert_eq!(e.field, "route[0].use_default_certificate");
        let e = problem(&format!("{base}use_default_certificate = true\ncertificate_issuer = \"CN=CA\"\ncertificate_serial = \"01\"\n"));
        assert_eq!(e.field, "route[0].use_default_certificate");
        let c = Config::from_toml(&format!(
            "{base}certificate_issuer = \"CN=CA\"\ncertificate_serial = \"01\"\n"
        ))
        .unwrap();
        assert_eq!(
            c.routes[0].certificate,
            Some(CertificateChoice::Specific {
                issuer: "CN=CA".into(),
                serial: "01".into()
            })
        );
        let e = problem("[[route]]\nmatch_uri = \"a.com\"\ntransport = \"tcp\"\ndestination = \"10.0.0.1\"\nport = 5060\ncertificate_issuer = \"CN=CA\"\ncertificate_serial = \"01\"\n");
        assert!(e.field.starts_with("route[0].certificate"), "{e}");
    }

    #[test]
    fn scalar_settings_are_checked() {
        assert_eq!(
            problem("mark_down_minutes = -1\n").field,
            "mark_down_minutes"
        );
        assert_eq!(problem("max_regex_bytes = 0\n").field, "max_regex_bytes");
        assert_eq!(
            problem("local_domains = [\"a.com\", \"*.b.com\"]\n").field,
            "local_domains[1]"
        );
        assert_eq!(
            problem("registrar_pool = \"10.0.0.1:5061\"\n").field,
            "registrar_pool"
        );
    }

    #[test]
    fn field_at_finds_tables_and_keys() {
        let text = "a = 1\n[[route]]\nx = 1\n[[route]]\ny = 2\n[t]\nz = 3\n";
        assert_eq!(field_at(text, 0), "a");
        assert_eq!(field_at(text, text.find("y =").unwrap() + 4), "route[1].y");
        assert_eq!(field_at(text, text.find("z").unwrap()), "t.z");
        assert_eq!(
            field_at(text, text.find("[[route]]\ny").unwrap()),
            "route[1]"
        );
    }
}
