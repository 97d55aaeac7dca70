//! `mimi demo` runs the architecture figure on three real providers (mutual TLS, SQLite files,
//! the client API over HTTP) with six SDK devices, and checks every device's view.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AFTER_BOB: &str = "Bob has left the building";

fn mimi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mimi"))
}

fn demo(args: &[&str]) -> (bool, String, String) {
    let output = mimi()
        .arg("demo")
        .args(args)
        .output()
        .expect("the mimi binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The block `── <device>` of `--layout blocks` output.
fn block<'a>(stdout: &'a str, device: &str) -> &'a str {
    let start = stdout
        .find(&format!("── {device} ("))
        .unwrap_or_else(|| panic!("no transcript of {device}:\n{stdout}"));
    let rest = &stdout[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn every_device_shows_what_it_should_and_bob_nothing_after_his_removal() {
    let (ok, stdout, stderr) = demo(&["--layout", "blocks"]);
    assert!(ok, "demo failed:\n{stdout}\n{stderr}");
    for provider in ["x.example", "y.example", "z.example"] {
        assert!(stdout.contains(&format!("starting {provider}")), "{stdout}");
    }
    assert!(stdout.contains("client API http://127.0.0.1:"));
    assert_eq!(stdout.matches("\n  PASS ").count(), 6, "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");

    // Bob was removed before the last message: the others read it, he does not.
    let bob = block(&stdout, "bob/laptop@x.example");
    assert!(bob.contains("not a member"), "{bob}");
    assert!(
        bob.contains("Evelyn left; Bob, are you still here?"),
        "{bob}"
    );
    assert!(!bob.contains(AFTER_BOB), "{bob}");
    for device in [
        "alice/phone@x.example",
        "charlie/phone@y.example",
        "charlie/laptop@y.example",
        "diana/phone@z.example",
    ] {
        let transcript = block(&stdout, device);
        assert!(transcript.contains(AFTER_BOB), "{transcript}");
        assert!(
            transcript.contains("Lunch at 12:30? (edited)"),
            "{transcript}"
        );
        assert!(transcript.contains("evelyn: (deleted)"), "{transcript}");
        assert!(transcript.contains("[❤ charlie]"), "{transcript}");
        assert!(transcript.contains("↪ hello"), "{transcript}");
        assert!(
            transcript.contains("diana: Door code is 4711 (expires at "),
            "{transcript}"
        );
    }
    // Every device was a member when Charlie shared the menu: each downloaded the ciphertext
    // from y.example, checked it against the message and decrypted the same bytes.
    for device in [
        "alice/phone@x.example",
        "bob/laptop@x.example",
        "charlie/phone@y.example",
        "charlie/laptop@y.example",
        "diana/phone@z.example",
        "evelyn/tablet@z.example",
    ] {
        let transcript = block(&stdout, device);
        assert!(
            transcript.contains("[file menu.txt, 65 bytes: downloaded, checked, decrypted]"),
            "{transcript}"
        );
    }
    // Each device downloads through its own provider; y fetched nothing for x and z's devices
    // but served them through their providers (proxyDownload).
    for line in [
        "blobs at x.example: 0 uploaded, 2 downloaded",
        "blobs at y.example: 1 uploaded, 2 downloaded",
        "blobs at z.example: 0 uploaded, 2 downloaded",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    // Evelyn left before Alice's question.
    let evelyn = block(&stdout, "evelyn/tablet@z.example");
    assert!(!evelyn.contains("Evelyn left"), "{evelyn}");

    // Bob's own MLS state refused the ciphertext the hub fanned out.
    assert!(stdout.contains("refuses to decrypt it"), "{stdout}");
    // The crossing summary comes from the hub's metrics.
    assert!(stdout.contains("notify → x.example:"), "{stdout}");
    assert!(stdout.contains("notify → z.example:"), "{stdout}");
}

#[test]
fn the_table_puts_devices_side_by_side_within_the_width() {
    let (ok, stdout, stderr) = demo(&["--width", "100"]);
    assert!(ok, "demo failed:\n{stdout}\n{stderr}");
    let table_start = stdout.find("── x.example").unwrap();
    let table_end = stdout.find("What crossed").unwrap();
    let table = &stdout[table_start..table_end];
    for line in table.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line:?}");
    }
    // In x.example's band Alice's column has the last message and Bob's shows a gap.
    let x_band = &table[..table.find("── y.example").unwrap()];
    let row = x_band.lines().find(|l| l.starts_with("after-bob")).unwrap();
    assert_eq!(row.matches(AFTER_BOB).count(), 1, "{row}");
    assert!(row.trim_end().ends_with('·'), "{row}");
}

#[test]
fn keep_running_prints_cli_commands_that_work_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let mut child = mimi()
        .args(["demo", "--keep-running", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut commands = Vec::new();
    // After "Chat in the browser": per demo user, a browser device's login, join and `mimi app`.
    let mut browser: Option<Vec<String>> = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "no Ctrl-C hint within 120 s");
        let line = lines.next().expect("the demo stopped early").unwrap();
        if line.starts_with("Chat in the browser") {
            browser = Some(Vec::new());
        } else if let Some(app) = browser.as_mut() {
            if line.starts_with("    ") {
                app.push(line.trim().to_owned());
            }
        } else if line.contains(" account login ")
            || line.contains(" room join ")
            || line.contains(" history ")
        {
            commands.push(line.clone());
        }
        if line.starts_with("Ctrl-C stops") {
            break;
        }
    }
    assert_eq!(commands.len(), 3, "{commands:?}");
    let browser = browser.expect("no `mimi app` commands for the demo users");
    // alice, bob, charlie, diana, evelyn: login, join, app each.
    assert_eq!(browser.len(), 15, "{browser:?}");
    assert!(browser[2].contains(" app --open --profile "), "{browser:?}");
    // Alice's browser device logs in and joins the room as printed.
    for command in &browser[..2] {
        let words: Vec<&str> = command.split_whitespace().collect();
        let out = Command::new(words[0]).args(&words[1..]).output().unwrap();
        assert!(
            out.status.success(),
            "{command} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut history = String::new();
    for command in &commands {
        let words: Vec<&str> = command.split_whitespace().collect();
        let out = Command::new(words[0]).args(&words[1..]).output().unwrap();
        assert!(
            out.status.success(),
            "{command} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        history = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    // The CLI device joined the running room and reads what was said after it joined: nothing
    // yet, but the room is there.
    assert!(!history.contains("error"), "{history}");

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // --data-dir keeps the providers' files.
    assert!(
        data.join("providers/y.example/mimi.toml").exists(),
        "{}",
        data.display()
    );
    refuses_to_reuse(&data);
}

/// A data directory that holds a demo already is refused: keys are never overwritten.
fn refuses_to_reuse(data: &Path) {
    let (ok, _, stderr) = demo(&["--data-dir", data.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("exists already"), "{stderr}");
}

#[test]
fn the_demo_refuses_a_width_it_cannot_lay_out() {
    let (ok, _, stderr) = demo(&["--width", "20"]);
    assert!(!ok);
    assert!(stderr.contains("--width must be at least 60"), "{stderr}");
}
