//! The misbehaviour hook: a device's request taken off the wire instead of sent, for tests
//! where a provider misuses it (hands in another provider's commit, replays an old one,
//! forges a fan-out). The device stays the real client engine; only the wire misbehaves.

use mimi_client_core::{OpId, Outgoing, SendOutcome};
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::submit_message::SubmitMessageRequest;
use mimi_federation_api::update::{HandshakeBundle, UpdateOutcome, UpdateRequest};
use mimi_types::{ClientUri, RoomUri};

use super::operations::update_outcome;
use super::{Network, SimError};

/// A request a device's engine made, taken off the wire (see [`Network::intercept`]).
#[derive(Debug, Clone)]
pub struct Intercepted {
    /// The device that made it.
    pub actor: ClientUri,
    /// The request, as the engine queued it.
    pub request: Outgoing,
}

impl Intercepted {
    /// Its operation.
    pub fn op(&self) -> OpId {
        self.request.op()
    }

    /// The `update` request it carries (a commit or proposals).
    pub fn update_request(&self) -> Result<&UpdateRequest, SimError> {
        match &self.request {
            Outgoing::Commit { request, .. } | Outgoing::Proposals { request, .. } => Ok(request),
            other => Err(SimError::Other(format!("not an update: {other:?}"))),
        }
    }

    /// The `submitMessage` request it carries.
    pub fn message_request(&self) -> Result<&SubmitMessageRequest, SimError> {
        match &self.request {
            Outgoing::Message { request, .. } => Ok(request),
            other => Err(SimError::Other(format!("not a message: {other:?}"))),
        }
    }

    /// The proposals of the `update` it carries, in order.
    pub fn proposals(&self) -> Result<Vec<MlsMessage>, SimError> {
        match &self.update_request()?.bundle {
            HandshakeBundle::Proposals(bundle) => {
                let mut out = vec![bundle.proposal.clone()];
                out.extend(bundle.more_proposals.iter().cloned());
                Ok(out)
            }
            _ => Err(SimError::Other("not a proposal bundle".into())),
        }
    }
}

impl Network {
    /// Misbehaviour hook: sends `actor`'s queued requests before `op` and takes `op`'s off
    /// the wire instead of sending it. The engine still counts it as in flight until it is
    /// handed in ([`Network::hand_in`]) or abandoned ([`Network::abandon`]).
    pub fn intercept(&mut self, actor: &ClientUri, op: OpId) -> Result<Intercepted, SimError> {
        loop {
            let request = self
                .device_mut(actor)?
                .client
                .poll_request()
                .ok_or_else(|| SimError::Other(format!("operation {op} is not queued")))?;
            if request.op() == op {
                return Ok(Intercepted {
                    actor: actor.clone(),
                    request,
                });
            }
            self.transmit(actor, request)?;
        }
    }

    /// Sends an intercepted request as its device would have, and reports the outcome.
    pub fn hand_in(&mut self, intercepted: Intercepted) -> Result<SendOutcome, SimError> {
        self.transmit(&intercepted.actor, intercepted.request)
    }

    /// Tells the device its intercepted request was never sent.
    pub fn abandon(&mut self, intercepted: &Intercepted) -> Result<(), SimError> {
        self.report(&intercepted.actor, intercepted.op(), SendOutcome::Abandoned)
    }

    /// `actor` prepares a self-update commit, intercepted (for commit races and replays).
    pub fn prepare_self_update(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
    ) -> Result<Intercepted, SimError> {
        let op = self.queue_command(actor, |client, now, _| client.commit_pending(now, room))?;
        self.intercept(actor, op)
    }

    /// Hands in a prepared commit; the engine merges it on success and drops it otherwise.
    pub fn submit_commit(&mut self, prepared: Intercepted) -> Result<UpdateOutcome, SimError> {
        update_outcome(self.hand_in(prepared)?)
    }

    /// The `submitMessage` request of `sender` for `text`, intercepted (encrypted now, never
    /// sent).
    pub fn message_request(
        &mut self,
        sender: &ClientUri,
        room: &RoomUri,
        text: &str,
    ) -> Result<SubmitMessageRequest, SimError> {
        let op = self.queue_command(sender, |client, _, rng| {
            client.send_text(rng, room, text).map(|(op, _)| op)
        })?;
        Ok(self.intercept(sender, op)?.message_request()?.clone())
    }

    /// The proposals of `device` leaving `room` (participant-list removal, then SelfRemove),
    /// created now and never sent: the device is told they were abandoned, so it may leave
    /// again.
    pub fn leave_proposals(
        &mut self,
        device: &ClientUri,
        room: &RoomUri,
    ) -> Result<Vec<MlsMessage>, SimError> {
        let op = self.queue_command(device, |client, _, _| client.leave(room))?;
        let intercepted = self.intercept(device, op)?;
        self.abandon(&intercepted)?;
        intercepted.proposals()
    }
}
