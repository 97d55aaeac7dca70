//! One negative test per error variant and per refused operation, plus the hub's refusals
//! (`wrongEpoch` in a commit race, `epochTooOld` re-sent).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::{Fed, user};
use mimi_client_core::{Client, ClientError, HubRefusal, Invitee, OpId, SendOutcome};
use mimi_content::{AttachmentError, ContentBuilder, MessageId};
use mimi_federation_api::update::UpdateOutcome;
use mimi_room::components::RoleIndex;
use mimi_room::presets::Preset;
use mimi_types::{ClientUri, RoomUri};

fn two() -> (Fed, ClientUri, ClientUri, RoomUri) {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(&charlie, "mimi://y.example/r/team", Preset::Cooperative);
    fed.invite(&charlie, &room, &["mimi://x.example/u/alice"])
        .unwrap();
    (fed, alice, charlie, room)
}

#[test]
fn not_member() {
    let (mut fed, alice, _, _) = two();
    let mut rng = fed.rng.clone();
    let other: RoomUri = "mimi://y.example/r/other".parse().unwrap();
    let err = fed.c(&alice).send_text(&mut rng, &other, "hi").unwrap_err();
    assert!(matches!(err, ClientError::NotMember { room } if room == other));
    let now = fed.now();
    assert!(matches!(
        fed.c(&alice).commit_pending(now, &other),
        Err(ClientError::NotMember { .. })
    ));
    assert!(matches!(
        fed.c(&alice).typing_message(&other, true),
        Err(ClientError::NotMember { .. })
    ));
}

#[test]
fn removed_member_is_not_member() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    fed.c(&charlie)
        .remove(now, &room, &[user("mimi://x.example/u/alice")])
        .unwrap();
    fed.pump();
    let mut rng = fed.rng.clone();
    assert!(matches!(
        fed.c(&alice).send_text(&mut rng, &room, "still here?"),
        Err(ClientError::NotMember { .. })
    ));
}

#[test]
fn not_allowed_by_role_names_the_capability() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    let (_, id) = fed.c(&charlie).send_text(&mut rng, &room, "mine").unwrap();
    fed.pump();
    let err = fed
        .c(&alice)
        .edit(&mut rng, &room, id, "yours")
        .unwrap_err();
    assert!(matches!(err, ClientError::NotAllowed { .. }), "{err}");
    assert_eq!(
        err.missing_capability(),
        Some(mimi_room::Capability::CAN_EDIT_OWN_MESSAGE)
    );
    // An ordinary user may not make itself or others admin: refused by the room policy while
    // the commit is built, nothing is queued.
    let now = fed.now();
    let err = fed
        .c(&alice)
        .set_role(
            now,
            &room,
            &user("mimi://y.example/u/charlie"),
            RoleIndex(1),
        )
        .unwrap_err();
    assert!(matches!(err, ClientError::NotAllowed { .. }), "{err}");
    assert!(fed.c(&alice).poll_request().is_none());
}

#[test]
fn unknown_user() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    let nobody = user("mimi://x.example/u/nobody");
    let err = fed
        .c(&charlie)
        .remove(now, &room, std::slice::from_ref(&nobody))
        .unwrap_err();
    assert!(matches!(&err, ClientError::UnknownUser { user, .. } if *user == nobody));
    let err = fed
        .c(&charlie)
        .set_role(now, &room, &nobody, RoleIndex(2))
        .unwrap_err();
    assert!(matches!(err, ClientError::UnknownUser { .. }));
    // No KeyPackages: the user cannot be added.
    let err = fed
        .c(&charlie)
        .invite(now, &room, &[Invitee::new(nobody, Vec::new())])
        .unwrap_err();
    assert!(matches!(err, ClientError::UnknownUser { .. }));
    // Inviting a participant again is misuse.
    let kps = fed.key_packages(&room, &user("mimi://x.example/u/alice"));
    let err = fed
        .c(&charlie)
        .invite(
            now,
            &room,
            &[Invitee::new(user("mimi://x.example/u/alice"), kps)],
        )
        .unwrap_err();
    assert!(matches!(err, ClientError::Misuse(_)), "{err}");
    let _ = alice;
}

