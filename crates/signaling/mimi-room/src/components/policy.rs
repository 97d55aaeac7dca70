//! Base room policy and the policy components of room-policy-03 §5–§7 and Appendix B
//! (digest §4.7): status notifications, join links, link previews, logging, history, bots,
//! message expiration. Asset and operational policies are in `policy_media`.

use std::collections::BTreeSet;

use mimi_types::codepoints::ComponentId;
use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::{RoleIndex, Uri, tls_component};
use crate::codec::{DecodeError, component_ids, tls_bool, utf8};

/// `BaseRoomPolicy`: membership style and limits.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct BaseRoomPolicy {
    /// Participants fixed at creation (DMs): nobody may add, ordinary users cannot leave.
    #[tls_codec(with = "tls_bool")]
    pub fixed_membership: bool,
    /// Participants must be a subset of the parent room's (the draft's `parent_dependant`).
    #[tls_codec(with = "tls_bool")]
    pub parent_dependant: bool,
    /// The parent room: one URI iff `parent_dependant`, otherwise empty (`Uri parent_room<V>`).
    pub parent_room: Vec<Uri>,
    /// Whether a user may have more than one client in the group.
    #[tls_codec(with = "tls_bool")]
    pub multi_device: bool,
    /// Maximum number of clients in the MLS group.
    pub max_clients: Option<u32>,
    /// Maximum number of non-banned participant-list entries.
    pub max_users: Option<u32>,
    /// Whether pseudonymous users may participate.
    #[tls_codec(with = "tls_bool")]
    pub pseudonyms_allowed: bool,
    /// Whether the room survives an empty MLS group.
    #[tls_codec(with = "tls_bool")]
    pub persistent_room: bool,
    /// Whether the room may be found by search.
    #[tls_codec(with = "tls_bool")]
    pub discoverable: bool,
    /// The other policy components in force (`Component` read as `ComponentID`).
    #[tls_codec(with = "component_ids")]
    pub policy_component_ids: Vec<ComponentId>,
}

impl Default for BaseRoomPolicy {
    /// An open group room: multi-device, no limits, persistent, not discoverable.
    fn default() -> Self {
        Self {
            fixed_membership: false,
            parent_dependant: false,
            parent_room: Vec::new(),
            multi_device: true,
            max_clients: None,
            max_users: None,
            pseudonyms_allowed: false,
            persistent_room: true,
            discoverable: false,
            policy_component_ids: Vec::new(),
        }
    }
}

tls_component!(
    BaseRoomPolicy,
    "BaseRoomPolicy",
    ComponentId::BASE_ROOM_POLICY
);

impl BaseRoomPolicy {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        let what = "BaseRoomPolicy";
        match (self.parent_dependant, self.parent_room.as_slice()) {
            (true, [parent]) if !parent.is_empty() => {}
            (true, _) => {
                return Err(DecodeError::invalid(
                    what,
                    "parent_dependant rooms must name exactly one parent_room",
                ));
            }
            (false, []) => {}
            (false, _) => {
                return Err(DecodeError::invalid(
                    what,
                    "parent_room must be empty unless parent_dependant",
                ));
            }
        }
        let mut seen = BTreeSet::new();
        if let Some(dup) = self.policy_component_ids.iter().find(|c| !seen.insert(**c)) {
            return Err(DecodeError::invalid(
                what,
                format!("policy_component_ids lists {dup} twice"),
            ));
        }
        Ok(())
    }
}

/// `enum { optional(0), required(1), forbidden(2) } Optionality;` (`mandatory` in the selects
/// of the draft is read as `required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum Optionality {
    /// Each client's local configuration decides.
    Optional = 0,
    /// Required (the draft's `mandatory`).
    Required = 1,
    /// Forbidden.
    Forbidden = 2,
}

/// `StatusNotificationPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct StatusNotificationPolicy {
    /// Delivery notifications.
    pub delivery_notifications: Optionality,
    /// Read receipts.
    pub read_receipts: Optionality,
}

tls_component!(
    StatusNotificationPolicy,
    "StatusNotificationPolicy",
    ComponentId::STATUS_NOTIFICATION_POLICY
);

