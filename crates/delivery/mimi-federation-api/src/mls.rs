//! MLS-typed fields (RFC 9420) as opaque, length-checked bytes.
//!
//! The MLS layer (`mimi-mls`) owns the real types; here each MLS field is a newtype over its
//! bytes, checked only for structure (the private `skim` module walks each layout) and size. Two shapes:
//!
//! * **vector types** (`opaque x<V>` in RFC 9420: [`SignaturePublicKey`], [`HpkePublicKey`],
//!   [`Signature`], [`ProposalRef`], [`KeyPackageRef`], [`RatchetTree`]): `as_bytes` is the content
//!   *without* the length prefix (the raw key, signature or hash);
//! * **struct types** ([`MlsMessage`], [`KeyPackage`], [`Welcome`], [`GroupInfo`],
//!   [`Credential`], [`Capabilities`], [`RequiredCapabilities`], [`ExternalSender`]): `as_bytes`
//!   is the complete TLS encoding of the MLS struct, ready for the MLS library's
//!   `tls_deserialize_exact`.
//!
//! Every type has `from_bytes` (validating), `as_bytes` and `into_bytes`.

pub(crate) mod skim;

use std::fmt;

use mimi_types::codepoints::{ExtensionType, WireFormat};

use crate::codec::{Decode, Encode, Reader, Writer, tls_codec_bridge};
use crate::error::{DecodeError, EncodeError};
use crate::limits::{
    MAX_CREDENTIAL_LEN, MAX_KEY_LEN, MAX_KEY_PACKAGE_LEN, MAX_MLS_OBJECT_LEN, MAX_RATCHET_TREE_LEN,
    MAX_REF_LEN, MAX_SIGNATURE_LEN,
};

/// MLS `ContentType` (RFC 9420 §6), in cleartext in PublicMessage and PrivateMessage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentType {
    /// `application(1)`
    Application,
    /// `proposal(2)`
    Proposal,
    /// `commit(3)`
    Commit,
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Application => "application",
            Self::Proposal => "proposal",
            Self::Commit => "commit",
        })
    }
}

/// Defines a vector-shaped MLS type: the bytes are the vector's content.
macro_rules! opaque_vector {
    ($(#[$meta:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Vec<u8>);

        impl $name {
            /// The largest value accepted, in bytes.
            pub const MAX_LEN: usize = $max;

            /// Wraps raw bytes (without a length prefix), refusing more than [`Self::MAX_LEN`].
            pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, DecodeError> {
                let bytes = bytes.into();
                if bytes.len() > Self::MAX_LEN {
                    return Err(DecodeError::TooLong {
                        what: $what,
                        len: bytes.len(),
                        max: Self::MAX_LEN,
                    });
                }
                Ok(Self(bytes))
            }

            /// The raw bytes, without the length prefix.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// The raw bytes, without the length prefix.
            pub fn into_bytes(self) -> Vec<u8> {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({} bytes)", stringify!($name), self.0.len())
            }
        }

        impl Encode for $name {
            fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
                w.opaque($what, Self::MAX_LEN, &self.0)
            }
        }

        impl Decode for $name {
            fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(Self(r.opaque($what, Self::MAX_LEN)?.to_vec()))
            }
        }

        tls_codec_bridge!($name);
    };
}

opaque_vector!(
    /// `SignaturePublicKey` (`opaque<V>`): a raw signature public key.
    SignaturePublicKey,
    "SignaturePublicKey",
    MAX_KEY_LEN
);
opaque_vector!(
    /// `HPKEPublicKey` (`opaque<V>`): a raw HPKE public key.
    HpkePublicKey,
    "HPKEPublicKey",
    MAX_KEY_LEN
);
opaque_vector!(
    /// A signature field (`opaque signature<V>`), e.g. a `SignWithLabel` output.
    Signature,
    "signature",
    MAX_SIGNATURE_LEN
);
opaque_vector!(
    /// `ProposalRef` (`HashReference`, `opaque<V>`).
    ProposalRef,
    "ProposalRef",
    MAX_REF_LEN
);
opaque_vector!(
    /// `KeyPackageRef` (`HashReference`, `opaque<V>`).
    KeyPackageRef,
    "KeyPackageRef",
    MAX_REF_LEN
);
opaque_vector!(
    /// A ratchet tree: the content of `Node ratchet_tree<V>` (the node list is kept opaque; the
    /// MLS layer parses it).
    RatchetTree,
    "ratchet tree",
    MAX_RATCHET_TREE_LEN
);

