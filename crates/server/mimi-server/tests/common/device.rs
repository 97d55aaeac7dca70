//! A device: a real mimi-mls client talking to its provider's client API over HTTP.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mimi_client_api::{
    ApiError, CreateRoom, DeviceKind, DeviceRegistered, EventsResponse, ExternalJoinInfo,
    HubAnswer, KeyMaterialFetch, RegisterAccount, RegisterDevice, SubmitMessage, SubmitUpdate,
    UploadKeyPackages,
};
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::key_material::{
    ClientMaterial, KeyMaterialRequestTbs, KeyMaterialResponse,
};
use mimi_federation_api::mls::{
    ContentType, Credential, MlsMessage, RatchetTree, RequiredCapabilities, Signature,
    SignaturePublicKey,
};
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_federation_api::path::encode_param;
use mimi_federation_api::ratchet_tree::{GroupInfoOption, RatchetTreeOption};
use mimi_federation_api::submit_message::{
    SubmitMessageRequest, SubmitMessageResponse, SubmitOutcome,
};
use mimi_federation_api::update::{
    CommitBundle, HandshakeBundle, UpdateOutcome, UpdateRequest, UpdateRoomResponse,
};
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::{
    ClientGroup, ClientIdentity, ExternalSenderInfo, Incoming, OutgoingCommit, SigningKey,
    TrustStore, X509Credential, sign,
};
use mimi_room::ComponentChange;
use mimi_room::components::{
    Component as _, ParticipantListUpdate, RoleIndex, UserIndexRolePair, UserRolePair,
};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_types::codepoints::{ComponentId, DEFAULT_CIPHERSUITE};
use mimi_types::{ClientUri, RoomUri, UserUri};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

pub fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A failed API call: status and body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub error: Option<ApiError>,
}

/// A raw HTTP helper for the client API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: String) -> Self {
        // reqwest is built without a default TLS provider; plain HTTP still needs one set.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            base,
            http: reqwest::Client::new(),
        }
    }

    pub async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&impl Serialize>,
    ) -> Result<T, Refused> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).unwrap());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        if (200..300).contains(&status) {
            Ok(serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{path}: {e}: {}", String::from_utf8_lossy(&bytes))))
        } else {
            Err(Refused {
                status,
                error: serde_json::from_slice(&bytes).ok(),
            })
        }
    }
}

/// What a device saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Joined(RoomUri),
    Message {
        room: RoomUri,
        sender: ClientUri,
        text: String,
    },
    Commit {
        room: RoomUri,
        epoch: u64,
        removed_me: bool,
    },
    Proposal(RoomUri),
    Failed(String),
}

pub struct Device {
    pub api: Api,
    pub token: String,
    pub identity: ClientIdentity,
    pub trust: TrustStore,
    pub hub_sender: ExternalSenderInfo,
    pub groups: BTreeMap<RoomUri, ClientGroup>,
    pub cursor: u64,
    pub seen: Vec<Seen>,
    /// Event cursors received, to check each arrives once.
    pub seqs: Vec<u64>,
    sent: BTreeMap<[u8; 32], Option<String>>,
    known_hubs: BTreeMap<String, Vec<u8>>,
}

impl Device {
    pub async fn register_user(api: &Api, user_id: &str) {
        let _: serde_json::Value = api
            .call(
                reqwest::Method::POST,
                "/v1/accounts",
                None,
                Some(&RegisterAccount {
                    user_id: user_id.into(),
                    password: format!("{user_id}-password"),
                }),
            )
            .await
            .unwrap();
    }

    /// Registers the account `user_id` and its first device `device_id` with `key_packages`
    /// KeyPackages ([`Device::register_user`], then [`Device::register`]).
    pub async fn new_user(api: &Api, user_id: &str, device_id: &str, key_packages: usize) -> Self {
        Self::register_user(api, user_id).await;
        Self::register(api, user_id, device_id, key_packages).await
    }

    /// Registers a device of an existing user and uploads `key_packages` KeyPackages.
    pub async fn register(api: &Api, user_id: &str, device_id: &str, key_packages: usize) -> Self {
        Self::register_as(api, user_id, device_id, key_packages, None).await
    }

