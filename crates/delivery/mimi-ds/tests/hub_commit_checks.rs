//! The hub engine refuses a commit it cannot vouch for (issue 20, "no wedged rooms"): one whose
//! confirmation tag differs from the committer's signed GroupInfo, one without a full GroupInfo,
//! one whose GroupInfo is for another epoch or signed by someone else. Each is answered
//! `notAllowed` with a description, with no fan-out and no change to the room; the honest commit
//! is accepted afterwards. Real MLS clients (mimi-mls) build every commit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{SystemTime, UNIX_EPOCH};

use mimi_ds::hub::HubRoom;
use mimi_federation_api::decode_exact;
use mimi_federation_api::mls::{MlsMessage, RatchetTree, Signature};
use mimi_federation_api::ratchet_tree::{
    GroupInfoOption, PartialGroupInfo, RatchetTreeOption, RatchetTreePresence,
};
use mimi_federation_api::update::{
    CommitBundle, HandshakeBundle, UpdateOutcome, UpdateRequest, UpdateRoomResponse,
};
use mimi_mls::{
    ClientGroup, ClientIdentity, ComponentChange, HubGroup, OutgoingCommit, ProviderCa,
    ServerIdentity, TrustStore, Validity,
};
use mimi_room::RoomState;
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

const YEAR: u64 = 365 * 24 * 3600;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn domain(s: &str) -> Domain {
    s.parse().unwrap()
}

/// Alice (a.example, the hub's provider) and Bob (b.example) in a room hosted on a.example.
struct Room {
    now: u64,
    hub: HubRoom,
    trust: TrustStore,
    alice: ClientGroup,
    bob: ClientGroup,
}

fn client(ca: &ProviderCa, d: &str, name: &str, now: u64) -> ClientIdentity {
    let user: UserUri = format!("mimi://{d}/u/{name}").parse().unwrap();
    let client: ClientUri = format!("mimi://{d}/d/{name}/phone").parse().unwrap();
    ClientIdentity::new(ca, client, user, Validity::starting(now - 3600, YEAR)).unwrap()
}

fn commit_request(out: &OutgoingCommit, group_info: GroupInfoOption) -> UpdateRequest {
    let commit = MlsMessage::from_bytes(out.commit.clone()).unwrap();
    let tree = decode_exact::<RatchetTree>(&out.ratchet_tree).unwrap();
    let bundle =
        CommitBundle::new(commit, None, group_info, RatchetTreeOption::Full(tree)).unwrap();
    UpdateRequest::new(HandshakeBundle::Commit(bundle))
}

fn full(group_info: &[u8]) -> GroupInfoOption {
    GroupInfoOption::Full(
        MlsMessage::from_bytes(group_info.to_vec())
            .unwrap()
            .to_group_info()
            .unwrap(),
    )
}

