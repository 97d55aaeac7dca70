//! Discovery: a user's profile (what others may find it by) and finding users at one's own
//! provider or, relayed by it over `identifierQuery`, at another.
//!
//! * `GET /v1/profile` → [`ProfileView`]; `PUT /v1/profile` ([`SetProfile`]) → [`ProfileView`].
//!   A handle is 1–64 of `a-z 0-9 . _ -` (lowercased), unique at the provider (409
//!   `already_exists` when taken); a display name 1–128 characters. `searchable` lists the
//!   fields a search may match and an answer may reveal (`handle`, `nick`: the user part of
//!   the MIMI URI, `name`: the display name); none by default, so nobody finds a user who did
//!   not choose to be found.
//! * `POST /v1/users/find` ([`FindUsers`]) → [`UsersFound`]: asks `provider` (default: this
//!   one). An unknown identifier is not an error: `code` is `notFound`. Rate-limited per user
//!   (429 `rate_limited`); the other provider limits per provider.

use serde::{Deserialize, Serialize};

/// `PUT /v1/profile`: fields left out stay as they are; an empty string clears the handle or
/// the display name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetProfile {
    /// The handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The searchable fields (`handle`, `nick`, `name`); the list replaces the previous one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searchable: Option<Vec<String>>,
}

/// A user's own profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    /// The user's MIMI URI.
    pub user: String,
    /// The handle.
    pub handle: Option<String>,
    /// The display name.
    pub display_name: Option<String>,
    /// The searchable fields.
    pub searchable: Vec<String>,
}

/// `POST /v1/users/find`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindUsers {
    /// What `value` is: `handle` (exact; `im:<handle>@<domain>` or the bare handle), `nick`
    /// (the user part of the URI, exact), `name` (part of the display name), `any` (part of
    /// any searchable field).
    pub by: String,
    /// What to look for.
    pub value: String,
    /// The provider to ask (a domain); this one when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// One user found, with only what it made searchable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundUser {
    /// The user's MIMI URI.
    pub user: String,
    /// The handle, if searchable.
    pub handle: Option<String>,
    /// The display name, if searchable.
    pub display_name: Option<String>,
}

/// The answer to [`FindUsers`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersFound {
    /// The provider asked.
    pub provider: String,
    /// The draft's `IdentifierQueryCode`: `success`, `notFound`, `ambiguous`, `forbidden`,
    /// `unsupportedField`.
    pub code: String,
    /// The users found (empty unless `success`).
    pub users: Vec<FoundUser>,
}
