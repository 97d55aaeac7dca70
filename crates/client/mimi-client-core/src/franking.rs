//! Franking on the device (protocol-06 §5.4.1, digest §3.4.1): the sender's `frank_aad` tag,
//! the receiver's check of the hub's frank, and the franks kept for abuse reports.

use std::collections::BTreeMap;

use mimi_content::MimiContent;
use mimi_federation_api::Encode as _;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::franking::{Frank, FrankingIntegrityTbs, ServerFrankingContext};
use mimi_mls::franking::{FRANK_LEN, FrankingAgent, franking_tag, macs_equal};
use mimi_mls::{ClientGroup, ReceivedMessage, TrustStore};
use mimi_types::RoomUri;
use mimi_types::codepoints::{ComponentId, DEFAULT_CIPHERSUITE};

use crate::view::Rejection;

/// A frank this device verified, kept so the message can be reported to the hub later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFrank {
    /// The room.
    pub room: RoomUri,
    /// The message's ID.
    pub message: mimi_content::MessageId,
    /// The `Frank` as the hub sent it (TLS-encoded).
    pub frank: Vec<u8>,
    /// When the hub accepted the message (ms since the UNIX epoch), part of the frank.
    pub accepted_timestamp: u64,
}

/// The `frank_aad` Safe AAD items for content sent in `group`: the content's franking tag
/// when the room franks and the content is MIMI content (which carries the salt); none
/// otherwise.
pub(crate) fn sender_aad(group: &ClientGroup, content: &[u8]) -> BTreeMap<ComponentId, Vec<u8>> {
    let mut aad = BTreeMap::new();
    if group.franking_agent().is_none() {
        return aad;
    }
    if let Ok(parsed) = MimiContent::decode(content)
        && let Ok(tag) = franking_tag(&parsed.salt.0, content)
    {
        aad.insert(ComponentId::FRANK_AAD, tag.to_vec());
    }
    aad
}

/// The room's validated franking agent, cached by its component bytes (validating the
/// credential on every message would cost a certificate check each).
#[derive(Debug, Default)]
pub(crate) struct AgentCache {
    cached: Option<(Vec<u8>, FrankingAgent)>,
}

impl AgentCache {
    fn agent(
        &mut self,
        data: &[u8],
        trust: &TrustStore,
        now: u64,
    ) -> Result<&FrankingAgent, String> {
        let fresh = !matches!(&self.cached, Some((d, _)) if d.as_slice() == data);
        if fresh {
            let agent = FrankingAgent::decode(data, trust, now)
                .map_err(|e| format!("the room's franking agent: {e}"))?;
            self.cached = Some((data.to_vec(), agent));
        }
        match &self.cached {
            Some((_, agent)) => Ok(agent),
            None => Err("the room's franking agent is missing".into()),
        }
    }
}

/// Checks the hub's frank of a received application message (digest §3.4.1, receiver): when
/// the message carries a franking tag in a room that franks, the hub must have franked it,
/// with the room's franking agent (a credential of the room's hub), over this content, this
/// sender, this room and the acceptance time. Returns the frank to keep, or `None` for an
/// unfranked message.
/// The hub's frank of a fanned-out message and its acceptance time (ms).
pub(crate) struct HubFrank<'a> {
    pub(crate) frank: Option<&'a Frank>,
    pub(crate) accepted_timestamp: u64,
}

pub(crate) fn check(
    cache: &mut AgentCache,
    group: &ClientGroup,
    trust: &TrustStore,
    room: &RoomUri,
    message: &ReceivedMessage,
    hub: HubFrank<'_>,
    now: u64,
) -> Result<Option<Frank>, Box<Rejection>> {
    let HubFrank {
        frank,
        accepted_timestamp,
    } = hub;
    let refuse = |why: String| {
        Box::new(Rejection::Frank {
            sender: message.sender.user.clone(),
            error: why,
        })
    };
    let Some(tag) = message.safe_aad.get(&ComponentId::FRANK_AAD) else {
        return Ok(None);
    };
    let Some(agent_data) = group.franking_agent() else {
        return Ok(None);
    };
    let tag: [u8; FRANK_LEN] = tag
        .as_slice()
        .try_into()
        .map_err(|_| refuse("the franking tag is not 32 bytes".into()))?;
    let Some(frank) = frank else {
        return Err(refuse(
            "the hub did not frank a message that carries a franking tag".into(),
        ));
    };
    if frank.franking_signature_ciphersuite != DEFAULT_CIPHERSUITE {
        return Err(refuse(format!(
            "the frank names cipher suite {}, not the room's",
            frank.franking_signature_ciphersuite.value()
        )));
    }
    let agent = cache.agent(agent_data, trust, now).map_err(refuse)?;
    if &agent.domain != room.hub_domain() {
        return Err(refuse(format!(
            "the room's franking agent is {}, not its hub {}",
            agent.domain,
            room.hub_domain()
        )));
    }
    let content = MimiContent::decode(&message.data)
        .map_err(|e| refuse(format!("the content does not decode: {e}")))?;
    let expected =
        franking_tag(&content.salt.0, &message.data).map_err(|e| refuse(e.to_string()))?;
    if !macs_equal(&expected, &tag) {
        return Err(refuse("the franking tag does not match the content".into()));
    }
    let sender = message.sender.user.to_string();
    let encode_err = |e: mimi_federation_api::EncodeError| refuse(e.to_string());
    let context = ServerFrankingContext::new(
        IdentifierUri::from_string(sender).map_err(encode_err)?,
        IdentifierUri::from_string(room.to_string()).map_err(encode_err)?,
        accepted_timestamp,
    );
    let tbs = FrankingIntegrityTbs::new(frank.server_frank, DEFAULT_CIPHERSUITE, context)
        .encode()
        .map_err(encode_err)?;
    mimi_mls::sign::verify_with_label(
        &agent.signature_key,
        mimi_mls::sign::FRANKING_INTEGRITY,
        &tbs,
        frank.franking_integrity_signature.as_bytes(),
    )
    .map_err(|_| refuse("the frank's signature is not the room's franking agent's".into()))?;
    Ok(Some(frank.clone()))
}

impl crate::Client {
    /// The franks verified since the last call, to keep with their messages (in the same
    /// transaction as the record update that holds those messages): a report needs them.
    pub fn take_franks(&mut self) -> Vec<KeptFrank> {
        std::mem::take(&mut self.franks)
    }

    /// A received message as an abuse report carries it: its sender, the hub's acceptance
    /// time and its exact content bytes (the franked application data).
    pub fn message_content(
        &self,
        room: &RoomUri,
        message: &mimi_content::MessageId,
    ) -> Option<(mimi_types::UserUri, u64, Vec<u8>)> {
        let r = self.rooms.get(room)?;
        r.view.log().iter().find_map(|e| {
            let id = mimi_content::message_id_for(&e.sender, room, &e.bytes).ok()?;
            (id == *message).then(|| (e.sender.clone(), e.timestamp, e.bytes.clone()))
        })
    }
}
