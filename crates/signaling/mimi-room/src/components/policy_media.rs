//! Asset policy and MLS operational policy (room-policy-03 Appendix B; digest §4.7), and the
//! mls-extensions `MediaType` they use.

use mimi_types::Domain;
use mimi_types::codepoints::ComponentId;
use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::tls_component;
use crate::codec::{DecodeError, tls_bool, utf8};

/// mls-extensions `Parameter` of a media type (value without RFC 2045 quoting).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct Parameter {
    /// Parameter name.
    #[tls_codec(with = "utf8")]
    pub parameter_name: String,
    /// Parameter value.
    #[tls_codec(with = "utf8")]
    pub parameter_value: String,
}

/// mls-extensions `MediaType`: `type/subtype` and parameters.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct MediaType {
    /// `type/subtype`.
    #[tls_codec(with = "utf8")]
    pub media_type: String,
    /// Parameters.
    pub parameters: Vec<Parameter>,
}

impl MediaType {
    /// A media type without parameters.
    pub fn new(media_type: &str) -> Self {
        Self {
            media_type: media_type.to_owned(),
            parameters: Vec::new(),
        }
    }

    /// Whether `self` (a policy entry) matches `other`: same type/subtype (ASCII
    /// case-insensitive), and, if `self` has parameters, the same parameters.
    pub fn matches(&self, other: &MediaType) -> bool {
        self.media_type.eq_ignore_ascii_case(&other.media_type)
            && (self.parameters.is_empty() || self.parameters == other.parameters)
    }
}

/// `enum { unspecified(0), localProvider(1), hub(2), (255) } AssetUploadLocation;`
#[derive(Debug, Clone, Copy, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum AssetUploadLocation {
    /// Unspecified.
    Unspecified = 0,
    /// The sender's own provider (RECOMMENDED).
    LocalProvider = 1,
    /// The hub.
    Hub = 2,
}

/// `DomainName`: a provider domain in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct DomainName {
    /// The domain (decoded strictly: canonical lowercase/punycode form).
    #[tls_codec(with = "domain_codec")]
    pub domain: Domain,
}

mod domain_codec {
    use std::io::{Read, Write};

    use mimi_types::Domain;

    use crate::codec::utf8;

    pub(crate) fn tls_serialized_len(v: &Domain) -> usize {
        utf8::tls_serialized_len(v.as_str())
    }

    pub(crate) fn tls_serialize<W: Write>(
        v: &Domain,
        w: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        utf8::tls_serialize(v.as_str(), w)
    }

    pub(crate) fn tls_deserialize<R: Read>(r: &mut R) -> Result<Domain, tls_codec::Error> {
        let text = utf8::tls_deserialize(r)?;
        match Domain::parse(&text) {
            Ok(d) if d.as_str() == text => Ok(d),
            _ => Err(tls_codec::Error::DecodingError(format!(
                "{text:?} is not a domain name in canonical form"
            ))),
        }
    }
}

/// `ProviderAssetUploadDomains`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ProviderAssetUploadDomains {
    /// The provider.
    pub provider: DomainName,
    /// Hosts its clients upload to.
    pub asset_upload_destinations: Vec<DomainName>,
}

/// `enum { direct(0), hubProxy(1), ohttp(2), (255) } DownloadPrivacyType;`
#[derive(Debug, Clone, Copy, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum DownloadPrivacyType {
    /// Direct download (NOT RECOMMENDED).
    Direct = 0,
    /// Through the hub's proxyDownload.
    HubProxy = 1,
    /// Through OHTTP.
    Ohttp = 2,
}

impl DownloadPrivacyType {
    /// Every type, in registry order.
    pub const ALL: [Self; 3] = [Self::Direct, Self::HubProxy, Self::Ohttp];

    /// The draft's name of the type (`direct`, `hubProxy`, `ohttp`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::HubProxy => "hubProxy",
            Self::Ohttp => "ohttp",
        }
    }

    /// The type of a name as [`DownloadPrivacyType::name`] gives it (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// `DownloadPrivacy`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct DownloadPrivacy {
    /// Allowed types.
    pub allowed_download_types: Vec<DownloadPrivacyType>,
    /// Forbidden types.
    pub forbidden_download_types: Vec<DownloadPrivacyType>,
    /// Default type.
    pub default_download_type: DownloadPrivacyType,
}

