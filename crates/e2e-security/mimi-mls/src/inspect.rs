//! Reading handshakes: the raw proposal list of a PublicMessage commit, the MIMI summary of a
//! handshake, and credential checks on staged commits. Shared by clients and the hub.

use std::collections::{BTreeMap, BTreeSet};

use openmls::component::ComponentData;
use openmls::extensions::Extensions;
use openmls::group::AppDataDictionaryUpdater;
use openmls::group::{GroupContext, QueuedProposal, StagedCommit};
use openmls::prelude::{
    AppDataUpdateOperation, AppDataUpdates, Credential, KeyPackageIn, LeafNode, LeafNodeIndex,
    Member, Proposal, ProposalIn, ProposalOrRefIn, Sender,
};
use tls_codec::{Deserialize as _, Serialize as _, VLBytes};

use mimi_types::ClientUri;
use mimi_types::codepoints::ComponentId;

use crate::credential::{
    LeafFacts, TrustStore, VerifiedIdentity, X509Credential, claimed_identity, claimed_leaf,
};
use crate::error::{CredentialError, MlsError};
use crate::identity::x509_of;
use crate::summary::{
    Actor, CommitSummary, ComponentChange, ComponentOp, Components, MemberChange, normalize,
};
use mimi_room::{AddedLifetimes, RoomState};

/// Content types (RFC 9420 §6).
pub(crate) const CONTENT_COMMIT: u8 = 3;

/// The parts of a PublicMessage we read before openmls stages it.
pub(crate) struct RawHandshake {
    pub(crate) content_type: u8,
    /// For a commit: its proposals, inline or by reference.
    pub(crate) commit_proposals: Vec<ProposalOrRefIn>,
    /// The `authenticated_data` (where a joiner presents its join code).
    pub(crate) aad: Vec<u8>,
}

/// Decodes the FramedContent prefix of an `MLSMessage` carrying a PublicMessage, up to and
/// including the commit's proposal list. openmls verifies the whole message separately.
pub(crate) fn raw_handshake(bytes: &[u8]) -> Result<RawHandshake, MlsError> {
    let bad = |e: tls_codec::Error| MlsError::Malformed(e.to_string());
    let mut b = bytes;
    let _version = u16::tls_deserialize(&mut b).map_err(bad)?;
    let wire_format = u16::tls_deserialize(&mut b).map_err(bad)?;
    if wire_format != 1 {
        return Err(MlsError::Unexpected(format!(
            "handshakes must be PublicMessage (wire format 1), got {wire_format}"
        )));
    }
    let _group_id = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    let _epoch = u64::tls_deserialize(&mut b).map_err(bad)?;
    let _sender = Sender::tls_deserialize(&mut b).map_err(bad)?;
    let aad = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    let content_type = u8::tls_deserialize(&mut b).map_err(bad)?;
    let commit_proposals = if content_type == CONTENT_COMMIT {
        Vec::<ProposalOrRefIn>::tls_deserialize(&mut b).map_err(bad)?
    } else {
        Vec::new()
    };
    Ok(RawHandshake {
        content_type,
        commit_proposals,
        aad: aad.as_slice().to_vec(),
    })
}

/// The identity a leaf's credential claims (validated when the leaf joined).
pub(crate) fn member_of_credential(c: &Credential) -> Result<MemberChange, MlsError> {
    match claimed_identity(&x509_of(c)?)? {
        VerifiedIdentity::Client { client, user, kind } => {
            Ok(MemberChange::with_kind(client, user, kind))
        }
        VerifiedIdentity::Server(_) => {
            Err(CredentialError::WrongKind { expected: "client" }.into())
        }
    }
}

/// The member a client credential names and the lifetimes it brings with a KeyPackage valid
/// from `not_before` to `not_after` (for `mls_operational_policy`, `mimi_room`
/// `lifetimes.rs`), from one parse of its certificate (`facts`).
pub(crate) fn added_member(
    facts: LeafFacts,
    not_before: u64,
    not_after: u64,
) -> Result<(MemberChange, AddedLifetimes), MlsError> {
    let VerifiedIdentity::Client { client, user, kind } = facts.identity else {
        return Err(CredentialError::WrongKind { expected: "client" }.into());
    };
    let lifetimes = AddedLifetimes {
        client: client.clone(),
        key_package_s: Some(not_after.saturating_sub(not_before)),
        credential_s: facts.validity_s,
    };
    Ok((MemberChange::with_kind(client, user, kind), lifetimes))
}

/// The lifetimes a client joining by external commit with `credential` brings: its X.509
/// credential's validity period, and no KeyPackage.
pub(crate) fn joiner_lifetimes(
    client: ClientUri,
    credential: &X509Credential,
) -> Result<AddedLifetimes, MlsError> {
    Ok(AddedLifetimes {
        client,
        key_package_s: None,
        credential_s: credential.validity_period_s()?,
    })
}

