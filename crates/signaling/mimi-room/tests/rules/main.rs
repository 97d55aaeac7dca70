//! One negative test (at least) per commit validity rule of digest §3.3 that mimi-room enforces,
//! each asserting the exact [`Denied`] reason, next to the positive case it guards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod actor;
mod agents;
mod commit_shape;
mod common;
mod components;
mod ending;
mod joining;
mod limits;
mod membership;
mod retraction;
