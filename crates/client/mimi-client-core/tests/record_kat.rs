//! Record stability: a client record written by this version is pinned under
//! `testing/vectors/client/`; every later build must restore it to the same conversation and
//! write it back unchanged. (If the file is missing, the test writes it once and fails.)
//! Records pinned by earlier versions restore to the same conversation and are written anew
//! in the current format.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use std::path::PathBuf;

use harness::Fed;
use mimi_client_core::{Client, RECORD_VERSION};
use mimi_mls::TrustStore;
use mimi_room::presets::Preset;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../testing/vectors/client")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn transcript(client: &Client) -> String {
    let mut out = String::new();
    for room in client.rooms() {
        let view = client.room(room).unwrap();
        out.push_str(&format!(
            "room {room} epoch {} active {}\n",
            view.epoch(),
            view.is_active()
        ));
        for m in view.messages() {
            let reactions: Vec<String> = m
                .reactions
                .iter()
                .map(|(r, users)| format!("{r}x{}", users.len()))
                .collect();
            out.push_str(&format!(
                "{} {:?} edits={} deleted={} reactions={:?}: {}\n",
                m.sender, m.kind, m.edits, m.deleted, reactions, m.body.text
            ));
        }
    }
    out.push_str(&format!("pending {:?}\n", client.pending_ops()));
    out
}

fn generate() -> (Vec<u8>, String) {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(&charlie, "mimi://y.example/r/kat", Preset::Cooperative);
    fed.invite(&charlie, &room, &["mimi://x.example/u/alice"])
        .unwrap();
    let mut rng = fed.rng.clone();
    let (_, hello) = fed.c(&charlie).send_text(&mut rng, &room, "hello").unwrap();
    fed.pump();
    fed.c(&alice).react(&mut rng, &room, hello, "👍").unwrap();
    fed.c(&alice).reply(&mut rng, &room, hello, "hi").unwrap();
    fed.pump();
    fed.c(&charlie)
        .edit(&mut rng, &room, hello, "hello!")
        .unwrap();
    fed.pump();
    // One message queued and not yet sent.
    fed.c(&alice).send_text(&mut rng, &room, "pending").unwrap();
    let client = fed.client(&alice);
    (client.to_record().unwrap(), transcript(client))
}

/// The current record: client record version 1 holding mimi-mls records of format 3 (openmls
/// values tagged, binary for most kinds, the message secrets in the compact codec).
#[test]
fn pinned_record_restores_and_writes_back_unchanged() {
    let record_path = dir().join(format!("record-v{RECORD_VERSION}-mls3-compact.hex"));
    let transcript_path = dir().join(format!("record-v{RECORD_VERSION}-mls3-compact.transcript"));
    if !record_path.exists() {
        let (record, text) = generate();
        std::fs::create_dir_all(dir()).unwrap();
        let lines: Vec<String> = hex(&record)
            .as_bytes()
            .chunks(128)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        std::fs::write(&record_path, lines.join("\n") + "\n").unwrap();
        std::fs::write(&transcript_path, text).unwrap();
        panic!(
            "wrote the pinned record {}; commit it and run the test again",
            record_path.display()
        );
    }
    let record = unhex(&std::fs::read_to_string(&record_path).unwrap());
    let expected = std::fs::read_to_string(&transcript_path).unwrap();
    let client = Client::from_record(&record, TrustStore::new()).unwrap();
    assert_eq!(transcript(&client), expected);
    let again = client.to_record().unwrap();
    let restored = Client::from_record(&again, TrustStore::new()).unwrap();
    assert_eq!(transcript(&restored), expected);
    assert_eq!(
        again, record,
        "the record does not write back byte for byte"
    );
}

/// The record pinned before the message secrets had the compact codec (format 3, their
/// values JSON): it restores to the same conversation; written anew the message secrets are
/// compact (the record shrinks), and it is stable from then on.
#[test]
fn pinned_record_with_json_message_secrets_migrates() {
    migrates_smaller_and_stable("record-v1-mls3");
}

/// The record pinned before mimi-mls kept openmls values in binary (its mimi-mls records of
/// format 2 hold openmls's JSON): it restores to the same conversation; written anew it is
/// smaller (the JSON of every value openmls read is gone) and stable from then on.
#[test]
fn pinned_record_with_json_mls_values_migrates() {
    migrates_smaller_and_stable("record-v1");
}