/// `(not_before, not_after)` of a TLS-encoded KeyPackage (RFC 9420 §10: version, suite,
/// init key, then the leaf node: its two keys, credential and capabilities, then its source,
/// which must be `key_package` with the lifetime). openmls reads the lifetime of an
/// unverified KeyPackage for no caller; the commit's signatures are checked by openmls.
pub(crate) fn key_package_lifetime(bytes: &[u8]) -> Result<(u64, u64), MlsError> {
    let bad = |e: tls_codec::Error| MlsError::Malformed(format!("Add key package: {e}"));
    let mut r = bytes;
    u16::tls_deserialize(&mut r).map_err(bad)?; // protocol version
    u16::tls_deserialize(&mut r).map_err(bad)?; // cipher suite
    for _ in 0..3 {
        // init key, encryption key, signature key
        VLBytes::tls_deserialize(&mut r).map_err(bad)?;
    }
    u16::tls_deserialize(&mut r).map_err(bad)?; // credential type
    for _ in 0..6 {
        // credential content; capabilities: versions, suites, extensions, proposals, credentials
        VLBytes::tls_deserialize(&mut r).map_err(bad)?;
    }
    if u8::tls_deserialize(&mut r).map_err(bad)? != 1 {
        return Err(MlsError::Malformed(
            "Add key package: its leaf node's source is not key_package".into(),
        ));
    }
    let not_before = u64::tls_deserialize(&mut r).map_err(bad)?;
    let not_after = u64::tls_deserialize(&mut r).map_err(bad)?;
    Ok((not_before, not_after))
}

/// Whether `credential` may name `uri`: its encoding contains the URI's octets, as every
/// credential naming it does (a provider issues canonical URIs, and the certificate carries
/// them verbatim). A cheap filter before [`member_of_credential`], which parses the
/// certificate: finding one member's leaf then scans bytes instead of parsing every
/// member's certificate (thousands in a large room).
pub(crate) fn credential_may_name(credential: &Credential, uri: &str) -> bool {
    let uri = uri.as_bytes();
    if uri.is_empty() {
        return true;
    }
    credential
        .serialized_content()
        .windows(uri.len())
        .any(|w| w == uri)
}

/// The members of `room` (client, user and kind of each leaf), sorted by client: the room
/// state's membership, which every merged commit updates, so no credential is parsed
/// (thousands in a large room).
pub(crate) fn member_changes(room: &RoomState) -> Vec<MemberChange> {
    room.members()
        .iter()
        .map(|(client, user)| {
            let kind = room.kind_of(client).clone();
            MemberChange::with_kind(client.clone(), user.clone(), kind)
        })
        .collect()
}

/// The leaf of `client` among a group's `members`: a byte scan first, so only a credential
/// that may name it is parsed.
pub(crate) fn leaf_index_of(
    mut members: impl Iterator<Item = Member>,
    client: &ClientUri,
) -> Result<LeafNodeIndex, MlsError> {
    let uri = client.to_string();
    members
        .find(|m| {
            credential_may_name(&m.credential, &uri)
                && member_of_credential(&m.credential)
                    .map(|mc| &mc.client == client)
                    .unwrap_or(false)
        })
        .map(|m| m.index)
        .ok_or_else(|| MlsError::Misuse(format!("{client} is not a member of the group")))
}

/// What the summary builder needs from the group.
pub(crate) struct GroupView<'a> {
    pub(crate) leaf: &'a dyn Fn(LeafNodeIndex) -> Option<&'a LeafNode>,
    /// Proposals cached for this epoch, by reference.
    pub(crate) cached: &'a BTreeMap<Vec<u8>, QueuedProposal>,
}

