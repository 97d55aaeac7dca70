//! The CLI as separate processes against three `mimi serve` processes: a file sent as an
//! encrypted attachment and downloaded across providers (refusing to overwrite without
//! `--force`), typing shown by `mimi listen` and never stored, `mimi device add` joining a
//! new device to the user's rooms, and `mimi device list|remove` taking it out again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::PathBuf;

use cli::{eventually, json, ok, run, start};
use serde_json::Value;

fn messages(h: &Value) -> Vec<Value> {
    h["messages"].as_array().unwrap().clone()
}

#[test]
fn files_and_a_new_device_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let profile = |name: &str| -> PathBuf { dir.path().join("profiles").join(name) };
    let (alice, bob) = (profile("alice"), profile("bob"));
    ok(
        &alice,
        &[
            "account", "register", "--server", &urls[0], "--user", "alice",
        ],
    );
    ok(
        &bob,
        &["account", "register", "--server", &urls[1], "--user", "bob"],
    );
    let room = "mimi://x.example/r/files";
    ok(&alice, &["room", "create", "files"]);
    ok(&alice, &["room", "invite", "files", "bob@y.example"]);
    eventually("the invitation", || {
        json(&bob, &["room", "list"])
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["room"] == room && r["active"] == true)
    });

    // Bob (on y) sends a file; Alice (on x) downloads it through x, which fetches it from y.
    let original: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let source = dir.path().join("report.bin");
    std::fs::write(&source, &original).unwrap();
    let sent = json(
        &bob,
        &[
            "send-file",
            "files",
            source.to_str().unwrap(),
            "--content-type",
            "application/pdf",
        ],
    );
    let id = sent["id"].as_str().unwrap().to_owned();
    eventually("the file at alice", || {
        messages(&json(&alice, &["history", room]))
            .iter()
            .any(|m| m["id"] == id.as_str())
    });
    let h = json(&alice, &["history", room]);
    let m = messages(&h)
        .into_iter()
        .find(|m| m["id"] == id.as_str())
        .unwrap();
    let a = &m["attachments"][0];
    assert_eq!(a["filename"], "report.bin");
    assert_eq!(a["content_type"], "application/pdf");
    assert!(
        a["url"]
            .as_str()
            .unwrap()
            .starts_with("https://y.example/v1/blobs/"),
        "{a}"
    );

    let target = dir.path().join("downloaded.bin");
    let out = json(
        &alice,
        &[
            "download",
            "files",
            &id[..12],
            "--output",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(out["ok"], "downloaded");
    assert_eq!(std::fs::read(&target).unwrap(), original);

    // It exists now: refused without --force, and the file is left alone.
    std::fs::write(&target, b"mine").unwrap();
    let refused = run(
        &alice,
        &[
            "download",
            "files",
            &id,
            "--output",
            target.to_str().unwrap(),
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"mine");
    ok(
        &alice,
        &[
            "download",
            "files",
            &id,
            "--output",
            target.to_str().unwrap(),
            "--force",
        ],
    );
    assert_eq!(std::fs::read(&target).unwrap(), original);

    // Typing: Alice listens (human output) while Bob says he is typing; a live stream shows it,
    // and nothing is stored (her history is unchanged).
    let before = json(&alice, &["history", room]);
    let listener = cli::mimi()
        .args(["listen", "--for", "6", "--profile"])
        .arg(&alice)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The listener connects on its own time: say it a few times while it listens.
    for _ in 0..8 {
        ok(&bob, &["typing", "files"]);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let heard = listener.wait_with_output().unwrap();
    let heard = String::from_utf8_lossy(&heard.stdout);
    assert!(
        heard.contains("mimi://y.example/u/bob is typing…"),
        "{heard}"
    );
    assert_eq!(json(&alice, &["history", room]), before);

    // Alice adds a laptop to her profile: it registers and joins her rooms by external commit.
    let added = ok(
        &alice,
        &["device", "add", "--new-device-id", "laptop", "--json"],
    );
    let lines: Vec<Value> = added
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["ok"], "device added");
    assert_eq!(lines[0]["client"], "mimi://x.example/d/alice/laptop");
    assert!(
        lines
            .iter()
            .any(|l| l["ok"] == "joined" && l["room"] == room),
        "{added}"
    );
    // The phone (this profile's other device) handed the laptop the history of every room.
    let history = lines
        .iter()
        .find(|l| l["ok"] == "history")
        .unwrap_or_else(|| panic!("no history line: {added}"));
    assert!(history["rooms"].as_u64().unwrap() >= 1, "{added}");
    assert_eq!(history["received"], history["rooms"], "{added}");
    assert_eq!(history["waiting"], 0, "{added}");
    // Two devices in the profile now: commands name one.
    let out = run(&alice, &["history", room]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--device"));
    let laptop = ["--device", "laptop"];
    let phone = ["--device", "cli"];
    let with = |args: &[&str], device: &[&str]| -> Vec<String> {
        args.iter().chain(device).map(|s| (*s).to_owned()).collect()
    };
    let call = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        json(&alice, &refs)
    };
    call(with(&["send", "files", "from the laptop"], &laptop));
    for (p, device) in [(&alice, &phone[..]), (&bob, &[][..]), (&alice, &laptop[..])] {
        eventually("the laptop's message everywhere", || {
            let mut args = vec!["history", room];
            args.extend_from_slice(device);
            messages(&json(p, &args))
                .iter()
                .any(|m| m["text"] == "from the laptop")
        });
    }
    // The laptop joined after the file was sent and shows the same timeline as the phone:
    // what came before its join was handed over by the phone.
    let texts = |device: &[&str]| -> Vec<String> {
        messages(&call(with(&["history", room], device)))
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let on_laptop = texts(&laptop);
    assert!(on_laptop.len() > 1, "{on_laptop:?}");
    assert_eq!(on_laptop.last().unwrap(), "from the laptop");
    assert_eq!(on_laptop, texts(&phone));
    let members = call(with(&["room", "members", room], &phone));
    let alice_row = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"] == "mimi://x.example/u/alice")
        .unwrap()
        .clone();
    assert_eq!(alice_row["clients"].as_array().unwrap().len(), 2);

    // The devices, listed from the phone; the laptop removed from it: out of the room (by the
    // phone's commit), its token revoked.
    let listed = ok(
        &alice,
        &with(&["device", "list", "--json"], &phone)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let listed: Vec<Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed
            .iter()
            .any(|d| d["client"] == "mimi://x.example/d/alice/cli" && d["current"] == true),
        "{listed:?}"
    );
    let removed = call(with(&["device", "remove", "laptop"], &phone));
    assert_eq!(removed["ok"], "device removed");
    assert_eq!(removed["rooms"][0], room);
    eventually("the laptop out of the room", || {
        let members = call(with(&["room", "members", room], &phone));
        members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"] == "mimi://x.example/u/alice")
            .is_some_and(|m| m["clients"].as_array().unwrap().len() == 1)
    });
    let refs: Vec<String> = with(&["send", "files", "after removal"], &laptop);
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let out = run(&alice, &refs);
    assert!(!out.status.success(), "the removed laptop cannot send");
}
