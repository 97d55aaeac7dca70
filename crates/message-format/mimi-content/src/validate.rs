//! The rules of draft-ietf-mimi-content-08 on the data model (digest §5.3, §5.4, §7.1), checked
//! on every decode and encode. Encoding rules are in [`crate::cbor`].

use crate::cbor::{MAX_SAFE_INTEGER_KEY, MapKey, Value};
use crate::codepoints::{AeadAlgorithm, Disposition, extension_key};
use crate::error::ValidationError;
use crate::model::{ExternalPart, MimiContent, NestedPart, PartBody};
use crate::text::{cid_references, emoji_count};

/// NestedParts nest at most this many levels (the root part is level 1).
pub const MAX_PART_DEPTH: usize = 4;
/// Extensions nest at most this many levels of maps, arrays and tags (the map is level 1).
pub const MAX_EXTENSION_DEPTH: usize = 4;
/// Receivers treat more body parts than this as malicious (digest §5.4).
pub const MAX_PARTS: usize = 1024;
/// Receivers treat longer topic IDs as malicious (digest §5.3).
pub const MAX_TOPIC_ID_LEN: usize = 4096;
/// Text extension keys are 1..=255 octets.
pub const MAX_TEXT_KEY_LEN: usize = 255;
/// Expiries further than this from now (in seconds) are anomalies (digest §5.3).
pub const EXPIRY_WINDOW_SECS: u64 = 365 * 24 * 60 * 60;

impl MimiContent {
    /// Checks every rule of the draft that does not depend on time or on other messages.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.salt.0 == [0u8; 16] {
            return Err(ValidationError::SaltNotRandom);
        }
        if self.topic_id.len() > MAX_TOPIC_ID_LEN {
            return Err(ValidationError::TopicIdTooLong {
                len: self.topic_id.len(),
                limit: MAX_TOPIC_ID_LEN,
            });
        }
        validate_extensions(&self.extensions.0)?;
        validate_parts(&self.nested_part)
    }

    /// Checks the expiry against the time of receipt: an absolute expiry more than a year in
    /// the past, or any expiry more than a year in the future, is an anomaly to log and
    /// discard (digest §5.4). `now` is UNIX seconds.
    pub fn check_expiry(&self, now: u64) -> Result<(), ValidationError> {
        let Some(expiration) = self.expires else {
            return Ok(());
        };
        let time = u64::from(expiration.time);
        let expires = if expiration.relative {
            now.saturating_add(time)
        } else {
            time
        };
        if !expiration.relative && expires.saturating_add(EXPIRY_WINDOW_SECS) < now {
            return Err(ValidationError::ExpiryFarInPast { expires, now });
        }
        if expires > now.saturating_add(EXPIRY_WINDOW_SECS) {
            return Err(ValidationError::ExpiryFarInFuture { expires, now });
        }
        Ok(())
    }
}

