//! Our reading of every defect and silence of draft-ietf-mimi-protocol-06 that touches the
//! wire (digest §2.3, §2.5, §7.3). **This is the one place where they are written down.**
//!
//! Where a reading is a switch, it is a constant below that the codecs branch on, so changing the
//! reading is a one-line change here (the golden vectors under `testing/vectors/federation/`
//! will then fail and must be regenerated on purpose).
//!
//! | # | Where | Defect in the draft | Our reading |
//! |---|---|---|---|
//! | D1 | `HandshakeBundle` | `select` not closed, `moreProposals` arm lacks `};` | parse as evident: commit → `optional<Welcome>`, `GroupInfoOption`, `RatchetTreeOption`; proposal → `MLSMessage moreProposals<V>` |
//! | D2 | `UpdateRequest` | `select (room.protocol)`: no protocol on the wire | no `Protocol` byte, implicitly mls10 ([`UPDATE_REQUEST_HAS_PROTOCOL`]); interoperates with Haven |
//! | D3 | `UpdateRoomResponse` | `string errorDescription`: `string` undefined | `opaque<V>` holding UTF-8, at most [`crate::limits::MAX_TEXT_LEN`] |
//! | D4 | `ClientKeyMaterial` | selects on `protocol`, a field of the enclosing response | the enclosing `KeyMaterialResponse.protocol` |
//! | D5 | `KeyMaterial*Code` | `;` instead of `,` in the enums | cosmetic; values as written |
//! | D6 | `SubmitMessageRequest` | `IdentifierURI` | = `IdentifierUri` |
//! | D7 | `SubmitMessageResponse` | `case success` but the value is `accepted(0)`; `optional Frank frank` | value 0 (named `accepted`); `optional<Frank>` (presence byte) |
//! | D8 | `FanoutMessage` | selects on an absent `protocol`; mixes wire formats and content types | no `Protocol` byte ([`FANOUT_HAS_PROTOCOL`]); Welcome wire format → `RatchetTreeOption`; otherwise the cleartext `content_type` of the PublicMessage/PrivateMessage decides: application → `optional<Frank>`, proposal → `moreProposals<V>`, commit → `externalProposals<V>`. A PublicMessage with application content, a PrivateMessage handshake, a bare GroupInfo or KeyPackage are refused |
//! | D9 | `GroupInfoRequest(TBS)` | `joiningCode` is `optional` in the TBS, not in the request | `optional<opaque<V>>` in both, so the TBS is the request minus its signature ([`JOINING_CODE_IS_OPTIONAL`]) |
//! | D10 | `GroupInfoResponse(TBS)` | first field named `version`, select says `protocol`; `default: struct{}` | the field is the `Protocol`; non-success responses carry nothing after `status` |
//! | D11 | `GroupInfoResponse` | `opaque room_id<V>` unlike other URIs | same encoding as `IdentifierUri` (UTF-8 text) |
//! | D12 | `ConsentEntry` | `optional<RoomId>`: `RoomId` undefined | `optional<IdentifierUri>` |
//! | D13 | `QueryElement` | `select(type)` but the field is `searchType` | select on `searchType` |
//! | D14 | `RatchetTreeOption` | enum `httpsUri(2)` but `case httpsUrl` | one value, 2; the URL is UTF-8 text |
//! | D15 | `AbuseType` | only `reserved(0)` is defined | an *open* code point ([`crate::report_abuse::AbuseType`]): every value is accepted, 0 means "unspecified"; otherwise no report could be sent |
//! | D16 | `KeyMaterialRequest.roomId` | always present, yet "when done in the context of a room" | an empty URI means "not for a room" ([`crate::common::IdentifierUri::empty`]) |
//! | D17 | opaque text fields | `searchValue`, `claimName`, `propertyName`, `fieldName`, `note` are `opaque` | UTF-8 required (the draft calls them strings); `fieldValue` and `message_content` stay bytes |
//! | D18 | `PendingProposal`, `GroupInfoRatchetTreeTBE` | the TBE's `GroupInfo` is "without embedded ratchet_tree" | bare `GroupInfo` struct (not wrapped in MLSMessage), same for `optional<Welcome>` and `GroupInfoOption.full` |
//! | D19 | `HandshakeBundle.proposalOrCommit`, `moreProposals` | "PublicMessage or SemiPrivateMessage" | PublicMessage only until SemiPrivateMessage gets a wire format code point: an unknown wire format cannot be delimited and is refused |
//! | D20 | `AcceptableCiphersuites` | nothing says non-empty | refused when empty (a request nobody can answer) |
//! | D21 | path parameters | `{roomId}` written scheme-less in flows, `/r/` dropped in the groupInfo flow, full URI percent-encoded by Haven; consent uses `{targetDomain}` (text) vs `{targetUser}` (directory) | accept the percent-encoded full URI, the raw full URI, `authority/path`, and `authority/<id>` as a room ([`ACCEPT_ROOM_WITHOUT_KIND`]); emit the percent-encoded full URI; consent paths take a user URI or a bare domain and we emit the user URI ([`crate::path`]) |
//! | D22 | directory example | `"update{roomId}"` lacks `/`; `"proxyDownload"` lacks `:` | a placeholder glued to a word gets a `/` inserted; a known key followed directly by a string gets its `:` back ([`crate::directory`]) |
//! | D23 | HTTP status codes | only notify (201), consent (201/404/5xx) and abuse report are specified; "201 Accepted" | protocol answers travel with **200** and their body code; notify, consent and abuse report answer **201**; a sender accepts any 2xx ([`crate::http`]) |
//! | D24 | Content-Type | none defined for TLS-PL bodies | send `application/octet-stream`, accept any ([`mimi_types::codepoints::media_type::MIMI_TLS_BODY`]) |
//! | D25 | `KeyMaterialResponse` | success/partialSuccess semantics | only the MUST is enforced: `clients` is empty for every user code other than success, partialSuccess and noCompatibleMaterial |
//! | D26 | last-resort KeyPackages, unknown MLS variants | the MLS objects are opaque here | structure-checked only; an unknown proposal, credential, sender or wire format type is refused because its end cannot be found |
//! | D27 | ephemeral messages (typing) | left open (digest §3.4 ISSUE) | an extension route [`EPHEMERAL_PATH`] outside the directory, behind the same mutual TLS: the body is a `SubmitMessageRequest` whose PrivateMessage is ephemeral (a typing indicator). A follower forwards its device's to the hub; the hub checks it like a `submitMessage` (sender's domain, participant allowed to send, current epoch) but neither stores, orders nor queues it, and relays it best-effort to every member domain, which hands it only to its devices' live event streams. Answered [`ACCEPTED_STATUS`]; a refusal is 403 |
//! | D28 | `proxyDownload` | "downloading provider → hub"; the hub fetches from the asset server; the request names no room | the downloading provider asks the **asset's provider** directly (only a pinned peer, never an arbitrary host); the asset URL names the provider, blob and room (`https://<provider>/v1/blobs/<id>?room=<room>`), and the asset's provider serves only its own assets bound to that room, to a peer with a participant in it (`mimi_ds::assets` in mimi-ds) |
//! | D29 | `identifierQuery` | `handle` is "the whole handle URI"; nothing on minimum lengths, result counts, or which status a misdirected query gets | a bare handle or `im:<handle>@<domain>`; substring searches need 3 characters and more than 20 matches answer `ambiguous`; a path naming another domain is HTTP 421 (`mimi_ds::discovery` in mimi-ds) |
//! | D30 | hub retraction (draft-mahy-mimi-hub-retracted-messages-00) | the digest (§5.9) names `HubRetractedComponentTBS`/`HubRetractedRangeComponentTBS` signature labels from an earlier editor's copy; -00 has no inner signature. AppEphemeral proposals are to be committed, but openmls 0.9.2 refuses external AppEphemeral proposals and requires every member's capabilities to list the type | the -00 structs (no inner `signature`): the proposal's MLS signature by the external sender is what members verify. The hub fans the proposal out like any proposal (`FanoutContent::Proposal`); members verify it themselves (this group, this epoch, an index into `external_senders`, `FramedContentTBS` signature; `mimi-mls`), authorize it (`mimi_room::authorize_hub_retraction`) and apply it on receipt; it is never committed and no commit has to include it, so "a single Commit MUST NOT contain two ranges for one sender" cannot arise. Timestamps are milliseconds; a range's `starting_timestamp` is compared with the hub's acceptance times |
//! | D31 | capabilities per server (no draft) | the drafts give providers no standing of their own in a room: which providers may take part, and whether the hub relays key material, submits and joins for them, is not expressible (federation is only the peer table) | our room component `server_policy` (private-use 0x8a02, `mimi_room::components::ServerPolicy`; rules in `mimi_room::readings`): an allow- or deny-list of providers with `join`, `keyMaterial` and `submit`. The hub answers a `keyMaterial` request it may not relay, and one whose requester's provider may not ask, with 403 (`mimi_ds::RequestError::ServerNotAllowed`, no claim made); a `groupInfo` request of a user whose provider lacks `join` with `notAuthorized`; a submit with `notAllowed`; a commit with `notAllowed`, and every member refuses the same commit |
//! | D32 | `canReceiveMessage` per device (no draft) | room-policy §3 lets a role not receive messages, but fan-out goes to a provider, not a device (digest §3.5), and a follower never holds the room state in the clear, so a provider with users of both kinds can only hand a message to all of them | our `notify` request header [`crate::withheld::WITHHELD_HEADER`]: the follower's member devices whose users may not receive the body's application messages (the room state when the hub accepted them). Sent only when not empty, on bodies whose application messages share the list; the follower hands those messages to its other member devices only and stores nothing for the named ones. Other implementations ignore the header (their users get what the provider gets). A malformed value or one naming another provider's device is refused (400) |
//! | D33 | ending a room (no draft) | room-policy registers `canDestroyRoom` and defines `persistent_room` ("the room survives an empty MLS group") but no act that ends a room, no way an MLS group empties (a committer cannot remove itself), and nothing the hub answers afterwards | our room component `room_ended` (private-use 0x8a03, `mimi_room::components::RoomEnded`; rules in `mimi_room::readings`), set by a holder of `canDestroyRoom` in a commit every member receives; afterwards the hub answers every `update` and `submitMessage` with `notAllowed` and every `groupInfo` with `notAuthorized`, and keeps the room's record so the id is never reused. A room that is not persistent ends the same way at its hub once every client in its group is leaving (`mimi_ds::hub::HubRoom::check_open`) |

