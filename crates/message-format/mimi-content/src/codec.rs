//! MIMI content to and from deterministic CBOR (digest §5.1): the CDDL's arrays, field by field.
//! Encoding rules are in [`crate::cbor`]; this file only maps shapes.

use crate::cbor::{self, Value, Writer};
use crate::codepoints::{AeadAlgorithm, Disposition, HashAlgorithm};
use crate::error::{DecodeError, ShapeError, ValidationError};
use crate::message_id::MessageId;
use crate::model::{
    AttachmentKey, Expiration, Extensions, ExternalPart, MimiContent, MultiPart, NestedPart,
    PartBody, PartSemantics, Salt, SinglePart,
};

impl MimiContent {
    /// Decodes and validates received content. The bytes must be deterministic CBOR with
    /// nothing after the item.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value = cbor::decode(bytes)?;
        let content = Self::from_value(value)?;
        content.validate()?;
        Ok(content)
    }

    /// Validates and encodes the content (deterministic CBOR).
    pub fn encode(&self) -> Result<Vec<u8>, ValidationError> {
        self.validate()?;
        Ok(self.encode_unchecked())
    }

    /// Encodes without validating (for tests of receivers and for re-encoding decoded content).
    pub fn encode_unchecked(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.array(7);
        w.bytes(&self.salt.0);
        write_optional_id(&mut w, self.replaces.as_ref());
        w.bytes(&self.topic_id);
        match &self.expires {
            None => w.null(),
            Some(expiration) => {
                w.array(2);
                w.bool(expiration.relative);
                w.unsigned(u64::from(expiration.time));
            }
        }
        write_optional_id(&mut w, self.in_reply_to.as_ref());
        w.map(self.extensions.0.iter());
        write_part(&mut w, &self.nested_part);
        w.finish()
    }

    /// Maps a decoded CBOR item to content, checking only the CDDL shape.
    pub fn from_value(value: Value) -> Result<Self, ShapeError> {
        let [
            salt,
            replaces,
            topic_id,
            expires,
            in_reply_to,
            extensions,
            nested_part,
        ] = fixed_array::<7>(value, "mimiContent")?;
        let salt = bytes(salt, "salt")?;
        let salt = Salt(
            salt.as_slice()
                .try_into()
                .map_err(|_| ShapeError::SaltLength { found: salt.len() })?,
        );
        let expires = match expires {
            Value::Null => None,
            value => {
                let [relative, time] = fixed_array::<2>(value, "expires")?;
                let Value::Bool(relative) = relative else {
                    return Err(ShapeError::WrongType {
                        field: "expires.relative",
                        expected: "a boolean",
                    });
                };
                let time = uint(time, "expires.time", u32::MAX.into())? as u32;
                Some(Expiration { relative, time })
            }
        };
        let Value::Map(extensions) = extensions else {
            return Err(ShapeError::WrongType {
                field: "mimiExtensions",
                expected: "a map",
            });
        };
        Ok(MimiContent {
            salt,
            replaces: optional_id(replaces, "replaces")?,
            topic_id: bytes(topic_id, "topicId")?,
            expires,
            in_reply_to: optional_id(in_reply_to, "inReplyTo")?,
            extensions: Extensions(extensions),
            nested_part: read_part(nested_part)?,
        })
    }
}

fn write_optional_id(w: &mut Writer, id: Option<&MessageId>) {
    match id {
        None => w.null(),
        Some(id) => w.bytes(&id.0),
    }
}

fn write_part(w: &mut Writer, part: &NestedPart) {
    let len = match &part.body {
        PartBody::Null => 3,
        PartBody::Single(_) | PartBody::Multi(_) => 5,
        PartBody::External(_) => 15,
    };
    w.array(len);
    w.unsigned(part.disposition.value().into());
    w.text(&part.language);
    w.unsigned(part.body.cardinality().into());
    match &part.body {
        PartBody::Null => {}
        PartBody::Single(single) => {
            w.text(&single.content_type);
            w.bytes(&single.content);
        }
        PartBody::External(ext) => {
            w.text(&ext.content_type);
            w.text(&ext.url);
            w.unsigned(ext.expires.into());
            w.unsigned(ext.size);
            w.unsigned(ext.enc_alg.value().into());
            w.bytes(ext.key.as_bytes());
            w.bytes(&ext.nonce);
            w.bytes(&ext.aad);
            w.unsigned(ext.hash_alg.value().into());
            w.bytes(&ext.content_hash);
            w.text(&ext.description);
            w.text(&ext.filename);
        }
        PartBody::Multi(multi) => {
            w.unsigned(multi.semantics.value().into());
            w.array(multi.parts.len());
            for child in &multi.parts {
                write_part(w, child);
            }
        }
    }
}

