//! What the hub's outbound queue holds for one `notify`: the body as it goes on the wire and,
//! for an application message withheld from some member devices of the follower, those
//! devices (our `notify` extension, `mimi_federation_api::withheld`, sent as a header).
//!
//! The store keeps one opaque value per item ([`crate::OutboundItem::body`]), so the devices
//! travel in front of the body: an item with nothing withheld (nearly all) is the bare notify
//! body, as before this extension; one with devices starts with [`ENVELOPE`], then the header
//! value's length (u32, big endian) and the value, then the body. A bare body starts with its
//! first message's hub timestamp (u64 milliseconds, big endian), whose first byte is 0 until
//! the year 2 million, so it never starts with the envelope's 0xff.

use mimi_federation_api::withheld::{format_withheld, parse_withheld};
use mimi_types::ClientUri;

/// The first bytes of a queued item that names withheld devices.
pub(crate) const ENVELOPE: [u8; 8] = [0xff, b'M', b'I', b'M', b'I', b'-', b'W', 1];

/// A queued item, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedNotify<'a> {
    /// The notify body, as it goes on the wire.
    pub body: &'a [u8],
    /// The follower's member devices the body's application messages are withheld from
    /// (empty: no header).
    pub withheld: Vec<ClientUri>,
}

/// The queued form of `body` with `withheld` (the bare body when nothing is withheld).
pub fn queue_notify(body: Vec<u8>, withheld: &[ClientUri]) -> Vec<u8> {
    let Some(value) = format_withheld(withheld) else {
        return body;
    };
    let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(ENVELOPE.len() + 4 + value.len() + body.len());
    out.extend_from_slice(&ENVELOPE);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(&body);
    out
}

/// Reads a queued item ([`queue_notify`]'s output, or a bare body queued before it).
pub fn read_queued(item: &[u8]) -> Result<QueuedNotify<'_>, String> {
    let Some(rest) = item.strip_prefix(&ENVELOPE) else {
        return Ok(QueuedNotify {
            body: item,
            withheld: Vec::new(),
        });
    };
    let (len, rest) = rest
        .split_first_chunk::<4>()
        .ok_or("a queued notify's envelope ends before its length")?;
    let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|e| e.to_string())?;
    if rest.len() < len {
        return Err("a queued notify's envelope ends inside its device list".into());
    }
    let (value, body) = rest.split_at(len);
    let value = std::str::from_utf8(value).map_err(|e| format!("withheld devices: {e}"))?;
    let withheld = parse_withheld(value).map_err(|e| e.to_string())?;
    Ok(QueuedNotify {
        body,
        withheld: withheld.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn nothing_withheld_is_the_bare_body_and_a_list_round_trips() {
        let body = vec![0, 0, 1, 2, 3];
        assert_eq!(queue_notify(body.clone(), &[]), body);
        let read = read_queued(&body).unwrap();
        assert_eq!((read.body, read.withheld.len()), (&body[..], 0));
        let carol: ClientUri = "mimi://b.example/d/carol/phone".parse().unwrap();
        let queued = queue_notify(body.clone(), std::slice::from_ref(&carol));
        assert!(queued.starts_with(&ENVELOPE));
        let read = read_queued(&queued).unwrap();
        assert_eq!(read.body, &body[..]);
        assert_eq!(read.withheld, [carol]);
    }

    #[test]
    fn a_broken_envelope_is_an_error() {
        let mut cut = ENVELOPE.to_vec();
        cut.extend_from_slice(&[0, 0]);
        assert!(read_queued(&cut).is_err());
        let mut short = ENVELOPE.to_vec();
        short.extend_from_slice(&100u32.to_be_bytes());
        short.extend_from_slice(b"mimi://b");
        assert!(read_queued(&short).is_err());
        let mut not_a_device = ENVELOPE.to_vec();
        not_a_device.extend_from_slice(&3u32.to_be_bytes());
        not_a_device.extend_from_slice(b"abc");
        assert!(read_queued(&not_a_device).is_err());
    }
}
