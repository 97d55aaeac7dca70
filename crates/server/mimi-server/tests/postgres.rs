//! The provider on PostgreSQL (`database.url`), next to one on SQLite: a room hosted on the
//! PostgreSQL provider with a member on each, messages both ways, then `GET /health` while the
//! database is there (200) and after it is dropped (503).
//!
//! Reads the server's URL from `MIMI_TEST_DATABASE_URL` and creates a database of its own;
//! without the variable it says on stderr that it is skipped and passes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::PgDatabase;
use common::device::{Api, Device, settle};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;

async fn health(api: &Api) -> (u16, serde_json::Value) {
    let response = api
        .http
        .get(format!("{}/health", api.base))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn a_hub_on_postgres_serves_a_room_and_reports_its_database() {
    common::logs();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(PgDatabase::create(
        "a_hub_on_postgres_serves_a_room_and_reports_its_database",
    )) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = database.url.clone();
    let mut nodes = common::federation_with(dir.path(), &["x.example", "y.example"], |i, c| {
        if i == 1 {
            c.database.url = Some(url.clone());
            c.database.acquire_timeout_ms = 2_000;
        }
    });
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&y, "alice").await;
        Device::register_user(&x, "bob").await;
        let mut alice = Device::register(&y, "alice", "phone", 2).await;
        let mut bob = Device::register(&x, "bob", "laptop", 2).await;
        let room = alice.create_room("mimi://y.example/r/pg").await;
        let added = alice.add_users(&room, &[bob.user().clone()]).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        for (i, text) in ["from y", "from x", "y again"].iter().enumerate() {
            let sender = if i % 2 == 0 { &mut alice } else { &mut bob };
            let sent = sender.send(&room, text).await.unwrap();
            assert!(matches!(sent, SubmitOutcome::Accepted { .. }), "{sent:?}");
        }
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() == 3)
        })
        .await;
        assert_eq!(alice.texts(&room), bob.texts(&room));
        assert_eq!(alice.texts(&room), ["from y", "from x", "y again"]);

        // The accounts are in the same database as the store: it holds both kinds of tables.
        let (status, body) = health(&y).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["database"], "ok");
        let (status, body) = health(&x).await;
        assert_eq!((status, &body["database"]), (200, &"ok".into()), "{body}");

        // Without its database the PostgreSQL provider says so; the SQLite one is unaffected.
        database.drop_now().await;
        let (status, body) = health(&y).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["database"], "unreachable");
        assert!(
            body["error"].as_str().unwrap().contains("postgres://"),
            "{body}"
        );
        let (status, _) = health(&x).await;
        assert_eq!(status, 200);
    });
    nodes.clear();
}

/// The operators' abuse report queue on PostgreSQL: queued reports come back decoded, oldest
/// first; a resolved one leaves the open list and cannot be resolved twice.
#[test]
fn the_abuse_report_queue_works_on_postgres() {
    use mimi_federation_api::Encode as _;
    use mimi_federation_api::common::IdentifierUri;
    use mimi_federation_api::report_abuse::{AbuseReport, AbuseType};
    use mimi_server::accounts::Accounts;
    use mimi_types::{Domain, RoomUri};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(PgDatabase::create(
        "the_abuse_report_queue_works_on_postgres",
    )) else {
        return;
    };
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
        let accounts = Accounts::postgres(pool.clone()).await.unwrap();
        let room = RoomUri::parse("mimi://x.example/r/pg").unwrap();
        let peer = Domain::parse("y.example").unwrap();
        let report = |note: &str| {
            AbuseReport::new(
                IdentifierUri::from_string("mimi://y.example/u/bob".to_owned()).unwrap(),
                IdentifierUri::from_string("mimi://x.example/u/eve".to_owned()).unwrap(),
                AbuseType::UNSPECIFIED,
                note,
                Vec::new(),
            )
        };
        let first = accounts
            .queue_abuse_report(&room, &peer, 10, &report("one").encode().unwrap())
            .await
            .unwrap();
        let second = accounts
            .queue_abuse_report(&room, &peer, 20, &report("two").encode().unwrap())
            .await
            .unwrap();
        assert!(second > first);
        let open = accounts.abuse_reports(true, 0, 10).await.unwrap();
        assert_eq!(
            open.iter()
                .map(|r| r.report.note.as_str())
                .collect::<Vec<_>>(),
            ["one", "two"]
        );
        assert_eq!(open[0].peer, peer);
        assert_eq!(open[1].received_ms, 20);
        assert!(
            accounts
                .resolve_abuse_report(first, 30, "done")
                .await
                .unwrap()
        );
        assert!(
            !accounts
                .resolve_abuse_report(first, 31, "again")
                .await
                .unwrap()
        );
        let open = accounts.abuse_reports(true, 0, 10).await.unwrap();
        assert_eq!(open.len(), 1);
        let all = accounts.abuse_reports(false, 0, 10).await.unwrap();
        assert_eq!(all[0].resolved, Some((30, "done".to_owned())));
        assert_eq!(
            accounts.abuse_report(second).await.unwrap().unwrap().id,
            second
        );
        pool.close().await;
    });
    runtime.block_on(database.drop_now());
}

