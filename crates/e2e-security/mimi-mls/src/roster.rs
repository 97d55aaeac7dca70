//! Which client sits at which leaf of a room's group, as a provider without the group's state
//! can follow it from the handshakes the hub fans out.
//!
//! A follower delivers a room's messages only to its devices that are members of the group
//! (digest §3.5: a removed client gets the commit that removes it, nothing after). It holds no
//! MLS state, but every handshake is a PublicMessage, so what changes the membership is in
//! the clear: Add proposals carry the new member's KeyPackage (and credential), Removes name a
//! leaf index, a SelfRemove removes its sender's leaf, an external commit puts its sender at
//! the leftmost free leaf. [`Roster`] replays that on a leaf → client table, started from a
//! full ratchet tree (the one the hub ships with each Welcome). The hub has verified and
//! authorized every handshake it fans out, so nothing is verified again here: this is
//! bookkeeping of accepted changes, in hub order.
//!
//! Leaves are placed as RFC 9420 §12.3 (and openmls) do: Updates, then Removes and
//! SelfRemoves blank their leaves, then Adds fill the leftmost blank leaves in order (or
//! extend the tree), then an external committer takes the leftmost blank leaf.

use std::collections::{BTreeMap, BTreeSet};

use openmls::ciphersuite::hash_ref::make_proposal_ref;
use openmls::prelude::{
    Credential, KeyPackageIn, MlsMessageIn, ProposalIn, ProposalOrRefIn, RatchetTreeIn, Sender,
};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;
use tls_codec::{Deserialize as _, Serialize as _, Size as _, VLBytes};

use mimi_types::ClientUri;

use crate::config::CIPHERSUITE;
use crate::error::MlsError;
use crate::inspect::member_of_credential;
use crate::persist::{Reader, Writer};

const RECORD_TAG: u8 = 6;
const CONTENT_PROPOSAL: u8 = 2;
const CONTENT_COMMIT: u8 = 3;
const WIRE_FORMAT_PUBLIC: u16 = 1;

/// What a proposal does to the leaves, once committed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LeafOp {
    /// A new member (its client, if its credential names one).
    Add(Option<ClientUri>),
    /// The member at this leaf leaves.
    Remove(u32),
    /// The member at this leaf now has this credential.
    Update(u32, Option<ClientUri>),
    /// Nothing that changes who is at which leaf.
    Other,
}

/// What one handshake changed in the roster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RosterChange {
    /// Clients that became members.
    pub joined: Vec<ClientUri>,
    /// Clients that stopped being members.
    pub left: Vec<ClientUri>,
    /// Proposals a commit named by reference that this roster never saw: its view may be
    /// wrong from now on (the caller should start again from a full tree when it gets one).
    pub unresolved: usize,
}

/// A room's group membership by leaf, without any of the group's secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    leaves: Vec<Option<ClientUri>>,
    /// Proposals of the current epoch, by ProposalRef.
    proposals: BTreeMap<Vec<u8>, LeafOp>,
}

fn bad(e: impl std::fmt::Display) -> MlsError {
    MlsError::Malformed(e.to_string())
}

/// The client a credential names, if it is one of our X.509 client credentials.
fn client_of(credential: &Credential) -> Option<ClientUri> {
    member_of_credential(credential).ok().map(|m| m.client)
}

/// Reads the credential of a TLS-encoded LeafNode at the start of `b` (its first fields are
/// `HPKEPublicKey encryption_key; SignaturePublicKey signature_key; Credential credential;`).
fn leaf_credential(b: &mut &[u8]) -> Result<Credential, MlsError> {
    VLBytes::tls_deserialize(b).map_err(bad)?;
    VLBytes::tls_deserialize(b).map_err(bad)?;
    Credential::tls_deserialize(b).map_err(bad)
}

/// A handshake as the roster needs it.
struct Handshake {
    sender: Sender,
    body: Body,
}

enum Body {
    Proposal {
        proposal: ProposalIn,
        reference: Vec<u8>,
    },
    Commit {
        proposals: Vec<ProposalOrRefIn>,
        path_credential: Option<Credential>,
    },
}

