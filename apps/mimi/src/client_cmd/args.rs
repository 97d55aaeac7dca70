//! The command-line shape of the client commands.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// Options every client command takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Common {
    /// The profile directory holding this user's device files (default: $MIMI_PROFILE, else
    /// $XDG_DATA_HOME/mimi, else ~/.local/share/mimi).
    #[arg(long, value_name = "DIR")]
    pub(crate) profile: Option<PathBuf>,
    /// Which device of the profile, when it holds several (its device id).
    #[arg(long, value_name = "DEVICE_ID")]
    pub(crate) device: Option<String>,
    /// Print JSON (one object per line) for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The client commands, flattened into `mimi`'s subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Register an account or add a device to one.
    Account(AccountArgs),
    /// Add a device to your account on this machine; it joins all your rooms.
    Device(DeviceArgs),
    /// Create rooms, manage members, roles and metadata.
    Room(RoomArgs),
    /// Your profile (handle, display name, what others may search) and finding users.
    User(UserCmdArgs),
    /// Open your direct-message room with a user (a fixed two-person room, one per pair),
    /// creating it if there is none, and send TEXT there if given. A user who has not
    /// consented to you is asked for consent instead; run it again once they accept.
    Dm(DmArgs),
    /// Send a text (or Markdown) message. Exits non-zero, saying why, unless the room's hub
    /// accepted it; a message the hub found too old stays queued on the device ("not sent").
    Send(SendArgs),
    /// Reply to a message.
    Reply(ReplyArgs),
    /// React to a message.
    React(ReactArgs),
    /// Withdraw a reaction (by the ID `mimi react` printed).
    Unreact(UnreactArgs),
    /// Replace the text of your message.
    Edit(EditArgs),
    /// Delete a message.
    Delete(DeleteArgs),
    /// Report abusive messages of another user to the room's hub (its operators review them;
    /// the hub checks each message against the frank it issued).
    Report(ReportArgs),
    /// Send a file as an encrypted attachment.
    SendFile(SendFileArgs),
    /// Download and decrypt a message's attachment.
    Download(DownloadArgs),
    /// Tell a room you are typing (an ephemeral signal: shown live, never stored).
    Typing(TypingArgs),

    /// Consent: who may add you to rooms. See and answer requests, ask others, set your policy.
    Contacts(ContactsArgs),

    /// Show a room's messages with edits, deletes and reactions applied; your own messages
    /// carry `✓` once delivered to every other member and `✓✓` once read by all of them.
    History(RoomOnly),
    /// Mark a room read: send a read receipt for every message of others you have not read
    /// (nothing is sent while read receipts are off, see `mimi settings`).
    Read(RoomOnly),
    /// This device's settings: read receipts and delivery reports.
    Settings(SettingsArgs),
    /// Show what happens in your rooms, live.
    Listen(ListenArgs),
}

/// `mimi account ...`
#[derive(Debug, Args)]
pub(crate) struct AccountArgs {
    #[command(subcommand)]
    pub(crate) command: AccountCommand,
}

/// Account commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Create an account on a provider and register this device.
    Register(Login),
    /// Register a new device of an existing account (log in).
    Login(Login),
    /// Log this device out: it leaves every room (other members' devices commit it; you stay
    /// a participant through your other devices) and the provider revokes its token and
    /// deletes its KeyPackages. Its file stays, readable offline.
    Logout(ReissueArgs),
}

/// `mimi device ...`
#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    #[command(subcommand)]
    pub(crate) command: DeviceCommand,
}

/// Device commands.
#[derive(Debug, Subcommand)]
pub(crate) enum DeviceCommand {
    /// Register a new device of the profile's user (same provider) in the profile and join it
    /// to every room the user's existing device is in, by external commit.
    Add(DeviceAddArgs),
    /// Get a fresh credential for this device from its provider and publish fresh KeyPackages
    /// (for a device file from an older mimi-rs whose credential layout is refused). The old
    /// file is kept beside it; the device's old rooms are listed, to be recreated or re-joined
    /// by invitation.
    Reissue(ReissueArgs),
    /// List your devices (this one marked) with the rooms each is in.
    List(ReissueArgs),
    /// Remove another of your devices (a lost or retired one): it is removed from every room
    /// this device shares with it, its token is revoked and its KeyPackages deleted.
    Remove(DeviceRemoveArgs),
}

