//! A new device joining a room its user is in, by external commit: through the provider's
//! `external-join` route for rooms hosted here, and the hub's GroupInfo exchange
//! (protocol-06 §5.6, `POST /v1/rooms/{room}/group-info`) for rooms hosted elsewhere.

use mimi_client_api::{ExternalJoinInfo, GroupInfoFetch, HubAnswer, routes};
use mimi_federation_api::codec::Reader;
use mimi_federation_api::group_info::{
    GroupInfoOutcome, GroupInfoRatchetTreeTbe, GroupInfoRequestTbs, GroupInfoResponse,
};
use mimi_federation_api::mls::{Credential, HpkePublicKey, Signature, SignaturePublicKey};
use mimi_federation_api::path::encode_param;
use mimi_federation_api::ratchet_tree::RatchetTreeOption;
use mimi_federation_api::{Encode as _, decode_exact};
use mimi_mls::{VerifiedIdentity, sign};
use mimi_types::RoomUri;
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;
use reqwest::Method;

use crate::device::{Device, now_s};
use crate::error::SdkError;

/// What an external commit needs.
struct JoinInfo {
    group_info: Vec<u8>,
    ratchet_tree: Vec<u8>,
    pending_proposals: Vec<Vec<u8>>,
}

fn bad(route: &str, e: impl std::fmt::Display) -> SdkError {
    SdkError::Protocol {
        route: route.to_owned(),
        reason: e.to_string(),
    }
}

impl Device {
    /// Joins `room` with this (new) device by external commit, for a user who is already a
    /// participant. Rooms hosted elsewhere go through the hub's GroupInfo exchange, whose
    /// answer must be signed by a server credential of the room's hub domain that chains to
    /// the trust bundle.
    pub async fn join_external(&mut self, room: &RoomUri) -> Result<(), SdkError> {
        let info = self.join_info(room).await?;
        let op = self.client.join_external(
            now_s(),
            room,
            &info.group_info,
            &info.ratchet_tree,
            &info.pending_proposals,
        )?;
        self.run_op(op).await
    }

