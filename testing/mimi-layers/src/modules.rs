//! Module order inside a crate: the modules of the crates in [`ACYCLIC_MODULES`] do not import
//! each other in a loop, so each can be read (and split) knowing only the modules below it.
//!
//! A module is a top-level file of `src` (`foo.rs`, with everything under `foo/`); it names
//! another by any `crate::other` path (`use crate::other::X`, `crate::{other, third}`, an
//! inline `crate::other::f()`) outside comments and outside its `#[cfg(test)] mod tests`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The crates (their `src`, from the workspace root) whose modules must form no cycle.
pub const ACYCLIC_MODULES: &[&str] = &["crates/server/mimi-server/src"];

/// Module → the other modules of the same crate it names.
pub type ModuleGraph = BTreeMap<String, BTreeSet<String>>;

/// The module graph of the crate whose sources are in `src`.
pub fn module_graph(src: &Path) -> Result<ModuleGraph, String> {
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    read_tree(src, None, &mut texts)?;
    let modules: BTreeSet<String> = texts.keys().cloned().collect();
    Ok(texts
        .into_iter()
        .map(|(module, text)| {
            let named = references(&text)
                .into_iter()
                .filter(|m| m != &module && modules.contains(m))
                .collect();
            (module, named)
        })
        .collect())
}

/// Reads every `.rs` file under `dir` into `texts`, keyed by its top-level module (`top`, or
/// the file's own stem at the top).
fn read_tree(
    dir: &Path,
    top: Option<&str>,
    texts: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let module = top.unwrap_or(stem).to_owned();
        if path.is_dir() {
            read_tree(&path, Some(&module), texts)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let slot = texts.entry(module).or_default();
            slot.push_str(&text);
            slot.push('\n');
        }
    }
    Ok(())
}

/// The first segments of the `crate::` paths in `text` (comments and the `#[cfg(test)] mod
/// tests` block at the end left out).
pub fn references(text: &str) -> BTreeSet<String> {
    let code = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let code: String = code
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut named = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            named.extend(group_heads(group));
        } else {
            named.insert(ident(rest).to_owned());
        }
    }
    named.retain(|n| !n.is_empty());
    named
}

/// The first segment of each path in a `{a, b::c, d::{e, f}}` group (`group` starts after its
/// opening brace).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 1usize;
    let mut expect_head = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expect_head = true,
            c if expect_head && depth == 1 && !c.is_whitespace() => {
                heads.push(ident(&group[i..]).to_owned());
                expect_head = false;
            }
            _ => {}
        }
    }
    heads
}

fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The cycles of `graph`: each set of two or more modules that reach one another, sorted.
pub fn module_cycles(graph: &ModuleGraph) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components.
    struct State<'a> {
        graph: &'a ModuleGraph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        cycles: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !graph.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.cycles.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        cycles: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.cycles.sort();
    state.cycles
}