#[test]
fn unknown_message() {
    let (mut fed, alice, _, room) = two();
    let mut rng = fed.rng.clone();
    let ghost = MessageId([1; 32]);
    for result in [
        fed.c(&alice).react(&mut rng, &room, ghost, "👍"),
        fed.c(&alice).reply(&mut rng, &room, ghost, "?"),
        fed.c(&alice).edit(&mut rng, &room, ghost, "?"),
        fed.c(&alice).delete(&mut rng, &room, ghost),
        fed.c(&alice).unreact(&mut rng, &room, ghost),
    ] {
        assert!(
            matches!(result, Err(ClientError::UnknownMessage { .. })),
            "{result:?}"
        );
    }
    // Someone else's reaction cannot be withdrawn as one's own.
    let (_, hello) = fed.c(&alice).send_text(&mut rng, &room, "hello").unwrap();
    fed.pump();
    let charlie: ClientUri = "mimi://y.example/d/charlie/desk".parse().unwrap();
    let (_, heart) = fed.c(&charlie).react(&mut rng, &room, hello, "❤").unwrap();
    fed.pump();
    assert!(matches!(
        fed.c(&alice).unreact(&mut rng, &room, heart),
        Err(ClientError::UnknownMessage { .. })
    ));
}

#[test]
fn hub_refuses_the_loser_of_a_commit_race() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    let op_a = fed.c(&alice).commit_pending(now, &room).unwrap();
    let op_c = fed.c(&charlie).commit_pending(now, &room).unwrap();
    let req_a = fed.c(&alice).poll_request().unwrap();
    let req_c = fed.c(&charlie).poll_request().unwrap();
    assert_eq!(req_a.op(), op_a);
    fed.send(&alice, req_a);
    fed.send(&charlie, req_c);
    assert_eq!(fed.refusals().len(), 1, "{:?}", fed.refusals());
    assert_eq!(fed.refusals()[0].0, charlie);
    assert_eq!(fed.refusals()[0].1, op_c);
    assert!(fed.refusals()[0].2.contains("another change won"));
    // Both devices are in the winner's epoch and keep talking.
    let epoch_a = fed.client(&alice).group(&room).unwrap().epoch();
    assert_eq!(fed.client(&charlie).group(&room).unwrap().epoch(), epoch_a);
    let mut rng = fed.rng.clone();
    fed.c(&charlie)
        .send_text(&mut rng, &room, "after the race")
        .unwrap();
    fed.pump();
    assert_eq!(
        fed.transcript(&alice, &room),
        vec!["charlie: after the race"]
    );
}

#[test]
fn hub_refusal_is_returned_by_mark_sent() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    let op = fed.c(&charlie).commit_pending(now, &room).unwrap();
    let _ = fed.c(&charlie).poll_request().unwrap();
    let err = fed
        .c(&charlie)
        .mark_sent(op, SendOutcome::Update(UpdateOutcome::NotAllowed))
        .unwrap_err();
    assert!(matches!(
        err,
        ClientError::HubRefused {
            refusal: HubRefusal::NotAllowed,
            ..
        }
    ));
    // The pending commit was discarded: a new one can be made and is accepted.
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    fed.pump();
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
    assert_eq!(
        fed.client(&alice).group(&room).unwrap().epoch(),
        fed.client(&charlie).group(&room).unwrap().epoch()
    );
}

#[test]
fn a_message_too_old_for_the_hub_is_sent_again() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    fed.c(&alice).send_text(&mut rng, &room, "late").unwrap();
    let held = fed.c(&alice).poll_request().unwrap();
    let now = fed.now();
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    fed.pump();
    fed.send(&alice, held);
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
    fed.pump();
    assert_eq!(fed.transcript(&charlie, &room), vec!["alice: late"]);
    assert_eq!(fed.transcript(&alice, &room), vec!["alice: late"]);
}

#[test]
fn mls_failure() {
    let (mut fed, alice, _, _) = two();
    let now = fed.now();
    let room: RoomUri = "mimi://y.example/r/else".parse().unwrap();
    let err = fed
        .c(&alice)
        .join_external(now, &room, b"not a group info", b"", &[])
        .unwrap_err();
    assert!(matches!(err, ClientError::Mls(_)), "{err}");
    assert!(fed.client(&alice).room(&room).is_none());
}

