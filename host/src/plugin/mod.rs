//! Loading plugin shared objects and creating configured instances.

mod image;
mod instance;
pub mod services;
pub mod timers;

pub use image::{Image, ImageCache, LoadError};
pub use instance::Instance;
