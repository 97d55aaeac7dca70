//! `POST /groupInfo/{roomId}` at the hub (protocol-06 §5.6, digest §3.6): the GroupInfo, tree
//! and pending proposals a joiner needs for an external commit, encrypted to the joiner and
//! signed by the hub.
//!
//! Who may fetch (our reading; the draft leaves it to policy): a participant of the room who is
//! not banned, asking for a new device of its own; a newcomer whose `joiningCode` opens the
//! room (one of its join links, not expired, role 0 holding `canUseJoinCode`); a newcomer into
//! a room with open join. The external commit that follows is authorized again in full by
//! `update`. Everyone else gets `notAuthorized` (the draft has no finer join-code codes yet),
//! whichever reason applies.

use mimi_federation_api::codec::Writer;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::group_info::{
    GroupInfoOutcome, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoResponse,
    GroupInfoSuccess, PendingProposal,
};
use mimi_federation_api::mls::{
    ExternalSender, HpkeCiphertext, MlsMessage, RatchetTree, Signature,
};
use mimi_federation_api::ratchet_tree::RatchetTreeOption;
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::{ServerIdentity, TrustStore, VerifiedIdentity, sign};
use mimi_types::Domain;
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;

use super::HubRoom;
use crate::error::RequestError;

/// The HPKE label of the GroupInfo encryption (protocol-06 §5.6).
pub const GROUP_INFO_ENCRYPTION_LABEL: &str = "GroupInfo and ratchet_tree encryption";

fn internal(what: &str, e: impl std::fmt::Display) -> RequestError {
    RequestError::Internal(format!("{what}: {e}"))
}

impl HubRoom {
    /// Whether a new device of `user` may get what an external join needs: the one check
    /// behind both this route and the client API's `external-join` (see
    /// [`mimi_room::RoomState::may_join_new_device`]).
    pub fn may_join_new_device(&self, user: &mimi_types::UserUri) -> Result<(), mimi_room::Denied> {
        self.check_open()?;
        self.may_join_new_device_of_open_room(user)
    }

    /// [`HubRoom::may_join_new_device`] once the caller has checked that the room is open.
    fn may_join_new_device_of_open_room(
        &self,
        user: &mimi_types::UserUri,
    ) -> Result<(), mimi_room::Denied> {
        let room = self.group().room();
        room.require_server(
            user.domain(),
            mimi_room::components::ServerCapabilities::JOIN,
        )?;
        room.may_commit_externally()?;
        room.may_join_new_device(user)
    }

    /// Whether `user` (with its device `client`) may get what an external join needs: a
    /// participant's new device (see [`HubRoom::may_join_new_device`]); a newcomer whose
    /// credential a preauthorization entry matches (its role must hold
    /// `canJoinIfPreauthorized`); a newcomer with a join `code` that opens the room
    /// at `now_s` (not unknown, revoked, used up or expired); or a newcomer without one into a
    /// room with open join. Always, the room's `server_policy` must let the user's provider
    /// `join`. The external commit that follows is authorized again in full.
    pub fn may_join(
        &self,
        client: &mimi_types::ClientUri,
        user: &mimi_types::UserUri,
        code: Option<&[u8]>,
        now_s: u64,
    ) -> Result<(), mimi_room::Denied> {
        self.check_open()?;
        let room = self.group().room();
        if room.participants().index_of(user).is_some() {
            return self.may_join_new_device_of_open_room(user);
        }
        room.require_server(
            user.domain(),
            mimi_room::components::ServerCapabilities::JOIN,
        )?;
        room.may_commit_externally()?;
        let claims = mimi_room::components::Claim::of_x509_client(client, user);
        if room
            .preauth()
            .is_some_and(|p| p.first_match(&claims).is_some())
        {
            return room.may_join_preauthorized(&claims).map(drop);
        }
        match code {
            Some(code) => room
                .check_join_code(&mimi_mls::join_code_digest(code), Some(now_s))
                .map(drop),
            None => room.may_open_join(user),
        }
    }

    /// The `notAuthorized` answer for `room` (protocol-06 §5.6 lets the hub give it instead of
    /// `noSuchRoom`): what a room we do not host, and one a peer may not learn of, answer
    /// alike, so a stranger cannot tell them apart.
    pub fn group_info_refusal(
        room: &mimi_types::RoomUri,
    ) -> Result<GroupInfoResponse, RequestError> {
        let room_id =
            IdentifierUri::from_string(room.to_string()).map_err(|e| internal("room id", e))?;
        Ok(GroupInfoResponse::new(
            room_id,
            GroupInfoOutcome::NotAuthorized,
        ))
    }

