//! Deterministic CBOR (RFC 8949 §4.2.1) as MIMI requires it (digest §5.4).
//!
//! [`decode`] is the one strict reader of this crate: every content and status-report decoder
//! goes through it, so the encoding rules live in one place (`read.rs`). [`encode`] writes the
//! deterministic form; `decode(encode(v)) == v` for every [`Value`].

mod error;
mod read;
mod value;
mod write;

pub use error::CborError;
pub use read::{MAX_DEPTH, decode};
pub use value::{Float, MAX_SAFE_INTEGER_KEY, MapKey, SimpleValue, Value};
pub use write::encode;

pub(crate) use write::Writer;
