//! `mimi init` writes providers; `mimi serve` runs one until interrupted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn mimi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mimi"))
}

#[test]
fn init_writes_a_dev_federation_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = mimi()
        .args(["init", "--dev-federation", "x.example,y.example", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for d in ["x.example", "y.example"] {
        assert!(dir.path().join(d).join("mimi.toml").exists());
    }
    let again = mimi()
        .args(["init", "--domain", "x.example", "--dir"])
        .arg(dir.path().join("x.example"))
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}

#[test]
fn serve_refuses_a_missing_config_with_a_hint() {
    let out = mimi()
        .args(["serve", "--config", "/nonexistent/mimi.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/mimi.toml"));
}

#[test]
fn init_needs_a_domain_or_a_federation() {
    let dir = tempfile::tempdir().unwrap();
    let out = mimi()
        .args(["init", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
}
