//! The layer check: this workspace keeps the rules, and each rule catches a deliberately wrong
//! graph (synthetic, and this workspace with one wrong dependency added).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use mimi_layers::{Graph, IO_CRATES, Kinds, Layer, Violation, check, workspace_graph};
use serde_json::{Value, json};

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn this_workspace() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    workspace_graph(&cargo(), &root).unwrap()
}

fn index_of(graph: &Graph, name: &str) -> usize {
    graph.packages.iter().position(|p| p.name == name).unwrap()
}

#[test]
fn this_workspace_keeps_the_layer_rules() {
    let graph = this_workspace();
    assert!(
        graph.members().count() >= 14,
        "too few members: the metadata was misread"
    );
    let violations = check(&graph);
    assert!(
        violations.is_empty(),
        "{}",
        violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_wrong_dependency_added_to_this_workspace_is_caught() {
    let mut graph = this_workspace();
    let types = index_of(&graph, "mimi-types");
    let server = index_of(&graph, "mimi-server");
    let normal = Kinds {
        normal: true,
        ..Kinds::default()
    };
    graph.packages[types].deps.push((server, normal));
    let violations = check(&graph);
    assert!(violations.contains(&Violation::Upward {
        krate: "mimi-types".into(),
        layer: Layer::Foundation,
        dep: "mimi-server".into(),
        dep_layer: Layer::Server,
    }));
    // mimi-server does I/O, so mimi-types now reaches an I/O crate through it.
    assert!(violations.iter().any(|v| matches!(
        v,
        Violation::Io { krate, chain } if krate == "mimi-types"
            && chain.get(1).map(String::as_str) == Some("mimi-server")
            && chain.last().is_some_and(|io| IO_CRATES.contains(&io.as_str()))
    )));
}

/// A small workspace under `/ws`: members are `(name, dir)`, externals are names, edges are
/// `(from, to, kind)` with kind `None` (normal), `"dev"` or `"build"`.
fn metadata(
    members: &[(&str, &str)],
    externals: &[&str],
    edges: &[(&str, &str, Option<&str>)],
) -> Value {
    let id = |name: &str| format!("{name} 0.1.0");
    let mut packages: Vec<Value> = members
        .iter()
        .map(|(name, dir)| json!({"id": id(name), "name": name, "manifest_path": format!("/ws/{dir}/Cargo.toml")}))
        .collect();
    packages.extend(externals.iter().map(|name| {
        json!({"id": id(name), "name": name, "manifest_path": format!("/registry/{name}/Cargo.toml")})
    }));
    let nodes: Vec<Value> = members
        .iter()
        .map(|(name, _)| *name)
        .chain(externals.iter().copied())
        .map(|from| {
            let deps: Vec<Value> = edges
                .iter()
                .filter(|(f, _, _)| *f == from)
                .map(|(_, to, kind)| json!({"pkg": id(to), "dep_kinds": [{"kind": kind, "target": null}]}))
                .collect();
            json!({"id": id(from), "deps": deps})
        })
        .collect();
    json!({
        "workspace_root": "/ws",
        "workspace_members": members.iter().map(|(name, _)| id(name)).collect::<Vec<_>>(),
        "packages": packages,
        "resolve": {"nodes": nodes},
    })
}

fn violations(
    members: &[(&str, &str)],
    externals: &[&str],
    edges: &[(&str, &str, Option<&str>)],
) -> Vec<Violation> {
    check(&Graph::from_metadata(&metadata(members, externals, edges)).unwrap())
}

#[test]
fn an_upward_dependency_is_refused_and_a_downward_one_is_not() {
    let members = [
        ("low", "crates/foundation/low"),
        ("high", "crates/server/high"),
    ];
    assert!(violations(&members, &[], &[("high", "low", None)]).is_empty());
    assert_eq!(
        violations(&members, &[], &[("low", "high", None)]),
        vec![Violation::Upward {
            krate: "low".into(),
            layer: Layer::Foundation,
            dep: "high".into(),
            dep_layer: Layer::Server,
        }]
    );
    assert_eq!(
        violations(&members, &[], &[("low", "high", Some("build"))]).len(),
        1
    );
}

#[test]
fn tests_may_reach_up_through_dev_dependencies() {
    let members = [
        ("sdk", "crates/client/sdk"),
        ("server", "crates/server/server"),
    ];
    assert!(
        violations(
            &members,
            &["tokio"],
            &[("sdk", "server", Some("dev")), ("server", "tokio", None)]
        )
        .is_empty()
    );
}

#[test]
fn a_sans_io_crate_reaching_an_io_crate_is_refused_with_the_chain() {
    let members = [("engine", "crates/delivery/engine")];
    let found = violations(
        &members,
        &["helper", "tokio"],
        &[("engine", "helper", None), ("helper", "tokio", None)],
    );
    assert_eq!(
        found,
        vec![Violation::Io {
            krate: "engine".into(),
            chain: vec!["engine".into(), "helper".into(), "tokio".into()],
        }]
    );
    assert!(found[0].to_string().contains("engine -> helper -> tokio"));
    // The same dependency is fine in a crate that may do I/O, and as a dev-dependency.
    let io_members = [("store", "crates/storage/store")];
    assert!(violations(&io_members, &["tokio"], &[("store", "tokio", None)]).is_empty());
    assert!(violations(&members, &["tokio"], &[("engine", "tokio", Some("dev"))]).is_empty());
}

#[test]
fn the_named_engines_of_the_client_layer_are_sans_io_and_the_sdk_is_not() {
    let members = [
        ("mimi-client-core", "crates/client/mimi-client-core"),
        ("mimi-sdk", "crates/client/mimi-sdk"),
    ];
    let found = violations(
        &members,
        &["sqlx"],
        &[
            ("mimi-client-core", "sqlx", None),
            ("mimi-sdk", "sqlx", None),
        ],
    );
    assert_eq!(found.len(), 1);
    assert!(matches!(&found[0], Violation::Io { krate, .. } if krate == "mimi-client-core"));
}

#[test]
fn the_client_engine_stays_apart_from_the_delivery_engine_except_in_its_tests() {
    let members = [
        ("mimi-ds", "crates/delivery/mimi-ds"),
        ("mimi-client-core", "crates/client/mimi-client-core"),
        ("mimi-sdk", "crates/client/mimi-sdk"),
    ];
    assert!(
        violations(
            &members,
            &[],
            &[
                ("mimi-client-core", "mimi-ds", Some("dev")),
                ("mimi-sdk", "mimi-ds", None),
            ]
        )
        .is_empty()
    );
    let found = violations(&members, &[], &[("mimi-client-core", "mimi-ds", None)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(matches!(
        &found[0],
        Violation::EnginesApart { krate, dep, .. } if krate == "mimi-client-core" && dep == "mimi-ds"
    ));
    assert!(found[0].to_string().contains("mimi-federation-api"));
}

#[test]
fn only_mimi_mls_names_openmls() {
    let members = [
        ("mimi-mls", "crates/e2e-security/mimi-mls"),
        ("mimi-ds", "crates/delivery/mimi-ds"),
    ];
    let externals = ["openmls", "openmls_traits"];
    assert!(
        violations(
            &members,
            &externals,
            &[("mimi-mls", "openmls", None), ("mimi-ds", "mimi-mls", None)]
        )
        .is_empty()
    );
    assert_eq!(
        violations(
            &members,
            &externals,
            &[("mimi-ds", "openmls_traits", Some("dev"))]
        ),
        vec![Violation::Openmls {
            krate: "mimi-ds".into(),
            dep: "openmls_traits".into()
        }]
    );
}

#[test]
fn a_crate_outside_the_layer_folders_is_refused() {
    assert_eq!(
        violations(&[("stray", "tools/stray")], &[], &[]),
        vec![Violation::UnknownLayer {
            krate: "stray".into(),
            dir: "tools/stray".into()
        }]
    );
}

#[test]
fn metadata_without_a_resolve_is_an_error_not_a_pass() {
    let mut value = metadata(&[("low", "crates/foundation/low")], &[], &[]);
    value["resolve"] = Value::Null;
    let error = Graph::from_metadata(&value).unwrap_err();
    assert!(error.contains("--no-deps"), "{error}");
}

#[test]
fn the_servers_modules_import_each_other_in_no_loop() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for src in mimi_layers::ACYCLIC_MODULES {
        let modules = mimi_layers::module_graph(&root.join(src)).unwrap();
        assert!(
            modules.len() >= 20 && modules.values().any(|named| !named.is_empty()),
            "too few modules or imports in {src}: the sources were misread"
        );
        let cycles = mimi_layers::module_cycles(&modules);
        assert!(cycles.is_empty(), "module cycles in {src}: {cycles:?}");
    }
}

#[test]
fn a_module_cycle_is_caught() {
    let named = mimi_layers::references(
        "//! see crate::docs\nuse crate::{a, b::{C, D}, c::e};\nuse crate::d::F;\n\
         fn f() { crate::e::g(); } // crate::comment\n\
         #[cfg(test)]\nmod tests {\n    use crate::tested;\n}\n",
    );
    let expected: Vec<&str> = vec!["a", "b", "c", "d", "e"];
    assert_eq!(
        named.iter().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
    let graph = |edges: &[(&str, &str)]| {
        let mut g = mimi_layers::ModuleGraph::new();
        for (from, to) in edges {
            g.entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
            g.entry((*to).to_owned()).or_default();
        }
        g
    };
    let acyclic = graph(&[("api", "provider"), ("hub", "provider"), ("api", "hub")]);
    assert!(mimi_layers::module_cycles(&acyclic).is_empty());
    let looped = graph(&[
        ("api", "provider"),
        ("provider", "blobs"),
        ("blobs", "api"),
        ("hub", "provider"),
    ]);
    assert_eq!(
        mimi_layers::module_cycles(&looped),
        vec![vec![
            "api".to_owned(),
            "blobs".to_owned(),
            "provider".to_owned()
        ]],
        "the three modules in the loop, and not the one outside it"
    );
}
