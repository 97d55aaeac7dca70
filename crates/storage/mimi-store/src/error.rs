//! What can go wrong, with messages that say what to do.
//!
//! Opening a store has its own error ([`OpenError`], one variant per cause, so callers and tests
//! can tell a foreign file from a locked one). Failures of the trait's calls become
//! [`StoreError::Backend`] through [`backend`], whose message names the database file.

use std::path::PathBuf;
use std::time::Duration;

use mimi_ds::StoreError;
use sqlx::migrate::MigrateError;

/// Why a SQLite store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The directory for the database could not be created.
    #[error(
        "cannot create the directory {path} for the store ({detail}); check the path and permissions"
    )]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The operating system's reason.
        detail: String,
    },
    /// The file exists but is not a SQLite database, or it is damaged.
    #[error(
        "{path} is not a SQLite database or is damaged ({detail}); point the store at a new \
         file or restore a backup"
    )]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// SQLite's reason.
        detail: String,
    },
    /// The file is a SQLite database of some other program (it has tables but no migration
    /// history of ours). We refuse rather than add our tables to it.
    #[error(
        "{path} is a SQLite database of another program (tables: {}); point the store at its \
         own file",
        tables.join(", ")
    )]
    ForeignDatabase {
        /// The file.
        path: PathBuf,
        /// The tables found in it.
        tables: Vec<String>,
    },
    /// The database was migrated by a newer mimi-store (a migration we do not know is applied).
    #[error(
        "{path} was migrated by a newer mimi-store (schema migration {version} is unknown to \
         this build); run the newer version or restore a backup"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The unknown migration.
        version: i64,
    },
    /// An applied migration differs from ours (edited schema, or another program's history).
    #[error(
        "{path} has schema migration {version} applied with different contents than this \
         build's; the file belongs to another program or was edited: restore a backup"
    )]
    ChangedSchema {
        /// The file.
        path: PathBuf,
        /// The migration that differs.
        version: i64,
    },
    /// A migration failed half-way in an earlier run.
    #[error(
        "{path} has schema migration {version} marked as failed half-way; restore a backup \
         taken before the upgrade"
    )]
    DirtySchema {
        /// The file.
        path: PathBuf,
        /// The migration.
        version: i64,
    },
    /// Another process holds the database locked for longer than the busy timeout.
    #[error(
        "database {path} is locked by another process or connection (waited {waited:?}): \
         {detail}; retry, or stop the process holding it"
    )]
    Locked {
        /// The file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
        /// SQLite's message.
        detail: String,
    },
    /// The file cannot be switched to write-ahead logging (some network file systems).
    #[error(
        "{path} cannot use write-ahead logging (journal mode stays {mode:?}); put the database \
         on a local file system"
    )]
    NoWal {
        /// The file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// Any other failure of SQLite or the connection pool.
    #[error("cannot open the store {path}: {detail}")]
    Backend {
        /// The file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
}

impl From<OpenError> for StoreError {
    fn from(err: OpenError) -> Self {
        StoreError::Backend(err.to_string())
    }
}

/// SQLite primary result codes we give advice for (<https://sqlite.org/rescode.html>).
mod code {
    pub(super) const PERM: i64 = 3;
    pub(super) const BUSY: i64 = 5;
    pub(super) const LOCKED: i64 = 6;
    pub(super) const READONLY: i64 = 8;
    pub(super) const IOERR: i64 = 10;
    pub(super) const CORRUPT: i64 = 11;
    pub(super) const FULL: i64 = 13;
    pub(super) const CANTOPEN: i64 = 14;
    pub(super) const NOTADB: i64 = 26;
}

/// SQLite's primary result code of a database error (the low byte of the extended code).
fn primary_code(err: &sqlx::Error) -> Option<i64> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    db.code()
        .and_then(|c| c.parse::<i64>().ok())
        .map(|c| c & 0xff)
}

/// What an open-time failure means.
pub(crate) fn open_error(err: sqlx::Error, path: &std::path::Path, waited: Duration) -> OpenError {
    let path = path.to_path_buf();
    match primary_code(&err) {
        Some(code::NOTADB | code::CORRUPT) => OpenError::NotADatabase {
            path,
            detail: err.to_string(),
        },
        Some(code::BUSY | code::LOCKED) => OpenError::Locked {
            path,
            waited,
            detail: err.to_string(),
        },
        _ => OpenError::Backend {
            detail: advice(&err, &path.display().to_string(), waited),
            path,
        },
    }
}

/// What a migration failure means.
pub(crate) fn migrate_error(
    err: MigrateError,
    path: &std::path::Path,
    waited: Duration,
) -> OpenError {
    let path = path.to_path_buf();
    match err {
        MigrateError::VersionMissing(version) => OpenError::NewerSchema { path, version },
        MigrateError::VersionMismatch(version) => OpenError::ChangedSchema { path, version },
        MigrateError::Dirty(version) => OpenError::DirtySchema { path, version },
        MigrateError::Execute(err) => open_error(err, &path, waited),
        other => OpenError::Backend {
            path,
            detail: format!("schema migration failed: {other}"),
        },
    }
}

/// A failure of a trait call, as [`StoreError::Backend`].
pub(crate) fn backend(err: sqlx::Error, path: &str, waited: Duration) -> StoreError {
    StoreError::Backend(advice(&err, path, waited))
}

fn advice(err: &sqlx::Error, path: &str, waited: Duration) -> String {
    match (primary_code(err), err) {
        (Some(code::BUSY | code::LOCKED), _) => format!(
            "database is locked by another process or connection: {path} (waited {waited:?}): \
             {err}; retry, or find the process holding it"
        ),
        (Some(code::FULL), _) => {
            format!("disk full writing {path}: {err}; free space, then retry")
        }
        (Some(code::READONLY | code::PERM), _) => format!(
            "database {path} is read-only: {err}; check the permissions of the file and its \
             directory (SQLite writes -wal and -shm files next to it)"
        ),
        (Some(code::CANTOPEN), _) => format!(
            "cannot open database file {path}: {err}; check that the directory exists and is \
             writable"
        ),
        (Some(code::IOERR), _) => {
            format!("I/O error on {path}: {err}; check the disk and the kernel log")
        }
        (Some(code::CORRUPT | code::NOTADB), _) => {
            format!("database {path} is damaged: {err}; restore a backup")
        }
        (_, sqlx::Error::PoolTimedOut) => format!(
            "no connection to {path} became free in time: the store is overloaded or a \
             connection is stuck; retry, or raise max_connections"
        ),
        (_, sqlx::Error::PoolClosed) => {
            format!("the store {path} was closed; open it again")
        }
        _ => format!("database {path}: {err}"),
    }
}
