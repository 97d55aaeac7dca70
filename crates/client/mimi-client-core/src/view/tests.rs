//! The view's rules, message by message, without MLS: the sender and room checks, duplicate
//! IDs, who may edit, delete and unlike, and replaying a log.

use mimi_content::{ContentBuilder, MessageId, NestedPart, ReplaceError};
use mimi_room::components::{Component, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{Actor, CommitSummary, ComponentChange, MemberChange, authorize_commit};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, RoomUri, UserUri};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{Entry, Rejection, RoomView};

const ROOM: &str = "mimi://hub.example/r/room";
const ALICE: &str = "mimi://a.example/u/alice";
const BOB: &str = "mimi://b.example/u/bob";

fn u(s: &str) -> UserUri {
    s.parse().unwrap()
}

fn device(user: &str) -> ClientUri {
    let user = u(user);
    ClientUri::of_user(&user, mimi_types::Ident::parse("d1").unwrap())
}

/// Alice (the creator, super admin) and Bob (ordinary user), each with one device.
fn view() -> RoomView {
    let room: RoomUri = ROOM.parse().unwrap();
    let state = RoomCreation::new(Preset::Cooperative, room.clone(), u(ALICE))
        .initial_state()
        .unwrap()
        .with_members([MemberChange::new(device(ALICE), u(ALICE))])
        .unwrap();
    let add = ParticipantListUpdate {
        added_participants: vec![UserRolePair::new(u(BOB), RoleIndex(2))],
        ..Default::default()
    };
    let mut commit = CommitSummary::new(Actor::Client {
        client: device(ALICE),
        user: u(ALICE),
    });
    commit.component_changes.push(ComponentChange::update(
        ComponentId::PARTICIPANT_LIST,
        add.encode(),
    ));
    commit.added.push(MemberChange::new(device(BOB), u(BOB)));
    let state = authorize_commit(&state, &commit).unwrap().into_state();
    RoomView::new(room, u(BOB), state, 1)
}

struct Sender {
    rng: StdRng,
}

impl Sender {
    fn new() -> Self {
        Self {
            rng: StdRng::seed_from_u64(3),
        }
    }

    /// An entry from `from` with content claiming `from` in ROOM.
    fn entry(&mut self, from: &str, builder: ContentBuilder) -> (Entry, MessageId) {
        self.entry_claiming(from, from, ROOM, builder)
    }

    fn entry_claiming(
        &mut self,
        from: &str,
        claimed_sender: &str,
        claimed_room: &str,
        builder: ContentBuilder,
    ) -> (Entry, MessageId) {
        let content = builder
            .uri_strings(claimed_sender, claimed_room)
            .build(&mut self.rng)
            .unwrap();
        let (bytes, id) = content
            .encode_with_id(from.as_bytes(), ROOM.as_bytes())
            .unwrap();
        (
            Entry {
                sender: u(from),
                client: device(from),
                timestamp: 1,
                bytes,
                imported: false,
            },
            id,
        )
    }
}

fn text(s: &str) -> ContentBuilder {
    ContentBuilder::new(NestedPart::text(s))
}

#[test]
fn claimed_sender_must_be_the_authenticated_one() {
    let mut v = view();
    let mut s = Sender::new();
    let (entry, _) = s.entry_claiming(BOB, ALICE, ROOM, text("I am Alice"));
    let err = v.apply(entry, true).unwrap_err();
    assert!(matches!(err, Rejection::SenderMismatch { .. }), "{err}");
    assert!(v.messages().is_empty());
}

#[test]
fn claimed_room_must_be_this_room() {
    let mut v = view();
    let mut s = Sender::new();
    let (entry, _) = s.entry_claiming(BOB, BOB, "mimi://hub.example/r/other", text("x"));
    let err = v.apply(entry, true).unwrap_err();
    assert!(matches!(err, Rejection::RoomMismatch { .. }), "{err}");
}

#[test]
fn invalid_content_is_rejected() {
    let mut v = view();
    let entry = Entry {
        sender: u(BOB),
        client: device(BOB),
        timestamp: 1,
        bytes: vec![0x87, 0x00],
        imported: false,
    };
    assert!(matches!(
        v.apply(entry, true),
        Err(Rejection::InvalidContent { .. })
    ));
}

#[test]
fn a_duplicate_message_id_is_shown_once() {
    let mut v = view();
    let mut s = Sender::new();
    let (entry, id) = s.entry(BOB, text("once"));
    assert_eq!(
        v.apply(entry.clone(), true).unwrap(),
        Some(super::Applied::Timeline(id))
    );
    assert_eq!(v.apply(entry, true).unwrap(), None);
    assert_eq!(v.messages().len(), 1);
    assert_eq!(v.duplicates(), 1);
    assert_eq!(v.log().len(), 1);
}

