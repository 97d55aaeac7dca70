//! The hub refuses, each with a specific error and no state change.

use mimi_room::Denied;
use mimi_room::presets::Preset;

use super::*;
use crate::{CredentialError, MlsError};

/// Alice (admin) and Bob (ordinary user) in a strictly administered room; Cathy waits outside.
fn strict_room() -> Net {
    strict_room_with(true, false)
}

fn strict_room_with(safe_aad: bool, enforcer: bool) -> Net {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.add_client("c.example", "cathy", "cathy1");
    let room = room_with(
        Preset::StrictlyAdministered,
        &net.room,
        "alice",
        safe_aad,
        enforcer,
    );
    net.create_with("alice1", room);
    let kp = net.kp("bob1");
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &[kp], &[], net.now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1"]);
    net.assert_consistent();
    net
}

/// Asserts the hub refuses `message` with an error matching `check`, and its state is intact.
fn refused(net: &Net, message: &[u8], check: impl Fn(&MlsError) -> bool) {
    let before = net.hub().to_record().unwrap();
    let err = net.hub().process(message, net.now).unwrap_err();
    assert!(check(&err), "unexpected error: {err:?}");
    assert_eq!(net.hub().to_record().unwrap(), before, "no state change");
}

#[test]
fn add_not_allowed_by_the_actors_role() {
    let mut net = strict_room();
    let kp = net.kp("cathy1");
    let now = net.now;
    // Bob's own client refuses to build it...
    let err = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .commit(&[pl_add(&["cathy"])], std::slice::from_ref(&kp), &[], now)
        .unwrap_err();
    assert!(
        matches!(err, MlsError::Denied(Denied::MissingCapability { .. })),
        "{err:?}"
    );
    // ... and the hub refuses it when a client builds it anyway.
    let out = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .commit_unchecked(&[pl_add(&["cathy"])], &[kp], true, now)
        .unwrap();
    refused(&net, &out.commit, |e| {
        matches!(e, MlsError::Denied(Denied::MissingCapability { .. }))
    });
    // So does Alice's client, without changing its state.
    let alice = net.groups.get_mut("alice1").unwrap();
    let before = alice.to_record().unwrap();
    assert!(matches!(
        alice.process(&out.commit, now),
        Err(MlsError::Denied(Denied::MissingCapability { .. }))
    ));
    assert_eq!(alice.to_record().unwrap(), before);
}

/// A KeyPackage for `uris` certified by `ca`, for a fresh key.
fn forged_kp(net: &Net, ca: &str, client: &str, user_uri: &str) -> Vec<u8> {
    let k = crate::SigningKey::generate().unwrap();
    let cred = net.providers[ca]
        .ca
        .issue_with_uri_sans(
            &[client.to_string(), user_uri.to_string()],
            k.public(),
            Validity::starting(net.now - 60, YEAR),
        )
        .unwrap();
    let id = ClientIdentity::from_parts(
        client.parse().unwrap(),
        // The identity's own URIs are not checked here; the credential is what peers see.
        "mimi://a.example/u/placeholder".parse().unwrap(),
        k,
        cred,
    );
    id.key_package(net.now, KP_LIFETIME, false).unwrap().message
}

#[test]
fn client_credential_issued_by_another_domains_ca() {
    let mut net = strict_room();
    // b.example's CA vouches for an a.example client.
    let kp = forged_kp(
        &net,
        "b.example",
        "mimi://a.example/d/eve/x",
        "mimi://a.example/u/eve",
    );
    let now = net.now;
    let alice = net.groups.get_mut("alice1").unwrap();
    let err = alice
        .commit(&[], std::slice::from_ref(&kp), &[], now)
        .unwrap_err();
    assert!(matches!(
        err,
        MlsError::Credential(CredentialError::IssuerNotPinned { .. })
    ));
    let add_eve = {
        let update = ParticipantListUpdate {
            added_participants: vec![UserRolePair::new(
                "mimi://a.example/u/eve".parse().unwrap(),
                RoleIndex(2),
            )],
            ..Default::default()
        };
        ComponentChange::update(PL, update.encode())
    };
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit_unchecked(&[add_eve], &[kp], false, now)
        .unwrap();
    refused(
        &net,
        &out.commit,
        |e| matches!(e, MlsError::Credential(CredentialError::IssuerNotPinned { domain }) if domain == "a.example"),
    );
    let bob = net.groups.get_mut("bob1").unwrap();
    let before = bob.to_record().unwrap();
    assert!(matches!(
        bob.process(&out.commit, now),
        Err(MlsError::Credential(
            CredentialError::IssuerNotPinned { .. }
        ))
    ));
    assert_eq!(bob.to_record().unwrap(), before);
}

