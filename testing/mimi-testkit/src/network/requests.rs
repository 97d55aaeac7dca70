//! Requests to a hub or a target provider as they cross the wire: keyMaterial, groupInfo,
//! reportAbuse, update, submitMessage, and injected notify bodies.

use mimi_ds::follower::{
    KeyMaterialContext, KeyMaterialGrant, VerifiedKeyMaterialRequest, answer_key_material,
};
use mimi_ds::hub::{AbuseReportOutcome, GROUP_INFO_ENCRYPTION_LABEL};
use mimi_federation_api::codec::Reader;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::group_info::{
    GroupInfoOutcome, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoRequestTbs,
    GroupInfoResponse,
};
use mimi_federation_api::key_material::{
    ClientMaterial, KeyMaterialRequest, KeyMaterialRequestTbs,
};
use mimi_federation_api::mls::{
    Credential, HpkePublicKey, RequiredCapabilities, Signature, SignaturePublicKey,
};
use mimi_federation_api::ratchet_tree::RatchetTreeOption;
use mimi_federation_api::report_abuse::AbuseReport;
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_federation_api::update::{UpdateOutcome, UpdateRequest};
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::{HpkeKeyPair, sign};
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

use super::{Network, SimError, wire};

impl Network {
    /// The signed `keyMaterial` request of `actor` for `target`'s devices, for `room`.
    pub fn key_material_request(
        &self,
        actor: &ClientUri,
        target: &UserUri,
        room: &RoomUri,
    ) -> Result<KeyMaterialRequest, SimError> {
        let device = self
            .devices
            .get(actor)
            .ok_or_else(|| SimError::Unknown(format!("device {actor}")))?;
        let identity = device.client.identity();
        let requester = identity.user().clone();
        let tbs = KeyMaterialRequestTbs::new(
            IdentifierUri::from_string(requester.to_string()).map_err(wire)?,
            IdentifierUri::from_string(target.to_string()).map_err(wire)?,
            IdentifierUri::from_string(room.to_string()).map_err(wire)?,
            vec![DEFAULT_CIPHERSUITE],
            RequiredCapabilities::from_bytes(required_capabilities()).map_err(wire)?,
            SignaturePublicKey::from_bytes(identity.signing_key().public().to_vec())
                .map_err(wire)?,
            Credential::from_bytes(identity.mls_credential_bytes()?).map_err(wire)?,
        );
        let tbs_bytes = tbs.encode().map_err(wire)?;
        let signature = sign::sign_with_label(
            identity.signing_key(),
            sign::KEY_MATERIAL_REQUEST,
            &tbs_bytes,
        )
        .map_err(|e| SimError::Other(e.to_string()))?;
        Ok(tbs.sign(Signature::from_bytes(signature).map_err(wire)?))
    }

    /// `POST /keyMaterial` arriving at the target user's provider from `peer`, as bytes on the
    /// wire. Claimed KeyPackages are recorded for Welcome routing.
    pub fn target_key_material(
        &mut self,
        peer: &Domain,
        request: &KeyMaterialRequest,
    ) -> Result<KeyMaterialGrant, SimError> {
        let request: KeyMaterialRequest =
            decode_exact(&request.encode().map_err(wire)?).map_err(wire)?;
        let target = request.tbs.target_user.to_user().map_err(wire)?;
        let now_ms = self.now_ms;
        let trust = self.trust.clone();
        let verified = VerifiedKeyMaterialRequest::verify(&request, &trust, now_ms)?;
        let target_provider = self.provider_mut(target.domain())?;
        let our_domain = target_provider.domain.clone();
        let mut devices = target_provider.users.get(&target).cloned();
        let grant = answer_key_material(
            KeyMaterialContext {
                now_ms,
                peer,
                our_domain: &our_domain,
            },
            &verified,
            devices.as_mut(),
            None,
            &target_provider.consent,
            &mut target_provider.limiter,
        )?;
        if let Some(devices) = devices {
            target_provider.users.insert(target.clone(), devices);
        }
        for (reference, client) in &grant.claimed {
            target_provider
                .claims
                .insert(reference.clone(), client.clone());
        }
        Ok(grant)
    }

