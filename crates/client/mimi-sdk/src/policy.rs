//! Room policy through the SDK: settings, role definitions and preauthorization (issue 18
//! item 6). The client engine decides and checks; these drive its commits.

use mimi_client_core::{PolicySetting, RoleEdit};
use mimi_room::components::{Claim, PreAuthRoleEntry, RoleIndex};
use mimi_types::RoomUri;

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
}