#[test]
fn user_uri_on_another_domain_than_the_issuer() {
    let mut net = strict_room();
    // a.example's CA certifies a client whose user is on b.example.
    let kp = forged_kp(
        &net,
        "a.example",
        "mimi://a.example/d/mallory/x",
        "mimi://b.example/u/bert",
    );
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit_unchecked(&[pl_add(&["bert"])], &[kp], false, now)
        .unwrap();
    refused(&net, &out.commit, |e| {
        matches!(
            e,
            MlsError::Credential(CredentialError::UserDomainMismatch { .. })
        )
    });
}

#[test]
fn commit_on_a_stale_epoch() {
    let mut net = strict_room();
    let now = net.now;
    let first = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .self_update(now)
        .unwrap();
    let second = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .self_update(now)
        .unwrap();
    net.deliver_commit("alice1", &first, &[]);
    let epoch = net.hub().epoch();
    refused(
        &net,
        &second.commit,
        |e| matches!(e, MlsError::WrongEpoch { current, got } if *current == epoch && *got == epoch - 1),
    );
    // Bob drops his commit (it already merged Alice's) and the room goes on.
    net.assert_consistent();
}

#[test]
fn commit_that_omits_the_cached_proposals() {
    let mut net = strict_room();
    let now = net.now;
    // Bob asks to leave; the hub caches the SelfRemove, but Alice has not seen it yet.
    let leave = net.groups.get_mut("bob1").unwrap().propose_leave().unwrap();
    let staged = net.hub().process(&leave, now).unwrap();
    assert_eq!(staged.summary().self_removed.len(), 1);
    net.hub_mut().merge(staged, None, now).unwrap();
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .self_update(now)
        .unwrap();
    refused(&net, &out.commit, |e| {
        matches!(e, MlsError::MissingCachedProposals { missing: 1 })
    });
    // Once Alice has the proposal, her commit includes it and is accepted.
    net.groups
        .get_mut("alice1")
        .unwrap()
        .discard_pending_commit()
        .unwrap();
    net.groups
        .get_mut("alice1")
        .unwrap()
        .process(&leave, now)
        .unwrap();
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .self_update(now)
        .unwrap();
    let results = net.deliver_commit("alice1", &out, &[]);
    assert!(matches!(
        results["bob1"],
        Incoming::Commit {
            removed_me: true,
            ..
        }
    ));
}

#[test]
fn removed_users_application_message() {
    let mut net = strict_room();
    let now = net.now;
    let msg = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .protect(b"still here?", &Default::default())
        .unwrap();
    // Alice removes Bob (participant list and his client).
    let kick = net.pl_remove(&["bob"]);
    let bob1 = net.clients["bob1"].client().clone();
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[kick], &[], &[bob1], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &[]);
    let before = net.hub().to_record().unwrap();
    let err = net.hub().check_application(&msg, &user("bob")).unwrap_err();
    assert!(
        matches!(err, MlsError::Denied(Denied::NotParticipant { .. })),
        "{err:?}"
    );
    assert_eq!(net.hub().to_record().unwrap(), before);
    // A message claiming an epoch the hub has not reached is refused too.
    let mut fresh = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .protect(b"hi", &Default::default())
        .unwrap();
    net.hub().check_application(&fresh, &user("alice")).unwrap();
    assert!(matches!(
        net.hub().check_application(&msg, &user("alice")),
        Err(MlsError::EpochTooOld { .. })
    ));
    fresh.truncate(5);
    assert!(matches!(
        net.hub().check_application(&fresh, &user("alice")),
        Err(MlsError::Malformed(_))
    ));
}