impl StatusNotificationPolicy {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// `JoinLinkPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct JoinLinkPolicy {
    /// Links are made on request (then at most one link is persisted).
    #[tls_codec(with = "tls_bool")]
    pub on_request: bool,
    /// Where to request links.
    pub join_link: Uri,
    /// Whether one link may be used by several users.
    #[tls_codec(with = "tls_bool")]
    pub multiuser: bool,
    /// Link lifetime in seconds.
    pub expiration: u32,
}

tls_component!(
    JoinLinkPolicy,
    "JoinLinkPolicy",
    ComponentId::JOIN_LINK_POLICY
);

impl JoinLinkPolicy {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// `JoinLink` (`opaque join_link<V>` in our reading: the draft omits `<V>`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct JoinLink {
    /// The link (or join code) bytes.
    pub join_link: Vec<u8>,
}

/// `JoinLink JoinLinksData<V>`: the persisted links.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct JoinLinks {
    /// The links, without duplicates.
    pub links: Vec<JoinLink>,
}

tls_component!(JoinLinks, "JoinLinksData", ComponentId::JOIN_LINKS);

impl JoinLinks {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        let mut seen = BTreeSet::new();
        if self.links.iter().any(|l| !seen.insert(l)) {
            return Err(DecodeError::invalid(
                "JoinLinksData",
                "a link is listed twice",
            ));
        }
        if self.links.iter().any(|l| l.join_link.is_empty()) {
            return Err(DecodeError::invalid("JoinLinksData", "a link is empty"));
        }
        Ok(())
    }
}

/// `JoinLinksUpdate`: removals (indices into the current list), then additions.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct JoinLinksUpdate {
    /// Indices of removed links.
    pub removed_indices: Vec<u32>,
    /// Added links.
    pub added_links: Vec<JoinLink>,
}

tls_component!(JoinLinksUpdate, "JoinLinksUpdate");

impl JoinLinksUpdate {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// The proxy selected by `link_preview_proxy_use`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum LinkPreviewProxy {
    /// Proxy use optional; the proxies.
    #[tls_codec(discriminant = 0)]
    Optional(Vec<Uri>),
    /// Proxy use required; the proxies.
    #[tls_codec(discriminant = 1)]
    Required(Vec<Uri>),
    /// No proxy.
    #[tls_codec(discriminant = 2)]
    Forbidden,
}

/// `LinkPreviewPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct LinkPreviewPolicy {
    /// Turning URLs in text into links (MUST NOT be required).
    pub autodetect_hyperlinks_in_text: Optionality,
    /// Sending previews.
    pub send_link_previews: Optionality,
    /// Generating previews automatically.
    pub automatic_link_previews: Optionality,
    /// `link_preview_proxy_use` and its select.
    pub link_preview_proxy: LinkPreviewProxy,
}

tls_component!(
    LinkPreviewPolicy,
    "LinkPreviewPolicy",
    ComponentId::LINK_PREVIEW_POLICY
);

