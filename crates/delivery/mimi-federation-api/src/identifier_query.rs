//! `POST /identifierQuery/{domain}` (draft-ietf-mimi-protocol-06 §5.8, digest §3.8).
//!
//! **Sent by** a provider **directly to** the provider `{domain}` (never via a hub) to find a
//! user's MIMI URI from a handle, e-mail, phone number, name or profile field; all query
//! elements must match. **Request** [`IdentifierRequest`]; **response** [`IdentifierResponse`]
//! with HTTP 200. Declared safe and idempotent. Metadata: [`crate::http::IDENTIFIER_QUERY`].
//! Readings D13, D17, D29 in [`crate::defects`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::IDENTIFIER_QUERY as ENDPOINT;

use crate::codec::{Decode, Encode, Reader, Writer, closed_enum, tls_codec_bridge};
use crate::common::{AppDataDictionary, IdentifierUri};
use crate::error::{DecodeError, EncodeError};
use crate::limits::{
    MAX_FIELD_VALUE_LEN, MAX_MLS_OBJECT_LEN, MAX_PROFILE_FIELDS, MAX_QUERY_ELEMENTS,
    MAX_QUERY_RESULTS, MAX_SEARCH_VALUE_LEN, MAX_TEXT_LEN,
};

closed_enum! {
    /// `SearchIdentifierType`.
    SearchIdentifierType, "SearchIdentifierType", reserved [0] {
        /// `handle(1)`: the whole handle URI, exact (`im:alice.smith@a.example`).
        Handle = 1 => "handle",
        /// `nick(2)`: the user part, exact.
        Nick = 2 => "nick",
        /// `email(3)`: an RFC 5322 addr-spec, exact.
        Email = 3 => "email",
        /// `phone(4)`: E.164 with `+`.
        Phone = 4 => "phone",
        /// `partialName(5)`: case-insensitive substring of name fields.
        PartialName = 5 => "partialName",
        /// `wholeProfile(6)`: substring of any searchable field.
        WholeProfile = 6 => "wholeProfile",
        /// `oidcStdClaim(7)`: exact match on a named OIDC standard claim.
        OidcStdClaim = 7 => "oidcStdClaim",
        /// `vcardField(8)`: exact match on a named vCard property.
        VcardField = 8 => "vcardField",
    }
}

/// What a query element searches (the `select (searchType)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SearchKind {
    /// `handle`.
    Handle,
    /// `nick`.
    Nick,
    /// `email`.
    Email,
    /// `phone`.
    Phone,
    /// `partialName`.
    PartialName,
    /// `wholeProfile`.
    WholeProfile,
    /// `oidcStdClaim` with the claim's name.
    OidcStdClaim {
        /// `claimName`.
        claim_name: String,
    },
    /// `vcardField` with the property's name.
    VcardField {
        /// `propertyName`.
        property_name: String,
    },
}

impl SearchKind {
    /// The search type code.
    pub fn search_type(&self) -> SearchIdentifierType {
        match self {
            Self::Handle => SearchIdentifierType::Handle,
            Self::Nick => SearchIdentifierType::Nick,
            Self::Email => SearchIdentifierType::Email,
            Self::Phone => SearchIdentifierType::Phone,
            Self::PartialName => SearchIdentifierType::PartialName,
            Self::WholeProfile => SearchIdentifierType::WholeProfile,
            Self::OidcStdClaim { .. } => SearchIdentifierType::OidcStdClaim,
            Self::VcardField { .. } => SearchIdentifierType::VcardField,
        }
    }
}

/// `QueryElement`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct QueryElement {
    /// What to search.
    pub search: SearchKind,
    /// The value to look for (UTF-8).
    pub search_value: String,
}

impl QueryElement {
    /// A query element.
    pub fn new(search: SearchKind, search_value: impl Into<String>) -> Self {
        Self {
            search,
            search_value: search_value.into(),
        }
    }
}