#[test]
fn hub_originated_remove_is_verified_and_committed_by_an_ordinary_member() {
    // A franked room (Safe AAD required): the hub's proposal carries the empty SafeAAD prefix
    // (openmls 0.9.2 would write none, and be refused with "malformed SafeAAD prefix").
    let mut net = strict_room_with(true, true);
    // Cathy joins as an ordinary user (no `canKick` in the strictly administered preset).
    let kp = net.kp("cathy1");
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["cathy"])], &[kp], &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["cathy1"]);
    let bob1 = net.clients["bob1"].client().clone();
    let props = net
        .hub()
        .propose_remove(&net.hub_id, std::slice::from_ref(&bob1))
        .unwrap();
    assert_eq!(props.len(), 1);
    // The proposal verifies (hub signature and server credential) and the policy lets the
    // hub's clientless policy_enforcer role kick a client; every member accepts it.
    net.deliver_proposal("hub", &props[0]);
    assert_eq!(net.hub().enforced_removals(), vec![bob1.clone()]);
    // Cathy may not remove Bob's client herself...
    let err = net
        .groups
        .get_mut("cathy1")
        .unwrap()
        .commit(&[], &[], std::slice::from_ref(&bob1), now)
        .unwrap_err();
    assert!(
        matches!(err, MlsError::Denied(Denied::MissingCapability { .. })),
        "{err:?}"
    );
    net.groups
        .get_mut("cathy1")
        .unwrap()
        .discard_pending_commit()
        .ok();
    // ...but commits the hub's proposal: it was authorized against the hub.
    let out = net
        .groups
        .get_mut("cathy1")
        .unwrap()
        .commit(&[], &[], &[], now)
        .unwrap();
    assert_eq!(out.summary.enforced_removed.len(), 1);
    assert!(out.summary.removed.is_empty());
    net.deliver_commit("cathy1", &out, &[]);
    assert!(!net.hub().has_member(&bob1));
    assert!(net.hub().enforced_removals().is_empty());
    assert!(
        !net.groups["bob1"].is_active(),
        "bob1 learns it was removed"
    );
    net.assert_consistent();
    net.message("alice1", "sentinel after the removal");

    // In a room without Safe AAD the proposal is also accepted.
    let net = strict_room_with(false, true);
    let bob1 = net.clients["bob1"].client().clone();
    let props = net
        .hub()
        .propose_remove(&net.hub_id, std::slice::from_ref(&bob1))
        .unwrap();
    net.hub().process(&props[0], net.now).unwrap();
    // Without a policy-enforcer participant the hub has no role at all.
    let net = strict_room_with(false, false);
    let props = net.hub().propose_remove(&net.hub_id, &[bob1]).unwrap();
    refused(&net, &props[0], |e| matches!(e, MlsError::Denied(_)));
    // A server that is not an external sender of the group cannot propose.
    let other = ServerIdentity::new(
        &net.providers["b.example"].ca,
        Validity::starting(net.now - 60, YEAR),
    )
    .unwrap();
    let bob1 = net.clients["bob1"].client().clone();
    assert!(matches!(
        net.hub().propose_remove(&other, &[bob1]),
        Err(MlsError::Misuse(_))
    ));
}

#[test]
fn handshakes_must_be_public_and_well_formed() {
    let mut net = strict_room();
    let now = net.now;
    let app = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .protect(b"x", &Default::default())
        .unwrap();
    refused(&net, &app, |e| matches!(e, MlsError::Unexpected(_)));
    refused(&net, &[0, 1, 0, 1], |e| matches!(e, MlsError::Malformed(_)));
    let kp = net.kp("cathy1");
    refused(&net, &kp, |e| matches!(e, MlsError::Unexpected(_)));
    let _ = now;
}