/// Reads a fanned-out handshake (an `MLSMessage` carrying a PublicMessage proposal or commit).
/// The whole message must decode; only the parts the roster needs are kept.
fn read_handshake(bytes: &[u8]) -> Result<Handshake, MlsError> {
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(bad)?;
    let mut b = bytes;
    let _version = u16::tls_deserialize(&mut b).map_err(bad)?;
    let wire_format = u16::tls_deserialize(&mut b).map_err(bad)?;
    if wire_format != WIRE_FORMAT_PUBLIC {
        return Err(MlsError::Unexpected(format!(
            "handshakes are PublicMessages (wire format 1), not wire format {wire_format}"
        )));
    }
    let _group_id = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    let _epoch = u64::tls_deserialize(&mut b).map_err(bad)?;
    let sender = Sender::tls_deserialize(&mut b).map_err(bad)?;
    let _aad = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    let content_type = u8::tls_deserialize(&mut b).map_err(bad)?;
    let body = match content_type {
        CONTENT_PROPOSAL => {
            let proposal = ProposalIn::tls_deserialize(&mut b).map_err(bad)?;
            let _signature = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
            // AuthenticatedContent = wire_format, FramedContent, FramedContentAuthData: the
            // message from its wire format up to (not including) the membership tag.
            let end = bytes.len() - b.len();
            let content = bytes.get(2..end).ok_or_else(|| bad("short proposal"))?;
            let provider = OpenMlsRustCrypto::default();
            let reference = make_proposal_ref(content, CIPHERSUITE, provider.crypto())
                .map_err(MlsError::mls)?;
            Body::Proposal {
                proposal,
                reference: reference.as_slice().to_vec(),
            }
        }
        CONTENT_COMMIT => {
            let proposals = Vec::<ProposalOrRefIn>::tls_deserialize(&mut b).map_err(bad)?;
            let path_credential = match u8::tls_deserialize(&mut b).map_err(bad)? {
                0 => None,
                _ => Some(leaf_credential(&mut b)?),
            };
            Body::Commit {
                proposals,
                path_credential,
            }
        }
        other => {
            return Err(MlsError::Unexpected(format!(
                "content type {other} is not a proposal or a commit"
            )));
        }
    };
    Ok(Handshake { sender, body })
}

/// The client an external commit adds (`None` for any other handshake). Needs no roster: the
/// joiner's credential is in the commit's path.
pub fn external_joiner(commit: &[u8]) -> Result<Option<ClientUri>, MlsError> {
    let handshake = read_handshake(commit)?;
    match (handshake.sender, handshake.body) {
        (
            Sender::NewMemberCommit,
            Body::Commit {
                path_credential: Some(credential),
                ..
            },
        ) => Ok(client_of(&credential)),
        _ => Ok(None),
    }
}

/// What a proposal from `sender` does to the leaves.
fn leaf_op(proposal: &ProposalIn, sender: &Sender) -> Result<LeafOp, MlsError> {
    Ok(match (proposal, sender) {
        (ProposalIn::Add(add), _) => {
            let bytes = add.tls_serialize_detached().map_err(MlsError::mls)?;
            let kp = KeyPackageIn::tls_deserialize(&mut bytes.as_slice()).map_err(bad)?;
            LeafOp::Add(client_of(&kp.unverified_credential().credential))
        }
        (ProposalIn::Remove(r), _) => LeafOp::Remove(r.removed().u32()),
        (ProposalIn::SelfRemove, Sender::Member(i)) => LeafOp::Remove(i.u32()),
        (ProposalIn::Update(update), Sender::Member(i)) => {
            let bytes = update.tls_serialize_detached().map_err(MlsError::mls)?;
            let credential = leaf_credential(&mut bytes.as_slice())?;
            LeafOp::Update(i.u32(), client_of(&credential))
        }
        _ => LeafOp::Other,
    })
}

impl Roster {
    /// The roster of a full ratchet tree (`optional<Node> ratchet_tree<V>`, RFC 9420 §12.4.3.3):
    /// leaf `i` is node `2i`.
    pub fn from_tree(tree: &[u8]) -> Result<Self, MlsError> {
        let parsed = RatchetTreeIn::tls_deserialize_exact(tree).map_err(bad)?;
        let mut nodes = parsed.nodes();
        let mut leaves_in = parsed.leaves();
        // Walk the encoding beside the decoded nodes: a blank is a 0 presence byte, a node's
        // length is what openmls decoded there.
        let mut body = vector_body(tree)?;
        let mut leaves = Vec::new();
        let mut position = 0usize;
        while !body.is_empty() {
            let present = u8::tls_deserialize(&mut body).map_err(bad)?;
            let is_leaf = position.is_multiple_of(2);
            if present == 0 {
                if is_leaf {
                    leaves.push(None);
                }
            } else {
                let node = nodes.next().ok_or_else(|| bad("ratchet tree nodes"))?;
                let len = node.tls_serialized_len();
                body = body
                    .get(len..)
                    .ok_or_else(|| bad("short ratchet tree node"))?;
                if is_leaf {
                    let leaf = leaves_in.next().ok_or_else(|| bad("ratchet tree leaves"))?;
                    leaves.push(client_of(leaf.credential()));
                }
            }
            position += 1;
        }
        let mut roster = Self {
            leaves,
            proposals: BTreeMap::new(),
        };
        roster.trim();
        Ok(roster)
    }

