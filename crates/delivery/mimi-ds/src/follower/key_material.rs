//! `POST /keyMaterial/{targetUser}` at the target provider (protocol-06 §5.2, digest §3.2).
//!
//! The request arrives either from the requester's own provider or relayed by the hub of the
//! room it names; any other peer is acting for somebody else's user and is refused. The
//! requester's credential must chain to the CA pinned for the requesting user's domain and name
//! that user, and its signature over `KeyMaterialRequestTBS` must verify (our reading: the
//! draft says who signs, not who checks; the target provider checks before consulting
//! consent). That check is made once per request: [`VerifiedKeyMaterialRequest::verify`],
//! whose value every later decision ([`answer_key_material`], the hub's relay) takes, so no
//! caller can skip it or repeat it.

use std::collections::BTreeMap;

use mimi_federation_api::Encode;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::key_material::{
    ClientKeyMaterial, ClientMaterial, KeyMaterialRequest, KeyMaterialResponse, KeyMaterialUserCode,
};
use mimi_federation_api::mls::KeyPackage;
use mimi_mls::{TrustStore, VerifiedIdentity, sign};
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

use super::consent::{ConsentDecision, ConsentPolicy, UserConsent};
use super::keypackages::{Claim, KeyPackagePool, RequesterLimiter};
use crate::error::RequestError;

/// What the engine needs to know about the request's surroundings.
#[derive(Debug, Clone, Copy)]
pub struct KeyMaterialContext<'a> {
    /// Now, milliseconds since the UNIX epoch.
    pub now_ms: u64,
    /// The authenticated peer (mutual TLS).
    pub peer: &'a Domain,
    /// This provider.
    pub our_domain: &'a Domain,
}

/// A key-material request whose requester is authenticated: its credential chains to the CA
/// pinned for the requesting user's domain and names that user, and its signature over
/// `KeyMaterialRequestTBS` verifies.
#[derive(Debug, Clone)]
pub struct VerifiedKeyMaterialRequest<'a> {
    request: &'a KeyMaterialRequest,
    requester: UserUri,
}

impl<'a> VerifiedKeyMaterialRequest<'a> {
    /// Authenticates `request`'s requester (see the type) at `now_ms`: `Malformed` if the
    /// requesting user is no user URI, `Unauthenticated` (403) if the credential or the
    /// signature does not verify.
    pub fn verify(
        request: &'a KeyMaterialRequest,
        trust: &TrustStore,
        now_ms: u64,
    ) -> Result<Self, RequestError> {
        let requester = request
            .tbs
            .requesting_user
            .to_user()
            .map_err(|e| RequestError::malformed("requestingUser", e))?;
        authenticate(trust, now_ms, request, &requester)?;
        Ok(Self { request, requester })
    }

    /// The request.
    pub fn request(&self) -> &'a KeyMaterialRequest {
        self.request
    }

    /// The authenticated requesting user.
    pub fn requester(&self) -> &UserUri {
        &self.requester
    }
}

/// The answer and the bookkeeping it implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMaterialGrant {
    /// The response body.
    pub response: KeyMaterialResponse,
    /// Each KeyPackageRef handed out and the device it belongs to, to route the Welcome later.
    pub claimed: Vec<(Vec<u8>, ClientUri)>,
    /// The devices whose last-resort KeyPackage was handed out (they have no fresh one left):
    /// the caller counts and reports them, as a device being drained looks like this.
    pub last_resort: Vec<ClientUri>,
}

