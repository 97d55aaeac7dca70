//! The bytes of history sharing between a user's own devices (see `history`): the signed
//! request a new device leaves for its siblings, the signed envelope of a sealed bundle, and
//! the bundle inside it. Same layout as the client record (`codec`): big-endian integers,
//! u32-length-prefixed strings; every decoder consumes its whole input or fails.
//!
//! ```text
//! item     = tag:u8 body
//! tag 1    request  = requester:str credential:bytes signature_key:bytes hpke_public:bytes
//!                     created:u64 count:u32 room:str*   signature:bytes
//! tag 2    envelope = sender:str credential:bytes signature_key:bytes recipient:str room:str
//!                     kem_output:bytes ciphertext:bytes  signature:bytes
//! bundle   = room:str status:u8 truncated:bool count:u32 entry*        (the sealed plaintext)
//! entry    = sender:str client:str timestamp:u64 content:bytes
//! ```
//!
//! Each signature is `SignWithLabel` over every byte of the item before it (tag included).

use mimi_types::{ClientUri, RoomUri, UserUri};

use crate::codec::{Reader, Writer};
use crate::error::ClientError;
use crate::history::HistoryError;
use crate::view::Entry;

const TAG_REQUEST: u8 = 1;
const TAG_ENVELOPE: u8 = 2;

/// Where a device stands on sharing one room's history with its sibling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ShareStatus {
    /// The bundle carries the room's history (possibly none, or only the newest part).
    Shared,
    /// The room's history policy forbids sharing (or this user's role may not share).
    Forbidden,
    /// The requesting device is not a member of the room (in the answering device's view).
    NotMember,
    /// The answering device does not have the room (or is no longer a member).
    Unknown,
}

impl ShareStatus {
    fn code(self) -> u8 {
        match self {
            Self::Shared => 0,
            Self::Forbidden => 1,
            Self::NotMember => 2,
            Self::Unknown => 3,
        }
    }

    fn of(code: u8) -> Result<Self, ClientError> {
        Ok(match code {
            0 => Self::Shared,
            1 => Self::Forbidden,
            2 => Self::NotMember,
            3 => Self::Unknown,
            other => {
                return Err(ClientError::Record(format!(
                    "share status {other} is unknown"
                )));
            }
        })
    }
}

impl std::fmt::Display for ShareStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Shared => "shared",
            Self::Forbidden => "forbidden by the room's history policy",
            Self::NotMember => "the new device is not a member",
            Self::Unknown => "the sharing device has no such room",
        })
    }
}

/// A history request as signed by the new device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) requester: ClientUri,
    /// The requester's MLS credential (TLS-encoded `Credential`).
    pub(crate) credential: Vec<u8>,
    pub(crate) signature_key: Vec<u8>,
    /// The requester's history key: where bundles are sealed to.
    pub(crate) hpke_public: Vec<u8>,
    /// When it was made (seconds since the UNIX epoch).
    pub(crate) created: u64,
    /// The rooms it asks for.
    pub(crate) rooms: Vec<RoomUri>,
}

/// The envelope of one room's sealed bundle, as signed by the sharing device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub(crate) sender: ClientUri,
    pub(crate) credential: Vec<u8>,
    pub(crate) signature_key: Vec<u8>,
    pub(crate) recipient: ClientUri,
    pub(crate) room: RoomUri,
    pub(crate) kem_output: Vec<u8>,
    pub(crate) ciphertext: Vec<u8>,
}

/// A decoded item with its signature and the bytes the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signed<T> {
    pub(crate) body: T,
    pub(crate) tbs: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

/// A mailbox item of history sharing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Request(Signed<Request>),
    Envelope(Signed<Envelope>),
}

/// The sealed plaintext: one room's entries, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bundle {
    pub(crate) room: RoomUri,
    pub(crate) status: ShareStatus,
    /// Older entries were left out (the size cap or the policy's time limit).
    pub(crate) truncated: bool,
    pub(crate) entries: Vec<Entry>,
}