impl GroupView<'_> {
    pub(crate) fn member_at(&self, index: LeafNodeIndex) -> Result<MemberChange, MlsError> {
        let leaf = (self.leaf)(index)
            .ok_or_else(|| MlsError::Malformed(format!("no member at leaf {}", index.u32())))?;
        member_of_credential(leaf.credential())
    }

    /// The actor of a message from `sender` whose (verified) credential is `credential`.
    pub(crate) fn actor(
        &self,
        sender: &Sender,
        credential: &Credential,
    ) -> Result<Actor, MlsError> {
        match sender {
            Sender::Member(_) | Sender::NewMemberCommit | Sender::NewMemberProposal => {
                let m = member_of_credential(credential)?;
                Ok(Actor::Client {
                    client: m.client,
                    user: m.user,
                })
            }
            Sender::External(_) => match claimed_identity(&x509_of(credential)?)? {
                VerifiedIdentity::Server(d) => Ok(Actor::Server(d)),
                VerifiedIdentity::Client { .. } => {
                    Err(CredentialError::WrongKind { expected: "server" }.into())
                }
            },
        }
    }

    /// Adds one proposal (from `sender`) to the summary.
    pub(crate) fn add_proposal(
        &self,
        summary: &mut CommitSummary,
        proposal: &ProposalIn,
        sender: &Sender,
    ) -> Result<(), MlsError> {
        match proposal {
            ProposalIn::Add(add) => {
                let bytes = add.tls_serialize_detached().map_err(MlsError::mls)?;
                let kp = KeyPackageIn::tls_deserialize(&mut bytes.as_slice())
                    .map_err(|e| MlsError::Malformed(format!("Add key package: {e}")))?;
                let credential = &kp.unverified_credential().credential;
                let facts = claimed_leaf(&x509_of(credential)?)?;
                let (not_before, not_after) = key_package_lifetime(&bytes)?;
                let (member, lifetimes) = added_member(facts, not_before, not_after)?;
                summary.added_lifetimes.push(lifetimes);
                summary.added.push(member);
            }
            ProposalIn::Remove(r) => summary.removed.push(self.member_at(r.removed())?),
            ProposalIn::SelfRemove => match sender {
                Sender::Member(i) => summary.self_removed.push(self.member_at(*i)?),
                _ => {
                    return Err(MlsError::Unexpected(
                        "SelfRemove must come from a member".into(),
                    ));
                }
            },
            ProposalIn::AppDataUpdate(u) => summary.component_changes.push(ComponentChange {
                component: ComponentId::new(u.component_id()),
                op: match u.operation() {
                    AppDataUpdateOperation::Update(b) => ComponentOp::Update(b.as_slice().to_vec()),
                    AppDataUpdateOperation::Remove => ComponentOp::Remove,
                },
            }),
            ProposalIn::GroupContextExtensions(_) => {
                return Err(MlsError::Unexpected(
                    "GroupContextExtensions proposals are not allowed in MIMI rooms; change room state with AppDataUpdate".into(),
                ));
            }
            ProposalIn::ReInit(_) | ProposalIn::Custom(_) => {
                return Err(MlsError::Unexpected(format!(
                    "proposal type {:?} is not allowed in MIMI rooms",
                    proposal.proposal_type()
                )));
            }
            // Update, PSK, ExternalInit, AppEphemeral: no room-state meaning.
            _ => {}
        }
        Ok(())
    }

    /// Adds a proposal the commit includes by reference: like [`GroupView::add_proposal`],
    /// except that an external sender's Remove (the hub as policy enforcer) goes to
    /// `enforced_removed`: it was authorized against its sender when accepted, and the hub
    /// requires every commit of the epoch to include it.
    pub(crate) fn add_committed_proposal(
        &self,
        summary: &mut CommitSummary,
        proposal: &ProposalIn,
        sender: &Sender,
    ) -> Result<(), MlsError> {
        match (proposal, sender) {
            (ProposalIn::Remove(r), Sender::External(_)) => {
                summary.enforced_removed.push(self.member_at(r.removed())?);
                Ok(())
            }
            _ => self.add_proposal(summary, proposal, sender),
        }
    }

    /// Summarizes a commit from its raw proposal list. Returns the summary and the references
    /// it used.
    /// `committer` is the commit's verified credential: an external joiner's is the client it
    /// adds (with the kind its marker gives).
    pub(crate) fn summarize_commit(
        &self,
        actor: Actor,
        committer: &Credential,
        sender: &Sender,
        raw: &RawHandshake,
    ) -> Result<(CommitSummary, BTreeSet<Vec<u8>>), MlsError> {
        let mut summary = CommitSummary::new(actor);
        let mut refs = BTreeSet::new();
        for p in &raw.commit_proposals {
            match p {
                ProposalOrRefIn::Proposal(p) => self.add_proposal(&mut summary, p, sender)?,
                ProposalOrRefIn::Reference(r) => {
                    let key = r.as_slice().to_vec();
                    let q = self.cached.get(&key).ok_or_else(|| {
                        MlsError::Mls(format!(
                            "the commit references proposal {} which this group has not seen",
                            hex_of(r.as_slice())
                        ))
                    })?;
                    let pin: ProposalIn = q.proposal().clone().into();
                    self.add_committed_proposal(&mut summary, &pin, q.sender())?;
                    refs.insert(key);
                }
            }
        }
        if matches!(sender, Sender::NewMemberCommit) {
            summary.external_join = true;
            summary.join_code = crate::join_code::presented_join_code(&raw.aad)
                .map(|code| crate::join_code::join_code_digest(&code));
            if let Actor::Client { .. } = &summary.actor {
                let joiner = member_of_credential(committer)?;
                summary.added_lifetimes.push(joiner_lifetimes(
                    joiner.client.clone(),
                    &x509_of(committer)?,
                )?);
                summary.added.push(joiner);
            }
        }
        normalize(&mut summary);
        Ok((summary, refs))
    }

    /// Summarizes a bare proposal.
    pub(crate) fn summarize_proposal(
        &self,
        actor: Actor,
        q: &QueuedProposal,
    ) -> Result<CommitSummary, MlsError> {
        let mut summary = CommitSummary::new(actor);
        let pin: ProposalIn = q.proposal().clone().into();
        self.add_proposal(&mut summary, &pin, q.sender())?;
        normalize(&mut summary);
        Ok(summary)
    }
}

