//! Storage backends of the MIMI delivery service.
//!
//! For now one backend: [`SqliteStore`], the embedded default, implementing
//! [`mimi_ds::DsStore`]. PostgreSQL, for several server processes sharing one database, comes
//! next and will sit beside it with the same schema and the same statements where SQL allows.
//!
//! TODO-DOC
#![forbid(unsafe_code)]

mod convert;
mod error;
mod sqlite;

pub use error::OpenError;
pub use sqlite::{FILE_NAME, SqliteConfig, SqliteStore};
