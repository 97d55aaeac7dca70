//! Discovery: this user's profile and finding users, here or (relayed by this device's
//! provider over `identifierQuery`) at another provider. The device only talks to its own
//! provider.

use mimi_client_api::{FindUsers, ProfileView, SetProfile, UsersFound, routes};
use reqwest::Method;

use crate::device::Device;
use crate::error::SdkError;

impl Device {
    /// This user's discovery profile.
    pub async fn profile(&self) -> Result<ProfileView, SdkError> {
        self.api
            .call(
                Method::GET,
                routes::PROFILE.path,
                Some(self.token()),
                None::<&()>,
            )
            .await
    }

    /// Sets this user's handle, display name and searchable fields (`None`: unchanged; an
    /// empty string clears). Only searchable fields can be found and are shown to others.
    pub async fn set_profile(&self, set: &SetProfile) -> Result<ProfileView, SdkError> {
        self.api
            .call(
                Method::PUT,
                routes::SET_PROFILE.path,
                Some(self.token()),
                Some(set),
            )
            .await
    }

    /// Finds users by `by` (`handle`, `nick`, `name`, `any`) at `provider` (this device's
    /// provider when `None`).
    pub async fn find_users(
        &self,
        by: &str,
        value: &str,
        provider: Option<&str>,
    ) -> Result<UsersFound, SdkError> {
        self.api
            .call(
                Method::POST,
                routes::FIND_USERS.path,
                Some(self.token()),
                Some(&FindUsers {
                    by: by.to_owned(),
                    value: value.to_owned(),
                    provider: provider.map(str::to_owned),
                }),
            )
            .await
    }
}
