//! Reporting abusive messages to a room's hub (protocol-06 §5.9): each reported message goes
//! with its exact content and the frank the hub issued for it (kept when it was received), so
//! the hub can check that the named user sent it in this room at that time.

use mimi_client_api::{AbuseReportSubmit, routes};
use mimi_content::MessageId;
use mimi_federation_api::codec::Reader;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::franking::Frank;
use mimi_federation_api::path::encode_param;
use mimi_federation_api::report_abuse::{AbuseReport, AbuseType, AbusiveMessage};
use mimi_federation_api::{Decode as _, Encode as _};
use mimi_types::{RoomUri, UserUri};
use reqwest::Method;

use crate::device::Device;
use crate::error::SdkError;

impl Device {
    /// Reports `messages` of `room`, all sent by one user, to the room's hub with `note`.
    /// Only messages this device received franked can be reported (the hub verifies each
    /// frank); the hub answers once it has queued the report for its operators.
    pub async fn report_abuse(
        &mut self,
        room: &RoomUri,
        messages: &[MessageId],
        note: &str,
    ) -> Result<UserUri, SdkError> {
        if messages.is_empty() {
            return Err(SdkError::Input(
                "name at least one message to report".into(),
            ));
        }
        let mut reported: Vec<AbusiveMessage> = Vec::with_capacity(messages.len());
        let mut abuser: Option<UserUri> = None;
        for id in messages {
            let (sender, _, content) =
                self.engine().message_content(room, id).ok_or_else(|| {
                    SdkError::Input(format!("no message {id} in {room} on this device"))
                })?;
            if sender == *self.user() {
                return Err(SdkError::Input(format!(
                    "message {id} is your own: report messages of others"
                )));
            }
            if abuser.as_ref().is_some_and(|a| *a != sender) {
                return Err(SdkError::Input(
                    "the messages of one report must all be from the same user".into(),
                ));
            }
            let (frank, accepted) = self.store.frank(room, id).await?.ok_or_else(|| {
                SdkError::Input(format!(
                    "message {id} came without a frank from the hub, so the hub cannot \
                     verify a report of it"
                ))
            })?;
            let frank = Frank::decode_from(&mut Reader::new(&frank))
                .map_err(|e| SdkError::Input(format!("the kept frank of {id}: {e}")))?;
            reported.push(AbusiveMessage::new(content, frank, accepted));
            abuser = Some(sender);
        }
        let Some(abuser) = abuser else {
            return Err(SdkError::Input(
                "name at least one message to report".into(),
            ));
        };
        let uri = |u: &UserUri| {
            IdentifierUri::from_string(u.to_string())
                .map_err(|e| SdkError::Input(format!("{u}: {e}")))
        };
        let report = AbuseReport::new(
            uri(self.user())?,
            uri(&abuser)?,
            AbuseType::UNSPECIFIED,
            note,
            reported,
        );
        let report = report
            .encode()
            .map_err(|e| SdkError::Input(format!("the report does not encode: {e}")))?;
        let path = routes::fill(&routes::REPORT_ABUSE, Some(&encode_param(room)), None);
        let _: serde_json::Value = self
            .api
            .call(
                Method::POST,
                &path,
                Some(self.token()),
                Some(&AbuseReportSubmit { report }),
            )
            .await?;
        Ok(abuser)
    }
}
