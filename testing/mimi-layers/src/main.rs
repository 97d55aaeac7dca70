//! `mimi-layers`: checks the layer rules of the workspace it is run in and lists what breaks them.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let graph = match mimi_layers::workspace_graph(&cargo, &root) {
        Ok(graph) => graph,
        Err(e) => {
            eprintln!("mimi-layers: {e}");
            return ExitCode::from(2);
        }
    };
    let violations = mimi_layers::check(&graph);
    let members = graph.members().count();
    let mut cycles = 0;
    for src in mimi_layers::ACYCLIC_MODULES {
        let modules = match mimi_layers::module_graph(&root.join(src)) {
            Ok(modules) => modules,
            Err(e) => {
                eprintln!("mimi-layers: {e}");
                return ExitCode::from(2);
            }
        };
        for cycle in mimi_layers::module_cycles(&modules) {
            cycles += 1;
            eprintln!(
                "module cycle in {src}: {} import each other in a loop; move what they share \
                 to a module below them",
                cycle.join(", ")
            );
        }
    }
    if cycles > 0 {
        eprintln!(
            "mimi-layers: {cycles} module cycle(s) (see ARCHITECTURE.md, Rules of the house)"
        );
        return ExitCode::FAILURE;
    }
    if violations.is_empty() {
        println!("mimi-layers: {members} workspace crates keep the layer rules");
        return ExitCode::SUCCESS;
    }
    for violation in &violations {
        eprintln!("layer rule broken: {violation}");
    }
    eprintln!(
        "mimi-layers: {} broken rule(s) in {members} workspace crates (see ARCHITECTURE.md, Rules of the house)",
        violations.len()
    );
    ExitCode::FAILURE
}
