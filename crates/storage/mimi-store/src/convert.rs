//! Between the trait's types and the columns: unsigned 64-bit numbers in BIGINT, URIs as text.
//!
//! SQL has no unsigned 64-bit integer, so every `u64` of the trait goes through one of two
//! mappings here, chosen by what the column is used for:
//!
//! * **counters** (versions, outbound ids, sequence numbers, cursors, clocks) are compared and
//!   ordered in SQL, so they keep their value; a value above `i64::MAX` either cannot exist in
//!   the database ([`counter`] returns `None` and the caller treats it as "matches nothing") or
//!   is clamped ([`clamp`], for the caller's clock and limits);
//! * **opaque values** that SQL never compares (`not_after`) are stored bit for bit
//!   ([`bits_to_db`], [`bits_from_db`]).

use std::str::FromStr;

use mimi_ds::StoreError;

/// A counter as the database stores it, or `None` if no stored counter can equal it.
pub(crate) fn counter(value: u64) -> Option<i64> {
    i64::try_from(value).ok()
}

/// A clock reading, limit or cursor as the database compares it: values past `i64::MAX` behave
/// like `i64::MAX`.
pub(crate) fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Same as [`clamp`] for a `usize` (page limits).
pub(crate) fn clamp_usize(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// An opaque `u64`, bit for bit.
pub(crate) fn bits_to_db(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

/// The inverse of [`bits_to_db`].
pub(crate) fn bits_from_db(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

/// A stored counter back as the trait's `u64`; a negative one means the database was edited
/// outside mimi-store.
pub(crate) fn counter_from_db(value: i64, what: &str, path: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| {
        StoreError::Backend(format!(
            "database {path} holds a negative {what} ({value}); it was changed outside \
             mimi-store: restore a backup"
        ))
    })
}

/// A stored URI or domain parsed back; a stored value that no longer parses means the database
/// was edited outside mimi-store (we only ever store canonical strings of parsed values).
pub(crate) fn parse_stored<T>(text: &str, what: &str, path: &str) -> Result<T, StoreError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|err: T::Err| {
        StoreError::Backend(format!(
            "database {path} holds an invalid {what} {text:?} ({err}); it was changed outside \
             mimi-store: restore a backup"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_values_round_trip_bit_for_bit() {
        for value in [
            0,
            1,
            4_000_000_000,
            i64::MAX as u64,
            i64::MAX as u64 + 1,
            u64::MAX,
        ] {
            assert_eq!(bits_from_db(bits_to_db(value)), value);
        }
    }

    #[test]
    fn counters_past_the_signed_range_match_nothing() {
        assert_eq!(counter(7), Some(7));
        assert_eq!(counter(i64::MAX as u64), Some(i64::MAX));
        assert_eq!(counter(i64::MAX as u64 + 1), None);
        assert_eq!(clamp(u64::MAX), i64::MAX);
        assert_eq!(clamp_usize(usize::MAX), i64::MAX);
    }

    #[test]
    fn negative_stored_counters_are_reported_with_the_path() {
        let err = counter_from_db(-1, "version", "/x/db").unwrap_err();
        assert!(err.to_string().contains("/x/db"), "{err}");
        assert!(err.to_string().contains("negative version"), "{err}");
    }
}
