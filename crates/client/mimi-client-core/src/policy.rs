//! Policy changes a room administrator makes (issue 18 item 6): the base room policy, the
//! other policy components, role definitions and the preauthorization list, each in one
//! commit that the room's authorization (`mimi-room`) checks here first and the hub again.
//!
//! A setting is `key=value` ([`PolicySetting`]); several settings become one commit. Which
//! capability a change needs is `mimi-room`'s decision: the base policy and the join-link
//! policy need `canChangeRoomMembershipStyle`, roles `canChangeRoleDefinitions`, preauth
//! `canChangePreauthorizedUserList`, the MLS operational policy (external commits and
//! proposals) `canChangeMlsOperationalPolicies`, the other policy components
//! `canChangeOtherPolicyAttribute` (no preset grants these two: grant them to a role first).

use std::str::FromStr;

use mimi_room::components::{
    AssetPolicy, AssetUploadLocation, BaseRoomPolicy, Claim, Component, DownloadPrivacyType,
    ExpirationRange, HistoryPolicy, HistorySharing, JoinLinkPolicy, LinkPreviewPolicy,
    LinkPreviewProxy, LoggingPolicy, LoggingTargets, MessageExpiration, OperationalParameters,
    Optionality, PreAuthData, PreAuthRoleEntry, ProviderAssetUploadDomains, RoleData, RoleIndex,
    StatusNotificationPolicy, Uri,
};
use mimi_room::{AssetKind, Capability, ComponentChange, RoomState};
use mimi_types::RoomUri;
use mimi_types::codepoints::ComponentId;

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;
use crate::policy_assets;

/// Whether a component is set to a choice or removed (back to the draft's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Remove the component.
    Unset,
    /// Forbidden.
    Forbidden,
    /// Optional.
    Optional,
    /// Required.
    Required,
}

impl FromStr for Choice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" | "unset" => Ok(Self::Unset),
            "forbidden" | "off" => Ok(Self::Forbidden),
            "optional" => Ok(Self::Optional),
            "required" | "on" => Ok(Self::Required),
            other => Err(format!(
                "{other:?} is not one of forbidden, optional, required, none"
            )),
        }
    }
}

/// One policy setting, parsed from `key=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicySetting {
    /// `discoverable=on|off`: listed in the provider's room directory.
    Discoverable(bool),
    /// `multi-device=on|off`: whether a user may have several clients in the group.
    MultiDevice(bool),
    /// `persistent=on|off`: whether the room survives an empty group.
    Persistent(bool),
    /// `pseudonyms=on|off`: whether pseudonymous users may take part.
    Pseudonyms(bool),
    /// `max-users=N|none`.
    MaxUsers(Option<u32>),
    /// `max-clients=N|none`.
    MaxClients(Option<u32>),
    /// `history=forbidden|optional|required|none`: chat history sharing.
    History(Choice),
    /// `history-roles=2,3`: the roles that may share history.
    HistoryRoles(Vec<RoleIndex>),
    /// `history-auto=on|off`: share automatically with new members.
    HistoryAuto(bool),
    /// `history-period=SECONDS`: how far back (0: no limit).
    HistoryPeriod(u32),
    /// `expiration=forbidden|optional|required|none`: expiring messages.
    Expiration(Choice),
    /// `expiration-min=SECONDS`.
    ExpirationMin(u32),
    /// `expiration-max=SECONDS`.
    ExpirationMax(u32),
    /// `expiration-default=SECONDS|none`.
    ExpirationDefault(Option<u32>),
    /// `logging=forbidden|optional|required|none` (`logging_policy`; optional and required
    /// keep the logging clients already listed, set them with `logging-clients`).
    Logging(Choice),
    /// `logging-clients=URI,…`: the client or user URIs of the logging clients the room admits
    /// (after `logging=optional|required`).
    LoggingClients(Vec<Uri>),
    /// `read-receipts=forbidden|optional|required|none`.
    ReadReceipts(Choice),
    /// `delivery-reports=forbidden|optional|required|none`.
    DeliveryReports(Choice),
    /// `join-links=persisted|on-request|none`: the join-link policy's style.
    JoinLinks(Option<bool>),
    /// `join-link-multiuser=on|off`: one link may admit several users.
    JoinLinkMultiuser(bool),
    /// `join-link-expiration=SECONDS`: the lifetime of links made on request.
    JoinLinkExpiration(u32),
    /// `max-image=BYTES|none` (and `max-audio`, `max-video`, `max-attachment`): the largest
    /// attachment of that kind, as stored (encrypted) (`asset_policy`).
    MaxAsset(AssetKind, Option<u64>),
    /// `media-forbidden=TYPE,…|none`: media types no attachment may have.
    MediaForbidden(Vec<String>),
    /// `media-permitted=TYPE,…|any`: the only media types attachments may have.
    MediaPermitted(Option<Vec<String>>),
    /// `upload-location=local-provider|hub|unspecified`: whose upload domains an
    /// attachment's host must be among (`asset_policy`).
    UploadLocation(AssetUploadLocation),
    /// `upload-domains=PROVIDER[:HOST+HOST…],…|none`: the hosts each provider's users'
    /// attachments may be stored at (none: any host).
    UploadDomains(Vec<ProviderAssetUploadDomains>),
    /// `downloads=TYPE,…|any`: the download types the room allows (`direct`, `hubProxy`,
    /// `ohttp`; the first is the default), or `any` (every type, hubProxy the default). Our
    /// clients fetch by `hubProxy` only, and refuse where it is not allowed.
    Downloads(Vec<DownloadPrivacyType>),
    /// `assets=none`: remove the room's `asset_policy` (no limits).
    AssetsUnset,
    /// `link-previews=forbidden|optional|required|none`: whether messages may carry link
    /// previews (`link_preview_policy`'s `send_link_previews`; none removes the component).
    LinkPreviews(Choice),
    /// `external-commits=on|off`: joins, new devices and rejoins by external commit
    /// (`mls_operational_policy`, `canChangeMlsOperationalPolicies`).
    ExternalCommits(bool),
    /// `external-proposals=on|off`: the hub's removals and retractions.
    ExternalProposals(bool),
}

