//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub, missing_docs)]

use mimi_ds::follower::KeyPackageEntry;
use mimi_ds::{NewDeviceEvent, NewOutbound};
use mimi_types::{ClientUri, Domain, RoomUri};

mod backends;

#[allow(unused_imports)]
pub(crate) use backends::on_both_backends;
#[allow(unused_imports)]
pub use backends::{TestDb, TestStore};

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

/// The environment variable naming the PostgreSQL the PostgreSQL tests use.
pub const PG_URL_ENV: &str = "MIMI_TEST_DATABASE_URL";

/// The PostgreSQL URL of the tests, or `None` after saying on stderr that `test` is skipped.
pub fn pg_url(test: &str) -> Option<String> {
    match std::env::var(PG_URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
            let mut said = SAID.lock().unwrap();
            if said.iter().any(|t| t == test) {
                return None;
            }
            said.push(test.to_owned());
            eprintln!(
                "SKIPPED {test}: {PG_URL_ENV} is not set; set it to run against a real \
                 PostgreSQL, e.g. {PG_URL_ENV}=postgres://postgres@127.0.0.1:5432/test"
            );
            None
        }
    }
}

/// A fresh schema of its own in the test database, so tests run in parallel; `url` connects
/// with it as the search path. Dropped by [`PgSchema::drop`] (a failed test leaves it behind,
/// inside the database `.ci/run` drops at exit).
pub struct PgSchema {
    admin: String,
    pub name: String,
    pub url: String,
}

impl PgSchema {
    pub async fn create(admin: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "mimi_t_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        pg_execute(admin, &format!("CREATE SCHEMA {name}")).await;
        let separator = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{separator}options[search_path]={name}");
        Self {
            admin: admin.to_owned(),
            name,
            url,
        }
    }

    /// A statement run as the admin inside this schema (by qualified names).
    pub async fn execute(&self, statement: &str) {
        pg_execute(&self.url, statement).await;
    }

    pub async fn count_rows(&self, table: &str) -> i64 {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        n
    }

    pub async fn drop(self) {
        pg_execute(&self.admin, &format!("DROP SCHEMA {} CASCADE", self.name)).await;
    }
}

/// Runs one statement on a connection of its own.
pub async fn pg_execute(url: &str, statement: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|err| panic!("cannot connect to {PG_URL_ENV}: {err}"));
    sqlx::raw_sql(statement)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|err| panic!("{statement}: {err}"));
    conn.close().await.unwrap();
}
