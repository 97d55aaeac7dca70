//! Discovery profiles in SQL (schema 4, table `profiles`): the statements both backends run and
//! the turning of rows into [`Profile`]s. A search is one statement per
//! [`ProfileSearch`] kind, written to select exactly what [`ProfileSearch::matches`] accepts:
//! the searchable bit is checked in SQL, and substrings are `LIKE` patterns over lowercased
//! columns with `%`, `_` and `\` escaped.

use mimi_ds::StoreError;
use mimi_ds::discovery::{Handle, Profile, ProfileSearch, Searchable};
use mimi_types::UserUri;

use crate::convert::parse_stored;

/// `$1` handle, `$2` user → (user,) of another user holding the handle.
pub(crate) const HANDLE_HOLDER: &str =
    "SELECT \"user\" FROM profiles WHERE handle = $1 AND \"user\" <> $2";

/// `$1` user, `$2` nick, `$3` handle, `$4` display name, `$5` folded name, `$6` searchable.
pub(crate) const UPSERT: &str = "INSERT INTO profiles \
     (\"user\", nick, handle, display_name, name_folded, searchable) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (\"user\") DO UPDATE SET \
     nick = excluded.nick, handle = excluded.handle, display_name = excluded.display_name, \
     name_folded = excluded.name_folded, searchable = excluded.searchable";

const COLUMNS: &str = "SELECT \"user\", handle, display_name, searchable FROM profiles WHERE ";

/// `$1` user → a [`ProfileRow`].
pub(crate) const SELECT: &str =
    "SELECT \"user\", handle, display_name, searchable FROM profiles WHERE \"user\" = $1";

/// A profile row: (user, handle, display name, searchable).
pub(crate) type ProfileRow = (String, Option<String>, Option<String>, i64);

/// The statement for `search` (`$1` its value or pattern, `$2` the limit) and the value to bind.
pub(crate) fn search(search: &ProfileSearch) -> (String, String) {
    let (condition, value) = match search {
        ProfileSearch::Handle(handle) => (
            "handle = $1 AND (searchable & 1) <> 0",
            handle.as_str().to_owned(),
        ),
        ProfileSearch::Nick(nick) => ("nick = $1 AND (searchable & 2) <> 0", nick.clone()),
        ProfileSearch::NameContains(part) => (
            "(searchable & 4) <> 0 AND name_folded LIKE $1 ESCAPE '\\'",
            pattern(part),
        ),
        ProfileSearch::AnyContains(part) => (
            "((searchable & 1) <> 0 AND handle LIKE $1 ESCAPE '\\') \
             OR ((searchable & 2) <> 0 AND nick LIKE $1 ESCAPE '\\') \
             OR ((searchable & 4) <> 0 AND name_folded LIKE $1 ESCAPE '\\')",
            pattern(part),
        ),
        // A search kind this backend does not know finds nothing.
        _ => ("1 = 0 AND $1 = $1", String::new()),
    };
    (
        format!("{COLUMNS}{condition} ORDER BY \"user\" LIMIT $2"),
        value,
    )
}

/// `%part%` with `LIKE`'s special characters escaped.
fn pattern(part: &str) -> String {
    let mut out = String::with_capacity(part.len() + 2);
    out.push('%');
    for c in part.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The values [`UPSERT`] binds after the user: nick, handle, display name, folded name,
/// searchable.
pub(crate) fn columns(
    profile: &Profile,
) -> (String, Option<String>, Option<String>, Option<String>, i64) {
    (
        profile.nick(),
        profile.handle.as_ref().map(|h| h.as_str().to_owned()),
        profile.display_name.clone(),
        profile.folded_name(),
        i64::from(profile.searchable.bits()),
    )
}

/// A row back as a [`Profile`]; anything that no longer checks means the database was edited
/// outside mimi-store.
pub(crate) fn profile(row: ProfileRow, shown: &str) -> Result<Profile, StoreError> {
    let (user, handle, display_name, searchable) = row;
    let edited = |what: String| {
        StoreError::Backend(format!(
            "database {shown} holds an invalid profile of {user} ({what}); it was changed \
             outside mimi-store: restore a backup"
        ))
    };
    let user_uri: UserUri = parse_stored(&user, "profile user", shown)?;
    let handle = handle
        .map(|h| Handle::parse(&h))
        .transpose()
        .map_err(|e| edited(e.to_string()))?;
    let bits = u8::try_from(searchable).map_err(|_| edited(format!("searchable {searchable}")))?;
    let searchable = Searchable::from_bits(bits).map_err(|e| edited(e.to_string()))?;
    Profile::new(user_uri, handle, display_name, searchable).map_err(|e| edited(e.to_string()))
}

/// Whether `err` is a unique-constraint violation (another user took the handle between our
/// check and our write).
pub(crate) fn is_taken(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(sqlx::error::DatabaseError::is_unique_violation)
}

#[cfg(test)]
mod tests {
    use super::pattern;

    #[test]
    fn like_patterns_escape_their_special_characters() {
        assert_eq!(pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
