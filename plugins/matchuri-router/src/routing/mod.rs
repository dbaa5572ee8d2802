//! The routing core: configuration, MatchUri routes and collections, regex rules, the decision and
//! its explanation. Pure functions, no SDK.

pub mod alias;
mod collections;
pub mod config;
pub mod decide;
pub mod diagnostics;
pub mod directory;
mod explain;
pub mod match_uri;
mod rules;

pub use config::{CertificateChoice, Config, ConfigProblem, Consult, OnNoMatch};
pub use decide::{decide, Decision, NextHop, RequestFacts, Transport};
pub use diagnostics::{failure_diagnostics, failure_diagnostics_from, FailureKind};
pub use directory::{Directory, MemoryDirectory, NoDirectory};

#[cfg(test)]
mod tests;
