//! An in-process MIMI federation for tests, benchmarks and the demo.
//!
//! [`Network`] holds N providers, each running the real delivery-service engines of `mimi-ds`
//! (hub rooms, follower inboxes, KeyPackage pools, consent), and their devices, each a real
//! `mimi-mls` client. Nothing is mocked but the wire: requests from a device to its provider
//! and from a follower to the hub are direct calls, and the hub's fan-out travels through a
//! simulated network with a virtual clock and seeded faults ([`Faults`]: loss of requests or
//! of their acknowledgements, duplication, late replays). The hub retries each follower's
//! queue head until it is acknowledged, as the real server does.
//!
//! Tests drive it step by step ([`Network::step`]) or until nothing moves
//! ([`Network::settle`]) and then inspect every device's transcript.

mod client;
mod network;
mod provider;

pub use client::{DeviceEvent, SimDevice};
pub use network::{Faults, Network, NetworkStats, SimError};
pub use provider::SimProvider;
