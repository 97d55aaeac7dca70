//! `POST /reportAbuse/{roomId}` at the hub (protocol-06 §5.9, digest §3.9).
//!
//! A report is accepted from a participant whose role has `canReportAbuse`, handed in by that
//! participant's own provider, whose reported messages each carry a frank this hub issued for
//! exactly that content, sender, room and time (see [`HubRoom::verify_reported`]); it is kept
//! for the hub's operators ([`Effect::AbuseReport`]).

use mimi_federation_api::report_abuse::AbuseReport;
use mimi_room::Capability;
use mimi_types::Domain;

use super::franking::FrankRefusal;
use super::{HubOutput, HubRoom};
use crate::effects::Effect;
use crate::error::RequestError;
use mimi_mls::franking::Franker;

/// Whether the hub took the report (the answer is a status only).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbuseReportOutcome {
    /// Accepted: answer 201.
    Accepted,
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
    ) -> Result<HubOutput<AbuseReportOutcome>, RequestError> {
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
            return Ok(HubOutput::unchanged(
                AbuseReportOutcome::NotAllowed,
                Vec::new(),
            ));
        }
        for (index, message) in report.messages.iter().enumerate() {
            let verified = match franker {
                Some(franker) => {
                    self.verify_reported(franker, report.alleged_abuser_uri.as_str(), message)
                }
                None => Err(FrankRefusal::Signature),
            };
            if let Err(refusal) = verified {
                return Ok(HubOutput::unchanged(
                    AbuseReportOutcome::BadFrank { index, refusal },
                    Vec::new(),
                ));
            }
        }
        Ok(HubOutput::unchanged(
            AbuseReportOutcome::Accepted,
            vec![Effect::AbuseReport {
                room: self.room().clone(),
                report,
            }],
        ))
    }
}
