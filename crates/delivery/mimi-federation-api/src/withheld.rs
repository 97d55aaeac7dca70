//! Our extension to `notify` (reading D32 in [`crate::defects`]): the member devices of the
//! follower that the body's application messages are withheld from.
//!
//! room-policy §3's `canReceiveMessage` decides per user, but fan-out goes to a provider, not a
//! device (digest §3.5), and a follower never holds the room state in the clear. So the hub
//! names, in the [`WITHHELD_HEADER`] of a `notify` request, the follower's member devices whose
//! users may not receive the body's application messages at the point of hub order where they
//! were accepted; the follower hands those messages to its other member devices only. Commits,
//! proposals and Welcomes in the same body go to every device as usual. The header is sent only
//! when the list is not empty, and only on a body whose application messages share the list
//! (the hub does not batch messages with different lists together). An implementation that does
//! not know the header ignores it, as HTTP lets it: its users then get what the provider gets.
//!
//! The value is the devices' URIs separated by commas (a URI never holds one), at most
//! [`MAX_WITHHELD`] of them, no repeats.

use std::collections::BTreeSet;

use mimi_types::ClientUri;

/// The request header naming the withheld devices (lower case, as HTTP/2 sends it).
pub const WITHHELD_HEADER: &str = "mimi-withheld-devices";

/// How many devices one header may name. A hub with more devices to withhold at one follower
/// sends that follower no application message at all (safe side: its users who may receive miss
/// them rather than the others getting them).
pub const MAX_WITHHELD: usize = 1024;

/// Why a [`WITHHELD_HEADER`] value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WithheldError {
    /// The header is present but names nothing.
    #[error("the {WITHHELD_HEADER} header names no device; leave it out instead")]
    Empty,
    /// Too many devices.
    #[error("the {WITHHELD_HEADER} header names {count} devices, more than {MAX_WITHHELD}")]
    TooMany {
        /// How many it names.
        count: usize,
    },
    /// An entry is not a client URI.
    #[error("the {WITHHELD_HEADER} header entry {entry:?} is not a device URI: {reason}")]
    NotADevice {
        /// The entry.
        entry: String,
        /// Why.
        reason: String,
    },
    /// A device is named twice.
    #[error("the {WITHHELD_HEADER} header names {0} twice")]
    Repeated(String),
}

/// The header value for `devices`, or `None` when there is nothing to withhold (no header).
pub fn format_withheld<'a>(devices: impl IntoIterator<Item = &'a ClientUri>) -> Option<String> {
    let value = devices
        .into_iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    (!value.is_empty()).then_some(value)
}

/// Reads a header value: every entry must be a device URI, named once.
pub fn parse_withheld(value: &str) -> Result<BTreeSet<ClientUri>, WithheldError> {
    if value.trim().is_empty() {
        return Err(WithheldError::Empty);
    }
    let entries: Vec<&str> = value.split(',').map(str::trim).collect();
    if entries.len() > MAX_WITHHELD {
        return Err(WithheldError::TooMany {
            count: entries.len(),
        });
    }
    let mut devices = BTreeSet::new();
    for entry in entries {
        let device = ClientUri::parse(entry).map_err(|e| WithheldError::NotADevice {
            entry: entry.chars().take(200).collect(),
            reason: e.to_string(),
        })?;
        if !devices.insert(device) {
            return Err(WithheldError::Repeated(entry.to_owned()));
        }
    }
    Ok(devices)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn device(s: &str) -> ClientUri {
        ClientUri::parse(s).unwrap()
    }

    #[test]
    fn a_list_round_trips_and_nothing_is_no_header() {
        let devices = [
            device("mimi://b.example/d/carol/phone"),
            device("mimi://b.example/d/carol/laptop"),
        ];
        let value = format_withheld(&devices).unwrap();
        assert_eq!(parse_withheld(&value).unwrap(), devices.into());
        assert_eq!(format_withheld(&[]), None);
    }

    #[test]
    fn malformed_values_are_refused() {
        assert_eq!(parse_withheld(" "), Err(WithheldError::Empty));
        assert!(matches!(
            parse_withheld("mimi://b.example/u/carol"),
            Err(WithheldError::NotADevice { .. })
        ));
        assert!(matches!(
            parse_withheld("mimi://b.example/d/carol/a,"),
            Err(WithheldError::NotADevice { .. })
        ));
        let twice = "mimi://b.example/d/carol/a,mimi://b.example/d/carol/a";
        assert!(matches!(
            parse_withheld(twice),
            Err(WithheldError::Repeated(_))
        ));
        let many = vec!["mimi://b.example/d/carol/a"; MAX_WITHHELD + 1].join(",");
        assert!(matches!(
            parse_withheld(&many),
            Err(WithheldError::TooMany { .. })
        ));
    }
}
