//! Loss, duplication, lost acknowledgements and late replays of the hub's fan-out, over 200
//! seeds: every accepted message reaches every member device exactly once, in hub order
//! (a message the hub found too old is re-sent by its client once it caught up, and counts
//! from its acceptance).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_room::presets::Preset;
use mimi_testkit::{Faults, Network};
use mimi_types::UserUri;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn user(s: &str) -> UserUri {
    UserUri::parse(s).unwrap()
}

fn run(seed: u64) -> mimi_testkit::NetworkStats {
    let mut net = Network::new(seed, &["x.example", "y.example", "z.example"]).unwrap();
    net.set_faults(Faults {
        loss: 0.2,
        ack_loss: 0.2,
        duplicate: 0.2,
        replay: 0.2,
    });
    let a = net
        .add_device(&user("mimi://x.example/u/alice"), "phone")
        .unwrap();
    let c = net
        .add_device(&user("mimi://y.example/u/charlie"), "phone")
        .unwrap();
    let d = net
        .add_device(&user("mimi://z.example/u/diana"), "phone")
        .unwrap();
    let e = net
        .add_device(&user("mimi://z.example/u/evelyn"), "tablet")
        .unwrap();
    let room = net
        .create_room(&c, "mimi://y.example/r/lossy", Preset::Cooperative)
        .unwrap();
    net.add_users(
        &c,
        &room,
        &[
            user("mimi://x.example/u/alice"),
            user("mimi://z.example/u/diana"),
            user("mimi://z.example/u/evelyn"),
        ],
    )
    .unwrap();
    let devices = [a, c, d, e];
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    // Accepted at once, in order; and every text the hub accepted or found too old (the
    // client re-sends those once it has caught up).
    let mut accepted = Vec::new();
    let mut sent = Vec::new();
    let mut n = 0;
    // Interleave sends, network steps and an occasional commit, with faults on.
    for round in 0..12 {
        net.step().unwrap();
        let sender = &devices[rng.gen_range(0..devices.len())];
        if !net.device(sender).unwrap().is_member(&room) {
            continue;
        }
        if round % 5 == 4 {
            net.self_update(sender, &room).unwrap();
            continue;
        }
        let text = format!("m{n}");
        n += 1;
        match net.send(sender, &room, &text).unwrap() {
            SubmitOutcome::Accepted { .. } => {
                accepted.push(text.clone());
                sent.push(text);
            }
            SubmitOutcome::EpochTooOld { .. } => sent.push(text),
            other => panic!("seed {seed}: {other:?}"),
        }
    }
    net.settle(20_000).unwrap();
    let hub_order = net.accepted(&room);
    assert_eq!(
        hub_order.len(),
        sent.len(),
        "seed {seed}: each accepted once"
    );
    sent.sort();
    for device in &devices {
        let state = net.device(device).unwrap();
        assert!(
            state.failures().is_empty(),
            "seed {seed}, {device}: {:?}",
            state.failures()
        );
        assert_eq!(
            state.message_ids(&room),
            hub_order,
            "seed {seed}, {device}: exactly once, in hub order"
        );
        let got = state.texts(&room);
        let at_once: Vec<&String> = got.iter().filter(|t| accepted.contains(t)).collect();
        assert_eq!(
            at_once,
            accepted.iter().collect::<Vec<_>>(),
            "seed {seed}, {device}"
        );
        let mut all = got.clone();
        all.sort();
        assert_eq!(all, sent, "seed {seed}, {device}: every message once");
    }
    net.stats().clone()
}

#[test]
fn every_accepted_message_arrives_exactly_once_in_order_under_faults() {
    let (mut lost, mut ignored) = (0, 0);
    for seed in 0..200 {
        let stats = run(seed);
        lost += stats.lost;
        ignored += stats.duplicates_ignored;
    }
    // The faults really happened: transmissions were lost and repeats were ignored.
    assert!(lost > 100, "lost {lost}");
    assert!(ignored > 100, "ignored {ignored}");
}
