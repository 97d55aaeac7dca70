//! The stored form of a hub room.
//!
//! `mimi_ds::hub::HubRoom` has no record form of its own (it has `from_parts`), so the server
//! keeps one here: `version (1) || u32 len || HubGroup record || u64 next_seq || u32 routes ||
//! (u32 len || KeyPackageRef || u32 len || domain)*`. Decoding consumes the whole record or
//! fails.

use std::collections::BTreeMap;

use mimi_ds::hub::HubRoom;
use mimi_mls::{HubGroup, TrustStore};
use mimi_types::{Domain, RoomUri};

const VERSION: u8 = 1;

/// Why a stored hub room does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum RecordError {
    /// The bytes are not a record of ours.
    #[error("hub room record: {0}; the database may be corrupt or from another version")]
    Malformed(&'static str),
    /// The MLS part does not restore.
    #[error("hub room record: MLS group: {0}")]
    Group(String),
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), RecordError> {
    let len = u32::try_from(bytes.len()).map_err(|_| RecordError::Malformed("field over 4 GiB"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Encodes a hub room.
pub(crate) fn encode(room: &HubRoom) -> Result<Vec<u8>, RecordError> {
    let group = room
        .group()
        .to_record()
        .map_err(|e| RecordError::Group(e.to_string()))?;
    let mut out = vec![VERSION];
    put_bytes(&mut out, &group)?;
    out.extend_from_slice(&room.next_seq().to_be_bytes());
    let count = u32::try_from(room.routes().len()).map_err(|_| RecordError::Malformed("routes"))?;
    out.extend_from_slice(&count.to_be_bytes());
    for (reference, domain) in room.routes() {
        put_bytes(&mut out, reference)?;
        put_bytes(&mut out, domain.as_str().as_bytes())?;
    }
    Ok(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        if self.0.len() < n {
            return Err(RecordError::Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, RecordError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, RecordError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    fn bytes(&mut self) -> Result<&'a [u8], RecordError> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

/// Decodes a hub room of `room`.
pub(crate) fn decode(
    room: RoomUri,
    record: &[u8],
    trust: TrustStore,
) -> Result<HubRoom, RecordError> {
    let mut r = Reader(record);
    if r.take(1)? != [VERSION] {
        return Err(RecordError::Malformed("unknown record version"));
    }
    let group =
        HubGroup::from_record(r.bytes()?, trust).map_err(|e| RecordError::Group(e.to_string()))?;
    let next_seq = r.u64()?;
    let count = r.u32()?;
    let mut routes = BTreeMap::new();
    for _ in 0..count {
        let reference = r.bytes()?.to_vec();
        let domain = std::str::from_utf8(r.bytes()?)
            .ok()
            .and_then(|d| Domain::parse(d).ok())
            .ok_or(RecordError::Malformed("route domain"))?;
        routes.insert(reference, domain);
    }
    if !r.0.is_empty() {
        return Err(RecordError::Malformed("trailing bytes"));
    }
    Ok(HubRoom::from_parts(room, group, next_seq, routes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A hosted room with one member and one route.
    fn sample() -> (HubRoom, TrustStore) {
        use mimi_mls::{ClientGroup, ClientIdentity, ProviderCa, ServerIdentity, Validity};
        use mimi_types::{ClientUri, UserUri};

        let now = crate::init::now_s();
        let validity = Validity::starting(now - 60, 3600);
        let domain = Domain::parse("x.example").unwrap();
        let ca = ProviderCa::generate(domain.clone(), validity).unwrap();
        let server = ServerIdentity::new(&ca, validity).unwrap();
        let mut trust = TrustStore::new();
        trust.pin(domain.clone(), ca.certificate_der()).unwrap();
        let user = UserUri::parse("mimi://x.example/u/alice").unwrap();
        let client = ClientUri::parse("mimi://x.example/d/alice/phone").unwrap();
        let identity = ClientIdentity::new(&ca, client, user.clone(), validity).unwrap();
        let room = RoomUri::parse("mimi://x.example/r/a").unwrap();
        let state = mimi_room::presets::RoomCreation::new(
            mimi_room::presets::Preset::Cooperative,
            room.clone(),
            user,
        )
        .initial_state()
        .unwrap();
        let (_, created) = ClientGroup::create(
            &identity,
            &room.group_uri(),
            &server.external_sender(),
            &state,
            trust.clone(),
            now,
        )
        .unwrap();
        let group = HubGroup::new(
            &created.group_info,
            &created.ratchet_tree,
            trust.clone(),
            now,
        )
        .unwrap();
        let mut hub = HubRoom::new(room, group);
        hub.record_routes(&domain, [vec![7u8; 32]]);
        (hub, trust)
    }

    #[test]
    fn a_room_round_trips() {
        let (hub, trust) = sample();
        let record = encode(&hub).unwrap();
        let back = decode(hub.room().clone(), &record, trust).unwrap();
        assert_eq!(back.next_seq(), hub.next_seq());
        assert_eq!(back.routes(), hub.routes());
        assert_eq!(back.group().epoch(), hub.group().epoch());
        assert_eq!(encode(&back).unwrap(), record);
    }

    #[test]
    fn mutated_records_never_panic() {
        use rand::{Rng as _, SeedableRng as _};

        let (hub, trust) = sample();
        let record = encode(&hub).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        for _ in 0..2000 {
            let mut bytes = record.clone();
            match rng.gen_range(0..3) {
                0 => {
                    let at = rng.gen_range(0..bytes.len());
                    bytes[at] ^= 1 << rng.gen_range(0..8);
                }
                1 => bytes.truncate(rng.gen_range(0..bytes.len())),
                _ => bytes.push(rng.r#gen()),
            }
            let _ = decode(hub.room().clone(), &bytes, trust.clone());
        }
        for _ in 0..500 {
            let len = rng.gen_range(0..64);
            let bytes: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            assert!(decode(hub.room().clone(), &bytes, trust.clone()).is_err());
        }
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let room = RoomUri::parse("mimi://x.example/r/a").unwrap();
        for bytes in [&b""[..], &[1], &[2, 0, 0, 0, 0], &[1, 0, 0, 0, 9, 1]] {
            assert!(decode(room.clone(), bytes, TrustStore::new()).is_err());
        }
    }
}