impl DownloadPrivacy {
    /// The types this allows: the allowed list, or where it is empty every type not forbidden
    /// (our reading, `readings.rs`).
    pub fn allowed_types(&self) -> Vec<DownloadPrivacyType> {
        let listed: &[DownloadPrivacyType] = if self.allowed_download_types.is_empty() {
            &DownloadPrivacyType::ALL
        } else {
            &self.allowed_download_types
        };
        listed
            .iter()
            .copied()
            .filter(|t| !self.forbidden_download_types.contains(t))
            .collect()
    }
}

/// `AssetPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct AssetPolicy {
    /// Where assets are uploaded.
    pub asset_upload_location: AssetUploadLocation,
    /// Upload hosts per provider.
    pub upload_domains: Vec<ProviderAssetUploadDomains>,
    /// Download privacy.
    pub download_privacy: DownloadPrivacy,
    /// Maximum image size in bytes.
    pub max_image: u64,
    /// Maximum audio size in bytes.
    pub max_audio: u64,
    /// Maximum video size in bytes.
    pub max_video: u64,
    /// Maximum attachment size in bytes.
    pub max_attachment: u64,
    /// Forbidden media types.
    pub forbidden_media_types: Vec<MediaType>,
    /// Permitted media types, if restricted (`optional<MediaType> …<V>` read as an optional list).
    pub permitted_media_types: Option<Vec<MediaType>>,
}

tls_component!(AssetPolicy, "AssetPolicy", ComponentId::ASSET_POLICY);

impl AssetPolicy {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        let dp = &self.download_privacy;
        if dp
            .allowed_download_types
            .iter()
            .any(|t| dp.forbidden_download_types.contains(t))
        {
            return Err(DecodeError::invalid(
                "AssetPolicy",
                "a download type is both allowed and forbidden",
            ));
        }
        if dp
            .forbidden_download_types
            .contains(&dp.default_download_type)
        {
            return Err(DecodeError::invalid(
                "AssetPolicy",
                "the default download type is forbidden",
            ));
        }
        Ok(())
    }

    /// Whether a media type may be used under this policy.
    pub fn permits(&self, media_type: &MediaType) -> bool {
        let forbidden = self
            .forbidden_media_types
            .iter()
            .any(|f| f.matches(media_type));
        let permitted = self
            .permitted_media_types
            .as_ref()
            .is_none_or(|p| p.iter().any(|e| e.matches(media_type)));
        permitted && !forbidden
    }
}

/// `ExtendedCapabilities` (RFC 9750 §7 knobs). Registry values are kept raw: versions,
/// cipher suites, extension, proposal and credential types, wire formats (the draft's
/// `WireFormats wire_formats<V>` read as a list of `WireFormat`), component IDs and content types.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ExtendedCapabilities {
    /// ProtocolVersion values.
    pub versions: Vec<u16>,
    /// CipherSuite values.
    pub cipher_suites: Vec<u16>,
    /// ExtensionType values.
    pub extensions: Vec<u16>,
    /// ProposalType values.
    pub proposals: Vec<u16>,
    /// CredentialType values.
    pub credentials: Vec<u16>,
    /// WireFormat values.
    pub wire_formats: Vec<u16>,
    /// ComponentID values.
    pub component_ids: Vec<u16>,
    /// ComponentID values usable in Safe AAD.
    pub safe_aad_types: Vec<u16>,
    /// Media types.
    pub media_types: Vec<MediaType>,
    /// ContentType values (uint8).
    pub content_types: Vec<u8>,
}

/// `PendingProposalPolicy` (the `case extension` arm has no enum value and is not decodable).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum PendingProposalPolicy {
    /// Unspecified.
    #[tls_codec(discriminant = 0)]
    Unspecified,
    /// Commit pending proposals immediately.
    #[tls_codec(discriminant = 1)]
    ImmediateCommit,
    /// Commit after a random delay in `[min, max]` milliseconds.
    #[tls_codec(discriminant = 2)]
    RandomDelay {
        /// Minimum delay (ms).
        minimum_delay_ms: u64,
        /// Maximum delay (ms).
        maximum_delay_ms: u64,
    },
}

