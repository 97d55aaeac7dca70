//! Join links through the SDK: make, list and revoke them (room admins), and join by one.

use mimi_client_core::NewJoinLink;
use mimi_room::components::{JoinCodeTerms, RoleIndex};
use mimi_types::RoomUri;
use rand::rngs::OsRng;

use crate::device::{Device, now_s};
use crate::error::SdkError;

impl Device {
    /// Makes a join link for `role` in `room`, expiring at `not_after` (Unix seconds, 0:
    /// never), good for `uses` joins (0: unlimited). Returns the code (shown once: the room
    /// keeps only its digest; [`mimi_client_core::format_join_link`] makes the text to share).
    pub async fn create_join_link(
        &mut self,
        room: &RoomUri,
        role: RoleIndex,
        not_after: u64,
        uses: u32,
    ) -> Result<NewJoinLink, SdkError> {
        let (op, link) =
            self.client
                .create_join_link(&mut OsRng, now_s(), room, role, not_after, uses)?;
        self.run_op(op).await?;
        Ok(link)
    }

    /// The room's join links (our terms), by index.
    pub fn join_links(&mut self, room: &RoomUri) -> Result<Vec<(usize, JoinCodeTerms)>, SdkError> {
        Ok(self.client.join_links(room)?)
    }

    /// Revokes the join link at `index` (as [`Device::join_links`] numbers them).
    pub async fn revoke_join_link(&mut self, room: &RoomUri, index: usize) -> Result<(), SdkError> {
        let op = self.client.revoke_join_link(now_s(), room, index)?;
        self.run_op(op).await
    }
}