/// Operators' retraction requests on PostgreSQL, carried out by the running hub's worker: in a
/// room whose policy gives the hub no role (created without the policy enforcer) the hub
/// refuses and sends nothing; a room it does not host is refused too; each outcome is
/// recorded once, and a sentinel message then reaches every member.
#[test]
fn retraction_requests_are_carried_out_once_on_postgres() {
    use mimi_room::components::{HubRetractedMessages, HubRetraction};
    use mimi_server::accounts::Accounts;

    common::logs();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(PgDatabase::create(
        "retraction_requests_are_carried_out_once_on_postgres",
    )) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = database.url.clone();
    let mut nodes = common::federation_with(dir.path(), &["x.example", "y.example"], |i, c| {
        if i == 1 {
            c.database.url = Some(url.clone());
        }
    });
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&y, "alice").await;
        Device::register_user(&x, "bob").await;
        let mut alice = Device::register(&y, "alice", "phone", 2).await;
        let mut bob = Device::register(&x, "bob", "laptop", 2).await;
        // Without the hub's service user in a role (what the engine's presets give it as the
        // policy enforcer): the hub must refuse to retract.
        let room = mimi_types::RoomUri::parse("mimi://y.example/r/retract").unwrap();
        let state = mimi_room::presets::RoomCreation::new(
            mimi_room::presets::Preset::Cooperative,
            room.clone(),
            alice.user().clone(),
        )
        .initial_state()
        .unwrap();
        alice.create_room_in(&room, &state).await.unwrap();
        let added = alice.add_users(&room, &[bob.user().clone()]).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        let epoch = alice.epoch(&room);

        let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
        let accounts = Accounts::postgres(pool).await.unwrap();
        let retraction = HubRetraction::Messages(HubRetractedMessages {
            hub_retracted_timestamp: 0,
            remover_uri: mimi_room::presets::hub_service_user(room.hub_domain()),
            reason_code: None,
            retracted_messages: vec![[9; 32]],
        });
        let no_role = accounts
            .request_retraction(&room, &retraction, Some(7), 1)
            .await
            .unwrap();
        let elsewhere = mimi_types::RoomUri::parse("mimi://x.example/r/other").unwrap();
        let not_hosted = accounts
            .request_retraction(&elsewhere, &retraction, None, 2)
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        let outcome = |id| {
            let accounts = &accounts;
            async move {
                loop {
                    let r = accounts.retraction_request(id).await.unwrap().unwrap();
                    if let Some((_, o)) = r.done
                        && o != "being carried out"
                    {
                        return (r.report, o);
                    }
                    assert!(tokio::time::Instant::now() < deadline, "not carried out");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        };
        let (report, refused) = outcome(no_role).await;
        assert_eq!(report, Some(7));
        assert!(
            refused.starts_with("refused") && refused.contains("no role"),
            "{refused}"
        );
        let (_, refused) = outcome(not_hosted).await;
        assert!(refused.contains("not by this provider"), "{refused}");
        assert!(accounts.retraction_request(99).await.unwrap().is_none());

        // Nothing was sent: the room goes on in the same epoch, and a sentinel arrives.
        let sent = alice.send(&room, "sentinel").await.unwrap();
        assert!(matches!(sent, SubmitOutcome::Accepted { .. }), "{sent:?}");
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room) == ["sentinel"])
        })
        .await;
        assert_eq!(alice.epoch(&room), epoch);
        assert!(bob.failures().is_empty(), "{:?}", bob.failures());
    });
    nodes.clear();
}
