//! The authorization matrix: every hub-enforceable capability and every content capability the
//! clients check (topics, links, previews, downloads), each as a scenario that exercises it
//! × every role of the four presets × six actor origins × two constraint states, checked against
//! an independent, table-driven oracle written here. The oracle reads only the tables below
//! (which restate the presets' capabilities, role changes and constraints) and never calls the
//! authorizer; the test demands 100% agreement, refusals included, reason for reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agents;
mod checks;
mod common;
mod oracle;
mod runner;
mod scenarios;
mod tables;
