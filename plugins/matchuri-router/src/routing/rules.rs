//! Pexip-Infinity-style regex routing rules: priority order, source filters, a regex that must match
//! the whole alias (or the whole Request-URI), a `\1`-style replacement, and a target.

use std::net::{IpAddr, SocketAddr};

use regex::{Regex, RegexBuilder};

use crate::routing::alias::ParsedUri;
use crate::routing::config::{
    parse_ip, ConfigProblem, OutTransport, RawRule, Route, SourceTransport, TrustedPool,
};
use crate::routing::explain::{note, Explain};
use crate::routing::Transport;

/// A validated rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) name: String,
    pub(crate) priority: u8,
    pub(crate) enabled: bool,
    /// The regex as the operator wrote it (for explanations).
    pub(crate) pattern: String,
    /// `^(?:pattern)$`: the match covers the whole subject.
    pub(crate) regex: Regex,
    pub(crate) full_uri: bool,
    /// The replacement in the regex crate's `${N}` form; `None` keeps the original Request-URI.
    pub(crate) template: Option<String>,
    pub(crate) source_transports: Vec<SourceTransport>,
    pub(crate) source_peers: Vec<Cidr>,
    pub(crate) target: RuleTarget,
    /// `rule <name> (priority <p>)`.
    pub(crate) label: String,
}

/// Where a matching rule sends the request.
#[derive(Debug)]
pub(crate) enum RuleTarget {
    /// A static route (index into `Config::routes`).
    Route(usize),
    /// A trusted pool (index into `Config::pools`).
    Pool(usize),
    /// A next-hop URI.
    Uri { uri: String, transport: Transport },
}

/// An address block (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parse `addr` or `addr/prefix`. Host bits set under the prefix are refused.
    pub(crate) fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr_text, prefix_text) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let Some(addr) = parse_ip(addr_text) else {
            return Err(format!(
                "`{s}` is not an IP address or CIDR block; write e.g. \"10.0.0.0/8\", \"192.0.2.7\" or \"2001:db8::/32\""
            ));
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => {
                    return Err(format!(
                        "`{s}`: the prefix length must be 0-{max} for an {} address",
                        if max == 32 { "IPv4" } else { "IPv6" }
                    ))
                }
            },
        };
        let cidr = Cidr { addr, prefix };
        if cidr.network() != addr {
            return Err(format!(
                "`{s}` has bits set beyond its /{prefix} prefix; did you mean \"{}/{prefix}\"?",
                cidr.network()
            ));
        }
        Ok(cidr)
    }

    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }

    /// True when `ip` is inside the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// Translate a `\1`-style replacement into the regex crate's form: `\N` → `${N}`, `\\` → `\`,