#[test]
fn invalid_content() {
    let (mut fed, alice, _, room) = two();
    let mut rng = fed.rng.clone();
    let (_, hello) = fed.c(&alice).send_text(&mut rng, &room, "hello").unwrap();
    fed.pump();
    // Reactions are not concatenated: two emoji in one reaction are refused.
    let err = fed
        .c(&alice)
        .react(&mut rng, &room, hello, "❤👍")
        .unwrap_err();
    assert!(matches!(err, ClientError::Content(_)), "{err}");
    let err = fed
        .c(&alice)
        .send_content(
            &mut rng,
            &room,
            ContentBuilder::new(mimi_content::NestedPart::text("x")).topic(vec![0; 5000]),
        )
        .unwrap_err();
    assert!(matches!(err, ClientError::Content(_)), "{err}");
}

#[test]
fn attachment_that_does_not_match() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    let sent = fed
        .c(&alice)
        .send_attachment(
            &mut rng,
            &room,
            b"bytes",
            &mimi_client_core::FileInfo::default(),
            |_| "https://x.example/blob/1".into(),
        )
        .unwrap();
    fed.pump();
    let c = fed.client(&charlie);
    assert_eq!(
        c.open_attachment(&room, &sent.message_id, 0, &sent.blob)
            .unwrap()
            .as_slice(),
        b"bytes"
    );
    let err = c
        .open_attachment(&room, &sent.message_id, 0, b"other")
        .unwrap_err();
    assert!(matches!(
        err,
        ClientError::Attachment(AttachmentError::SizeMismatch { .. })
    ));
    assert!(matches!(
        c.open_attachment(&room, &sent.message_id, 1, &sent.blob),
        Err(ClientError::UnknownMessage { .. })
    ));
}

#[test]
fn wire_garbage_on_the_stream() {
    let (mut fed, alice, _, room) = two();
    let now = fed.now();
    let err = fed
        .c(&alice)
        .handle_event(now, 1_000, &room, b"\x00\x01garbage")
        .unwrap_err();
    assert!(matches!(err, ClientError::Wire(_)), "{err}");
    assert_eq!(fed.client(&alice).cursor(), 0);
}

#[test]
fn bad_records() {
    let (fed, alice, _, _) = two();
    let record = fed.client(&alice).to_record().unwrap();
    let trust = fed.trust();
    let mut wrong_version = record.clone();
    wrong_version[0] = 9;
    for (bytes, what) in [
        (wrong_version, "version 9"),
        (record[..record.len() - 1].to_vec(), "ends inside"),
        ([record.as_slice(), &[0]].concat(), "trailing"),
        (Vec::new(), "ends inside"),
    ] {
        let err = Client::from_record(&bytes, trust.clone()).unwrap_err();
        assert!(matches!(err, ClientError::Record(_)), "{err}");
        assert!(err.to_string().contains(what), "{err} / {what}");
    }
}

#[test]
fn api_misuse() {
    let (mut fed, alice, charlie, room) = two();
    assert!(matches!(
        fed.c(&alice).mark_sent(OpId(999), SendOutcome::Uploaded),
        Err(ClientError::Misuse(_))
    ));
    let now = fed.now();
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    assert!(matches!(
        fed.c(&charlie).commit_pending(now, &room),
        Err(ClientError::Misuse(_))
    ));
    let op = fed.c(&alice).generate_key_packages(now, 1).unwrap();
    assert!(matches!(
        fed.c(&alice)
            .mark_sent(op, SendOutcome::Update(UpdateOutcome::NotAllowed)),
        Err(ClientError::Misuse(_))
    ));
    // The operation is still pending and can be reported properly.
    fed.c(&alice).mark_sent(op, SendOutcome::Uploaded).unwrap();
    let hub = fed.server(room.hub_domain()).external_sender();
    assert!(matches!(
        fed.c(&charlie)
            .create_room(now, &room, Preset::Cooperative, &hub),
        Err(ClientError::Misuse(_))
    ));
    fed.pump();
}

#[test]
fn key_package_top_up() {
    let (mut fed, alice, _, _) = two();
    let c = fed.c(&alice);
    assert_eq!(
        c.key_packages_needed(0),
        mimi_client_core::KEY_PACKAGE_TARGET
    );
    assert_eq!(c.key_packages_needed(100), 0);
    // The first batch carried one last-resort KeyPackage; later batches do not.
    let now = fed.now();
    fed.c(&alice).generate_key_packages(now, 2).unwrap();
    match fed.c(&alice).poll_request().unwrap() {
        mimi_client_core::Outgoing::KeyPackages { key_packages, .. } => {
            assert_eq!(key_packages.len(), 2);
            assert!(key_packages.iter().all(|k| !k.last_resort));
        }
        other => panic!("{other:?}"),
    }
    let first = fed
        .net
        .provider(alice.domain())
        .unwrap()
        .key_package_pool(&alice)
        .unwrap()
        .entries();
    assert_eq!(first.iter().filter(|k| k.last_resort).count(), 1);
    assert!(matches!(
        fed.c(&alice).generate_key_packages(now, 0),
        Err(ClientError::Misuse(_))
    ));
}

