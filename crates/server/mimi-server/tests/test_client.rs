//! The server tests' own client (`common::device`, on the real client engine): what its
//! sentinel check rests on. A member's forged message (MIMI content naming another user as
//! its sender; the hub cannot read content and accepts it) is refused by every receiving
//! engine and shows in `failures()`, never in the timeline; an honest message afterwards
//! still arrives, so a sentinel alone would pass and only its failure check catches it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::settle;
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;

#[test]
fn a_forged_sender_shows_in_the_receivers_failures_and_not_in_their_timeline() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let [mut alice, mut mallory, mut carol] =
            common::alice_mallory_carol(&nodes, [3, 3, 3]).await;
        let room = alice.create_room("mimi://x.example/r/forgery").await;
        let users = [mallory.user().clone(), carol.user().clone()];
        let added = alice.add_users(&room, &users).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        common::sentinel(&mut [&mut alice, &mut mallory, &mut carol], &room, "before").await;

        // Mallory's modified client claims Alice wrote it; the hub accepts what it cannot read.
        let forged = mallory
            .send_unchecked_as(&room, "forged", alice.user())
            .await;
        assert!(
            matches!(forged, Ok(SubmitOutcome::Accepted { .. })),
            "{forged:?}"
        );
        let sent = carol.send(&room, "after").await;
        assert!(
            matches!(sent, Ok(SubmitOutcome::Accepted { .. })),
            "{sent:?}"
        );
        settle(&mut [&mut alice, &mut carol], |d| {
            d.iter()
                .all(|d| d.texts(&room).contains(&"after".to_owned()))
        })
        .await;
        for d in [&alice, &carol] {
            assert_eq!(d.texts(&room), ["before", "after"], "{}", d.client());
            let failures = d.failures();
            assert_eq!(failures.len(), 1, "{}: {failures:?}", d.client());
            assert!(failures[0].contains(&room.to_string()), "{failures:?}");
        }
    });
}
