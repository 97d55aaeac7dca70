//! Room-state components (digest §4.2–§4.7) with their TLS presentation-language codecs.
//!
//! Every component implements [`Component`]: `encode` gives the bytes that ride in the
//! `app_data_dictionary` (or an `AppDataUpdate`), `decode` is strict (whole input consumed, closed
//! enums closed, structural rules of the definition checked).

mod hub_retraction;
mod join_code;
mod metadata;
mod participants;
mod policy;
mod policy_media;
mod preauth;
mod roles;
mod room_ended;
mod server_policy;

pub use hub_retraction::{
    HubRetractedMessages, HubRetractedRange, HubRetraction, RetractedMessageId,
};
pub use join_code::{JOIN_CODE_DIGEST_LEN, JoinCodeTerms, MatchedJoinLink};
pub use metadata::{RichDescription, RoomMetadata, Uri};
pub use participants::{
    ParticipantList, ParticipantListUpdate, RoleIndex, UserIndexRolePair, UserRolePair,
};
pub use policy::{
    BaseRoomPolicy, Bot, BotPolicy, ExpirationRange, HistoryPolicy, HistorySharing, JoinLink,
    JoinLinkPolicy, JoinLinks, JoinLinksUpdate, LinkPreviewPolicy, LinkPreviewProxy, LoggingPolicy,
    LoggingTargets, MessageExpiration, Optionality, StatusNotificationPolicy,
};
pub use policy_media::{
    AppMessagePolicy, AssetPolicy, AssetUploadLocation, DomainName, DownloadPrivacy,
    DownloadPrivacyType, ExtendedCapabilities, MediaType, MinDefaultMaxTime, OperationalParameters,
    Parameter, PendingProposalPolicy, ProviderAssetUploadDomains,
};
pub use preauth::{
    Claim, ClaimId, OID_ISSUER_ALT_NAME, OID_SUBJECT_ALT_NAME, PreAuthData, PreAuthRoleEntry,
};
pub use roles::{Role, RoleData, SingleSourceRoleChangeTargets};
pub use room_ended::RoomEnded;
pub use server_policy::{ServerCapabilities, ServerEntry, ServerPolicy, ServerPolicyMode};

use mimi_types::codepoints::ComponentId;

use crate::codec::DecodeError;

/// A room-state structure with a TLS encoding and a strict decoder.
pub trait Component: Sized {
    /// The structure's name, for error messages.
    const NAME: &'static str;

    /// The TLS presentation-language encoding.
    fn encode(&self) -> Vec<u8>;

    /// Decodes exactly one structure and checks the rules of its definition.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError>;
}

/// A component stored in the GroupContext under a fixed component ID.
pub trait StateComponent: Component {
    /// Its component ID.
    const ID: ComponentId;
}

/// Implements [`Component`] for a derive-coded type with a `validate` method.
macro_rules! tls_component {
    ($ty:ty, $name:literal) => {
        impl $crate::components::Component for $ty {
            const NAME: &'static str = $name;

            fn encode(&self) -> Vec<u8> {
                $crate::codec::encode(self)
            }

            fn decode(bytes: &[u8]) -> Result<Self, $crate::codec::DecodeError> {
                let value: Self = $crate::codec::decode_exact($name, bytes)?;
                value.validate()?;
                Ok(value)
            }
        }
    };
    ($ty:ty, $name:literal, $id:expr) => {
        tls_component!($ty, $name);

        impl $crate::components::StateComponent for $ty {
            const ID: mimi_types::codepoints::ComponentId = $id;
        }
    };
}
pub(crate) use tls_component;
