//! The hub room's state record: round trip, the pinned vectors under `testing/vectors/ds/`
//! (the current one: if its file is missing, the test writes it once and fails), the older
//! formats read and written anew, and refusals of records that are not ours.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use mimi_ds::RecordError;
use mimi_ds::hub::{HUB_RECORD_VERSION, HubRoom};
use mimi_mls::{
    ClientGroup, ClientIdentity, HubGroup, ProviderCa, ServerIdentity, TrustStore, Validity,
};
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../testing/vectors/ds")
}

fn hex(bytes: &[u8]) -> String {
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(128)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    lines.join("\n") + "\n"
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn room() -> RoomUri {
    RoomUri::parse("mimi://x.example/r/a").unwrap()
}

/// A hosted room with one member, two routes and a sequence number past 1.
fn sample() -> HubRoom {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let validity = Validity::starting(now - 60, 3600);
    let domain = Domain::parse("x.example").unwrap();
    let ca = ProviderCa::generate(domain.clone(), validity).unwrap();
    let server = ServerIdentity::new(&ca, validity).unwrap();
    let mut trust = TrustStore::new();
    trust.pin(domain.clone(), ca.certificate_der()).unwrap();
    let user = UserUri::parse("mimi://x.example/u/alice").unwrap();
    let client = ClientUri::parse("mimi://x.example/d/alice/phone").unwrap();
    let identity = ClientIdentity::new(&ca, client, user.clone(), validity).unwrap();
    let state = mimi_room::presets::RoomCreation::new(
        mimi_room::presets::Preset::Cooperative,
        room(),
        user,
    )
    .initial_state()
    .unwrap();
    let (_, created) = ClientGroup::create(
        &identity,
        &room().group_uri(),
        &server.external_sender(),
        &state,
        trust.clone(),
        now,
    )
    .unwrap();
    let group = HubGroup::new(
        &created.group_info,
        &created.ratchet_tree,
        trust.clone(),
        now,
    )
    .unwrap();
    let mut hub = HubRoom::new(room(), group);
    hub.record_routes(&domain, [vec![7u8; 32]]);
    hub.record_routes(&Domain::parse("y.example").unwrap(), [vec![9u8; 32]]);
    hub.resume_after(41);
    hub
}

/// The server's record before the engine owned it (format 1), for the same room.
fn encode_v1(hub: &HubRoom) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let mut out = vec![1];
    put(&mut out, &hub.group().to_record().unwrap());
    out.extend_from_slice(&hub.next_seq().to_be_bytes());
    out.extend_from_slice(&u32::try_from(hub.routes().len()).unwrap().to_be_bytes());
    for (reference, domain) in hub.routes() {
        put(&mut out, reference);
        put(&mut out, domain.as_str().as_bytes());
    }
    out
}

#[test]
fn a_room_round_trips() {
    let hub = sample();
    let record = hub.to_record().unwrap();
    assert_eq!(record[0], HUB_RECORD_VERSION);
    let back = HubRoom::from_record(room(), &record, TrustStore::new()).unwrap();
    assert_eq!(back.next_seq(), 42);
    assert_eq!(back.routes(), hub.routes());
    assert_eq!(back.group().epoch(), hub.group().epoch());
    assert_eq!(back.to_record().unwrap(), record);
}

#[test]
fn the_sequence_number_continues_after_the_log() {
    let mut hub = sample();
    // A log whose head is behind the record's sequence number does not move it back.
    hub.resume_after(3);
    assert_eq!(hub.next_seq(), 42);
    hub.resume_after(100);
    assert_eq!(hub.next_seq(), 101);
    hub.resume_after(u64::MAX);
    assert_eq!(hub.next_seq(), u64::MAX);
}