#[test]
fn only_the_author_edits() {
    let mut v = view();
    let mut s = Sender::new();
    let (entry, id) = s.entry(ALICE, text("alice's"));
    v.apply(entry, true).unwrap();
    let (edit, _) = s.entry(BOB, ContentBuilder::edit(id, NestedPart::text("bob's now")));
    assert!(matches!(
        v.apply(edit, true),
        Err(Rejection::Replacement {
            error: ReplaceError::NotOriginalSender,
            ..
        })
    ));
    let (edit, _) = s.entry(ALICE, ContentBuilder::edit(id, NestedPart::text("fixed")));
    v.apply(edit, true).unwrap();
    assert_eq!(v.message(&id).unwrap().body.text, "fixed");
    // An edit may change only the body.
    let (edit, _) = s.entry(
        ALICE,
        ContentBuilder::edit(id, NestedPart::text("moved")).in_reply_to(MessageId([1; 32])),
    );
    assert!(matches!(
        v.apply(edit, true),
        Err(Rejection::Replacement {
            error: ReplaceError::InReplyToChanged,
            ..
        })
    ));
    // An edit of something unknown.
    let (edit, _) = s.entry(
        ALICE,
        ContentBuilder::edit(MessageId([1; 32]), NestedPart::text("?")),
    );
    assert!(matches!(
        v.apply(edit, true),
        Err(Rejection::UnknownTarget { .. })
    ));
}

#[test]
fn deleting_others_messages_needs_the_capability() {
    let mut v = view();
    let mut s = Sender::new();
    let (entry, alices) = s.entry(ALICE, text("alice's"));
    v.apply(entry, true).unwrap();
    let (entry, bobs) = s.entry(BOB, text("bob's"));
    v.apply(entry, true).unwrap();
    // Bob (ordinary) lacks canDeleteOtherMessage.
    let (delete, _) = s.entry(BOB, ContentBuilder::delete(alices));
    assert!(matches!(
        v.apply(delete, true),
        Err(Rejection::NotAllowed {
            denied: mimi_room::Denied::MissingCapability {
                capability: mimi_room::Capability::CAN_DELETE_OTHER_MESSAGE,
                ..
            },
            ..
        })
    ));
    // Alice (admin) may delete Bob's.
    let (delete, _) = s.entry(ALICE, ContentBuilder::delete(bobs));
    v.apply(delete, true).unwrap();
    assert!(v.message(&bobs).unwrap().deleted);
    assert!(!v.message(&alices).unwrap().deleted);
    // A deleted message cannot be edited or deleted again.
    let (edit, _) = s.entry(BOB, ContentBuilder::edit(bobs, NestedPart::text("back")));
    assert!(matches!(
        v.apply(edit, true),
        Err(Rejection::UnknownTarget { .. })
    ));
}

#[test]
fn reactions_aggregate_and_only_the_reactor_unlikes() {
    let mut v = view();
    let mut s = Sender::new();
    let (entry, id) = s.entry(ALICE, text("hello"));
    v.apply(entry, true).unwrap();
    let (r1, bob_heart) = s.entry(BOB, ContentBuilder::reaction(id, "❤"));
    let (r2, alice_heart) = s.entry(ALICE, ContentBuilder::reaction(id, "❤"));
    v.apply(r1, true).unwrap();
    v.apply(r2, true).unwrap();
    assert_eq!(v.message(&id).unwrap().reactions["❤"].len(), 2);
    assert_eq!(v.reaction_of(&bob_heart, &u(BOB)), Some(id));
    assert_eq!(v.reaction_of(&bob_heart, &u(ALICE)), None);
    assert_eq!(v.reactions_by(&u(BOB))[&id]["❤"], bob_heart);
    assert_eq!(v.reactions_by(&u(ALICE))[&id]["❤"], alice_heart);
    // Bob cannot withdraw Alice's reaction (no canDeleteOtherReaction).
    let (unlike, _) = s.entry(BOB, ContentBuilder::unlike(alice_heart, id));
    assert!(matches!(
        v.apply(unlike, true),
        Err(Rejection::NotAllowed { .. })
    ));
    let (unlike, _) = s.entry(BOB, ContentBuilder::unlike(bob_heart, id));
    v.apply(unlike, true).unwrap();
    let hearts = &v.message(&id).unwrap().reactions["❤"];
    assert_eq!(hearts.len(), 1);
    assert!(hearts.contains(&u(ALICE)));
    assert!(
        v.reactions_by(&u(BOB)).is_empty(),
        "a withdrawn reaction stands no more"
    );
    // Unliking twice refers to nothing.
    let (unlike, _) = s.entry(BOB, ContentBuilder::unlike(bob_heart, id));
    assert!(matches!(
        v.apply(unlike, true),
        Err(Rejection::UnknownTarget { .. })
    ));
}