/// Answers a key-material request for one of our users.
///
/// `devices` is the target user's devices with their pools (`None`: no such user). Pools are
/// changed in place: the caller persists them with the grant in one transaction. `consent` is
/// the target's consent book (none: the user has none yet) and `default_policy` the
/// provider's policy for users who set none ([`UserConsent::decide`]).
pub fn answer_key_material(
    ctx: KeyMaterialContext<'_>,
    verified: &VerifiedKeyMaterialRequest<'_>,
    devices: Option<&mut BTreeMap<ClientUri, KeyPackagePool>>,
    consent: Option<&UserConsent>,
    default_policy: &ConsentPolicy,
    limiter: &mut RequesterLimiter,
) -> Result<KeyMaterialGrant, RequestError> {
    let tbs = &verified.request.tbs;
    let requester = &verified.requester;
    let target = tbs
        .target_user
        .to_user()
        .map_err(|e| RequestError::malformed("targetUser", e))?;
    let room = if tbs.room_id.is_empty() {
        None
    } else {
        Some(
            tbs.room_id
                .to_room()
                .map_err(|e| RequestError::malformed("roomId", e))?,
        )
    };
    if target.domain() != ctx.our_domain {
        return Err(RequestError::NotOurUser(target.to_string()));
    }
    check_peer_may_act(ctx.peer, requester, room.as_ref())?;

    let answer = |code, clients| KeyMaterialGrant {
        response: KeyMaterialResponse::new(code, tbs.target_user.clone(), clients),
        claimed: Vec::new(),
        last_resort: Vec::new(),
    };
    let Some(devices) = devices else {
        return Ok(answer(KeyMaterialUserCode::UserUnknown, Vec::new()));
    };
    match UserConsent::decide(consent, &target, default_policy, requester, room.as_ref()) {
        ConsentDecision::Allowed => {}
        ConsentDecision::NoConsentForThisRoom => {
            return Ok(answer(
                KeyMaterialUserCode::NoConsentForThisRoom,
                Vec::new(),
            ));
        }
        ConsentDecision::NoConsent => {
            return Ok(answer(KeyMaterialUserCode::NoConsent, Vec::new()));
        }
    }
    let wanted = u32::try_from(devices.len()).unwrap_or(u32::MAX);
    if let Err(retry_in_ms) = limiter.take_claim(ctx.peer, requester, &target, wanted, ctx.now_ms) {
        return Err(RequestError::RateLimited { retry_in_ms });
    }

    let mut clients = Vec::with_capacity(devices.len());
    let mut claimed = Vec::new();
    let mut last_resort = Vec::new();
    for (client, pool) in devices.iter_mut() {
        let uri = IdentifierUri::from_string(client.to_string())
            .map_err(|e| RequestError::Internal(e.to_string()))?;
        let claim = pool.claim(ctx.now_ms);
        if matches!(claim, Claim::LastResort(_)) {
            last_resort.push(client.clone());
        }
        let material = match claim {
            Claim::Fresh(entry) | Claim::LastResort(entry) => {
                let key_package = KeyPackage::from_bytes(entry.key_package)
                    .map_err(|e| RequestError::Internal(format!("stored KeyPackage: {e}")))?;
                claimed.push((entry.reference, client.clone()));
                ClientMaterial::Success(key_package)
            }
            _ => ClientMaterial::KeyMaterialExhausted,
        };
        clients.push(ClientKeyMaterial::new(uri, material));
    }
    let code = if claimed.is_empty() {
        KeyMaterialUserCode::NoCompatibleMaterial
    } else if claimed.len() == clients.len() {
        KeyMaterialUserCode::Success
    } else {
        KeyMaterialUserCode::PartialSuccess
    };
    Ok(KeyMaterialGrant {
        response: KeyMaterialResponse::new(code, tbs.target_user.clone(), clients),
        claimed,
        last_resort,
    })
}

/// The requester's credential names the requesting user and the signature verifies.
fn authenticate(
    trust: &TrustStore,
    now_ms: u64,
    request: &KeyMaterialRequest,
    requester: &UserUri,
) -> Result<(), RequestError> {
    let tbs = &request.tbs;
    let identity = mimi_mls::verify_credential(
        tbs.requester_credential.as_bytes(),
        tbs.requester_signature_key.as_bytes(),
        trust,
        now_ms / 1000,
    )
    .map_err(|e| RequestError::Unauthenticated(format!("requester credential: {e}")))?;
    match identity {
        VerifiedIdentity::Client { user, .. } if &user == requester => {}
        other => {
            return Err(RequestError::Unauthenticated(format!(
                "the credential names {other:?}, not the requesting user {requester}"
            )));
        }
    }
    let signed = tbs
        .encode()
        .map_err(|e| RequestError::Internal(format!("KeyMaterialRequestTBS: {e}")))?;
    sign::verify_with_label(
        tbs.requester_signature_key.as_bytes(),
        sign::KEY_MATERIAL_REQUEST,
        &signed,
        request.key_material_request_signature.as_bytes(),
    )
    .map_err(|_| RequestError::Unauthenticated("bad KeyMaterialRequest signature".into()))
}

/// A peer may ask for its own users, or as the hub of the room the request names.
pub(crate) fn check_peer_may_act(
    peer: &Domain,
    requester: &UserUri,
    room: Option<&RoomUri>,
) -> Result<(), RequestError> {
    let as_requester = requester.domain() == peer;
    let as_hub = room.is_some_and(|room| room.hub_domain() == peer);
    if as_requester || as_hub {
        Ok(())
    } else {
        Err(RequestError::ActingForForeignUser {
            peer: peer.clone(),
            user: requester.to_string(),
        })
    }
}