/// The pinned record `NAME.hex` restores to its transcript `NAME.transcript`; written anew it
/// is smaller, restores to the same transcript, and is stable from then on.
fn migrates_smaller_and_stable(name: &str) {
    let old = unhex(&std::fs::read_to_string(dir().join(format!("{name}.hex"))).unwrap());
    let expected = std::fs::read_to_string(dir().join(format!("{name}.transcript"))).unwrap();
    let client = Client::from_record(&old, TrustStore::new()).unwrap();
    assert_eq!(transcript(&client), expected);
    let migrated = client.to_record().unwrap();
    assert!(
        migrated.len() < old.len(),
        "{} octets after, {} before",
        migrated.len(),
        old.len()
    );
    eprintln!("{name}: {} octets, {} migrated", old.len(), migrated.len());
    let again = Client::from_record(&migrated, TrustStore::new()).unwrap();
    assert_eq!(transcript(&again), expected);
    assert_eq!(again.to_record().unwrap(), migrated);
}

/// A record written before mimi-mls followed RFC 9420 §5.3 for X.509 credentials (pinned from
/// that version: its MLS state holds credentials with one extra length prefix) is refused with
/// what to do, neither misread nor a panic.
#[test]
fn a_record_with_pre_rfc_9420_credentials_is_refused_with_what_to_do() {
    let old = unhex(
        &std::fs::read_to_string(dir().join("legacy-record-v1-pre-rfc9420-credentials.hex"))
            .unwrap(),
    );
    let err = Client::from_record(&old, TrustStore::new()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("pre-RFC 9420"), "{text}");
    assert!(text.contains("re-issue the device credential"), "{text}");
}

/// The split record of version 2 (state with identity and groups inside, log rows apart),
/// pinned from the version 1 record, still reads, and migrates: the next update hands out
/// every part of the current layout (identity, room records, MLS entries in the current
/// codecs; the rows stay), which restores to the same conversation and then writes nothing
/// more; as a whole record it is the version 1 record migrated.
#[test]
fn pinned_split_record_of_version_2_migrates_to_the_current_parts() {
    use std::collections::BTreeMap;

    use mimi_client_core::{STATE_RECORD_VERSION, StoredRecord};
    use mimi_types::RoomUri;

    let v1 = unhex(&std::fs::read_to_string(dir().join("record-v1.hex")).unwrap());
    let expected = std::fs::read_to_string(dir().join("record-v1.transcript")).unwrap();
    let state = unhex(&std::fs::read_to_string(dir().join("state-v2.hex")).unwrap());
    let pinned_rows = std::fs::read_to_string(dir().join("state-v2-log.hex")).unwrap();
    assert_eq!(state[0], 2);
    let mut logs: BTreeMap<RoomUri, Vec<Vec<u8>>> = BTreeMap::new();
    for line in pinned_rows.lines() {
        let mut parts = line.split(' ');
        let room: RoomUri = parts.next().unwrap().parse().unwrap();
        let idx: usize = parts.next().unwrap().parse().unwrap();
        let log = logs.entry(room).or_default();
        assert_eq!(log.len(), idx);
        log.push(unhex(parts.next().unwrap()));
    }
    let stored = StoredRecord {
        state,
        logs,
        ..StoredRecord::default()
    };
    let client = Client::from_stored(&stored, TrustStore::new()).unwrap();
    assert_eq!(transcript(&client), expected);
    let update = client.record_update().unwrap();
    assert_eq!(update.state[0], STATE_RECORD_VERSION);
    assert!(update.identity.is_some(), "{update:?}");
    assert!(!update.rooms.is_empty(), "{update:?}");
    assert!(update.rooms.iter().all(|r| r.mls.full), "{update:?}");
    assert!(update.logs.is_empty(), "the stored rows stay: {update:?}");
    let mut migrated = stored.clone();
    migrated.apply(&update);
    let again = Client::from_stored(&migrated, TrustStore::new()).unwrap();
    assert_eq!(transcript(&again), expected);
    let idle = again.record_update().unwrap();
    assert!(
        idle.identity.is_none() && idle.rooms.is_empty() && idle.logs.is_empty(),
        "{idle:?}"
    );
    assert_eq!(
        idle.state, update.state,
        "the state writes back byte for byte"
    );
    let whole = Client::from_record(&v1, TrustStore::new())
        .unwrap()
        .to_record()
        .unwrap();
    assert_eq!(again.to_record().unwrap(), whole);
    assert_eq!(client.to_record().unwrap(), whole);
}