#[test]
fn replaying_the_log_rebuilds_the_same_timeline() {
    let mut v = view();
    let mut s = Sender::new();
    let (entry, id) = s.entry(ALICE, text("hello"));
    v.apply(entry, true).unwrap();
    for builder in [
        ContentBuilder::reaction(id, "👍"),
        ContentBuilder::reply(id, NestedPart::markdown("*hi*")),
    ] {
        let (e, _) = s.entry(BOB, builder);
        v.apply(e, true).unwrap();
    }
    let (e, _) = s.entry(ALICE, ContentBuilder::edit(id, NestedPart::text("hello!")));
    v.apply(e, true).unwrap();
    let mut replay = view();
    for e in v.log().to_vec() {
        replay.apply(e, false).unwrap();
    }
    assert_eq!(replay.messages(), v.messages());
}

fn retraction_entry(retraction: &mimi_room::components::HubRetraction, at: u64) -> Entry {
    let mut bytes = vec![super::RETRACTION_MARK];
    bytes.extend_from_slice(&retraction.component_id().value().to_be_bytes());
    bytes.extend(retraction.encode());
    Entry {
        sender: retraction.remover().clone(),
        client: "mimi://hub.example/d/_hub".parse().unwrap(),
        timestamp: at,
        bytes,
        imported: false,
    }
}

#[test]
fn hub_retractions_hide_messages_reactions_and_ranges_and_replay() {
    use mimi_room::components::{HubRetractedMessages, HubRetractedRange, HubRetraction};
    let enforcer = u("mimi://hub.example/u/_policy-enforcer");
    let mut v = view();
    let mut s = Sender::new();
    let (entry, hello) = s.entry(ALICE, text("hello"));
    v.apply(entry, true).unwrap();
    let (mut e, abusive) = s.entry(BOB, text("abuse"));
    e.timestamp = 10;
    v.apply(e, true).unwrap();
    let (e, heart) = s.entry(BOB, ContentBuilder::reaction(hello, "❤"));
    v.apply(e, true).unwrap();
    let (mut e, later) = s.entry(BOB, text("more abuse"));
    e.timestamp = 20;
    v.apply(e, true).unwrap();
    assert!(!v.all_reactions(&[abusive.0, heart.0]));
    assert!(v.all_reactions(&[heart.0, [0xee; 32]]));
    assert!(!v.all_reactions(&[[0xee; 32]]), "nothing known");

    // By ID: the message, the reaction (its heart goes) and one this view never had.
    let by_id = HubRetraction::Messages(HubRetractedMessages {
        hub_retracted_timestamp: 30,
        remover_uri: enforcer.clone(),
        reason_code: Some(2),
        retracted_messages: vec![abusive.0, heart.0, [0xee; 32]],
    });
    let applied = v.apply(retraction_entry(&by_id, 30), false).unwrap();
    assert_eq!(
        applied,
        Some(super::Applied::Retracted(vec![abusive, hello]))
    );
    let m = v.message(&abusive).unwrap();
    assert!(m.deleted && m.body.text.is_empty());
    let mark = m.retracted.clone().unwrap();
    assert_eq!(
        (mark.by, mark.at, mark.reason_code),
        (enforcer.clone(), 30, Some(2))
    );
    assert!(v.message(&hello).unwrap().reactions.is_empty());
    assert!(v.message(&hello).unwrap().retracted.is_none());
    assert!(v.message(&later).unwrap().retracted.is_none());

    // A range: Bob's messages from 15 on.
    let range = HubRetraction::Range(HubRetractedRange {
        hub_retracted_timestamp: 40,
        remover_uri: enforcer,
        reason_code: None,
        abusive_sender_uri: u(BOB),
        starting_timestamp: Some(15),
    });
    v.apply(retraction_entry(&range, 40), false).unwrap();
    assert!(v.message(&later).unwrap().retracted.is_some());
    assert!(!v.message(&hello).unwrap().deleted);

    // Replaying the log (a restored record) shows the same.
    let mut replay = view();
    for e in v.log().to_vec() {
        replay.apply(e, false).unwrap();
    }
    assert_eq!(replay.messages(), v.messages());

    // A broken retraction entry is refused.
    let mut broken = retraction_entry(&range, 50);
    broken.bytes.truncate(4);
    assert!(matches!(
        v.apply(broken, false),
        Err(Rejection::InvalidContent { .. })
    ));
}

mod ops {
    use proptest::prelude::*;

    use super::*;

