//! `POST /reportAbuse/{roomId}` at the hub (protocol-06 §5.9, digest §3.9).
//!
//! A report is accepted from a participant whose role has `canReportAbuse`, handed in by that
//! participant's own provider, and kept for the hub's operators ([`Effect::AbuseReport`]).
//! Franking verification of the reported messages comes with franking support.

use mimi_federation_api::report_abuse::AbuseReport;
use mimi_room::Capability;
use mimi_types::Domain;

use super::{HubOutput, HubRoom};
use crate::effects::Effect;
use crate::error::RequestError;

/// Whether the hub took the report (the answer is a status only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbuseReportOutcome {
    /// Accepted: answer 201.
    Accepted,
    /// The reporter may not report in this room: answer 403.
    NotAllowed,
}

impl HubRoom {
    /// Takes an abuse report about this room.
    pub fn handle_report_abuse(
        &self,
        peer: &Domain,
        report: AbuseReport,
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
        Ok(HubOutput::unchanged(
            AbuseReportOutcome::Accepted,
            vec![Effect::AbuseReport {
                room: self.room().clone(),
                report,
            }],
        ))
    }
}
