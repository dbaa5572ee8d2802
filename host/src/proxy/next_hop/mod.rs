//! Where a branch goes: the next-hop URI planned (IP literal or name), names resolved per RFC 3263
//! on the resolver thread, the addresses ordered for stickiness and health, and addresses that fail
//! marked down so later requests try them last.

mod dns;
mod health;
mod order;
mod plan;
mod rfc3263;

pub use dns::{Dns, DnsSettings, Located};
pub use health::Health;
pub use order::{order, Candidate};
pub use plan::{plan, NoRoute, Plan, Query};

use crate::transport::Destination;

impl Candidate {
    /// The transport destination (a new connection or the one for this address).
    pub fn destination(&self) -> Destination {
        Destination {
            transport: self.transport,
            addr: self.addr,
            connection: None,
        }
    }
}

impl From<&Destination> for Candidate {
    fn from(d: &Destination) -> Self {
        Candidate {
            transport: d.transport,
            addr: d.addr,
            rank: 0,
            weight: 0,
            found_by: std::borrow::Cow::Borrowed("IP literal"),
        }
    }
}