#[test]
fn group_info_must_match_the_new_epoch() {
    let mut net = strict_room();
    let now = net.now;
    let first = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .self_update(now)
        .unwrap();
    let staged = net.hub().process(&first.commit, now).unwrap();
    // The GroupInfo of the current (old) epoch is refused, and nothing is merged.
    let old_gi = net.groups["alice1"].group_info().unwrap();
    let before = net.hub().to_record().unwrap();
    assert!(matches!(
        net.hub_mut().merge(staged, Some(&old_gi), now),
        Err(MlsError::GroupInfoEpoch { expected, got }) if expected == got + 1
    ));
    assert_eq!(net.hub().to_record().unwrap(), before);
    // A GroupInfo of the right epoch but another commit's context is refused too.
    let mut other = net.groups.remove("bob1").unwrap();
    let other_commit = other.self_update(now).unwrap();
    let staged = net.hub().process(&first.commit, now).unwrap();
    assert!(matches!(
        net.hub_mut()
            .merge(staged, other_commit.group_info.as_deref(), now),
        Err(MlsError::GroupInfoMismatch)
    ));
    let staged = net.hub().process(&first.commit, now).unwrap();
    net.hub_mut()
        .merge(staged, first.group_info.as_deref(), now)
        .unwrap();
    assert!(net.hub().group_info().is_some());
}

/// Alice's self-update, and where its confirmation tag starts: a member's PublicMessage ends
/// with `confirmation_tag<V>` then `membership_tag<V>`, each a 32-byte HMAC-SHA256 here.
fn self_update_with_tag_offset(net: &mut Net) -> (OutgoingCommit, usize) {
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .self_update(now)
        .unwrap();
    let n = out.commit.len();
    assert_eq!(out.commit[n - 66], 32, "confirmation tag length prefix");
    assert_eq!(out.commit[n - 33], 32, "membership tag length prefix");
    (out, n - 65)
}

/// Asserts the hub, having staged `commit`, refuses to merge it with `group_info` as `check`
/// says, and changes nothing.
fn merge_refused(
    net: &mut Net,
    commit: &[u8],
    group_info: Option<&[u8]>,
    check: impl Fn(&MlsError) -> bool,
) {
    let now = net.now;
    let before = net.hub().to_record().unwrap();
    let staged = net.hub().process(commit, now).unwrap();
    let err = net.hub_mut().merge(staged, group_info, now).unwrap_err();
    assert!(check(&err), "unexpected error: {err:?}");
    assert_eq!(net.hub().to_record().unwrap(), before, "no state change");
}

/// The GroupInfo `group_info` re-signed by `key`, naming `signer` as its signer.
fn resigned_group_info(group_info: &[u8], signer: u32, key: &crate::SigningKey) -> Vec<u8> {
    use tls_codec::{Deserialize as _, Serialize as _, VLBytes};
    // Header (version, wire format), then the TBS up to its final `uint32 signer`, then the
    // signature: find where the TBS ends by reading the trailing signature from the end.
    let sig_len = {
        let mut tail = &group_info[group_info.len() - 66..];
        VLBytes::tls_deserialize(&mut tail)
            .unwrap()
            .as_slice()
            .len()
    };
    assert_eq!(sig_len, 64, "an Ed25519 signature with a 2-byte length");
    let tbs_end = group_info.len() - 66;
    let mut tbs = group_info[4..tbs_end].to_vec();
    let l = tbs.len();
    tbs[l - 4..].copy_from_slice(&signer.to_be_bytes());
    let signature = crate::sign::sign_with_label(key, "GroupInfoTBS", &tbs).unwrap();
    let mut out = group_info[..4].to_vec();
    out.extend_from_slice(&tbs);
    out.extend_from_slice(&VLBytes::from(signature).tls_serialize_detached().unwrap());
    out
}