    /// Random conversations of Alice and Bob (messages, replies, reactions, edits, deletes,
    /// unlikes against earlier IDs, duplicates): nothing panics, every refusal is recorded,
    /// and replaying the log rebuilds exactly the same timeline.
    fn run(ops: &[(bool, u8, u8)]) -> Result<(), TestCaseError> {
        let mut v = view();
        let mut s = Sender::new();
        let mut ids: Vec<MessageId> = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        let mut refused = 0;
        for (alice, kind, pick) in ops {
            let from = if *alice { ALICE } else { BOB };
            let target = if ids.is_empty() {
                MessageId([7; 32])
            } else {
                ids[usize::from(*pick) % ids.len()]
            };
            let builder = match kind % 7 {
                0 => text("a message"),
                1 => ContentBuilder::reply(target, NestedPart::text("a reply")),
                2 => ContentBuilder::reaction(target, "👍"),
                3 => ContentBuilder::edit(target, NestedPart::text("edited")),
                4 => ContentBuilder::delete(target),
                5 => ContentBuilder::unlike(target, target),
                _ => {
                    // A repeat of something accepted is a duplicate, whatever it was.
                    if let Some(e) = v.log().last().cloned() {
                        prop_assert_eq!(v.apply(e, true), Ok(None));
                    }
                    continue;
                }
            };
            let (entry, id) = s.entry(from, builder);
            ids.push(id);
            entries.push(entry.clone());
            if v.apply(entry, true).is_err() {
                refused += 1;
            }
        }
        prop_assert_eq!(v.log().len() + refused, entries.len());
        let mut replay = view();
        for e in v.log().to_vec() {
            prop_assert!(replay.apply(e, false).is_ok());
        }
        prop_assert_eq!(replay.messages(), v.messages());
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn random_conversations_replay_identically(
            ops in proptest::collection::vec((any::<bool>(), any::<u8>(), any::<u8>()), 0..40)
        ) {
            run(&ops)?;
        }
    }
}

fn status(entries: &[(MessageId, mimi_content::status::MessageStatus)]) -> ContentBuilder {
    let mut report = mimi_content::status::MessageStatusReport::default();
    for (id, s) in entries {
        report.push(*id, *s);
    }
    ContentBuilder::new(NestedPart::single(
        mimi_content::Disposition::SESSION,
        mimi_content::status::MEDIA_TYPE,
        report.encode(),
    ))
}

#[test]
fn status_reports_from_non_participants_or_malformed_are_refused_and_not_shown() {
    use mimi_content::status::MessageStatus;
    let mut v = view();
    let mut s = Sender::new();
    let (entry, hello) = s.entry(ALICE, text("hello"));
    v.apply(entry, true).unwrap();

    // Mallory is not a participant: her report is refused, nothing recorded.
    let (entry, _) = s.entry(
        "mimi://m.example/u/mallory",
        status(&[(hello, MessageStatus::READ)]),
    );
    let err = v.apply(entry, true).unwrap_err();
    assert!(
        matches!(&err, Rejection::Status { error, .. } if error.contains("not a participant")),
        "{err}"
    );
    // A report that does not decode.
    let (entry, _) = s.entry(
        BOB,
        ContentBuilder::new(NestedPart::single(
            mimi_content::Disposition::SESSION,
            mimi_content::status::MEDIA_TYPE,
            vec![0x81, 0x01],
        )),
    );
    assert!(matches!(
        v.apply(entry, true).unwrap_err(),
        Rejection::InvalidContent { .. }
    ));
    // A report that claims to reply to a message.
    let (entry, _) = s.entry(
        BOB,
        status(&[(hello, MessageStatus::READ)]).in_reply_to(hello),
    );
    assert!(matches!(
        v.apply(entry, true).unwrap_err(),
        Rejection::InvalidContent { .. }
    ));
    let m = v.message(&hello).unwrap();
    assert!(m.statuses.is_empty() && m.read_by.is_empty() && m.delivered_to.is_empty());
    assert_eq!(v.messages().len(), 1);

    // Bob's read, then a late delivered from another of his devices: still read.
    let (entry, _) = s.entry(BOB, status(&[(hello, MessageStatus::READ)]));
    assert_eq!(
        v.apply(entry, true).unwrap(),
        Some(super::Applied::Status(vec![hello]))
    );
    let (entry, _) = s.entry(BOB, status(&[(hello, MessageStatus::DELIVERED)]));
    assert_eq!(
        v.apply(entry, true).unwrap(),
        Some(super::Applied::Status(vec![]))
    );
    let m = v.message(&hello).unwrap();
    assert_eq!(m.read_by, [u(BOB)].into());
    assert_eq!(m.delivered_to, [u(BOB)].into());
    // `unread` moves it back; delivery stays.
    let (entry, _) = s.entry(BOB, status(&[(hello, MessageStatus::UNREAD)]));
    v.apply(entry, true).unwrap();
    let m = v.message(&hello).unwrap();
    assert!(m.read_by.is_empty());
    assert_eq!(m.delivered_to, [u(BOB)].into());
    assert_eq!(v.messages().len(), 1, "reports are not timeline messages");
}
