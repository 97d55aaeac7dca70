//! A user who is not yet a participant joins a room by external commit: preauthorized by the
//! claims of its credential (`canJoinIfPreauthorized`, the entry's role), with a join code
//! (`canUseJoinCode`, the code's role) or by open join (`canOpenJoin`, the first role that
//! role 0 may hand out). The commit adds the user to the participant list and, for a
//! limited-use code, consumes one use of it; the code itself rides in the commit's Safe AAD
//! (`join_code_aad`) so that the hub and every member check it.

use openmls::prelude::AppDataUpdateProposal;
use openmls::prelude::group_info::VerifiableGroupInfo;

use mimi_room::RoomState;
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_types::codepoints::ComponentId;

use crate::error::MlsError;
use crate::inspect::components_of;
use crate::join_code::{join_code_aad, join_code_digest};
use crate::summary::{Actor, CommitSummary, ComponentChange, ComponentOp, MemberChange};

/// What a newcomer's external commit adds beyond an ordinary one.
pub(super) struct NewcomerJoin {
    /// The AppDataUpdate proposals (participant list, join-link consumption), in order.
    pub(super) changes: Vec<ComponentChange>,
    /// The commit's `authenticated_data` (the code's Safe AAD), empty for an open join.
    pub(super) aad: Vec<u8>,
    /// The digest of the presented code.
    pub(super) code_digest: Option<Vec<u8>>,
}

impl NewcomerJoin {
    /// Plans the join of `me` into the room the GroupInfo describes, with `code` or by open
    /// join: `None` when the user is already a participant (then this is a new device's
    /// ordinary join, and a code is not needed). Fails with the room policy's reason when the
    /// room lets the user in neither way.
    pub(super) fn plan(
        vgi: &VerifiableGroupInfo,
        me: &MemberChange,
        code: Option<&[u8]>,
        now: u64,
    ) -> Result<Option<Self>, MlsError> {
        let room = RoomState::from_components(components_of(vgi.group_context().extensions()))?;
        if room.participants().index_of(&me.user).is_some() {
            return Ok(None);
        }
        let mut changes = Vec::new();
        let claims = mimi_room::components::Claim::of_x509_client(&me.client, &me.user);
        let preauthorized = room.preauth().and_then(|p| p.first_match(&claims));
        let (role, aad, code_digest) = match code {
            // A matching preauthorization entry decides, code or not (room-policy §8.1).
            _ if preauthorized.is_some() => {
                (room.may_join_preauthorized(&claims)?, Vec::new(), None)
            }
            Some(code) => {
                let digest = join_code_digest(code);
                let link = room.check_join_code(&digest, Some(now))?;
                let role = match &link.terms {
                    Some(terms) => terms.role_index,
                    None => role_for(&room, me)?,
                };
                (role, join_code_aad(code)?, Some((digest, link)))
            }
            None => {
                room.may_open_join(&me.user)?;
                (role_for(&room, me)?, Vec::new(), None)
            }
        };
        let add = ParticipantListUpdate {
            added_participants: vec![UserRolePair::new(me.user.clone(), role)],
            ..Default::default()
        };
        changes.push(ComponentChange::update(
            ComponentId::PARTICIPANT_LIST,
            add.encode(),
        ));
        if let Some(consume) = code_digest.as_ref().and_then(|(_, l)| l.consumption()) {
            changes.push(ComponentChange::update(
                ComponentId::JOIN_LINKS,
                consume.encode(),
            ));
        }
        Ok(Some(Self {
            changes,
            aad,
            code_digest: code_digest.map(|(d, _)| d),
        }))
    }

    /// The openmls proposals of the changes.
    pub(super) fn proposals(&self) -> Vec<AppDataUpdateProposal> {
        self.changes
            .iter()
            .map(|c| match &c.op {
                ComponentOp::Update(b) => {
                    AppDataUpdateProposal::update(c.component.value(), b.clone())
                }
                ComponentOp::Remove => AppDataUpdateProposal::remove(c.component.value()),
            })
            .collect()
    }

    /// The summary of the join for `me`.
    pub(super) fn summary(&self, me: &MemberChange) -> CommitSummary {
        let mut summary = CommitSummary::new(Actor::Client {
            client: me.client.clone(),
            user: me.user.clone(),
        });
        summary.external_join = true;
        summary.added.push(me.clone());
        summary.component_changes = self.changes.clone();
        summary.join_code = self.code_digest.clone();
        crate::summary::fill_claims(&mut summary);
        summary
    }
}

/// The role a newcomer asks for without a role given: an allowed bot's `bot_role_index`
/// (`RoomState::bot_role`), else the first role role 0 may hand out.
fn role_for(room: &RoomState, me: &MemberChange) -> Result<RoleIndex, MlsError> {
    match room.bot_role(&me.kind) {
        Some(role) => Ok(role),
        None => first_open_role(room),
    }
}

/// The first role other than 0 and 1 that role 0 may hand out (its `from 0` entry).
fn first_open_role(room: &RoomState) -> Result<RoleIndex, MlsError> {
    room.roles()
        .role(RoleIndex::NO_ROLE)
        .and_then(|r| {
            r.authorized_role_changes
                .iter()
                .find(|e| e.from_role_index == RoleIndex::NO_ROLE)
                .and_then(|e| {
                    e.target_role_indexes
                        .iter()
                        .copied()
                        .find(|t| *t != RoleIndex::NO_ROLE && *t != RoleIndex::BANNED)
                })
        })
        .ok_or_else(|| {
            MlsError::Unexpected(
                "role 0 of this room hands out no role (its `from 0` entry names none): the room takes no newcomers by link or open join".into(),
            )
        })
}