fn malformed(e: ClientError) -> HistoryError {
    HistoryError::Malformed(match e {
        ClientError::Record(s) => s.replace("the record", "the item"),
        other => other.to_string(),
    })
}

impl Request {
    /// The bytes to sign (tag included).
    pub(crate) fn tbs(&self) -> Result<Vec<u8>, ClientError> {
        let mut w = Writer::default();
        w.u8(TAG_REQUEST);
        w.str(&self.requester.to_string())?;
        w.bytes(&self.credential)?;
        w.bytes(&self.signature_key)?;
        w.bytes(&self.hpke_public)?;
        w.u64(self.created);
        w.count(self.rooms.len())?;
        for room in &self.rooms {
            w.str(&room.to_string())?;
        }
        Ok(w.finish())
    }
}

impl Envelope {
    /// The bytes to sign (tag included).
    pub(crate) fn tbs(&self) -> Result<Vec<u8>, ClientError> {
        let mut w = Writer::default();
        w.u8(TAG_ENVELOPE);
        w.str(&self.sender.to_string())?;
        w.bytes(&self.credential)?;
        w.bytes(&self.signature_key)?;
        w.str(&self.recipient.to_string())?;
        w.str(&self.room.to_string())?;
        w.bytes(&self.kem_output)?;
        w.bytes(&self.ciphertext)?;
        Ok(w.finish())
    }
}

/// `tbs` followed by its signature: the item as sent.
pub(crate) fn signed_item(tbs: Vec<u8>, signature: &[u8]) -> Result<Vec<u8>, ClientError> {
    let mut w = Writer::default();
    w.bytes(signature)?;
    let mut out = tbs;
    out.extend(w.finish());
    Ok(out)
}

impl Item {
    /// Decodes a mailbox item; all of it.
    pub(crate) fn decode(input: &[u8]) -> Result<Self, HistoryError> {
        let mut r = Reader::new(input);
        let tag = r.u8("item kind").map_err(malformed)?;
        let item = match tag {
            TAG_REQUEST => {
                let body = read_request(&mut r).map_err(malformed)?;
                let tbs = signed_part(input, &r);
                let signature = r.bytes("signature").map_err(malformed)?.to_vec();
                Self::Request(Signed {
                    body,
                    tbs,
                    signature,
                })
            }
            TAG_ENVELOPE => {
                let body = read_envelope(&mut r).map_err(malformed)?;
                let tbs = signed_part(input, &r);
                let signature = r.bytes("signature").map_err(malformed)?.to_vec();
                Self::Envelope(Signed {
                    body,
                    tbs,
                    signature,
                })
            }
            other => {
                return Err(HistoryError::Malformed(format!(
                    "item kind {other} is not a history request (1) or bundle (2)"
                )));
            }
        };
        r.end().map_err(malformed)?;
        Ok(item)
    }
}

/// The bytes of `input` the reader has consumed so far.
fn signed_part(input: &[u8], r: &Reader<'_>) -> Vec<u8> {
    let consumed = input.len().saturating_sub(r.remaining());
    input.get(..consumed).unwrap_or_default().to_vec()
}

fn read_request(r: &mut Reader<'_>) -> Result<Request, ClientError> {
    let requester = r.parse("requester")?;
    let credential = r.bytes("credential")?.to_vec();
    let signature_key = r.bytes("signature key")?.to_vec();
    let hpke_public = r.bytes("history key")?.to_vec();
    let created = r.u64("created")?;
    let n = r.count("rooms", 4)?;
    let mut rooms = Vec::with_capacity(n);
    for _ in 0..n {
        rooms.push(r.parse("room")?);
    }
    Ok(Request {
        requester,
        credential,
        signature_key,
        hpke_public,
        created,
        rooms,
    })
}

