//! The plugin chain: an immutable list of configured plugin instances that requests walk in order and
//! responses walk backwards. The live chain sits behind `arc-swap`; a transaction holds the snapshot it
//! started with to the end (see [`crate::Host`]).

mod context;
mod link;
mod walk;

pub use context::TxContext;
pub use link::Link;
pub use walk::{RequestOutcome, ResponseOutcome, StepOutcome, StepTrace};

/// A chain generation: built whole, then swapped in.
pub struct Chain {
    /// Increases with every successful reload.
    pub generation: u64,
    /// The plugins, in request order.
    pub links: Vec<Link>,
    /// The user directory this chain's plugins consult.
    pub directory: Option<std::sync::Arc<dyn crate::directory::Directory>>,
}

impl Chain {
    /// A chain with no plugins (requests take the default route).
    pub fn empty(generation: u64) -> Self {
        Chain {
            generation,
            links: Vec::new(),
            directory: None,
        }
    }

    /// The link named `name`.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }
}
