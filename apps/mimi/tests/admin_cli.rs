//! `mimi admin reports` on a provider's database: the operators' view of the abuse reports the
//! hub accepted (queued here directly, as the hub's reportAbuse route does once a report's
//! franks verify): list, show with the reported text, resolve once, and clear errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use mimi_content::{ContentBuilder, NestedPart};
use mimi_federation_api::Encode as _;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::franking::Frank;
use mimi_federation_api::mls::Signature;
use mimi_federation_api::report_abuse::{AbuseReport, AbuseType, AbusiveMessage};
use mimi_server::accounts::Accounts;
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;
use mimi_types::{Domain, RoomUri, UserUri};

fn admin(config: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .arg("admin")
        .arg("reports")
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn operators_list_show_and_resolve_abuse_reports() {
    let dir = tempfile::tempdir().unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .args(["init", "--domain", "x.example", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let config = dir.path().join("mimi.toml");

    let (ok, out, err) = admin(&config, &["list"]);
    assert!(ok, "{err}");
    assert!(out.contains("no open reports"), "{out}");

    let room = RoomUri::parse("mimi://x.example/r/club").unwrap();
    let abuser: UserUri = "mimi://y.example/u/eve".parse().unwrap();
    let content = ContentBuilder::new(NestedPart::text("you will regret this"))
        .uris(&abuser, &room)
        .build(&mut rand::rngs::OsRng)
        .unwrap()
        .encode()
        .unwrap();
    let frank = Frank::new(
        [1; 32],
        DEFAULT_CIPHERSUITE,
        Signature::from_bytes(vec![2; 64]).unwrap(),
    );
    let report = AbuseReport::new(
        IdentifierUri::from_string("mimi://z.example/u/carol".to_owned()).unwrap(),
        IdentifierUri::from_string(abuser.to_string()).unwrap(),
        AbuseType::UNSPECIFIED,
        "threats",
        vec![AbusiveMessage::new(content, frank, 1_700_000_000_000)],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let id = runtime.block_on(async {
        let accounts = Accounts::open_in(dir.path()).await.unwrap();
        accounts
            .queue_abuse_report(
                &room,
                &Domain::parse("z.example").unwrap(),
                5,
                &report.encode().unwrap(),
            )
            .await
            .unwrap()
    });

    let (ok, out, err) = admin(&config, &["list"]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "#{id} mimi://z.example/u/carol reported mimi://y.example/u/eve"
        )) && out.contains("open"),
        "{out}"
    );
    let (ok, out, err) = admin(&config, &["show", &id.to_string()]);
    assert!(ok, "{err}");
    assert!(out.contains("note: threats"), "{out}");
    assert!(out.contains("you will regret this"), "{out}");

    let (ok, out, err) = admin(&config, &["resolve", &id.to_string(), "--note", "warned"]);
    assert!(ok, "{err}");
    assert!(out.contains("resolved"), "{out}");
    let (ok, out, _) = admin(&config, &["list"]);
    assert!(ok && out.contains("no open reports"), "{out}");
    let (ok, out, _) = admin(&config, &["list", "--all"]);
    assert!(ok && out.contains("resolved: warned"), "{out}");

    // Errors say what to do.
    let (ok, _, err) = admin(&config, &["resolve", &id.to_string(), "--note", "again"]);
    assert!(!ok && err.contains("no open report"), "{err}");
    let (ok, _, err) = admin(&config, &["show", "999"]);
    assert!(!ok && err.contains("no report #999"), "{err}");
}

#[test]
fn admin_retract_refuses_bad_input_before_queueing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .args(["init", "--domain", "x.example", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(init.status.success());
    let config = dir.path().join("mimi.toml");
    let retract = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_mimi"))
            .args(["admin", "retract", "--room", "mimi://x.example/r/club"])
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = retract(&[]);
    assert!(!ok && err.contains("name the messages"), "{err}");
    let (ok, err) = retract(&["--message", "zz"]);
    assert!(!ok && err.contains("not hexadecimal"), "{err}");
    let (ok, err) = retract(&["--message", "0102"]);
    assert!(!ok && err.contains("not 32 octets"), "{err}");
    let (ok, err) = retract(&["--sender", "not a uri"]);
    assert!(
        !ok && err.contains("--sender is not a MIMI user URI"),
        "{err}"
    );
    // Nothing was queued.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let accounts = Accounts::open_in(dir.path()).await.unwrap();
        assert!(accounts.retraction_request(1).await.unwrap().is_none());
    });
}
