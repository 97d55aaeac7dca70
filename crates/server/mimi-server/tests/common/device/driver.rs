//! The honest driver of a test device: registration, the engine's requests carried out over
//! the client API, the event feed fed back, and the rooms' honest operations (see `device`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mimi_client_api::{
    ApiError, CreateRoom, DeviceKind, DeviceRegistered, EventsResponse, ExternalJoinInfo,
    HubAnswer, KeyMaterialFetch, RegisterAccount, RegisterDevice, SubmitMessage, SubmitUpdate,
    UploadKeyPackages,
};
use mimi_client_core::{Client, ClientError, ClientEvent, Invitee, OpId, Outgoing, SendOutcome};
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::key_material::{
    ClientMaterial, KeyMaterialRequestTbs, KeyMaterialResponse,
};
use mimi_federation_api::mls::{
    Credential, MlsMessage, RatchetTree, RequiredCapabilities, Signature, SignaturePublicKey,
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
    ClientGroup, ClientIdentity, ExternalSenderInfo, OutgoingCommit, SigningKey, TrustStore,
    X509Credential, sign,
};
use mimi_room::presets::Preset;
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;
use mimi_types::{ClientUri, RoomUri, UserUri};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
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

/// What a device saw: every event its engine raised, and what the driver could not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// An event of the engine.
    Event(ClientEvent),
    /// A feed event the engine could not apply (`handle_event` failed).
    Failed(String),
}

pub struct Device {
    pub api: Api,
    pub token: String,
    /// The client engine: MLS state, room views, pending operations.
    pub engine: Client,
    pub trust: TrustStore,
    pub hub_sender: ExternalSenderInfo,
    /// The feed cursor (the `next` of the last page).
    pub cursor: u64,
    pub seen: Vec<Seen>,
    /// Event cursors received, to check each arrives once.
    pub seqs: Vec<u64>,
    /// How often each application message (by its MLS message's encoding) arrived in the
    /// feed: the engine drops a repeat silently, so a hub that fans a message out twice shows
    /// here, not in the timeline ([`Device::repeats`]).
    pub arrivals: BTreeMap<Vec<u8>, usize>,
    /// Messages protected by the engine and handed out, not sent yet ([`Device::protect`]):
    /// the operation to report when [`Device::submit`] first sends them.
    held: BTreeMap<Vec<u8>, OpId>,
    known_hubs: BTreeMap<String, Vec<u8>>,
}