/// Defines a struct-shaped MLS type: the bytes are its complete encoding, checked by `$skim`.
macro_rules! opaque_struct {
    ($(#[$meta:meta])* $name:ident, $what:literal, $max:expr, $skim:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(Vec<u8>);

        impl $name {
            /// The largest encoding accepted, in bytes.
            pub const MAX_LEN: usize = $max;

            /// Wraps a complete encoding, checking its structure and that nothing follows it.
            pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, DecodeError> {
                let bytes = bytes.into();
                let value = crate::codec::decode_exact::<Self>(&bytes)?;
                Ok(value)
            }

            /// The complete encoding.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// The complete encoding.
            pub fn into_bytes(self) -> Vec<u8> {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({} bytes)", stringify!($name), self.0.len())
            }
        }

        impl Encode for $name {
            fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
                w.raw(&self.0);
                Ok(())
            }
        }

        impl Decode for $name {
            fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(Self(skimmed(r, $what, Self::MAX_LEN, |r| $skim(r).map(drop))?))
            }
        }

        tls_codec_bridge!($name);
    };
}

/// Runs `skim` over `r` and returns the bytes it consumed, refusing more than `max`.
fn skimmed<T>(
    r: &mut Reader<'_>,
    what: &'static str,
    max: usize,
    skim: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<u8>, DecodeError> {
    let start = r.rest();
    skim(r)?;
    let used = start.len() - r.remaining();
    if used > max {
        return Err(DecodeError::TooLong {
            what,
            len: used,
            max,
        });
    }
    Ok(start.get(..used).unwrap_or_default().to_vec())
}

opaque_struct!(
    /// `KeyPackage` (RFC 9420 §10), bare (not wrapped in an MLSMessage).
    KeyPackage,
    "KeyPackage",
    MAX_KEY_PACKAGE_LEN,
    skim::key_package
);
opaque_struct!(
    /// `GroupInfo` (RFC 9420 §12.4.3), bare.
    GroupInfo,
    "GroupInfo",
    MAX_MLS_OBJECT_LEN,
    skim::group_info
);
opaque_struct!(
    /// `Credential` (RFC 9420 §5.3): basic, x509, or a multi-credential.
    Credential,
    "Credential",
    MAX_CREDENTIAL_LEN,
    skim::credential
);
opaque_struct!(
    /// `Capabilities` (RFC 9420 §7.2).
    Capabilities,
    "Capabilities",
    MAX_CREDENTIAL_LEN,
    skim::capabilities
);
opaque_struct!(
    /// `RequiredCapabilities` (RFC 9420 §11.1).
    RequiredCapabilities,
    "RequiredCapabilities",
    MAX_CREDENTIAL_LEN,
    skim::required_capabilities
);
opaque_struct!(
    /// `ExternalSender` (RFC 9420 §12.1.8.1): a signature key and a credential.
    ExternalSender,
    "ExternalSender",
    MAX_CREDENTIAL_LEN,
    skim::external_sender
);
opaque_struct!(
    /// `HPKECiphertext` (RFC 9420 §5.1.3): `kem_output<V>` and `ciphertext<V>`.
    HpkeCiphertext,
    "HPKECiphertext",
    MAX_MLS_OBJECT_LEN,
    skim::hpke_ciphertext
);

/// `Welcome` (RFC 9420 §12.4.3.1), bare, with the KeyPackageRefs it is for (the hub routes a
/// Welcome to the providers that returned those KeyPackages).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Welcome {
    bytes: Vec<u8>,
    new_members: Vec<KeyPackageRef>,
}

