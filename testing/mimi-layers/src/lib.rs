//! The layer rules of the workspace, checked from `cargo metadata` (ARCHITECTURE.md, "Rules of
//! the house"):
//!
//! - the layers are the folders (`crates/<layer>/<crate>`, then `testing/`, then `apps/`), and no
//!   crate depends (normal or build dependency) on a crate of a higher layer; tests may reach up
//!   through dev-dependencies;
//! - a sans-IO crate (every crate up to the delivery layer, the client API types, the client
//!   engine, the test kit) reaches no async runtime, socket, HTTP or database crate through its
//!   normal dependencies;
//! - only `mimi-mls` depends on openmls;
//! - named engines stay apart where the layers would allow a dependency (`ENGINES_APART`: the
//!   client engine does not depend on the delivery service's engine);
//! - the modules of the crates in [`ACYCLIC_MODULES`] (the server) import each other in no loop
//!   ([`module_cycles`], read from the sources).
//!
//! `cargo run -p mimi-layers` checks this workspace and exits non-zero with one line per broken
//! rule; `.ci/run` runs it before the tests.

mod check;
mod graph;
mod modules;
mod rules;

use std::path::Path;
use std::process::Command;

pub use check::{Violation, check};
pub use graph::{Graph, Kinds, Package};
pub use modules::{ACYCLIC_MODULES, ModuleGraph, module_cycles, module_graph, references};
pub use rules::{ENGINES_APART, IO_CRATES, Layer, OPENMLS_OWNER, is_sans_io};

/// Runs `cargo metadata` for the workspace at `root` (with `cargo` the given program) and reads
/// its graph.
pub fn workspace_graph(cargo: &str, root: &Path) -> Result<Graph, String> {
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run {cargo} metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let metadata = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
    Graph::from_metadata(&metadata)
}
