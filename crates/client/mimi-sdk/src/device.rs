//! The driver: one device, its store, its provider connection, and the loop that executes the
//! engine's requests and feeds it the event stream.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_client_api::{
    AccountRegistered, DeviceKind, DeviceRegistered, Event, EventsResponse, HubAnswer,
    KeyPackagesStored, RegisterAccount, RegisterDevice, SubmitMessage, SubmitUpdate,
    UploadKeyPackages, routes,
};
use mimi_client_core::{Client, ClientEvent, Outgoing, SendOutcome};
use mimi_federation_api::path::encode_param;
use mimi_federation_api::submit_message::SubmitMessageResponse;
use mimi_federation_api::update::UpdateRoomResponse;
use mimi_federation_api::{Encode as _, decode_exact};
use mimi_mls::{ClientIdentity, ExternalSenderInfo, SigningKey, TrustStore, X509Credential};
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};
use reqwest::Method;

use crate::api::Api;
use crate::error::SdkError;
use crate::store::{Profile, Store, b64d, b64e};

/// Seconds since the UNIX epoch.
pub(crate) fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// How a device reaches its provider and authenticates an account there.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The provider's client API base URL, e.g. `http://127.0.0.1:18080`.
    pub server: String,
    /// The user id (the last segment of the user URI).
    pub user_id: String,
    /// The password.
    pub password: String,
    /// The device id (the last segment of the client URI).
    pub device_id: String,
    /// For an `https` server: the certificate to pin (PEM text; trusted besides the public
    /// web PKI roots, e.g. the provider's self-signed `client-tls-cert.pem`). Remembered in the
    /// device's profile.
    pub server_cert: Option<String>,
}

/// One device of one user: the engine ([`Client`]), its SQLite file and its provider.
///
/// Every step (a command, a request answered, a page of events applied) is written to the
/// device's file before the call returns, so a device dropped at any point and opened again
/// resumes where it stopped: requests not yet answered are sent again (the hub and the engine
/// drop repeats) and the event feed resumes after the stored cursor.
pub struct Device {
    pub(crate) api: Api,
    pub(crate) store: Store,
    pub(crate) profile: Profile,
    pub(crate) client: Client,
    pub(crate) cursor: u64,
    pub(crate) hub: ExternalSenderInfo,
    /// The MLS trust store of the profile's bundle.
    trust: TrustStore,
    /// Events for [`Device::listen`], oldest first.
    pub(crate) events: VecDeque<ClientEvent>,
    /// What the driver did on its own and could not finish (see [`Device::take_notices`]).
    pub(crate) notices: Vec<String>,
    /// The WebSocket feed, where the provider offers one.
    stream: crate::ws::Stream,
    path: PathBuf,
    /// Rooms already answered for history requests kept in the mailbox (by item id; not
    /// stored: after a restart they are answered again and the new device drops repeats).
    pub(crate) history_served: std::collections::BTreeMap<u64, BTreeSet<RoomUri>>,
    /// When this process last took the device mailbox (history requests and answers that
    /// arrive while no sibling joins a room: a new device's late answers, a request that
    /// landed after the sibling looked).
    mailbox_checked: Option<std::time::Instant>,
}

/// How often [`Device::sync`] takes the device mailbox when nothing else prompts it.
const MAILBOX_POLL: std::time::Duration = std::time::Duration::from_secs(30);

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("client", self.client.client())
            .field("server", &self.api.base())
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

