//! A device: the real client engine (`mimi_client_core::Client`, the engine the SDK and the
//! testkit drive) talking to its provider's client API over HTTP, with a small driver that
//! carries out every request the engine queues and feeds the answers and the device's event
//! feed back. Honest operations go through the engine's commands; the rogue ones the attack
//! tests need (a tampered or unchecked commit, another member's commit, a message the sender's
//! own client would refuse, a crafted ephemeral message) are explicit raw paths built from a
//! copy of the engine's MLS group, so the engine itself never holds what they did.
//!
//! [`driver`] holds the honest operations and the driver; [`rogue`] the rogue paths.

mod driver;
mod rogue;

pub use driver::*;
