//! The pinned openmls objects under `testing/vectors/federation/openmls/` (which
//! mimi-federation-api's structural MLS walker is checked against): how they are made and how
//! tests here read them.
//!
//! Regenerate on purpose, after an encoding change, with
//! `cargo test -p mimi-mls regenerate_pinned_openmls_objects -- --ignored`
//! (keys are fresh each run, so the bytes differ; the shapes do not).

use std::path::PathBuf;

use super::*;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../testing/vectors/federation/openmls/openmls-0.9.2-objects.txt")
}

/// Lower-case hex, as the pinned vectors are written.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The octets of a hex string (tests only: panics on bad hex).
pub(super) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The pinned objects by name.
pub(crate) fn pinned() -> BTreeMap<String, Vec<u8>> {
    std::fs::read_to_string(path())
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, hex) = l.split_once(' ').unwrap();
            (name.to_string(), unhex(hex))
        })
        .collect()
}

#[test]
#[ignore = "rewrites the pinned openmls objects; run on purpose after an encoding change"]
fn regenerate_pinned_openmls_objects() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "phone");
    let room = room_with(Preset::Cooperative, &net.room, "alice", false, false);
    let (mut alice, created) = ClientGroup::create(
        &net.clients["alice1"],
        &net.group_uri(),
        &net.hub_id.external_sender(),
        &room,
        net.trust.clone(),
        net.now,
    )
    .unwrap();
    let bob_kp = net.clients["phone"]
        .key_package(net.now, KP_LIFETIME, false)
        .unwrap();
    let add = alice
        .commit(
            &[pl_add(&["bob"])],
            std::slice::from_ref(&bob_kp.message),
            &[],
            net.now,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let app = alice.protect(b"hello", &BTreeMap::new()).unwrap();
    let update = alice.self_update(net.now).unwrap();
    alice.discard_pending_commit().unwrap();
    let leave = alice.propose_leave().unwrap();

    let objects: [(&str, Vec<u8>); 12] = [
        ("key_package_message", bob_kp.message.clone()),
        (
            "credential",
            net.clients["phone"].mls_credential_bytes().unwrap(),
        ),
        ("created_group_info_message", created.group_info),
        ("created_ratchet_tree", created.ratchet_tree),
        ("add_commit", add.commit),
        ("add_welcome_message", add.welcome.unwrap()),
        ("add_group_info_message", add.group_info.unwrap()),
        ("add_ratchet_tree", add.ratchet_tree),
        ("application_message", app),
        ("self_remove_proposal", leave),
        ("self_update_commit", update.commit),
        ("key_package_ref", bob_kp.reference),
    ];
    let mut out = String::from(
        "# MLS objects produced by openmls 0.9.2 through mimi-mls (X.509 credentials per RFC 9420 §5.3): name, then lowercase hex.\n\
         # Used to check that mimi-federation-api's structural MLS walker accepts real encodings.\n\
         # Regenerate: cargo test -p mimi-mls regenerate_pinned_openmls_objects -- --ignored\n",
    );
    for (name, bytes) in objects {
        out.push_str(&format!("{name} {}\n", hex(&bytes)));
    }
    std::fs::write(path(), out).unwrap();
}
