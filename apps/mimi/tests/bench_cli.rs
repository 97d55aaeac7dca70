//! `mimi bench` with tiny numbers: the command line reaches the load generator, which runs a
//! hub and two followers in-process and reports every delivery exactly once. No speed is
//! asserted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn bench(args: &[&str]) -> (bool, String, String) {
    bench_with(args, None)
}

/// Runs `mimi bench` with `MALLOC_MMAP_THRESHOLD_` removed from its environment, or set to
/// `threshold`.
fn bench_with(args: &[&str], threshold: Option<&str>) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mimi"));
    match threshold {
        Some(t) => command.env("MALLOC_MMAP_THRESHOLD_", t),
        None => command.env_remove("MALLOC_MMAP_THRESHOLD_"),
    };
    let output = command
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
    assert!(stdout.contains("RSS per device "), "{stdout}");
    // Started without the variable, the binary ran itself again with glibc's bound pinned.
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        assert!(stdout.contains("MALLOC_MMAP_THRESHOLD_=131072"), "{stdout}");
    }
}

#[test]
fn a_threshold_the_caller_set_is_kept() {
    let (ok, stdout, stderr) = bench_with(
        &[
            "--users",
            "2",
            "--messages",
            "1",
            "--max-seconds",
            "60",
            "--quiet",
        ],
        Some("262144"),
    );
    assert!(ok, "bench failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("MALLOC_MMAP_THRESHOLD_=262144"), "{stdout}");
}

#[test]
fn more_senders_than_users_is_refused() {
    let (ok, _, stderr) = bench(&["--users", "2", "--senders", "3", "--quiet"]);
    assert!(!ok);
    assert!(stderr.contains("senders"), "{stderr}");
}
