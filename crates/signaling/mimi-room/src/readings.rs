//! How mimi-room reads the drafts where they are defective or silent (digest §3.3, §4, §7.1,
//! §7.3). Every choice here is deliberate; change it here and in the code together.
//!
//! # Encodings (TLS presentation language, MLS varint vector lengths)
//!
//! * `role_index` stays `uint32` (open issue #140 would make it `uint16`).
//! * `ParticipantListUpdate` lacks a `;` after `changedRoleParticipants<V>`: parsed as evident.
//! * Participant `user` and every text field (`role_name`, `role_description`, metadata strings,
//!   `Bot.name`/`description`, `RichDescription.media_type`/`language_tag`) are UTF-8 without
//!   NUL; user URIs must be canonical MIMI user URIs (what `mimi-types` prints), so that equal
//!   users have equal bytes. Pseudonymous users are not supported in participant lists yet.
//! * `Uri` is UTF-8, empty or carrying a scheme, without whitespace or control characters.
//!   `room_uri`, when set, must be a MIMI room URI and never changes.
//! * `bool` is the room-policy enum `{ false(0), true(1) }`: other bytes are refused.
//! * `Component policy_component_ids<V>` uses the undefined type `Component`: read as
//!   `ComponentID` (uint16).
//! * `Uri parent_room<V>` is a vector of `Uri`: it holds exactly one non-empty URI when
//!   `parent_dependant` is true and is empty otherwise.
//! * `Optionality` is `{ optional(0), required(1), forbidden(2) }` and the selects' `mandatory`
//!   is `required(1)`. Optionality-selected structures (link preview proxy, logging, history,
//!   message expiration) are Rust enums whose discriminant is the Optionality byte; unknown
//!   bytes are refused (closed enum).
//! * `JoinLink` lacks `<V>`: read as `opaque join_link<V>`. `JoinLink JoinLinksData<V>` is a
//!   vector of `JoinLink`.
//! * `optional<MediaType> permitted_media_types<V>` is read as an optional vector.
//! * `unit64` is `uint64`. `WireFormats wire_formats<V>` inside `ExtendedCapabilities` is read as
//!   a vector of `WireFormat` (uint16). The `case extension:` arm of `PendingProposalPolicy`
//!   has no enum value and is not decodable.
//! * `PreAuthRoleEntry.target_role` is a full `Role`, encoded as written; only its `role_index`
//!   counts, and that index must be defined in `roles_list` (whose definition governs
//!   capabilities and constraints). An empty claim set is refused (it would match everyone).
//! * `AssetUploadLocation`, `DownloadPrivacyType`, `PendingProposalPolicy` are closed enums.
//! * `JoinLink.join_link` is opaque in the draft. The links we make hold our
//!   [`crate::components::JoinCodeTerms`] (SHA-256 of the code, the role it grants, expiry,
//!   uses left); other bytes are an opaque link whose bytes are the code's digest. The joiner
//!   presents the code itself in the hub's `groupInfo` request (`joiningCode`) and in the
//!   external commit (a Safe AAD item `join_code_aad`, private-use component 0x8a01), which the
//!   MLS layer hashes into [`crate::CommitSummary::join_code`].
//!
//! # Room state
//!
//! * `participant_list`, `roles_list` and `room_metadata` are required and cannot be removed;
//!   the other policy components are optional and may be removed by whoever may change them.
//!   An absent `base_room_policy` means the default: multi-device, no limits, persistent.
//! * A participant's role must be defined in `roles_list`; nobody is listed with role 0; each
//!   user appears once; `canOpenJoin` appears only on role 0; a role's minimum never exceeds its
//!   maximum; a role has at most one `authorized_role_changes` entry per source role.
//! * A fixed-membership room may not give `canAddParticipant` to any role but 0 and 1.
//! * Sub-rooms are not applicable: mimi-rs has no notion of a room's parent, so it cannot keep
//!   the draft's rule that a `parent_dependant` room's participants are a subset of its
//!   `parent_room`'s. Rather than carry the flag without meaning, a room state with
//!   `parent_dependant = true` is refused wherever a state is checked
//!   ([`crate::RoomState::from_components`] and the result of every commit): at creation by
//!   the creating client and the hub, and in a commit by the committer, the hub and every
//!   receiver. The component itself still decodes (its shape is checked as above).
//! * `chat_history_policy` is the clients' to keep (the hub never sees history): no component
//!   lets a user's own new devices get history and nobody else; `forbidden` lets nobody;
//!   `optional`/`required` let a member whose role is in `roles_that_can_share` hand the last
//!   `max_time_period` seconds (0 = no limit) to its own new devices and to new members, with
//!   `automatically_share` naming one designated sharer (the first eligible member device by
//!   client URI) that answers without its user. The details are mimi-client-core's readings
//!   (`history`, `history_members`).
//! * Components `app_components`, `safe_aad`, `content_media_types` and
//!   `franking_signature_key` are MLS/application plumbing: kept opaque and changed only with
//!   `canChangeMlsOperationalPolicies`. GREASE IDs (0x0A0A … 0x7A7A) in the dictionary are
//!   ignored (kept opaque so the dictionary round-trips) and may not be updated. Any other
//!   component ID is unknown and refused.
//!
//! # Updates
//!
//! * `ParticipantListUpdate` indices refer to the list before that update. Role changes apply
//!   first, then removals (compacting the list, in descending index order), then additions are
//!   appended. Repeated or out-of-range indices are refused. Several updates in one commit apply
//!   in commit order, each against the list the previous one produced.
//! * Role changes to 0 are refused (removal is expressed by `removedIndices`); adding with role 0
//!   is refused.
//! * `JoinLinksUpdate` removes (indices into the current list) then appends.
//! * Every other update replaces the whole component.
//!
//! # Who may do what
//!
//! * The actor is the committer (or the sender of a lone proposal). Proposals committed by
//!   reference are authorized against the committer, because the committer chose to include
//!   them. Two exceptions: a `SelfRemove` is authorized by the leaving user's own
//!   `canRemoveOwnClient`; and a `Remove` proposed by an external sender (the hub acting as
//!   policy enforcer through its clientless role, e.g. taking out a revoked device) is
//!   authorized against that sender when the hub accepts it and when each member receives
//!   it, in the same epoch and state as the commit, so a committer without `canKick` may (and,
//!   since the hub requires every commit of the epoch to include its proposals, must) include
//!   it (`CommitSummary::enforced_removed`).
//! * A client acts for the user its credential names only if the client URI is of the same
//!   provider (and, for `…/d/<user>/<id>` URIs, names that user). A server (external sender)
//!   acts (a) on behalf of users of its own domain for their own actions (join, leave, adding or
//!   removing their own clients), or (b) with the role of a listed user of its own domain whose
//!   role is clientless (`maximum_active_participants_constraint` = 0, such as the hub's
//!   `policy_enforcer`; never role 1), or, without such a user, with the role its credential
//!   claims (`actor_claims`) are preauthorized for (room-policy §8: an external party holds a
//!   capability through the participant list or through preauthorization). A server never acts
//!   for a user of another provider except through (b).
//! * Preauthorization claims of our X.509 credentials (room-policy §4 leaves the claim syntax
//!   open; the draft's own TODO): `ClaimId` is (x509, the DER contents of an OID), the value the
//!   exact octets. A client's credential claims its client URI and its user URI under
//!   id-ce-subjectAltName (`55 1d 11`), the two URI SANs our provider CAs issue, and
//!   `mimi://<provider>` under id-ce-issuerAltName (`55 1d 12`): the provider whose pinned CA
//!   validated it (`Claim::of_x509_client`). So an entry with the issuer claim preauthorizes
//!   every user of one provider, one with a user-URI claim one user. The claims are derived from
//!   the validated identity, never from unvalidated certificate fields.
//! * `mls_operational_policy` (room-policy §7, no prose): of its fields we read
//!   `external_commit_allowed` (false: every external commit is refused, a newcomer's join, a
//!   participant's new device and a member's rejoin alike, and the hub hands out no GroupInfo
//!   for one) and `external_proposal_allowed` (false: proposals by an external sender, the
//!   hub's removals and retractions, are refused, and so is a commit that includes one). An
//!   absent component allows both. `max_kp_lifetime` and `max_credential_lifetime` are
//!   seconds (as MLS lifetimes; the draft names no unit) and 0 sets no limit: a client an
//!   `Add` brings whose KeyPackage lifetime or X.509 credential validity period
//!   (`not_after - not_before`) exceeds them is refused, under the policy before the commit
//!   and under the one it leaves (`lifetimes.rs`); an external joiner brings no KeyPackage and
//!   is held to `max_credential_lifetime` only. The other fields are kept and not acted on, because `mimi-mls` fixes
//!   what they would choose: the mandatory, default and forbidden capabilities (one cipher
//!   suite, the `app_data_dictionary` and `last_resort` extensions, the AppDataUpdate and
//!   SelfRemove proposals and X.509 credentials, `config.rs`), `handshake_formats` (handshakes
//!   are PublicMessages), `app_message_policy` (three past epochs, a sender-ratchet window of
//!   16 out of order and 1,000 ahead, no padding), `pending_proposal_policy` and
//!   `leaf_node_update_time` (members commit pending proposals with a fresh leaf when asked,
//!   `commit_pending`; no timer), `resumption_psk_lifetime` and the sender-nonce key pairs (no
//!   resumption PSKs or sender nonces are used), `max_keypairs`, and the buffering of early
//!   messages (the hub orders every event of a room; what a client keeps is its engine's
//!   choice, not the room's).
//! * Removed (role 0) and banned users whose clients linger may only remove their own clients.
//! * Self role change: only with `canChangeOwnRole`, to the role the first matching
//!   preauthorization entry grants (room-policy §8.1.3). `canChangeUserRole`, `canBan` and
//!   `canUnBan` act on others only, so "admins may demote themselves" is not expressible (open
//!   issue #10, `self_role_changes`); a user who wants a lower role leaves or asks another admin.
//! * Joining (an unlisted user adding itself, normally in an external commit): if a
//!   preauthorization entry matches the actor's credential claims, that entry decides (its role
//!   must hold `canJoinIfPreauthorized` and be the role requested); otherwise a presented join
//!   code must be one of the room's `join_links` and role 0 must hold `canUseJoinCode`;
//!   otherwise role 0 must hold `canOpenJoin`. For codes and open join the requested role must
//!   be among role 0's `from 0` targets. A code with our terms must also name the requested
//!   role, must not have expired where the authorizer is given a time (the hub, by its own
//!   clock; receiving clients have no trusted time and check the rest), and, when its uses are
//!   limited, the joining commit must consume one: replace its `join_links` entry by one with
//!   a use fewer, or remove it at the last use (that one update needs no capability). So the
//!   hub and every member count the uses from the room state alone, durably with the room, and
//!   two joins racing for the last use cannot both win (one commit per epoch).
//! * `join_link_policy` (room-policy §5, no prose beyond the field names) holds the links a
//!   commit adds to `join_links` (not the replacement a joiner's commit makes when it uses a
//!   link up, which keeps the link's own terms): where `multiuser` is false a new link must
//!   allow exactly one use; where `expiration` is not 0 it is the longest lifetime of a new
//!   link in seconds, so the link must expire (`not_after` not 0) and, where the authorizer has
//!   a clock (the hub, and the creating client), no later than `expiration` from now, with
//!   [`crate::JOIN_LINK_CLOCK_SLACK_S`] for the creator's clock. An opaque link is unlimited
//!   and never expires. `on_request` allows at most one persisted link; the `join_link` URI
//!   (where links are requested) is kept and not acted on. The policy that applies is the one
//!   after the commit's own `join_link_policy` update, if it has one.
//! * Attachments (`canUpload…`, `asset_policy`; `crate::assets`): an attachment's kind is the
//!   top-level type of its media type (`image`, `audio`, `video`; any other type, or none, is
//!   an attachment), which picks both the upload capability it needs and `asset_policy`'s size
//!   limit for it. Sizes are those of the stored (encrypted) object, the `size` the message
//!   names; a limit of 0 sets no limit (the draft gives none for "no limit", and a room that
//!   wants no images takes `canUploadImage` from its roles). A media type must be permitted
//!   (`AssetPolicy::permits`). Content the hub cannot see: the sender and every receiver check
//!   it, for new messages, replies and edits; a receiver does not show (or fetch) a refused one.
//! * `message_expiration_policy` (room-policy §7): it governs new timeline messages (text,
//!   Markdown, replies, attachments), content the hub cannot see, so the sending client and
//!   every receiving client apply it (`mimi-client-core expiry.rs`). A message's duration is
//!   its relative expiry, or the seconds from its sending to its absolute expiry: the sender's
//!   clock at the sender, the hub's acceptance time at receivers, which allow 300 s either way
//!   for the clocks. `forbidden`: no expiry; `optional`: an expiry within min..=max, the
//!   default applied by the sender when the user gives none; `required`: as optional, and
//!   every new message expires. A message that breaks it is refused by receivers (not shown),
//!   not clamped. Edits and deletes keep their original's expiry; reactions, unlikes and status
//!   reports are not held to it.
//! * Adding a user directly into role 1 ("banned", a pre-emptive ban, the examples' `(0, [1])`
//!   entries) needs `canBan` rather than `canAddParticipant`.
//! * Adding clients of an already-listed user needs `canAddOwnClient` (own) or
//!   `canAddParticipant` (others). Adding a user authorizes adding its clients in the same
//!   commit; unbanning does not.
//! * Fixed membership (room-policy §5: "participants fixed at creation", 1:1 and group DMs):
//!   the creator lists every participant in the room's initial state (the state the hub starts
//!   its view from), so no participant-list change ever adds anyone, and no role but 0 and 1
//!   may hold `canAddParticipant`. The devices of the listed users still have to get in: the
//!   creator's *establishing* commit, one made while no user but the committer has a client in
//!   the group, may add the clients of every other listed user whose role has clients, without
//!   `canAddParticipant` (their provider hands out their KeyPackages only with their consent,
//!   as for any invite). Once another user has a client in the group, each user adds only its
//!   own devices (`canAddOwnClient`, by KeyPackage or by external commit as a listed
//!   participant's new device). A user who removed all its clients may be brought back the
//!   same way while it has none (again only with its consent: blocking the other user stops
//!   it). Being a room's participant is a matter of users: devices come and go under
//!   `multi_device` and `max_clients`. The
//!   alternative reading (create an open room, invite, then fix membership and strip the
//!   capability) needs two commits, since `roles_list` may not change in a commit that changes
//!   the participant list, and leaves a window in which the room is not fixed. Our
//!   direct-message rooms ([`crate::direct`]) are fixed rooms of two users.
//! * Removing clients without a list change needs `canRemoveOwnClient` (own) or `canKick`
//!   (others). Clients of users removed or banned in the same commit, and lingering clients of
//!   unlisted or banned users, may be removed without a capability; removed and banned users
//!   must have no clients left after the commit.
//! * Metadata: each changed field needs its capability (name, description, avatar, subject,
//!   mood). `roles_list` needs `canChangeRoleDefinitions`; `preauth_list`
//!   `canChangePreauthorizedUserList`; `base_room_policy`, `join_link_policy` and `join_links`
//!   `canChangeRoomMembershipStyle` (join codes' own capabilities are reserved); the other
//!   room-policy components `canChangeOtherPolicyAttribute` and `mls_operational_policy`
//!   `canChangeMlsOperationalPolicies` (both reserved in the registry, used here because nothing
//!   else fits).
//! * Limits (`max_users`, `max_clients`, `multi_device`, per-role min/max participants and
//!   active participants) are violated only by a commit that moves a count past the limit in the
//!   wrong direction; a state already beyond a limit does not freeze the room. "Active" means
//!   the user has at least one client in the group. `max_users` counts non-banned entries.
//!
//! # Content (what the hub cannot see)
//!
//! Content is end-to-end encrypted, so these are checked by the sending client before it
//! queues a message and by every receiving client before it shows one
//! (`mimi-client-core content_policy.rs`), for new messages, replies and edits; a receiver
//! refuses (does not show) what they refuse.
//!
//! * Topics (`canStartTopic`, `canReplyInTopic`; content -08 gives `topicId` no more meaning
//!   than grouping): a new message or reply with a non-empty `topicId` *starts* the topic when
//!   no timeline message the judging client has carries that topic ID, and *replies in* it
//!   otherwise. Edits and deletes keep their original's topic (content rules) and need
//!   neither. Each client judges from what it has: a member who joined after a topic began
//!   judges the first message it sees in it as a start, and two messages starting one topic
//!   at once are a start and a reply in hub order; a role holding one of the two capabilities
//!   but not the other can therefore be judged differently by clients with different pasts
//!   (the presets give both or neither).
//! * Links (`canSendLink`): a message contains a link when one of its `text/…` single parts
//!   (any depth, any disposition) contains a URI of scheme `http`, `https` or `mimi`: the
//!   scheme in any case, `://` and at least one character other than whitespace, where the
//!   scheme does not continue a word ([`crate::contains_link`]). Markdown links and mentions
//!   (`mimi://…/u/…`) are links; bare domains are not; an attachment's URL is an asset, not a
//!   link.
//! * Link previews (`canSendLinkPreview`, `link_preview_policy`): a part with disposition
//!   `preview` is a link preview. It needs the capability, and is refused whatever the role
//!   where `send_link_previews` is `forbidden`. Our clients make and fetch no previews, so
//!   `required`, `automatic_link_previews` and the proxy have nothing to act on;
//!   `autodetect_hyperlinks_in_text` is a rendering choice.
//! * Downloads (`canDownload…`): the kind is the attachment's, as for uploads; the receiving
//!   client refuses to fetch or open an asset of a kind its user's role may not download. The
//!   asset key travels in the message, so only an honest client enforces this.
//! * Download privacy (`asset_policy.download_privacy`,
//!   [`crate::RoomState::may_download_by_proxy`]): our clients fetch an asset one way only:
//!   the device asks its own provider, which serves its own assets and fetches other
//!   providers' (the hub's included) over mutual TLS with `proxyDownload` (the asset's
//!   provider is asked directly, mimi-federation-api defect D28). The asset's server sees the
//!   downloading provider, never the device, which is the protection `hubProxy` gives, so we
//!   read our path as `hubProxy`. It may be used where the room has no asset policy, or where
//!   `hubProxy` is not forbidden and the allowed list is empty (every type not forbidden) or
//!   names it; `default_download_type` is a preference among allowed types and decides
//!   nothing for a client with one path. Where the policy allows only `direct` or `ohttp` (we
//!   build neither: `direct` is NOT RECOMMENDED, and no provider here runs an OHTTP relay or
//!   gateway), the receiving client refuses to fetch rather than take a path the room did not
//!   allow. As with the download capabilities, only an honest client keeps this; the
//!   providers serve members whatever the policy says.
//! * Upload domains (`asset_policy.upload_domains`, [`crate::RoomState::may_host_asset`]):
//!   where the policy lists any, an attachment's URL must have a host (`scheme://host…`, no
//!   user information; a port is ignored) that is a destination of the entry the upload
//!   location picks: the sender's provider's for `localProvider`, the hub's for `hub`, any
//!   entry's for `unspecified`. An empty list allows every host.
//!
//! # Capabilities per server (ours: no draft defines them)
//!
//! * Component `server_policy` (private-use ID 0x8a02, [`crate::components::ServerPolicy`]):
//!   a mode and per-provider entries, each a set of server capabilities: `join` (the
//!   provider's users may be added to the participant list, its clients added or join by
//!   external commit, or get the GroupInfo for one), `keyMaterial` (the hub relays key-material
//!   requests from its users and to it) and `submit` (its clients may send application messages
//!   and commits). An entry says exactly what a provider may do; an unlisted provider may do
//!   nothing in an allow-listed room and everything in a deny-listed one; a room without the
//!   component lets every provider do everything (the Matrix "server ACL" an admin expects).
//!   Entries are sorted by domain (canonical form), each once; unknown capability bits are
//!   refused.
//! * Changing it needs `canChangeRoomMembershipStyle`, like the base policy and join links:
//!   it decides who may come in.
//! * The room's hub (the domain of `room_metadata`'s `room_uri`) keeps every capability: an
//!   entry that restricts it is refused, and it needs no entry in an allow-list.
//! * Denying a provider `join` while its users are in the room is refused: every listed user
//!   but a banned one, and every client in the group, must be of a provider with `join` after
//!   each commit. An admin removes or bans them first or in the same commit, so a deny never
//!   leaves a member the hub would silently stop serving. A listed user of a provider without
//!   `submit` stays a (read-only) member; its clients may still leave.
//! * Checked against the state before the commit: the acting client's provider needs `submit`
//!   (`join` for an external join; none for a commit that only removes the actor's own
//!   clients), a server actor needs `submit`, and every user or client the commit adds needs
//!   `join`; the resulting state is checked as above. [`crate::RoomState::may_send`] also
//!   requires `submit`, so the hub refuses the submit and every receiver the message.
//!
//! # Ending a room (`canDestroyRoom`, `persistent_room`; no draft says how)
//!
//! * room-policy registers `canDestroyRoom` (0x0501) but defines no act that destroys a room.
//!   Ours is component `room_ended` (private-use ID 0x8a03, [`crate::components::RoomEnded`]:
//!   `struct { IdentityUri ended_by; }`), set by an `AppDataUpdate` in a commit, so ending is
//!   end-to-end verifiable like every other policy change: setting it needs `canDestroyRoom`
//!   and `ended_by` must be the committing user (a server as its clientless service user);
//!   it cannot be removed ([`crate::Denied::RoomEndedMismatch`]).
//! * After it nothing is authorized in the room ([`crate::Denied::RoomEnded`], from
//!   [`crate::RoomState::check_not_ended`]): no commit or proposal (`authorize_commit` asks it
//!   first), no application message (`RoomState::may_send`), no join of any kind
//!   (`may_join_new_device`, `may_commit_externally`, `check_join_code`, `may_open_join`,
//!   `may_join_preauthorized`). The sender, the hub and every receiver apply it. The commit
//!   that ends the room is fanned out as any other, so every member learns of it. The hub
//!   keeps the room's record as a tombstone: the id is never taken again, and the hub refuses
//!   every update, submit, GroupInfo and key-material request and lists the room in no
//!   directory (`mimi_ds::hub::HubRoom::check_open`).
//! * `persistent_room` ("the room survives an empty MLS group"): an MLS group never empties by
//!   a commit (a committer cannot remove itself), so we read "the group empties" as **every
//!   client in the group is leaving**: each one's removal is proposed in the current epoch
//!   (its own leave, or another's Remove), so nobody is left to commit
//!   ([`crate::RoomState::emptied`]). A non-persistent room is then ended by its hub, the same
//!   way as above but without a marker (no member is left to learn of it):
//!   [`crate::Denied::RoomEmptied`]. A persistent room stays at the hub with its pending
//!   leaves: a participant's new device, a join link or open join can still bring a client in
//!   by external commit, which commits the pending leaves. Creating a new MLS group for the
//!   same room (the draft's "an authorized client can create a new group for it") is not
//!   built: the hub refuses a room id it holds, as for every creation.
//!
//! # Hub retraction of abusive messages (hub-retracted-messages-00)
//!
//! * We follow the published -00: `HubRetractedMessagesComponent` and
//!   `HubRetractedRangeComponent` carry no signature of their own (the digest's
//!   `HubRetractedComponentTBS` / `HubRetractedRangeComponentTBS` labels come from an earlier
//!   editor's copy that had one); the AppEphemeral proposal's MLS signature by the external
//!   sender is "the proposal signature" members verify.
//! * The proposer acts as a user as for commits: a server as its clientless service user on its
//!   own domain. That user must hold `canDeleteOtherMessage`, or `canDeleteOtherReaction` when
//!   every retracted message the member has is a reaction (a member judges only the messages it
//!   has; one it lacks is nothing to hide); a range needs `canDeleteOtherMessage`. The
//!   retraction must name that user as `remover_uri`. The presets' `policy_enforcer` role holds
//!   both capabilities.
//! * Timestamps are milliseconds since the UNIX epoch (as every MIMI timestamp); a range's
//!   `starting_timestamp` is compared with the hub's acceptance time of each message,
//!   inclusive. Both URIs are user URIs in canonical form; a by-ID list names at least one
//!   message and none twice (decoders refuse otherwise).
//!
//! # Bots and logging clients (room-policy `bot_policy`, `logging_policy`)
//!
//! The drafts say what a room allows (`allowed_bots`, `logging_clients`) but not how anyone
//! knows that a client is a bot or logs. Our reading:
//!
//! * **The marker is the provider's word, in the credential.** A client's X.509 certificate may
//!   carry a non-critical private extension (`mimi_mls::client_kind`, DER
//!   `SEQUENCE { kind ENUMERATED { bot(1), logger(2) }, name UTF8String, homepage IA5String }`)
//!   saying the client is a bot, with the name and homepage `Bot` entries list, or a logging
//!   client; without it the client is a person's device ([`crate::ClientKind`]). Only the
//!   issuing provider can set it and every party that validates the credential reads it (the
//!   hub, every member, the committer), so they all judge alike. A provider that hides a bot
//!   or logger by leaving the marker out is not caught by this: the marker binds the honest
//!   provider and its users, as the rest of the credential does.
//! * **Logging.** Without `logging_policy` a logging client is any client. `forbidden`: no
//!   logging client may be a member (an add or a self-join is refused,
//!   [`crate::Denied::LoggingForbidden`]). `optional` and `required`: a logging client must be
//!   listed in `logging_clients`, by its client URI or by its user URI (then every logging
//!   client of that user), compared octet for octet ([`crate::Denied::LoggerNotListed`]).
//!   `required`: nothing may be sent until a listed logging client is a member
//!   ([`crate::RoomState::check_required_logger`], part of `may_send`: the sender refuses, the
//!   hub refuses the submit, receivers refuse the message), so no message goes unlogged; the
//!   policy itself may be set before the logger joins. The policy URIs are shown, not acted on.
//! * **Bots.** Without `bot_policy` a bot is any client. With it (an empty list included) a
//!   bot needs the `allowed_bots` entry whose `name` and `homepage` equal its marker's, octet
//!   for octet ([`crate::Denied::BotNotAllowed`]). A bot of an entry with `local_client_bot`
//!   false is a participant of its own: its user must hold `bot_role_index`
//!   ([`crate::Denied::BotRole`]; the adder lists it with that role,
//!   [`crate::RoomState::bot_role`]). With `local_client_bot` true the bot runs as a client of a
//!   user who is a participant anyway (a helper on that user's account) and acts with that
//!   user's role; `bot_role_index` does not apply. `description`,
//!   `can_target_message_in_group` and `per_user_content` are shown, not acted on (mimi-rs has
//!   no targeted or per-user messages).
//! * **Checked on every commit, for every bot and logging client of the next group**, not only
//!   the added ones: a commit cannot tighten either policy, or change a bot user's role, under a
//!   member that would then break it, unless the same commit removes that member.
//!
//! # Not decided here
//!
//! These rules of digest §3.3 and room-policy need MLS or the delivery service and are left to
//! `mimi-mls` and `mimi-ds`: commits must include the proposals the hub cached for the epoch;
//! no GroupContextExtensions proposal may touch `app_data_dictionary`; AppDataUpdate ordering
//! relative to the RFC 9420 proposals; one fixed-membership room per participant set is ours
//! to keep at each hub: such a room must carry the id its users give (`direct::fixed_room_id`,
//! checked by `RoomState::check_fixed_room_id` when the hub creates a room), so the hub's
//! refusal of an existing room id leaves one per set of users; the GroupInfo a committer must
//! provide; pseudonymous participants (`pseudonyms_allowed`).
//!
//! # `canReceiveMessage` below the provider (decided: ours, on the wire)
//!
//! Fan-out goes to a provider, not a device (digest §3.5), and a follower never holds the room
//! state in the clear: the GroupInfo of a Welcome and of a `groupInfo` answer is encrypted to
//! the joining client, and a commit carries only changes (a participant-list update names
//! users by their index in the list before it). So the hub decides per device and tells the
//! follower: it withholds an application message from the providers none of whose member users
//! may receive it (mimi-ds `hub.rs domains_of`), and names, with the message it sends any other
//! member provider, that provider's member devices whose users may not receive it, by the room
//! state at the point of hub order where it accepted the message (a `notify` request header,
//! reading D32 in mimi-federation-api `defects.rs`; the hub does not batch messages naming
//! different devices, so a role change between them is honoured). The follower hands the
//! message to its other member devices only and stores nothing of it for the named ones;
//! commits, proposals and Welcomes still reach every member device, which needs them to stay
//! in the group. Devices rather than users: the hub knows each member client's user from its
//! credential, the follower need not. The hub's own provider takes the same path. A follower
//! that ignores the header (another implementation, or one that misbehaves) can only hand its
//! own users what the hub sent it, and a member device holds the epoch's keys whatever its role:
//! withholding fan-out is the lever, not secrecy from members. Not chosen: serving member
//! providers the room's policy state so that followers filter by `RoomState::may_receive`
//! themselves (a new route, and a follower would have to match the state to hub order).