/// The keys [`PolicySetting`] reads, for help texts.
pub const POLICY_KEYS: &[&str] = &[
    "discoverable",
    "multi-device",
    "persistent",
    "pseudonyms",
    "max-users",
    "max-clients",
    "history",
    "history-roles",
    "history-auto",
    "history-period",
    "expiration",
    "expiration-min",
    "expiration-max",
    "expiration-default",
    "logging",
    "logging-clients",
    "read-receipts",
    "delivery-reports",
    "join-links",
    "join-link-multiuser",
    "join-link-expiration",
    "max-image",
    "max-audio",
    "max-video",
    "max-attachment",
    "media-forbidden",
    "media-permitted",
    "upload-location",
    "upload-domains",
    "downloads",
    "assets",
    "link-previews",
    "external-commits",
    "external-proposals",
];

fn on_off(key: &str, v: &str) -> Result<bool, String> {
    match v {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("{key} takes on or off, not {v:?}")),
    }
}

fn number(key: &str, v: &str) -> Result<u32, String> {
    v.parse()
        .map_err(|_| format!("{key} takes a whole number, not {v:?}"))
}

fn bytes(key: &str, v: &str) -> Result<Option<u64>, String> {
    if v == "none" {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| format!("{key} takes a number of bytes or none, not {v:?}"))
}

fn limit(key: &str, v: &str) -> Result<Option<u32>, String> {
    if v == "none" {
        Ok(None)
    } else {
        number(key, v).map(Some)
    }
}

