//! `mimi init --client-tls` and `--server-cert`: a `mimi serve` process serving its client API
//! over HTTPS with a self-signed certificate, and CLI devices that pin it (or do not).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::net::TcpStream;

use cli::{Servers, eventually, json, mimi, ok, run};

#[test]
fn a_cli_device_pins_the_self_signed_client_api_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("x.example");
    let out = mimi()
        .args(["init", "--domain", "x.example", "--client-tls", "--dir"])
        .arg(&home)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("--server-cert"));
    let cert = home.join(mimi_server::CLIENT_TLS_CERT);
    assert!(cert.exists() && home.join(mimi_server::CLIENT_TLS_KEY).exists());

    // Free ports instead of the defaults, then serve.
    let path = home.join(mimi_server::CONFIG_FILE);
    let mut config = mimi_server::Config::load(&path).unwrap();
    assert!(config.client_tls.is_some());
    config.federation_listen = mimi_server::free_loopback_addr().unwrap();
    config.client_listen = mimi_server::free_loopback_addr().unwrap();
    config.save(&path).unwrap();
    let _servers = Servers(vec![
        mimi()
            .args(["serve", "--config"])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    ]);
    let addr = config.client_listen;
    eventually("the server to listen", || TcpStream::connect(addr).is_ok());
    let url = format!("https://{addr}");

    // Without the pin: refused, with the way out named.
    let stranger = dir.path().join("profiles/stranger");
    let out = run(
        &stranger,
        &[
            "account", "register", "--server", &url, "--user", "stranger",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not trust"), "{stderr}");
    assert!(stderr.contains("--server-cert"), "{stderr}");

    // With it: register, and the profile remembers the pin for later commands.
    let alice = dir.path().join("profiles/alice");
    let cert_arg = cert.to_str().unwrap();
    let v = json(
        &alice,
        &[
            "account",
            "register",
            "--server",
            &url,
            "--server-cert",
            cert_arg,
            "--user",
            "alice",
        ],
    );
    assert_eq!(v["ok"], "account registered");
    ok(&alice, &["room", "create", "tls"]);
    ok(&alice, &["send", "tls", "over https"]);
    let history = json(&alice, &["history", "mimi://x.example/r/tls"]);
    assert_eq!(history["messages"][0]["text"], "over https");
}
