//! High-level operations: rooms, members, messages. Each runs the engine command, sends what
//! it queued and reports whether the hub accepted it.

use mimi_client_api::CreateRoom;
use mimi_client_api::{
    ContactAction, Contacts, ErrorCode, HubAnswer, KeyMaterialFetch, RoomList, SetContactPolicy,
    routes,
};
use mimi_client_core::{ClientEvent, FileInfo, Invitee, OpId, RoomView};
use mimi_content::MessageId;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::key_material::{
    ClientMaterial, KeyMaterialRequestTbs, KeyMaterialResponse, KeyMaterialUserCode,
};
use mimi_federation_api::mls::{Credential, RequiredCapabilities, Signature, SignaturePublicKey};
use mimi_federation_api::path::encode_param;
use mimi_federation_api::{Encode as _, decode_exact};
use mimi_mls::sign;
use mimi_room::components::RoleIndex;
use mimi_room::presets::Preset;
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;
use mimi_types::{RoomUri, UserUri};
use rand::rngs::OsRng;
use reqwest::Method;

use crate::device::{Device, now_s};
use crate::error::SdkError;

/// The RequiredCapabilities a MIMI room asks of KeyPackages (TLS-encoded): the
/// app_data_dictionary extension, the AppDataUpdate and SelfRemove proposals, X.509
/// credentials.
const REQUIRED_CAPABILITIES: &[u8] = &[
    0x02, 0x00, 0x06, // extensions: app_data_dictionary
    0x04, 0x00, 0x08, 0x00, 0x0a, // proposals: AppDataUpdate, SelfRemove
    0x02, 0x00, 0x02, // credentials: x509
];

fn protocol(route: &str, e: impl std::fmt::Display) -> SdkError {
    SdkError::Protocol {
        route: route.to_owned(),
        reason: e.to_string(),
    }
}

/// The asset URL a provider answers for a blob it stores (`mimi_client_api::blobs`:
/// `https://<provider>/v1/blobs/<id>?room=<room>`, the ID the hex SHA-256 of the bytes).
fn asset_url(provider: &mimi_types::Domain, digest: &[u8], room: &RoomUri) -> String {
    format!(
        "https://{provider}/v1/blobs/{}?room={}",
        mimi_client_api::blobs::blob_id(digest),
        encode_param(room)
    )
}

