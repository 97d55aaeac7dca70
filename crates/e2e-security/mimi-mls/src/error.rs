//! Errors, split by cause. Each refused rule has its own variant so callers and tests can
//! tell exactly why something was refused.

use thiserror::Error;

/// A credential could not be issued, decoded or validated.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// The CA could not issue the certificate.
    #[error("cannot issue certificate: {0}")]
    Issue(String),
    /// The credential or certificate bytes are malformed.
    #[error("malformed credential: {0}")]
    Malformed(String),
    /// The credential could not be encoded.
    #[error("cannot encode credential: {0}")]
    Encoding(String),
    /// The credential carries its certificate list inside one more length prefix, as
    /// mimi-rs wrote X.509 credentials before following RFC 9420 §5.3.
    #[error(
        "the X.509 credential uses the pre-RFC 9420 layout of older mimi-rs releases (one extra length prefix); re-issue the device credential and its KeyPackages (`mimi device reissue`; in the SDK `Device::reissue`) and recreate rooms made with old credentials"
    )]
    LegacyLayout,
    /// The MLS credential is not of type x509.
    #[error("credential type {0} is not accepted: MIMI members use X.509 credentials")]
    WrongType(u16),
    /// The certificate chain is empty.
    #[error("the X.509 credential has no certificate")]
    EmptyChain,
    /// A subjectAltName is not a URI.
    #[error("unexpected subjectAltName {0}: only URI names are allowed")]
    UnexpectedSan(String),
    /// A URI SAN does not parse as the expected MIMI URI.
    #[error("subjectAltName {uri} is not usable: {reason}")]
    BadUri {
        /// The URI as written.
        uri: String,
        /// Why it is refused.
        reason: String,
    },
    /// The same kind of URI appears twice.
    #[error("subjectAltName {0} duplicates another URI of the same kind")]
    DuplicateSan(String),
    /// A client credential lacks the client or user URI (or a server one has extras).
    #[error(
        "a client credential needs exactly one client URI and one user URI; a server credential exactly one provider URI"
    )]
    MissingSan,
    /// The client URI's domain is not the issuer's.
    #[error("client URI {uri} is not on the issuer's domain {issuer}")]
    ClientDomainMismatch {
        /// The client URI.
        uri: String,
        /// The issuer's domain.
        issuer: String,
    },
    /// The user URI's domain is not the issuer's.
    #[error("user URI {uri} is not on the issuer's domain {issuer}")]
    UserDomainMismatch {
        /// The user URI.
        uri: String,
        /// The issuer's domain.
        issuer: String,
    },
    /// No CA is pinned for the domain the credential names.
    #[error("no CA is trusted for domain {0}: pin its provider CA first")]
    UntrustedDomain(String),
    /// The certificate was not issued by the CA pinned for its domain.
    #[error("the certificate was not issued by the CA pinned for {domain}")]
    IssuerNotPinned {
        /// The domain the certificate names.
        domain: String,
    },
    /// The certificate is outside its validity dates.
    #[error("the certificate is not valid at this time (expired or not yet valid)")]
    Expired,
    /// The pinned CA is outside its validity dates.
    #[error("the CA pinned for {0} is not valid at this time")]
    CaExpired(String),
    /// The leaf certificate is a CA.
    #[error("the credential certificate is a CA certificate; a leaf is required")]
    LeafIsCa,
    /// The leaf certificate lacks key usage digitalSignature.
    #[error("the credential certificate lacks key usage digitalSignature")]
    KeyUsage,
    /// The certified key is not the leaf's MLS signature key.
    #[error("the certificate's public key is not the MLS signature key it is presented with")]
    KeyMismatch,
    /// A certificate offered as CA is not one.
    #[error("the certificate offered for {0} is not a CA certificate")]
    NotACa(String),
    /// A CA certificate does not name the domain it is pinned for.
    #[error("the CA certificate does not name the provider URI of {domain}")]
    CaDomainMismatch {
        /// The domain it was offered for.
        domain: String,
    },
    /// A client credential was expected but a server one was given (or vice versa).
    #[error("expected a {expected} credential")]
    WrongKind {
        /// "client" or "server".
        expected: &'static str,
    },
    /// A member presented a credential naming a different client than its leaf had.
    #[error("an update changed the member's identity from {old} to {new}")]
    IdentityChanged {
        /// The client URI before.
        old: String,
        /// The client URI after.
        new: String,
    },
}