/// `$` → `$$` (literal). `groups` is the regex's group count including group 0.
pub(crate) fn translate_replacement(replace: &str, groups: usize) -> Result<String, String> {
    let mut out = String::with_capacity(replace.len() + 8);
    let mut chars = replace.chars();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.next() {
                Some(d) if d.is_ascii_digit() => {
                    let n = d as usize - '0' as usize;
                    if n >= groups {
                        return Err(format!(
                            "\\{n} refers to group {n}, but the regex has {} capture group(s); use \\0-\\{}",
                            groups - 1,
                            groups - 1
                        ));
                    }
                    out.push_str("${");
                    out.push(d);
                    out.push('}');
                }
                Some('\\') => out.push('\\'),
                Some(other) => {
                    return Err(format!(
                        "unknown escape \\{other}; only \\0-\\9 (groups) and \\\\ (a backslash) are allowed"
                    ))
                }
                None => {
                    return Err("ends with a lone backslash; write \\\\ for a literal backslash".into())
                }
            },
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Validate the rules and sort them by priority.
pub(crate) fn build_rules(
    raw: &[RawRule],
    routes: &[Route],
    pools: &[TrustedPool],
    max_regex_bytes: usize,
) -> Result<Vec<Rule>, ConfigProblem> {
    let mut out: Vec<(usize, Rule)> = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let at = |f: &str| format!("rule[{i}].{f}");
        let name = r.name.trim();
        if name.is_empty() {
            return Err(ConfigProblem::new(
                at("name"),
                "must not be empty; name the rule (it is shown in explanations)",
            ));
        }
        let who = format!("rule \"{name}\"");
        if !(1..=200).contains(&r.priority) {
            return Err(ConfigProblem::new(
                at("priority"),
                format!(
                    "{who}: priority {} is out of range; give 1-200 (lower is tried first)",
                    r.priority
                ),
            ));
        }
        let priority = r.priority as u8;
        if let Some((j, other)) = out.iter().find(|(_, o)| o.priority == priority) {
            return Err(ConfigProblem::new(
                at("priority"),
                format!("{who}: priority {priority} is already used by rule[{j}] \"{}\"; every rule needs its own priority", other.name),
            ));
        }

        let build = |pattern: &str| {
            RegexBuilder::new(pattern)
                .size_limit(max_regex_bytes)
                .build()
        };
        let regex_problem = |e: regex::Error| {
            match e {
            regex::Error::CompiledTooBig(limit) => ConfigProblem::new(
                at("match"),
                format!("{who}: the regex compiles to more than {limit} bytes (max_regex_bytes); simplify it (e.g. fewer or smaller repetitions, ASCII classes like [0-9] instead of \\d) or raise max_regex_bytes"),
            ),
            e => ConfigProblem::new(
                at("match"),
                format!("{who}: invalid regex: {}", one_line(&e.to_string())),
            ),
        }
        };
        // Compile as written first, so a syntax error points into the operator's own text.
        let plain = build(&r.pattern).map_err(regex_problem)?;
        let regex = build(&format!("^(?:{})$", r.pattern)).map_err(regex_problem)?;
        let groups = plain.captures_len();

        let template = if r.replace.is_empty() {
            None
        } else {
            Some(
                translate_replacement(&r.replace, groups)
                    .map_err(|m| ConfigProblem::new(at("replace"), format!("{who}: {m}")))?,
            )
        };

        let mut source_peers = Vec::with_capacity(r.source_peers.len());
        for (k, p) in r.source_peers.iter().enumerate() {
            source_peers.push(Cidr::parse(p).map_err(|m| {
                ConfigProblem::new(
                    format!("rule[{i}].source_peers[{k}]"),
                    format!("{who}: {m}"),
                )
            })?);
        }

        let override_transport: Option<Transport> = r.transport.map(|t: OutTransport| t.into());
        let kinds = [
            r.target.route.is_some(),
            r.target.trusted_pool.is_some(),
            r.target.uri.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if kinds != 1 {
            return Err(ConfigProblem::new(
                at("target"),
                format!("{who}: give exactly one of {{ route = \"NAME\" }}, {{ trusted_pool = \"NAME\" }} or {{ uri = \"sip:...\" }} (found {kinds})"),
            ));
        }
        let target = if let Some(route) = &r.target.route {
            let found: Vec<usize> = routes
                .iter()
                .enumerate()
                .filter(|(_, x)| x.name == route.trim())
                .map(|(k, _)| k)
                .collect();
            match found.as_slice() {
                [] => {
                    let names: Vec<&str> = routes.iter().map(|x| x.name.as_str()).collect();
                    return Err(ConfigProblem::new(
                        at("target.route"),
                        format!("{who}: no route named `{route}`; known routes: {}", list_or_none(&names)),
                    ));
                }
                [k] => {
                    check_override(override_transport, routes[*k].transport, &who, &at, "route")?;
                    RuleTarget::Route(*k)
                }
                several => {
                    return Err(ConfigProblem::new(
                        at("target.route"),
                        format!(
                            "{who}: route name `{route}` is used in {} collections; give the routes distinct names",
                            several.len()
                        ),
                    ))
                }
            }
        } else if let Some(pool) = &r.target.trusted_pool {
            let Some(k) = pools.iter().position(|p| p.name == pool.trim()) else {
                let names: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
                return Err(ConfigProblem::new(
                    at("target.trusted_pool"),
                    format!(
                        "{who}: no trusted_pool named `{pool}`; known pools: {}",
                        list_or_none(&names)
                    ),
                ));
            };
            check_override(
                override_transport,
                pools[k].transport,
                &who,
                &at,
                "trusted pool",
            )?;
            RuleTarget::Pool(k)
        } else {
            let uri = r.target.uri.as_deref().unwrap_or_default().trim();
            let parsed = ParsedUri::parse(uri).filter(|p| !p.host.is_empty());
            if parsed.is_none() || uri.bytes().any(|b| b <= b' ' || b == 0x7f) {
                return Err(ConfigProblem::new(
                    at("target.uri"),
                    format!("{who}: `{uri}` is not a sip: or sips: URI with a host, e.g. \"sip:gw.example.com:5060;transport=tcp\""),
                ));
            }
            let transport =
                override_transport.unwrap_or_else(|| crate::routing::alias::transport_of_uri(uri));
            RuleTarget::Uri {
                uri: uri.to_string(),
                transport,
            }
        };

        out.push((
            i,
            Rule {
                label: format!("rule {name} (priority {priority})"),
                name: name.to_string(),
                priority,
                enabled: r.enabled,
                pattern: r.pattern.clone(),
                regex,
                full_uri: r.match_full_uri,
                template,
                source_transports: r.source_transports.clone(),
                source_peers,
                target,
            },
        ));
    }
    let mut rules: Vec<Rule> = out.into_iter().map(|(_, r)| r).collect();
    rules.sort_by_key(|r| r.priority);
    Ok(rules)
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

fn check_override(
    over: Option<Transport>,
    target: Transport,
    who: &str,
    at: &dyn Fn(&str) -> String,
    what: &str,
) -> Result<(), ConfigProblem> {
    match over {
        Some(t) if t != target => Err(ConfigProblem::new(
            at("transport"),
            format!(
                "{who}: the target {what} uses {}, so transport = \"{}\" cannot apply; remove `transport` (it overrides only for uri targets) or target a uri",
                target.as_str(),
                t.as_str()
            ),
        )),
        _ => Ok(()),
    }
}

/// A rule that matched: its index in `Config::rules` and the new Request-URI.
pub(crate) struct RuleHit {
    pub(crate) rule: usize,
    pub(crate) request_uri: String,
}

/// The first rule, by ascending priority, that applies to this request.
pub(crate) fn find_rule(
    rules: &[Rule],
    routes: &[Route],
    request_uri: &str,
    uri: Option<&ParsedUri<'_>>,
    source: SocketAddr,
    transport: &str,
    ex: &mut Explain<'_>,
) -> Option<RuleHit> {
    if rules.is_empty() {
        note!(ex, "rules: none configured");
        return None;
    }
    let alias = uri.map(|u| u.alias());
    for (idx, rule) in rules.iter().enumerate() {
        if !rule.enabled {
            note!(ex, "{}: skipped, disabled", rule.label);
            continue;
        }
        if !rule.source_transports.is_empty()
            && !rule
                .source_transports
                .iter()
                .any(|t| t.as_str().eq_ignore_ascii_case(transport))
        {
            note!(
                ex,
                "{}: source transport {transport} is not in source_transports [{}]",
                rule.label,
                rule.source_transports
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            continue;
        }
        if !rule.source_peers.is_empty()
            && !rule.source_peers.iter().any(|c| c.contains(source.ip()))
        {
            note!(
                ex,
                "{}: source {} is not in source_peers [{}]",
                rule.label,
                source.ip(),
                rule.source_peers
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            continue;
        }
        let (what, subject) = if rule.full_uri {
            ("Request-URI", request_uri)
        } else {
            match alias.as_deref() {
                Some(a) => ("alias", a),
                None => {
                    note!(
                        ex,
                        "{}: the Request-URI is not a sip:/sips:/tel: URI, so it has no alias to match",
                        rule.label
                    );
                    continue;
                }
            }
        };
        if !rule.regex.is_match(subject) {
            note!(
                ex,
                "{}: {what} {subject} does not match {}",
                rule.label,
                rule.pattern
            );
            continue;
        }
        let new_uri = match &rule.template {
            None => {
                note!(
                    ex,
                    "{}: {what} {subject} matches {}; no replace: Request-URI kept",
                    rule.label,
                    rule.pattern
                );
                request_uri.to_string()
            }
            Some(template) => {
                let mut replaced = String::new();
                if let Some(caps) = rule.regex.captures(subject) {
                    caps.expand(template, &mut replaced);
                }
                match rewritten_uri(rule.full_uri, &replaced, uri) {
                    Ok(u) => {
                        note!(
                            ex,
                            "{}: {what} {subject} matches {}; replaced by {replaced}: Request-URI {u}",
                            rule.label,
                            rule.pattern
                        );
                        u
                    }
                    Err(why) => {
                        note!(
                            ex,
                            "{}: {what} {subject} matches {}, but the replacement `{replaced}` {why}; rule skipped",
                            rule.label,
                            rule.pattern
                        );
                        continue;
                    }
                }
            }
        };
        if let RuleTarget::Route(k) = rule.target {
            let route = &routes[k];
            if !route.enabled {
                note!(
                    ex,
                    "{}: its target {} is disabled; rule skipped",
                    rule.label,
                    route.label
                );
                continue;
            }
        }
        return Some(RuleHit {
            rule: idx,
            request_uri: new_uri,
        });
    }
    note!(ex, "no rule matched");
    None
}

/// The new Request-URI from a replacement: a full URI as is (if it is one), or
/// `sip:`/`sips:` + new alias + the original URI's parameters.
fn rewritten_uri(
    full_uri: bool,
    replaced: &str,
    original: Option<&ParsedUri<'_>>,
) -> Result<String, &'static str> {
    if replaced.is_empty() {
        return Err("is empty");
    }
    if replaced.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err("contains whitespace or control characters");
    }
    if full_uri {
        return match ParsedUri::parse(replaced) {
            Some(_) => Ok(replaced.to_string()),
            None => Err("is not a sip:, sips: or tel: URI"),
        };
    }
    let Some(orig) = original else {
        return Err("has no URI to go into");
    };
    let scheme = if orig.is_sips() { "sips:" } else { "sip:" };
    let mut out = String::with_capacity(scheme.len() + replaced.len() + orig.params.len());
    out.push_str(scheme);
    out.push_str(replaced);
    out.push_str(orig.params);
    Ok(out)
}

/// The regex crate's multi-line error (pattern, caret, message) as one line for the operator.
fn one_line(e: &str) -> String {
    e.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^'))
        .collect::<Vec<_>>()
        .join(" — ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_translation() {
        assert_eq!(
            translate_replacement(r"\1@cucm.contoso.com", 2).unwrap(),
            "${1}@cucm.contoso.com"
        );
        assert_eq!(translate_replacement(r"$1\0", 1).unwrap(), "$$1${0}");
        assert_eq!(translate_replacement(r"a\\b", 1).unwrap(), r"a\b");
        assert!(translate_replacement(r"\2", 2)
            .unwrap_err()
            .contains("group 2"));
        assert!(translate_replacement(r"\.", 1).is_err());
        assert!(translate_replacement("x\\", 1).is_err());
    }

    #[test]
    fn dollar_stays_literal_after_expansion() {
        let re = Regex::new(r"^(\d+)$").unwrap();
        let t = translate_replacement(r"$\1$", 2).unwrap();
        let mut out = String::new();
        re.captures("42").unwrap().expand(&t, &mut out);
        assert_eq!(out, "$42$");
    }

    #[test]
    fn cidr_parse_and_contains() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(c.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        let one = Cidr::parse("192.0.2.7").unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()));
        assert!(!one.contains("192.0.2.8".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.1/8")
            .unwrap_err()
            .contains("10.0.0.0/8"));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("ten").is_err());
    }
}
