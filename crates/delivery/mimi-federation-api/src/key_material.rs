//! `POST /keyMaterial/{targetUser}` (draft-ietf-mimi-protocol-06 §5.2, digest §3.2).
//!
//! **Sent by** the requester's provider, via the room's hub when the KeyPackages are for a room,
//! **to** the target user's provider. **Request** [`KeyMaterialRequest`], signed by the
//! requesting client over [`KeyMaterialRequestTbs`]; **response** [`KeyMaterialResponse`] with
//! HTTP 200. Claims one KeyPackage per client of the target user. Metadata:
//! [`crate::http::KEY_MATERIAL`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::KEY_MATERIAL as ENDPOINT;

use mimi_types::codepoints::Ciphersuite;

use crate::codec::{Decode, Encode, Reader, Writer, closed_enum, tls_codec_bridge};
use crate::common::{IdentifierUri, Protocol};
use crate::error::{DecodeError, EncodeError};
use crate::limits::{MAX_CIPHERSUITES, MAX_CLIENTS, MAX_MLS_OBJECT_LEN};
use crate::mls::{
    Capabilities, Credential, KeyPackage, RequiredCapabilities, Signature, SignaturePublicKey,
};

/// The `SignWithLabel` label of [`KeyMaterialRequestTbs`].
pub const KEY_MATERIAL_REQUEST_LABEL: &str = "KeyMaterialRequestTBS";

/// `KeyMaterialRequestTBS`: the request without its signature, what the requester signs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeyMaterialRequestTbs {
    /// `protocol`.
    pub protocol: Protocol,
    /// The user asking (its client signs).
    pub requesting_user: IdentifierUri,
    /// The user whose clients' KeyPackages are wanted.
    pub target_user: IdentifierUri,
    /// The room the KeyPackages are for; empty when not for a room (reading D16).
    pub room_id: IdentifierUri,
    /// Suites the requester accepts, never empty (reading D20).
    pub acceptable_ciphersuites: Vec<Ciphersuite>,
    /// The room's required capabilities.
    pub required_capabilities: RequiredCapabilities,
    /// The requesting client's signature key.
    pub requester_signature_key: SignaturePublicKey,
    /// The requesting client's credential.
    pub requester_credential: Credential,
}

impl KeyMaterialRequestTbs {
    /// A TBS for mls10.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        requesting_user: IdentifierUri,
        target_user: IdentifierUri,
        room_id: IdentifierUri,
        acceptable_ciphersuites: Vec<Ciphersuite>,
        required_capabilities: RequiredCapabilities,
        requester_signature_key: SignaturePublicKey,
        requester_credential: Credential,
    ) -> Self {
        Self {
            protocol: Protocol::Mls10,
            requesting_user,
            target_user,
            room_id,
            acceptable_ciphersuites,
            required_capabilities,
            requester_signature_key,
            requester_credential,
        }
    }

    /// The room, unless the request is not for a room.
    pub fn room(&self) -> Option<&IdentifierUri> {
        (!self.room_id.is_empty()).then_some(&self.room_id)
    }

    /// The signed request.
    pub fn sign(self, key_material_request_signature: Signature) -> KeyMaterialRequest {
        KeyMaterialRequest {
            tbs: self,
            key_material_request_signature,
        }
    }
}

impl Encode for KeyMaterialRequestTbs {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.protocol.encode_into(w)?;
        self.requesting_user.encode_into(w)?;
        self.target_user.encode_into(w)?;
        self.room_id.encode_into(w)?;
        match self.protocol {
            Protocol::Mls10 => {
                if self.acceptable_ciphersuites.is_empty() {
                    return Err(EncodeError::EmptyList {
                        what: "acceptableCiphersuites",
                    });
                }
                w.list(
                    "acceptableCiphersuites",
                    MAX_MLS_OBJECT_LEN,
                    MAX_CIPHERSUITES,
                    &self.acceptable_ciphersuites,
                    |w, cs| {
                        w.u16(cs.value());
                        Ok(())
                    },
                )?;
                self.required_capabilities.encode_into(w)?;
                self.requester_signature_key.encode_into(w)?;
                self.requester_credential.encode_into(w)
            }
        }
    }
}