/// What the driver did with one request of the engine.
type Sent = Result<SendOutcome, Refused>;

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
            engine: Client::new(identity, trust.clone()),
            trust,
            hub_sender: ExternalSenderInfo {
                signature_key: registered.server_signature_key,
                credential: X509Credential::from_chain(registered.server_credential),
            },
            cursor: 0,
            seen: Vec::new(),
            seqs: Vec::new(),
            arrivals: BTreeMap::new(),
            held: BTreeMap::new(),
            known_hubs: BTreeMap::new(),
        };
        device.upload_key_packages(key_packages).await;
        device
    }

    pub fn client(&self) -> &ClientUri {
        self.engine.client()
    }

    pub fn user(&self) -> &UserUri {
        self.engine.user()
    }

    /// The engine's identity (signing key, credential).
    pub fn identity(&self) -> &ClientIdentity {
        self.engine.identity()
    }

    /// Uploads exactly `n` KeyPackages of the engine's identity (no last-resort one, which
    /// the engine's `generate_key_packages` adds the first time: the tests count what a
    /// provider hands out).
    pub async fn upload_key_packages(&self, n: usize) {
        let mut key_packages = Vec::new();
        for _ in 0..n {
            let published = self
                .identity()
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

    // ---- The driver ----

    /// Sends every request the engine queued, in order, and reports each answer with
    /// `mark_sent` (a refused HTTP call as abandoned); returns what became of each.
    pub async fn drive(&mut self) -> BTreeMap<OpId, Sent> {
        let mut done = BTreeMap::new();
        while let Some(request) = self.engine.poll_request() {
            let op = request.op();
            let sent = self.send_request(&request).await;
            let outcome = match &sent {
                Ok(outcome) => outcome.clone(),
                Err(_) => SendOutcome::Abandoned,
            };
            // A refusal is also raised as an event; the caller checks the outcome.
            let _ = self.engine.mark_sent(op, outcome);
            self.collect_events();
            done.insert(op, sent);
        }
        done
    }

    /// Carries out one request of the engine over the client API. A request kind the
    /// driver does not know fails the test.
    async fn send_request(&self, request: &Outgoing) -> Sent {
        match request {
            Outgoing::Commit { op, room, request } | Outgoing::Proposals { op, room, request } => {
                let external_join = self.engine.is_external_join(*op);
                self.submit_update(room, request, external_join)
                    .await
                    .map(SendOutcome::Update)
            }
            Outgoing::Message { room, request, .. } => self
                .submit_raw(room, request)
                .await
                .map(SendOutcome::Submit),
            Outgoing::KeyPackages { key_packages, .. } => {
                let body = UploadKeyPackages {
                    key_packages: key_packages.iter().map(|k| k.message.clone()).collect(),
                };
                let _: serde_json::Value = self.post("/v1/key-packages", &body).await?;
                Ok(SendOutcome::Uploaded)
            }
            other => panic!(
                "{}: the test driver does not know how to send {other:?}",
                self.client()
            ),
        }
    }

    fn collect_events(&mut self) {
        while let Some(event) = self.engine.poll_event() {
            self.seen.push(Seen::Event(event));
        }
    }

    /// Runs a command of the engine: its requests are sent, and what became of `op`
    /// returned; the engine's own refusal (nothing sent) as `Err`.
    async fn run(&mut self, op: Result<OpId, ClientError>) -> Result<Sent, ClientError> {
        self.collect_events();
        let op = op?;
        let mut done = self.drive().await;
        Ok(done
            .remove(&op)
            .unwrap_or_else(|| panic!("operation {op} was not sent")))
    }

    /// Like [`Device::run`] for a commit or proposals: the hub's outcome.
    async fn run_update(
        &mut self,
        op: Result<OpId, ClientError>,
    ) -> Result<Result<UpdateOutcome, Refused>, ClientError> {
        Ok(self.run(op).await?.map(|sent| match sent {
            SendOutcome::Update(outcome) => outcome,
            other => panic!("an update answered {other:?}"),
        }))
    }

    /// Fetches and processes new events (waiting up to `wait_ms` if there are none), then
    /// sends what the engine queued meanwhile (e.g. a message re-sent after catching up);
    /// returns how many events arrived.
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
            if let Ok(FanoutMessage {
                content: FanoutContent::Application { message, .. },
                ..
            }) = decode_exact::<FanoutMessage>(&event.payload)
            {
                *self.arrivals.entry(message.encode().unwrap()).or_default() += 1;
            }
            let room = RoomUri::parse(&event.room).unwrap();
            if let Err(e) = self
                .engine
                .handle_event(now_s(), event.seq, &room, &event.payload)
            {
                self.seen.push(Seen::Failed(e.to_string()));
            }
        }
        self.cursor = response.next;
        self.collect_events();
        self.drive().await;
        n
    }

    /// Application messages that arrived in the feed more than once, with their counts.
    pub fn repeats(&self) -> Vec<usize> {
        self.arrivals.values().copied().filter(|n| *n > 1).collect()
    }

    /// The texts of `room`'s timeline (the engine's room view), in order.
    pub fn texts(&self, room: &RoomUri) -> Vec<String> {
        self.engine.room(room).map_or_else(Vec::new, |view| {
            view.messages()
                .iter()
                .map(|m| m.body.text.clone())
                .collect()
        })
    }

    /// What this device could not accept: feed events the engine could not apply, and the
    /// engine's `Rejected`, `CommitFailed` and `HistoryRefused` events.
    pub fn failures(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Failed(e) => Some(e.clone()),
                Seen::Event(ClientEvent::Rejected { room, rejection }) => {
                    Some(format!("{room}: {rejection}"))
                }
                Seen::Event(ClientEvent::CommitFailed { room, epoch, error }) => {
                    Some(format!("{room} at epoch {epoch}: a commit failed: {error}"))
                }
                Seen::Event(ClientEvent::HistoryRefused { room, from, error }) => {
                    Some(format!("{room}: history from {from} refused: {error}"))
                }
                Seen::Event(_) => None,
            })
            .collect()
    }

    pub fn is_member(&self, room: &RoomUri) -> bool {
        self.engine.room(room).is_some_and(|view| view.is_active())
    }

    pub fn epoch(&self, room: &RoomUri) -> Option<u64> {
        self.engine.group(room).map(ClientGroup::epoch)
    }

    /// The engine's MLS group of `room`.
    pub fn group(&self, room: &RoomUri) -> &ClientGroup {
        self.engine
            .group(room)
            .unwrap_or_else(|| panic!("{} has no group for {room}", self.client()))
    }

    /// An independent copy of the engine's MLS group of `room` (through its record), for
    /// the raw paths: what is done with it never reaches the engine.
    pub fn group_copy(&self, room: &RoomUri) -> ClientGroup {
        ClientGroup::from_record(&self.group(room).to_record().unwrap(), self.trust.clone())
            .unwrap()
    }

    /// The room state this device holds for `room` (its last merged epoch).
    pub fn room_state(&self, room: &RoomUri) -> Option<&mimi_room::RoomState> {
        self.engine.room(room).map(|view| view.state())
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

    // ---- Rooms: honest operations, through the engine ----

    /// Creates `room` hosted by this device's provider (the engine's cooperative preset).
    pub async fn create_room(&mut self, room: &str) -> RoomUri {
        let room = RoomUri::parse(room).unwrap();
        let created = self
            .engine
            .create_room(now_s(), &room, Preset::Cooperative, &self.hub_sender)
            .unwrap();
        self.post_created(&room, created).await.unwrap();
        room
    }

    /// Creates `room` in the initial `state` (whatever a rogue client makes), or the
    /// provider's refusal.
    pub async fn create_room_in(
        &mut self,
        room: &RoomUri,
        state: &mimi_room::RoomState,
    ) -> Result<(), Refused> {
        let created = self
            .engine
            .create_room_in_state(now_s(), room, state, &self.hub_sender)
            .unwrap();
        self.post_created(room, created).await
    }

    /// Hands a room the engine just created to the provider; the engine forgets it when
    /// the provider refuses.
    async fn post_created(
        &mut self,
        room: &RoomUri,
        created: mimi_mls::CreatedGroup,
    ) -> Result<(), Refused> {
        let posted: Result<serde_json::Value, Refused> = self
            .post(
                "/v1/rooms",
                &CreateRoom {
                    room: room.to_string(),
                    group_info: created.group_info,
                    ratchet_tree: created.ratchet_tree,
                },
            )
            .await;
        if posted.is_err() {
            self.engine.discard_created_room(room).unwrap();
        }
        self.collect_events();
        posted.map(drop)
    }

    /// KeyPackages of `target`'s devices for `room`, through the hub.
    pub async fn key_material_response(
        &self,
        room: &RoomUri,
        target: &UserUri,
    ) -> Result<KeyMaterialResponse, Refused> {
        let identity = self.identity();
        let tbs = KeyMaterialRequestTbs::new(
            IdentifierUri::from_string(self.user().to_string()).unwrap(),
            IdentifierUri::from_string(target.to_string()).unwrap(),
            IdentifierUri::from_string(room.to_string()).unwrap(),
            vec![DEFAULT_CIPHERSUITE],
            RequiredCapabilities::from_bytes(required_capabilities()).unwrap(),
            SignaturePublicKey::from_bytes(identity.signing_key().public().to_vec()).unwrap(),
            Credential::from_bytes(identity.mls_credential_bytes().unwrap()).unwrap(),
        );
        let signature = sign::sign_with_label(
            identity.signing_key(),
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

    /// Adds every device of `users` in one commit (the engine's `invite`, role 2).
    pub async fn add_users(&mut self, room: &RoomUri, users: &[UserUri]) -> UpdateOutcome {
        let mut invitees = Vec::new();
        for user in users {
            let key_packages = self.key_material(room, user).await.unwrap();
            invitees.push(Invitee::new(user.clone(), key_packages));
        }
        let op = self.engine.invite(now_s(), room, &invitees);
        self.run_update(op).await.unwrap().unwrap()
    }

    /// Adds `users` as participants, the i-th with the device of the i-th of `key_packages`
    /// (made wherever the caller likes: generated identities of a large room), in one commit.
    pub async fn add_with_key_packages(
        &mut self,
        room: &RoomUri,
        users: &[UserUri],
        key_packages: &[Vec<u8>],
    ) -> UpdateOutcome {
        assert_eq!(users.len(), key_packages.len(), "one KeyPackage per user");
        let invitees: Vec<Invitee> = users
            .iter()
            .zip(key_packages)
            .map(|(user, kp)| Invitee::new(user.clone(), vec![kp.clone()]))
            .collect();
        let op = self.engine.invite(now_s(), room, &invitees);
        self.run_update(op).await.unwrap().unwrap()
    }

    /// Removes `users` (all their devices) in one commit.
    pub async fn remove_users(&mut self, room: &RoomUri, users: &[UserUri]) -> UpdateOutcome {
        let op = self.engine.remove(now_s(), room, users);
        self.run_update(op).await.unwrap().unwrap()
    }

    /// Bans `user` (role 1) and removes all its devices, in one commit (the engine bans one
    /// user per commit).
    pub async fn ban_users(&mut self, room: &RoomUri, users: &[UserUri]) -> UpdateOutcome {
        let [user] = users else {
            panic!("ban_users bans one user per commit, not {users:?}");
        };
        let op = self.engine.ban(now_s(), room, user);
        self.run_update(op).await.unwrap().unwrap()
    }

    /// Ends `room` (the engine's `destroy_room`): its own refusal as `Err`, otherwise the
    /// hub's outcome.
    pub async fn destroy_room(&mut self, room: &RoomUri) -> Result<UpdateOutcome, ClientError> {
        let op = self.engine.destroy_room(now_s(), room);
        Ok(self.run_update(op).await?.unwrap())
    }

    /// A self-update commit (the engine's `commit_pending`, which also commits proposals
    /// pending in the room): the engine's own refusal as the outer `Err`, the provider's
    /// refusal of the call as the inner one, otherwise the hub's outcome.
    pub async fn commit_pending(
        &mut self,
        room: &RoomUri,
    ) -> Result<Result<UpdateOutcome, Refused>, ClientError> {
        let op = self.engine.commit_pending(now_s(), room);
        self.run_update(op).await
    }

    /// Submits a self-update commit; the engine merges it when the hub accepts it.
    pub async fn self_update(&mut self, room: &RoomUri) -> Result<UpdateOutcome, Refused> {
        self.commit_pending(room).await.unwrap()
    }

    /// Proposes that this device leave `room` (its SelfRemove, the engine's
    /// `leave_device`); the hub's outcome.
    pub async fn propose_leave(&mut self, room: &RoomUri) -> Result<UpdateOutcome, Refused> {
        let op = self.engine.leave_device(room);
        self.run_update(op).await.unwrap()
    }

    /// Joins `room` by external commit (a new device of a participant).
    pub async fn join_external(&mut self, room: &RoomUri) -> Result<UpdateOutcome, Refused> {
        let path = format!("/v1/rooms/{}/external-join", encode_param(room));
        let info: ExternalJoinInfo = self
            .api
            .call(reqwest::Method::GET, &path, Some(&self.token), None::<&()>)
            .await?;
        let op = self.engine.join_external(
            now_s(),
            room,
            &info.group_info,
            &info.ratchet_tree,
            &info.pending_proposals,
        );
        self.run_update(op).await.unwrap()
    }

    /// Sends `text` in `room` (the engine's `send_text`).
    pub async fn send(&mut self, room: &RoomUri, text: &str) -> Result<SubmitOutcome, Refused> {
        let op = self
            .engine
            .send_text(&mut rand::rngs::OsRng, room, text)
            .map(|(op, _)| op);
        self.run(op).await.unwrap().map(|sent| match sent {
            SendOutcome::Submit(outcome) => outcome,
            other => panic!("a message answered {other:?}"),
        })
    }

    /// The `SubmitMessageRequest` the engine made for `text` in `room`, not sent yet (to
    /// send it several times: [`Device::submit`], which reports the first answer to the
    /// engine). The device expects to see it come back once.
    pub fn protect(&mut self, room: &RoomUri, text: &str) -> SubmitMessageRequest {
        let (op, _) = self
            .engine
            .send_text(&mut rand::rngs::OsRng, room, text)
            .unwrap();
        let Some(Outgoing::Message {
            op: next, request, ..
        }) = self.engine.poll_request()
        else {
            panic!("the engine queued no message");
        };
        assert_eq!(next, op, "nothing else was queued before the message");
        self.held.insert(request.encode().unwrap(), op);
        request
    }

    /// Submits `request` in `room` through this device's provider, as it is; a request of
    /// [`Device::protect`] sent the first time reports the answer to the engine.
    pub async fn submit(
        &mut self,
        room: &RoomUri,
        request: &SubmitMessageRequest,
    ) -> Result<SubmitOutcome, Refused> {
        let outcome = self.submit_raw(room, request).await;
        if let Some(op) = self.held.remove(&request.encode().unwrap()) {
            let sent = match &outcome {
                Ok(outcome) => SendOutcome::Submit(outcome.clone()),
                Err(_) => SendOutcome::Abandoned,
            };
            let _ = self.engine.mark_sent(op, sent);
            self.collect_events();
        }
        outcome
    }

    pub(super) async fn submit_raw(
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

    pub(super) async fn submit_update(
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
            SignaturePublicKey::from_bytes(self.identity().signing_key().public().to_vec())
                .unwrap(),
            Credential::from_bytes(self.identity().mls_credential_bytes().unwrap()).unwrap(),
            HpkePublicKey::from_bytes(pair.public.clone()).unwrap(),
            None,
        );
        let signature = sign::sign_with_label(
            self.identity().signing_key(),
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
        let op = self.engine.join_external(
            now_s(),
            room,
            &tbe.group_info.to_mls_message().unwrap().into_bytes(),
            &tree.encode().unwrap(),
            &pending,
        );
        self.run_update(op).await.unwrap()
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