impl Welcome {
    /// The largest encoding accepted, in bytes.
    pub const MAX_LEN: usize = MAX_MLS_OBJECT_LEN;

    /// Wraps a complete encoding, checking its structure and that nothing follows it.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, DecodeError> {
        crate::codec::decode_exact(&bytes.into())
    }

    /// The complete encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The complete encoding.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The `new_member` reference of each `EncryptedGroupSecrets`, in order.
    pub fn new_members(&self) -> &[KeyPackageRef] {
        &self.new_members
    }
}

impl Welcome {
    /// This Welcome as an `mls_welcome` MLSMessage (what a `FanoutMessage` carries).
    pub fn to_mls_message(&self) -> Result<MlsMessage, DecodeError> {
        MlsMessage::wrap(WireFormat::WELCOME, &self.bytes)
    }
}

impl GroupInfo {
    /// This GroupInfo as an `mls_group_info` MLSMessage.
    pub fn to_mls_message(&self) -> Result<MlsMessage, DecodeError> {
        MlsMessage::wrap(WireFormat::GROUP_INFO, &self.0)
    }
}

impl KeyPackage {
    /// This KeyPackage as an `mls_key_package` MLSMessage.
    pub fn to_mls_message(&self) -> Result<MlsMessage, DecodeError> {
        MlsMessage::wrap(WireFormat::KEY_PACKAGE, &self.0)
    }
}

impl fmt::Debug for Welcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Welcome({} bytes, {} new members)",
            self.bytes.len(),
            self.new_members.len()
        )
    }
}

impl Encode for Welcome {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.raw(&self.bytes);
        Ok(())
    }
}

impl Decode for Welcome {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut refs = Vec::new();
        let bytes = skimmed(r, "Welcome", Self::MAX_LEN, |r| {
            refs = skim::welcome(r)?;
            Ok(())
        })?;
        Ok(Self {
            bytes,
            new_members: refs.into_iter().map(KeyPackageRef).collect(),
        })
    }
}

tls_codec_bridge!(Welcome);

/// `MLSMessage` (RFC 9420 §6), with the cleartext facts MIMI routes on.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MlsMessage {
    bytes: Vec<u8>,
    wire_format: WireFormat,
    content_type: Option<ContentType>,
    epoch: Option<u64>,
}

impl MlsMessage {
    /// The largest encoding accepted, in bytes.
    pub const MAX_LEN: usize = MAX_MLS_OBJECT_LEN;