fn read_envelope(r: &mut Reader<'_>) -> Result<Envelope, ClientError> {
    Ok(Envelope {
        sender: r.parse("sender")?,
        credential: r.bytes("credential")?.to_vec(),
        signature_key: r.bytes("signature key")?.to_vec(),
        recipient: r.parse("recipient")?,
        room: r.parse("room")?,
        kem_output: r.bytes("kem output")?.to_vec(),
        ciphertext: r.bytes("ciphertext")?.to_vec(),
    })
}

impl Bundle {
    pub(crate) fn encode(&self) -> Result<Vec<u8>, ClientError> {
        let mut w = Writer::default();
        w.str(&self.room.to_string())?;
        w.u8(self.status.code());
        w.bool(self.truncated);
        w.count(self.entries.len())?;
        for e in &self.entries {
            w.str(&e.sender.to_string())?;
            w.str(&e.client.to_string())?;
            w.u64(e.timestamp);
            w.bytes(&e.bytes)?;
        }
        Ok(w.finish())
    }

    /// Decodes a bundle of at most `max_entries` entries; all of it.
    pub(crate) fn decode(input: &[u8], max_entries: usize) -> Result<Self, HistoryError> {
        let mut r = Reader::new(input);
        let room = r.parse("room").map_err(malformed)?;
        let status = r
            .u8("status")
            .and_then(ShareStatus::of)
            .map_err(malformed)?;
        let truncated = r.bool("truncated").map_err(malformed)?;
        let n = r.count("entries", 28).map_err(malformed)?;
        if n > max_entries {
            return Err(HistoryError::TooLarge {
                what: "entries".into(),
                size: n,
                max: max_entries,
            });
        }
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let sender: UserUri = r.parse("sender").map_err(malformed)?;
            let client: ClientUri = r.parse("client").map_err(malformed)?;
            let timestamp = r.u64("timestamp").map_err(malformed)?;
            let bytes = r.bytes("content").map_err(malformed)?.to_vec();
            entries.push(Entry {
                sender,
                client,
                timestamp,
                bytes,
                imported: true,
            });
        }
        r.end().map_err(malformed)?;
        Ok(Self {
            room,
            status,
            truncated,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use proptest::prelude::*;

    use super::*;

    fn client(user: &str, device: &str) -> ClientUri {
        ClientUri::parse(&format!("mimi://a.example/d/{user}/{device}")).unwrap()
    }

    fn room(name: &str) -> RoomUri {
        RoomUri::parse(&format!("mimi://hub.example/r/{name}")).unwrap()
    }

    fn request_item(req: &Request, signature: &[u8]) -> Vec<u8> {
        signed_item(req.tbs().unwrap(), signature).unwrap()
    }

    prop_compose! {
        fn a_request()(
            user in "[a-z]{1,8}", device in "[a-z0-9]{1,8}",
            credential in proptest::collection::vec(any::<u8>(), 0..64),
            key in proptest::collection::vec(any::<u8>(), 0..40),
            hpke in proptest::collection::vec(any::<u8>(), 0..40),
            created in any::<u64>(),
            rooms in proptest::collection::vec("[a-z0-9]{1,10}", 0..5),
        ) -> Request {
            Request {
                requester: client(&user, &device),
                credential,
                signature_key: key,
                hpke_public: hpke,
                created,
                rooms: rooms.iter().map(|r| room(r)).collect(),
            }
        }
    }

    prop_compose! {
        fn an_envelope()(
            user in "[a-z]{1,8}", a in "[a-z0-9]{1,8}", b in "[a-z0-9]{1,8}",
            credential in proptest::collection::vec(any::<u8>(), 0..64),
            key in proptest::collection::vec(any::<u8>(), 0..40),
            name in "[a-z0-9]{1,10}",
            kem in proptest::collection::vec(any::<u8>(), 0..40),
            ct in proptest::collection::vec(any::<u8>(), 0..200),
        ) -> Envelope {
            Envelope {
                sender: client(&user, &a),
                credential,
                signature_key: key,
                recipient: client(&user, &b),
                room: room(&name),
                kem_output: kem,
                ciphertext: ct,
            }
        }
    }

    prop_compose! {
        fn a_bundle()(
            name in "[a-z0-9]{1,10}",
            status in 0u8..4,
            truncated in any::<bool>(),
            entries in proptest::collection::vec(
                ("[a-z]{1,8}", "[a-z0-9]{1,8}", any::<u64>(),
                 proptest::collection::vec(any::<u8>(), 0..80)),
                0..6,
            ),
        ) -> Bundle {
            Bundle {
                room: room(&name),
                status: ShareStatus::of(status).unwrap(),
                truncated,
                entries: entries
                    .into_iter()
                    .map(|(u, d, timestamp, bytes)| {
                        let client = client(&u, &d);
                        Entry {
                            sender: client.user_hint().unwrap(),
                            client,
                            timestamp,
                            bytes,
                            imported: true,
                        }
                    })
                    .collect(),
            }
        }
    }

    proptest! {
        #[test]
        fn requests_round_trip(req in a_request(), sig in proptest::collection::vec(any::<u8>(), 0..70)) {
            let bytes = request_item(&req, &sig);
            let Item::Request(signed) = Item::decode(&bytes).unwrap() else { panic!("not a request") };
            prop_assert_eq!(&signed.body, &req);
            prop_assert_eq!(&signed.signature, &sig);
            prop_assert_eq!(signed.tbs, req.tbs().unwrap());
        }

        #[test]
        fn envelopes_round_trip(env in an_envelope(), sig in proptest::collection::vec(any::<u8>(), 0..70)) {
            let bytes = signed_item(env.tbs().unwrap(), &sig).unwrap();
            let Item::Envelope(signed) = Item::decode(&bytes).unwrap() else { panic!("not an envelope") };
            prop_assert_eq!(&signed.body, &env);
            prop_assert_eq!(signed.tbs, env.tbs().unwrap());
        }

        #[test]
        fn bundles_round_trip(bundle in a_bundle()) {
            let bytes = bundle.encode().unwrap();
            prop_assert_eq!(Bundle::decode(&bytes, usize::MAX).unwrap(), bundle);
        }

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Item::decode(&bytes);
            let _ = Bundle::decode(&bytes, 100);
        }

        #[test]
        fn decoders_refuse_trailing_and_missing_bytes(req in a_request(), bundle in a_bundle(), extra in any::<u8>()) {
            let mut item = request_item(&req, b"sig");
            item.push(extra);
            prop_assert!(matches!(Item::decode(&item), Err(HistoryError::Malformed(_))));
            item.truncate(item.len() - 2);
            prop_assert!(matches!(Item::decode(&item), Err(HistoryError::Malformed(_))));
            let mut b = bundle.encode().unwrap();
            b.push(extra);
            prop_assert!(matches!(Bundle::decode(&b, usize::MAX), Err(HistoryError::Malformed(_))));
        }
    }

    #[test]
    fn an_unknown_item_kind_and_too_many_entries_are_refused() {
        let err = Item::decode(&[9, 0, 0]).unwrap_err();
        assert!(err.to_string().contains("item kind 9"), "{err}");
        let bundle = Bundle {
            room: room("r"),
            status: ShareStatus::Shared,
            truncated: false,
            entries: vec![
                Entry {
                    sender: client("a", "b").user_hint().unwrap(),
                    client: client("a", "b"),
                    timestamp: 1,
                    bytes: vec![1],
                    imported: true,
                };
                3
            ],
        };
        let err = Bundle::decode(&bundle.encode().unwrap(), 2).unwrap_err();
        assert!(
            matches!(
                err,
                HistoryError::TooLarge {
                    size: 3,
                    max: 2,
                    ..
                }
            ),
            "{err}"
        );
    }
}
