//! Types shared by several endpoints (draft-ietf-mimi-protocol-06 §5, digest §3.0): the
//! `Protocol` enum, `IdentifierUri`, and mls-extensions' `AppDataDictionary`.

use std::collections::BTreeMap;
use std::fmt;

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, MimiUri, ProviderUri, PseudonymUri, RoomUri, UriError, UserUri};

use crate::codec::{Decode, Encode, Reader, Writer, closed_enum, tls_codec_bridge};
use crate::error::{DecodeError, EncodeError};
use crate::limits::{MAX_COMPONENT_DATA_LEN, MAX_COMPONENTS, MAX_MLS_OBJECT_LEN, MAX_URI_LEN};

closed_enum! {
    /// `Protocol` (protocol-06 §5): the end-to-end security protocol a body is framed for. The
    /// only in-band version signal of MIMI.
    Protocol, "Protocol", reserved [0] {
        /// `mls10(1)`: MLS 1.0 (RFC 9420).
        Mls10 = 1 => "mls10",
    }
}

/// `IdentifierUri` (`struct { opaque uri<V>; }`): a URI as UTF-8 text, at most
/// [`MAX_URI_LEN`] bytes.
///
/// The wire type is opaque bytes; we require UTF-8 and keep the text exactly as sent (MIMI URIs
/// are compared octet for octet). It is *not* parsed here, because fields such as a
/// `KeyMaterialRequest`'s `roomId` may be empty and query results may carry other schemes: use
/// [`IdentifierUri::parse`] or the typed accessors where a MIMI URI is required.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct IdentifierUri(String);

impl IdentifierUri {
    /// Wraps text, refusing more than [`MAX_URI_LEN`] bytes.
    pub fn from_string(uri: impl Into<String>) -> Result<Self, EncodeError> {
        let uri = uri.into();
        if uri.len() > MAX_URI_LEN {
            return Err(EncodeError::TooLong {
                what: "IdentifierUri",
                len: uri.len(),
                max: MAX_URI_LEN,
            });
        }
        Ok(Self(uri))
    }

    /// The empty URI (our reading of "no room": see [`crate::defects`]).
    pub fn empty() -> Self {
        Self(String::new())
    }

    /// Whether the URI is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The URI text as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses the text as any MIMI URI.
    pub fn parse(&self) -> Result<MimiUri, UriError> {
        MimiUri::parse(&self.0)
    }

    /// Parses the text as a user URI.
    pub fn to_user(&self) -> Result<UserUri, UriError> {
        UserUri::parse(&self.0)
    }

    /// Parses the text as a room URI.
    pub fn to_room(&self) -> Result<RoomUri, UriError> {
        RoomUri::parse(&self.0)
    }

    /// Parses the text as a client URI.
    pub fn to_client(&self) -> Result<ClientUri, UriError> {
        ClientUri::parse(&self.0)
    }
}

impl fmt::Debug for IdentifierUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentifierUri({:?})", self.0)
    }
}

impl fmt::Display for IdentifierUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! identifier_from_uri {
    ($($ty:ty),*) => {$(
        impl From<&$ty> for IdentifierUri {
            fn from(uri: &$ty) -> Self {
                // MIMI URIs are far shorter than the cap: domains ≤ 253, segments ≤ 255 bytes.
                Self(uri.to_string())
            }
        }

        impl From<$ty> for IdentifierUri {
            fn from(uri: $ty) -> Self {
                Self::from(&uri)
            }
        }
    )*};
}
identifier_from_uri!(
    UserUri,
    RoomUri,
    ClientUri,
    PseudonymUri,
    ProviderUri,
    MimiUri
);

impl Encode for IdentifierUri {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque("IdentifierUri", MAX_URI_LEN, self.0.as_bytes())
    }
}

impl Decode for IdentifierUri {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.text("IdentifierUri", MAX_URI_LEN)?))
    }
}

tls_codec_bridge!(IdentifierUri, Protocol);

/// `AppDataDictionary` (mls-extensions): component data by component ID. The wire form
/// (`ComponentData component_data<V>`) MUST be sorted by ID with at most one entry per ID; the
/// map keeps that true by construction and the decoder refuses anything else.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct AppDataDictionary {
    /// Component data, by component ID.
    pub components: BTreeMap<ComponentId, Vec<u8>>,
}

impl AppDataDictionary {
    /// An empty dictionary (what every MIMI body carries today).
    pub fn new() -> Self {
        Self::default()
    }
}

impl Encode for AppDataDictionary {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        if self.components.len() > MAX_COMPONENTS {
            return Err(EncodeError::TooManyItems {
                what: "AppDataDictionary",
                count: self.components.len(),
                max: MAX_COMPONENTS,
            });
        }
        w.vector("AppDataDictionary", MAX_MLS_OBJECT_LEN, |w| {
            self.components.iter().try_for_each(|(id, data)| {
                w.u16(id.value());
                w.opaque("component data", MAX_COMPONENT_DATA_LEN, data)
            })
        })
    }
}

impl Decode for AppDataDictionary {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let entries = r.list(
            "AppDataDictionary",
            MAX_MLS_OBJECT_LEN,
            MAX_COMPONENTS,
            |r| {
                let id = r.u16("component id")?;
                let data = r.opaque("component data", MAX_COMPONENT_DATA_LEN)?;
                Ok((id, data.to_vec()))
            },
        )?;
        let mut components = BTreeMap::new();
        let mut last = None;
        for (id, data) in entries {
            if last.is_some_and(|last| id <= last) {
                return Err(DecodeError::UnsortedComponents {
                    what: "AppDataDictionary",
                    id,
                });
            }
            last = Some(id);
            components.insert(ComponentId::new(id), data);
        }
        Ok(Self { components })
    }
}

tls_codec_bridge!(AppDataDictionary);