#[test]
fn typing_is_encrypted_ephemeral_and_moves_nothing_stored() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    while fed.c(&charlie).poll_event().is_some() {}
    let request = fed.c(&alice).typing_message(&room, true).unwrap();
    let bytes = request.app_message.as_bytes().to_vec();
    let signal = fed
        .c(&charlie)
        .handle_typing_message(now, &room, &bytes)
        .expect("a typing indicator");
    assert_eq!(signal.user, user("mimi://x.example/u/alice"));
    assert_eq!(signal.client, alice);
    assert!(signal.active);
    let mut got = Vec::new();
    while let Some(e) = fed.c(&charlie).poll_event() {
        got.push(e);
    }
    assert_eq!(got, vec![mimi_client_core::ClientEvent::Typing(signal)]);
    // Seen again: it decrypts again, so Charlie's group did not consume its generation (MLS
    // refuses a generation used twice): nothing of the real group moved. Still nothing stored.
    assert!(
        fed.c(&charlie)
            .handle_typing_message(now, &room, &bytes)
            .is_some()
    );
    assert!(
        fed.client(&charlie)
            .room(&room)
            .unwrap()
            .messages()
            .is_empty()
    );
    // Its own indicator coming back is not shown to the sender.
    assert!(
        fed.c(&alice)
            .handle_typing_message(now, &room, &bytes)
            .is_none()
    );
    // The conversation goes on: the typing indicator's generation does not disturb it.
    let mut rng = fed.rng.clone();
    fed.c(&alice)
        .send_text(&mut rng, &room, "after typing")
        .unwrap();
    fed.pump();
    assert_eq!(
        fed.transcript(&charlie, &room),
        fed.transcript(&alice, &room)
    );
    assert_eq!(
        fed.client(&charlie).room(&room).unwrap().messages().len(),
        1
    );

    // A real message handed to the typing path is not a typing indicator; garbage neither.
    let (_, _) = fed.c(&alice).send_text(&mut rng, &room, "stored").unwrap();
    let Some(mimi_client_core::Outgoing::Message { request, .. }) = fed.c(&alice).poll_request()
    else {
        panic!("a message");
    };
    assert!(
        fed.c(&charlie)
            .handle_typing_message(now, &room, request.app_message.as_bytes())
            .is_none()
    );
    assert!(
        fed.c(&charlie)
            .handle_typing_message(now, &room, b"not mls")
            .is_none()
    );
    // A device that is not in the room gets nothing.
    let other: RoomUri = "mimi://y.example/r/other".parse().unwrap();
    assert!(
        fed.c(&charlie)
            .handle_typing_message(now, &other, &bytes)
            .is_none()
    );
}

#[test]
fn a_commit_whose_answer_is_lost_is_merged_from_its_fan_out() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    let op = fed.c(&charlie).commit_pending(now, &room).unwrap();
    let request = fed.c(&charlie).poll_request().unwrap();
    // The hub accepts and fans out, but the answer never reaches Charlie's engine.
    let mimi_client_core::Outgoing::Commit { request, .. } = request else {
        panic!("a commit");
    };
    let request =
        mimi_federation_api::decode_exact(&mimi_federation_api::Encode::encode(&request).unwrap())
            .unwrap();
    let out = fed
        .hub_mut(&room)
        .handle_update(now * 1000, room.hub_domain(), request)
        .unwrap();
    fed.deliver(out.effects);
    let epoch = fed.client(&alice).group(&room).unwrap().epoch();
    assert_eq!(fed.client(&charlie).group(&room).unwrap().epoch(), epoch);
    // The late report is accepted without effect.
    fed.c(&charlie)
        .mark_sent(op, SendOutcome::Update(out.response.outcome))
        .unwrap();
    assert!(fed.client(&charlie).pending_ops().is_empty());
    let mut rng = fed.rng.clone();
    fed.c(&charlie)
        .send_text(&mut rng, &room, "still fine")
        .unwrap();
    fed.pump();
    assert_eq!(fed.transcript(&alice, &room), vec!["charlie: still fine"]);
}