impl Device {
    /// Sends what `op` queued (and anything before it) and fails if the hub refused `op`, or
    /// did not accept a message that then stays queued on this device ([`SdkError::Queued`]).
    pub(crate) async fn run_op(&mut self, op: OpId) -> Result<(), SdkError> {
        self.persist().await?;
        let from = self.events.len();
        self.drive().await?;
        // The operation, and those that carried it again after an `epochTooOld`.
        let mut ops = vec![op];
        for event in self.events.iter().skip(from) {
            match event {
                ClientEvent::Resent { op: old, as_op, .. } if ops.contains(old) => {
                    ops.push(*as_op);
                }
                ClientEvent::Refused {
                    room,
                    op: refused,
                    refusal,
                } if ops.contains(refused) => {
                    return Err(SdkError::Refused {
                        room: room.clone(),
                        refusal: refusal.clone(),
                    });
                }
                ClientEvent::Queued {
                    room,
                    op: queued,
                    refusal,
                } if ops.contains(queued) => {
                    return Err(SdkError::Queued {
                        room: room.clone(),
                        refusal: refusal.clone(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The room URI `mimi://<this provider>/r/<name>`.
    pub fn room_uri(&self, name: &str) -> Result<RoomUri, SdkError> {
        if name.starts_with("mimi://") {
            return RoomUri::parse(name).map_err(|e| SdkError::Input(format!("{name:?}: {e}")));
        }
        RoomUri::parse(&format!("mimi://{}/r/{name}", self.domain()))
            .map_err(|e| SdkError::Input(format!("{name:?} is not a room name: {e}")))
    }

    /// Creates a room hosted by this device's provider with a policy preset; this device is
    /// its only member.
    pub async fn create_room(&mut self, room: &RoomUri, preset: Preset) -> Result<(), SdkError> {
        let created = self.client.create_room(now_s(), room, preset, &self.hub)?;
        self.publish_room(room, created).await
    }

    /// [`Device::create_room`] with capabilities added to the preset's roles, listed in the
    /// provider's room directory or not.
    pub async fn create_room_with(
        &mut self,
        room: &RoomUri,
        preset: Preset,
        options: &mimi_client_core::RoomOptions,
    ) -> Result<(), SdkError> {
        let created = self
            .client
            .create_room_with(now_s(), room, preset, options, &self.hub)?;
        self.publish_room(room, created).await
    }

    /// Hands a room this device just created to its provider (the hub); forgets it if the
    /// provider refuses.
    pub(crate) async fn publish_room(
        &mut self,
        room: &RoomUri,
        created: mimi_mls::CreatedGroup,
    ) -> Result<(), SdkError> {
        let answer: Result<serde_json::Value, SdkError> = self
            .api
            .call(
                Method::POST,
                routes::CREATE_ROOM.path,
                Some(self.token()),
                Some(&CreateRoom {
                    room: room.to_string(),
                    group_info: created.group_info,
                    ratchet_tree: created.ratchet_tree,
                }),
            )
            .await;
        if let Err(e) = answer {
            // The hub never took the room: this device must not keep it either.
            self.client.discard_created_room(room)?;
            return Err(e);
        }
        self.collect_events();
        self.persist().await
    }

    /// The rooms this device's provider says it is in.
    pub async fn server_rooms(&self) -> Result<Vec<RoomUri>, SdkError> {
        let list: RoomList = self
            .api
            .call(
                Method::GET,
                routes::LIST_ROOMS.path,
                Some(self.token()),
                None::<&()>,
            )
            .await?;
        list.rooms
            .iter()
            .map(|r| RoomUri::parse(r).map_err(|e| protocol("GET /v1/rooms", e)))
            .collect()
    }

    /// The rooms this device has (active or not) and their views.
    pub fn rooms(&self) -> Vec<&RoomView> {
        self.client
            .rooms()
            .filter_map(|r| self.client.room(r))
            .collect()
    }

    /// What a UI shows of `room` (members, roles, messages with edits, deletes and reactions
    /// applied).
    pub fn history(&self, room: &RoomUri) -> Result<&RoomView, SdkError> {
        self.client.room(room).ok_or_else(|| {
            SdkError::Client(mimi_client_core::ClientError::NotMember { room: room.clone() })
        })
    }

    /// KeyPackages of every device of `user`, fetched through `room`'s hub.
    pub async fn key_material(
        &self,
        room: &RoomUri,
        user: &UserUri,
    ) -> Result<Vec<Vec<u8>>, SdkError> {
        let route = "POST /v1/rooms/{room}/key-material/{user}";
        let id =
            |s: String| IdentifierUri::from_string(s).map_err(|e| SdkError::Input(e.to_string()));
        let identity = self.client.identity();
        let tbs = KeyMaterialRequestTbs::new(
            id(self.user().to_string())?,
            id(user.to_string())?,
            id(room.to_string())?,
            vec![DEFAULT_CIPHERSUITE],
            RequiredCapabilities::from_bytes(REQUIRED_CAPABILITIES.to_vec())
                .map_err(|e| protocol(route, e))?,
            SignaturePublicKey::from_bytes(identity.signing_key().public().to_vec())
                .map_err(|e| protocol(route, e))?,
            Credential::from_bytes(
                identity
                    .mls_credential_bytes()
                    .map_err(|e| protocol(route, e))?,
            )
            .map_err(|e| protocol(route, e))?,
        );
        let signature = sign::sign_with_label(
            identity.signing_key(),
            sign::KEY_MATERIAL_REQUEST,
            &tbs.encode().map_err(|e| protocol(route, e))?,
        )
        .map_err(|e| protocol(route, e))?;
        let request = tbs.sign(Signature::from_bytes(signature).map_err(|e| protocol(route, e))?);
        let path = routes::fill(
            &routes::KEY_MATERIAL,
            Some(&encode_param(room)),
            Some(&encode_param(user)),
        );
        let answer: Result<HubAnswer, SdkError> = self
            .api
            .call(
                Method::POST,
                &path,
                Some(self.token()),
                Some(&KeyMaterialFetch {
                    request: request.encode().map_err(|e| protocol(route, e))?,
                }),
            )
            .await;
        let answer = match answer {
            Err(e)
                if e.api_code() == Some(ErrorCode::NotFound)
                    && self.client.room(room).is_some() =>
            {
                return Err(SdkError::UnknownUser { user: user.clone() });
            }
            other => other?,
        };
        let response: KeyMaterialResponse =
            decode_exact(&answer.response).map_err(|e| protocol(route, e))?;
        match response.user_status {
            KeyMaterialUserCode::NoConsent => {
                return Err(SdkError::NoConsent {
                    user: user.clone(),
                    for_room: false,
                });
            }
            KeyMaterialUserCode::NoConsentForThisRoom => {
                return Err(SdkError::NoConsent {
                    user: user.clone(),
                    for_room: true,
                });
            }
            _ => {}
        }
        let mut out = Vec::new();
        for client in &response.clients {
            if let ClientMaterial::Success(kp) = &client.material {
                out.push(
                    kp.to_mls_message()
                        .map_err(|e| protocol(route, e))?
                        .into_bytes(),
                );
            }
        }
        if out.is_empty() {
            return Err(SdkError::UnknownUser { user: user.clone() });
        }
        Ok(out)
    }

    /// Invites `users` (every device of each, fetched through the hub) with the default
    /// member role, in one commit. A user who has not consented is asked for consent instead
    /// (for any room, or for this room if they consented to others) and the invite stops with
    /// [`SdkError::ConsentRequested`]: invite again once they accept.
    pub async fn invite(&mut self, room: &RoomUri, users: &[UserUri]) -> Result<(), SdkError> {
        self.history(room)?;
        let mut invitees = Vec::new();
        for user in users {
            let key_packages = match self.key_material(room, user).await {
                Err(SdkError::NoConsent { user, for_room }) => {
                    self.request_consent(&user, for_room.then_some(room))
                        .await?;
                    return Err(SdkError::ConsentRequested { user });
                }
                other => other?,
            };
            invitees.push(Invitee::new(user.clone(), key_packages));
        }
        let op = self.client.invite(now_s(), room, &invitees)?;
        self.run_op(op).await
    }

    /// This user's contacts: their policy, the consent requests waiting for their answer,
    /// whom they consent to or blocked, and their own requests.
    pub async fn contacts(&self) -> Result<Contacts, SdkError> {
        self.api
            .call(
                Method::GET,
                routes::CONTACTS.path,
                Some(self.token()),
                None::<&()>,
            )
            .await
    }

    async fn contact_action(
        &self,
        path: &str,
        user: &UserUri,
        room: Option<&RoomUri>,
    ) -> Result<Contacts, SdkError> {
        let action = ContactAction {
            user: user.to_string(),
            room: room.map(ToString::to_string),
        };
        self.api
            .call(Method::POST, path, Some(self.token()), Some(&action))
            .await
    }

    /// Asks `user` for consent to add them to rooms (`room` only, or any), which also
    /// consents to them.
    pub async fn request_consent(
        &self,
        user: &UserUri,
        room: Option<&RoomUri>,
    ) -> Result<Contacts, SdkError> {
        self.contact_action(routes::CONTACT_REQUEST.path, user, room)
            .await
    }

    /// Consents to `user` adding this user to rooms (`room` only, or any).
    pub async fn accept_contact(
        &self,
        user: &UserUri,
        room: Option<&RoomUri>,
    ) -> Result<Contacts, SdkError> {
        self.contact_action(routes::CONTACT_ACCEPT.path, user, room)
            .await
    }

    /// Withdraws every consent given to `user` and refuses them from now on.
    pub async fn block_contact(&self, user: &UserUri) -> Result<Contacts, SdkError> {
        self.contact_action(routes::CONTACT_BLOCK.path, user, None)
            .await
    }

    /// Sets who else may add this user to rooms: `anyone`, `contacts`,
    /// `providers:a.example,b.example`; `None`: the provider's default.
    pub async fn set_contact_policy(&self, policy: Option<&str>) -> Result<Contacts, SdkError> {
        let body = SetContactPolicy {
            policy: policy.map(str::to_owned),
        };
        self.api
            .call(
                Method::POST,
                routes::CONTACT_POLICY.path,
                Some(self.token()),
                Some(&body),
            )
            .await
    }

    /// Removes `users` (all their devices) from `room`.
    pub async fn remove(&mut self, room: &RoomUri, users: &[UserUri]) -> Result<(), SdkError> {
        let op = self.client.remove(now_s(), room, users)?;
        self.run_op(op).await
    }

    /// Bans `user` (role 1, and removal of their devices).
    pub async fn ban(&mut self, room: &RoomUri, user: &UserUri) -> Result<(), SdkError> {
        let op = self.client.ban(now_s(), room, user)?;
        self.run_op(op).await
    }

    /// Gives `user` the role `role`.
    pub async fn set_role(
        &mut self,
        room: &RoomUri,
        user: &UserUri,
        role: RoleIndex,
    ) -> Result<(), SdkError> {
        let op = self.client.set_role(now_s(), room, user, role)?;
        self.run_op(op).await
    }

    /// Leaves `room`: proposes the removal, which another member's device commits.
    pub async fn leave(&mut self, room: &RoomUri) -> Result<(), SdkError> {
        let op = self.client.leave(room)?;
        self.run_op(op).await
    }

    /// Renames `room`.
    pub async fn rename(&mut self, room: &RoomUri, name: &str) -> Result<(), SdkError> {
        let op = self.client.rename(now_s(), room, name)?;
        self.run_op(op).await
    }

    /// Sets `room`'s topic.
    pub async fn set_topic(&mut self, room: &RoomUri, topic: &str) -> Result<(), SdkError> {
        let op = self.client.set_topic(now_s(), room, topic)?;
        self.run_op(op).await
    }

    /// Sends plain text; returns its message ID.
    pub async fn send_text(&mut self, room: &RoomUri, text: &str) -> Result<MessageId, SdkError> {
        self.client.tick(now_s());
        let (op, id) = self.client.send_text(&mut OsRng, room, text)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Sends plain text that expires at `expires_at` (UNIX seconds): every device stops
    /// showing it then ([`mimi_client_core::RoomView::visible_messages`]); returns its ID.
    pub async fn send_expiring(
        &mut self,
        room: &RoomUri,
        text: &str,
        expires_at: u32,
    ) -> Result<MessageId, SdkError> {
        self.client.tick(now_s());
        let (op, id) = self
            .client
            .send_expiring(&mut OsRng, room, text, expires_at)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Sends plain text in the topic `topic` (opaque bytes): starting it where this device has
    /// no message in it yet (`canStartTopic`), replying in it otherwise (`canReplyInTopic`).
    pub async fn send_in_topic(
        &mut self,
        room: &RoomUri,
        topic: &[u8],
        text: &str,
    ) -> Result<MessageId, SdkError> {
        self.client.tick(now_s());
        let (op, id) = self.client.send_in_topic(&mut OsRng, room, topic, text)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Sends Markdown; returns its message ID.
    pub async fn send_markdown(
        &mut self,
        room: &RoomUri,
        markdown: &str,
    ) -> Result<MessageId, SdkError> {
        self.client.tick(now_s());
        let (op, id) = self.client.send_markdown(&mut OsRng, room, markdown)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Replies to `to`.
    pub async fn reply(
        &mut self,
        room: &RoomUri,
        to: MessageId,
        text: &str,
    ) -> Result<MessageId, SdkError> {
        self.client.tick(now_s());
        let (op, id) = self.client.reply(&mut OsRng, room, to, text)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Reacts to `to`; returns the reaction's message ID (what [`Device::unreact`] takes).
    pub async fn react(
        &mut self,
        room: &RoomUri,
        to: MessageId,
        reaction: &str,
    ) -> Result<MessageId, SdkError> {
        let (op, id) = self.client.react(&mut OsRng, room, to, reaction)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Withdraws the reaction `reaction` (its message ID).
    pub async fn unreact(
        &mut self,
        room: &RoomUri,
        reaction: MessageId,
    ) -> Result<MessageId, SdkError> {
        let (op, id) = self.client.unreact(&mut OsRng, room, reaction)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Replaces the text of `message`.
    pub async fn edit(
        &mut self,
        room: &RoomUri,
        message: MessageId,
        text: &str,
    ) -> Result<MessageId, SdkError> {
        let (op, id) = self.client.edit(&mut OsRng, room, message, text)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Deletes `message`.
    pub async fn delete(
        &mut self,
        room: &RoomUri,
        message: MessageId,
    ) -> Result<MessageId, SdkError> {
        let (op, id) = self.client.delete(&mut OsRng, room, message)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Tells the room's other devices that this user started (`active`) or stopped typing: an
    /// encrypted ephemeral message the hub relays to live event streams only and never stores
    /// (best-effort; devices not streaming now never see it).
    pub async fn typing(&mut self, room: &RoomUri, active: bool) -> Result<(), SdkError> {
        let request = self.client.typing_message(room, active)?;
        // The sender ratchet moved: on disk before the message leaves.
        self.persist().await?;
        let path = routes::fill(&routes::TYPING, Some(&encode_param(room)), None);
        let body = mimi_client_api::SubmitMessage {
            request: request.encode().map_err(|e| protocol(&path, e))?,
        };
        let _: serde_json::Value = self
            .api
            .call(Method::POST, &path, Some(self.token()), Some(&body))
            .await?;
        Ok(())
    }

    /// Sends a file as an encrypted attachment: encrypts it with a fresh key, uploads the
    /// ciphertext to this device's provider for the room (`POST /v1/blobs?room=`, answered once
    /// durable), then sends the message naming its asset URL, size, hash and key. Nothing is
    /// sent if the upload fails, and nothing is uploaded where the room would refuse the
    /// message: the role's upload capability, the asset policy's sizes and media types, and
    /// its upload domains for the URL the provider will give are all checked first.
    pub async fn send_file(
        &mut self,
        room: &RoomUri,
        file: &[u8],
        info: &FileInfo,
    ) -> Result<MessageId, SdkError> {
        self.client.may_send(room)?;
        // The room's expiration policy may refuse a message without an expiry: before the upload.
        self.client.tick(now_s());
        self.client.expiry_for(room, None)?;
        let sealed = mimi_content::seal_attachment(&mut OsRng, file, &[])
            .map_err(|e| SdkError::Input(format!("cannot encrypt the file: {e}")))?;
        // The role's upload capability and the room's asset policy: before the upload.
        self.client
            .may_attach(room, &info.content_type, sealed.ciphertext.len() as u64)?;
        // Where the provider will store it (it names blobs by the hash of their bytes, under
        // its own domain): the room's upload domains must allow that host, or the upload would
        // leave a blob behind a message nobody may send.
        let expected = asset_url(self.user().domain(), &sealed.content_hash, room);
        self.client.may_host_asset(room, &expected)?;
        let stored = self
            .api
            .upload_blob(self.token(), room, sealed.ciphertext.clone())
            .await?;
        if stored.id != mimi_client_api::blobs::blob_id(&sealed.content_hash) {
            return Err(protocol(
                "POST /v1/blobs",
                format!(
                    "the provider stored the blob as {}, not under its SHA-256; nothing was sent",
                    stored.id
                ),
            ));
        }
        let (op, id) =
            self.client
                .send_sealed_attachment(&mut OsRng, room, &sealed, info, &stored.url)?;
        self.run_op(op).await?;
        Ok(id)
    }

    /// Downloads the `index`-th attachment of `message` through this device's provider
    /// (which fetches other providers' assets over mutual TLS, for members of the room only),
    /// checks its size and SHA-256 against the message and decrypts it. A blob that does not
    /// match is refused. No redirect is followed, and the download stops as soon as more bytes
    /// arrive than the message names (see [`SdkError::AttachmentUrl`]). A role without the
    /// download capability for the attachment's kind, or a room whose `asset_policy` does not
    /// allow this path (`hubProxy`, our reading), is refused before anything is fetched
    /// ([`mimi_client_core::Client::may_download`]).
    pub async fn download(
        &self,
        room: &RoomUri,
        message: MessageId,
        index: usize,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, SdkError> {
        let view = self.history(room)?;
        let attachment = view
            .message(&message)
            .and_then(|m| m.body.attachments.get(index))
            .ok_or_else(|| {
                SdkError::Client(mimi_client_core::ClientError::UnknownMessage {
                    room: room.clone(),
                    id: format!("{message} (attachment {index})"),
                })
            })?;
        self.client.may_download(room, &message, index)?;
        let max = if attachment.size == 0 {
            mimi_client_api::blobs::DEFAULT_MAX_BLOB_BYTES as u64
        } else {
            attachment.size
        };
        let bytes = self
            .api
            .download_asset(self.token(), &attachment.url, max)
            .await?;
        Ok(self.client.open_attachment(room, &message, index, &bytes)?)
    }
}
