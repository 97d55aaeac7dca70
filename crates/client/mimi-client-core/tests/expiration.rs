//! The room's `message_expiration_policy` through the real engines: x.example (Alice, Bob),
//! y.example (the hub: Charlie, the room's super admin). The sender applies the default and
//! refuses durations outside min..max; every receiver refuses a message that breaks the policy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::{Fed, user};
use mimi_client_core::{Client, ClientError, PolicySetting, Rejection};
use mimi_content::{ContentBuilder, Expiration, NestedPart};
use mimi_mls::ComponentChange;
use mimi_room::Capability;
use mimi_room::components::Component as _;
use mimi_room::presets::Preset;
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, RoomUri};

const ALICE: &str = "mimi://x.example/u/alice";
const BOB: &str = "mimi://x.example/u/bob";
const HOUR: u32 = 3600;
const DAY: u32 = 24 * HOUR;

struct Cast {
    fed: Fed,
    alice: ClientUri,
    bob: ClientUri,
    charlie: ClientUri,
    room: RoomUri,
}

/// A strictly administered room whose super admin (Charlie) gave his role
/// `canChangeOtherPolicyAttribute` (no preset role holds it), then set `settings`.
fn cast(settings: &[&str]) -> Cast {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device(ALICE, "phone");
    let bob = fed.device(BOB, "laptop");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let preset = Preset::StrictlyAdministered;
    let room = fed.create_room(&charlie, "mimi://y.example/r/ephemeral", preset);
    fed.invite(&charlie, &room, &[ALICE, BOB]).unwrap();
    let now = fed.now();
    let mut roles = preset.roles();
    roles
        .roles
        .iter_mut()
        .find(|r| r.role_index == preset.creator_role())
        .unwrap()
        .role_capabilities
        .push(Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE);
    let change = ComponentChange::update(ComponentId::ROLES_LIST, roles.encode());
    fed.c(&charlie)
        .update_components(now, &room, &[change])
        .unwrap();
    fed.pump();
    let settings: Vec<PolicySetting> = settings.iter().map(|s| s.parse().unwrap()).collect();
    fed.c(&charlie).set_policy(now, &room, &settings).unwrap();
    fed.pump();
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
    for c in [&alice, &bob, &charlie] {
        fed.c(c).tick(now);
    }
    Cast {
        fed,
        alice,
        bob,
        charlie,
        room,
    }
}

fn texts(c: &Cast, device: &ClientUri) -> Vec<String> {
    c.fed
        .client(device)
        .room(&c.room)
        .unwrap()
        .messages()
        .iter()
        .map(|m| m.body.text.clone())
        .collect()
}

fn expiration_rejections(client: &Client, room: &RoomUri, sender: &str) -> usize {
    client
        .room(room)
        .unwrap()
        .rejections()
        .iter()
        .filter(|r| matches!(r, Rejection::Expiration { sender: s, .. } if *s == user(sender)))
        .count()
}

