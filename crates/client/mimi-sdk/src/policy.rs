//! Room policy through the SDK: settings, role definitions, preauthorization (issue 18
//! item 6) and the server access list (item 3). The client engine decides and checks; these drive its commits.

use mimi_client_core::{BotEntry, PolicySetting, RoleEdit, ServerAccess, ServerMode};
use mimi_room::components::{Bot, Claim, PreAuthRoleEntry, RoleIndex, ServerCapabilities};
use mimi_types::{Domain, RoomUri};

use crate::device::{Device, now_s};
use crate::error::SdkError;

impl Device {
    /// Changes `room`'s policy by `settings` in one commit (see
    /// [`mimi_client_core::PolicySetting`] for the keys and the capability each needs).
    pub async fn set_policy(
        &mut self,
        room: &RoomUri,
        settings: &[PolicySetting],
    ) -> Result<(), SdkError> {
        let op = self.client.set_policy(now_s(), room, settings)?;
        self.run_op(op).await
    }

    /// Ends `room` for good (`canDestroyRoom`): one commit that every member receives; the
    /// hub then refuses everything else in the room. Refused before anything is sent where
    /// this user's role lacks the capability.
    pub async fn destroy_room(&mut self, room: &RoomUri) -> Result<(), SdkError> {
        let op = self.client.destroy_room(now_s(), room)?;
        self.run_op(op).await
    }

    /// Grants and revokes capabilities of the role `role` in `room`.
    pub async fn edit_role(
        &mut self,
        room: &RoomUri,
        role: RoleIndex,
        edit: &RoleEdit,
    ) -> Result<(), SdkError> {
        let op = self.client.edit_role(now_s(), room, role, edit)?;
        self.run_op(op).await
    }

    /// `room`'s preauthorization entries, by index.
    pub fn preauth(&mut self, room: &RoomUri) -> Result<Vec<PreAuthRoleEntry>, SdkError> {
        Ok(self.client.preauth(room)?)
    }

    /// Preauthorizes whoever's credential makes every claim of `claims` for `role`.
    pub async fn add_preauth(
        &mut self,
        room: &RoomUri,
        claims: Vec<Claim>,
        role: RoleIndex,
    ) -> Result<(), SdkError> {
        let op = self.client.add_preauth(now_s(), room, claims, role)?;
        self.run_op(op).await
    }

    /// Removes the preauthorization entry at `index`.
    pub async fn remove_preauth(&mut self, room: &RoomUri, index: usize) -> Result<(), SdkError> {
        let op = self.client.remove_preauth(now_s(), room, index)?;
        self.run_op(op).await
    }

    /// The bots `room` admits (`None`: the room has no bot policy and admits any).
    pub fn allowed_bots(&mut self, room: &RoomUri) -> Result<Option<Vec<Bot>>, SdkError> {
        Ok(self.client.allowed_bots(room)?)
    }

    /// Admits a bot in `room` (`canChangeOtherPolicyAttribute`).
    pub async fn allow_bot(&mut self, room: &RoomUri, entry: &BotEntry) -> Result<(), SdkError> {
        let op = self.client.allow_bot(now_s(), room, entry)?;
        self.run_op(op).await
    }

    /// Stops admitting the bot named `name` in `room`.
    pub async fn disallow_bot(&mut self, room: &RoomUri, name: &str) -> Result<(), SdkError> {
        let op = self.client.disallow_bot(now_s(), room, name)?;
        self.run_op(op).await
    }

    /// Removes `room`'s bot policy: any bot may then be added as any client.
    pub async fn clear_bots(&mut self, room: &RoomUri) -> Result<(), SdkError> {
        let op = self.client.clear_bots(now_s(), room)?;
        self.run_op(op).await
    }

    /// `room`'s server access list and the providers that take part.
    pub fn server_access(&mut self, room: &RoomUri) -> Result<ServerAccess, SdkError> {
        Ok(self.client.server_access(room)?)
    }

    /// Gives `domain` the server capabilities `caps` in `room` (`allow`) or takes them away.
    pub async fn change_server_access(
        &mut self,
        room: &RoomUri,
        domain: &Domain,
        allow: bool,
        caps: ServerCapabilities,
    ) -> Result<(), SdkError> {
        let op = self
            .client
            .change_server_access(now_s(), room, domain, allow, caps)?;
        self.run_op(op).await
    }

    /// Sets how `room` treats providers without an entry in its server access list.
    pub async fn set_server_mode(
        &mut self,
        room: &RoomUri,
        mode: ServerMode,
    ) -> Result<(), SdkError> {
        let op = self.client.set_server_mode(now_s(), room, mode)?;
        self.run_op(op).await
    }
}
