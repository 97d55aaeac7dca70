//! The provider's room directory through the SDK: the discoverable rooms it hosts, to join
//! by open join ([`Device::join_as_newcomer`]) or to ask for a link.

use mimi_client_api::{RoomDirectory, routes};
use mimi_federation_api::path::encode_param;
use reqwest::Method;

use crate::device::Device;
use crate::error::SdkError;

impl Device {
    /// The discoverable rooms this device's provider hosts whose name, topic or URI contains
    /// `text` (all with `None`), sorted by URI.
    pub async fn room_directory(&self, text: Option<&str>) -> Result<RoomDirectory, SdkError> {
        let path = match text {
            Some(t) => format!("{}?q={}", routes::ROOM_DIRECTORY.path, encode_param(&t)),
            None => routes::ROOM_DIRECTORY.path.to_owned(),
        };
        self.api
            .call(Method::GET, &path, Some(self.token()), None::<&()>)
            .await
    }
}