/// The attack of issue 20: one bit of a member's commit's confirmation tag flipped (by the
/// member, or by a provider in transit). Every member refuses such a commit, so a hub that fanned
/// it out would leave them behind for good; the hub refuses it because the committer's GroupInfo
/// carries the real tag under the committer's signature.
#[test]
fn commit_with_a_flipped_confirmation_tag_bit() {
    let mut net = strict_room();
    let (out, tag) = self_update_with_tag_offset(&mut net);
    let mut flipped = out.commit.clone();
    flipped[tag] ^= 0x01;
    // The public group alone cannot tell: it stages the altered commit.
    assert!(net.hub().process(&flipped, net.now).is_ok());
    // Bob (a member) would refuse it.
    let mut bob =
        ClientGroup::from_record(&net.groups["bob1"].to_record().unwrap(), net.trust.clone())
            .unwrap();
    assert!(bob.process(&flipped, net.now).is_err());
    merge_refused(&mut net, &flipped, out.group_info.as_deref(), |e| {
        matches!(e, MlsError::ConfirmationTagMismatch)
    });
    // The last byte too (any byte of the tag).
    let mut last = out.commit.clone();
    last[tag + 31] ^= 0x80;
    merge_refused(&mut net, &last, out.group_info.as_deref(), |e| {
        matches!(e, MlsError::ConfirmationTagMismatch)
    });
    // The honest commit is still accepted, and the room goes on.
    net.deliver_commit("alice1", &out, &[]);
    net.assert_consistent();
    net.message("bob1", "still here");
}

#[test]
fn commit_without_group_info() {
    let mut net = strict_room();
    let (out, _) = self_update_with_tag_offset(&mut net);
    merge_refused(&mut net, &out.commit, None, |e| {
        matches!(e, MlsError::GroupInfoMissing)
    });
    net.deliver_commit("alice1", &out, &[]);
    net.assert_consistent();
}

#[test]
fn group_info_signed_by_another_member() {
    let mut net = strict_room();
    let (out, _) = self_update_with_tag_offset(&mut net);
    let gi = out.group_info.clone().unwrap();
    let alice_leaf = net.groups["alice1"].own_leaf_index();
    let bob_leaf = net.groups["bob1"].own_leaf_index();
    let bob_key = net.clients["bob1"].signing_key();
    // Re-signing the honest TBS with the committer's own key gives the same GroupInfo
    // (Ed25519 is deterministic): the helper is faithful.
    let alice_key = net.clients["alice1"].signing_key();
    assert_eq!(resigned_group_info(&gi, alice_leaf, alice_key), gi);
    let at_alice = resigned_group_info(&gi, alice_leaf, bob_key);
    let at_bob = resigned_group_info(&gi, bob_leaf, bob_key);
    // Signed by Bob at Alice's leaf: the signature does not verify.
    merge_refused(&mut net, &out.commit, Some(&at_alice), |e| {
        matches!(e, MlsError::GroupInfoSignature)
    });
    // Signed by Bob at Bob's own leaf: he is not the committer.
    merge_refused(
        &mut net,
        &out.commit,
        Some(&at_bob),
        |e| matches!(e, MlsError::GroupInfoSigner { expected, got } if *expected == alice_leaf && *got == bob_leaf),
    );
    // A signature byte flipped.
    let mut broken = gi.clone();
    let n = broken.len();
    broken[n - 1] ^= 0x01;
    merge_refused(&mut net, &out.commit, Some(&broken), |e| {
        matches!(e, MlsError::GroupInfoSignature)
    });
    net.deliver_commit("alice1", &out, &[]);
    net.assert_consistent();
}

#[test]
fn group_info_of_another_epoch_or_commit() {
    let mut net = strict_room();
    let (out, _) = self_update_with_tag_offset(&mut net);
    let epoch = net.hub().epoch();
    // The current epoch's GroupInfo (signed by Alice, but for the epoch the commit leaves).
    let old = net.groups["alice1"].group_info().unwrap();
    merge_refused(
        &mut net,
        &out.commit,
        Some(&old),
        |e| matches!(e, MlsError::GroupInfoEpoch { expected, got } if *expected == epoch + 1 && *got == epoch),
    );
    // Alice's GroupInfo for a different commit of hers (same new epoch, other context).
    let mut alice = ClientGroup::from_record(
        &net.groups["alice1"].to_record().unwrap(),
        net.trust.clone(),
    )
    .unwrap();
    alice.discard_pending_commit().unwrap();
    let other = alice.self_update(net.now).unwrap();
    merge_refused(&mut net, &out.commit, other.group_info.as_deref(), |e| {
        matches!(e, MlsError::GroupInfoMismatch)
    });
    net.deliver_commit("alice1", &out, &[]);
    net.assert_consistent();
}

