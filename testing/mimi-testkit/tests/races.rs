//! Commit races: exactly one commit per epoch wins; the loser gets wrongEpoch and no Welcome
//! of its goes out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mimi_federation_api::update::UpdateOutcome;
use mimi_room::presets::Preset;
use mimi_testkit::Network;
use mimi_types::UserUri;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn user(s: &str) -> UserUri {
    UserUri::parse(s).unwrap()
}

#[test]
fn one_winner_per_epoch_over_a_thousand_races() {
    let mut net = Network::new(7, &["x.example", "y.example", "z.example"]).unwrap();
    let a = net
        .add_device(&user("mimi://x.example/u/alice"), "phone")
        .unwrap();
    let c = net
        .add_device(&user("mimi://y.example/u/charlie"), "phone")
        .unwrap();
    let d = net
        .add_device(&user("mimi://z.example/u/diana"), "phone")
        .unwrap();
    let room = net
        .create_room(&c, "mimi://y.example/r/races", Preset::Cooperative)
        .unwrap();
    net.add_users(
        &c,
        &room,
        &[
            user("mimi://x.example/u/alice"),
            user("mimi://z.example/u/diana"),
        ],
    )
    .unwrap();
    net.settle(1_000).unwrap();
    let devices = [a, c, d];
    let mut rng = StdRng::seed_from_u64(99);
    let races = 1_000;
    for race in 0..races {
        let first = rng.gen_range(0..3);
        let second = (first + rng.gen_range(1..3)) % 3;
        let epoch = net
            .device(&devices[first])
            .unwrap()
            .group(&room)
            .unwrap()
            .epoch();
        let one = net.prepare_self_update(&devices[first], &room).unwrap();
        let two = net.prepare_self_update(&devices[second], &room).unwrap();
        let won = net.submit_commit(one).unwrap();
        let lost = net.submit_commit(two).unwrap();
        assert!(
            matches!(won, UpdateOutcome::Success { .. }),
            "race {race}: {won:?}"
        );
        assert_eq!(
            lost,
            UpdateOutcome::WrongEpoch {
                current_epoch: epoch + 1
            },
            "race {race}"
        );
        net.settle(1_000).unwrap();
    }
    let hub_epoch = net
        .provider(room.hub_domain())
        .unwrap()
        .hub_room(&room)
        .unwrap()
        .group()
        .epoch();
    for device in &devices {
        let state = net.device(device).unwrap();
        assert!(
            state.failures().is_empty(),
            "{device}: {:?}",
            state.failures()
        );
        assert_eq!(state.group(&room).unwrap().epoch(), hub_epoch);
    }
}

#[test]
fn a_losing_commits_welcome_is_never_fanned_out() {
    let mut net = Network::new(8, &["x.example", "y.example", "z.example"]).unwrap();
    let c = net
        .add_device(&user("mimi://y.example/u/charlie"), "phone")
        .unwrap();
    let a = net
        .add_device(&user("mimi://x.example/u/alice"), "phone")
        .unwrap();
    let d = net
        .add_device(&user("mimi://z.example/u/diana"), "phone")
        .unwrap();
    let room = net
        .create_room(&c, "mimi://y.example/r/welcome-race", Preset::Cooperative)
        .unwrap();
    net.add_users(&c, &room, &[user("mimi://x.example/u/alice")])
        .unwrap();
    net.settle(1_000).unwrap();
    // Alice's self-update wins; Charlie's add of Diana (with a Welcome) loses.
    let winner = net.prepare_self_update(&a, &room).unwrap();
    assert!(matches!(
        net.submit_commit(winner).unwrap(),
        UpdateOutcome::Success { .. }
    ));
    let before = net
        .stats()
        .notify_requests
        .get(d.domain())
        .copied()
        .unwrap_or(0);
    let lost = net
        .add_users(&c, &room, &[user("mimi://z.example/u/diana")])
        .unwrap();
    assert!(matches!(lost, UpdateOutcome::WrongEpoch { .. }), "{lost:?}");
    net.settle(1_000).unwrap();
    let after = net
        .stats()
        .notify_requests
        .get(d.domain())
        .copied()
        .unwrap_or(0);
    assert_eq!(before, after, "nothing, and no Welcome, went to z.example");
    assert!(!net.device(&d).unwrap().is_member(&room));
    // Retried in the new epoch, it succeeds and Diana joins.
    assert!(matches!(
        net.add_users(&c, &room, &[user("mimi://z.example/u/diana")])
            .unwrap(),
        UpdateOutcome::Success { .. }
    ));
    net.settle(1_000).unwrap();
    assert!(net.device(&d).unwrap().is_member(&room));
}
