//! `init` writes a usable provider and never overwrites one; a dev federation trusts itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mimi_server::{CONFIG_FILE, Config, ServerError, init, init_dev_federation};
use mimi_types::Domain;

#[test]
fn init_writes_keys_config_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let domain = Domain::parse("x.example").unwrap();
    let config = init(&domain, dir.path()).unwrap();
    let loaded = Config::load(&dir.path().join(CONFIG_FILE)).unwrap();
    assert_eq!(loaded.domain, config.domain);
    for file in [&config.mls.ca, &config.mls.server, &config.tls.key] {
        let path = config.resolve(file);
        assert!(path.exists(), "{}", path.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} is readable by others", path.display());
        }
    }
    let again = init(&domain, dir.path()).unwrap_err();
    assert!(
        matches!(&again, ServerError::Init(m) if m.contains("exists already")),
        "{again}"
    );
}

#[test]
fn a_dev_federation_pins_every_other_provider() {
    let dir = tempfile::tempdir().unwrap();
    let domains: Vec<Domain> = ["a.example", "b.example", "c.example"]
        .iter()
        .map(|d| Domain::parse(d).unwrap())
        .collect();
    let providers = init_dev_federation(dir.path(), &domains).unwrap();
    assert_eq!(providers.len(), 3);
    for provider in &providers {
        let config = Config::load(&provider.config_path).unwrap();
        let peers: Vec<_> = config.peers.keys().cloned().collect();
        let others: Vec<_> = domains
            .iter()
            .filter(|d| **d != provider.domain)
            .cloned()
            .collect();
        assert_eq!(peers, others);
        for peer in config.peers.values() {
            assert!(config.resolve(&peer.tls_ca).exists());
            assert!(config.resolve(&peer.mls_ca).exists());
        }
    }
}
