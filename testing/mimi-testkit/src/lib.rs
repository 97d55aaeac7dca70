//! An in-process MIMI federation for tests, benchmarks and the demo.
//!
//! [`Network`] holds N providers, each running the real delivery-service engines of `mimi-ds`
//! (hub rooms, follower inboxes, KeyPackage pools, consent), and their devices ([`Device`]),
//! each the real client engine `mimi_client_core::Client`, the one the SDK drives. Nothing is
//! mocked but the wire: requests from a device to its provider and from a follower to the hub
//! are direct calls, and the hub's fan-out travels through a simulated network with a virtual
//! clock and seeded faults ([`Faults`]: loss of requests or of their acknowledgements,
//! duplication, late replays). The hub retries each follower's queue head until it is
//! acknowledged, as the real server does, and names with each application message the
//! devices it is withheld from, which the follower honours.
//!
//! Tests drive it step by step ([`Network::step`]) or until nothing moves
//! ([`Network::settle`]) and then inspect every device's timeline. Where a test needs a
//! device's request misused (a rogue provider's replay or forgery), the one misbehaviour hook
//! is [`Network::intercept`]: the request is taken off the wire instead of sent.

mod device;
mod network;
mod provider;

pub use device::Device;
pub use network::{Faults, Intercepted, Network, NetworkStats, SimError};
pub use provider::SimProvider;