    /// Wraps a complete encoding, checking its structure and that nothing follows it.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, DecodeError> {
        crate::codec::decode_exact(&bytes.into())
    }

    /// The complete encoding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The complete encoding.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The wire format (PublicMessage, PrivateMessage, Welcome, GroupInfo, KeyPackage).
    pub fn wire_format(&self) -> WireFormat {
        self.wire_format
    }

    /// The content type of a PublicMessage or PrivateMessage.
    pub fn content_type(&self) -> Option<ContentType> {
        self.content_type
    }

    /// The epoch of a PublicMessage or PrivateMessage.
    pub fn epoch(&self) -> Option<u64> {
        self.epoch
    }

    /// A short description for error messages: `mls_public_message/commit`.
    pub fn kind(&self) -> String {
        let wire = self
            .wire_format
            .name()
            .map_or_else(|| self.wire_format.to_string(), str::to_owned);
        match self.content_type {
            Some(content) => format!("{wire}/{content}"),
            None => wire,
        }
    }

    /// The bare struct after `version` and `wire_format`, if the wire format is `expected`.
    fn body(&self, expected: WireFormat, name: &'static str) -> Result<&[u8], DecodeError> {
        if self.wire_format == expected {
            Ok(self.bytes.get(4..).unwrap_or_default())
        } else {
            Err(DecodeError::WrongMlsMessage {
                what: "MLSMessage",
                expected: name,
                found: self.kind(),
            })
        }
    }

    /// The bare `Welcome` of an `mls_welcome` message (what `HandshakeBundle.welcome` carries).
    pub fn to_welcome(&self) -> Result<Welcome, DecodeError> {
        Welcome::from_bytes(self.body(WireFormat::WELCOME, "a Welcome")?)
    }

    /// The bare `GroupInfo` of an `mls_group_info` message (what `GroupInfoOption.full` and
    /// `GroupInfoRatchetTreeTBE` carry).
    pub fn to_group_info(&self) -> Result<GroupInfo, DecodeError> {
        GroupInfo::from_bytes(self.body(WireFormat::GROUP_INFO, "a GroupInfo")?)
    }

    /// The bare `KeyPackage` of an `mls_key_package` message (what `ClientKeyMaterial` and
    /// `ConsentEntry` carry).
    pub fn to_key_package(&self) -> Result<KeyPackage, DecodeError> {
        KeyPackage::from_bytes(self.body(WireFormat::KEY_PACKAGE, "a KeyPackage")?)
    }

    /// Wraps a bare struct in an MLSMessage of `wire_format`.
    fn wrap(wire_format: WireFormat, bare: &[u8]) -> Result<Self, DecodeError> {
        let mut bytes = Vec::with_capacity(bare.len() + 4);
        bytes.extend_from_slice(&1u16.to_be_bytes());
        bytes.extend_from_slice(&wire_format.value().to_be_bytes());
        bytes.extend_from_slice(bare);
        Self::from_bytes(bytes)
    }

    /// Whether this is a PublicMessage carrying one of `contents`.
    pub(crate) fn is_public(&self, contents: &[ContentType]) -> bool {
        self.wire_format == WireFormat::PUBLIC_MESSAGE
            && self.content_type.is_some_and(|c| contents.contains(&c))
    }

    /// Refuses anything but a PublicMessage carrying one of `contents`.
    pub(crate) fn expect_public(
        &self,
        what: &'static str,
        expected: &'static str,
        contents: &[ContentType],
    ) -> Result<(), DecodeError> {
        if self.is_public(contents) {
            Ok(())
        } else {
            Err(DecodeError::WrongMlsMessage {
                what,
                expected,
                found: self.kind(),
            })
        }
    }
}

impl fmt::Debug for MlsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MlsMessage({}, {} bytes)", self.kind(), self.bytes.len())
    }
}

impl Encode for MlsMessage {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.raw(&self.bytes);
        Ok(())
    }
}

impl Decode for MlsMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut facts = None;
        let bytes = skimmed(r, "MLSMessage", Self::MAX_LEN, |r| {
            facts = Some(skim::mls_message(r)?);
            Ok(())
        })?;
        let Some(facts) = facts else {
            return Err(DecodeError::EmptyBody { what: "MLSMessage" });
        };
        Ok(Self {
            bytes,
            wire_format: facts.wire_format,
            content_type: facts.content_type,
            epoch: facts.epoch,
        })
    }
}

tls_codec_bridge!(MlsMessage);

/// MLS `Extension` (RFC 9420 §13): a type and opaque data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Extension {
    /// The extension type (open registry).
    pub extension_type: ExtensionType,
    /// The extension's encoded content.
    pub extension_data: Vec<u8>,
}

impl Extension {
    /// An extension.
    pub fn new(extension_type: ExtensionType, extension_data: Vec<u8>) -> Self {
        Self {
            extension_type,
            extension_data,
        }
    }
}

impl Encode for Extension {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u16(self.extension_type.value());
        w.opaque("extension data", MAX_MLS_OBJECT_LEN, &self.extension_data)
    }
}

impl Decode for Extension {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            extension_type: ExtensionType::new(r.u16("extension type")?),
            extension_data: r.opaque("extension data", MAX_MLS_OBJECT_LEN)?.to_vec(),
        })
    }
}

tls_codec_bridge!(Extension);