    /// The leaves, blank (`None`) or naming their client, up to the last member.
    pub fn leaves(&self) -> &[Option<ClientUri>] {
        &self.leaves
    }

    /// Every client in the group, by leaf.
    pub fn clients(&self) -> impl Iterator<Item = &ClientUri> {
        self.leaves.iter().flatten()
    }

    /// The leaf of `client`, if it is a member.
    pub fn leaf_of(&self, client: &ClientUri) -> Option<u32> {
        self.leaves
            .iter()
            .position(|l| l.as_ref() == Some(client))
            .and_then(|i| u32::try_from(i).ok())
    }

    /// Whether `client` is a member.
    pub fn contains(&self, client: &ClientUri) -> bool {
        self.leaf_of(client).is_some()
    }

    /// Follows one handshake the hub accepted and fanned out: a proposal is remembered for
    /// the commit that may include it by reference; a commit changes the leaves and starts a
    /// new epoch (forgetting the old epoch's proposals).
    pub fn observe(&mut self, handshake: &[u8]) -> Result<RosterChange, MlsError> {
        let handshake = read_handshake(handshake)?;
        match handshake.body {
            Body::Proposal {
                proposal,
                reference,
            } => {
                let op = leaf_op(&proposal, &handshake.sender)?;
                self.proposals.insert(reference, op);
                Ok(RosterChange::default())
            }
            Body::Commit {
                proposals,
                path_credential,
            } => self.commit(&handshake.sender, &proposals, path_credential.as_ref()),
        }
    }

    fn commit(
        &mut self,
        sender: &Sender,
        proposals: &[ProposalOrRefIn],
        path_credential: Option<&Credential>,
    ) -> Result<RosterChange, MlsError> {
        let mut change = RosterChange::default();
        let mut ops = Vec::with_capacity(proposals.len());
        for item in proposals {
            match item {
                ProposalOrRefIn::Proposal(p) => ops.push(leaf_op(p, sender)?),
                ProposalOrRefIn::Reference(r) => match self.proposals.get(r.as_slice()) {
                    Some(op) => ops.push(op.clone()),
                    None => change.unresolved += 1,
                },
            }
        }
        self.proposals.clear();
        for op in &ops {
            if let LeafOp::Update(leaf, client) = op {
                self.replace(*leaf, client.clone(), &mut change);
            }
        }
        for op in &ops {
            if let LeafOp::Remove(leaf) = op {
                self.replace(*leaf, None, &mut change);
            }
        }
        // Adds fill the blank leaves left to right, so each search starts after the leaf the
        // previous one filled (one pass for a commit adding thousands, not one per add).
        let mut from = 0;
        for op in &ops {
            if let LeafOp::Add(client) = op {
                let leaf = self.free_leaf(from);
                from = leaf.saturating_add(1);
                self.replace(leaf, client.clone(), &mut change);
            }
        }
        let path_client = path_credential.and_then(client_of);
        match sender {
            Sender::NewMemberCommit => {
                let leaf = self.free_leaf(from);
                self.replace(leaf, path_client, &mut change);
            }
            Sender::Member(i) if path_credential.is_some() => {
                self.replace(i.u32(), path_client, &mut change);
            }
            _ => {}
        }
        self.trim();
        // A client that left and came back in the same commit (a resync) is still a member.
        // Sets, not scans: a commit adding thousands would otherwise compare every joiner
        // with every leaf.
        if !change.left.is_empty() {
            let joined: BTreeSet<&ClientUri> = change.joined.iter().collect();
            change.left.retain(|c| !joined.contains(c));
        }
        if !change.joined.is_empty() {
            let members: BTreeSet<&ClientUri> = self.leaves.iter().flatten().collect();
            change.joined.retain(|c| members.contains(c));
        }
        Ok(change)
    }

    /// The leftmost blank leaf at or after `from` (the caller knows none before it), or the
    /// next leaf after the last.
    fn free_leaf(&self, from: u32) -> u32 {
        let from = usize::try_from(from)
            .unwrap_or(usize::MAX)
            .min(self.leaves.len());
        let i = self.leaves[from..]
            .iter()
            .position(Option::is_none)
            .map_or(self.leaves.len(), |i| from + i);
        u32::try_from(i).unwrap_or(u32::MAX)
    }

