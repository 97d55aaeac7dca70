//! Size caps applied by every decoder (and every encoder, so we never send what we would
//! refuse). The drafts set none; these are our choices, generous enough for post-quantum keys and
//! signatures and for groups of tens of thousands of members. Change them here.

/// Largest request or response body [`crate::decode_exact`] accepts.
pub const MAX_BODY_LEN: usize = 64 << 20;
/// Largest MLS vector length (RFC 9420 §2.1.2: 30-bit lengths).
pub const MAX_MLS_VECTOR_LEN: usize = (1 << 30) - 1;

/// A URI (`IdentifierUri`, `room_id`).
pub const MAX_URI_LEN: usize = 2048;
/// A short human-readable text (`errorDescription`, field and claim names).
pub const MAX_TEXT_LEN: usize = 4096;
/// A search value of an identifier query.
pub const MAX_SEARCH_VALUE_LEN: usize = 1024;
/// A profile field value.
pub const MAX_FIELD_VALUE_LEN: usize = 64 << 10;
/// The free-text note of an abuse report.
pub const MAX_NOTE_LEN: usize = 16 << 10;
/// The reported message content of an abuse report.
pub const MAX_MESSAGE_CONTENT_LEN: usize = 1 << 20;
/// A joining code.
pub const MAX_JOINING_CODE_LEN: usize = 1024;
/// A URL (ratchet tree download URL).
pub const MAX_URL_LEN: usize = 4096;

/// A public key (`SignaturePublicKey`, `HPKEPublicKey`, `kem_output`).
pub const MAX_KEY_LEN: usize = 4096;
/// A signature or MAC.
pub const MAX_SIGNATURE_LEN: usize = 8192;
/// A hash reference (`KeyPackageRef`, `ProposalRef`).
pub const MAX_REF_LEN: usize = 128;
/// A credential (an X.509 chain fits).
pub const MAX_CREDENTIAL_LEN: usize = 64 << 10;
/// A KeyPackage.
pub const MAX_KEY_PACKAGE_LEN: usize = 128 << 10;
/// Any other MLS object or vector inside one (MLSMessage, Welcome, GroupInfo, extensions).
pub const MAX_MLS_OBJECT_LEN: usize = 32 << 20;
/// A ratchet tree.
pub const MAX_RATCHET_TREE_LEN: usize = 48 << 20;
/// An `AppDataDictionary` component's data.
pub const MAX_COMPONENT_DATA_LEN: usize = 1 << 20;

/// Cipher suites in a key material request.
pub const MAX_CIPHERSUITES: usize = 256;
/// Clients of one user in a key material response.
pub const MAX_CLIENTS: usize = 1024;
/// Key packages in a consent grant.
pub const MAX_CONSENT_KEY_PACKAGES: usize = 1024;
/// Additional proposals stapled to a proposal or commit, and pending proposals.
pub const MAX_PROPOSALS: usize = 4096;
/// Fanout messages in one notify body.
pub const MAX_FANOUT_MESSAGES: usize = 4096;
/// Components in an `AppDataDictionary`.
pub const MAX_COMPONENTS: usize = 1024;
/// Query elements in an identifier request.
pub const MAX_QUERY_ELEMENTS: usize = 32;
/// URIs and profiles in an identifier response.
pub const MAX_QUERY_RESULTS: usize = 1024;
/// Fields of one user profile.
pub const MAX_PROFILE_FIELDS: usize = 256;
/// Messages in one abuse report.
pub const MAX_ABUSIVE_MESSAGES: usize = 256;
/// Invalid proposal references in an update response.
pub const MAX_PROPOSAL_REFS: usize = 4096;
/// Extensions in one extension list.
pub const MAX_EXTENSIONS: usize = 1024;

/// Largest directory document accepted.
pub const MAX_DIRECTORY_LEN: usize = 64 << 10;
