//! The body shared by `requestConsent` and `updateConsent` (draft-ietf-mimi-protocol-06 §5.7,
//! §8; digest §3.7): [`ConsentEntry`] and [`ConsentScope`]. Consent travels directly between the
//! two users' providers, never through a hub. Reading D12 in [`crate::defects`].

use crate::codec::{Decode, Encode, Reader, Writer, closed_enum, tls_codec_bridge};
use crate::common::{AppDataDictionary, IdentifierUri};
use crate::error::{DecodeError, EncodeError};
use crate::limits::{MAX_CONSENT_KEY_PACKAGES, MAX_MLS_OBJECT_LEN};
use crate::mls::KeyPackage;

closed_enum! {
    /// `ConsentOperation`.
    ConsentOperation, "ConsentOperation", reserved [] {
        /// `cancel(0)`: withdraw a request (same scope as the request).
        Cancel = 0 => "cancel",
        /// `request(1)`
        Request = 1 => "request",
        /// `grant(2)`: with zero or more KeyPackages for an immediate Add.
        Grant = 2 => "grant",
        /// `revoke(3)`: also a pre-emptive denial.
        Revoke = 3 => "revoke",
    }
}

/// The operation with its data (the `select (consentOperation)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConsentAction {
    /// `cancel`.
    Cancel,
    /// `request`.
    Request,
    /// `grant`, with the target's KeyPackages (possibly none).
    Grant {
        /// `clientKeyPackages`.
        client_key_packages: Vec<KeyPackage>,
    },
    /// `revoke`.
    Revoke,
}

impl ConsentAction {
    /// The operation code.
    pub fn operation(&self) -> ConsentOperation {
        match self {
            Self::Cancel => ConsentOperation::Cancel,
            Self::Request => ConsentOperation::Request,
            Self::Grant { .. } => ConsentOperation::Grant,
            Self::Revoke => ConsentOperation::Revoke,
        }
    }
}

/// `ConsentScope`: who asks whom, optionally for one room.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct ConsentScope {
    /// The user asking for consent.
    pub requester_uri: IdentifierUri,
    /// The user whose consent is asked.
    pub target_uri: IdentifierUri,
    /// The room, or none for "any room".
    pub room_id: Option<IdentifierUri>,
}

impl ConsentScope {
    /// A scope.
    pub fn new(
        requester_uri: IdentifierUri,
        target_uri: IdentifierUri,
        room_id: Option<IdentifierUri>,
    ) -> Self {
        Self {
            requester_uri,
            target_uri,
            room_id,
        }
    }
}

impl Encode for ConsentScope {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.requester_uri.encode_into(w)?;
        self.target_uri.encode_into(w)?;
        w.optional(self.room_id.as_ref(), |w, room| room.encode_into(w))
    }
}

impl Decode for ConsentScope {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            requester_uri: IdentifierUri::decode_from(r)?,
            target_uri: IdentifierUri::decode_from(r)?,
            room_id: r.optional("roomId", IdentifierUri::decode_from)?,
        })
    }
}

/// `ConsentEntry`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ConsentEntry {
    /// The operation and its data.
    pub action: ConsentAction,
    /// Requester, target and optional room, in wire order.
    pub scope: ConsentScope,
    /// `consent_extensions`.
    pub consent_extensions: AppDataDictionary,
}

impl ConsentEntry {
    /// An entry without extensions.
    pub fn new(action: ConsentAction, scope: ConsentScope) -> Self {
        Self {
            action,
            scope,
            consent_extensions: AppDataDictionary::new(),
        }
    }
}

impl Encode for ConsentEntry {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.action.operation().encode_into(w)?;
        self.scope.encode_into(w)?;
        if let ConsentAction::Grant {
            client_key_packages,
        } = &self.action
        {
            w.list(
                "clientKeyPackages",
                MAX_MLS_OBJECT_LEN,
                MAX_CONSENT_KEY_PACKAGES,
                client_key_packages,
                |w, kp| kp.encode_into(w),
            )?;
        }
        self.consent_extensions.encode_into(w)
    }
}

impl Decode for ConsentEntry {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let operation = ConsentOperation::decode_from(r)?;
        let scope = ConsentScope::decode_from(r)?;
        let action = match operation {
            ConsentOperation::Cancel => ConsentAction::Cancel,
            ConsentOperation::Request => ConsentAction::Request,
            ConsentOperation::Grant => ConsentAction::Grant {
                client_key_packages: r.list(
                    "clientKeyPackages",
                    MAX_MLS_OBJECT_LEN,
                    MAX_CONSENT_KEY_PACKAGES,
                    KeyPackage::decode_from,
                )?,
            },
            ConsentOperation::Revoke => ConsentAction::Revoke,
        };
        Ok(Self {
            action,
            scope,
            consent_extensions: AppDataDictionary::decode_from(r)?,
        })
    }
}

tls_codec_bridge!(ConsentOperation, ConsentScope, ConsentEntry);

/// Defines an endpoint body that is a [`ConsentEntry`] restricted to some operations.
macro_rules! consent_body {
    ($(#[$meta:meta])* $name:ident, $endpoint:literal, [$($allowed:ident),*]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub struct $name {
            /// The entry.
            pub entry: $crate::consent::ConsentEntry,
        }

        impl $name {
            /// The operations this endpoint takes.
            pub const OPERATIONS: &'static [$crate::consent::ConsentOperation] =
                &[$($crate::consent::ConsentOperation::$allowed),*];

            /// Wraps an entry, refusing an operation this endpoint does not take.
            pub fn new(
                entry: $crate::consent::ConsentEntry,
            ) -> Result<Self, $crate::error::DecodeError> {
                let operation = entry.action.operation();
                if Self::OPERATIONS.contains(&operation) {
                    Ok(Self { entry })
                } else {
                    Err($crate::error::DecodeError::WrongConsentOperation {
                        endpoint: $endpoint,
                        operation: operation.name(),
                    })
                }
            }
        }

        impl $crate::codec::Encode for $name {
            fn encode_into(
                &self,
                w: &mut $crate::codec::Writer,
            ) -> Result<(), $crate::error::EncodeError> {
                if !Self::OPERATIONS.contains(&self.entry.action.operation()) {
                    return Err($crate::error::EncodeError::Invalid {
                        what: $endpoint,
                        rule: "this endpoint does not take that consent operation",
                    });
                }
                $crate::codec::Encode::encode_into(&self.entry, w)
            }
        }

        impl $crate::codec::Decode for $name {
            fn decode_from(
                r: &mut $crate::codec::Reader<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                Self::new($crate::consent::ConsentEntry::decode_from(r)?)
            }
        }

        $crate::codec::tls_codec_bridge!($name);
    };
}
pub(crate) use consent_body;
