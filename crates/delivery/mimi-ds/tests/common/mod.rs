//! The hub-room fixture of the engine tests: Alice (a.example, the hub's provider) and Bob
//! (b.example) in a cooperative room hosted on a.example, built by real MLS clients.

#![allow(dead_code, unreachable_pub)]

use std::time::{SystemTime, UNIX_EPOCH};

use mimi_federation_api::decode_exact;
use mimi_federation_api::mls::RatchetTree;
use mimi_federation_api::update::CommitBundle;
use mimi_mls::{ComponentChange, HubGroup};
use mimi_room::RoomState;
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_types::UserUri;
use mimi_types::codepoints::ComponentId;

pub use mimi_ds::hub::HubRoom;
pub use mimi_federation_api::mls::MlsMessage;
pub use mimi_federation_api::ratchet_tree::{GroupInfoOption, RatchetTreeOption};
pub use mimi_federation_api::update::{HandshakeBundle, UpdateOutcome, UpdateRequest};
pub use mimi_mls::{
    ClientGroup, ClientIdentity, OutgoingCommit, ProviderCa, ServerIdentity, TrustStore, Validity,
};
pub use mimi_types::{ClientUri, Domain, RoomUri};

pub const YEAR: u64 = 365 * 24 * 3600;

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn domain(s: &str) -> Domain {
    s.parse().unwrap()
}

/// Alice (a.example, the hub's provider) and Bob (b.example) in a room hosted on a.example.
pub struct Room {
    pub now: u64,
    pub hub: HubRoom,
    pub trust: TrustStore,
    pub alice: ClientGroup,
    pub bob: ClientGroup,
    /// The hub's external-sender identity.
    pub hub_id: ServerIdentity,
    /// b.example's CA, for more of Bob's devices.
    pub ca_b: ProviderCa,
}

pub fn client(ca: &ProviderCa, d: &str, name: &str, now: u64) -> ClientIdentity {
    let user: UserUri = format!("mimi://{d}/u/{name}").parse().unwrap();
    let client: ClientUri = format!("mimi://{d}/d/{name}/phone").parse().unwrap();
    ClientIdentity::new(ca, client, user, Validity::starting(now - 3600, YEAR)).unwrap()
}

pub fn commit_request(out: &OutgoingCommit, group_info: GroupInfoOption) -> UpdateRequest {
    let commit = MlsMessage::from_bytes(out.commit.clone()).unwrap();
    let tree = decode_exact::<RatchetTree>(&out.ratchet_tree).unwrap();
    let bundle =
        CommitBundle::new(commit, None, group_info, RatchetTreeOption::Full(tree)).unwrap();
    UpdateRequest::new(HandshakeBundle::Commit(bundle))
}

pub fn full(group_info: &[u8]) -> GroupInfoOption {
    GroupInfoOption::Full(
        MlsMessage::from_bytes(group_info.to_vec())
            .unwrap()
            .to_group_info()
            .unwrap(),
    )
}

pub fn room() -> Room {
    room_with(false)
}

/// [`room`], optionally with the hub's service user in the policy-enforcer role.
pub fn room_with(enforcer: bool) -> Room {
    room_granting(enforcer, Vec::new())
}

/// [`room_with`], with capabilities added to the preset's roles.
pub fn room_granting(enforcer: bool, grants: Vec<(RoleIndex, mimi_room::Capability)>) -> Room {
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
    let mut creation = RoomCreation::new(Preset::Cooperative, uri.clone(), alice_id.user().clone());
    if enforcer {
        creation.policy_enforcer = Some(mimi_room::presets::hub_service_user(&domain("a.example")));
    }
    creation.grants = grants;
    let state: RoomState = creation.initial_state().unwrap();
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
        hub_id,
        ca_b,
    }
}
