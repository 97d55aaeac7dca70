//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub, missing_docs)]

use mimi_ds::follower::KeyPackageEntry;
use mimi_ds::{NewDeviceEvent, NewOutbound};
use mimi_types::{ClientUri, Domain, RoomUri};

pub fn room(name: &str) -> RoomUri {
    RoomUri::parse(&format!("mimi://hub.example/r/{name}")).unwrap()
}

pub fn domain(name: &str) -> Domain {
    Domain::parse(name).unwrap()
}

pub fn device(name: &str) -> ClientUri {
    ClientUri::parse(&format!("mimi://z.example/d/diana/{name}")).unwrap()
}

pub fn outbound(to: &str, room_name: &str, body: &[u8]) -> NewOutbound {
    NewOutbound {
        to: domain(to),
        room: room(room_name),
        body: body.to_vec(),
    }
}

pub fn event(device_name: &str, room_name: &str, payload: &[u8]) -> NewDeviceEvent {
    NewDeviceEvent {
        device: device(device_name),
        room: room(room_name),
        payload: payload.to_vec(),
    }
}

pub fn key_package(n: u32, last_resort: bool, not_after: u64) -> KeyPackageEntry {
    KeyPackageEntry {
        key_package: [b"kp".as_slice(), &n.to_be_bytes()].concat(),
        reference: format!("ref-{n}").into_bytes(),
        last_resort,
        not_after,
    }
}

/// Rows of `table`, read with a raw connection (not through the store).
pub async fn count_rows(path: &std::path::Path, table: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect_with(
        &sqlx::sqlite::SqliteConnectOptions::new().filename(path),
    )
    .await
    .unwrap();
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}