fn room() -> Room {
    let now = now();
    let validity = Validity::starting(now - 3600, 10 * YEAR);
    let ca_a = ProviderCa::generate(domain("a.example"), validity).unwrap();
    let ca_b = ProviderCa::generate(domain("b.example"), validity).unwrap();
    let mut trust = TrustStore::new();
    trust
        .pin(domain("a.example"), ca_a.certificate_der())
        .unwrap();
    trust
        .pin(domain("b.example"), ca_b.certificate_der())
        .unwrap();
    let hub_id = ServerIdentity::new(&ca_a, validity).unwrap();
    let alice_id = client(&ca_a, "a.example", "alice", now);
    let bob_id = client(&ca_b, "b.example", "bob", now);
    let uri: RoomUri = "mimi://a.example/r/wedge".parse().unwrap();
    let state: RoomState =
        RoomCreation::new(Preset::Cooperative, uri.clone(), alice_id.user().clone())
            .initial_state()
            .unwrap();
    let (mut alice, created) = ClientGroup::create(
        &alice_id,
        &uri.group_uri(),
        &hub_id.external_sender(),
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
    let mut hub = HubRoom::new(uri, group);
    // Alice adds Bob.
    let add = ParticipantListUpdate {
        added_participants: vec![UserRolePair::new(bob_id.user().clone(), RoleIndex(2))],
        ..Default::default()
    };
    let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, add.encode());
    let kp = bob_id
        .key_package(now, 30 * 24 * 3600, false)
        .unwrap()
        .message;
    let out = alice.commit(&[change], &[kp], &[], now).unwrap();
    let answer = hub
        .handle_update(
            now * 1000,
            &domain("a.example"),
            commit_request(&out, full(out.group_info.as_deref().unwrap())),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    alice.merge_pending_commit().unwrap();
    let bob = ClientGroup::join_from_welcome(
        &bob_id,
        out.welcome.as_deref().unwrap(),
        &out.ratchet_tree,
        trust.clone(),
        now,
    )
    .unwrap();
    Room {
        now,
        hub,
        trust,
        alice,
        bob,
    }
}

/// Asserts `request` from b.example is refused with `notAllowed`, fans out nothing and changes
/// nothing.
fn refused(room: &mut Room, request: UpdateRequest, why: &str) -> UpdateRoomResponse {
    let epoch = room.hub.group().epoch();
    let seq = room.hub.next_seq();
    let record = room.hub.group().to_record().unwrap();
    let answer = room
        .hub
        .handle_update(room.now * 1000, &domain("b.example"), request)
        .unwrap();
    assert_eq!(answer.response.outcome, UpdateOutcome::NotAllowed, "{why}");
    assert!(!answer.response.error_description.is_empty(), "{why}");
    assert!(answer.effects.is_empty(), "{why}: no fan-out");
    assert!(!answer.changed, "{why}");
    assert_eq!(room.hub.group().epoch(), epoch, "{why}");
    assert_eq!(room.hub.next_seq(), seq, "{why}");
    assert_eq!(room.hub.group().to_record().unwrap(), record, "{why}");
    answer.response
}

/// After the refusals, Bob's honest commit is accepted and fanned out, and Alice follows it.
fn honest_commit_still_accepted(room: &mut Room, out: &OutgoingCommit) {
    let answer = room
        .hub
        .handle_update(
            room.now * 1000,
            &domain("b.example"),
            commit_request(out, full(out.group_info.as_deref().unwrap())),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    assert_eq!(
        answer.effects.len(),
        2,
        "fan-out to a.example and b.example"
    );
    room.bob.merge_pending_commit().unwrap();
    room.alice.process(&out.commit, room.now).unwrap();
    assert_eq!(room.alice.epoch(), room.hub.group().epoch());
    assert_eq!(room.bob.epoch(), room.hub.group().epoch());
}

#[test]
fn a_commit_with_a_flipped_confirmation_tag_bit_is_not_allowed() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    // A member's PublicMessage ends with confirmation_tag<V> then membership_tag<V> (32 bytes
    // each here): flip the first bit of the confirmation tag, as a provider could in transit.
    let n = out.commit.len();
    assert_eq!((out.commit[n - 66], out.commit[n - 33]), (32, 32));
    let mut tampered = out.clone();
    tampered.commit[n - 65] ^= 0x80;
    let gi = full(out.group_info.as_deref().unwrap());
    let response = refused(&mut room, commit_request(&tampered, gi), "flipped tag");
    assert!(
        response.error_description.contains("confirmation tag"),
        "{}",
        response.error_description
    );
    // Alice (who would have received it) refuses that commit: the hub must not fan it out.
    let mut alice =
        ClientGroup::from_record(&room.alice.to_record().unwrap(), room.trust.clone()).unwrap();
    assert!(alice.process(&tampered.commit, room.now).is_err());
    honest_commit_still_accepted(&mut room, &out);
}

#[test]
fn a_commit_without_a_full_group_info_is_not_allowed() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    let partial = GroupInfoOption::Partial(PartialGroupInfo::new(
        RatchetTreePresence::NoRatchetTree,
        Vec::new(),
        Signature::from_bytes(vec![0; 64]).unwrap(),
    ));
    let response = refused(
        &mut room,
        commit_request(&out, partial),
        "partial GroupInfo",
    );
    assert!(response.error_description.contains("GroupInfo"));
    honest_commit_still_accepted(&mut room, &out);
}

#[test]
fn a_group_info_of_the_old_epoch_is_not_allowed_and_not_a_wrong_epoch() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    let old = room.bob.group_info().unwrap();
    refused(&mut room, commit_request(&out, full(&old)), "old GroupInfo");
    honest_commit_still_accepted(&mut room, &out);
}

#[test]
fn a_group_info_signed_by_another_member_is_not_allowed() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    // Alice's GroupInfo for her own commit of the same epoch: another context and signer.
    let theirs = room.alice.self_update(room.now).unwrap();
    room.alice.discard_pending_commit().unwrap();
    refused(
        &mut room,
        commit_request(&out, full(theirs.group_info.as_deref().unwrap())),
        "Alice's GroupInfo on Bob's commit",
    );
    honest_commit_still_accepted(&mut room, &out);
}

/// A device of the hub's provider submitting through the client API may hand in only its
/// own handshakes; the engine checks that on the one validation the commit gets.
#[test]
fn a_device_may_submit_only_its_own_commit() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    let alice: ClientUri = "mimi://a.example/d/alice/phone".parse().unwrap();
    let bob: ClientUri = "mimi://b.example/d/bob/phone".parse().unwrap();
    let epoch = room.hub.group().epoch();
    let request = || commit_request(&out, full(out.group_info.as_deref().unwrap()));
    let refused = room
        .hub
        .handle_update_as(
            room.now * 1000,
            &domain("b.example"),
            request(),
            Some(&alice),
        )
        .unwrap_err();
    assert!(
        matches!(&refused, mimi_ds::RequestError::NotOwnHandshake { device, actor }
            if device == &alice.to_string() && actor == &bob.to_string()),
        "{refused:?}"
    );
    assert_eq!(refused.http_status(), 403);
    assert_eq!(room.hub.group().epoch(), epoch, "nothing changed");
    let answer = room
        .hub
        .handle_update_as(room.now * 1000, &domain("b.example"), request(), Some(&bob))
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
}
