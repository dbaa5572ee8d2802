//! Lync-form failure texts: `ms-diagnostics` (read by Lync / Skype for Business) with a matching
//! `Warning: 399` (read by standard SIP peers).

/// Why every address of a next hop failed, as the host reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The destination name did not resolve (no SRV / A / AAAA).
    Unresolvable,
    /// No address accepted a connection or answered.
    Unreachable,
    /// The TLS peer's certificate was not trusted.
    Untrusted,
}

/// Status of the failure answer.
pub const FAILURE_STATUS: u16 = 504;
/// Reason phrase of the failure answer.
pub const FAILURE_REASON: &str = "Server Time-out";
/// Status of the "no match" answer.
pub const NO_MATCH_STATUS: u16 = 404;
/// Reason phrase of the "no match" answer.
pub const NO_MATCH_REASON: &str = "Not Found";
/// ms-diagnostics code and reason for "no route".
pub const NO_MATCH_DIAGNOSTIC: (u16, &str) = (1005, "Cannot route to destination domain");

impl FailureKind {
    /// The ms-diagnostics code and reason text Lync uses.
    pub fn diagnostic(self) -> (u16, &'static str) {
        match self {
            FailureKind::Unresolvable => (1008, "Unable to resolve DNS SRV record"),
            FailureKind::Unreachable => (1046, "Failed to connect to a peer server"),
            FailureKind::Untrusted => (
                1010,
                "Certificate trust with another server could not be established",
            ),
        }
    }

    /// The ms-diagnostics parameter that names the destination.
    fn destination_param(self) -> &'static str {
        match self {
            FailureKind::Unresolvable => "fqdn",
            FailureKind::Unreachable => "Peer",
            FailureKind::Untrusted => "peer",
        }
    }
}

/// `504` with `ms-diagnostics` (1008 / 1046 / 1010) and `Warning: 399`, for when the host reports
/// that every address of `destination` failed. The agent in `Warning` is
/// [`crate::routing::config::DEFAULT_SERVER_NAME`] and no `source=` is given; prefer
/// [`crate::routing::Config::failure_diagnostics`], which names this host.
pub fn failure_diagnostics(kind: FailureKind, destination: &str) -> (u16, Vec<(String, String)>) {
    build_failure(
        None,
        crate::routing::config::DEFAULT_SERVER_NAME,
        kind,
        destination,
    )
}

/// As [`failure_diagnostics`], with `source="<agent>"` in ms-diagnostics and `agent` in Warning.
pub fn failure_diagnostics_from(
    agent: &str,
    kind: FailureKind,
    destination: &str,
) -> (u16, Vec<(String, String)>) {
    build_failure(Some(agent), agent, kind, destination)
}

fn build_failure(
    source: Option<&str>,
    agent: &str,
    kind: FailureKind,
    destination: &str,
) -> (u16, Vec<(String, String)>) {
    let (code, reason) = kind.diagnostic();
    let dest = quoted_safe(destination);
    let mut diag = format!(
        "{code};reason=\"{reason}\";{}=\"{dest}\"",
        kind.destination_param()
    );
    if let Some(s) = source {
        diag.push_str(&format!(";source=\"{}\"", quoted_safe(s)));
    }
    let warning = format!("399 {} \"{reason}: {dest}\"", token_safe(agent));
    (
        FAILURE_STATUS,
        vec![
            ("ms-diagnostics".to_string(), diag),
            ("Warning".to_string(), warning),
        ],
    )
}

/// `ms-diagnostics` and `Warning` of the 404 for "no route".
pub(crate) fn no_match_headers(agent: &str) -> Vec<(String, String)> {
    let (code, reason) = NO_MATCH_DIAGNOSTIC;
    vec![
        (
            "ms-diagnostics".to_string(),
            format!(
                "{code};reason=\"{reason}\";source=\"{}\"",
                quoted_safe(agent)
            ),
        ),
        (
            "Warning".to_string(),
            format!("399 {} \"{reason}\"", token_safe(agent)),
        ),
    ]
}

/// Text safe inside a quoted-string: no control characters, `"` and `\` escaped.
fn quoted_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A Warning agent: a host name or pseudonym token; anything else becomes `-`.
fn token_safe(s: &str) -> &str {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~:[]".contains(&b))
    {
        s
    } else {
        "-"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
        &h.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn failure_texts() {
        let (status, h) = failure_diagnostics(FailureKind::Unresolvable, "cucm.contoso.com");
        assert_eq!(status, 504);
        assert_eq!(
            header(&h, "ms-diagnostics"),
            "1008;reason=\"Unable to resolve DNS SRV record\";fqdn=\"cucm.contoso.com\""
        );
        assert_eq!(
            header(&h, "Warning"),
            "399 sip-interop-host \"Unable to resolve DNS SRV record: cucm.contoso.com\""
        );

        let (status, h) = failure_diagnostics(FailureKind::Unreachable, "10.0.0.5");
        assert_eq!(status, 504);
        assert!(header(&h, "ms-diagnostics")
            .starts_with("1046;reason=\"Failed to connect to a peer server\""));
        assert!(header(&h, "Warning").starts_with("399 "));
        assert!(header(&h, "Warning").contains("Failed to connect to a peer server"));

        let (_, h) = failure_diagnostics_from(
            "pool01.contoso.com",
            FailureKind::Untrusted,
            "vcs.example.net",
        );
        assert_eq!(
            header(&h, "ms-diagnostics"),
            "1010;reason=\"Certificate trust with another server could not be established\";peer=\"vcs.example.net\";source=\"pool01.contoso.com\""
        );
        assert_eq!(
            header(&h, "Warning"),
            "399 pool01.contoso.com \"Certificate trust with another server could not be established: vcs.example.net\""
        );
    }

    #[test]
    fn destination_cannot_break_the_header() {
        let (_, h) = failure_diagnostics(FailureKind::Unreachable, "a\"b\r\nRoute: x");
        for (_, v) in &h {
            assert!(!v.contains('\r') && !v.contains('\n'), "{v}");
        }
        assert!(header(&h, "ms-diagnostics").contains("Peer=\"a\\\"bRoute: x\""));
    }
}
