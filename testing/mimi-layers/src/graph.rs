//! The dependency graph of the workspace as `cargo metadata --format-version 1` reports it.

use std::collections::HashMap;

use serde_json::Value;

/// How one package depends on another (a dependency may be several kinds at once).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kinds {
    /// A normal dependency: linked into the crate.
    pub normal: bool,
    /// A build-script dependency.
    pub build: bool,
    /// A dependency of the crate's tests, examples and benches only.
    pub dev: bool,
}

/// One resolved package.
#[derive(Clone, Debug)]
pub struct Package {
    /// The package name.
    pub name: String,
    /// For a workspace member, its directory relative to the workspace root (`/`-separated).
    pub member_dir: Option<String>,
    /// Its resolved dependencies: index into [`Graph::packages`] and how.
    pub deps: Vec<(usize, Kinds)>,
}

/// The resolved graph.
#[derive(Clone, Debug)]
pub struct Graph {
    /// Every package of the resolve, members first in the order cargo lists them.
    pub packages: Vec<Package>,
}

impl Graph {
    /// Reads the JSON that `cargo metadata --format-version 1` prints (with its `resolve`).
    pub fn from_metadata(metadata: &Value) -> Result<Graph, String> {
        let root = str_field(metadata, "workspace_root")?;
        let members: Vec<&str> = array_field(metadata, "workspace_members")?
            .iter()
            .map(|id| id.as_str().ok_or("a workspace member id is not a string"))
            .collect::<Result<_, _>>()?;
        let mut index = HashMap::new();
        let mut packages = Vec::new();
        for package in array_field(metadata, "packages")? {
            let id = str_field(package, "id")?;
            let manifest = str_field(package, "manifest_path")?;
            let member_dir = if members.contains(&id) {
                Some(member_dir(root, manifest)?)
            } else {
                None
            };
            index.insert(id.to_owned(), packages.len());
            packages.push(Package {
                name: str_field(package, "name")?.to_owned(),
                member_dir,
                deps: Vec::new(),
            });
        }
        let resolve = metadata
            .get("resolve")
            .filter(|r| !r.is_null())
            .ok_or("the metadata has no resolve: run cargo metadata without --no-deps")?;
        for node in array_field(resolve, "nodes")? {
            let from = lookup(&index, str_field(node, "id")?)?;
            for dep in array_field(node, "deps")? {
                let to = lookup(&index, str_field(dep, "pkg")?)?;
                let mut kinds = Kinds::default();
                for kind in array_field(dep, "dep_kinds")? {
                    match kind.get("kind").and_then(Value::as_str) {
                        None => kinds.normal = true,
                        Some("build") => kinds.build = true,
                        Some("dev") => kinds.dev = true,
                        Some(other) => return Err(format!("unknown dependency kind {other:?}")),
                    }
                }
                packages[from].deps.push((to, kinds));
            }
        }
        Ok(Graph { packages })
    }

    /// The workspace members, as indices into [`Graph::packages`].
    pub fn members(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.packages.len()).filter(|&i| self.packages[i].member_dir.is_some())
    }

    /// The chain of normal dependencies from `from` to the first package `wanted` accepts
    /// (`from` first), or `None` when none is reachable.
    pub fn normal_path(
        &self,
        from: usize,
        wanted: impl Fn(&Package) -> bool,
    ) -> Option<Vec<usize>> {
        let mut parent: Vec<Option<usize>> = vec![None; self.packages.len()];
        let mut seen = vec![false; self.packages.len()];
        let mut queue = std::collections::VecDeque::from([from]);
        seen[from] = true;
        while let Some(at) = queue.pop_front() {
            if at != from && wanted(&self.packages[at]) {
                let mut chain = vec![at];
                let mut step = at;
                while let Some(up) = parent[step] {
                    chain.push(up);
                    step = up;
                }
                chain.reverse();
                return Some(chain);
            }
            for &(to, kinds) in &self.packages[at].deps {
                if kinds.normal && !seen[to] {
                    seen[to] = true;
                    parent[to] = Some(at);
                    queue.push_back(to);
                }
            }
        }
        None
    }
}

fn member_dir(root: &str, manifest: &str) -> Result<String, String> {
    let relative = manifest
        .strip_prefix(root)
        .ok_or_else(|| format!("member manifest {manifest} is outside the workspace root"))?;
    let relative = relative.replace('\\', "/");
    let relative = relative.trim_start_matches('/');
    Ok(relative
        .strip_suffix("Cargo.toml")
        .unwrap_or(relative)
        .trim_end_matches('/')
        .to_owned())
}

fn lookup(index: &HashMap<String, usize>, id: &str) -> Result<usize, String> {
    index
        .get(id)
        .copied()
        .ok_or_else(|| format!("the resolve names a package that is not listed: {id}"))
}

fn str_field<'a>(value: &'a Value, field: &str) -> Result<&'a str, String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("cargo metadata: missing string field {field:?}"))
}

fn array_field<'a>(value: &'a Value, field: &str) -> Result<&'a [Value], String> {
    value
        .get(field)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| format!("cargo metadata: missing array field {field:?}"))
}