    /// Registers a device of an existing user as `kind` (a bot or a logging client; `None`: a
    /// person's device) and uploads `key_packages` KeyPackages.
    pub async fn register_as(
        api: &Api,
        user_id: &str,
        device_id: &str,
        key_packages: usize,
        kind: Option<DeviceKind>,
    ) -> Self {
        let key = SigningKey::generate().unwrap();
        let registered: DeviceRegistered = api
            .call(
                reqwest::Method::POST,
                "/v1/devices",
                None,
                Some(&RegisterDevice {
                    user_id: user_id.into(),
                    password: format!("{user_id}-password"),
                    device_id: device_id.into(),
                    signature_key: key.public().to_vec(),
                    kind,
                }),
            )
            .await
            .unwrap();
        let mut trust = TrustStore::new();
        for (domain, ca) in &registered.trust_bundle {
            trust.pin(domain.parse().unwrap(), ca).unwrap();
        }
        let client = ClientUri::parse(&registered.client).unwrap();
        let user = UserUri::parse(&registered.user).unwrap();
        let identity = ClientIdentity::from_parts(
            client,
            user,
            key,
            X509Credential::from_chain(registered.credential),
        );
        let device = Self {
            api: api.clone(),
            token: registered.token,
            identity,
            trust,
            hub_sender: ExternalSenderInfo {
                signature_key: registered.server_signature_key,
                credential: X509Credential::from_chain(registered.server_credential),
            },
            groups: BTreeMap::new(),
            cursor: 0,
            seen: Vec::new(),
            seqs: Vec::new(),
            sent: BTreeMap::new(),
            known_hubs: BTreeMap::new(),
        };
        device.upload_key_packages(key_packages).await;
        device
    }

    pub fn client(&self) -> &ClientUri {
        self.identity.client()
    }

    pub fn user(&self) -> &UserUri {
        self.identity.user()
    }

