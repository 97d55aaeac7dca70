//! Applying the rules to a graph.

use std::fmt;

use crate::graph::Graph;
use crate::rules::{ENGINES_APART, IO_CRATES, Layer, OPENMLS_OWNER, is_openmls, is_sans_io};

/// One broken rule, with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A workspace member sits in a folder that is no layer.
    UnknownLayer {
        /// The crate.
        krate: String,
        /// Its folder.
        dir: String,
    },
    /// A crate depends (normal or build) on a crate of a higher layer.
    Upward {
        /// The crate.
        krate: String,
        /// Its layer.
        layer: Layer,
        /// The dependency.
        dep: String,
        /// The dependency's layer.
        dep_layer: Layer,
    },
    /// A sans-IO crate reaches an I/O crate through normal dependencies.
    Io {
        /// The sans-IO crate.
        krate: String,
        /// The chain of crates from it to the I/O crate.
        chain: Vec<String>,
    },
    /// A crate other than mimi-mls depends on openmls directly.
    Openmls {
        /// The crate.
        krate: String,
        /// The openmls crate it names.
        dep: String,
    },
    /// An engine depends (normal or build) on an engine it must stay apart from
    /// ([`ENGINES_APART`]).
    EnginesApart {
        /// The crate.
        krate: String,
        /// The engine it must not depend on.
        dep: String,
        /// Why.
        why: &'static str,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::UnknownLayer { krate, dir } => write!(
                f,
                "{krate} ({dir}) is in no layer folder: put it under crates/<layer>/, testing/ or apps/"
            ),
            Violation::Upward {
                krate,
                layer,
                dep,
                dep_layer,
            } => write!(
                f,
                "{krate} (layer {layer:?}) depends on {dep} (layer {dep_layer:?}): a crate may depend \
                 only on its own layer or below; move the code down or the crate up"
            ),
            Violation::Io { krate, chain } => write!(
                f,
                "{krate} is sans-IO but reaches an I/O crate: {}; keep I/O in transport, storage, \
                 server, SDK, testing or apps",
                chain.join(" -> ")
            ),
            Violation::Openmls { krate, dep } => write!(
                f,
                "{krate} names {dep}: only {OPENMLS_OWNER} may depend on openmls; use its re-exports"
            ),
            Violation::EnginesApart { krate, dep, why } => {
                write!(f, "{krate} depends on {dep}: {why}")
            }
        }
    }
}

/// Every violation of the layer rules in `graph`, members in cargo's order.
pub fn check(graph: &Graph) -> Vec<Violation> {
    let mut found = Vec::new();
    for member in graph.members() {
        let package = &graph.packages[member];
        let dir = package.member_dir.as_deref().unwrap_or_default();
        let Some(layer) = Layer::of_dir(dir) else {
            found.push(Violation::UnknownLayer {
                krate: package.name.clone(),
                dir: dir.to_owned(),
            });
            continue;
        };
        for &(to, kinds) in &package.deps {
            let dep = &graph.packages[to];
            if is_openmls(&dep.name) && package.name != OPENMLS_OWNER {
                found.push(Violation::Openmls {
                    krate: package.name.clone(),
                    dep: dep.name.clone(),
                });
            }
            let Some(dep_layer) = dep.member_dir.as_deref().and_then(Layer::of_dir) else {
                continue;
            };
            if kinds.normal || kinds.build {
                for &(from, to, why) in ENGINES_APART {
                    if package.name == from && dep.name == to {
                        found.push(Violation::EnginesApart {
                            krate: package.name.clone(),
                            dep: dep.name.clone(),
                            why,
                        });
                    }
                }
            }
            if (kinds.normal || kinds.build) && dep_layer > layer {
                found.push(Violation::Upward {
                    krate: package.name.clone(),
                    layer,
                    dep: dep.name.clone(),
                    dep_layer,
                });
            }
        }
        if is_sans_io(&package.name, layer)
            && let Some(chain) = graph.normal_path(member, |p| {
                p.member_dir.is_none() && IO_CRATES.contains(&p.name.as_str())
            })
        {
            found.push(Violation::Io {
                krate: package.name.clone(),
                chain: chain
                    .iter()
                    .map(|&i| graph.packages[i].name.clone())
                    .collect(),
            });
        }
    }
    found
}
