//! Carrying a device's requests to its provider and the room's hub, and reporting each
//! outcome back to its client engine (`mark_sent`), as the SDK does over HTTPS.

use mimi_client_core::{ClientError, OpId, Outgoing, SendOutcome};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_types::ClientUri;

use super::{Network, SimError};

impl Network {
    /// Sends the requests `actor`'s engine queued, in order, up to and including `op`, and
    /// returns `op`'s outcome. A request the hub refused outright (an error answer) is
    /// reported to the engine as abandoned and its error returned.
    pub fn run(&mut self, actor: &ClientUri, op: OpId) -> Result<SendOutcome, SimError> {
        loop {
            let request = self
                .device_mut(actor)?
                .client
                .poll_request()
                .ok_or_else(|| SimError::Other(format!("operation {op} is not queued")))?;
            let this = request.op();
            let outcome = self.transmit(actor, request);
            if this == op {
                return outcome;
            }
            outcome?;
        }
    }

    /// Sends everything every device's engine queued (what it does by itself: re-sending a
    /// message the hub found too old, topping up), until nothing is queued.
    pub fn pump(&mut self) -> Result<(), SimError> {
        loop {
            let mut progressed = false;
            let clients: Vec<ClientUri> = self.devices.keys().cloned().collect();
            for client in clients {
                while let Some(request) = self.device_mut(&client)?.client.poll_request() {
                    progressed = true;
                    let op = request.op();
                    // A hub refusal inside an answer is the engine's to handle (kept with the
                    // device by `report`); an error answer, or a request the simulator does
                    // not carry, is an error of the device, which a test asserts it has not.
                    if let Err(e) = self.transmit(&client, request) {
                        self.device_mut(&client)?
                            .errors
                            .push(format!("sending {op}: {e}"));
                    }
                }
            }
            if !progressed {
                return Ok(());
            }
        }
    }

    /// Sends one request of `actor` and reports its outcome to the engine.
    pub(super) fn transmit(
        &mut self,
        actor: &ClientUri,
        request: Outgoing,
    ) -> Result<SendOutcome, SimError> {
        let op = request.op();
        let peer = actor.domain().clone();
        let result = match request {
            Outgoing::KeyPackages { key_packages, .. } => self
                .upload_key_packages(actor, key_packages)
                .map(|()| SendOutcome::Uploaded),
            Outgoing::Commit { room, request, .. } | Outgoing::Proposals { room, request, .. } => {
                self.hub_update(&peer, &room, &request)
                    .map(SendOutcome::Update)
            }
            Outgoing::Message {
                room,
                request,
                message_id,
                ..
            } => {
                let outcome = self.hub_submit(&peer, &room, &request);
                if let Ok(SubmitOutcome::Accepted { .. }) = &outcome {
                    self.accepted.push((room, message_id));
                }
                outcome.map(SendOutcome::Submit)
            }
            other => Err(SimError::Other(format!(
                "the simulator carries no {other:?}"
            ))),
        };
        match result {
            Ok(outcome) => {
                self.report(actor, op, outcome.clone())?;
                Ok(outcome)
            }
            Err(e) => {
                self.report(actor, op, SendOutcome::Abandoned)?;
                Err(e)
            }
        }
    }

    /// Reports the outcome of `op` to `actor`'s engine; a hub refusal is kept with the device,
    /// any other error as a failure.
    pub(super) fn report(
        &mut self,
        actor: &ClientUri,
        op: OpId,
        outcome: SendOutcome,
    ) -> Result<(), SimError> {
        let device = self.device_mut(actor)?;
        match device.client.mark_sent(op, outcome) {
            Ok(()) => {}
            Err(e @ ClientError::HubRefused { .. }) => device.refusals.push((op, e.to_string())),
            Err(e) => device.errors.push(format!("reporting {op}: {e}")),
        }
        device.drain_events();
        Ok(())
    }
}
