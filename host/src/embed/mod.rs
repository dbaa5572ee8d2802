//! The host embedded in another SIP proxy (Kamailio, OpenSIPS, any C proxy): the proxy has received and
//! parsed the message and owns transactions, forking and sockets; the host walks its chain and hands back
//! the **decision as data** (edits plus an action) for the proxy to carry out with its own primitives.
//!
//! This module is the safe core shared by the two embedding surfaces of the `sip-interop-embedded`
//! cdylib (`host/cdylib/`): the C ABI (`sip_interop.h`) and the Lua module (`require "sip_interop"`).
//!
//! Fork safety: an [`EmbeddedHost`] starts threads (the config watcher, plugin timers) and loads plugins,
//! so it must be created in the process that uses it, after the proxy forked its workers. It remembers
//! the process that created it and refuses to work in another one.

mod arrival;
mod decision;
mod diff;
mod instance;
mod tx_state;

pub use arrival::{parse_ip, Arrival};
pub use decision::{Action, Body, Decision, MessageEdits, ResponseDecision};
pub use diff::edits_between;
pub use instance::{EmbeddedHost, WRONG_PROCESS};
pub use tx_state::{decode as decode_tx_state, encode as encode_tx_state};