    fn replace(&mut self, leaf: u32, client: Option<ClientUri>, change: &mut RosterChange) {
        let Ok(i) = usize::try_from(leaf) else {
            return;
        };
        // The tree never has more leaves than members plus blanks the hub accepted; a leaf
        // index beyond what we hold extends the table with blanks.
        if i >= self.leaves.len() {
            if client.is_none() || i > self.leaves.len() + (1 << 16) {
                return;
            }
            self.leaves.resize(i + 1, None);
        }
        let old = std::mem::replace(&mut self.leaves[i], client.clone());
        if old == client {
            return;
        }
        if let Some(old) = old {
            change.left.push(old);
        }
        if let Some(new) = client {
            change.joined.push(new);
        }
    }

    fn trim(&mut self) {
        while matches!(self.leaves.last(), Some(None)) {
            self.leaves.pop();
        }
    }

    /// The roster as a record (see [`Roster::from_record`]).
    pub fn to_record(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.header(RECORD_TAG);
        w.u64(self.leaves.len() as u64);
        for leaf in &self.leaves {
            match leaf {
                None => w.u8(0),
                Some(client) => {
                    w.u8(1);
                    w.str(&client.to_string());
                }
            }
        }
        w.u64(self.proposals.len() as u64);
        for (reference, op) in &self.proposals {
            w.bytes(reference);
            match op {
                LeafOp::Add(client) => {
                    w.u8(1);
                    write_client(&mut w, client.as_ref());
                }
                LeafOp::Remove(leaf) => {
                    w.u8(2);
                    w.u64(u64::from(*leaf));
                }
                LeafOp::Update(leaf, client) => {
                    w.u8(3);
                    w.u64(u64::from(*leaf));
                    write_client(&mut w, client.as_ref());
                }
                LeafOp::Other => w.u8(0),
            }
        }
        w.finish()
    }

    /// Restores a roster from [`Roster::to_record`].
    pub fn from_record(record: &[u8]) -> Result<Self, MlsError> {
        let mut r = Reader::new(record);
        r.header(RECORD_TAG)?;
        let n = r.u64()?;
        if n > record.len() as u64 {
            return Err(MlsError::Record("leaf count exceeds the record".into()));
        }
        let mut leaves = Vec::new();
        for _ in 0..n {
            leaves.push(match r.u8()? {
                0 => None,
                _ => Some(r.parse::<ClientUri>()?),
            });
        }
        let n = r.u64()?;
        if n > record.len() as u64 {
            return Err(MlsError::Record("proposal count exceeds the record".into()));
        }
        let mut proposals = BTreeMap::new();
        for _ in 0..n {
            let reference = r.bytes()?.to_vec();
            let op = match r.u8()? {
                0 => LeafOp::Other,
                1 => LeafOp::Add(read_client(&mut r)?),
                2 => LeafOp::Remove(read_leaf(&mut r)?),
                3 => LeafOp::Update(read_leaf(&mut r)?, read_client(&mut r)?),
                k => return Err(MlsError::Record(format!("unknown proposal kind {k}"))),
            };
            proposals.insert(reference, op);
        }
        r.end()?;
        Ok(Self { leaves, proposals })
    }
}

/// The contents of a TLS vector with an MLS variable-length header (RFC 9420 §2.1.2).
fn vector_body(bytes: &[u8]) -> Result<&[u8], MlsError> {
    let first = *bytes.first().ok_or_else(|| bad("empty vector"))?;
    let size = 1usize << (first >> 6);
    if size > 4 {
        return Err(bad("vector length prefix too long"));
    }
    let prefix = bytes
        .get(..size)
        .ok_or_else(|| bad("short vector length"))?;
    let len = prefix
        .iter()
        .skip(1)
        .fold(usize::from(first & 0x3f), |acc, b| {
            (acc << 8) | usize::from(*b)
        });
    bytes
        .get(size..size + len)
        .ok_or_else(|| bad("short vector"))
}

fn write_client(w: &mut Writer, client: Option<&ClientUri>) {
    match client {
        None => w.u8(0),
        Some(c) => {
            w.u8(1);
            w.str(&c.to_string());
        }
    }
}

fn read_client(r: &mut Reader<'_>) -> Result<Option<ClientUri>, MlsError> {
    match r.u8()? {
        0 => Ok(None),
        _ => r.parse::<ClientUri>().map(Some),
    }
}

fn read_leaf(r: &mut Reader<'_>) -> Result<u32, MlsError> {
    u32::try_from(r.u64()?).map_err(|_| MlsError::Record("leaf index out of range".into()))
}
