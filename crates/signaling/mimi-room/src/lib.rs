//! Room state and room policy for MIMI rooms (digest §3.3, §4): the participant list, room
//! metadata, roles and the 77 capabilities, preauthorization, the base room policy and the other
//! policy components, and a pure authorizer for commits.
//!
//! * [`components`]: every room-state component with its TLS presentation-language codec
//!   (strict decoders).
//! * [`Capability`]: the "MIMI Role Capabilities" registry.
//! * [`RoomState`]: the decoded components of an epoch plus the MLS membership.
//! * [`authorize_commit`]: given an MLS-free [`CommitSummary`], returns the
//!   [`StagedRoomState`] of the next epoch or the [`Denied`] rule broken.
//! * [`presets`]: the four example role sets of room-policy Appendix A, ready for room creation.
//! * [`view`]: what a client UI needs (who may send, edit, delete; members with roles).
//! * [`readings`]: how this crate reads the places where the drafts are defective or silent.
//! * The capability table: `CAPABILITIES.md` (beside this crate's `Cargo.toml`): for each
//!   capability and policy component, where it is enforced, by whom, and the test; or why not.
//!
//! This crate knows nothing of MLS: `mimi-mls` summarises a staged commit and asks here.
//!
//! # Integrating (hub and clients alike)
//!
//! 1. Build the epoch's state with [`RoomState::from_components`] from the GroupContext's
//!    `app_data_dictionary`, then **always** call [`RoomState::with_members`] with every client in
//!    the MLS group and the user its credential names: the client rules (blocked users, limits,
//!    kicks, "removed users keep no clients") need it, and a state without members treats every
//!    committer as a non-member.
//! 2. For each commit (or lone proposal) fill a [`CommitSummary`]: the actor, `external_join`,
//!    the `AppDataUpdate`s in commit order, Add/Remove/SelfRemove members, and where known the
//!    actor's credential claims (`actor_claims`, for preauthorization) and presented join code.
//! 3. [`authorize_commit`] returns a [`StagedRoomState`]; merge it together with the MLS commit
//!    (its `components()` are the next `app_data_dictionary`), or drop both on refusal. Map
//!    [`Denied`] to `notAllowed` (or `invalidProposal` for the malformed-update variants).
//! 4. For application messages: [`RoomState::authorize_message`] on submit, and
//!    [`RoomState::may_receive`] per user before fan-out (mimi-ds fans application messages
//!    out only to providers with a member who may receive them).
//!
//! ```
//! use mimi_room::presets::{Preset, RoomCreation};
//! use mimi_room::{Actor, CommitSummary, ComponentChange, MemberChange, authorize_commit};
//! use mimi_room::components::{Component, ParticipantListUpdate, RoleIndex, UserRolePair};
//! use mimi_types::codepoints::ComponentId;
//!
//! let alice: mimi_types::UserUri = "mimi://a.example/u/alice".parse()?;
//! let phone: mimi_types::ClientUri = "mimi://a.example/d/alice/phone".parse()?;
//! let bob: mimi_types::UserUri = "mimi://b.example/u/bob".parse()?;
//! let bob_laptop: mimi_types::ClientUri = "mimi://b.example/d/bob/laptop".parse()?;
//! let room = "mimi://hub.example/r/clubhouse".parse()?;
//!
//! let creation = RoomCreation::new(Preset::Cooperative, room, alice.clone());
//! let state = creation.initial_state()?
//!     .with_members([MemberChange::new(phone.clone(), alice.clone())])?;
//!
//! // Alice adds Bob as an ordinary user, with his laptop.
//! let add = ParticipantListUpdate {
//!     added_participants: vec![UserRolePair::new(bob.clone(), RoleIndex(2))],
//!     ..Default::default()
//! };
//! let mut commit = CommitSummary::new(Actor::Client { client: phone, user: alice });
//! commit.component_changes.push(ComponentChange::update(ComponentId::PARTICIPANT_LIST, add.encode()));
//! commit.added.push(MemberChange::new(bob_laptop, bob.clone()));
//! let next = authorize_commit(&state, &commit)?.into_state();
//! assert_eq!(next.role_of(&bob), RoleIndex(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod agents;
mod apply;
mod assets;
mod authorize;
mod capability;
mod codec;
pub mod components;
mod content_rules;
mod denied;
pub mod direct;
mod lifetimes;
mod limits;
pub mod presets;
pub mod readings;
mod retraction;
mod servers;
mod state;
mod summary;
pub mod view;

pub use apply::{JOIN_LINK_CLOCK_SLACK_S, check_link_policy};
pub use assets::{AssetKind, PROVIDER_DOWNLOAD, asset_host, media_type_of};
pub use authorize::authorize_commit;
pub use capability::Capability;
pub use codec::DecodeError;
pub use content_rules::{LINK_SCHEMES, TopicAct, contains_link};
pub use denied::Denied;
pub use retraction::authorize_hub_retraction;
pub use state::RoomState;
pub use summary::{
    Actor, AddedLifetimes, ClientKind, CommitSummary, ComponentChange, ComponentOp, MemberChange,
    ParticipantAction, StagedRoomState,
};