    /// `actor` fetches one KeyPackage per device of `target` for `room`, through the room's
    /// hub (which records the routes for the Welcome). Returns each device and its KeyPackage
    /// as an MLSMessage.
    pub fn key_material(
        &mut self,
        actor: &ClientUri,
        target: &UserUri,
        room: &RoomUri,
    ) -> Result<Vec<(ClientUri, Vec<u8>)>, SimError> {
        let request = self.key_material_request(actor, target, room)?;
        let grant = self.target_key_material(&room.hub_domain().clone(), &request)?;
        let refs = grant.claimed.iter().map(|(r, _)| r.clone());
        let target_domain = target.domain().clone();
        self.hub_mut(room)?.record_routes(&target_domain, refs);
        let mut out = Vec::new();
        for client in &grant.response.clients {
            if let ClientMaterial::Success(kp) = &client.material {
                let uri = client.client_uri.to_client().map_err(wire)?;
                out.push((uri, kp.to_mls_message().map_err(wire)?.into_bytes()));
            }
        }
        Ok(out)
    }

    /// The signed `groupInfo` request of `device`, and the HPKE key pair it opens the answer
    /// with.
    pub fn group_info_request(
        &self,
        device: &ClientUri,
    ) -> Result<(GroupInfoRequest, HpkeKeyPair), SimError> {
        let identity = self
            .devices
            .get(device)
            .ok_or_else(|| SimError::Unknown(format!("device {device}")))?
            .client
            .identity();
        let pair = mimi_mls::hpke_key_pair()?;
        let tbs = GroupInfoRequestTbs::new(
            DEFAULT_CIPHERSUITE,
            SignaturePublicKey::from_bytes(identity.signing_key().public().to_vec())
                .map_err(wire)?,
            Credential::from_bytes(identity.mls_credential_bytes()?).map_err(wire)?,
            HpkePublicKey::from_bytes(pair.public.clone()).map_err(wire)?,
            None,
        );
        let signature = sign::sign_with_label(
            identity.signing_key(),
            sign::GROUP_INFO_REQUEST,
            &tbs.encode().map_err(wire)?,
        )
        .map_err(|e| SimError::Other(e.to_string()))?;
        Ok((
            tbs.sign(Signature::from_bytes(signature).map_err(wire)?),
            pair,
        ))
    }

    /// `POST /groupInfo` from `peer` to the room's hub, as bytes on the wire.
    pub fn hub_group_info(
        &self,
        peer: &Domain,
        room: &RoomUri,
        request: &GroupInfoRequest,
    ) -> Result<GroupInfoResponse, SimError> {
        let request: GroupInfoRequest =
            decode_exact(&request.encode().map_err(wire)?).map_err(wire)?;
        let hub = self
            .providers
            .get(room.hub_domain())
            .ok_or_else(|| SimError::Unknown(format!("hub {}", room.hub_domain())))?;
        let hub_room = hub
            .hub_rooms
            .get(room)
            .ok_or_else(|| SimError::Unknown(format!("room {room}")))?;
        let response =
            hub_room.handle_group_info(self.now_ms, peer, &request, &self.trust, &hub.server)?;
        decode_exact(&response.encode().map_err(wire)?).map_err(wire)
    }

    /// Fetches and opens the GroupInfo of `room` for `device`.
    pub(super) fn fetch_group_info(
        &self,
        device: &ClientUri,
        room: &RoomUri,
    ) -> Result<JoinMaterial, SimError> {
        let (request, pair) = self.group_info_request(device)?;
        let response = self.hub_group_info(device.domain(), room, &request)?;
        let tbs = response
            .tbs()
            .ok_or_else(|| SimError::Other(format!("groupInfo refused: {:?}", response.outcome)))?;
        let GroupInfoOutcome::Success(success) = &response.outcome else {
            return Err(SimError::Other("groupInfo refused".into()));
        };
        // The hub signs with its external-sender key.
        let mut sender = Reader::new(success.hub_sender.as_bytes());
        let hub_key = sender.opaque("signature_key", usize::MAX).map_err(wire)?;
        sign::verify_with_label(
            hub_key,
            sign::GROUP_INFO_RESPONSE,
            &tbs.encode().map_err(wire)?,
            success.signature.as_bytes(),
        )
        .map_err(|e| SimError::Other(format!("hub signature: {e}")))?;
        let mut sealed = Reader::new(success.encrypted_groupinfo_and_tree.as_bytes());
        let kem_output = sealed.opaque("kem_output", usize::MAX).map_err(wire)?;
        let ciphertext = sealed.opaque("ciphertext", usize::MAX).map_err(wire)?;
        let plain = mimi_mls::decrypt_with_label(
            &pair.private,
            GROUP_INFO_ENCRYPTION_LABEL,
            room.to_string().as_bytes(),
            kem_output,
            ciphertext,
        )?;
        let tbe: GroupInfoRatchetTreeTbe = decode_exact(&plain).map_err(wire)?;
        let RatchetTreeOption::Full(tree) = &tbe.ratchet_tree_option else {
            return Err(SimError::Other("the hub sent no ratchet tree".into()));
        };
        Ok(JoinMaterial {
            group_info: tbe.group_info.to_mls_message().map_err(wire)?.into_bytes(),
            tree: tree.encode().map_err(wire)?,
            pending: tbe
                .pending_proposals
                .iter()
                .map(|p| p.proposal.as_bytes().to_vec())
                .collect(),
        })
    }

