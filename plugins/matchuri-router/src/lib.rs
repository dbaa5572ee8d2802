//! `matchuri-router`: the MatchURI static router plugin for SIP Interop Host.
//!
//! It reproduces Microsoft Lync / Skype for Business static routing (MatchUri routes in the global
//! or a registrar pool's collection) plus Pexip-Infinity-style regex routing rules, as a pure
//! function from a request's facts to a [`Decision`], with an operator-readable explanation.
//! The routing core (`routing`) does not depend on the SDK; `plugin` turns a request and its
//! context into [`RequestFacts`], and a [`Decision`] into a verdict.
//!
//! ```
//! use matchuri_router::{decide, Config, Decision, NoDirectory, RequestFacts};
//!
//! let config = Config::from_toml(r#"
//!     [[route]]
//!     name = "to-cucm"
//!     match_uri = "*.contoso.com"
//!     transport = "tls"
//!     destination = "cucm.contoso.com"
//!     port = 5061
//! "#).unwrap();
//! let facts = RequestFacts {
//!     request_uri: "sip:bob@emea.contoso.com",
//!     source: "192.0.2.7:5061".parse().unwrap(),
//!     transport: "tls",
//!     in_dialog: false,
//!     has_route: false,
//! };
//! let mut why = Vec::new();
//! let Decision::Route(hop) = decide(&config, &facts, &NoDirectory, Some(&mut why)) else { panic!() };
//! assert_eq!(hop.next_hop, "sip:cucm.contoso.com:5061;transport=tls");
//! assert_eq!(hop.matched_by, "route to-cucm in global");
//! ```

#![warn(missing_docs)]

mod plugin;
pub mod routing;

pub use plugin::MatchUriRouter;
pub use routing::{
    decide, failure_diagnostics, failure_diagnostics_from, CertificateChoice, Config,
    ConfigProblem, Consult, Decision, Directory, FailureKind, MemoryDirectory, NextHop,
    NoDirectory, OnNoMatch, RequestFacts, Transport,
};
