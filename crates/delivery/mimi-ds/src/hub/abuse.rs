//! `POST /reportAbuse/{roomId}` at the hub (protocol-06 §5.9, digest §3.9).
//!
//! A report is accepted from a participant whose role has `canReportAbuse`, handed in by that
//! participant's own provider, whose reported messages each carry a frank this hub issued for
//! exactly that content, sender, room and time (see [`HubRoom::verify_reported`]); it is kept
//! for the hub's operators: [`AbuseReportOutcome::Accepted`] carries it to the caller, who
//! stores it durably before answering. Taking a report changes nothing in the room.

use mimi_federation_api::report_abuse::AbuseReport;
use mimi_room::Capability;
use mimi_types::{Domain, RoomUri};

use super::HubRoom;
use super::franking::FrankRefusal;
use crate::error::RequestError;
use mimi_mls::franking::Franker;

/// Whether the hub took the report (the answer is a status only). Exhaustive: a driver answers
/// every outcome, and keeps every accepted report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbuseReportOutcome {
    /// Accepted: keep `report` for the hub's operators (durably), then answer 201.
    Accepted {
        /// The room reported about.
        room: RoomUri,
        /// The report to keep.
        report: AbuseReport,
    },
    /// The reporter may not report in this room: answer 403.
    NotAllowed,
    /// A reported message does not match a frank this hub issued: answer 400.
    BadFrank {
        /// Which message of the report (from 0).
        index: usize,
        /// Why.
        refusal: FrankRefusal,
    },
}

impl HubRoom {
    /// Takes an abuse report about this room.
    pub fn handle_report_abuse(
        &self,
        peer: &Domain,
        report: AbuseReport,
        franker: Option<&Franker>,
    ) -> Result<AbuseReportOutcome, RequestError> {
        let reporter = report
            .reporting_user
            .to_user()
            .map_err(|e| RequestError::malformed("reportingUser", e))?;
        if reporter.domain() != peer {
            return Err(RequestError::ActingForForeignUser {
                peer: peer.clone(),
                user: reporter.to_string(),
            });
        }
        if !self
            .group()
            .room()
            .user_has(&reporter, Capability::CAN_REPORT_ABUSE)
        {
            return Ok(AbuseReportOutcome::NotAllowed);
        }
        for (index, message) in report.messages.iter().enumerate() {
            let verified = match franker {
                Some(franker) => {
                    self.verify_reported(franker, report.alleged_abuser_uri.as_str(), message)
                }
                None => Err(FrankRefusal::Signature),
            };
            if let Err(refusal) = verified {
                return Ok(AbuseReportOutcome::BadFrank { index, refusal });
            }
        }
        Ok(AbuseReportOutcome::Accepted {
            room: self.room().clone(),
            report,
        })
    }
}