    /// `POST /reportAbuse` from `peer` to the room's hub.
    pub fn hub_report_abuse(
        &self,
        peer: &Domain,
        room: &RoomUri,
        report: &AbuseReport,
    ) -> Result<AbuseReportOutcome, SimError> {
        let report: AbuseReport = decode_exact(&report.encode().map_err(wire)?).map_err(wire)?;
        let provider = self
            .providers
            .get(room.hub_domain())
            .ok_or_else(|| SimError::Unknown(format!("room {room}")))?;
        let franker = provider.server.franker()?;
        let hub = provider
            .hub_rooms
            .get(room)
            .ok_or_else(|| SimError::Unknown(format!("room {room}")))?;
        Ok(hub.handle_report_abuse(peer, report, Some(&franker))?)
    }

    /// `POST /update` from `peer` to the room's hub, as bytes on the wire; the fan-out of an
    /// accepted handshake is queued.
    pub fn hub_update(
        &mut self,
        peer: &Domain,
        room: &RoomUri,
        request: &UpdateRequest,
    ) -> Result<UpdateOutcome, SimError> {
        let request = decode_exact(&request.encode().map_err(wire)?).map_err(wire)?;
        let now_ms = self.now_ms;
        let output = self.hub_mut(room)?.handle_update(now_ms, peer, request)?;
        self.enqueue(room.hub_domain().clone(), output.effects)?;
        Ok(output.response.outcome)
    }

    /// `POST /submitMessage` from `peer` to the room's hub, as bytes on the wire.
    pub fn hub_submit(
        &mut self,
        peer: &Domain,
        room: &RoomUri,
        request: &SubmitMessageRequest,
    ) -> Result<SubmitOutcome, SimError> {
        let request = decode_exact(&request.encode().map_err(wire)?).map_err(wire)?;
        let now_ms = self.now_ms;
        let franker = self
            .providers
            .get(room.hub_domain())
            .ok_or_else(|| SimError::Unknown(format!("room {room}")))?
            .server
            .franker()?;
        let output = self
            .hub_mut(room)?
            .handle_submit(now_ms, peer, request, Some(&franker))?;
        self.enqueue(room.hub_domain().clone(), output.effects)?;
        Ok(output.response.outcome)
    }

    /// A `notify` body from `from` arriving at `to`, outside the hub's queues (as a malicious
    /// or confused peer would send it).
    pub fn inject_notify(
        &mut self,
        from: &Domain,
        to: &Domain,
        room: &RoomUri,
        body: &[u8],
    ) -> Result<(), SimError> {
        self.deliver_notify(from, to, room, body, &std::collections::BTreeSet::new())
    }

    /// Like [`Network::inject_notify`], naming the follower's devices the body's application
    /// messages are withheld from.
    pub fn inject_notify_withholding(
        &mut self,
        from: &Domain,
        to: &Domain,
        room: &RoomUri,
        body: &[u8],
        withheld: &std::collections::BTreeSet<ClientUri>,
    ) -> Result<(), SimError> {
        self.deliver_notify(from, to, room, body, withheld)
    }
}

/// What an external joiner gets from the hub's `groupInfo` answer, opened.
pub(super) struct JoinMaterial {
    /// The GroupInfo as an MLSMessage.
    pub(super) group_info: Vec<u8>,
    /// The ratchet tree, TLS-encoded.
    pub(super) tree: Vec<u8>,
    /// The proposals pending at the hub.
    pub(super) pending: Vec<Vec<u8>>,
}

/// The RequiredCapabilities a MIMI room asks of KeyPackages: the app_data_dictionary
/// extension, the AppDataUpdate and SelfRemove proposals, X.509 credentials.
fn required_capabilities() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0x02, 0x00, 0x06]);
    out.extend_from_slice(&[0x04, 0x00, 0x08, 0x00, 0x0a]);
    out.extend_from_slice(&[0x02, 0x00, 0x02]);
    out
}