/// Without Safe AAD, the hub's external Remove proposal is byte for byte what openmls builds
/// (Ed25519 signatures are deterministic), so the hand-built encoding is the RFC's.
#[test]
fn hub_remove_proposals_match_openmls_byte_for_byte() {
    use openmls::prelude::{ExternalProposal, SenderExtensionIndex};
    use openmls_rust_crypto::OpenMlsRustCrypto;

    let net = strict_room_with(false, true);
    let bob1 = net.clients["bob1"].client().clone();
    let ours = net
        .hub()
        .propose_remove(&net.hub_id, std::slice::from_ref(&bob1))
        .unwrap();
    let hub = net.hub();
    let leaf = hub.leaf_of(&bob1).unwrap();
    let theirs = ExternalProposal::new_remove::<OpenMlsRustCrypto>(
        leaf,
        openmls::group::GroupId::from_slice(hub.group_id()),
        openmls::prelude::GroupEpoch::from(hub.epoch()),
        &net.hub_id.signing_key().pair,
        SenderExtensionIndex::new(0),
    )
    .unwrap()
    .to_bytes()
    .unwrap();
    assert_eq!(ours, vec![theirs]);
}

const DAY: u64 = 24 * 3600;

/// Alice (admin) and Bob in a strictly administered room whose `mls_operational_policy`
/// allows KeyPackages of at most two weeks and credentials of at most two years; Bob came in
/// with a KeyPackage of a week. Cathy (a credential of a year) and Carl (of three years) wait.
fn room_with_lifetime_limits() -> Net {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.add_client("c.example", "cathy", "cathy1");
    let carl = ClientIdentity::new(
        &net.providers["c.example"].ca,
        "mimi://c.example/d/carl/carl1".parse().unwrap(),
        "mimi://c.example/u/carl".parse().unwrap(),
        Validity::starting(net.now - 3600, 3 * YEAR),
    )
    .unwrap();
    net.clients.insert("carl1".into(), carl);
    let room = room_with(
        Preset::StrictlyAdministered,
        &net.room,
        "alice",
        true,
        false,
    );
    let mut components = room.components();
    let mut policy = mimi_room::components::OperationalParameters::allowing_external();
    policy.max_kp_lifetime = 14 * DAY;
    policy.max_credential_lifetime = 2 * YEAR;
    components.insert(ComponentId::MLS_OPERATIONAL_POLICY, policy.encode());
    net.create_with("alice1", RoomState::from_components(components).unwrap());
    let kp = net.short_kp("bob1");
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &[kp], &[], net.now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1"]);
    net
}

impl Net {
    /// A KeyPackage of `device` valid for a week.
    fn short_kp(&self, device: &str) -> Vec<u8> {
        self.clients[device]
            .key_package(self.now, 7 * DAY, false)
            .unwrap()
            .message
    }
}

/// Alice adds `name` with `kp`: her own client refuses first (`check`), the hub and Bob's
/// client refuse the commit built anyway, and nothing changes; then Alice drops it.
fn add_refused_everywhere(
    net: &mut Net,
    name: &str,
    kp: Vec<u8>,
    check: impl Fn(&MlsError) -> bool,
) {
    let now = net.now;
    let alice = net.groups.get_mut("alice1").unwrap();
    let err = alice
        .commit(&[pl_add(&[name])], std::slice::from_ref(&kp), &[], now)
        .unwrap_err();
    assert!(check(&err), "sender: {err:?}");
    let out = alice
        .commit_unchecked(&[pl_add(&[name])], &[kp], true, now)
        .unwrap();
    alice.discard_pending_commit().unwrap();
    refused(net, &out.commit, &check);
    let bob = net.groups.get_mut("bob1").unwrap();
    let before = bob.to_record().unwrap();
    let err = bob.process(&out.commit, now).unwrap_err();
    assert!(check(&err), "receiver: {err:?}");
    assert_eq!(bob.to_record().unwrap(), before);
}

