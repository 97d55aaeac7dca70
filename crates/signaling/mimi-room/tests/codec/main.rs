//! Golden encodings, round trips and strict-decoder refusals for every component.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::field_reassign_with_default)]

#[path = "../common/mod.rs"]
mod common;
mod golden;
mod room_state;
mod round_trips;
mod strategies;
mod strict;