/// D2: whether `UpdateRequest` starts with a `Protocol` byte. The draft selects on
/// `room.protocol`, which is not on the wire; Haven sends none. We send none.
pub const UPDATE_REQUEST_HAS_PROTOCOL: bool = false;

/// D8: whether a `FanoutMessage` carries a `Protocol` byte after its timestamp. The struct has
/// no such field; we send none.
pub const FANOUT_HAS_PROTOCOL: bool = false;

/// D9: whether `joiningCode` is `optional<opaque<V>>` (true) or a plain, possibly empty,
/// `opaque<V>` (false), in both the `GroupInfoRequest` and its TBS.
pub const JOINING_CODE_IS_OPTIONAL: bool = true;

/// D21: whether a scheme-less room parameter without its `r` segment (`a.example/clubhouse`, as
/// in the draft's groupInfo flow) is read as `mimi://a.example/r/clubhouse`.
pub const ACCEPT_ROOM_WITHOUT_KIND: bool = true;

/// D23: the HTTP status of a protocol answer that carries a body code (keyMaterial, update,
/// submitMessage, groupInfo, identifierQuery).
pub const PROTOCOL_ANSWER_STATUS: u16 = 200;

/// D23: the HTTP status of a body-less acceptance (notify, consent, abuse report), which the
/// draft calls "201 Accepted".
pub const ACCEPTED_STATUS: u16 = 201;

/// D27: the nominal path of our ephemeral-message extension route (typing indicators);
/// `{roomId}` is the percent-encoded room URI, as for `submitMessage`.
pub const EPHEMERAL_PATH: &str = "/ephemeral/{roomId}";
