//! `mimi bench` with tiny numbers: the command line reaches the load generator, which runs a
//! hub and two followers in-process and reports every delivery exactly once. No speed is
//! asserted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn bench(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .arg("bench")
        .args(args)
        .output()
        .expect("the mimi binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_tiny_run_reports_every_delivery_once() {
    let (ok, stdout, stderr) = bench(&[
        "--users",
        "4",
        "--senders",
        "2",
        "--messages",
        "3",
        "--max-seconds",
        "60",
        "--quiet",
    ]);
    assert!(ok, "bench failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("delivered 18/18"), "{stdout}");
    assert!(
        stdout.contains("duplicates 0  missing 0  errors 0"),
        "{stdout}"
    );
    assert!(stdout.contains("notify requests per message"), "{stdout}");
}

#[test]
fn more_senders_than_users_is_refused() {
    let (ok, _, stderr) = bench(&["--users", "2", "--senders", "3", "--quiet"]);
    assert!(!ok);
    assert!(stderr.contains("senders"), "{stderr}");
}
