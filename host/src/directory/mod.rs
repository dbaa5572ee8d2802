//! The user directory the host offers to plugins: which system a user is homed on. A file (TOML or
//! CSV) by default, loaded with the config and reloaded with it; the [`Directory`] trait is the seam
//! where an LDAP-backed directory fits.

mod file;

pub use file::FileDirectory;

/// Looks up where a user is homed.
pub trait Directory: Send + Sync {
    /// The home of `aor` (`user@host`, host lower-cased): a SIP URI of the system that serves the
    /// user, or `None` when the user is not in the directory.
    fn home_of(&self, aor: &str) -> Option<&str>;
    /// One line for logs and `status`: where the entries come from and how many there are.
    fn describe(&self) -> String;
}

/// Normalise an address of record for lookup: `sip:`/`sips:` and parameters dropped, host
/// lower-cased, user kept as written.
pub fn normalise_aor(aor: &str) -> String {
    let s = aor.trim();
    let s = s
        .strip_prefix("sip:")
        .or_else(|| s.strip_prefix("sips:"))
        .unwrap_or(s);
    let s = s.split([';', '?', '>']).next().unwrap_or("");
    match s.rsplit_once('@') {
        Some((user, host)) => format!("{user}@{}", host.to_ascii_lowercase()),
        None => s.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_aor;

    #[test]
    fn aors_compare_by_user_and_lower_cased_host() {
        assert_eq!(
            normalise_aor("sip:Alice@Contoso.COM;transport=tls"),
            "Alice@contoso.com"
        );
        assert_eq!(normalise_aor(" bob@example.org "), "bob@example.org");
    }
}