/// `MinDefaultMaxTime`.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct MinDefaultMaxTime {
    /// Minimum.
    pub minimum_time: u64,
    /// Default.
    pub default_time: u64,
    /// Maximum.
    pub maximum_time: u64,
}

/// `AppMessagePolicy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct AppMessagePolicy {
    /// Epochs of tolerance for application messages.
    pub epoch_tolerance: u8,
    /// Pad to this size.
    pub pad_to_size: u16,
    /// Maximum generations to skip ahead.
    pub max_generations_skipahead: u32,
}

/// `OperationalParameters` (component `mls_operational_policy`; the draft's `unit64` read as
/// `uint64`).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct OperationalParameters {
    /// Capabilities every member must have.
    pub mandatory_capabilities: ExtendedCapabilities,
    /// Capabilities used by default.
    pub default_capabilities: ExtendedCapabilities,
    /// Capabilities no member may use.
    pub forbidden_capabilities: ExtendedCapabilities,
    /// Wire formats allowed for handshakes.
    pub handshake_formats: Vec<u16>,
    /// Whether external proposals are allowed.
    #[tls_codec(with = "tls_bool")]
    pub external_proposal_allowed: bool,
    /// Whether external commits are allowed.
    #[tls_codec(with = "tls_bool")]
    pub external_commit_allowed: bool,
    /// How pending proposals are committed.
    pub pending_proposal_policy: PendingProposalPolicy,
    /// LeafNode update period.
    pub leaf_node_update_time: MinDefaultMaxTime,
    /// Application message policy.
    pub app_message_policy: AppMessagePolicy,
    /// KeyPackage lifetime.
    pub max_kp_lifetime: u64,
    /// Credential lifetime.
    pub max_credential_lifetime: u64,
    /// Resumption PSK lifetime.
    pub resumption_psk_lifetime: u64,
    /// Sender nonce key pair lifetime.
    pub sender_nonce_keypair_lifetime: MinDefaultMaxTime,
    /// Maximum key pairs.
    pub max_keypairs: u32,
    /// How long to buffer incoming messages.
    pub buffer_incoming_message_time: MinDefaultMaxTime,
    /// Maximum buffered messages.
    pub max_buffered_messages: u32,
}

tls_component!(
    OperationalParameters,
    "OperationalParameters",
    ComponentId::MLS_OPERATIONAL_POLICY
);

impl OperationalParameters {
    /// Parameters that allow external proposals and commits and say nothing else: every list
    /// empty, every time and limit 0, pending proposals unspecified (what a room gets when an
    /// admin first turns one of the two switches; mimi-rs reads only those two fields).
    pub fn allowing_external() -> Self {
        Self {
            mandatory_capabilities: ExtendedCapabilities::default(),
            default_capabilities: ExtendedCapabilities::default(),
            forbidden_capabilities: ExtendedCapabilities::default(),
            handshake_formats: Vec::new(),
            external_proposal_allowed: true,
            external_commit_allowed: true,
            pending_proposal_policy: PendingProposalPolicy::Unspecified,
            leaf_node_update_time: MinDefaultMaxTime::default(),
            app_message_policy: AppMessagePolicy::default(),
            max_kp_lifetime: 0,
            max_credential_lifetime: 0,
            resumption_psk_lifetime: 0,
            sender_nonce_keypair_lifetime: MinDefaultMaxTime::default(),
            max_keypairs: 0,
            buffer_incoming_message_time: MinDefaultMaxTime::default(),
            max_buffered_messages: 0,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        if let PendingProposalPolicy::RandomDelay {
            minimum_delay_ms,
            maximum_delay_ms,
        } = self.pending_proposal_policy
            && minimum_delay_ms > maximum_delay_ms
        {
            return Err(DecodeError::invalid(
                "OperationalParameters",
                "random_delay minimum exceeds maximum",
            ));
        }
        Ok(())
    }
}