fn key_name(key: &MapKey) -> String {
    match key {
        MapKey::Int(n) => n.to_string(),
        MapKey::Text(t) => format!("{t:?}"),
        MapKey::Bytes(b) => format!(
            "h'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

fn validate_extensions(
    map: &std::collections::BTreeMap<MapKey, Value>,
) -> Result<(), ValidationError> {
    for (key, value) in map {
        match key {
            MapKey::Int(extension_key::RESERVED) => {
                return Err(ValidationError::ExtensionKeyReserved);
            }
            MapKey::Int(n) if n.unsigned_abs() > MAX_SAFE_INTEGER_KEY as u64 => {
                return Err(ValidationError::MapKeyOutOfRange { key: *n });
            }
            MapKey::Int(n @ (extension_key::SENDER_URI | extension_key::ROOM_URI))
                if value.as_text().is_none() =>
            {
                return Err(ValidationError::ExtensionValueType {
                    key: *n,
                    expected: "a text string (a URI)",
                });
            }
            MapKey::Int(_) => {}
            MapKey::Text(t) if t.is_empty() || t.len() > MAX_TEXT_KEY_LEN => {
                return Err(ValidationError::ExtensionKeyTextLength { len: t.len() });
            }
            MapKey::Text(_) => {}
            MapKey::Bytes(_) => return Err(ValidationError::ExtensionKeyBytes),
        }
        let depth = 1 + value.container_depth();
        if depth > MAX_EXTENSION_DEPTH {
            return Err(ValidationError::ExtensionsTooDeep {
                key: key_name(key),
                depth,
                limit: MAX_EXTENSION_DEPTH,
            });
        }
        nested_keys_in_range(value)?;
    }
    Ok(())
}

/// Integer keys of maps inside extension values stay within ±(2^53−1).
fn nested_keys_in_range(value: &Value) -> Result<(), ValidationError> {
    match value {
        Value::Map(map) => {
            for (key, value) in map {
                if let MapKey::Int(n) = key
                    && n.unsigned_abs() > MAX_SAFE_INTEGER_KEY as u64
                {
                    return Err(ValidationError::MapKeyOutOfRange { key: *n });
                }
                nested_keys_in_range(value)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(nested_keys_in_range),
        Value::Tag(_, inner) => nested_keys_in_range(inner),
        _ => Ok(()),
    }
}

fn validate_parts(root: &NestedPart) -> Result<(), ValidationError> {
    let mut parts: Vec<(usize, &NestedPart)> = Vec::new();
    let mut deepest = 0;
    root.walk(&mut |_, level, part| {
        deepest = deepest.max(level);
        parts.push((level, part));
    });
    if deepest > MAX_PART_DEPTH {
        return Err(ValidationError::NestingTooDeep {
            depth: deepest,
            limit: MAX_PART_DEPTH,
        });
    }
    if parts.len() > MAX_PARTS {
        return Err(ValidationError::TooManyParts {
            count: parts.len(),
            limit: MAX_PARTS,
        });
    }
    for (index, (_, part)) in parts.iter().enumerate() {
        match &part.body {
            PartBody::Null => {}
            PartBody::Multi(multi) => {
                if multi.parts.len() < 2 {
                    return Err(ValidationError::TooFewParts {
                        part: index,
                        found: multi.parts.len(),
                    });
                }
            }
            PartBody::External(external) => validate_external(index, external)?,
            PartBody::Single(single) => {
                let content_type = single.content_type.to_ascii_lowercase();
                let utf8 = content_type.contains("charset=utf-8")
                    || content_type.starts_with("text/markdown");
                let text = std::str::from_utf8(&single.content).ok();
                if utf8 && text.is_none() {
                    return Err(ValidationError::TextNotUtf8 { part: index });
                }
                if part.disposition == Disposition::REACTION
                    && content_type.starts_with("text/")
                    && text.is_some_and(|t| emoji_count(t) > 1)
                {
                    return Err(ValidationError::ConcatenatedReactions { part: index });
                }
                if content_type.starts_with("text/") {
                    for target in cid_references(&single.content) {
                        match parts.get(target).map(|(_, p)| &p.body) {
                            None => {
                                return Err(ValidationError::CidTargetMissing {
                                    part: index,
                                    target,
                                });
                            }
                            Some(PartBody::Single(_) | PartBody::External(_)) => {}
                            Some(_) => {
                                return Err(ValidationError::CidTargetNotLeaf {
                                    part: index,
                                    target,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn validate_external(part: usize, external: &ExternalPart) -> Result<(), ValidationError> {
    if external.enc_alg == AeadAlgorithm::NONE {
        if !external.key.0.is_empty() || !external.nonce.is_empty() || !external.aad.is_empty() {
            return Err(ValidationError::UnencryptedPartHasKeyMaterial { part });
        }
    } else if let Some((key_len, nonce_len)) = external.enc_alg.key_and_nonce_len() {
        if external.key.0.len() != key_len {
            return Err(ValidationError::KeyLength {
                part,
                expected: key_len,
                found: external.key.0.len(),
            });
        }
        if external.nonce.len() != nonce_len {
            return Err(ValidationError::NonceLength {
                part,
                expected: nonce_len,
                found: external.nonce.len(),
            });
        }
    }
    if let Some(hash_len) = external.hash_alg.output_len()
        && external.content_hash.len() != hash_len
    {
        return Err(ValidationError::ContentHashLength {
            part,
            expected: hash_len,
            found: external.content_hash.len(),
        });
    }
    Ok(())
}