    pub async fn upload_key_packages(&self, n: usize) {
        let mut key_packages = Vec::new();
        for _ in 0..n {
            let published = self
                .identity
                .key_package(now_s(), 30 * 24 * 3600, false)
                .unwrap();
            key_packages.push(published.message);
        }
        let _: serde_json::Value = self
            .api
            .call(
                reqwest::Method::POST,
                "/v1/key-packages",
                Some(&self.token),
                Some(&UploadKeyPackages { key_packages }),
            )
            .await
            .unwrap();
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, Refused> {
        self.api
            .call(reqwest::Method::POST, path, Some(&self.token), Some(body))
            .await
    }

    /// This user's contacts (`GET /v1/contacts`).
    pub async fn contacts(&self) -> mimi_client_api::Contacts {
        self.api
            .call(
                reqwest::Method::GET,
                "/v1/contacts",
                Some(&self.token),
                None::<&()>,
            )
            .await
            .unwrap()
    }

    /// A contacts action (`request`, `accept`, `block`) on `user`, for `room` or any room.
    pub async fn contact(
        &self,
        action: &str,
        user: &UserUri,
        room: Option<&RoomUri>,
    ) -> Result<mimi_client_api::Contacts, Refused> {
        let path = match action {
            "request" => "/v1/contacts/requests".to_owned(),
            other => format!("/v1/contacts/{other}"),
        };
        self.post(
            &path,
            &mimi_client_api::ContactAction {
                user: user.to_string(),
                room: room.map(ToString::to_string),
            },
        )
        .await
    }

    /// Sets this user's consent policy (`None`: the provider's default).
    pub async fn contact_policy(
        &self,
        policy: Option<&str>,
    ) -> Result<mimi_client_api::Contacts, Refused> {
        self.post(
            "/v1/contacts/policy",
            &mimi_client_api::SetContactPolicy {
                policy: policy.map(str::to_owned),
            },
        )
        .await
    }

    /// Creates `room` hosted by this device's provider.
    pub async fn create_room(&mut self, room: &str) -> RoomUri {
        let room = RoomUri::parse(room).unwrap();
        let state = RoomCreation::new(Preset::Cooperative, room.clone(), self.user().clone())
            .initial_state()
            .unwrap();
        self.create_room_in(&room, &state).await.unwrap();
        room
    }

    /// Creates `room` in the initial `state` (whatever a rogue client makes), or the
    /// provider's refusal.
    pub async fn create_room_in(
        &mut self,
        room: &RoomUri,
        state: &mimi_room::RoomState,
    ) -> Result<(), Refused> {
        let (group, created) = ClientGroup::create(
            &self.identity,
            &room.group_uri(),
            &self.hub_sender,
            state,
            self.trust.clone(),
            now_s(),
        )
        .unwrap();
        let _: serde_json::Value = self
            .post(
                "/v1/rooms",
                &CreateRoom {
                    room: room.to_string(),
                    group_info: created.group_info,
                    ratchet_tree: created.ratchet_tree,
                },
            )
            .await?;
        self.groups.insert(room.clone(), group);
        self.seen.push(Seen::Joined(room.clone()));
        Ok(())
    }

    /// KeyPackages of `target`'s devices for `room`, through the hub.
    pub async fn key_material_response(
        &self,
        room: &RoomUri,
        target: &UserUri,
    ) -> Result<KeyMaterialResponse, Refused> {
        let tbs = KeyMaterialRequestTbs::new(
            IdentifierUri::from_string(self.user().to_string()).unwrap(),
            IdentifierUri::from_string(target.to_string()).unwrap(),
            IdentifierUri::from_string(room.to_string()).unwrap(),
            vec![DEFAULT_CIPHERSUITE],
            RequiredCapabilities::from_bytes(required_capabilities()).unwrap(),
            SignaturePublicKey::from_bytes(self.identity.signing_key().public().to_vec()).unwrap(),
            Credential::from_bytes(self.identity.mls_credential_bytes().unwrap()).unwrap(),
        );
        let signature = sign::sign_with_label(
            self.identity.signing_key(),
            sign::KEY_MATERIAL_REQUEST,
            &tbs.encode().unwrap(),
        )
        .unwrap();
        let request = tbs.sign(Signature::from_bytes(signature).unwrap());
        let path = format!(
            "/v1/rooms/{}/key-material/{}",
            encode_param(room),
            encode_param(target)
        );
        let answer: HubAnswer = self
            .post(
                &path,
                &KeyMaterialFetch {
                    request: request.encode().unwrap(),
                },
            )
            .await?;
        Ok(decode_exact(&answer.response).unwrap())
    }

    /// The KeyPackages `target`'s provider handed out for `room` (none when it refused).
    pub async fn key_material(
        &self,
        room: &RoomUri,
        target: &UserUri,
    ) -> Result<Vec<Vec<u8>>, Refused> {
        let response = self.key_material_response(room, target).await?;
        Ok(response
            .clients
            .iter()
            .filter_map(|c| match &c.material {
                ClientMaterial::Success(kp) => Some(kp.to_mls_message().unwrap().into_bytes()),
                _ => None,
            })
            .collect())
    }

    async fn submit_update(
        &self,
        room: &RoomUri,
        request: &UpdateRequest,
        external_join: bool,
    ) -> Result<UpdateOutcome, Refused> {
        let path = format!("/v1/rooms/{}/update", encode_param(room));
        let answer: HubAnswer = self
            .post(
                &path,
                &SubmitUpdate {
                    request: request.encode().unwrap(),
                    external_join,
                },
            )
            .await?;
        let response: UpdateRoomResponse = decode_exact(&answer.response).unwrap();
        Ok(response.outcome)
    }

    /// Submits a prepared commit; merges it on success.
    pub async fn submit_commit(
        &mut self,
        room: &RoomUri,
        out: OutgoingCommit,
        external_join: bool,
    ) -> UpdateOutcome {
        let request = commit_request(&out);
        let outcome = self
            .submit_update(room, &request, external_join)
            .await
            .unwrap();
        let group = self.groups.get_mut(room).unwrap();
        if matches!(outcome, UpdateOutcome::Success { .. }) {
            group.merge_pending_commit().unwrap();
            self.sent.insert(digest(&out.commit), None);
        } else {
            group.discard_pending_commit().unwrap();
        }
        outcome
    }

    /// Commits `changes` (component updates only) as this device; the sender's own policy
    /// check refuses before anything is sent (`Err`), otherwise the hub's outcome.
    pub async fn commit_changes(
        &mut self,
        room: &RoomUri,
        changes: &[ComponentChange],
    ) -> Result<UpdateOutcome, mimi_mls::MlsError> {
        let out = self
            .groups
            .get_mut(room)
            .unwrap()
            .commit(changes, &[], &[], now_s())?;
        Ok(self.submit_commit(room, out, false).await)
    }

    /// Proposes that this device leave `room` (its SelfRemove, with `changes` proposed
    /// first, e.g. the participant-list removal of its user); the hub's outcome.
    pub async fn propose_leave(
        &mut self,
        room: &RoomUri,
        changes: &[ComponentChange],
    ) -> Result<UpdateOutcome, Refused> {
        let group = self.groups.get_mut(room).unwrap();
        let mut proposals = group.propose_components(changes).unwrap();
        proposals.push(group.propose_leave().unwrap());
        for p in &proposals {
            self.sent.insert(digest(p), None);
        }
        let mut messages: Vec<MlsMessage> = proposals
            .into_iter()
            .map(|p| MlsMessage::from_bytes(p).unwrap())
            .collect();
        let first = messages.remove(0);
        let bundle = mimi_federation_api::update::ProposalBundle::new(first, messages).unwrap();
        let request = UpdateRequest::new(HandshakeBundle::Proposals(bundle));
        self.submit_update(room, &request, false).await
    }

    /// The room state this device holds for `room` (its last merged epoch).
    pub fn room_state(&self, room: &RoomUri) -> Option<&mimi_room::RoomState> {
        self.groups.get(room).map(|g| g.room())
    }

    /// Adds every device of `users` in one commit.
    pub async fn add_users(&mut self, room: &RoomUri, users: &[UserUri]) -> UpdateOutcome {
        let mut key_packages = Vec::new();
        for user in users {
            key_packages.extend(self.key_material(room, user).await.unwrap());
        }
        let update = ParticipantListUpdate {
            added_participants: users
                .iter()
                .map(|u| UserRolePair::new(u.clone(), RoleIndex(2)))
                .collect(),
            ..Default::default()
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        let out = self
            .groups
            .get_mut(room)
            .unwrap()
            .commit(&[change], &key_packages, &[], now_s())
            .unwrap();
        self.submit_commit(room, out, false).await
    }

    /// Adds every device of `users` (as role 2) in one commit built as a rogue member's
    /// modified client would: without the sender's own credential and policy checks
    /// (`ClientGroup::rogue_commit`), so that the hub and the members must refuse it.
    pub async fn add_users_unchecked(
        &mut self,
        room: &RoomUri,
        users: &[UserUri],
    ) -> UpdateOutcome {
        let mut key_packages = Vec::new();
        for user in users {
            key_packages.extend(self.key_material(room, user).await.unwrap());
        }
        let update = ParticipantListUpdate {
            added_participants: users
                .iter()
                .map(|u| UserRolePair::new(u.clone(), RoleIndex(2)))
                .collect(),
            ..Default::default()
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        let out = self
            .groups
            .get_mut(room)
            .unwrap()
            .rogue_commit(&[change], &key_packages, now_s())
            .unwrap();
        self.submit_commit(room, out, false).await
    }

    /// Adds `users` as participants with the devices of `key_packages` (made wherever the
    /// caller likes: generated identities of a large room) in one commit.
    pub async fn add_with_key_packages(
        &mut self,
        room: &RoomUri,
        users: &[UserUri],
        key_packages: &[Vec<u8>],
    ) -> UpdateOutcome {
        let update = ParticipantListUpdate {
            added_participants: users
                .iter()
                .map(|u| UserRolePair::new(u.clone(), RoleIndex(2)))
                .collect(),
            ..Default::default()
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        let out = self
            .groups
            .get_mut(room)
            .unwrap()
            .commit(&[change], key_packages, &[], now_s())
            .unwrap();
        self.submit_commit(room, out, false).await
    }

    /// Removes `users` (all their devices) in one commit.
    pub async fn remove_users(&mut self, room: &RoomUri, users: &[UserUri]) -> UpdateOutcome {
        self.remove_or_ban(room, users, false).await
    }

    /// Bans `users` (role 1) and removes all their devices, in one commit.
    pub async fn ban_users(&mut self, room: &RoomUri, users: &[UserUri]) -> UpdateOutcome {
        self.remove_or_ban(room, users, true).await
    }

    async fn remove_or_ban(
        &mut self,
        room: &RoomUri,
        users: &[UserUri],
        ban: bool,
    ) -> UpdateOutcome {
        let group = self.groups.get(room).unwrap();
        let list = &group.room().participants().participants;
        let removed_indices: Vec<u32> = users
            .iter()
            .map(|u| u32::try_from(list.iter().position(|p| &p.user == u).unwrap()).unwrap())
            .collect();
        let clients: Vec<ClientUri> = group
            .members()
            .into_iter()
            .filter(|m| users.contains(&m.user))
            .map(|m| m.client)
            .collect();
        let update = if ban {
            ParticipantListUpdate {
                changed_role_participants: removed_indices
                    .into_iter()
                    .map(|user_index| UserIndexRolePair {
                        user_index,
                        role_index: RoleIndex::BANNED,
                    })
                    .collect(),
                ..Default::default()
            }
        } else {
            ParticipantListUpdate {
                removed_indices,
                ..Default::default()
            }
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        let out = self
            .groups
            .get_mut(room)
            .unwrap()
            .commit(&[change], &[], &clients, now_s())
            .unwrap();
        self.submit_commit(room, out, false).await
    }

    /// Joins `room` by external commit (a new device of a participant).
    pub async fn join_external(&mut self, room: &RoomUri) -> Result<UpdateOutcome, Refused> {
        let path = format!("/v1/rooms/{}/external-join", encode_param(room));
        let info: ExternalJoinInfo = self
            .api
            .call(reqwest::Method::GET, &path, Some(&self.token), None::<&()>)
            .await?;
        let (group, out) = ClientGroup::join_external(
            &self.identity,
            &info.group_info,
            &info.ratchet_tree,
            &info.pending_proposals,
            self.trust.clone(),
            now_s(),
        )
        .unwrap();
        self.groups.insert(room.clone(), group);
        let outcome = self.submit_commit(room, out, true).await;
        if matches!(outcome, UpdateOutcome::Success { .. }) {
            self.seen.push(Seen::Joined(room.clone()));
        } else {
            self.groups.remove(room);
        }
        Ok(outcome)
    }

    /// Joins `room` by external commit after the hub's GroupInfo exchange (any hub).
    pub async fn join_via_group_info(&mut self, room: &RoomUri) -> Result<UpdateOutcome, Refused> {
        use mimi_federation_api::codec::Reader;
        use mimi_federation_api::group_info::{
            GroupInfoOutcome, GroupInfoRatchetTreeTbe, GroupInfoRequestTbs, GroupInfoResponse,
        };
        use mimi_federation_api::mls::HpkePublicKey;

        let pair = mimi_mls::hpke_key_pair().unwrap();
        let tbs = GroupInfoRequestTbs::new(
            DEFAULT_CIPHERSUITE,
            SignaturePublicKey::from_bytes(self.identity.signing_key().public().to_vec()).unwrap(),
            Credential::from_bytes(self.identity.mls_credential_bytes().unwrap()).unwrap(),
            HpkePublicKey::from_bytes(pair.public.clone()).unwrap(),
            None,
        );
        let signature = sign::sign_with_label(
            self.identity.signing_key(),
            sign::GROUP_INFO_REQUEST,
            &tbs.encode().unwrap(),
        )
        .unwrap();
        let request = tbs.sign(Signature::from_bytes(signature).unwrap());
        let path = format!("/v1/rooms/{}/group-info", encode_param(room));
        let answer: HubAnswer = self
            .post(
                &path,
                &mimi_client_api::GroupInfoFetch {
                    request: request.encode().unwrap(),
                },
            )
            .await?;
        let response: GroupInfoResponse = decode_exact(&answer.response).unwrap();
        let tbs = response.tbs().expect("the hub answered success");
        let GroupInfoOutcome::Success(success) = &response.outcome else {
            panic!("groupInfo refused: {:?}", response.outcome);
        };
        let mut sender = Reader::new(success.hub_sender.as_bytes());
        let hub_key = sender.opaque("signature_key", usize::MAX).unwrap();
        assert_eq!(
            hub_key,
            &self.hub_sender_key_of(room)[..],
            "signed by the room's hub"
        );
        sign::verify_with_label(
            hub_key,
            sign::GROUP_INFO_RESPONSE,
            &tbs.encode().unwrap(),
            success.signature.as_bytes(),
        )
        .unwrap();
        let mut sealed = Reader::new(success.encrypted_groupinfo_and_tree.as_bytes());
        let kem_output = sealed.opaque("kem_output", usize::MAX).unwrap();
        let ciphertext = sealed.opaque("ciphertext", usize::MAX).unwrap();
        let plain = mimi_mls::decrypt_with_label(
            &pair.private,
            mimi_ds::hub::GROUP_INFO_ENCRYPTION_LABEL,
            room.to_string().as_bytes(),
            kem_output,
            ciphertext,
        )
        .unwrap();
        let tbe: GroupInfoRatchetTreeTbe = decode_exact(&plain).unwrap();
        let RatchetTreeOption::Full(tree) = &tbe.ratchet_tree_option else {
            panic!("the hub sent no ratchet tree");
        };
        let pending: Vec<Vec<u8>> = tbe
            .pending_proposals
            .iter()
            .map(|p| p.proposal.as_bytes().to_vec())
            .collect();
        let (group, out) = ClientGroup::join_external(
            &self.identity,
            &tbe.group_info.to_mls_message().unwrap().into_bytes(),
            &tree.encode().unwrap(),
            &pending,
            self.trust.clone(),
            now_s(),
        )
        .unwrap();
        self.groups.insert(room.clone(), group);
        let outcome = self.submit_commit(room, out, true).await;
        if matches!(outcome, UpdateOutcome::Success { .. }) {
            self.seen.push(Seen::Joined(room.clone()));
        } else {
            self.groups.remove(room);
        }
        Ok(outcome)
    }

    /// The hub's signature key, as known to the test (set with [`Device::knows_hub`]).
    fn hub_sender_key_of(&self, room: &RoomUri) -> Vec<u8> {
        self.known_hubs
            .get(room.hub_domain().as_str())
            .cloned()
            .unwrap_or_default()
    }

    /// Remembers the server signature key of `other`'s provider (as its registration gave it).
    pub fn knows_hub(&mut self, other: &Device) {
        self.known_hubs.insert(
            other.client().domain().to_string(),
            other.hub_sender.signature_key.clone(),
        );
    }

    /// Submits a self-update commit; the pending commit is dropped unless the hub accepts it.
    pub async fn self_update(&mut self, room: &RoomUri) -> Result<UpdateOutcome, Refused> {
        let out = self
            .groups
            .get_mut(room)
            .unwrap()
            .self_update(now_s())
            .unwrap();
        let result = self.submit_update(room, &commit_request(&out), false).await;
        let group = self.groups.get_mut(room).unwrap();
        if matches!(result, Ok(UpdateOutcome::Success { .. })) {
            group.merge_pending_commit().unwrap();
            self.sent.insert(digest(&out.commit), None);
        } else {
            group.discard_pending_commit().unwrap();
        }
        result
    }

    /// Submits a self-update commit built from the real MLS state whose bytes `tamper` then
    /// changes (a rogue member, or its provider in transit), with the honest GroupInfo; the
    /// pending commit is dropped unless the hub accepts it.
    pub async fn self_update_tampered(
        &mut self,
        room: &RoomUri,
        tamper: impl FnOnce(&mut Vec<u8>),
    ) -> Result<UpdateOutcome, Refused> {
        let mut out = self
            .groups
            .get_mut(room)
            .unwrap()
            .self_update(now_s())
            .unwrap();
        tamper(&mut out.commit);
        let result = self.submit_update(room, &commit_request(&out), false).await;
        let group = self.groups.get_mut(room).unwrap();
        if matches!(result, Ok(UpdateOutcome::Success { .. })) {
            group.merge_pending_commit().unwrap();
            self.sent.insert(digest(&out.commit), None);
        } else {
            group.discard_pending_commit().unwrap();
        }
        result
    }

    /// Submits, with this device's token, a self-update commit that `other` built and signed
    /// (a rogue device handing in another member's handshake); `other` keeps its old epoch.
    pub async fn submit_commit_of(
        &self,
        room: &RoomUri,
        other: &mut Device,
    ) -> Result<UpdateOutcome, Refused> {
        let group = other.groups.get_mut(room).unwrap();
        let out = group.self_update(now_s()).unwrap();
        group.discard_pending_commit().unwrap();
        self.submit_update(room, &commit_request(&out), false).await
    }

    /// Sends `text` in `room`.
    pub async fn send(&mut self, room: &RoomUri, text: &str) -> Result<SubmitOutcome, Refused> {
        let request = self.protect(room, text);
        self.submit(room, &request).await
    }

    /// The `SubmitMessageRequest` for `text` in `room`, protected once but not sent (to send it
    /// several times: [`Device::submit`]). The device expects to see it come back once.
    pub fn protect(&mut self, room: &RoomUri, text: &str) -> SubmitMessageRequest {
        let group = self.groups.get_mut(room).unwrap();
        let bytes = group.protect(text.as_bytes(), &BTreeMap::new()).unwrap();
        self.sent.insert(digest(&bytes), Some(text.to_owned()));
        SubmitMessageRequest::new(
            MlsMessage::from_bytes(bytes).unwrap(),
            IdentifierUri::from_string(self.user().to_string()).unwrap(),
        )
        .unwrap()
    }

    /// Submits `request` in `room` through this device's provider, as it is.
    pub async fn submit(
        &self,
        room: &RoomUri,
        request: &SubmitMessageRequest,
    ) -> Result<SubmitOutcome, Refused> {
        let path = format!("/v1/rooms/{}/messages", encode_param(room));
        let answer: HubAnswer = self
            .post(
                &path,
                &SubmitMessage {
                    request: request.encode().unwrap(),
                },
            )
            .await?;
        let response: SubmitMessageResponse = decode_exact(&answer.response).unwrap();
        Ok(response.outcome)
    }

    /// An ephemeral message (typing-like payload) of this device for `room`, as the
    /// `SubmitMessage` body of the typing route, naming `sender` as sendingUri.
    pub fn ephemeral(&mut self, room: &RoomUri, sender: &UserUri, payload: &[u8]) -> SubmitMessage {
        let group = self.groups.get_mut(room).unwrap();
        let bytes = group.protect(payload, &BTreeMap::new()).unwrap();
        let request = SubmitMessageRequest::new(
            MlsMessage::from_bytes(bytes).unwrap(),
            IdentifierUri::from_string(sender.to_string()).unwrap(),
        )
        .unwrap();
        SubmitMessage {
            request: request.encode().unwrap(),
        }
    }

    /// Posts an `AbuseReport` (TLS-encoded) to the report-abuse route of `room`.
    pub async fn post_report(
        &self,
        room: &RoomUri,
        report: Vec<u8>,
    ) -> Result<serde_json::Value, Refused> {
        self.post(
            &format!("/v1/rooms/{}/report-abuse", encode_param(room)),
            &mimi_client_api::AbuseReportSubmit { report },
        )
        .await
    }

    /// Posts a `SubmitMessage` body to the typing route of `room`.
    pub async fn post_typing(
        &self,
        room: &RoomUri,
        body: &SubmitMessage,
    ) -> Result<serde_json::Value, Refused> {
        self.post(&format!("/v1/rooms/{}/typing", encode_param(room)), body)
            .await
    }

    /// Fetches and processes new events (waiting up to `wait_ms` if there are none); returns
    /// how many arrived.
    pub async fn poll(&mut self, wait_ms: u64) -> usize {
        let path = format!("/v1/events?after={}&wait_ms={wait_ms}", self.cursor);
        let response: EventsResponse = self
            .api
            .call(reqwest::Method::GET, &path, Some(&self.token), None::<&()>)
            .await
            .unwrap();
        let n = response.events.len();
        for event in response.events {
            self.seqs.push(event.seq);
            let room = RoomUri::parse(&event.room).unwrap();
            let message: FanoutMessage = decode_exact(&event.payload).unwrap();
            if let Err(e) = self.handle(&room, message) {
                self.seen.push(Seen::Failed(e));
            }
        }
        self.cursor = response.next;
        n
    }

    fn handle(&mut self, room: &RoomUri, message: FanoutMessage) -> Result<(), String> {
        let now = now_s();
        if let FanoutContent::Welcome {
            message,
            ratchet_tree_option,
        } = &message.content
        {
            if self.groups.get(room).is_some_and(ClientGroup::is_active) {
                return Ok(());
            }
            let RatchetTreeOption::Full(tree) = ratchet_tree_option else {
                return Err("a Welcome without its tree".into());
            };
            let group = ClientGroup::join_from_welcome(
                &self.identity,
                message.as_bytes(),
                &tree.encode().unwrap(),
                self.trust.clone(),
                now,
            )
            .map_err(|e| e.to_string())?;
            self.groups.insert(room.clone(), group);
            self.seen.push(Seen::Joined(room.clone()));
            return Ok(());
        }
        let Some(group) = self.groups.get_mut(room) else {
            return Ok(());
        };
        if !group.is_active() {
            return Ok(());
        }
        let mut messages = vec![message.content.message().clone()];
        if let FanoutContent::Proposal { more_proposals, .. } = &message.content {
            messages.extend(more_proposals.iter().cloned());
        }
        for m in messages {
            if let Some(own) = self.sent.get(&digest(m.as_bytes())) {
                if let Some(text) = own {
                    self.seen.push(Seen::Message {
                        room: room.clone(),
                        sender: self.identity.client().clone(),
                        text: text.clone(),
                    });
                }
                continue;
            }
            let is_handshake = m.content_type() != Some(ContentType::Application);
            if is_handshake && m.epoch().is_some_and(|e| e < group.epoch()) {
                continue;
            }
            match group
                .process(m.as_bytes(), now)
                .map_err(|e| e.to_string())?
            {
                Incoming::Application(received) => self.seen.push(Seen::Message {
                    room: room.clone(),
                    sender: received.sender.client,
                    text: String::from_utf8(received.data).unwrap(),
                }),
                Incoming::Commit {
                    epoch, removed_me, ..
                } => self.seen.push(Seen::Commit {
                    room: room.clone(),
                    epoch,
                    removed_me,
                }),
                Incoming::Proposal(_) => self.seen.push(Seen::Proposal(room.clone())),
                _ => {}
            }
        }
        Ok(())
    }

    /// The texts seen in `room`, in order.
    pub fn texts(&self, room: &RoomUri) -> Vec<String> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Message { room: r, text, .. } if r == room => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn failures(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Failed(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn is_member(&self, room: &RoomUri) -> bool {
        self.groups.get(room).is_some_and(ClientGroup::is_active)
    }

    pub fn epoch(&self, room: &RoomUri) -> Option<u64> {
        self.groups.get(room).map(ClientGroup::epoch)
    }
}

/// Polls every device until `done` holds, for at most 30 s.
pub async fn settle(devices: &mut [&mut Device], done: impl Fn(&[&mut Device]) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if done(devices) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the federation did not settle: {:#?}",
            devices
                .iter()
                .map(|d| (d.client().to_string(), d.seen.clone()))
                .collect::<Vec<_>>()
        );
        for device in devices.iter_mut() {
            device.poll(50).await;
        }
    }
}

/// The `update` request carrying a prepared commit.
pub fn commit_request(out: &OutgoingCommit) -> UpdateRequest {
    let commit = MlsMessage::from_bytes(out.commit.clone()).unwrap();
    let welcome = out.welcome.as_ref().map(|w| {
        MlsMessage::from_bytes(w.clone())
            .unwrap()
            .to_welcome()
            .unwrap()
    });
    let group_info = MlsMessage::from_bytes(out.group_info.clone().unwrap())
        .unwrap()
        .to_group_info()
        .unwrap();
    let tree = decode_exact::<RatchetTree>(&out.ratchet_tree).unwrap();
    let bundle = CommitBundle::new(
        commit,
        welcome,
        GroupInfoOption::Full(group_info),
        RatchetTreeOption::Full(tree),
    )
    .unwrap();
    UpdateRequest::new(HandshakeBundle::Commit(bundle))
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