pub(crate) fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The room components of a GroupContext.
pub(crate) fn components_of(ctx_ext: &Extensions<GroupContext>) -> Components {
    let mut out = BTreeMap::new();
    if let Some(ext) = ctx_ext.app_data_dictionary() {
        for e in ext.dictionary().entries() {
            out.insert(ComponentId::new(e.id()), e.data().to_vec());
        }
    }
    out
}

/// The AppDataUpdates that take `old` to `new` for the components the commit touched.
pub(crate) fn app_data_updates(
    updater: AppDataDictionaryUpdater<'_>,
    touched: &BTreeSet<ComponentId>,
    new: &Components,
) -> Option<AppDataUpdates> {
    let mut updater = updater;
    for id in touched {
        match new.get(id) {
            Some(v) => updater.set(ComponentData::from_parts(id.value(), v.clone().into())),
            None => updater.remove(&id.value()),
        }
    }
    updater.changes()
}

/// Validates every credential a staged commit introduces (Adds, update path, Update
/// proposals, external senders) and checks that an update path keeps the committer's
/// identity.
pub(crate) fn validate_staged(
    staged: &StagedCommit,
    committer_before: Option<&(Credential, Vec<u8>)>,
    trust: &TrustStore,
    now: u64,
) -> Result<(), MlsError> {
    // Adds: the credential together with the key it certifies.
    for p in staged.queued_proposals() {
        match p.proposal() {
            Proposal::Add(a) => {
                validate_leaf(a.key_package().leaf_node(), trust, now, "client")?;
            }
            Proposal::Update(u) => {
                validate_leaf(u.leaf_node(), trust, now, "client")?;
            }
            Proposal::GroupContextExtensions(_) => {
                return Err(MlsError::Unexpected(
                    "GroupContextExtensions proposals are not allowed in MIMI rooms".into(),
                ));
            }
            _ => {}
        }
    }
    if let Some(leaf) = staged.update_path_leaf_node() {
        // A member keeping its credential and key was validated when it joined (expiry of
        // members is the provider's sweep, not every commit's): skip the chain check.
        let unchanged = committer_before.is_some_and(|(c, k)| {
            c == leaf.credential() && k.as_slice() == leaf.signature_key().as_slice()
        });
        if unchanged {
            return check_credential_types(staged);
        }
        validate_leaf(leaf, trust, now, "client")?;
        if let Some((before, _)) = committer_before {
            let old = member_of_credential(before)?;
            let new = member_of_credential(leaf.credential())?;
            if old != new {
                return Err(CredentialError::IdentityChanged {
                    old: old.client.to_string(),
                    new: new.client.to_string(),
                }
                .into());
            }
        }
    }
    check_credential_types(staged)
}

/// Anything else openmls lists (future proposal kinds) must at least be X.509.
fn check_credential_types(staged: &StagedCommit) -> Result<(), MlsError> {
    for c in staged.credentials_to_verify() {
        x509_of(c)?;
    }
    Ok(())
}

/// Validates a leaf's credential against its signature key; it must be a client credential.
pub(crate) fn validate_leaf(
    leaf: &LeafNode,
    trust: &TrustStore,
    now: u64,
    expected: &'static str,
) -> Result<VerifiedIdentity, MlsError> {
    Ok(validate_leaf_facts(leaf, trust, now, expected)?.identity)
}

/// [`validate_leaf`], also returning the validity period read in the same parse.
pub(crate) fn validate_leaf_facts(
    leaf: &LeafNode,
    trust: &TrustStore,
    now: u64,
    expected: &'static str,
) -> Result<LeafFacts, MlsError> {
    let facts = trust.validate_leaf(
        &x509_of(leaf.credential())?,
        leaf.signature_key().as_slice(),
        now,
    )?;
    match (&facts.identity, expected) {
        (VerifiedIdentity::Client { .. }, "client") => Ok(facts),
        _ => Err(CredentialError::WrongKind { expected }.into()),
    }
}