impl FromStr for PolicySetting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (key, v) = s.split_once('=').ok_or_else(|| {
            format!(
                "{s:?} is not key=value; the keys are {}",
                POLICY_KEYS.join(", ")
            )
        })?;
        Ok(match key {
            "discoverable" => Self::Discoverable(on_off(key, v)?),
            "multi-device" => Self::MultiDevice(on_off(key, v)?),
            "persistent" => Self::Persistent(on_off(key, v)?),
            "pseudonyms" => Self::Pseudonyms(on_off(key, v)?),
            "max-users" => Self::MaxUsers(limit(key, v)?),
            "max-clients" => Self::MaxClients(limit(key, v)?),
            "history" => Self::History(v.parse()?),
            "history-roles" => Self::HistoryRoles(
                v.split(',')
                    .filter(|r| !r.is_empty())
                    .map(|r| number(key, r).map(RoleIndex))
                    .collect::<Result<_, _>>()?,
            ),
            "history-auto" => Self::HistoryAuto(on_off(key, v)?),
            "history-period" => Self::HistoryPeriod(number(key, v)?),
            "expiration" => Self::Expiration(v.parse()?),
            "expiration-min" => Self::ExpirationMin(number(key, v)?),
            "expiration-max" => Self::ExpirationMax(number(key, v)?),
            "expiration-default" => Self::ExpirationDefault(limit(key, v)?),
            "logging" => Self::Logging(v.parse()?),
            "logging-clients" => Self::LoggingClients(
                v.split(',')
                    .filter(|u| !u.is_empty())
                    .map(|u| match u.parse::<mimi_types::MimiUri>() {
                        Ok(mimi_types::MimiUri::Client(_) | mimi_types::MimiUri::User(_)) => {
                            Uri::new(u).map_err(|e| e.to_string())
                        }
                        _ => Err(format!(
                            "logging-clients takes client or user URIs (mimi://x/d/… or \
                             mimi://x/u/…), not {u:?}"
                        )),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            "read-receipts" => Self::ReadReceipts(v.parse()?),
            "delivery-reports" => Self::DeliveryReports(v.parse()?),
            "join-links" => Self::JoinLinks(match v {
                "persisted" => Some(false),
                "on-request" => Some(true),
                "none" => None,
                _ => {
                    return Err(format!(
                        "join-links takes persisted, on-request or none, not {v:?}"
                    ));
                }
            }),
            "join-link-multiuser" => Self::JoinLinkMultiuser(on_off(key, v)?),
            "join-link-expiration" => Self::JoinLinkExpiration(number(key, v)?),
            "max-image" => Self::MaxAsset(AssetKind::Image, bytes(key, v)?),
            "max-audio" => Self::MaxAsset(AssetKind::Audio, bytes(key, v)?),
            "max-video" => Self::MaxAsset(AssetKind::Video, bytes(key, v)?),
            "max-attachment" => Self::MaxAsset(AssetKind::Attachment, bytes(key, v)?),
            "media-forbidden" if v == "none" => Self::MediaForbidden(Vec::new()),
            "media-forbidden" => Self::MediaForbidden(policy_assets::media_types(key, v)?),
            "media-permitted" if v == "any" => Self::MediaPermitted(None),
            "media-permitted" => Self::MediaPermitted(Some(policy_assets::media_types(key, v)?)),
            "upload-location" => Self::UploadLocation(policy_assets::upload_location(key, v)?),
            "upload-domains" if v == "none" => Self::UploadDomains(Vec::new()),
            "upload-domains" => Self::UploadDomains(policy_assets::upload_domains(key, v)?),
            "downloads" if v == "any" => Self::Downloads(Vec::new()),
            "downloads" => Self::Downloads(policy_assets::download_types(key, v)?),
            "assets" if v == "none" => Self::AssetsUnset,
            "link-previews" => Self::LinkPreviews(v.parse()?),
            "assets" => return Err("assets takes none (remove the asset policy)".into()),
            "external-commits" => Self::ExternalCommits(on_off(key, v)?),
            "external-proposals" => Self::ExternalProposals(on_off(key, v)?),
            _ => {
                return Err(format!(
                    "unknown policy key {key:?}; the keys are {}",
                    POLICY_KEYS.join(", ")
                ));
            }
        })
    }
}

/// The policy components a set of settings edits, starting from a room's current ones.
struct Draft {
    base: BaseRoomPolicy,
    history: Option<HistoryPolicy>,
    expiration: Option<MessageExpiration>,
    logging: Option<LoggingPolicy>,
    status: Option<StatusNotificationPolicy>,
    join_link: Option<JoinLinkPolicy>,
    asset: Option<AssetPolicy>,
    link_preview: Option<LinkPreviewPolicy>,
    operational: Option<OperationalParameters>,
}

fn sharing(h: &Option<HistoryPolicy>) -> HistorySharing {
    match h {
        Some(HistoryPolicy::Optional(s) | HistoryPolicy::Required(s)) => s.clone(),
        _ => HistorySharing {
            roles_that_can_share: Vec::new(),
            automatically_share: false,
            max_time_period: 0,
        },
    }
}

fn logging_targets(l: &Option<LoggingPolicy>) -> LoggingTargets {
    match l {
        Some(LoggingPolicy::Optional(t) | LoggingPolicy::Required(t)) => t.clone(),
        _ => LoggingTargets {
            logging_clients: Vec::new(),
            machine_readable_policy: Uri::default(),
            human_readable_policy: Uri::default(),
        },
    }
}

fn range(e: &Option<MessageExpiration>) -> ExpirationRange {
    match e {
        Some(MessageExpiration::Optional(r) | MessageExpiration::Required(r)) => r.clone(),
        _ => ExpirationRange {
            min_expiration_duration: 0,
            max_expiration_duration: u32::MAX,
            default_expiration_duration: None,
        },
    }
}

fn optionality(c: Choice) -> Option<Optionality> {
    match c {
        Choice::Unset => None,
        Choice::Forbidden => Some(Optionality::Forbidden),
        Choice::Optional => Some(Optionality::Optional),
        Choice::Required => Some(Optionality::Required),
    }
}

impl Draft {
    fn of(room: &RoomState) -> Self {
        Self {
            base: room.base_policy(),
            history: room.history_policy().cloned(),
            expiration: room.message_expiration().cloned(),
            logging: room.logging_policy().cloned(),
            status: room.status_notification_policy().cloned(),
            join_link: room.join_link_policy().cloned(),
            asset: room.asset_policy().cloned(),
            link_preview: room.link_preview_policy().cloned(),
            operational: room.operational_policy().cloned(),
        }
    }

    fn history_with(&mut self, edit: impl FnOnce(&mut HistorySharing)) -> Result<(), String> {
        let mut s = sharing(&self.history);
        edit(&mut s);
        self.history = match self.history.take() {
            Some(HistoryPolicy::Optional(_)) => Some(HistoryPolicy::Optional(s)),
            Some(HistoryPolicy::Required(_)) => Some(HistoryPolicy::Required(s)),
            _ => {
                return Err(
                    "set history=optional or history=required first (in the same \
                            command or before)"
                        .into(),
                );
            }
        };
        Ok(())
    }

    fn expiration_with(&mut self, edit: impl FnOnce(&mut ExpirationRange)) -> Result<(), String> {
        let mut r = range(&self.expiration);
        edit(&mut r);
        self.expiration = match self.expiration.take() {
            Some(MessageExpiration::Optional(_)) => Some(MessageExpiration::Optional(r)),
            Some(MessageExpiration::Required(_)) => Some(MessageExpiration::Required(r)),
            _ => {
                return Err(
                    "set expiration=optional or expiration=required first (in the same \
                            command or before)"
                        .into(),
                );
            }
        };
        Ok(())
    }

    fn status_with(&mut self, edit: impl FnOnce(&mut StatusNotificationPolicy)) {
        let mut s = self.status.clone().unwrap_or(StatusNotificationPolicy {
            delivery_notifications: Optionality::Optional,
            read_receipts: Optionality::Optional,
        });
        edit(&mut s);
        self.status = Some(s);
    }

    fn join_link_with(&mut self, edit: impl FnOnce(&mut JoinLinkPolicy)) -> Result<(), String> {
        let mut p = self.join_link.clone().unwrap_or(JoinLinkPolicy {
            on_request: false,
            join_link: Uri::default(),
            multiuser: true,
            expiration: 0,
        });
        edit(&mut p);
        self.join_link = Some(p);
        Ok(())
    }

    fn asset_with(&mut self, edit: impl FnOnce(&mut AssetPolicy)) {
        let mut p = self.asset.clone().unwrap_or_else(policy_assets::unlimited);
        edit(&mut p);
        self.asset = Some(p);
    }

    fn operational_with(&mut self, edit: impl FnOnce(&mut OperationalParameters)) {
        let mut p = self
            .operational
            .clone()
            .unwrap_or_else(OperationalParameters::allowing_external);
        edit(&mut p);
        self.operational = Some(p);
    }

    fn apply(&mut self, setting: &PolicySetting) -> Result<(), String> {
        use PolicySetting as S;
        match setting {
            S::Discoverable(v) => self.base.discoverable = *v,
            S::MultiDevice(v) => self.base.multi_device = *v,
            S::Persistent(v) => self.base.persistent_room = *v,
            S::Pseudonyms(v) => self.base.pseudonyms_allowed = *v,
            S::MaxUsers(v) => self.base.max_users = *v,
            S::MaxClients(v) => self.base.max_clients = *v,
            S::History(c) => {
                let s = sharing(&self.history);
                self.history = match c {
                    Choice::Unset => None,
                    Choice::Forbidden => Some(HistoryPolicy::Forbidden),
                    Choice::Optional => Some(HistoryPolicy::Optional(s)),
                    Choice::Required => Some(HistoryPolicy::Required(s)),
                };
            }
            S::HistoryRoles(roles) => {
                self.history_with(|s| s.roles_that_can_share.clone_from(roles))?;
            }
            S::HistoryAuto(v) => self.history_with(|s| s.automatically_share = *v)?,
            S::HistoryPeriod(v) => self.history_with(|s| s.max_time_period = *v)?,
            S::Expiration(c) => {
                let r = range(&self.expiration);
                self.expiration = match c {
                    Choice::Unset => None,
                    Choice::Forbidden => Some(MessageExpiration::Forbidden),
                    Choice::Optional => Some(MessageExpiration::Optional(r)),
                    Choice::Required => Some(MessageExpiration::Required(r)),
                };
            }
            S::ExpirationMin(v) => self.expiration_with(|r| r.min_expiration_duration = *v)?,
            S::ExpirationMax(v) => self.expiration_with(|r| r.max_expiration_duration = *v)?,
            S::ExpirationDefault(v) => {
                self.expiration_with(|r| r.default_expiration_duration = *v)?;
            }
            S::Logging(c) => {
                let t = logging_targets(&self.logging);
                self.logging = match c {
                    Choice::Unset => None,
                    Choice::Forbidden => Some(LoggingPolicy::Forbidden),
                    Choice::Optional => Some(LoggingPolicy::Optional(t)),
                    Choice::Required => Some(LoggingPolicy::Required(t)),
                };
            }
            S::LoggingClients(listed) => {
                let mut t = logging_targets(&self.logging);
                t.logging_clients.clone_from(listed);
                self.logging = match self.logging.take() {
                    Some(LoggingPolicy::Optional(_)) => Some(LoggingPolicy::Optional(t)),
                    Some(LoggingPolicy::Required(_)) => Some(LoggingPolicy::Required(t)),
                    _ => {
                        return Err("set logging=optional or logging=required first (in the \
                                    same command or before)"
                            .into());
                    }
                };
            }
            S::ReadReceipts(c) => match optionality(*c) {
                Some(o) => self.status_with(|s| s.read_receipts = o),
                None => self.status = None,
            },
            S::DeliveryReports(c) => match optionality(*c) {
                Some(o) => self.status_with(|s| s.delivery_notifications = o),
                None => self.status = None,
            },
            S::JoinLinks(style) => match style {
                Some(on_request) => self.join_link_with(|p| p.on_request = *on_request)?,
                None => self.join_link = None,
            },
            S::JoinLinkMultiuser(v) => self.join_link_with(|p| p.multiuser = *v)?,
            S::JoinLinkExpiration(v) => self.join_link_with(|p| p.expiration = *v)?,
            S::MaxAsset(kind, max) => self.asset_with(|p| policy_assets::set_max(p, *kind, *max)),
            S::MediaForbidden(types) => {
                self.asset_with(|p| p.forbidden_media_types = policy_assets::entries(types));
            }
            S::MediaPermitted(types) => self.asset_with(|p| {
                p.permitted_media_types = types.as_deref().map(policy_assets::entries);
            }),
            S::UploadLocation(l) => self.asset_with(|p| p.asset_upload_location = *l),
            S::UploadDomains(d) => self.asset_with(|p| p.upload_domains.clone_from(d)),
            S::Downloads(types) => {
                self.asset_with(|p| policy_assets::set_downloads(p, types));
            }
            S::AssetsUnset => self.asset = None,
            S::LinkPreviews(c) => {
                self.link_preview = optionality(*c).map(|send| {
                    let mut p = self.link_preview.clone().unwrap_or(LinkPreviewPolicy {
                        autodetect_hyperlinks_in_text: Optionality::Optional,
                        send_link_previews: Optionality::Optional,
                        automatic_link_previews: Optionality::Optional,
                        link_preview_proxy: LinkPreviewProxy::Forbidden,
                    });
                    p.send_link_previews = send;
                    p
                });
            }
            S::ExternalCommits(v) => self.operational_with(|p| p.external_commit_allowed = *v),
            S::ExternalProposals(v) => {
                self.operational_with(|p| p.external_proposal_allowed = *v);
            }
        }
        Ok(())
    }

    /// The component changes from `room`'s current components to the draft's.
    fn changes(&self, room: &RoomState) -> Vec<ComponentChange> {
        fn diff<T: Component + PartialEq>(
            out: &mut Vec<ComponentChange>,
            id: ComponentId,
            old: Option<&T>,
            new: Option<&T>,
        ) {
            match (old, new) {
                (old, Some(n)) if old != Some(n) => {
                    out.push(ComponentChange::update(id, n.encode()));
                }
                (Some(_), None) => out.push(ComponentChange::remove(id)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        let base = room.base_policy();
        if base != self.base {
            out.push(ComponentChange::update(
                ComponentId::BASE_ROOM_POLICY,
                self.base.encode(),
            ));
        }
        diff(
            &mut out,
            ComponentId::CHAT_HISTORY_POLICY,
            room.history_policy(),
            self.history.as_ref(),
        );
        diff(
            &mut out,
            ComponentId::MESSAGE_EXPIRATION_POLICY,
            room.message_expiration(),
            self.expiration.as_ref(),
        );
        diff(
            &mut out,
            ComponentId::LOGGING_POLICY,
            room.logging_policy(),
            self.logging.as_ref(),
        );
        diff(
            &mut out,
            ComponentId::STATUS_NOTIFICATION_POLICY,
            room.status_notification_policy(),
            self.status.as_ref(),
        );
        diff(
            &mut out,
            ComponentId::JOIN_LINK_POLICY,
            room.join_link_policy(),
            self.join_link.as_ref(),
        );
        diff(
            &mut out,
            ComponentId::ASSET_POLICY,
            room.asset_policy(),
            self.asset.as_ref(),
        );
        diff(
            &mut out,
            ComponentId::LINK_PREVIEW_POLICY,
            room.link_preview_policy(),
            self.link_preview.as_ref(),
        );
        diff(
            &mut out,
            ComponentId::MLS_OPERATIONAL_POLICY,
            room.operational_policy(),
            self.operational.as_ref(),
        );
        out
    }
}

/// How a role's capabilities change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleEdit {
    /// Capabilities to add.
    pub grant: Vec<Capability>,
    /// Capabilities to take away.
    pub revoke: Vec<Capability>,
}

/// A capability by its registry name (`canSendMessage`) or number (`0x0100`, `256`).
pub fn parse_capability(text: &str) -> Result<Capability, ClientError> {
    let number = match text.strip_prefix("0x") {
        Some(hex) => u16::from_str_radix(hex, 16).ok(),
        None => text.parse::<u16>().ok(),
    };
    if let Some(n) = number {
        return Ok(Capability::new(n));
    }
    (0..=u16::MAX)
        .map(Capability::new)
        .find(|c| c.name().is_some_and(|n| n.eq_ignore_ascii_case(text)))
        .ok_or_else(|| {
            ClientError::misuse(format!(
                "{text:?} is not a capability name of the MIMI registry (e.g. canSendMessage, \
                 canChangeOtherPolicyAttribute) nor a number"
            ))
        })
}

impl Client {
    /// Changes the room's policy components by `settings`, in one commit. Refused here
    /// (before anything is sent) when nothing changes, when a value is invalid, or when this
    /// user's role lacks the capability the change needs.
    pub fn set_policy(
        &mut self,
        now: u64,
        room: &RoomUri,
        settings: &[PolicySetting],
    ) -> Result<OpId, ClientError> {
        let changes = {
            let r = self.active_room(room)?;
            let state = r.group.room();
            let mut draft = Draft::of(state);
            for s in settings {
                draft.apply(s).map_err(ClientError::misuse)?;
            }
            draft.changes(state)
        };
        if changes.is_empty() {
            return Err(ClientError::misuse(format!(
                "{room} already has this policy: nothing to change"
            )));
        }
        self.commit(now, room, &changes, &[], &[])
    }

    /// Changes the capabilities of the role `role` (`canChangeRoleDefinitions`).
    pub fn edit_role(
        &mut self,
        now: u64,
        room: &RoomUri,
        role: RoleIndex,
        edit: &RoleEdit,
    ) -> Result<OpId, ClientError> {
        let roles = {
            let r = self.active_room(room)?;
            let mut roles: RoleData = r.group.room().roles().clone();
            let def = roles
                .roles
                .iter_mut()
                .find(|r| r.role_index == role)
                .ok_or_else(|| ClientError::misuse(format!("{room} defines no role {role}")))?;
            let before = def.role_capabilities.clone();
            def.role_capabilities.retain(|c| !edit.revoke.contains(c));
            for c in &edit.grant {
                if !def.role_capabilities.contains(c) {
                    def.role_capabilities.push(*c);
                }
            }
            if def.role_capabilities == before {
                return Err(ClientError::misuse(format!(
                    "role {role} of {room} already has these capabilities: nothing to change"
                )));
            }
            roles
        };
        let change = ComponentChange::update(ComponentId::ROLES_LIST, roles.encode());
        self.commit(now, room, &[change], &[], &[])
    }

    /// The room's preauthorization entries, by index.
    pub fn preauth(&mut self, room: &RoomUri) -> Result<Vec<PreAuthRoleEntry>, ClientError> {
        let r = self.active_room(room)?;
        Ok(r.group
            .room()
            .preauth()
            .map(|p| p.preauthorized_entries.clone())
            .unwrap_or_default())
    }

    /// Adds a preauthorization entry: whoever's credential makes every claim of `claims` may
    /// join (or move itself to) `role` (`canChangePreauthorizedUserList`; the role must hold
    /// `canJoinIfPreauthorized` for joins).
    pub fn add_preauth(
        &mut self,
        now: u64,
        room: &RoomUri,
        claims: Vec<Claim>,
        role: RoleIndex,
    ) -> Result<OpId, ClientError> {
        let data = {
            let r = self.active_room(room)?;
            let state = r.group.room();
            let target_role = state
                .roles()
                .role(role)
                .cloned()
                .ok_or_else(|| ClientError::misuse(format!("{room} defines no role {role}")))?;
            let mut data = state.preauth().cloned().unwrap_or_default();
            data.preauthorized_entries.push(PreAuthRoleEntry {
                claimset: claims,
                target_role,
            });
            data
        };
        self.replace_preauth(now, room, &data)
    }

    /// Removes the preauthorization entry at `index` (as [`Client::preauth`] numbers them).
    pub fn remove_preauth(
        &mut self,
        now: u64,
        room: &RoomUri,
        index: usize,
    ) -> Result<OpId, ClientError> {
        let mut data = {
            let r = self.active_room(room)?;
            r.group.room().preauth().cloned().unwrap_or_default()
        };
        let count = data.preauthorized_entries.len();
        if index >= count {
            return Err(ClientError::misuse(format!(
                "{room} has no preauthorization entry {index} (it has {count})"
            )));
        }
        data.preauthorized_entries.remove(index);
        self.replace_preauth(now, room, &data)
    }

    fn replace_preauth(
        &mut self,
        now: u64,
        room: &RoomUri,
        data: &PreAuthData,
    ) -> Result<OpId, ClientError> {
        let change = if data.preauthorized_entries.is_empty() {
            ComponentChange::remove(ComponentId::PREAUTH_LIST)
        } else {
            ComponentChange::update(ComponentId::PREAUTH_LIST, data.encode())
        };
        self.commit(now, room, &[change], &[], &[])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn settings_parse_and_refuse_clearly() {
        assert_eq!(
            "discoverable=on".parse::<PolicySetting>().unwrap(),
            PolicySetting::Discoverable(true)
        );
        assert_eq!(
            "max-users=none".parse::<PolicySetting>().unwrap(),
            PolicySetting::MaxUsers(None)
        );
        assert_eq!(
            "history-roles=2,3".parse::<PolicySetting>().unwrap(),
            PolicySetting::HistoryRoles(vec![RoleIndex(2), RoleIndex(3)])
        );
        let e = "colour=blue".parse::<PolicySetting>().unwrap_err();
        assert!(
            e.contains("unknown policy key") && e.contains("discoverable"),
            "{e}"
        );
        let e = "discoverable".parse::<PolicySetting>().unwrap_err();
        assert!(e.contains("key=value"), "{e}");
        let e = "max-users=-1".parse::<PolicySetting>().unwrap_err();
        assert!(e.contains("whole number"), "{e}");
        assert_eq!(
            "logging=required".parse::<PolicySetting>().unwrap(),
            PolicySetting::Logging(Choice::Required)
        );
        let e = "logging-clients=https://x.example/"
            .parse::<PolicySetting>()
            .unwrap_err();
        assert!(e.contains("client or user URIs"), "{e}");
        let PolicySetting::UploadDomains(d) =
            "upload-domains=X.example,y.example:cdn.y.example+y.example"
                .parse::<PolicySetting>()
                .unwrap()
        else {
            panic!("not upload domains")
        };
        let shown: Vec<(String, Vec<String>)> = d
            .iter()
            .map(|e| {
                (
                    e.provider.domain.to_string(),
                    e.asset_upload_destinations
                        .iter()
                        .map(|h| h.domain.to_string())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("x.example".to_owned(), vec!["x.example".to_owned()]),
                (
                    "y.example".to_owned(),
                    vec!["cdn.y.example".to_owned(), "y.example".to_owned()]
                ),
            ]
        );
        let e = "upload-domains=x.example,x.example"
            .parse::<PolicySetting>()
            .unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = "upload-domains=x.example:"
            .parse::<PolicySetting>()
            .unwrap_err();
        assert!(e.contains("not a domain name"), "{e}");
        let e = "upload-location=moon".parse::<PolicySetting>().unwrap_err();
        assert!(e.contains("local-provider"), "{e}");
        assert_eq!(
            "link-previews=forbidden".parse::<PolicySetting>().unwrap(),
            PolicySetting::LinkPreviews(Choice::Forbidden)
        );
        assert_eq!(
            "downloads=ohttp,HUBPROXY".parse::<PolicySetting>().unwrap(),
            PolicySetting::Downloads(vec![
                DownloadPrivacyType::Ohttp,
                DownloadPrivacyType::HubProxy
            ])
        );
        assert_eq!(
            "downloads=any".parse::<PolicySetting>().unwrap(),
            PolicySetting::Downloads(Vec::new())
        );
        for bad in ["downloads=proxy", "downloads=ohttp,ohttp", "downloads="] {
            let e = bad.parse::<PolicySetting>().unwrap_err();
            assert!(e.contains("downloads"), "{bad}: {e}");
        }
    }

    #[test]
    fn capabilities_parse_by_name_and_number() {
        assert_eq!(
            parse_capability("canSendMessage").unwrap(),
            Capability::CAN_SEND_MESSAGE
        );
        assert_eq!(
            parse_capability("cansendmessage").unwrap(),
            Capability::CAN_SEND_MESSAGE
        );
        assert_eq!(
            parse_capability("0x0505").unwrap(),
            Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE
        );
        assert!(parse_capability("canFly").is_err());
    }

    #[test]
    fn history_details_need_a_sharing_choice_first() {
        let room = mimi_room::presets::RoomCreation::new(
            mimi_room::presets::Preset::Cooperative,
            "mimi://x.example/r/r".parse().unwrap(),
            "mimi://x.example/u/alice".parse().unwrap(),
        )
        .initial_state()
        .unwrap();
        let mut draft = Draft::of(&room);
        assert!(draft.apply(&PolicySetting::HistoryAuto(true)).is_err());
        draft
            .apply(&PolicySetting::History(Choice::Optional))
            .unwrap();
        draft.apply(&PolicySetting::HistoryAuto(true)).unwrap();
        draft.apply(&PolicySetting::Discoverable(true)).unwrap();
        let changes = draft.changes(&room);
        let ids: Vec<ComponentId> = changes.iter().map(|c| c.component).collect();
        assert_eq!(
            ids,
            [
                ComponentId::BASE_ROOM_POLICY,
                ComponentId::CHAT_HISTORY_POLICY
            ]
        );
        // Nothing changed: no change at all.
        assert!(Draft::of(&room).changes(&room).is_empty());
    }
}