/// The current record is pinned (its MLS group record of format 3, openmls values in
/// binary) and writes back byte for byte. The records pinned before (hub record formats 1
/// and 2, both holding an MLS group record of format 2 with JSON values) still read as the
/// same room and are written anew in the current format: the same bytes from either, smaller
/// than the JSON, stable from then on.
#[test]
fn pinned_records_restore_and_write_back_unchanged() {
    let v1_path = dir().join("hub-room-v1.hex");
    let v2_path = dir().join("hub-room-v2.hex");
    let current_path = dir().join(format!("hub-room-v{HUB_RECORD_VERSION}-mls3.hex"));
    if !current_path.exists() {
        let hub = sample();
        std::fs::create_dir_all(dir()).unwrap();
        std::fs::write(&current_path, hex(&hub.to_record().unwrap())).unwrap();
        panic!(
            "wrote the pinned record {}; commit it and run the test again",
            current_path.display()
        );
    }
    let current = unhex(&std::fs::read_to_string(&current_path).unwrap());
    let restored = HubRoom::from_record(room(), &current, TrustStore::new()).unwrap();
    assert_eq!(restored.next_seq(), 42);
    assert_eq!(restored.routes().len(), 2);
    assert_eq!(restored.group().members().len(), 1);
    assert_eq!(
        restored.to_record().unwrap(),
        current,
        "the record does not write back byte for byte"
    );

    let v1 = unhex(&std::fs::read_to_string(&v1_path).unwrap());
    let v2 = unhex(&std::fs::read_to_string(&v2_path).unwrap());
    let from_v1 = HubRoom::from_record(room(), &v1, TrustStore::new()).unwrap();
    let from_v2 = HubRoom::from_record(room(), &v2, TrustStore::new()).unwrap();
    assert_eq!(from_v2.next_seq(), 42);
    assert_eq!(from_v2.routes().len(), 2);
    assert_eq!(from_v2.group().members().len(), 1);
    let migrated = from_v2.to_record().unwrap();
    assert_eq!(
        from_v1.to_record().unwrap(),
        migrated,
        "a format 1 record is not read as the same room"
    );
    assert!(
        migrated.len() < v2.len(),
        "binary values: {} octets, JSON {}",
        migrated.len(),
        v2.len()
    );
    let again = HubRoom::from_record(room(), &migrated, TrustStore::new()).unwrap();
    assert_eq!(again.to_record().unwrap(), migrated);
}

#[test]
fn records_of_another_room_or_a_newer_format_are_refused_clearly() {
    let record = sample().to_record().unwrap();
    let other = RoomUri::parse("mimi://x.example/r/b").unwrap();
    let err = HubRoom::from_record(other, &record, TrustStore::new()).unwrap_err();
    assert!(matches!(err, RecordError::WrongRoom { .. }), "{err:?}");
    assert!(err.to_string().contains("mimi://x.example/r/a"), "{err}");

    let mut newer = record.clone();
    newer[0] = HUB_RECORD_VERSION + 1;
    let err = HubRoom::from_record(room(), &newer, TrustStore::new()).unwrap_err();
    assert!(
        matches!(err, RecordError::UnknownVersion { found, .. } if found == HUB_RECORD_VERSION + 1),
        "{err:?}"
    );
    assert!(err.to_string().contains("not known to this build"), "{err}");

    let mut trailing = record;
    trailing.push(0);
    assert!(matches!(
        HubRoom::from_record(room(), &trailing, TrustStore::new()),
        Err(RecordError::Malformed { .. })
    ));
}

#[test]
fn garbage_is_refused_without_panicking() {
    for bytes in [&b""[..], &[1], &[2, 0, 0, 0, 0], &[1, 0, 0, 0, 9, 1], &[0]] {
        assert!(HubRoom::from_record(room(), bytes, TrustStore::new()).is_err());
    }
}

#[test]
fn mutated_records_never_panic() {
    // xorshift: deterministic without a dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for record in [sample().to_record().unwrap(), encode_v1(&sample())] {
        for _ in 0..1000 {
            let mut bytes = record.clone();
            let at = (next() % bytes.len() as u64) as usize;
            match next() % 3 {
                0 => bytes[at] ^= 1 << (next() % 8),
                1 => bytes.truncate(at),
                _ => bytes.push(next() as u8),
            }
            let _ = HubRoom::from_record(room(), &bytes, TrustStore::new());
        }
    }
}
