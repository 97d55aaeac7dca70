//! The rules themselves: which folder is which layer, which crates are sans-IO, which crates
//! count as I/O. ARCHITECTURE.md ("Layers and crates", "Rules of the house") states them in prose.

/// A layer of the workspace, bottom up. A crate may depend on crates of its own layer or below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    /// `crates/foundation`: URIs, code points.
    Foundation,
    /// `crates/message-format`: MIMI content.
    MessageFormat,
    /// `crates/signaling`: room state and policy.
    Signaling,
    /// `crates/e2e-security`: MLS.
    E2eSecurity,
    /// `crates/delivery`: federation wire types and the delivery-service engines.
    Delivery,
    /// `crates/transport`: HTTPS and mutual TLS.
    Transport,
    /// `crates/storage`: database backends.
    Storage,
    /// `crates/client`: the client API types, the client engine, the SDK.
    Client,
    /// `crates/server`: the provider service.
    Server,
    /// `testing/`: harnesses and the load generator.
    Testing,
    /// `apps/`: the binary.
    App,
}

impl Layer {
    /// The layer of a crate from its directory relative to the workspace root
    /// (`crates/<layer>/<crate>`, `testing/<crate>`, `apps/<crate>`), or `None` for a folder
    /// that is no layer.
    pub fn of_dir(dir: &str) -> Option<Layer> {
        let mut parts = dir.split('/');
        match (parts.next()?, parts.next()?) {
            ("crates", "foundation") => Some(Layer::Foundation),
            ("crates", "message-format") => Some(Layer::MessageFormat),
            ("crates", "signaling") => Some(Layer::Signaling),
            ("crates", "e2e-security") => Some(Layer::E2eSecurity),
            ("crates", "delivery") => Some(Layer::Delivery),
            ("crates", "transport") => Some(Layer::Transport),
            ("crates", "storage") => Some(Layer::Storage),
            ("crates", "client") => Some(Layer::Client),
            ("crates", "server") => Some(Layer::Server),
            ("testing", _) => Some(Layer::Testing),
            ("apps", _) => Some(Layer::App),
            _ => None,
        }
    }
}

/// Whether a workspace crate must stay free of I/O: every crate of the layers up to the
/// delivery service, and the named engines and types of the higher layers.
pub fn is_sans_io(name: &str, layer: Layer) -> bool {
    layer <= Layer::Delivery || SANS_IO_ABOVE_DELIVERY.contains(&name)
}

const SANS_IO_ABOVE_DELIVERY: &[&str] = &["mimi-client-api", "mimi-client-core", "mimi-testkit"];

/// Third-party crates that do I/O (an async runtime, sockets, HTTP, a database): a sans-IO crate
/// may not depend on any of them, directly or through another crate.
pub const IO_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "hyper",
    "hyper-util",
    "h2",
    "axum",
    "reqwest",
    "tokio-rustls",
    "tokio-tungstenite",
    "tungstenite",
    "sqlx",
    "sqlx-core",
    "libsqlite3-sys",
    "rusqlite",
    "tokio-postgres",
];

/// The one workspace crate that may name openmls.
pub const OPENMLS_OWNER: &str = "mimi-mls";

/// Whether a third-party crate is part of openmls.
pub(crate) fn is_openmls(name: &str) -> bool {
    name == "openmls" || name.starts_with("openmls_") || name.starts_with("openmls-")
}

/// Pairs of engines that stay apart even where the layers would allow it: `(crate, dependency,
/// why)`. The client engine speaks the wire types (`mimi-federation-api`); depending on the
/// delivery service's engine would let the two sides share code paths the protocol keeps
/// apart, so the tests would no longer show that a client works against another provider.
pub const ENGINES_APART: &[(&str, &str, &str)] = &[(
    "mimi-client-core",
    "mimi-ds",
    "the client engine speaks the wire types of mimi-federation-api, not the delivery \
     service's engine (its tests may drive mimi-ds as a dev-dependency)",
)];