#[test]
fn a_message_written_while_a_commit_is_in_flight_is_delivered() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    let mut rng = fed.rng.clone();
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    fed.c(&charlie)
        .send_text(&mut rng, &room, "while committing")
        .unwrap();
    fed.pump();
    assert_eq!(
        fed.transcript(&alice, &room),
        vec!["charlie: while committing"]
    );
    assert_eq!(
        fed.transcript(&charlie, &room),
        vec!["charlie: while committing"]
    );
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
}

#[test]
fn a_leaving_device_is_told_it_is_leaving() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    fed.c(&alice).leave(&room).unwrap();
    let mut rng = fed.rng.clone();
    let leaving = |e: ClientError| matches!(e, ClientError::Leaving { room: ref r } if *r == room);
    let e = fed.c(&alice).send_text(&mut rng, &room, "bye").unwrap_err();
    assert!(e.to_string().contains("leaving"), "{e}");
    assert!(leaving(e));
    assert!(leaving(
        fed.c(&alice).rename(now, &room, "mine").unwrap_err()
    ));
    assert!(leaving(
        fed.c(&alice).commit_pending(now, &room).unwrap_err()
    ));
    assert!(leaving(fed.c(&alice).leave(&room).unwrap_err()));
    assert!(leaving(
        fed.c(&alice).typing_message(&room, true).unwrap_err()
    ));
    assert!(leaving(fed.c(&alice).may_send(&room).unwrap_err()));
    // Once another member commits the leave, the device is simply not a member.
    fed.pump();
    let now = fed.now();
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    fed.pump();
    let e = fed.c(&alice).send_text(&mut rng, &room, "bye").unwrap_err();
    assert!(matches!(e, ClientError::NotMember { .. }), "{e}");
}

#[test]
fn a_room_whose_creation_failed_is_discarded() {
    let (mut fed, alice, _, room) = two();
    while fed.c(&alice).poll_event().is_some() {}
    let hub = fed
        .server(&mimi_types::Domain::parse("x.example").unwrap())
        .external_sender();
    let now = fed.now();
    let new: RoomUri = "mimi://x.example/r/new".parse().unwrap();
    fed.c(&alice)
        .create_room(now, &new, Preset::Cooperative, &hub)
        .unwrap();
    fed.c(&alice).discard_created_room(&new).unwrap();
    assert!(fed.client(&alice).room(&new).is_none());
    assert!(
        fed.c(&alice).poll_event().is_none(),
        "the Joined event is gone"
    );
    // Created again, it works (nothing left behind).
    fed.c(&alice)
        .create_room(now, &new, Preset::Cooperative, &hub)
        .unwrap();
    // A room in use cannot be discarded.
    assert!(matches!(
        fed.c(&alice).discard_created_room(&room),
        Err(ClientError::Misuse(_))
    ));
    let unknown: RoomUri = "mimi://x.example/r/unknown".parse().unwrap();
    assert!(matches!(
        fed.c(&alice).discard_created_room(&unknown),
        Err(ClientError::Misuse(_))
    ));
}

#[test]
fn the_external_join_flag_survives_the_record() {
    let (mut fed, _, charlie, room) = two();
    let now = fed.now();
    let phone = fed.device("mimi://y.example/u/charlie", "phone");
    let hub = &fed.hub(&room);
    let group_info = hub.group().group_info().unwrap().to_vec();
    let tree = hub.group().ratchet_tree().unwrap();
    let pending: Vec<Vec<u8>> = hub
        .group()
        .pending_proposals()
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    let op = fed
        .c(&phone)
        .join_external(now, &room, &group_info, &tree, &pending)
        .unwrap();
    assert!(fed.client(&phone).is_external_join(op));
    // Restored from its record (a restart before the request left): still an external join.
    let record = fed.client(&phone).to_record().unwrap();
    let restored = Client::from_record(&record, fed.trust()).unwrap();
    assert!(restored.is_external_join(op));
    // An ordinary commit is not.
    let other = fed.c(&charlie).commit_pending(now, &room).unwrap();
    assert!(!fed.client(&charlie).is_external_join(other));
}
