//! Discovery: `identifierQuery` at the target provider (draft-ietf-mimi-protocol-06 §5.8,
//! digest §3.8), sans-IO.
//!
//! * [`Profile`]: what a user chose to be found by: a handle, a display name, and which of its
//!   fields ([`Searchable`]: handle, nick, name) a query may match and an answer may reveal.
//! * [`plan_query`] and [`answer_query`]: which stored profiles a request could match (one
//!   [`ProfileSearch`] the store runs) and, from those candidates, the answer: all elements
//!   must match, only searchable fields match, only searchable fields are revealed.
//! * [`QueryLimiter`]: how many queries each requester (a peer provider, or one of our own
//!   users) may make per window.
//!
//! Our readings where the draft is silent: a `handle` value is the handle URI
//! `im:<handle>@<domain>` or the bare handle; `nick` is the user part of the user's MIMI URI,
//! compared case-insensitively; `partialName` and `wholeProfile` need at least
//! [`MIN_SUBSTRING_CHARS`] characters (shorter ones answer `ambiguous`, so that nobody lists a
//! provider's users one letter at a time); more than [`MAX_ANSWERS`] users answer
//! `ambiguous`; e-mail, phone, OIDC claims and vCard properties are not kept (answered
//! `unsupportedField`). A revealed handle is the OIDC standard claim `preferred_username`, a
//! display name the claim `name`.

mod limiter;
mod profile;
mod query;

pub use limiter::{QueryLimiter, Requester};
pub use profile::{
    Handle, MAX_DISPLAY_NAME_CHARS, MAX_HANDLE_LEN, Profile, ProfileError, Searchable,
    SearchableField,
};
pub use query::{
    MAX_ANSWERS, MIN_SUBSTRING_CHARS, ProfileSearch, QueryPlan, answer_query, plan_query,
};