#[test]
fn adds_beyond_the_operational_policys_lifetimes_are_refused_by_sender_hub_and_receivers() {
    let mut net = room_with_lifetime_limits();
    // Cathy's KeyPackage of 30 days is longer than the 14 days allowed.
    let long = net.kp("cathy1");
    add_refused_everywhere(&mut net, "cathy", long, |e| {
        matches!(e, MlsError::Denied(Denied::KeyPackageLifetime { lifetime_s, max_s, .. })
            if *lifetime_s == KP_LIFETIME && *max_s == 14 * DAY)
    });
    // Carl's KeyPackage is short, but his credential of three years exceeds the two allowed.
    let carl = net.short_kp("carl1");
    add_refused_everywhere(&mut net, "carl", carl, |e| {
        matches!(e, MlsError::Denied(Denied::CredentialLifetime { max_s, .. })
            if *max_s == 2 * YEAR)
    });
    // The room goes on: Cathy with a KeyPackage of a week gets in, and a message arrives.
    let kp = net.short_kp("cathy1");
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["cathy"])], &[kp], &[], net.now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["cathy1"]);
    net.assert_consistent();
    net.message("alice1", "sentinel");
    assert_eq!(net.active().len(), 3);
}

#[test]
fn the_key_package_lifetime_is_read_from_the_encoding() {
    let net = room_with_lifetime_limits();
    let published = net.clients["cathy1"]
        .key_package(net.now, 7 * DAY, false)
        .unwrap();
    let message = crate::client::parse_message(&published.message).unwrap();
    let openmls::prelude::MlsMessageBodyIn::KeyPackage(kp) = message.extract() else {
        panic!("not a KeyPackage");
    };
    use tls_codec::Serialize as _;
    let bytes = kp.tls_serialize_detached().unwrap();
    assert_eq!(
        crate::inspect::key_package_lifetime(&bytes).unwrap(),
        (net.now, net.now + 7 * DAY)
    );
    assert!(crate::inspect::key_package_lifetime(&bytes[..bytes.len() / 2]).is_err());
}

/// A ReInit proposal (RFC 9420 §12.1.5) would move the room to a new group the hub and the
/// room state know nothing of; MIMI rooms refuse it whatever the committer's role
/// (`canSendMLSReinitProposal` is n/a). openmls never puts one in a commit it builds (its
/// proposal filter drops ReInit), so Alice's attempt, even as super admin and past our checks,
/// yields an empty commit the hub takes as such; a ReInit in a commit made by other means, by
/// value or by reference, reaches the summary every party builds (`GroupView`), which refuses
/// it. The room goes on.
#[test]
fn a_reinit_proposal_is_refused_by_the_summary_of_every_party_whatever_the_role() {
    use openmls::messages::proposals::ReInitProposal;
    use openmls::prelude::{LeafNodeIndex, Proposal, ProposalIn, Sender};
    use tls_codec::Deserialize as _;

    // ReInit { group_id<V> "next", version mls10, cipher suite 0x0001, extensions<V> empty }.
    let mut bytes = vec![4];
    bytes.extend_from_slice(b"next");
    bytes.extend_from_slice(&[0x00, 0x01, 0x00, 0x01, 0x00]);
    let reinit = Proposal::ReInit(Box::new(
        ReInitProposal::tls_deserialize_exact(bytes.as_slice()).unwrap(),
    ));

    let mut net = strict_room();
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit_raw_proposal(reinit.clone())
        .unwrap();
    let staged = net.hub().process(&out.commit, now).unwrap();
    let empty = staged.summary();
    assert!(
        empty.component_changes.is_empty() && empty.added.is_empty() && empty.removed.is_empty(),
        "an empty commit, no ReInit in it: {empty:?}"
    );
    net.groups
        .get_mut("alice1")
        .unwrap()
        .discard_pending_commit()
        .unwrap();

    let leaf = |_: LeafNodeIndex| None;
    let cached = BTreeMap::new();
    let view = crate::inspect::GroupView {
        leaf: &leaf,
        cached: &cached,
    };
    let alice = net.groups["alice1"].me().clone();
    let reinit: ProposalIn = reinit.into();
    let member = Sender::Member(LeafNodeIndex::new(0));
    let mut summary = crate::CommitSummary::new(crate::Actor::Client {
        client: alice.client,
        user: alice.user,
    });
    let refused = |r: Result<(), MlsError>| {
        assert!(
            matches!(&r, Err(MlsError::Unexpected(m)) if m.contains("not allowed in MIMI rooms")),
            "{r:?}"
        );
    };
    refused(view.add_proposal(&mut summary, &reinit, &member));
    refused(view.add_committed_proposal(&mut summary, &reinit, &member));
    assert!(summary.component_changes.is_empty() && summary.added.is_empty());

    net.message("alice1", "sentinel after the reinit");
    net.message("bob1", "still here");
    net.assert_consistent();
}