impl Decode for KeyMaterialRequestTbs {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol = Protocol::decode_from(r)?;
        let requesting_user = IdentifierUri::decode_from(r)?;
        let target_user = IdentifierUri::decode_from(r)?;
        let room_id = IdentifierUri::decode_from(r)?;
        match protocol {
            Protocol::Mls10 => {
                let acceptable_ciphersuites = r.list(
                    "acceptableCiphersuites",
                    MAX_MLS_OBJECT_LEN,
                    MAX_CIPHERSUITES,
                    |r| Ok(Ciphersuite::new(r.u16("cipher suite")?)),
                )?;
                if acceptable_ciphersuites.is_empty() {
                    return Err(DecodeError::EmptyList {
                        what: "acceptableCiphersuites",
                    });
                }
                Ok(Self {
                    protocol,
                    requesting_user,
                    target_user,
                    room_id,
                    acceptable_ciphersuites,
                    required_capabilities: RequiredCapabilities::decode_from(r)?,
                    requester_signature_key: SignaturePublicKey::decode_from(r)?,
                    requester_credential: Credential::decode_from(r)?,
                })
            }
        }
    }
}

/// `KeyMaterialRequest`: the TBS fields followed by `key_material_request_signature`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeyMaterialRequest {
    /// Every field but the signature, in wire order.
    pub tbs: KeyMaterialRequestTbs,
    /// `SignWithLabel(requesterSignatureKey, "KeyMaterialRequestTBS", tbs)`.
    pub key_material_request_signature: Signature,
}

impl KeyMaterialRequest {
    /// A signed request.
    pub fn new(tbs: KeyMaterialRequestTbs, key_material_request_signature: Signature) -> Self {
        tbs.sign(key_material_request_signature)
    }
}

impl Encode for KeyMaterialRequest {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.tbs.encode_into(w)?;
        self.key_material_request_signature.encode_into(w)
    }
}

impl Decode for KeyMaterialRequest {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            tbs: KeyMaterialRequestTbs::decode_from(r)?,
            key_material_request_signature: Signature::decode_from(r)?,
        })
    }
}

closed_enum! {
    /// `KeyMaterialUserCode`: the outcome for the target user.
    KeyMaterialUserCode, "KeyMaterialUserCode", reserved [] {
        /// `success(0)`: material for every client.
        Success = 0 => "success",
        /// `partialSuccess(1)`: material for at least one client.
        PartialSuccess = 1 => "partialSuccess",
        /// `incompatibleProtocol(2)`
        IncompatibleProtocol = 2 => "incompatibleProtocol",
        /// `noCompatibleMaterial(3)`: `clients` MAY say why per client.
        NoCompatibleMaterial = 3 => "noCompatibleMaterial",
        /// `userUnknown(4)`
        UserUnknown = 4 => "userUnknown",
        /// `noConsent(5)`: also a privacy catch-all.
        NoConsent = 5 => "noConsent",
        /// `noConsentForThisRoom(6)`
        NoConsentForThisRoom = 6 => "noConsentForThisRoom",
        /// `userDeleted(7)`
        UserDeleted = 7 => "userDeleted",
    }
}

impl KeyMaterialUserCode {
    /// Whether a response with this code may list clients (protocol-06 §5.2: MUST be empty
    /// otherwise).
    pub const fn may_list_clients(self) -> bool {
        matches!(
            self,
            Self::Success | Self::PartialSuccess | Self::NoCompatibleMaterial
        )
    }
}

closed_enum! {
    /// `KeyMaterialClientCode`: the outcome for one client.
    KeyMaterialClientCode, "KeyMaterialClientCode", reserved [] {
        /// `success(0)`: a KeyPackage follows.
        Success = 0 => "success",
        /// `keyMaterialExhausted(1)`
        KeyMaterialExhausted = 1 => "keyMaterialExhausted",
        /// `nothingCompatible(2)`: optionally the client's capabilities.
        NothingCompatible = 2 => "nothingCompatible",
    }
}

/// The per-client outcome with its data (the `select (clientStatus)` of `ClientKeyMaterial`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientMaterial {
    /// `success`: one KeyPackage, never returned again.
    Success(KeyPackage),
    /// `keyMaterialExhausted`.
    KeyMaterialExhausted,
    /// `nothingCompatible`, with the client's capabilities unless withheld for privacy.
    NothingCompatible(Option<Capabilities>),
}

impl ClientMaterial {
    /// The status code.
    pub fn code(&self) -> KeyMaterialClientCode {
        match self {
            Self::Success(_) => KeyMaterialClientCode::Success,
            Self::KeyMaterialExhausted => KeyMaterialClientCode::KeyMaterialExhausted,
            Self::NothingCompatible(_) => KeyMaterialClientCode::NothingCompatible,
        }
    }
}