fn read_part(value: Value) -> Result<NestedPart, ShapeError> {
    let Value::Array(items) = value else {
        return Err(ShapeError::WrongType {
            field: "NestedPart",
            expected: "an array",
        });
    };
    let found = items.len();
    if found < 3 {
        return Err(ShapeError::ArrayLength {
            what: "NestedPart",
            expected: 3,
            found,
        });
    }
    let mut items = items.into_iter();
    let mut next = || items.next().unwrap_or(Value::Null);
    let disposition = Disposition::new(uint(next(), "disposition", u8::MAX.into())? as u8);
    let language = text(next(), "language")?;
    let cardinality = uint(next(), "cardinality", u64::MAX)?;
    let (card, expected) = match cardinality {
        0 => (0, 3),
        1 => (1, 5),
        2 => (2, 15),
        3 => (3, 5),
        other => return Err(ShapeError::UnknownCardinality(other)),
    };
    if found != expected {
        return Err(ShapeError::PartLength {
            cardinality: card,
            expected,
            found,
        });
    }
    let body = match card {
        0 => PartBody::Null,
        1 => PartBody::Single(SinglePart {
            content_type: text(next(), "contentType")?,
            content: bytes(next(), "content")?,
        }),
        2 => PartBody::External(Box::new(ExternalPart {
            content_type: text(next(), "contentType")?,
            url: text(next(), "url")?,
            expires: uint(next(), "external expires", u32::MAX.into())? as u32,
            size: uint(next(), "size", u64::MAX)?,
            enc_alg: AeadAlgorithm::new(uint(next(), "encAlg", u16::MAX.into())? as u16),
            key: AttachmentKey(bytes(next(), "key")?),
            nonce: bytes(next(), "nonce")?,
            aad: bytes(next(), "aad")?,
            hash_alg: HashAlgorithm::new(uint(next(), "hashAlg", u8::MAX.into())? as u8),
            content_hash: bytes(next(), "contentHash")?,
            description: text(next(), "description")?,
            filename: text(next(), "filename")?,
        })),
        _ => {
            let semantics = uint(next(), "partSemantics", u64::MAX)?;
            let semantics = PartSemantics::from_value(semantics)
                .ok_or(ShapeError::UnknownPartSemantics(semantics))?;
            let Value::Array(children) = next() else {
                return Err(ShapeError::WrongType {
                    field: "parts",
                    expected: "an array",
                });
            };
            let parts = children
                .into_iter()
                .map(read_part)
                .collect::<Result<Vec<_>, _>>()?;
            PartBody::Multi(MultiPart { semantics, parts })
        }
    };
    Ok(NestedPart {
        disposition,
        language,
        body,
    })
}

/// An array of exactly `N` elements.
pub(crate) fn fixed_array<const N: usize>(
    value: Value,
    what: &'static str,
) -> Result<[Value; N], ShapeError> {
    let Value::Array(items) = value else {
        return Err(ShapeError::WrongType {
            field: what,
            expected: "an array",
        });
    };
    let found = items.len();
    items.try_into().map_err(|_| ShapeError::ArrayLength {
        what,
        expected: N,
        found,
    })
}

pub(crate) fn uint(value: Value, field: &'static str, max: u64) -> Result<u64, ShapeError> {
    match value {
        Value::Unsigned(n) if n <= max => Ok(n),
        Value::Unsigned(found) => Err(ShapeError::OutOfRange { field, found, max }),
        _ => Err(ShapeError::WrongType {
            field,
            expected: "an unsigned integer",
        }),
    }
}

pub(crate) fn bytes(value: Value, field: &'static str) -> Result<Vec<u8>, ShapeError> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => Err(ShapeError::WrongType {
            field,
            expected: "a byte string",
        }),
    }
}

pub(crate) fn text(value: Value, field: &'static str) -> Result<String, ShapeError> {
    match value {
        Value::Text(t) => Ok(t),
        _ => Err(ShapeError::WrongType {
            field,
            expected: "a text string",
        }),
    }
}

pub(crate) fn message_id(value: Value, field: &'static str) -> Result<MessageId, ShapeError> {
    let b = bytes(value, field)?;
    let id: [u8; 32] = b
        .as_slice()
        .try_into()
        .map_err(|_| ShapeError::MessageIdLength {
            field,
            found: b.len(),
        })?;
    Ok(MessageId(id))
}

fn optional_id(value: Value, field: &'static str) -> Result<Option<MessageId>, ShapeError> {
    match value {
        Value::Null => Ok(None),
        value => message_id(value, field).map(Some),
    }
}
