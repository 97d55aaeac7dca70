//! One check, both backends: a check is an `async fn check<S: TestStore>(db: &TestDb)` that
//! opens its stores with `S::open(db)` (as often as it likes: reopening is how durability is
//! checked), and [`on_both_backends!`] makes a SQLite test and a PostgreSQL test of it
//! (`sqlite::check` and `postgres::check`; the latter skips, saying so on stderr, without
//! `MIMI_TEST_DATABASE_URL`).

use mimi_ds::DsStore;
use mimi_store::{GroupStats, PostgresConfig, PostgresStore, SqliteConfig, SqliteStore};

use super::{PgSchema, pg_url};

/// Where a check's stores live: a fresh SQLite file, or a fresh PostgreSQL schema.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres(PgSchema),
}

impl TestDb {
    pub fn sqlite() -> Self {
        Self::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A schema of its own, or `None` after saying on stderr that `test` is skipped.
    pub async fn postgres(test: &str) -> Option<Self> {
        let admin = pg_url(test)?;
        Some(Self::Postgres(PgSchema::create(&admin).await))
    }

    /// The SQLite file (in the temporary directory).
    pub fn sqlite_path(&self) -> std::path::PathBuf {
        match self {
            Self::Sqlite(dir) => dir.path().join("store.sqlite3"),
            Self::Postgres(_) => panic!("not a SQLite database"),
        }
    }

    /// Rows of `table`, read on a connection of its own (not through the store).
    pub async fn count_rows(&self, table: &str) -> i64 {
        match self {
            Self::Sqlite(_) => super::count_rows(&self.sqlite_path(), table).await,
            Self::Postgres(schema) => schema.count_rows(table).await,
        }
    }

    /// Runs `statement` on a connection of its own (not through the store), as someone
    /// editing the database by hand would.
    pub async fn execute(&self, statement: &str) {
        match self {
            Self::Sqlite(_) => {
                use sqlx::Connection;
                let options =
                    sqlx::sqlite::SqliteConnectOptions::new().filename(self.sqlite_path());
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .unwrap();
                sqlx::raw_sql(statement).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            Self::Postgres(schema) => schema.execute(statement).await,
        }
    }

    /// What the store's error messages name the database by: the file's name, or the
    /// PostgreSQL database's.
    pub fn name(&self) -> String {
        match self {
            Self::Sqlite(_) => "store.sqlite3".to_owned(),
            Self::Postgres(schema) => {
                let without_query = schema.url.split('?').next().unwrap_or_default();
                without_query
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            }
        }
    }

    /// Removes the PostgreSQL schema (the SQLite directory goes when dropped).
    pub async fn drop(self) {
        if let Self::Postgres(schema) = self {
            schema.drop().await;
        }
    }
}

/// A backend's store, opened on a [`TestDb`].
#[allow(async_fn_in_trait)]
pub trait TestStore: DsStore + Clone + Sized + 'static {
    /// A new store (its own pool) on `db`: SQLite's default pool of 4, PostgreSQL's of 3 (tests
    /// run in parallel within the server's default `max_connections` of 100).
    async fn open(db: &TestDb) -> Self;

    /// Closes the pool, waiting for calls in flight.
    async fn close(self);

    /// How its room writes were grouped into transactions so far.
    fn group_stats(&self) -> GroupStats;
}

impl TestStore for SqliteStore {
    async fn open(db: &TestDb) -> Self {
        SqliteStore::open_with(db.sqlite_path(), &SqliteConfig::default())
            .await
            .unwrap()
    }

    async fn close(self) {
        SqliteStore::close(self).await;
    }

    fn group_stats(&self) -> GroupStats {
        SqliteStore::group_stats(self)
    }
}

impl TestStore for PostgresStore {
    async fn open(db: &TestDb) -> Self {
        let TestDb::Postgres(schema) = db else {
            panic!("not a PostgreSQL schema");
        };
        let mut config = PostgresConfig::default();
        config.max_connections = 3;
        PostgresStore::connect(&schema.url, &config).await.unwrap()
    }

    async fn close(self) {
        PostgresStore::close(self).await;
    }

    fn group_stats(&self) -> GroupStats {
        PostgresStore::group_stats(self)
    }
}

/// For each named check (an `async fn check<S: TestStore>(db: &TestDb)` of the test file), a
/// test `sqlite::check` on a fresh file and a test `postgres::check` on a fresh schema, both
/// on a multi-threaded runtime.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($check:ident),+ $(,)?) => {
        /// Each check on a fresh SQLite file.
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    let db = $crate::common::TestDb::sqlite();
                    super::$check::<mimi_store::SqliteStore>(&db).await;
                }
            )+
        }

        /// Each check on a fresh PostgreSQL schema (skipped without `MIMI_TEST_DATABASE_URL`).
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    let Some(db) = $crate::common::TestDb::postgres(stringify!($check)).await
                    else {
                        return;
                    };
                    super::$check::<mimi_store::PostgresStore>(&db).await;
                    db.drop().await;
                }
            )+
        }
    };
}

pub(crate) use on_both_backends;
