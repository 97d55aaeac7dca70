//! What can go wrong with PostgreSQL, with messages that say what to do.
//!
//! Connecting has its own error ([`ConnectError`], one variant per cause). Failures of the
//! trait's calls become [`StoreError::Backend`] through [`backend`]. Messages name the server
//! as `postgres://user@host:port/database`, never with the password.

use std::time::Duration;

use mimi_ds::StoreError;
use sqlx::migrate::MigrateError;

/// Where to set the URL, for messages.
const WHERE_TO_SET: &str = "set database.url (tests: MIMI_TEST_DATABASE_URL)";

/// Why a PostgreSQL store could not be connected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL does not parse (it is not shown: it may hold a password).
    #[error(
        "the PostgreSQL URL is invalid ({detail}); expected postgres://user@host:port/database; \
         {WHERE_TO_SET}"
    )]
    InvalidUrl {
        /// Why.
        detail: String,
    },
    /// No connection could be made at all (refused, unknown host, timed out).
    #[error("cannot reach PostgreSQL at {server} ({detail}): is it running? {WHERE_TO_SET}")]
    Unreachable {
        /// The server.
        server: String,
        /// The operating system's or driver's reason.
        detail: String,
    },
    /// The server answered but refused us: authentication, a missing database, no connection
    /// slots left.
    #[error("PostgreSQL at {server} refused the connection: {detail}; {advice}")]
    Refused {
        /// The server.
        server: String,
        /// The server's message.
        detail: String,
        /// What to do.
        advice: &'static str,
    },
    /// The URL asks for TLS, which this build does not include.
    #[error(
        "the URL for {server} requires TLS, which this build of mimi-store does not include; \
         run PostgreSQL on the same host or a private network and use sslmode=disable or prefer"
    )]
    TlsUnavailable {
        /// The server.
        server: String,
    },
    /// The database holds tables of another program (and no migration history of ours).
    #[error(
        "the database {server} holds tables of another program ({}); give mimi its own \
         database (CREATE DATABASE mimi) or schema",
        tables.join(", ")
    )]
    ForeignDatabase {
        /// The server.
        server: String,
        /// The tables found in the current schema.
        tables: Vec<String>,
    },
    /// A newer mimi-store migrated the database.
    #[error(
        "the database {server} was migrated by a newer mimi-store (schema migration {version} \
         is unknown to this build); run the newer version or restore a backup"
    )]
    NewerSchema {
        /// The server.
        server: String,
        /// The unknown migration.
        version: i64,
    },
    /// An applied migration differs from ours.
    #[error(
        "the database {server} has schema migration {version} applied with different contents \
         than this build's; it belongs to another program or was edited: restore a backup"
    )]
    ChangedSchema {
        /// The server.
        server: String,
        /// The migration that differs.
        version: i64,
    },
    /// A migration failed half-way in an earlier run.
    #[error(
        "the database {server} has schema migration {version} marked as failed half-way; \
         restore a backup taken before the upgrade"
    )]
    DirtySchema {
        /// The server.
        server: String,
        /// The migration.
        version: i64,
    },
    /// Any other failure while connecting or migrating.
    #[error("cannot open the store {server}: {detail}")]
    Backend {
        /// The server.
        server: String,
        /// What failed.
        detail: String,
    },
}

impl From<ConnectError> for StoreError {
    fn from(err: ConnectError) -> Self {
        StoreError::Backend(err.to_string())
    }
}

/// SQLSTATE codes we give advice for (PostgreSQL manual, appendix A).
mod state {
    pub(super) const INVALID_AUTHORIZATION: &str = "28000";
    pub(super) const INVALID_PASSWORD: &str = "28P01";
    pub(super) const INVALID_CATALOG_NAME: &str = "3D000";
    pub(super) const TOO_MANY_CONNECTIONS: &str = "53300";
    pub(super) const CANNOT_CONNECT_NOW: &str = "57P03";
    pub(super) const SERIALIZATION_FAILURE: &str = "40001";
    pub(super) const DEADLOCK_DETECTED: &str = "40P01";
    pub(super) const DISK_FULL: &str = "53100";
    pub(super) const READ_ONLY_TRANSACTION: &str = "25006";
    pub(super) const ADMIN_SHUTDOWN: &str = "57P01";
    pub(super) const UNDEFINED_TABLE: &str = "42P01";
    pub(super) const INSUFFICIENT_PRIVILEGE: &str = "42501";
}