/// Signing or verifying with a MIMI label failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not verify.
    #[error("the {label} signature does not verify")]
    Invalid {
        /// The label.
        label: String,
    },
    /// Signing failed.
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// An MLS operation failed (client or hub).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MlsError {
    /// Bytes from the network do not decode.
    #[error("malformed MLS message: {0}")]
    Malformed(String),
    /// The message is of the wrong wire format or content type for this operation.
    #[error("unexpected message: {0}")]
    Unexpected(String),
    /// The message is for another group.
    #[error("the message is for group {got}, not {expected}")]
    WrongGroup {
        /// This group.
        expected: String,
        /// The message's group.
        got: String,
    },
    /// The handshake is not for the current epoch.
    #[error("the message is for epoch {got}; the group is in epoch {current}")]
    WrongEpoch {
        /// The group's epoch.
        current: u64,
        /// The message's epoch.
        got: u64,
    },
    /// An application message is from an older epoch than the hub's.
    #[error("the application message is for epoch {got}, older than the current {current}")]
    EpochTooOld {
        /// The group's epoch.
        current: u64,
        /// The message's epoch.
        got: u64,
    },
    /// An application message claims a newer epoch than the hub knows.
    #[error("the application message is for epoch {got}, newer than the current {current}")]
    EpochTooNew {
        /// The group's epoch.
        current: u64,
        /// The message's epoch.
        got: u64,
    },
    /// A new or changed leaf carries a credential that does not validate.
    #[error("a credential in the handshake is refused: {0}")]
    Credential(#[from] CredentialError),
    /// Room policy (mimi-room) refused the handshake or message.
    #[error("refused by room policy: {0}")]
    Denied(#[from] mimi_room::Denied),
    /// The room state in the GroupContext does not decode.
    #[error("room state in the group: {0}")]
    RoomState(#[from] mimi_room::DecodeError),
    /// The commit's resulting GroupContext does not carry the room state policy computed.
    #[error("the commit's app_data_dictionary differs from the authorized room state")]
    RoomStateMismatch,
    /// A commit leaves out proposals the hub accepted for this epoch.
    #[error(
        "the commit omits {missing} proposal(s) the hub accepted for this epoch; include them by reference"
    )]
    MissingCachedProposals {
        /// How many are missing.
        missing: usize,
    },
    /// A committer's GroupInfo does not describe the epoch its commit leads to.
    #[error(
        "the GroupInfo does not match the commit's new GroupContext; send the GroupInfo of the new epoch"
    )]
    GroupInfoMismatch,
    /// A commit came without the committer's GroupInfo for the new epoch.
    #[error(
        "a commit must come with the committer's full GroupInfo for the new epoch; none was given"
    )]
    GroupInfoMissing,
    /// The committer's GroupInfo is for another epoch than the one its commit leads to.
    #[error("the GroupInfo is for epoch {got}; the commit leads to epoch {expected}")]
    GroupInfoEpoch {
        /// The epoch the commit leads to.
        expected: u64,
        /// The GroupInfo's epoch.
        got: u64,
    },
    /// The GroupInfo names another signer than the committer's leaf.
    #[error("the GroupInfo names leaf {got} as its signer; the committer is leaf {expected}")]
    GroupInfoSigner {
        /// The committer's leaf index in the new epoch.
        expected: u32,
        /// The signer the GroupInfo names.
        got: u32,
    },
    /// The GroupInfo's signature does not verify with the committer's key of the new epoch.
    #[error("the GroupInfo is not signed by the committer's leaf of the new epoch")]
    GroupInfoSignature,
    /// The commit's confirmation tag differs from the one in the committer's GroupInfo (the
    /// commit or the GroupInfo was altered: members would refuse the commit).
    #[error(
        "the commit's confirmation tag differs from the committer's GroupInfo; the commit was altered"
    )]
    ConfirmationTagMismatch,
    /// The sender of an application message is not an active participant.
    #[error("{user} is not an active participant and may not send")]
    NotParticipant {
        /// The claimed sending user.
        user: String,
    },
    /// The hub's GroupInfo cannot resynchronise this device's group (another group, an
    /// older epoch, another hub, or this user is no longer a participant).
    #[error("cannot rejoin from the hub's GroupInfo: {0}")]
    Resync(String),
    /// openmls refused the message or operation.
    #[error("MLS: {0}")]
    Mls(String),
    /// The operation is not allowed in the current state (API misuse).
    #[error("invalid operation: {0}")]
    Misuse(String),
    /// A state record does not decode.
    #[error("state record: {0}")]
    Record(String),
    /// An internal invariant failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl MlsError {
    pub(crate) fn mls(e: impl std::fmt::Display) -> Self {
        Self::Mls(e.to_string())
    }
}
