//! Where local users are homed. The adapter implements [`Directory`] over whatever the host offers;
//! [`MemoryDirectory`] is an in-memory map for tests and small fixed deployments.

use std::collections::HashMap;

/// Looks up the home of a local user.
pub trait Directory {
    /// The next-hop URI of the pool/registrar that homes `user_at_host` (`alice@contoso.com`: the
    /// user part as written, the host lower-cased), e.g. `sip:pool01.contoso.com:5061;transport=tls`;
    /// `None` if the user is unknown here (static routes and rules then apply as usual).
    fn home_of(&self, user_at_host: &str) -> Option<String>;
}

/// A directory that knows nobody.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDirectory;

impl Directory for NoDirectory {
    fn home_of(&self, _user_at_host: &str) -> Option<String> {
        None
    }
}

/// A fixed map from `user@host` to home next-hop URI. Keys are compared exactly, so insert them
/// with the host lower-cased, as [`crate::routing::decide`] asks for them.
#[derive(Clone, Debug, Default)]
pub struct MemoryDirectory {
    homes: HashMap<String, String>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Home `user_at_host` at `next_hop` (a SIP URI); returns `self` for chaining.
    pub fn with(mut self, user_at_host: &str, next_hop: &str) -> Self {
        self.insert(user_at_host, next_hop);
        self
    }

    /// Home `user_at_host` at `next_hop` (a SIP URI).
    pub fn insert(&mut self, user_at_host: &str, next_hop: &str) {
        self.homes
            .insert(user_at_host.to_string(), next_hop.to_string());
    }
}

impl Directory for MemoryDirectory {
    fn home_of(&self, user_at_host: &str) -> Option<String> {
        self.homes.get(user_at_host).cloned()
    }
}