impl Net {
    /// A device of `user` (b.example) whose credential is valid for `validity_s`.
    fn add_device_valid_for(&mut self, user: &str, device: &str, validity_s: u64) {
        let id = ClientIdentity::new(
            &self.providers["b.example"].ca,
            format!("mimi://b.example/d/{user}/{device}")
                .parse()
                .unwrap(),
            format!("mimi://b.example/u/{user}").parse().unwrap(),
            Validity::starting(self.now - 3600, validity_s),
        )
        .unwrap();
        self.clients.insert(device.into(), id);
    }

    /// `device` joins by external commit from the hub's GroupInfo (not delivered).
    fn external_join(&self, device: &str) -> (ClientGroup, OutgoingCommit) {
        let gi = self.hub().group_info().unwrap().to_vec();
        let tree = self.hub().ratchet_tree().unwrap();
        let pending: Vec<Vec<u8>> = self
            .hub()
            .pending_proposals()
            .into_iter()
            .map(|p| p.0)
            .collect();
        ClientGroup::join_external(
            &self.clients[device],
            &gi,
            &tree,
            &pending,
            self.trust.clone(),
            self.now,
        )
        .unwrap()
    }
}

/// `max_credential_lifetime` holds for a client that joins by external commit too (it brings
/// a credential, no KeyPackage): Bob's new device with a credential of three years, under the
/// room's two, is refused by the hub and by Alice's client, nothing changes; his device with a
/// credential of a year joins, and a message follows.
#[test]
fn an_external_joiner_beyond_the_credential_lifetime_is_refused_by_hub_and_receivers() {
    let mut net = room_with_lifetime_limits();
    net.add_device_valid_for("bob", "bob2", 3 * YEAR);
    net.add_device_valid_for("bob", "bob3", YEAR);
    let (_, out) = net.external_join("bob2");
    let lifetimes = &out.summary.added_lifetimes;
    assert_eq!(lifetimes.len(), 1, "{lifetimes:?}");
    assert_eq!(lifetimes[0].key_package_s, None, "no KeyPackage");
    let too_long = |e: &MlsError| {
        matches!(e, MlsError::Denied(Denied::CredentialLifetime { lifetime_s, max_s, .. })
            if *lifetime_s == 3 * YEAR && *max_s == 2 * YEAR)
    };
    refused(&net, &out.commit, too_long);
    let now = net.now;
    let alice = net.groups.get_mut("alice1").unwrap();
    let before = alice.to_record().unwrap();
    let err = alice.process(&out.commit, now).unwrap_err();
    assert!(too_long(&err), "receiver: {err:?}");
    assert_eq!(alice.to_record().unwrap(), before, "no change at alice");
    net.message("alice1", "sentinel after the refused join");

    let (g, out) = net.external_join("bob3");
    let staged = net.hub().process(&out.commit, now).unwrap();
    assert_eq!(staged.summary(), &out.summary, "hub and joiner agree");
    net.hub_mut()
        .merge(staged, out.group_info.as_deref(), now)
        .unwrap();
    for name in net.active() {
        net.groups
            .get_mut(&name)
            .unwrap()
            .process(&out.commit, now)
            .unwrap();
    }
    net.groups.insert("bob3".into(), g);
    net.assert_consistent();
    net.message("bob3", "my new phone");
}