impl Encode for QueryElement {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.search.search_type().encode_into(w)?;
        match &self.search {
            SearchKind::OidcStdClaim { claim_name } => {
                w.opaque("claimName", MAX_TEXT_LEN, claim_name.as_bytes())?;
            }
            SearchKind::VcardField { property_name } => {
                w.opaque("propertyName", MAX_TEXT_LEN, property_name.as_bytes())?;
            }
            _ => {}
        }
        w.opaque(
            "searchValue",
            MAX_SEARCH_VALUE_LEN,
            self.search_value.as_bytes(),
        )
    }
}

impl Decode for QueryElement {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let search = match SearchIdentifierType::decode_from(r)? {
            SearchIdentifierType::Handle => SearchKind::Handle,
            SearchIdentifierType::Nick => SearchKind::Nick,
            SearchIdentifierType::Email => SearchKind::Email,
            SearchIdentifierType::Phone => SearchKind::Phone,
            SearchIdentifierType::PartialName => SearchKind::PartialName,
            SearchIdentifierType::WholeProfile => SearchKind::WholeProfile,
            SearchIdentifierType::OidcStdClaim => SearchKind::OidcStdClaim {
                claim_name: r.text("claimName", MAX_TEXT_LEN)?,
            },
            SearchIdentifierType::VcardField => SearchKind::VcardField {
                property_name: r.text("propertyName", MAX_TEXT_LEN)?,
            },
        };
        Ok(Self {
            search,
            search_value: r.text("searchValue", MAX_SEARCH_VALUE_LEN)?,
        })
    }
}

/// `IdentifierRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct IdentifierRequest {
    /// The elements, all of which must match.
    pub query_elements: Vec<QueryElement>,
    /// `id_request_extensions`.
    pub id_request_extensions: AppDataDictionary,
}

impl IdentifierRequest {
    /// A request without extensions.
    pub fn new(query_elements: Vec<QueryElement>) -> Self {
        Self {
            query_elements,
            id_request_extensions: AppDataDictionary::new(),
        }
    }
}

impl Encode for IdentifierRequest {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.list(
            "query_elements",
            MAX_MLS_OBJECT_LEN,
            MAX_QUERY_ELEMENTS,
            &self.query_elements,
            |w, q| q.encode_into(w),
        )?;
        self.id_request_extensions.encode_into(w)
    }
}

impl Decode for IdentifierRequest {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            query_elements: r.list(
                "query_elements",
                MAX_MLS_OBJECT_LEN,
                MAX_QUERY_ELEMENTS,
                QueryElement::decode_from,
            )?,
            id_request_extensions: AppDataDictionary::decode_from(r)?,
        })
    }
}

closed_enum! {
    /// `IdentifierQueryCode`.
    IdentifierQueryCode, "IdentifierQueryCode", reserved [] {
        /// `success(0)`
        Success = 0 => "success",
        /// `notFound(1)`
        NotFound = 1 => "notFound",
        /// `ambiguous(2)`: an exact field or a combination is needed.
        Ambiguous = 2 => "ambiguous",
        /// `forbidden(3)`
        Forbidden = 3 => "forbidden",
        /// `unsupportedField(4)`
        UnsupportedField = 4 => "unsupportedField",
    }
}

closed_enum! {
    /// `FieldSource`: where a profile field's name comes from.
    FieldSource, "FieldSource", reserved [0] {
        /// `oidcStdClaim(7)`
        OidcStdClaim = 7 => "oidcStdClaim",
        /// `vcardField(8)`
        VcardField = 8 => "vcardField",
    }
}

/// `ProfileField`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ProfileField {
    /// The naming scheme of `field_name`.
    pub field_source: FieldSource,
    /// The claim or property name (UTF-8).
    pub field_name: String,
    /// The value (bytes).
    pub field_value: Vec<u8>,
}

