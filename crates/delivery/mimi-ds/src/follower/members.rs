//! The member devices of one room at this provider: who a follower delivers the room to.
//!
//! A device is a member from the moment the hub accepted its join (the Welcome for its
//! KeyPackage arrived, or its external commit was fanned out) until the commit that removes
//! it, which it still receives (digest §3.5); nothing of the room after that. The follower
//! holds no MLS state: it follows the group's leaves with a [`Roster`] started from the full
//! ratchet tree the hub ships with each Welcome (or, at the hub's own provider, the tree the
//! room was created with), replaying each fanned-out handshake in hub order.
//!
//! A device whose join the provider saw but whose leaf it cannot place (an external join
//! into a room of which this provider knows no tree yet) is kept as *unplaced*: it receives
//! the room until a tree is known, then the tree decides.

use std::collections::BTreeSet;

use mimi_mls::Roster;
use mimi_types::{ClientUri, Domain};

/// Why a members record is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("room members record: {0}")]
pub struct MembersRecordError(String);

/// The member devices of one room at one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMembers {
    domain: Domain,
    roster: Option<Roster>,
    unplaced: BTreeSet<ClientUri>,
    /// The roster already reflects the next commit (a Welcome's tree arrived before the
    /// commit it follows was released from the buffer).
    skip_next_commit: bool,
}

const RECORD_TAG: &[u8] = b"mimi-ds members v1\n";

impl LocalMembers {
    /// No member device yet at `domain` (our provider).
    pub fn new(domain: Domain) -> Self {
        Self {
            domain,
            roster: None,
            unplaced: BTreeSet::new(),
            skip_next_commit: false,
        }
    }

    /// Member devices known without their leaves (e.g. from a store written before rosters
    /// existed); the first full tree replaces them.
    pub fn with_unplaced(domain: Domain, devices: impl IntoIterator<Item = ClientUri>) -> Self {
        let mut members = Self::new(domain);
        members.unplaced = devices
            .into_iter()
            .filter(|d| d.domain() == &members.domain)
            .collect();
        members
    }

    /// Our provider.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Whether the leaves of the group are known.
    pub fn has_roster(&self) -> bool {
        self.roster.is_some()
    }

    /// The member devices of this provider, sorted.
    pub fn devices(&self) -> BTreeSet<ClientUri> {
        let mut out = self.unplaced.clone();
        if let Some(roster) = &self.roster {
            out.extend(
                roster
                    .clients()
                    .filter(|c| c.domain() == &self.domain)
                    .cloned(),
            );
        }
        out
    }

    /// Whether a device of `domain` is a member of the group, as far as the roster shows
    /// (without a roster: unknown, so no).
    pub fn has_participant_at(&self, domain: &Domain) -> bool {
        self.roster
            .as_ref()
            .is_some_and(|r| r.clients().any(|c| c.domain() == domain))
    }

    /// Whether `device` is a member.
    pub fn contains(&self, device: &ClientUri) -> bool {
        self.unplaced.contains(device)
            || self
                .roster
                .as_ref()
                .is_some_and(|r| device.domain() == &self.domain && r.contains(device))
    }

    /// Starts again from a full ratchet tree (its TLS encoding): it is the truth about the
    /// group from now on.
    pub fn start_from_tree(&mut self, tree: &[u8]) -> Result<(), mimi_mls::MlsError> {
        self.roster = Some(Roster::from_tree(tree)?);
        self.unplaced.clear();
        self.skip_next_commit = false;
        Ok(())
    }

    /// A device is a member although its leaf is unknown.
    pub(crate) fn add_unplaced(&mut self, device: ClientUri) {
        if device.domain() == &self.domain && !self.contains(&device) {
            self.unplaced.insert(device);
        }
    }

    /// The roster already includes the next commit's changes.
    pub(crate) fn skip_next_commit(&mut self) {
        self.skip_next_commit = true;
    }

    /// Follows a fanned-out proposal.
    pub(crate) fn proposal(&mut self, message: &[u8]) {
        if let Some(roster) = &mut self.roster {
            // A proposal the roster cannot read changes nothing it could act on; the commit
            // naming it then counts as unresolved.
            let _ = roster.observe(message);
        }
    }