impl LinkPreviewPolicy {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        let what = "LinkPreviewPolicy";
        if self.autodetect_hyperlinks_in_text == Optionality::Required {
            return Err(DecodeError::invalid(
                what,
                "autodetect_hyperlinks_in_text must not be required",
            ));
        }
        match &self.link_preview_proxy {
            LinkPreviewProxy::Optional(p) | LinkPreviewProxy::Required(p)
                if p.is_empty() || p.iter().any(Uri::is_empty) =>
            {
                Err(DecodeError::invalid(
                    what,
                    "a link preview proxy URI is required when proxy use is optional or required",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The logging arms of `LoggingPolicy` when logging is optional or required.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct LoggingTargets {
    /// Clients that log.
    pub logging_clients: Vec<Uri>,
    /// Machine-readable policy.
    pub machine_readable_policy: Uri,
    /// Human-readable policy.
    pub human_readable_policy: Uri,
}

/// `LoggingPolicy` (the `logging` Optionality and its select).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum LoggingPolicy {
    /// Logging optional.
    #[tls_codec(discriminant = 0)]
    Optional(LoggingTargets),
    /// Logging required.
    #[tls_codec(discriminant = 1)]
    Required(LoggingTargets),
    /// Logging forbidden.
    #[tls_codec(discriminant = 2)]
    Forbidden,
}

tls_component!(LoggingPolicy, "LoggingPolicy", ComponentId::LOGGING_POLICY);

impl LoggingPolicy {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// The history arms of `HistoryPolicy` when sharing is optional or required.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct HistorySharing {
    /// Roles whose holders may share history (never 0 or 1).
    pub roles_that_can_share: Vec<RoleIndex>,
    /// Share automatically with new members.
    #[tls_codec(with = "tls_bool")]
    pub automatically_share: bool,
    /// How far back, in seconds.
    pub max_time_period: u32,
}

/// `HistoryPolicy` (the `history_sharing` Optionality and its select).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum HistoryPolicy {
    /// Sharing optional.
    #[tls_codec(discriminant = 0)]
    Optional(HistorySharing),
    /// Sharing required.
    #[tls_codec(discriminant = 1)]
    Required(HistorySharing),
    /// Sharing forbidden.
    #[tls_codec(discriminant = 2)]
    Forbidden,
}

tls_component!(
    HistoryPolicy,
    "HistoryPolicy",
    ComponentId::CHAT_HISTORY_POLICY
);

impl HistoryPolicy {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        if let Self::Optional(h) | Self::Required(h) = self
            && h.roles_that_can_share
                .iter()
                .any(|r| *r == RoleIndex::NO_ROLE || *r == RoleIndex::BANNED)
        {
            return Err(DecodeError::invalid(
                "HistoryPolicy",
                "roles 0 and 1 cannot share history",
            ));
        }
        Ok(())
    }
}

/// `Bot`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct Bot {
    /// Name (UTF-8 in our reading).
    #[tls_codec(with = "utf8")]
    pub name: String,
    /// Description (UTF-8 in our reading).
    #[tls_codec(with = "utf8")]
    pub description: String,
    /// Homepage.
    pub homepage: Uri,
    /// Whether the bot runs as a local client.
    #[tls_codec(with = "tls_bool")]
    pub local_client_bot: bool,
    /// The bot's role.
    pub bot_role_index: RoleIndex,
    /// Whether it may target messages.
    #[tls_codec(with = "tls_bool")]
    pub can_target_message_in_group: bool,
    /// Whether it produces per-user content.
    #[tls_codec(with = "tls_bool")]
    pub per_user_content: bool,
}

/// `BotPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct BotPolicy {
    /// Allowed bots.
    pub allowed_bots: Vec<Bot>,
}

tls_component!(BotPolicy, "BotPolicy", ComponentId::BOT_POLICY);

impl BotPolicy {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// Expiration durations (seconds) when expiring messages are optional or required.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ExpirationRange {
    /// Shortest allowed.
    pub min_expiration_duration: u32,
    /// Longest allowed.
    pub max_expiration_duration: u32,
    /// Default, within the range.
    pub default_expiration_duration: Option<u32>,
}

/// `MessageExpiration` (the `expiring_messages` Optionality and its select).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum MessageExpiration {
    /// Expiration optional.
    #[tls_codec(discriminant = 0)]
    Optional(ExpirationRange),
    /// Expiration required.
    #[tls_codec(discriminant = 1)]
    Required(ExpirationRange),
    /// Expiration forbidden.
    #[tls_codec(discriminant = 2)]
    Forbidden,
}

tls_component!(
    MessageExpiration,
    "MessageExpiration",
    ComponentId::MESSAGE_EXPIRATION_POLICY
);

impl MessageExpiration {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        if let Self::Optional(r) | Self::Required(r) = self {
            let in_range =
                |d: u32| r.min_expiration_duration <= d && d <= r.max_expiration_duration;
            if r.min_expiration_duration > r.max_expiration_duration
                || r.default_expiration_duration.is_some_and(|d| !in_range(d))
            {
                return Err(DecodeError::invalid(
                    "MessageExpiration",
                    "need min <= default <= max expiration duration",
                ));
            }
        }
        Ok(())
    }
}
