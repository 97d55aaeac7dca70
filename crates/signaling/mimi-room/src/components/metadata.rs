//! Room metadata, component 0x0023 (protocol-06 §7.6; digest §4.3), and the `Uri` structure
//! the policy components share.

use std::io::{Read, Write};

use mimi_types::codepoints::ComponentId;
use tls_codec::{Deserialize, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize};

use super::tls_component;
use crate::codec::{DecodeError, utf8};

/// `struct { opaque uri<V>; } Uri;`: a URI (or empty, where the field is optional in practice).
///
/// Decoding accepts the empty string or text with an RFC 3986 scheme and no whitespace or
/// control characters; it does not interpret the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uri(String);

impl Uri {
    /// Wraps `text` if it is empty or looks like an absolute URI.
    pub fn new(text: impl Into<String>) -> Result<Self, DecodeError> {
        let text = text.into();
        check_uri(&text).map_err(|reason| DecodeError::invalid("Uri", reason))?;
        Ok(Self(text))
    }

    /// The empty URI (field not set).
    pub fn empty() -> Self {
        Self(String::new())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the URI is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn check_uri(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{text:?} contains whitespace or control characters"
        ));
    }
    let scheme = text.split(':').next().unwrap_or_default();
    let valid_scheme = text.contains(':')
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return Err(format!("{text:?} has no URI scheme"));
    }
    Ok(())
}

impl std::fmt::Display for Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Size for Uri {
    fn tls_serialized_len(&self) -> usize {
        utf8::tls_serialized_len(&self.0)
    }
}

impl Serialize for Uri {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        utf8::tls_serialize(&self.0, writer)
    }
}

impl Deserialize for Uri {
    fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
        let text = utf8::tls_deserialize(bytes)?;
        check_uri(&text).map_err(tls_codec::Error::DecodingError)?;
        Ok(Self(text))
    }
}

/// `RichDescription`: one description of the room in one language and media type.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct RichDescription {
    /// Media type of the content; empty means `text/plain;charset=utf-8`.
    #[tls_codec(with = "utf8")]
    pub media_type: String,
    /// BCP 47 language tag (may be empty).
    #[tls_codec(with = "utf8")]
    pub language_tag: String,
    /// The description in that media type.
    pub description_content: Vec<u8>,
}

/// `RoomMetaData`: whole-object replacement on every update.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct RoomMetadata {
    /// The room's URI (a MIMI room URI); cannot change after creation.
    pub room_uri: Uri,
    /// Display name (`UTF8String`).
    #[tls_codec(with = "utf8")]
    pub room_name: String,
    /// Descriptions.
    pub room_descriptions: Vec<RichDescription>,
    /// An https URI resolving to an avatar image, or empty.
    pub room_avatar: Uri,
    /// Subject (`UTF8String`).
    #[tls_codec(with = "utf8")]
    pub room_subject: String,
    /// Mood (`UTF8String`).
    #[tls_codec(with = "utf8")]
    pub room_mood: String,
}

tls_component!(RoomMetadata, "RoomMetaData", ComponentId::ROOM_METADATA);

impl RoomMetadata {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        if !self.room_uri.is_empty() && mimi_types::RoomUri::parse(self.room_uri.as_str()).is_err()
        {
            return Err(DecodeError::invalid(
                "RoomMetaData",
                format!("room_uri {} is not a MIMI room URI", self.room_uri),
            ));
        }
        Ok(())
    }
}
