//! `mimi demo` runs the architecture figure to the end and checks every device's view.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn demo(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mimi"))
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

#[test]
fn the_demo_shows_every_device_what_it_should() {
    let (ok, stdout, stderr) = demo(&[]);
    assert!(ok, "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("Every device saw exactly what it should."));
    // Bob was removed before the last message; Diana reads it.
    let bob = stdout.split("── bob/laptop@x").nth(1).unwrap();
    let bob = bob.split("──").next().unwrap();
    assert!(!bob.contains("Bob has left the building"), "{bob}");
    let diana = stdout.split("── diana/phone@z").nth(1).unwrap();
    assert!(diana.contains("Bob has left the building"));
    assert!(stdout.contains("decrypted and hash-checked"));
}

#[test]
fn the_demo_survives_a_faulty_network() {
    let (ok, stdout, stderr) = demo(&["--faults", "0.25", "--seed", "11"]);
    assert!(ok, "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("transmissions lost and retried"));
}

#[test]
fn the_demo_refuses_nonsense_fault_rates() {
    let (ok, _, stderr) = demo(&["--faults", "3"]);
    assert!(!ok);
    assert!(
        stderr.contains("--faults must be between 0 and 0.5"),
        "{stderr}"
    );
}