/// `device remove`.
#[derive(Debug, Args)]
pub(crate) struct DeviceRemoveArgs {
    /// The device id to remove (see `mimi device list`).
    pub(crate) device_id: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// Just this device (`device reissue`, `device list`, `account logout`).
#[derive(Debug, Args)]
pub(crate) struct ReissueArgs {
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `device add`.
#[derive(Debug, Args)]
pub(crate) struct DeviceAddArgs {
    /// The new device's id.
    #[arg(long = "new-device-id", value_name = "DEVICE_ID")]
    pub(crate) new_device_id: String,
    /// The account's password (else $MIMI_PASSWORD, else read from standard input).
    #[arg(long)]
    pub(crate) password: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// Where and who.
#[derive(Debug, Args)]
pub(crate) struct Login {
    /// The provider's client API URL, e.g. http://127.0.0.1:18080 or https://x.example.
    #[arg(long)]
    pub(crate) server: String,
    /// For an https server whose certificate no public CA issued (e.g. the self-signed
    /// client-tls-cert.pem of `mimi init --client-tls`): that certificate (PEM), trusted
    /// besides the public roots. Remembered in the device's profile.
    #[arg(long = "server-cert", value_name = "FILE.pem")]
    pub(crate) server_cert: Option<PathBuf>,
    /// The user id (the part before @domain).
    #[arg(long)]
    pub(crate) user: String,
    /// The password (else $MIMI_PASSWORD, else read from standard input).
    #[arg(long)]
    pub(crate) password: Option<String>,
    /// This device's id.
    #[arg(long = "device-id", default_value = "cli")]
    pub(crate) device_id: String,
    /// Register this device as a bot of this name (rooms admit it by `room bots`).
    #[arg(
        long,
        value_name = "NAME",
        requires = "homepage",
        conflicts_with = "logger"
    )]
    pub(crate) bot: Option<String>,
    /// The bot's homepage URI (with --bot).
    #[arg(long, value_name = "URI", requires = "bot")]
    pub(crate) homepage: Option<String>,
    /// Register this device as a logging client (rooms that forbid logging refuse it).
    #[arg(long)]
    pub(crate) logger: bool,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `mimi contacts ...`
#[derive(Debug, Args)]
pub(crate) struct ContactsArgs {
    #[command(subcommand)]
    pub(crate) command: ContactsCommand,
}

/// Contacts commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ContactsCommand {
    /// Show your policy, waiting requests, contacts, blocks and your own requests.
    List(ContactsOnly),
    /// Show the consent requests waiting for your answer.
    Requests(ContactsOnly),
    /// Consent to a user adding you to rooms (answers their requests).
    Accept(ContactArgs),
    /// Withdraw all consent from a user and refuse them from now on.
    Block(ContactArgs),
    /// Ask a user for consent to add them to rooms (you consent to them too).
    Request(ContactArgs),
    /// Who else may add you to rooms: anyone, contacts, or providers a.example,b.example;
    /// default: the provider's default.
    Policy(PolicyArgs),
}

/// No argument.
#[derive(Debug, Args)]
pub(crate) struct ContactsOnly {
    #[command(flatten)]
    pub(crate) common: Common,
}

/// A user, and optionally a room.
#[derive(Debug, Args)]
pub(crate) struct ContactArgs {
    /// The user (user@domain).
    pub(crate) user: String,
    /// Only for this room (accept, request); default: any room.
    #[arg(long)]
    pub(crate) room: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `contacts policy`.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// anyone, contacts, providers, or default.
    pub(crate) policy: String,
    /// For `providers`: the providers, comma-separated (a.example,b.example).
    pub(crate) providers: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `mimi room ...`
#[derive(Debug, Args)]
pub(crate) struct RoomArgs {
    #[command(subcommand)]
    pub(crate) command: RoomCommand,
}

/// Room commands. ROOM is a name on your provider (`club`) or a URI (`mimi://x.example/r/club`);
/// USER is `user@domain`, a URI, or a user id on your provider.
#[derive(Debug, Subcommand)]
pub(crate) enum RoomCommand {
    /// Create a room hosted by your provider.
    Create(CreateArgs),
    /// List your rooms.
    List(NoRoom),
    /// Show a room's name, topic, epoch and your capabilities.
    Info(RoomOnly),
    /// Show a room's members with their roles.
    Members(RoomOnly),
    /// Invite users (all their devices).
    Invite(UsersArgs),
    /// Remove (kick) users.
    Remove(UsersArgs),
    /// Ban a user (role `banned`, devices removed).
    Ban(UserArgs),
    /// Change a user's role (by name or index).
    Role(RoleArgs),
    /// Leave a room.
    Leave(RoomOnly),
    /// End a room for everyone, for good (needs canDestroyRoom): nothing more can be sent,
    /// changed or joined there. Asks for confirmation unless --yes.
    Destroy(DestroyArgs),
    /// Join a room by external commit: by a join link (`mimi://x.example/r/club#join=…`), an
    /// open room by its URI, or a room your user is in with this (new) device.
    Join(JoinArgs),
    /// Make, list and revoke a room's join links (room admins).
    Link(LinkArgs),
    /// Ask to be let into a room: refused, the drafts define no knock (see the message).
    Knock(RoomOnly),
    /// Rejoin a room this device fell behind in (a commit it could not process), keeping
    /// its history; `mimi listen` and `mimi sync` do this on their own.
    Rejoin(RoomOnly),
    /// Rename a room.
    Rename(RenameArgs),
    /// Set a room's topic.
    Topic(TopicArgs),
    /// List the discoverable rooms your provider hosts (whose name, topic or URI contains
    /// TEXT); join an open one with `mimi room join ROOM`.
    Directory(DirectoryArgs),
    /// Show a room's policy, or change it with KEY=VALUE settings (one commit): discoverable,
    /// multi-device, persistent, pseudonyms (on|off); max-users, max-clients (N|none);
    /// history (forbidden|optional|required|none) with history-roles (2,3), history-auto,
    /// history-period (seconds); expiration (…|none) with expiration-min, -max, -default;
    /// logging (forbidden|optional|required|none) with logging-clients (client or user URIs);
    /// read-receipts, delivery-reports (…|none); join-links
    /// (persisted|on-request|none), join-link-multiuser, join-link-expiration; max-image,
    /// max-audio, max-video, max-attachment (bytes|none), media-forbidden (types|none),
    /// media-permitted (types|any), upload-location (local-provider|hub|unspecified),
    /// upload-domains (PROVIDER[:HOST+HOST],…|none), downloads (direct,hubProxy,ohttp|any),
    /// assets=none; link-previews (forbidden|optional|required|none); external-commits,
    /// external-proposals (on|off).
    Policy(RoomPolicyArgs),
    /// Show the room's role definitions, or grant and revoke a role's capabilities.
    Roles(RolesArgs),
    /// Preauthorization: who may join (or move themselves) to a role by the claims of their
    /// credential (a provider or a user), without an invite or link.
    Preauth(PreauthArgs),
    /// The bots a room admits (its bot policy), each with the role it gets.
    Bots(super::bots::BotsArgs),
    /// Which providers may take part in a room and what their servers may do (the room's
    /// server access list), and which take part now.
    Servers(ServersArgs),
    /// Agree to share the room's history with USER's devices (where the room's history policy
    /// lets your role share but does not share automatically); requests of theirs that
    /// waited are answered now, later ones whenever this device syncs (any command).
    ShareHistory(UserArgs),
    /// History from other members: `mimi room history request ROOM` asks the members that may
    /// share the room's history for it (done on its own on joining a room that shares
    /// automatically); it arrives when a member's device answers (see `mimi history ROOM`).
    History(RoomHistoryArgs),
}

/// `room history`.
#[derive(Debug, Args)]
pub(crate) struct RoomHistoryArgs {
    #[command(subcommand)]
    pub(crate) command: RoomHistoryCommand,
}

/// History from other members of a room.
#[derive(Debug, Subcommand)]
pub(crate) enum RoomHistoryCommand {
    /// Ask the members that may share the room's history for it.
    Request(RoomOnly),
}

/// `room servers`.
#[derive(Debug, Args)]
pub(crate) struct ServersArgs {
    #[command(subcommand)]
    pub(crate) command: ServersCommand,
}

/// The server access list: a provider's capabilities are `join` (its users may be added or
/// join), `keymaterial` (the hub relays key-material requests from and to it) and `submit` (its
/// devices may send messages and commits).
#[derive(Debug, Subcommand)]
pub(crate) enum ServersCommand {
    /// List the providers taking part and those the access list names, with capabilities.
    List(RoomOnly),
    /// Give a provider capabilities (all unless --only).
    Allow(ServerChangeArgs),
    /// Take capabilities from a provider (all unless --only). A provider whose users are in
    /// the room cannot lose `join`: remove or ban them first.
    Deny(ServerChangeArgs),
    /// How providers without an entry are treated: open (no list), deny-list (they may do
    /// everything), allow-list (they may do nothing; providers taking part are listed).
    Mode(ServerModeArgs),
}

/// `room servers allow|deny`.
#[derive(Debug, Args)]
pub(crate) struct ServerChangeArgs {
    /// The room.
    pub(crate) room: String,
    /// The provider (a domain).
    pub(crate) provider: String,
    /// Only these capabilities (comma-separated: join, keymaterial, submit).
    #[arg(long)]
    pub(crate) only: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room servers mode`.
#[derive(Debug, Args)]
pub(crate) struct ServerModeArgs {
    /// The room.
    pub(crate) room: String,
    /// open, deny-list or allow-list.
    pub(crate) mode: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room directory`.
#[derive(Debug, Args)]
pub(crate) struct DirectoryArgs {
    /// Only rooms whose name, topic or URI contains this text.
    pub(crate) text: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room policy`.
#[derive(Debug, Args)]
pub(crate) struct RoomPolicyArgs {
    /// The room.
    pub(crate) room: String,
    /// KEY=VALUE settings; none: show the policy.
    pub(crate) settings: Vec<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room roles`.
#[derive(Debug, Args)]
pub(crate) struct RolesArgs {
    /// The room.
    pub(crate) room: String,
    /// The role to change (name or index); none: list the roles.
    pub(crate) role: Option<String>,
    /// Capabilities to grant (registry names such as canChangeRoleDefinitions, or numbers).
    #[arg(long)]
    pub(crate) grant: Vec<String>,
    /// Capabilities to revoke.
    #[arg(long)]
    pub(crate) revoke: Vec<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room preauth`.
#[derive(Debug, Args)]
pub(crate) struct PreauthArgs {
    #[command(subcommand)]
    pub(crate) command: PreauthCommand,
}

/// Preauthorization entries (room-policy §4): tried in order, the first whose claims all
/// match the requester's credential decides.
#[derive(Debug, Subcommand)]
pub(crate) enum PreauthCommand {
    /// List the entries.
    List(RoomOnly),
    /// Add an entry for every user of a provider (--provider) or one user (--user).
    Add(PreauthAddArgs),
    /// Remove an entry by its index in `preauth list`.
    Remove(LinkRevokeArgs),
}

/// `room preauth add`.
#[derive(Debug, Args)]
pub(crate) struct PreauthAddArgs {
    /// The room.
    pub(crate) room: String,
    /// The role they get (name or index); it must hold canJoinIfPreauthorized for joins.
    #[arg(long)]
    pub(crate) role: String,
    /// Every user of this provider (a domain).
    #[arg(long, conflicts_with = "user", required_unless_present = "user")]
    pub(crate) provider: Option<String>,
    /// This one user.
    #[arg(long)]
    pub(crate) user: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room join`.
#[derive(Debug, Args)]
pub(crate) struct JoinArgs {
    /// A join link, a room URI, or a room name on your provider.
    pub(crate) link: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room link`.
#[derive(Debug, Args)]
pub(crate) struct LinkArgs {
    #[command(subcommand)]
    pub(crate) command: LinkCommand,
}

/// Join links: a link lets whoever holds it join the room with its role, until it expires,
/// is used up or is revoked. The room keeps only a digest of the code: the link is shown once.
#[derive(Debug, Subcommand)]
pub(crate) enum LinkCommand {
    /// Make a join link.
    Create(LinkCreateArgs),
    /// List the room's join links (role, expiry, uses left; never the codes).
    List(RoomOnly),
    /// Revoke a join link by its index in `link list`.
    Revoke(LinkRevokeArgs),
}

/// `room link create`.
#[derive(Debug, Args)]
pub(crate) struct LinkCreateArgs {
    /// The room.
    pub(crate) room: String,
    /// The role joiners get (name or index).
    #[arg(long, default_value = "ordinary_user")]
    pub(crate) role: String,
    /// Seconds until the link expires (0: never).
    #[arg(long, default_value_t = 7 * 24 * 3600)]
    pub(crate) expires_in: u64,
    /// How many joins the link allows (0: unlimited).
    #[arg(long, default_value_t = 1)]
    pub(crate) uses: u32,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room link revoke`.
#[derive(Debug, Args)]
pub(crate) struct LinkRevokeArgs {
    /// The room.
    pub(crate) room: String,
    /// The link's index (from `room link list`).
    pub(crate) index: usize,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// Just the common options.
#[derive(Debug, Args)]
pub(crate) struct NoRoom {
    #[command(flatten)]
    pub(crate) common: Common,
}

/// A room.
#[derive(Debug, Args)]
pub(crate) struct RoomOnly {
    /// The room.
    pub(crate) room: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room destroy`.
#[derive(Debug, Args)]
pub(crate) struct DestroyArgs {
    /// The room.
    pub(crate) room: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub(crate) yes: bool,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The room name (its URI becomes mimi://<your provider>/r/<name>).
    pub(crate) room: String,
    /// The policy preset: cooperative, strict, moderated, multi-org.
    #[arg(long, default_value = "cooperative")]
    pub(crate) preset: String,
    /// A display name.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Add a capability to one of the preset's roles, ROLE=CAPABILITY (repeatable), e.g.
    /// super_admin=canChangeRoleDefinitions or ordinary_user=canJoinIfPreauthorized.
    #[arg(long, value_name = "ROLE=CAPABILITY")]
    pub(crate) grant: Vec<String>,
    /// List the room in your provider's room directory (`mimi room directory`).
    #[arg(long)]
    pub(crate) discoverable: bool,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// A room and users.
#[derive(Debug, Args)]
pub(crate) struct UsersArgs {
    /// The room.
    pub(crate) room: String,
    /// The users.
    #[arg(required = true)]
    pub(crate) users: Vec<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// A room and a user.
#[derive(Debug, Args)]
pub(crate) struct UserArgs {
    /// The room.
    pub(crate) room: String,
    /// The user.
    pub(crate) user: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room role`.
#[derive(Debug, Args)]
pub(crate) struct RoleArgs {
    /// The room.
    pub(crate) room: String,
    /// The user.
    pub(crate) user: String,
    /// The role name (e.g. group_admin) or index.
    pub(crate) role: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room rename`.
#[derive(Debug, Args)]
pub(crate) struct RenameArgs {
    /// The room.
    pub(crate) room: String,
    /// The new name.
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room topic`.
#[derive(Debug, Args)]
pub(crate) struct TopicArgs {
    /// The room.
    pub(crate) room: String,
    /// The new topic.
    pub(crate) topic: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The room.
    pub(crate) room: String,
    /// The text.
    pub(crate) text: String,
    /// The text is Markdown.
    #[arg(long)]
    pub(crate) markdown: bool,
    /// Seconds after which every device stops showing the message (plain text only). Without
    /// it the room's expiration policy may set its default; a room may refuse other values
    /// (`mimi room policy ROOM` shows its expiration range).
    #[arg(long, value_name = "SECONDS", conflicts_with = "markdown")]
    pub(crate) expires_in: Option<u64>,
    /// Send it in this thread topic (the message's topic ID, a name; not the room's topic;
    /// plain text only): the first message in a topic starts it (the role needs
    /// canStartTopic), later ones reply in it (canReplyInTopic).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["markdown", "expires_in"])]
    pub(crate) topic: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `dm`.
#[derive(Debug, Args)]
pub(crate) struct DmArgs {
    /// The other user (`user@domain`, a URI, or a user id on your provider).
    pub(crate) user: String,
    /// A message to send.
    pub(crate) text: Option<String>,
    /// The text is Markdown.
    #[arg(long)]
    pub(crate) markdown: bool,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `reply`.
#[derive(Debug, Args)]
pub(crate) struct ReplyArgs {
    /// The room.
    pub(crate) room: String,
    /// The message replied to (hex ID or a unique prefix, see `mimi history`).
    pub(crate) message: String,
    /// The text.
    pub(crate) text: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `react`.
#[derive(Debug, Args)]
pub(crate) struct ReactArgs {
    /// The room.
    pub(crate) room: String,
    /// The message (hex ID or a unique prefix).
    pub(crate) message: String,
    /// The reaction, e.g. 👍.
    pub(crate) reaction: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `unreact`.
#[derive(Debug, Args)]
pub(crate) struct UnreactArgs {
    /// The room.
    pub(crate) room: String,
    /// The reaction's ID (full hex, as `mimi react` printed it).
    pub(crate) reaction: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `edit`.
#[derive(Debug, Args)]
pub(crate) struct EditArgs {
    /// The room.
    pub(crate) room: String,
    /// The message (hex ID or a unique prefix).
    pub(crate) message: String,
    /// The new text.
    pub(crate) text: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The room.
    pub(crate) room: String,
    /// The messages, all from one user (hex IDs or unique prefixes, see `mimi history`).
    #[arg(required = true)]
    pub(crate) messages: Vec<String>,
    /// What the operators should know.
    #[arg(long, default_value = "")]
    pub(crate) note: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `delete`.
#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// The room.
    pub(crate) room: String,
    /// The message (hex ID or a unique prefix).
    pub(crate) message: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `send-file`.
#[derive(Debug, Args)]
pub(crate) struct SendFileArgs {
    /// The room.
    pub(crate) room: String,
    /// The file.
    pub(crate) file: PathBuf,
    /// Its media type.
    #[arg(long)]
    pub(crate) content_type: Option<String>,
    /// A description (alt text).
    #[arg(long)]
    pub(crate) description: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `download`.
#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// The room.
    pub(crate) room: String,
    /// The message with the attachment (hex ID or a unique prefix).
    pub(crate) message: String,
    /// Which attachment of the message (0 is the first).
    #[arg(long, default_value_t = 0)]
    pub(crate) index: usize,
    /// Where to write the file (default: its file name, in the current directory).
    #[arg(long, short = 'o', value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `settings`.
#[derive(Debug, Args)]
pub(crate) struct SettingsArgs {
    #[command(subcommand)]
    pub(crate) command: SettingsCommand,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// Settings of this device (kept in its profile).
#[derive(Debug, Subcommand)]
pub(crate) enum SettingsCommand {
    /// Show them.
    Show(SettingsShow),
    /// Send read receipts when you read a room (`mimi read`); on by default. Rooms whose
    /// policy requires them still get them; rooms that forbid them never do.
    Receipts(SwitchArgs),
    /// Report delivery of the messages this device receives; on by default.
    DeliveryReports(SwitchArgs),
}

/// `settings show`.
#[derive(Debug, Args)]
pub(crate) struct SettingsShow {
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `settings receipts|delivery-reports on|off`.
#[derive(Debug, Args)]
pub(crate) struct SwitchArgs {
    /// on or off.
    pub(crate) value: Switch,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `typing`.
#[derive(Debug, Args)]
pub(crate) struct TypingArgs {
    /// The room.
    pub(crate) room: String,
    /// Say that you stopped typing instead.
    #[arg(long)]
    pub(crate) stop: bool,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `listen`.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// Stop after this many seconds (default: until interrupted).
    #[arg(long = "for", value_name = "SECONDS")]
    pub(crate) seconds: Option<u64>,
    /// Resume a listener that stopped: first show the messages of this message's room that
    /// follow it (the last one the previous run showed), then go live. Nothing is lost or
    /// shown twice, even if the previous run was killed.
    #[arg(long, value_name = "MESSAGE_ID")]
    pub(crate) since: Option<String>,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `mimi user ...`
#[derive(Debug, Args)]
pub(crate) struct UserCmdArgs {
    #[command(subcommand)]
    pub(crate) command: UserCommand,
}

/// User commands.
#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Show or set your handle, display name and searchable fields. Others find you only by
    /// the fields you make searchable (none until you choose).
    Profile(ProfileArgs),
    /// Find users on your provider, or on another one (asked by your provider).
    Find(FindArgs),
}

/// `mimi user profile`
#[derive(Debug, Args)]
pub(crate) struct ProfileArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// Your handle (a-z, 0-9, '.', '_', '-'; unique on your provider; "" clears it).
    #[arg(long)]
    pub(crate) handle: Option<String>,
    /// Your display name ("" clears it).
    #[arg(long)]
    pub(crate) display_name: Option<String>,
    /// Which fields others may search and see: any of handle, nick (your user id), name;
    /// "" for none.
    #[arg(long, value_name = "FIELDS")]
    pub(crate) searchable: Option<String>,
}

/// `mimi user find`
#[derive(Debug, Args)]
pub(crate) struct FindArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// What to look for.
    pub(crate) query: String,
    /// The provider to ask (a domain; default: yours).
    #[arg(long, value_name = "DOMAIN")]
    pub(crate) provider: Option<String>,
    /// What the query is: handle (exact), nick (a user id, exact), name (part of a display
    /// name), any (part of any searchable field).
    #[arg(long, default_value = "any", value_parser = ["handle", "nick", "name", "any"])]
    pub(crate) by: String,
}
