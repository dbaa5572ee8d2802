//! Lync / Skype for Business `MatchUri` semantics: `contoso.com` matches exactly that host,
//! `*.contoso.com` matches any subdomain but not `contoso.com` itself. ASCII case-insensitive.

use std::cmp::Ordering;

/// A validated `match_uri`, with its lower-cased forms computed once at load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchUri {
    /// As the operator wrote it.
    pub text: String,
    /// True for `*.domain`.
    pub wildcard: bool,
    /// The domain, lower-cased, without `*.` (`contoso.com`).
    pub domain: String,
    /// For a wildcard: `.` + domain (`.contoso.com`); for an exact match, the domain.
    pub needle: String,
}

/// How a host relates to a `MatchUri`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostMatch {
    /// The host equals the exact match domain.
    Exact,
    /// The host is a subdomain of the wildcard's domain.
    Subdomain,
    /// The host is the wildcard's domain itself, which `*.` does not cover.
    ParentOfWildcard,
    /// No relation.
    No,
}

impl MatchUri {
    /// Validate and normalise. The error says what is wrong and how to write it.
    pub fn parse(text: &str) -> Result<MatchUri, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err(
                "must not be empty; write a domain such as \"contoso.com\" or \"*.contoso.com\""
                    .into(),
            );
        }
        if t.contains(':') && !t.starts_with('[') {
            return Err(format!(
                "`{t}` is not a domain; write only the host part, e.g. \"contoso.com\" or \"*.contoso.com\" (no scheme, user or port)"
            ));
        }
        if t.contains('@') {
            return Err(format!(
                "`{t}` contains a user part; MatchUri matches the Request-URI host only, e.g. \"contoso.com\""
            ));
        }
        let (wildcard, domain) = match t.strip_prefix("*.") {
            Some(d) => (true, d),
            None => (false, t),
        };
        if domain.contains('*') {
            return Err(format!(
                "`{t}`: a wildcard is allowed only as a leading \"*.\" (\"*.contoso.com\")"
            ));
        }
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        if !crate::routing::config::is_ip_literal(domain) {
            check_domain(domain).map_err(|e| format!("`{t}`: {e}"))?;
        } else if wildcard {
            return Err(format!(
                "`{t}`: a wildcard cannot be combined with an IP address"
            ));
        }
        let domain = domain.to_ascii_lowercase();
        let needle = if wildcard {
            format!(".{domain}")
        } else {
            domain.clone()
        };
        Ok(MatchUri {
            text: t.to_string(),
            wildcard,
            domain,
            needle,
        })
    }

    /// How `host` (without trailing dot) relates to this MatchUri. Allocation-free.
    pub fn check(&self, host: &str) -> HostMatch {
        let h = host.as_bytes();
        let n = self.needle.as_bytes();
        if !self.wildcard {
            return if h.eq_ignore_ascii_case(n) {
                HostMatch::Exact
            } else {
                HostMatch::No
            };
        }
        if h.len() > n.len() && h[h.len() - n.len()..].eq_ignore_ascii_case(n) {
            HostMatch::Subdomain
        } else if h.eq_ignore_ascii_case(self.domain.as_bytes()) {
            HostMatch::ParentOfWildcard
        } else {
            HostMatch::No
        }
    }

    /// Specificity for choosing among several matching routes: exact beats wildcard, a longer
    /// wildcard suffix beats a shorter one.
    pub fn specificity(&self) -> (bool, usize) {
        (!self.wildcard, self.domain.len())
    }
}

/// Compare two matching candidates: `(match, phone_only)`; `Greater` = more specific.
pub fn compare_specificity(a: (&MatchUri, bool), b: (&MatchUri, bool)) -> Ordering {
    a.0.specificity()
        .cmp(&b.0.specificity())
        .then(a.1.cmp(&b.1))
}

/// Check a DNS name: labels of letters, digits, `-` (and `_`), not starting or ending with `-`.
pub fn check_domain(d: &str) -> Result<(), String> {
    if d.is_empty() {
        return Err("the domain is empty".into());
    }
    if d.len() > 253 {
        return Err("a domain name has at most 253 characters".into());
    }
    for label in d.split('.') {
        if label.is_empty() {
            return Err("empty label (two dots in a row, or a leading dot)".into());
        }
        if label.len() > 63 {
            return Err(format!("label `{label}` is longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "label `{label}` may contain only letters, digits, `-` and `_`"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("label `{label}` must not start or end with `-`"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> MatchUri {
        MatchUri::parse(s).unwrap()
    }

    #[test]
    fn exact_is_case_insensitive() {
        let x = m("Contoso.COM");
        assert_eq!(x.check("contoso.com"), HostMatch::Exact);
        assert_eq!(x.check("CONTOSO.com"), HostMatch::Exact);
        assert_eq!(x.check("a.contoso.com"), HostMatch::No);
    }

    #[test]
    fn wildcard_matches_subdomains_not_parent() {
        let x = m("*.contoso.com");
        assert_eq!(x.check("a.contoso.com"), HostMatch::Subdomain);
        assert_eq!(x.check("A.B.Contoso.Com"), HostMatch::Subdomain);
        assert_eq!(x.check("contoso.com"), HostMatch::ParentOfWildcard);
        assert_eq!(x.check("evilcontoso.com"), HostMatch::No);
        assert_eq!(x.check("sip.example.org"), HostMatch::No);
    }

    #[test]
    fn specificity_order() {
        let exact = m("a.contoso.com");
        let long = m("*.a.contoso.com");
        let short = m("*.contoso.com");
        assert_eq!(
            compare_specificity((&exact, false), (&long, true)),
            Ordering::Greater
        );
        assert_eq!(
            compare_specificity((&long, false), (&short, true)),
            Ordering::Greater
        );
        assert_eq!(
            compare_specificity((&short, true), (&short, false)),
            Ordering::Greater
        );
    }

    #[test]
    fn bad_match_uris_are_refused() {
        for bad in [
            "",
            "sip:contoso.com",
            "alice@contoso.com",
            "*contoso.com",
            "a.*.com",
            "*.10.0.0.1",
            "a..b",
        ] {
            assert!(MatchUri::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(MatchUri::parse("10.0.0.1").is_ok());
    }
}
