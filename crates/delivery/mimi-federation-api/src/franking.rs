//! Franking (draft-ietf-mimi-protocol-06 §5.4.1, digest §3.4.1): the hub's `Frank` returned by
//! `submitMessage` and fanned out with the message, and the structs the hub MACs and signs.
//!
//! ```text
//! server_frank = HMAC_SHA256(hub_key, franking_tag || ServerFrankingContext)
//! franking_integrity_signature =
//!     SignWithLabel(franking_private_key, "FrankingIntegrityTBS", FrankingIntegrityTBS)
//! ```
//! The crypto lives in the MLS layer; these types give it the exact bytes.

use mimi_types::codepoints::Ciphersuite;

use crate::codec::{Decode, Encode, Reader, Writer, tls_codec_bridge};
use crate::common::IdentifierUri;
use crate::error::{DecodeError, EncodeError};
use crate::mls::Signature;

/// The `SignWithLabel` label of [`FrankingIntegrityTbs`].
pub const FRANKING_INTEGRITY_LABEL: &str = "FrankingIntegrityTBS";

/// `Frank`: what the hub returns (and fans out) for a franked application message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Frank {
    /// `uint8 server_frank[32]`: the hub's HMAC over the tag and context.
    pub server_frank: [u8; 32],
    /// The cipher suite whose signature algorithm signed the frank (the group's).
    pub franking_signature_ciphersuite: Ciphersuite,
    /// `SignWithLabel(…, "FrankingIntegrityTBS", FrankingIntegrityTBS)`.
    pub franking_integrity_signature: Signature,
}

impl Frank {
    /// A frank.
    pub fn new(
        server_frank: [u8; 32],
        franking_signature_ciphersuite: Ciphersuite,
        franking_integrity_signature: Signature,
    ) -> Self {
        Self {
            server_frank,
            franking_signature_ciphersuite,
            franking_integrity_signature,
        }
    }
}

impl Encode for Frank {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.raw(&self.server_frank);
        w.u16(self.franking_signature_ciphersuite.value());
        self.franking_integrity_signature.encode_into(w)
    }
}

impl Decode for Frank {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            server_frank: r.array("server_frank")?,
            franking_signature_ciphersuite: Ciphersuite::new(
                r.u16("franking_signature_ciphersuite")?,
            ),
            franking_integrity_signature: Signature::decode_from(r)?,
        })
    }
}

/// `ServerFrankingContext`: the context the hub binds into `server_frank` (each URI carries its
/// length prefix, per the -05 changelog).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ServerFrankingContext {
    /// The sender's URI (from `submitMessage.sendingUri`).
    pub sender_uri: IdentifierUri,
    /// The room's URI.
    pub room_uri: IdentifierUri,
    /// The hub's acceptance time, milliseconds since the UNIX epoch.
    pub accepted_timestamp: u64,
}

impl ServerFrankingContext {
    /// A context.
    pub fn new(
        sender_uri: IdentifierUri,
        room_uri: IdentifierUri,
        accepted_timestamp: u64,
    ) -> Self {
        Self {
            sender_uri,
            room_uri,
            accepted_timestamp,
        }
    }
}

impl Encode for ServerFrankingContext {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.sender_uri.encode_into(w)?;
        self.room_uri.encode_into(w)?;
        w.u64(self.accepted_timestamp);
        Ok(())
    }
}

impl Decode for ServerFrankingContext {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            sender_uri: IdentifierUri::decode_from(r)?,
            room_uri: IdentifierUri::decode_from(r)?,
            accepted_timestamp: r.u64("accepted_timestamp")?,
        })
    }
}

/// `FrankingIntegrityTBS`: what the hub signs with its franking key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FrankingIntegrityTbs {
    /// `opaque server_frank[32]`.
    pub server_frank: [u8; 32],
    /// The cipher suite of the signature.
    pub franking_signature_ciphersuite: Ciphersuite,
    /// The context the frank was computed over.
    pub context: ServerFrankingContext,
}

impl FrankingIntegrityTbs {
    /// A TBS.
    pub fn new(
        server_frank: [u8; 32],
        franking_signature_ciphersuite: Ciphersuite,
        context: ServerFrankingContext,
    ) -> Self {
        Self {
            server_frank,
            franking_signature_ciphersuite,
            context,
        }
    }
}

impl Encode for FrankingIntegrityTbs {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.raw(&self.server_frank);
        w.u16(self.franking_signature_ciphersuite.value());
        self.context.encode_into(w)
    }
}

impl Decode for FrankingIntegrityTbs {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            server_frank: r.array("server_frank")?,
            franking_signature_ciphersuite: Ciphersuite::new(
                r.u16("franking_signature_ciphersuite")?,
            ),
            context: ServerFrankingContext::decode_from(r)?,
        })
    }
}

tls_codec_bridge!(Frank, ServerFrankingContext, FrankingIntegrityTbs);