impl ProfileField {
    /// A profile field.
    pub fn new(
        field_source: FieldSource,
        field_name: impl Into<String>,
        field_value: Vec<u8>,
    ) -> Self {
        Self {
            field_source,
            field_name: field_name.into(),
            field_value,
        }
    }
}

impl Encode for ProfileField {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.field_source.encode_into(w)?;
        w.opaque("fieldName", MAX_TEXT_LEN, self.field_name.as_bytes())?;
        w.opaque("fieldValue", MAX_FIELD_VALUE_LEN, &self.field_value)
    }
}

impl Decode for ProfileField {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            field_source: FieldSource::decode_from(r)?,
            field_name: r.text("fieldName", MAX_TEXT_LEN)?,
            field_value: r.opaque("fieldValue", MAX_FIELD_VALUE_LEN)?.to_vec(),
        })
    }
}

/// `UserProfile`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UserProfile {
    /// The user's stable MIMI URI.
    pub stable_uri: IdentifierUri,
    /// The fields the user's policy lets the provider reveal.
    pub fields: Vec<ProfileField>,
}

impl UserProfile {
    /// A profile.
    pub fn new(stable_uri: IdentifierUri, fields: Vec<ProfileField>) -> Self {
        Self { stable_uri, fields }
    }
}

impl Encode for UserProfile {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.stable_uri.encode_into(w)?;
        w.list(
            "fields",
            MAX_MLS_OBJECT_LEN,
            MAX_PROFILE_FIELDS,
            &self.fields,
            |w, f| f.encode_into(w),
        )
    }
}

impl Decode for UserProfile {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            stable_uri: IdentifierUri::decode_from(r)?,
            fields: r.list(
                "fields",
                MAX_MLS_OBJECT_LEN,
                MAX_PROFILE_FIELDS,
                ProfileField::decode_from,
            )?,
        })
    }
}

/// `IdentifierResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct IdentifierResponse {
    /// The outcome.
    pub response_code: IdentifierQueryCode,
    /// The URIs found.
    pub uri: Vec<IdentifierUri>,
    /// The profiles found.
    pub found_profiles: Vec<UserProfile>,
    /// `id_response_extensions`.
    pub id_response_extensions: AppDataDictionary,
}

impl IdentifierResponse {
    /// A response without extensions.
    pub fn new(
        response_code: IdentifierQueryCode,
        uri: Vec<IdentifierUri>,
        found_profiles: Vec<UserProfile>,
    ) -> Self {
        Self {
            response_code,
            uri,
            found_profiles,
            id_response_extensions: AppDataDictionary::new(),
        }
    }
}

impl Encode for IdentifierResponse {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.response_code.encode_into(w)?;
        w.list(
            "uri",
            MAX_MLS_OBJECT_LEN,
            MAX_QUERY_RESULTS,
            &self.uri,
            |w, u| u.encode_into(w),
        )?;
        w.list(
            "foundProfiles",
            MAX_MLS_OBJECT_LEN,
            MAX_QUERY_RESULTS,
            &self.found_profiles,
            |w, p| p.encode_into(w),
        )?;
        self.id_response_extensions.encode_into(w)
    }
}

impl Decode for IdentifierResponse {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            response_code: IdentifierQueryCode::decode_from(r)?,
            uri: r.list(
                "uri",
                MAX_MLS_OBJECT_LEN,
                MAX_QUERY_RESULTS,
                IdentifierUri::decode_from,
            )?,
            found_profiles: r.list(
                "foundProfiles",
                MAX_MLS_OBJECT_LEN,
                MAX_QUERY_RESULTS,
                UserProfile::decode_from,
            )?,
            id_response_extensions: AppDataDictionary::decode_from(r)?,
        })
    }
}

tls_codec_bridge!(
    SearchIdentifierType,
    QueryElement,
    IdentifierRequest,
    IdentifierQueryCode,
    FieldSource,
    ProfileField,
    UserProfile,
    IdentifierResponse
);