fn sqlstate(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// What a failure to connect means.
pub(crate) fn connect_error(err: sqlx::Error, server: &str) -> ConnectError {
    let server = server.to_owned();
    let refused = |advice| ConnectError::Refused {
        server: server.clone(),
        detail: err.to_string(),
        advice,
    };
    match sqlstate(&err).as_deref() {
        Some(state::INVALID_AUTHORIZATION | state::INVALID_PASSWORD) => {
            return refused("check the user and password in the URL and the server's pg_hba.conf");
        }
        Some(state::INVALID_CATALOG_NAME) => {
            return refused(
                "create the database first (createdb, or CREATE DATABASE) or fix its name in \
                 the URL",
            );
        }
        Some(state::TOO_MANY_CONNECTIONS) => {
            return refused(
                "no connection slots are left: lower max_connections of the mimi servers or \
                 raise the server's",
            );
        }
        Some(state::CANNOT_CONNECT_NOW) => {
            return refused("the server is starting up or shutting down; retry in a moment");
        }
        _ => {}
    }
    match err {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => ConnectError::Unreachable {
            server,
            detail: err.to_string(),
        },
        sqlx::Error::Tls(_) => ConnectError::TlsUnavailable { server },
        sqlx::Error::Configuration(_) => ConnectError::InvalidUrl {
            detail: err.to_string(),
        },
        _ => ConnectError::Backend {
            server,
            detail: err.to_string(),
        },
    }
}

/// What a migration failure means.
pub(crate) fn migrate_error(err: MigrateError, server: &str) -> ConnectError {
    let server = server.to_owned();
    match err {
        MigrateError::VersionMissing(version) => ConnectError::NewerSchema { server, version },
        MigrateError::VersionMismatch(version) => ConnectError::ChangedSchema { server, version },
        MigrateError::Dirty(version) => ConnectError::DirtySchema { server, version },
        MigrateError::Execute(err) => connect_error(err, &server),
        other => ConnectError::Backend {
            server,
            detail: format!("schema migration failed: {other}"),
        },
    }
}

/// A failure of a trait call, as [`StoreError::Backend`].
pub(crate) fn backend(err: sqlx::Error, server: &str, acquire_timeout: Duration) -> StoreError {
    StoreError::Backend(advice(&err, server, acquire_timeout))
}

fn advice(err: &sqlx::Error, server: &str, acquire_timeout: Duration) -> String {
    match (sqlstate(err).as_deref(), err) {
        (Some(state::SERIALIZATION_FAILURE | state::DEADLOCK_DETECTED), _) => format!(
            "PostgreSQL at {server} aborted the call's transaction to break a conflict with \
             another one ({err}); nothing was written: retry"
        ),
        (Some(state::DISK_FULL), _) => {
            format!("PostgreSQL at {server} is out of disk space ({err}); free space, then retry")
        }
        (Some(state::READ_ONLY_TRANSACTION), _) => format!(
            "PostgreSQL at {server} is read-only ({err}): the URL names a standby; point \
             database.url at the primary"
        ),
        (Some(state::ADMIN_SHUTDOWN | state::CANNOT_CONNECT_NOW), _) => format!(
            "PostgreSQL at {server} is shutting down or restarting ({err}); retry once it is up"
        ),
        (Some(state::UNDEFINED_TABLE), _) => format!(
            "the database {server} lacks mimi's tables ({err}): it was reset or dropped while \
             in use; restart the server to recreate the schema, or restore a backup"
        ),
        (Some(state::INSUFFICIENT_PRIVILEGE), _) => format!(
            "the user in the URL may not use mimi's tables on {server} ({err}); grant it \
             access or connect as the owner"
        ),
        (Some(state::TOO_MANY_CONNECTIONS), _) => format!(
            "PostgreSQL at {server} has no connection slots left ({err}); lower max_connections \
             of the mimi servers or raise the server's"
        ),
        (_, sqlx::Error::Io(_)) => format!(
            "lost the connection to PostgreSQL at {server} ({err}): is it running? retry once \
             it is reachable"
        ),
        (_, sqlx::Error::PoolTimedOut) => format!(
            "no connection to PostgreSQL at {server} within {acquire_timeout:?}: the server is \
             unreachable or every pooled connection is busy; check that it is running, or \
             raise max_connections"
        ),
        (_, sqlx::Error::PoolClosed) => format!("the store {server} was closed; connect again"),
        _ => format!("PostgreSQL at {server}: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_server_says_what_to_set() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let err = connect_error(sqlx::Error::Io(io), "postgres://u@127.0.0.1:1/db");
        assert!(matches!(err, ConnectError::Unreachable { .. }));
        let text = err.to_string();
        assert!(text.contains("cannot reach PostgreSQL at postgres://u@127.0.0.1:1/db"));
        assert!(text.contains("is it running?"));
        assert!(text.contains("MIMI_TEST_DATABASE_URL"));
    }

    #[test]
    fn call_failures_name_the_server_and_the_remedy() {
        let timeout = Duration::from_secs(3);
        let text = advice(
            &sqlx::Error::PoolTimedOut,
            "postgres://u@h:5432/db",
            timeout,
        );
        assert!(text.contains("postgres://u@h:5432/db"), "{text}");
        assert!(text.contains("3s"), "{text}");
        let text = advice(&sqlx::Error::PoolClosed, "postgres://u@h:5432/db", timeout);
        assert!(text.contains("connect again"), "{text}");
    }

    #[test]
    fn migration_failures_have_their_own_variants() {
        let server = "postgres://u@h:5432/db";
        assert!(matches!(
            migrate_error(MigrateError::VersionMissing(9), server),
            ConnectError::NewerSchema { version: 9, .. }
        ));
        assert!(matches!(
            migrate_error(MigrateError::VersionMismatch(1), server),
            ConnectError::ChangedSchema { version: 1, .. }
        ));
        assert!(matches!(
            migrate_error(MigrateError::Dirty(1), server),
            ConnectError::DirtySchema { version: 1, .. }
        ));
    }
}
