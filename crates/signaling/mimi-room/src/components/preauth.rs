//! Preauthorization, component `preauth_list` (room-policy-03 §4; digest §4.6).

use mimi_types::codepoints::{ComponentId, CredentialType};
use mimi_types::{ClientUri, Domain, UserUri};
use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::{Role, RoleIndex, tls_component};
use crate::codec::{DecodeError, credential_type};

/// `ClaimId`: which claim of which credential type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ClaimId {
    /// Credential type the claim comes from.
    #[tls_codec(with = "credential_type")]
    pub credential_type: CredentialType,
    /// X.509 OID bytes, JWT claim name, or CWT map key.
    pub id: Vec<u8>,
}

/// `Claim`: a claim and its exact value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct Claim {
    /// Which claim.
    pub claim_id: ClaimId,
    /// Its value, compared octet for octet.
    pub claim_value: Vec<u8>,
}

impl Claim {
    /// A claim.
    pub fn new(credential_type: CredentialType, id: &[u8], value: &[u8]) -> Self {
        Self {
            claim_id: ClaimId {
                credential_type,
                id: id.to_vec(),
            },
            claim_value: value.to_vec(),
        }
    }

    /// The claim that an X.509 credential's subjectAltName holds the URI `uri`.
    pub fn x509_subject_uri(uri: &str) -> Self {
        Self::new(CredentialType::X509, OID_SUBJECT_ALT_NAME, uri.as_bytes())
    }

    /// The claim that an X.509 credential was issued by the provider of `domain`
    /// (`mimi://<domain>` under issuerAltName).
    pub fn x509_issuer(domain: &Domain) -> Self {
        let provider = format!("mimi://{domain}");
        Self::new(
            CredentialType::X509,
            OID_ISSUER_ALT_NAME,
            provider.as_bytes(),
        )
    }

    /// The claims a client's validated X.509 credential makes (our reading, `readings`): its
    /// client URI and its user URI as subjectAltNames, and its provider as issuer. A
    /// preauthorization entry matches users of one provider with [`Claim::x509_issuer`] and one
    /// user with [`Claim::x509_subject_uri`] of the user URI.
    pub fn of_x509_client(client: &ClientUri, user: &UserUri) -> Vec<Self> {
        let mut claims = vec![
            Self::x509_subject_uri(&client.to_string()),
            Self::x509_subject_uri(&user.to_string()),
            Self::x509_issuer(user.domain()),
        ];
        claims.sort();
        claims
    }
}

/// The DER contents of the OID id-ce-subjectAltName (2.5.29.17).
pub const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// The DER contents of the OID id-ce-issuerAltName (2.5.29.18).
pub const OID_ISSUER_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x12];

/// `PreAuthRoleEntry`: when every claim is present in the requester's credential, the requester
/// is preauthorized for `target_role`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct PreAuthRoleEntry {
    /// The claims, all of which must match.
    pub claimset: Vec<Claim>,
    /// The role granted. Encoded as a full `Role` as the draft writes it; only its `role_index`
    /// counts, and it must name a role of `roles_list` (see the crate's `readings`).
    pub target_role: Role,
}

impl PreAuthRoleEntry {
    /// Whether every claim of the entry is among `claims`.
    pub fn matches(&self, claims: &[Claim]) -> bool {
        self.claimset.iter().all(|c| claims.contains(c))
    }
}

/// `PreAuthData`: entries tried in order; the first match wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct PreAuthData {
    /// The entries.
    pub preauthorized_entries: Vec<PreAuthRoleEntry>,
}

tls_component!(PreAuthData, "PreAuthData", ComponentId::PREAUTH_LIST);

impl PreAuthData {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        for entry in &self.preauthorized_entries {
            entry.target_role.validate()?;
            if entry.target_role.role_index == RoleIndex::NO_ROLE {
                return Err(DecodeError::invalid(
                    "PreAuthData",
                    "an entry preauthorizes role 0 (no role)",
                ));
            }
            if entry.claimset.is_empty() {
                return Err(DecodeError::invalid(
                    "PreAuthData",
                    "an entry has an empty claimset, which would match everyone; use canOpenJoin",
                ));
            }
        }
        Ok(())
    }

    /// Whether an entry preauthorizes users of `domain` by our X.509 claims (its provider as
    /// issuer, or a URI on it as subject): the hub then lets that provider ask to join.
    pub fn names_provider(&self, domain: &Domain) -> bool {
        let provider = format!("mimi://{domain}");
        let under = format!("{provider}/");
        self.preauthorized_entries.iter().any(|e| {
            e.claimset.iter().any(|c| {
                c.claim_id.credential_type == CredentialType::X509
                    && (c.claim_value == provider.as_bytes()
                        || c.claim_value.starts_with(under.as_bytes()))
            })
        })
    }

    /// The role of the first entry whose claims all appear in `claims`.
    pub fn first_match(&self, claims: &[Claim]) -> Option<RoleIndex> {
        self.preauthorized_entries
            .iter()
            .find(|e| e.matches(claims))
            .map(|e| e.target_role.role_index)
    }
}