    /// Follows a fanned-out commit: returns who receives it (the members before it, and an
    /// external joiner of ours, which gets its own commit as every member does).
    pub(crate) fn commit(&mut self, message: &[u8]) -> BTreeSet<ClientUri> {
        let mut recipients = self.devices();
        let joiner = mimi_mls::external_joiner(message)
            .ok()
            .flatten()
            .filter(|c| c.domain() == &self.domain);
        if let Some(joiner) = &joiner {
            recipients.insert(joiner.clone());
        }
        if std::mem::take(&mut self.skip_next_commit) {
            return recipients;
        }
        match &mut self.roster {
            Some(roster) => {
                if let Ok(change) = roster.observe(message) {
                    // Leaves now placed need no fallback.
                    for c in &change.joined {
                        self.unplaced.remove(c);
                    }
                    for c in &change.left {
                        self.unplaced.remove(c);
                    }
                }
            }
            None => {
                if let Some(joiner) = joiner {
                    self.unplaced.insert(joiner);
                }
            }
        }
        recipients
    }

    /// The members as a record (see [`LocalMembers::from_record`]).
    pub fn to_record(&self) -> Vec<u8> {
        let mut out = RECORD_TAG.to_vec();
        push_bytes(&mut out, self.domain.as_str().as_bytes());
        out.push(u8::from(self.skip_next_commit));
        match &self.roster {
            None => out.push(0),
            Some(roster) => {
                out.push(1);
                push_bytes(&mut out, &roster.to_record());
            }
        }
        for device in &self.unplaced {
            push_bytes(&mut out, device.to_string().as_bytes());
        }
        out
    }

    /// Restores members from [`LocalMembers::to_record`]; the whole record must be read.
    pub fn from_record(record: &[u8]) -> Result<Self, MembersRecordError> {
        let err = |m: &str| MembersRecordError(m.to_owned());
        let mut rest = record
            .strip_prefix(RECORD_TAG)
            .ok_or_else(|| err("unknown record kind"))?;
        let domain = std::str::from_utf8(take_bytes(&mut rest)?)
            .ok()
            .and_then(|d| Domain::parse(d).ok())
            .ok_or_else(|| err("bad domain"))?;
        let (&skip, after) = rest.split_first().ok_or_else(|| err("truncated"))?;
        let (&has_roster, after) = after.split_first().ok_or_else(|| err("truncated"))?;
        rest = after;
        let roster = match has_roster {
            0 => None,
            1 => Some(
                Roster::from_record(take_bytes(&mut rest)?)
                    .map_err(|e| MembersRecordError(e.to_string()))?,
            ),
            _ => return Err(err("bad roster flag")),
        };
        let mut unplaced = BTreeSet::new();
        while !rest.is_empty() {
            let device = std::str::from_utf8(take_bytes(&mut rest)?)
                .ok()
                .and_then(|d| d.parse::<ClientUri>().ok())
                .ok_or_else(|| err("bad device"))?;
            unplaced.insert(device);
        }
        Ok(Self {
            domain,
            roster,
            unplaced,
            skip_next_commit: skip == 1,
        })
    }
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn take_bytes<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], MembersRecordError> {
    let err = || MembersRecordError("truncated".to_owned());
    let (len, after) = rest.split_first_chunk::<4>().ok_or_else(err)?;
    let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| err())?;
    let bytes = after.get(..len).ok_or_else(err)?;
    *rest = after.get(len..).ok_or_else(err)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn client(s: &str) -> ClientUri {
        s.parse().unwrap()
    }

    #[test]
    fn unplaced_members_are_ours_only_and_survive_their_record() {
        let domain = Domain::parse("y.example").unwrap();
        let ours = client("mimi://y.example/d/bob/laptop");
        let theirs = client("mimi://x.example/d/alice/phone");
        let mut members = LocalMembers::with_unplaced(domain, [ours.clone(), theirs.clone()]);
        assert!(members.contains(&ours));
        assert!(!members.contains(&theirs));
        members.add_unplaced(theirs.clone());
        assert_eq!(members.devices().into_iter().collect::<Vec<_>>(), [ours]);
        members.skip_next_commit();
        let record = members.to_record();
        assert_eq!(LocalMembers::from_record(&record).unwrap(), members);
        assert!(LocalMembers::from_record(&record[..record.len() - 1]).is_err());
        assert!(LocalMembers::from_record(b"something else").is_err());
        // A tree that does not decode is refused and changes nothing.
        assert!(members.start_from_tree(&[0xff, 0x00]).is_err());
        assert!(!members.has_roster());
    }
}