#[test]
fn the_default_applies_the_range_is_enforced_and_rogue_expiries_are_refused_everywhere() {
    let mut c = cast(&[
        "expiration=required",
        "expiration-min=60",
        "expiration-max=86400",
        "expiration-default=3600",
    ]);
    let room = c.room.clone();
    let mut rng = c.fed.rng.clone();
    let now = c.fed.now();
    let now32 = u32::try_from(now).unwrap();

    // No expiry asked for: the room's default (an hour from now) applies, and everyone shows it.
    let (_, hello) = c
        .fed
        .c(&c.alice)
        .send_text(&mut rng, &room, "hello")
        .unwrap();
    // An expiry within min..max is kept.
    let (_, kept) = c
        .fed
        .c(&c.alice)
        .send_expiring(&mut rng, &room, "for two hours", now32 + 2 * HOUR)
        .unwrap();
    c.fed.pump();
    for d in [&c.alice, &c.bob, &c.charlie] {
        let view = c.fed.client(d).room(&room).unwrap();
        let m = view
            .message(&hello)
            .expect("the message with the default expiry");
        assert_eq!(
            m.expires,
            Some(Expiration {
                relative: false,
                time: now32 + HOUR
            }),
            "{d}"
        );
        assert_eq!(
            view.message(&kept).unwrap().expires.map(|e| e.time),
            Some(now32 + 2 * HOUR),
            "{d}"
        );
    }

    // Too short and too long are refused by the sender, with nothing queued.
    for at in [now32 + 10, now32 + 2 * DAY] {
        let err = c
            .fed
            .c(&c.alice)
            .send_expiring(&mut rng, &room, "out of range", at)
            .unwrap_err();
        assert!(
            matches!(&err, ClientError::ExpiryOutsidePolicy { error, .. }
                if error.contains("allows 60 to 86400 s")),
            "{err}"
        );
        assert!(
            c.fed.c(&c.alice).poll_request().is_none(),
            "nothing was queued"
        );
    }

    // A client that sends anyway (an expiry of ten days, then none at all in a room that
    // requires one): every receiver refuses both, and neither shows.
    let far = ContentBuilder::new(NestedPart::text("rogue: ten days")).expires_at(now32 + 10 * DAY);
    c.fed.c(&c.bob).send_content(&mut rng, &room, far).unwrap();
    let never = ContentBuilder::new(NestedPart::text("rogue: forever"));
    c.fed
        .c(&c.bob)
        .send_content(&mut rng, &room, never)
        .unwrap();
    // The sentinel: Charlie's message, with the default, still arrives everywhere.
    c.fed
        .c(&c.charlie)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    c.fed.pump();
    for d in [&c.alice, &c.bob, &c.charlie] {
        assert_eq!(
            texts(&c, d),
            ["hello", "for two hours", "sentinel"],
            "{d} shows only what the policy allows"
        );
        if *d != c.bob {
            assert_eq!(expiration_rejections(c.fed.client(d), &room, BOB), 2, "{d}");
        }
    }
}

#[test]
fn a_room_forbidding_expiry_refuses_expiring_messages_and_one_without_a_default_needs_one() {
    let mut c = cast(&["expiration=forbidden"]);
    let room = c.room.clone();
    let mut rng = c.fed.rng.clone();
    let now32 = u32::try_from(c.fed.now()).unwrap();
    let err = c
        .fed
        .c(&c.alice)
        .send_expiring(&mut rng, &room, "gone soon", now32 + HOUR)
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::ExpiryOutsidePolicy { error, .. } if error.contains("forbids")),
        "{err}"
    );
    // Sent anyway: refused by every receiver; a plain message still arrives.
    let rogue = ContentBuilder::new(NestedPart::text("rogue")).expires_at(now32 + HOUR);
    c.fed
        .c(&c.bob)
        .send_content(&mut rng, &room, rogue)
        .unwrap();
    c.fed
        .c(&c.alice)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    c.fed.pump();
    for d in [&c.alice, &c.charlie] {
        assert_eq!(texts(&c, d), ["sentinel"], "{d}");
        assert_eq!(expiration_rejections(c.fed.client(d), &room, BOB), 1, "{d}");
    }
    assert_eq!(
        c.fed
            .client(&c.alice)
            .room(&room)
            .unwrap()
            .messages()
            .first()
            .unwrap()
            .expires,
        None
    );

    // Required without a default: the sender must give an expiry.
    let now = c.fed.now();
    let settings: Vec<PolicySetting> = ["expiration=required", "expiration-max=600"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    c.fed
        .c(&c.charlie)
        .set_policy(now, &room, &settings)
        .unwrap();
    c.fed.pump();
    assert!(c.fed.refusals().is_empty(), "{:?}", c.fed.refusals());
    let err = c
        .fed
        .c(&c.alice)
        .send_text(&mut rng, &room, "no expiry")
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::ExpiryOutsidePolicy { error, .. } if error.contains("requires")),
        "{err}"
    );
    c.fed
        .c(&c.alice)
        .send_expiring(&mut rng, &room, "ten minutes", now32 + 600)
        .unwrap();
    c.fed.pump();
    assert_eq!(texts(&c, &c.bob.clone()), ["sentinel", "ten minutes"]);
}