    /// Rejoins `room`, which this device is behind in (a commit it could not process, see
    /// [`mimi_client_core::ClientEvent::CommitFailed`]), by a resync external commit from the
    /// hub's current GroupInfo: the device keeps its history and its client URI, and its
    /// queued messages are sent once the hub accepts. [`Device::sync`] does this on its own
    /// when it meets such a commit; this is for a user who asks. If another commit overtakes
    /// the rejoin, it is tried again (at most three times).
    pub async fn rejoin(&mut self, room: &RoomUri) -> Result<(), SdkError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let info = self.join_info(room).await?;
            let op = self.client.rejoin(
                now_s(),
                room,
                &info.group_info,
                &info.ratchet_tree,
                &info.pending_proposals,
            )?;
            match self.run_op(op).await {
                Err(SdkError::Refused {
                    refusal: mimi_client_core::HubRefusal::WrongEpoch { .. },
                    ..
                }) if attempt < 3 => continue,
                other => return other,
            }
        }
    }

    /// What an external commit into `room` needs: from this provider's `external-join` route
    /// for rooms hosted here, else by the hub's GroupInfo exchange.
    async fn join_info(&self, room: &RoomUri) -> Result<JoinInfo, SdkError> {
        if room.hub_domain() == self.domain() {
            let path = routes::fill(&routes::EXTERNAL_JOIN, Some(&encode_param(room)), None);
            let info: ExternalJoinInfo = self
                .api
                .call(Method::GET, &path, Some(self.token()), None::<&()>)
                .await?;
            Ok(JoinInfo {
                group_info: info.group_info,
                ratchet_tree: info.ratchet_tree,
                pending_proposals: info.pending_proposals,
            })
        } else {
            self.group_info_exchange(room, None).await
        }
    }

    /// Joins `room` as a user who is not yet a participant: with a join link's `code`, or
    /// without one into an open room. The hub's GroupInfo exchange carries the code
    /// (`joiningCode`), and so does the external commit, so the hub and every member check it.
    /// A refused link (unknown, revoked, used up or expired) or a closed room is
    /// [`SdkError::Protocol`] naming the hub's `notAuthorized`.
    pub async fn join_as_newcomer(
        &mut self,
        room: &RoomUri,
        code: Option<&[u8]>,
    ) -> Result<(), SdkError> {
        let info = self.group_info_exchange(room, code).await?;
        let op = self.client.join_as_newcomer(
            now_s(),
            room,
            code,
            &info.group_info,
            &info.ratchet_tree,
            &info.pending_proposals,
        )?;
        self.run_op(op).await
    }

    async fn group_info_exchange(
        &self,
        room: &RoomUri,
        code: Option<&[u8]>,
    ) -> Result<JoinInfo, SdkError> {
        let route = "POST /v1/rooms/{room}/group-info";
        let identity = self.client.identity();
        let pair = mimi_mls::hpke_key_pair().map_err(|e| bad(route, e))?;
        let tbs = GroupInfoRequestTbs::new(
            DEFAULT_CIPHERSUITE,
            SignaturePublicKey::from_bytes(identity.signing_key().public().to_vec())
                .map_err(|e| bad(route, e))?,
            Credential::from_bytes(identity.mls_credential_bytes().map_err(|e| bad(route, e))?)
                .map_err(|e| bad(route, e))?,
            HpkePublicKey::from_bytes(pair.public.clone()).map_err(|e| bad(route, e))?,
            code.map(<[u8]>::to_vec),
        );
        let signature = sign::sign_with_label(
            identity.signing_key(),
            sign::GROUP_INFO_REQUEST,
            &tbs.encode().map_err(|e| bad(route, e))?,
        )
        .map_err(|e| bad(route, e))?;
        let request = tbs.sign(Signature::from_bytes(signature).map_err(|e| bad(route, e))?);
        let path = routes::fill(&routes::GROUP_INFO, Some(&encode_param(room)), None);
        let answer: HubAnswer = self
            .api
            .call(
                Method::POST,
                &path,
                Some(self.token()),
                Some(&GroupInfoFetch {
                    request: request.encode().map_err(|e| bad(route, e))?,
                }),
            )
            .await?;
        let response: GroupInfoResponse =
            decode_exact(&answer.response).map_err(|e| bad(route, e))?;
        let (Some(signed), GroupInfoOutcome::Success(success)) =
            (response.tbs(), &response.outcome)
        else {
            return Err(bad(
                route,
                format!(
                    "the hub of {room} refused: {:?} (a join link may be unknown, revoked, used up or expired, or the room takes no newcomers)",
                    response.outcome
                ),
            ));
        };
        // The hub's external sender: its key and a server credential of the hub's domain.
        let mut sender = Reader::new(success.hub_sender.as_bytes());
        let hub_key = sender
            .opaque("signature_key", usize::MAX)
            .map_err(|e| bad(route, e))?;
        match mimi_mls::verify_credential(sender.rest(), hub_key, self.trust(), now_s()) {
            Ok(VerifiedIdentity::Server(domain)) if &domain == room.hub_domain() => {}
            Ok(other) => {
                return Err(bad(
                    route,
                    format!(
                        "the answer is signed for {} and not by the hub of {room}",
                        other.domain()
                    ),
                ));
            }
            Err(e) => return Err(bad(route, format!("the hub's credential: {e}"))),
        }
        sign::verify_with_label(
            hub_key,
            sign::GROUP_INFO_RESPONSE,
            &signed.encode().map_err(|e| bad(route, e))?,
            success.signature.as_bytes(),
        )
        .map_err(|e| bad(route, format!("the hub's signature does not verify: {e}")))?;
        let mut sealed = Reader::new(success.encrypted_groupinfo_and_tree.as_bytes());
        let kem_output = sealed
            .opaque("kem_output", usize::MAX)
            .map_err(|e| bad(route, e))?;
        let ciphertext = sealed
            .opaque("ciphertext", usize::MAX)
            .map_err(|e| bad(route, e))?;
        let plain = mimi_mls::decrypt_with_label(
            &pair.private,
            GROUP_INFO_ENCRYPTION_LABEL,
            room.to_string().as_bytes(),
            kem_output,
            ciphertext,
        )
        .map_err(|e| bad(route, e))?;
        let tbe: GroupInfoRatchetTreeTbe = decode_exact(&plain).map_err(|e| bad(route, e))?;
        let RatchetTreeOption::Full(tree) = &tbe.ratchet_tree_option else {
            return Err(bad(route, "the hub sent no ratchet tree"));
        };
        Ok(JoinInfo {
            group_info: tbe
                .group_info
                .to_mls_message()
                .map_err(|e| bad(route, e))?
                .into_bytes(),
            ratchet_tree: tree.encode().map_err(|e| bad(route, e))?,
            pending_proposals: tbe
                .pending_proposals
                .iter()
                .map(|p| p.proposal.as_bytes().to_vec())
                .collect(),
        })
    }
}

/// The HPKE label of the GroupInfo exchange's encryption (protocol-06 §5.6).
const GROUP_INFO_ENCRYPTION_LABEL: &str = "GroupInfo and ratchet_tree encryption";
