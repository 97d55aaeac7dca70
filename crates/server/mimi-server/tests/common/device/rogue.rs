//! The rogue operations of a test device that the attack tests need, built from a copy of the
//! engine's MLS group and never merged into it (see `device`).

use std::collections::BTreeMap;

use mimi_client_api::SubmitMessage;
use mimi_content::{ContentBuilder, NestedPart};
use mimi_federation_api::Encode;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_federation_api::update::UpdateOutcome;
use mimi_mls::OutgoingCommit;
use mimi_room::ComponentChange;
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_types::codepoints::ComponentId;
use mimi_types::{RoomUri, UserUri};

use super::driver::{Device, Refused, commit_request, now_s};

impl Device {
    /// Submits a prepared commit as it is (a raw path: the engine does not hold it, so it
    /// is never merged); the hub's outcome.
    pub async fn submit_commit(
        &self,
        room: &RoomUri,
        out: OutgoingCommit,
        external_join: bool,
    ) -> UpdateOutcome {
        self.submit_update(room, &commit_request(&out), external_join)
            .await
            .unwrap()
    }

    /// Adds every device of `users` (as role 2) in one commit built as a rogue member's
    /// modified client would: without the sender's own credential and policy checks
    /// (`ClientGroup::rogue_commit`, on a copy of the engine's group), so that the hub and
    /// the members must refuse it.
    pub async fn add_users_unchecked(&self, room: &RoomUri, users: &[UserUri]) -> UpdateOutcome {
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
            .group_copy(room)
            .rogue_commit(&[change], &key_packages, now_s())
            .unwrap();
        self.submit_commit(room, out, false).await
    }

    /// Submits a self-update commit built from a copy of the engine's MLS state whose bytes
    /// `tamper` then changes (a rogue member, or its provider in transit), with the honest
    /// GroupInfo; the engine keeps its epoch whatever the hub says.
    pub async fn self_update_tampered(
        &self,
        room: &RoomUri,
        tamper: impl FnOnce(&mut Vec<u8>),
    ) -> Result<UpdateOutcome, Refused> {
        let mut out = self.group_copy(room).self_update(now_s()).unwrap();
        tamper(&mut out.commit);
        self.submit_update(room, &commit_request(&out), false).await
    }

    /// Submits, with this device's token, a self-update commit that `other` built and signed
    /// (a rogue device handing in another member's handshake); `other` keeps its epoch.
    pub async fn submit_commit_of(
        &self,
        room: &RoomUri,
        other: &Device,
    ) -> Result<UpdateOutcome, Refused> {
        let out = other.group_copy(room).self_update(now_s()).unwrap();
        self.submit_update(room, &commit_request(&out), false).await
    }

    /// Sends `text` (MIMI content) in `room` as a modified client would, without the
    /// engine's checks (a muted member, a room that ended): protected on a copy of the
    /// engine's group; the hub's outcome.
    pub async fn send_unchecked(
        &self,
        room: &RoomUri,
        text: &str,
    ) -> Result<SubmitOutcome, Refused> {
        self.send_unchecked_as(room, text, self.user()).await
    }

    /// Like [`Device::send_unchecked`], with MIMI content naming `sender` as its senderUri
    /// (a forgery every receiving engine must refuse when `sender` is another user: the hub
    /// cannot read the content and accepts it).
    pub async fn send_unchecked_as(
        &self,
        room: &RoomUri,
        text: &str,
        sender: &UserUri,
    ) -> Result<SubmitOutcome, Refused> {
        let content = ContentBuilder::new(NestedPart::text(text))
            .uris(sender, room)
            .build(&mut rand::rngs::OsRng)
            .unwrap();
        let (bytes, _) = content
            .encode_with_id(sender.to_string().as_bytes(), room.to_string().as_bytes())
            .unwrap();
        let mut group = self.group_copy(room);
        let protected = group.protect(&bytes, &BTreeMap::new()).unwrap();
        let request = SubmitMessageRequest::new(
            MlsMessage::from_bytes(protected).unwrap(),
            IdentifierUri::from_string(self.user().to_string()).unwrap(),
        )
        .unwrap();
        self.submit_raw(room, &request).await
    }

    /// An ephemeral message (typing-like payload) of this device for `room`, as the
    /// `SubmitMessage` body of the typing route, naming `sender` as sendingUri (protected on
    /// a copy of the engine's group, as the engine's own typing messages are).
    pub fn ephemeral(&self, room: &RoomUri, sender: &UserUri, payload: &[u8]) -> SubmitMessage {
        let bytes = self
            .group_copy(room)
            .protect(payload, &BTreeMap::new())
            .unwrap();
        let request = SubmitMessageRequest::new(
            MlsMessage::from_bytes(bytes).unwrap(),
            IdentifierUri::from_string(sender.to_string()).unwrap(),
        )
        .unwrap();
        SubmitMessage {
            request: request.encode().unwrap(),
        }
    }
}