    /// Answers a joiner's GroupInfo request. `trust` validates the joiner's credential; `hub`
    /// signs the answer (it must be the group's external sender).
    pub fn handle_group_info(
        &self,
        now_ms: u64,
        peer: &Domain,
        request: &GroupInfoRequest,
        trust: &TrustStore,
        hub: &ServerIdentity,
    ) -> Result<GroupInfoResponse, RequestError> {
        let room_id = IdentifierUri::from_string(self.room().to_string())
            .map_err(|e| internal("room id", e))?;
        let refuse = || GroupInfoResponse::new(room_id.clone(), GroupInfoOutcome::NotAuthorized);
        let tbs = &request.tbs;
        if tbs.cipher_suite != DEFAULT_CIPHERSUITE {
            return Ok(refuse());
        }
        let Ok(VerifiedIdentity::Client { client, user, .. }) = mimi_mls::verify_credential(
            tbs.requesting_credential.as_bytes(),
            tbs.requesting_signature_key.as_bytes(),
            trust,
            now_ms / 1000,
        ) else {
            return Ok(refuse());
        };
        if client.domain() != peer {
            return Err(RequestError::ActingForForeignUser {
                peer: peer.clone(),
                user: client.to_string(),
            });
        }
        let signed = tbs
            .encode()
            .map_err(|e| internal("GroupInfoRequestTBS", e))?;
        if sign::verify_with_label(
            tbs.requesting_signature_key.as_bytes(),
            sign::GROUP_INFO_REQUEST,
            &signed,
            request.signature.as_bytes(),
        )
        .is_err()
        {
            return Ok(refuse());
        }
        if self
            .may_join(&client, &user, tbs.joining_code.as_deref(), now_ms / 1000)
            .is_err()
        {
            return Ok(refuse());
        }
        let Some(group_info) = self.group().group_info() else {
            return Ok(refuse());
        };
        let group_info = MlsMessage::from_bytes(group_info.to_vec())
            .and_then(|m| m.to_group_info())
            .map_err(|e| internal("stored GroupInfo", e))?;
        let tree = self
            .group()
            .ratchet_tree()
            .map_err(|e| internal("ratchet tree", e))?;
        let tree = decode_exact::<RatchetTree>(&tree).map_err(|e| internal("ratchet tree", e))?;
        let mut pending = Vec::new();
        for (message, accepted_at) in self.group().pending_proposals() {
            let message = MlsMessage::from_bytes(message).map_err(|e| internal("proposal", e))?;
            pending.push(PendingProposal::new(
                message,
                accepted_at.saturating_mul(1000),
            ));
        }
        let tbe = GroupInfoRatchetTreeTbe::new(group_info, RatchetTreeOption::Full(tree), pending)
            .encode()
            .map_err(|e| internal("GroupInfoRatchetTreeTBE", e))?;
        let (kem_output, ciphertext) = mimi_mls::encrypt_with_label(
            tbs.group_info_public_key.as_bytes(),
            GROUP_INFO_ENCRYPTION_LABEL,
            self.room().to_string().as_bytes(),
            &tbe,
        )
        .map_err(|_| RequestError::malformed("groupInfoPublicKey", "not a usable HPKE key"))?;
        let encrypted = hpke_ciphertext(&kem_output, &ciphertext)?;
        let hub_sender = external_sender(hub)?;
        let mut response = GroupInfoResponse::new(
            room_id.clone(),
            GroupInfoOutcome::Success(GroupInfoSuccess::new(
                DEFAULT_CIPHERSUITE,
                hub_sender,
                encrypted,
                Signature::from_bytes(Vec::new()).map_err(|e| internal("signature", e))?,
            )),
        );
        let tbs = response
            .tbs()
            .ok_or_else(|| internal("GroupInfoResponseTBS", "missing"))?
            .encode()
            .map_err(|e| internal("GroupInfoResponseTBS", e))?;
        let signature = sign::sign_with_label(hub.signing_key(), sign::GROUP_INFO_RESPONSE, &tbs)
            .map_err(|e| internal("hub signature", e))?;
        if let GroupInfoOutcome::Success(success) = &mut response.outcome {
            success.signature =
                Signature::from_bytes(signature).map_err(|e| internal("signature", e))?;
        }
        Ok(response)
    }
}

/// `HPKECiphertext { opaque kem_output<V>; opaque ciphertext<V>; }`
fn hpke_ciphertext(kem_output: &[u8], ciphertext: &[u8]) -> Result<HpkeCiphertext, RequestError> {
    let mut w = Writer::new();
    w.opaque("kem_output", usize::MAX, kem_output)
        .and_then(|()| w.opaque("ciphertext", usize::MAX, ciphertext))
        .map_err(|e| internal("HPKECiphertext", e))?;
    HpkeCiphertext::from_bytes(w.into_bytes()).map_err(|e| internal("HPKECiphertext", e))
}

/// The hub's `ExternalSender { SignaturePublicKey signature_key; Credential credential; }`.
fn external_sender(hub: &ServerIdentity) -> Result<ExternalSender, RequestError> {
    let mut w = Writer::new();
    w.opaque("signature_key", usize::MAX, hub.signing_key().public())
        .map_err(|e| internal("ExternalSender", e))?;
    let mut bytes = w.into_bytes();
    bytes.extend(
        hub.mls_credential_bytes()
            .map_err(|e| internal("hub credential", e))?,
    );
    ExternalSender::from_bytes(bytes).map_err(|e| internal("ExternalSender", e))
}