/// The file of a device under a profile directory: `DIR/<domain>/<user>/<device>.sqlite`.
pub fn device_path(profile_dir: &Path, client: &ClientUri) -> PathBuf {
    let text = client.to_string();
    let mut segments = text.trim_start_matches("mimi://").split('/');
    let domain = segments.next().unwrap_or("unknown");
    let rest: Vec<&str> = segments.collect();
    // mimi://domain/d/user/device
    let (user, device) = match rest.as_slice() {
        [_, user, device] => (*user, *device),
        _ => ("unknown", text.as_str()),
    };
    profile_dir
        .join(sanitize(domain))
        .join(sanitize(user))
        .join(format!("{}.sqlite", sanitize(device)))
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The device files under a profile directory.
pub fn devices_in(profile_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![profile_dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "sqlite") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

impl Device {
    /// Creates an account on the provider (`POST /v1/accounts`); returns the user URI.
    pub async fn register_account(
        server: &str,
        user_id: &str,
        password: &str,
    ) -> Result<UserUri, SdkError> {
        Self::register_account_pinned(server, None, user_id, password).await
    }

    /// [`Device::register_account`] at an `https` server whose certificate `server_cert`
    /// (PEM) is pinned (see [`Credentials::server_cert`]).
    pub async fn register_account_pinned(
        server: &str,
        server_cert: Option<&str>,
        user_id: &str,
        password: &str,
    ) -> Result<UserUri, SdkError> {
        let api = Api::new(server, &[], server_cert)?;
        let registered: AccountRegistered = api
            .call(
                Method::POST,
                routes::REGISTER_ACCOUNT.path,
                None,
                Some(&RegisterAccount {
                    user_id: user_id.to_owned(),
                    password: password.to_owned(),
                }),
            )
            .await?;
        UserUri::parse(&registered.user).map_err(|e| SdkError::Protocol {
            route: "POST /v1/accounts".into(),
            reason: format!("not a user URI: {e}"),
        })
    }

    /// Registers a new device of an existing account (`POST /v1/devices`), stores it under
    /// `profile_dir` and uploads its KeyPackages.
    pub async fn register_device(
        profile_dir: &Path,
        credentials: &Credentials,
    ) -> Result<Self, SdkError> {
        Self::register_device_as(profile_dir, credentials, None).await
    }

    /// Registers a new device as [`Device::register_device`] does, as a bot or a logging
    /// client (`kind`): its provider marks its credential so, and rooms' `bot_policy` and
    /// `logging_policy` judge it by that mark.
    pub async fn register_device_as(
        profile_dir: &Path,
        credentials: &Credentials,
        kind: Option<DeviceKind>,
    ) -> Result<Self, SdkError> {
        let api = Api::new(&credentials.server, &[], credentials.server_cert.as_deref())?;
        let key = SigningKey::generate()
            .map_err(|e| SdkError::Input(format!("cannot generate a signing key: {e}")))?;
        let registered: DeviceRegistered = api
            .call(
                Method::POST,
                routes::REGISTER_DEVICE.path,
                None,
                Some(&RegisterDevice {
                    user_id: credentials.user_id.clone(),
                    password: credentials.password.clone(),
                    device_id: credentials.device_id.clone(),
                    signature_key: key.public().to_vec(),
                    kind,
                }),
            )
            .await?;
        let protocol = |reason: String| SdkError::Protocol {
            route: "POST /v1/devices".into(),
            reason,
        };
        let client = ClientUri::parse(&registered.client)
            .map_err(|e| protocol(format!("not a client URI: {e}")))?;
        let user = UserUri::parse(&registered.user)
            .map_err(|e| protocol(format!("not a user URI: {e}")))?;
        let profile = Profile {
            base_url: credentials.server.clone(),
            token: registered.token.clone(),
            client: client.to_string(),
            user: user.to_string(),
            trust_bundle: registered
                .trust_bundle
                .iter()
                .map(|(d, c)| (d.clone(), b64e(c)))
                .collect(),
            server_signature_key: b64e(&registered.server_signature_key),
            server_credential: registered
                .server_credential
                .iter()
                .map(|c| b64e(c))
                .collect(),
            server_cert: credentials.server_cert.clone(),
            no_read_receipts: false,
            no_delivery_reports: false,
            history_consents: Vec::new(),
            history_waiting: Vec::new(),
        };
        let trust = trust_store(&profile)?;
        let identity = ClientIdentity::from_parts(
            client.clone(),
            user,
            key,
            X509Credential::from_chain(registered.credential),
        );
        let path = device_path(profile_dir, &client);
        if path.exists() {
            return Err(SdkError::Profile(format!(
                "{} exists already; open it instead",
                path.display()
            )));
        }
        let store = Store::open(&path, true).await?;
        let mut engine = Client::new(identity, trust);
        let update = engine.record_update()?;
        store.save_all(&profile, &update, 0).await?;
        engine.record_saved(&update);
        let mut device = Self::assemble(path, store, profile, engine, 0)?;
        device.top_up_key_packages().await?;
        Ok(device)
    }

    /// Opens the device stored at `path` (see [`device_path`], [`devices_in`]). Nothing is
    /// sent until the next call that talks to the provider, so a device opens offline too.
    pub async fn open(path: &Path) -> Result<Self, SdkError> {
        let store = Store::open(path, false).await?;
        let profile = store.profile().await?;
        let stored = store.state().await?;
        let trust = trust_store(&profile)?;
        let mut engine = Client::from_stored(&stored.record, trust)?;
        if stored.record.state.first() != Some(&mimi_client_core::STATE_RECORD_VERSION) {
            // A file of an older layout: write its parts now (one transaction), so it is
            // migrated before anything else happens.
            let update = engine.record_update()?;
            store.save(&update, &[], stored.cursor).await?;
            engine.record_saved(&update);
        }
        Self::assemble(path.to_owned(), store, profile, engine, stored.cursor)
    }

    /// Sends what the device had not finished sending when it stopped (also done by the next
    /// [`Device::sync`] or operation).
    pub async fn resume(&mut self) -> Result<(), SdkError> {
        self.drive().await
    }

    pub(crate) fn assemble(
        path: PathBuf,
        store: Store,
        profile: Profile,
        client: Client,
        cursor: u64,
    ) -> Result<Self, SdkError> {
        let mut client = client;
        crate::history_members::restore(&profile, &mut client);
        let roots: Vec<Vec<u8>> = profile.bundle_der()?.into_values().collect();
        let api = Api::new(&profile.base_url, &roots, profile.server_cert.as_deref())?;
        let hub = ExternalSenderInfo {
            signature_key: b64d(&profile.server_signature_key)?,
            credential: X509Credential::from_chain(
                profile
                    .server_credential
                    .iter()
                    .map(|c| b64d(c))
                    .collect::<Result<_, _>>()?,
            ),
        };
        let trust = trust_store(&profile)?;
        Ok(Self {
            api,
            trust,
            store,
            profile,
            client,
            cursor,
            hub,
            events: VecDeque::new(),
            notices: Vec::new(),
            stream: crate::ws::Stream::default(),
            path,
            history_served: std::collections::BTreeMap::new(),
            mailbox_checked: None,
        })
    }

    /// Closes the store cleanly (dropping the device is safe too: every step is on disk).
    pub async fn close(self) {
        self.store.close().await;
    }

    /// The device's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The client API certificate this device pins (PEM), if any.
    pub fn server_cert(&self) -> Option<&str> {
        self.profile.server_cert.as_deref()
    }

    /// The provider's URL.
    pub fn server(&self) -> &str {
        self.api.base()
    }

    /// This device.
    pub fn client_uri(&self) -> &ClientUri {
        self.client.client()
    }

    /// Its user.
    pub fn user(&self) -> &UserUri {
        self.client.user()
    }

    /// Its provider's domain.
    pub fn domain(&self) -> &Domain {
        self.client.user().domain()
    }

    /// The engine (read-only).
    pub fn engine(&self) -> &Client {
        &self.client
    }

    /// The last event of the feed applied.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    pub(crate) fn trust(&self) -> &TrustStore {
        &self.trust
    }

    pub(crate) fn token(&self) -> &str {
        &self.profile.token
    }

    /// Writes what changed in the record (the state and new log rows) and the cursor, in one
    /// transaction.
    pub(crate) async fn persist(&mut self) -> Result<(), SdkError> {
        let update = self.client.record_update()?;
        // Franks verified since the last save go in the same transaction as the messages.
        let franks = self.client.take_franks();
        self.store.save(&update, &franks, self.cursor).await?;
        self.client.record_saved(&update);
        Ok(())
    }

    /// Asks the provider how many fresh KeyPackages this device has and uploads what is
    /// missing to reach the engine's target.
    pub async fn top_up_key_packages(&mut self) -> Result<usize, SdkError> {
        let stored: KeyPackagesStored = self
            .api
            .call(
                Method::POST,
                routes::UPLOAD_KEY_PACKAGES.path,
                Some(self.token()),
                Some(&UploadKeyPackages {
                    key_packages: Vec::new(),
                }),
            )
            .await?;
        let needed = self.client.key_packages_needed(stored.fresh);
        if needed > 0 {
            self.client.generate_key_packages(now_s(), needed)?;
            self.persist().await?;
            self.drive().await?;
        }
        Ok(needed)
    }

    /// Sends every request the engine has queued, in order, reporting each answer with
    /// `mark_sent` exactly once and writing the record after each. A request that cannot be
    /// delivered is reported as abandoned (its change is discarded) and the error returned.
    pub(crate) async fn drive(&mut self) -> Result<(), SdkError> {
        while let Some(request) = self.client.poll_request() {
            let op = request.op();
            let sent = self.send(&request).await;
            let (outcome, failure) = match sent {
                Ok(outcome) => (outcome, None),
                Err(e) => (SendOutcome::Abandoned, Some(e)),
            };
            let marked = self.client.mark_sent(op, outcome);
            self.collect_events();
            self.persist().await?;
            if let Some(e) = failure {
                return Err(e);
            }
            if let Err(e) = marked {
                // Refusals are also queued as events; the caller of an operation checks them.
                tracing::debug!(%op, error = %e, "operation refused");
            }
        }
        Ok(())
    }

    async fn send(&self, request: &Outgoing) -> Result<SendOutcome, SdkError> {
        let wire = |e: mimi_federation_api::EncodeError| SdkError::Input(e.to_string());
        match request {
            Outgoing::Commit { op, room, request } | Outgoing::Proposals { op, room, request } => {
                let path = routes::fill(&routes::UPDATE, Some(&encode_param(room)), None);
                let body = SubmitUpdate {
                    request: request.encode().map_err(wire)?,
                    // From the engine's record: survives a restart between queue and send.
                    external_join: self.client.is_external_join(*op),
                };
                let answer: HubAnswer = self
                    .api
                    .call(Method::POST, &path, Some(self.token()), Some(&body))
                    .await?;
                let response: UpdateRoomResponse =
                    decode_exact(&answer.response).map_err(|e| SdkError::Protocol {
                        route: path.clone(),
                        reason: format!("the hub's answer does not decode: {e}"),
                    })?;
                Ok(SendOutcome::Update(response.outcome))
            }
            Outgoing::Message { room, request, .. } => {
                let path = routes::fill(&routes::MESSAGES, Some(&encode_param(room)), None);
                let body = SubmitMessage {
                    request: request.encode().map_err(wire)?,
                };
                let answer: HubAnswer = self
                    .api
                    .call(Method::POST, &path, Some(self.token()), Some(&body))
                    .await?;
                let response: SubmitMessageResponse =
                    decode_exact(&answer.response).map_err(|e| SdkError::Protocol {
                        route: path.clone(),
                        reason: format!("the hub's answer does not decode: {e}"),
                    })?;
                Ok(SendOutcome::Submit(response.outcome))
            }
            Outgoing::KeyPackages { key_packages, .. } => {
                let body = UploadKeyPackages {
                    key_packages: key_packages.iter().map(|k| k.message.clone()).collect(),
                };
                let _: KeyPackagesStored = self
                    .api
                    .call(
                        Method::POST,
                        routes::UPLOAD_KEY_PACKAGES.path,
                        Some(self.token()),
                        Some(&body),
                    )
                    .await?;
                Ok(SendOutcome::Uploaded)
            }
            other => Err(SdkError::Input(format!(
                "the SDK does not know how to send {other:?}"
            ))),
        }
    }

    pub(crate) fn collect_events(&mut self) {
        while let Some(event) = self.client.poll_event() {
            self.events.push_back(event);
        }
    }

    /// Fetches the event feed once (waiting up to `wait_ms` for an event if there is none),
    /// applies the events and writes the record and cursor once for all of them. Then commits proposals
    /// other members left pending (a leave), tops up KeyPackages after a join and sends the
    /// messages that were queued until this device caught up. Returns how many events arrived.
    pub async fn sync(&mut self, wait_ms: u64) -> Result<usize, SdkError> {
        let events = match self.pushed_events(wait_ms).await? {
            Some(events) => events,
            None => self.long_poll(wait_ms).await?,
        };
        let n = events.len();
        let before = self.events.len();
        let mut applied = false;
        for event in events {
            if event.ephemeral {
                // A typing indicator: shown if it decrypts, never persisted, cursor unmoved.
                if let Ok(room) = RoomUri::parse(&event.room) {
                    self.client
                        .handle_typing_message(now_s(), &room, &event.payload);
                }
                continue;
            }
            if event.seq <= self.cursor {
                continue;
            }
            applied = true;
            match RoomUri::parse(&event.room) {
                Ok(room) => {
                    if let Err(e) =
                        self.client
                            .handle_event(now_s(), event.seq, &room, &event.payload)
                    {
                        tracing::warn!(seq = event.seq, %room, error = %e, "event not applied");
                    }
                }
                Err(e) => tracing::warn!(seq = event.seq, error = %e, "event for a bad room URI"),
            }
            self.cursor = event.seq;
        }
        // Other users' history requests that now wait for this user's agreement, kept before
        // the cursor moves past the events that carried them (a crash in between replays them;
        // keeping a request twice is harmless, they are keyed by room and device).
        self.save_history_sharing().await?;
        // One write (one sync) for the page: nothing left the device while it was applied,
        // so a crash before this point replays the page from the stored cursor.
        if applied {
            self.persist().await?;
        }
        self.collect_events();
        self.after_events(before).await?;
        self.report_delivered(before).await;
        // Messages the hub found too old were queued again while the events were applied (this
        // device caught up): send them now rather than at the next command.
        if let Err(e) = self.drive().await {
            tracing::debug!(error = %e, "queued requests not sent");
            self.notices
                .push(format!("queued messages could not be sent yet: {e}"));
        }
        Ok(n)
    }

    /// `GET /v1/events`: what follows the cursor, waiting up to `wait_ms` if nothing does.
    async fn long_poll(&self, wait_ms: u64) -> Result<Vec<Event>, SdkError> {
        self.peek_events(self.cursor, wait_ms).await
    }

    /// The raw event feed after `after` (a page, waiting up to `wait_ms` if nothing follows),
    /// neither applied nor stored: the device does not move. For tools that measure the feed
    /// itself (the load generator counts ciphertext deliveries this way).
    pub async fn peek_events(&self, after: u64, wait_ms: u64) -> Result<Vec<Event>, SdkError> {
        let path = format!(
            "{}?after={after}&wait_ms={}",
            routes::EVENTS.path,
            wait_ms.min(30_000)
        );
        let response: EventsResponse = self
            .api
            .call(Method::GET, &path, Some(self.token()), None::<&()>)
            .await?;
        Ok(response.events)
    }

    /// Events pushed on the WebSocket feed within `wait_ms`, or `None` to long-poll instead
    /// (no wait asked, no WebSocket route, or the connection dropped: it is opened again next
    /// time, from the cursor).
    async fn pushed_events(&mut self, wait_ms: u64) -> Result<Option<Vec<Event>>, SdkError> {
        use crate::ws::Stream;
        if wait_ms == 0 {
            return Ok(None);
        }
        if matches!(self.stream, Stream::Untried) {
            self.stream = match crate::ws::connect(
                self.api.base(),
                self.profile.server_cert.as_deref(),
                self.token(),
                self.cursor,
            )
            .await?
            {
                Some(socket) => Stream::Open(socket),
                None => Stream::Unavailable,
            };
        }
        let Stream::Open(socket) = &mut self.stream else {
            return Ok(None);
        };
        match crate::ws::next(socket, std::time::Duration::from_millis(wait_ms)).await {
            Ok(pushed) => {
                if pushed.closed {
                    tracing::debug!("event stream closed after a large event; reopening next time");
                    self.stream = Stream::Untried;
                }
                Ok(Some(pushed.events))
            }
            Err(reason) => {
                tracing::debug!(%reason, "event stream dropped; long-polling this time");
                self.stream = Stream::Untried;
                Ok(None)
            }
        }
    }

    /// Whether the event feed currently arrives over a WebSocket.
    pub fn is_streaming(&self) -> bool {
        matches!(self.stream, crate::ws::Stream::Open(_))
    }

    async fn after_events(&mut self, from: usize) -> Result<(), SdkError> {
        let mut pending_rooms = BTreeSet::new();
        let mut behind = BTreeSet::new();
        let mut joined = false;
        let mut joined_rooms = Vec::new();
        let mut sibling = false;
        for event in self.events.iter().skip(from) {
            match event {
                ClientEvent::ProposalsPending { room } => {
                    pending_rooms.insert(room.clone());
                }
                ClientEvent::CommitFailed { room, .. } => {
                    behind.insert(room.clone());
                }
                ClientEvent::Joined { room } => {
                    joined = true;
                    joined_rooms.push(room.clone());
                }
                ClientEvent::SiblingJoined { .. } => sibling = true,
                _ => {}
            }
        }
        // Another device of this user joined a room: it may have asked for the history. And
        // now and then in any case (at the first sync of a process, then every
        // `MAILBOX_POLL`): answers to this device's own request, or a request that arrived
        // after this device last looked.
        let due = self
            .mailbox_checked
            .is_none_or(|at| at.elapsed() >= MAILBOX_POLL);
        if sibling || due {
            self.mailbox_checked = Some(std::time::Instant::now());
            match self.exchange_history().await {
                Ok(done) => {
                    for (from, why) in &done.refused {
                        self.notices
                            .push(format!("a history item from {from} was refused: {why}"));
                    }
                }
                Err(e) if sibling => self.notices.push(format!(
                    "another device of this user joined a room, but its history request could \
                     not be answered yet ({e}); it is answered at a later sync, or run \
                     `mimi device add` again"
                )),
                Err(e) => tracing::debug!(error = %e, "device mailbox not read"),
            }
        }
        // A room this device fell behind in (a commit it could not process): rejoin it from
        // the hub's GroupInfo rather than stay unable to read or send there.
        for room in behind {
            if !self.client.is_behind(&room) {
                continue;
            }
            match self.rejoin(&room).await {
                Ok(()) => self.notices.push(format!(
                    "{room}: this device could not process a commit and rejoined the room \
                     (its history is kept; messages sent there in between cannot be read)"
                )),
                Err(e) => {
                    tracing::warn!(%room, error = %e, "rejoin failed");
                    self.notices.push(format!(
                        "{room}: this device could not process a commit and could not rejoin \
                         yet ({e}); it tries again at the room's next commit, or run \
                         `mimi room rejoin`"
                    ));
                }
            }
        }
        for room in pending_rooms {
            match self.client.commit_proposals(now_s(), &room) {
                Ok(None) => {}
                Ok(Some(_)) => {
                    self.persist().await?;
                    self.drive().await?;
                }
                // This device is leaving itself: the others commit.
                Err(mimi_client_core::ClientError::Leaving { .. }) => {}
                Err(e) => {
                    tracing::debug!(%room, error = %e, "pending proposals not committed");
                    self.notices.push(format!(
                        "{room}: this device could not commit the changes other members proposed \
                         (e.g. a leave): {e}"
                    ));
                }
            }
        }
        if joined {
            self.top_up_key_packages().await?;
        }
        // New members ask for the history of rooms that share it automatically.
        if !joined_rooms.is_empty() {
            let asked = self.ask_history_on_join(&joined_rooms);
            self.notices.extend(asked);
            self.persist().await?;
        }
        // Requests the engine queued while processing (e.g. a re-send after epochTooOld).
        self.drive().await
    }

    /// Drains what the driver did on its own and could not finish (e.g. committing another
    /// member's leave that the room policy refuses), as sentences for the user.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// Drains the UI events gathered so far.
    pub fn take_events(&mut self) -> Vec<ClientEvent> {
        self.events.drain(..).collect()
    }

    /// Waits up to `wait_ms` for new events and returns them (and any gathered before):
    /// call in a loop for a live stream.
    pub async fn listen(&mut self, wait_ms: u64) -> Result<Vec<ClientEvent>, SdkError> {
        if self.events.is_empty() {
            self.sync(wait_ms).await?;
        }
        Ok(self.take_events())
    }
}

/// The MLS trust store of a profile's bundle.
pub(crate) fn trust_store(profile: &Profile) -> Result<TrustStore, SdkError> {
    let mut trust = TrustStore::new();
    for (domain, der) in profile.bundle_der()? {
        let domain = Domain::parse(&domain)
            .map_err(|e| SdkError::Profile(format!("trust bundle domain {domain:?}: {e}")))?;
        trust
            .pin(domain, &der)
            .map_err(|e| SdkError::Profile(format!("trust bundle CA: {e}")))?;
    }
    Ok(trust)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_files_are_laid_out_per_domain_user_and_device() {
        let dir = tempfile::tempdir().unwrap();
        let client = ClientUri::parse("mimi://x.example/d/alice/phone").unwrap();
        let path = device_path(dir.path(), &client);
        assert_eq!(
            path,
            dir.path()
                .join("x.example")
                .join("alice")
                .join("phone.sqlite")
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"").unwrap();
        assert_eq!(devices_in(dir.path()), vec![path]);
        assert!(devices_in(&dir.path().join("nothing")).is_empty());
    }
}