/// `ClientKeyMaterial`: one client's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ClientKeyMaterial {
    /// The client.
    pub client_uri: IdentifierUri,
    /// Its status and material.
    pub material: ClientMaterial,
}

impl ClientKeyMaterial {
    /// One client's outcome.
    pub fn new(client_uri: IdentifierUri, material: ClientMaterial) -> Self {
        Self {
            client_uri,
            material,
        }
    }

    /// Encodes under the enclosing response's protocol (reading D4).
    fn encode_for(&self, protocol: Protocol, w: &mut Writer) -> Result<(), EncodeError> {
        self.material.code().encode_into(w)?;
        self.client_uri.encode_into(w)?;
        match (protocol, &self.material) {
            (Protocol::Mls10, ClientMaterial::Success(key_package)) => key_package.encode_into(w),
            (Protocol::Mls10, ClientMaterial::KeyMaterialExhausted) => Ok(()),
            (Protocol::Mls10, ClientMaterial::NothingCompatible(capabilities)) => {
                w.optional(capabilities.as_ref(), |w, c| c.encode_into(w))
            }
        }
    }

    /// Decodes under the enclosing response's protocol (reading D4).
    fn decode_for(protocol: Protocol, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = KeyMaterialClientCode::decode_from(r)?;
        let client_uri = IdentifierUri::decode_from(r)?;
        let material = match (protocol, code) {
            (Protocol::Mls10, KeyMaterialClientCode::Success) => {
                ClientMaterial::Success(KeyPackage::decode_from(r)?)
            }
            (Protocol::Mls10, KeyMaterialClientCode::KeyMaterialExhausted) => {
                ClientMaterial::KeyMaterialExhausted
            }
            (Protocol::Mls10, KeyMaterialClientCode::NothingCompatible) => {
                ClientMaterial::NothingCompatible(
                    r.optional("clientCapabilities", Capabilities::decode_from)?,
                )
            }
        };
        Ok(Self {
            client_uri,
            material,
        })
    }
}

/// `KeyMaterialResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeyMaterialResponse {
    /// `protocol`.
    pub protocol: Protocol,
    /// The outcome for the user.
    pub user_status: KeyMaterialUserCode,
    /// The user.
    pub user_uri: IdentifierUri,
    /// Per-client outcomes; empty unless [`KeyMaterialUserCode::may_list_clients`].
    pub clients: Vec<ClientKeyMaterial>,
}

impl KeyMaterialResponse {
    /// An mls10 response.
    pub fn new(
        user_status: KeyMaterialUserCode,
        user_uri: IdentifierUri,
        clients: Vec<ClientKeyMaterial>,
    ) -> Self {
        Self {
            protocol: Protocol::Mls10,
            user_status,
            user_uri,
            clients,
        }
    }
}

impl Encode for KeyMaterialResponse {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        if !self.clients.is_empty() && !self.user_status.may_list_clients() {
            return Err(EncodeError::Invalid {
                what: "KeyMaterialResponse",
                rule: "clients must be empty unless the user status is success, partialSuccess \
                       or noCompatibleMaterial",
            });
        }
        self.protocol.encode_into(w)?;
        self.user_status.encode_into(w)?;
        self.user_uri.encode_into(w)?;
        w.list(
            "clients",
            MAX_MLS_OBJECT_LEN,
            MAX_CLIENTS,
            &self.clients,
            |w, c| c.encode_for(self.protocol, w),
        )
    }
}

impl Decode for KeyMaterialResponse {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol = Protocol::decode_from(r)?;
        let user_status = KeyMaterialUserCode::decode_from(r)?;
        let user_uri = IdentifierUri::decode_from(r)?;
        let clients = r.list("clients", MAX_MLS_OBJECT_LEN, MAX_CLIENTS, |r| {
            ClientKeyMaterial::decode_for(protocol, r)
        })?;
        if !clients.is_empty() && !user_status.may_list_clients() {
            return Err(DecodeError::ClientsNotAllowed {
                user_status: user_status.name(),
            });
        }
        Ok(Self {
            protocol,
            user_status,
            user_uri,
            clients,
        })
    }
}

tls_codec_bridge!(
    KeyMaterialRequestTbs,
    KeyMaterialRequest,
    KeyMaterialUserCode,
    KeyMaterialClientCode,
    KeyMaterialResponse
);
