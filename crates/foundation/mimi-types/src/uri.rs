//! The MIMI URI forms (draft-ietf-mimi-protocol-06 §3; draft-mahy-mimi-identity-05 §3).
//!
//! | kind      | form                                         |
//! |-----------|----------------------------------------------|
//! | provider  | `mimi://<domain>`                            |
//! | user      | `mimi://<domain>/u/<id>`                     |
//! | pseudonym | `mimi://<domain>/p/<id>`                     |
//! | client    | `mimi://<domain>/d/<id>` or `…/d/<user>/<id>` |
//! | room      | `mimi://<domain>/r/<id>`                     |
//! | group     | `mimi://<domain>/g/<id>`                     |
//! | team      | `mimi://<domain>/t/<id>`                     |
//!
//! The drafts give no comparison rules. Our reading (digest §6.1): the scheme and host are
//! lowercased (an IDN host becomes punycode), identifier segments are kept exactly as written,
//! and two URIs are equal when their canonical strings are equal octet for octet.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::Domain;
use crate::error::{DomainError, UriError};
use crate::ident::Ident;

/// The scheme of every MIMI URI.
pub const SCHEME: &str = "mimi";

/// What a MIMI URI identifies: given by its first path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum UriKind {
    /// `mimi://<domain>`
    Provider,
    /// `/u/`
    User,
    /// `/p/`
    Pseudonym,
    /// `/d/`: a client (device), the MLS member.
    Client,
    /// `/r/`
    Room,
    /// `/g/`: an MLS group.
    Group,
    /// `/t/`
    Team,
}

impl UriKind {
    /// The path segment that marks this kind (`None` for a provider).
    pub const fn segment(self) -> Option<&'static str> {
        match self {
            Self::Provider => None,
            Self::User => Some("u"),
            Self::Pseudonym => Some("p"),
            Self::Client => Some("d"),
            Self::Room => Some("r"),
            Self::Group => Some("g"),
            Self::Team => Some("t"),
        }
    }

    fn from_segment(segment: &str) -> Option<Self> {
        Some(match segment {
            "u" => Self::User,
            "p" => Self::Pseudonym,
            "d" => Self::Client,
            "r" => Self::Room,
            "g" => Self::Group,
            "t" => Self::Team,
            _ => return None,
        })
    }

    /// How many identifier segments follow the kind segment, at least and at most.
    const fn id_segments(self) -> (usize, usize) {
        match self {
            Self::Provider => (0, 0),
            Self::Client => (1, 2),
            _ => (1, 1),
        }
    }
}

impl fmt::Display for UriKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Provider => "provider",
            Self::User => "user",
            Self::Pseudonym => "pseudonym",
            Self::Client => "client",
            Self::Room => "room",
            Self::Group => "group",
            Self::Team => "team",
        })
    }
}

/// A parsed URI before it is sorted into its type.
struct Parts {
    domain: Domain,
    kind: UriKind,
    ids: Vec<Ident>,
}

fn parse_parts(input: &str) -> Result<Parts, UriError> {
    if input.is_empty() {
        return Err(UriError::Empty);
    }
    let (scheme, rest) = match input.split_once(':') {
        Some((scheme, rest))
            if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (scheme, rest)
        }
        _ => return Err(UriError::MissingScheme),
    };
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(UriError::WrongScheme(scheme.to_owned()));
    }
    let rest = rest.strip_prefix("//").ok_or(UriError::MissingAuthority)?;
    if rest.contains('#') {
        return Err(UriError::Fragment);
    }
    if rest.contains('?') {
        return Err(UriError::Query);
    }
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        return Err(UriError::UserInfo(userinfo.to_owned()));
    }
    if authority.starts_with('[') {
        return Err(DomainError::IpAddress(authority.to_owned()).into());
    }
    if let Some((_, port)) = authority.split_once(':') {
        return Err(UriError::Port(port.to_owned()));
    }
    let domain = Domain::parse(authority)?;
    if path.is_empty() {
        return Ok(Parts {
            domain,
            kind: UriKind::Provider,
            ids: Vec::new(),
        });
    }
    let mut segments = path[1..].split('/');
    let kind_segment = segments.next().unwrap_or_default();
    if kind_segment.is_empty() {
        return Err(UriError::EmptySegment);
    }
    let kind = UriKind::from_segment(kind_segment)
        .ok_or_else(|| UriError::UnknownKind(kind_segment.to_owned()))?;
    let ids = segments.map(Ident::parse).collect::<Result<Vec<_>, _>>()?;
    let (min, max) = kind.id_segments();
    if ids.len() < min {
        return Err(UriError::MissingId(kind));
    }
    if ids.len() > max {
        return Err(UriError::TooManySegments(kind));
    }
    Ok(Parts { domain, kind, ids })
}

/// Implements `Display`-based `Debug` and string serde for a URI type.
macro_rules! uri_string_impls {
    ($name:ident) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Defines a URI type of the form `mimi://<domain>/<letter>/<id>`.
macro_rules! single_id_uri {
    ($(#[$meta:meta])* $name:ident, $kind:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            domain: Domain,
            id: Ident,
        }

        impl $name {
            /// Builds the URI from its parts.
            pub fn new(domain: Domain, id: Ident) -> Self {
                Self { domain, id }
            }

            /// Parses a URI of exactly this kind.
            pub fn parse(input: &str) -> Result<Self, UriError> {
                match MimiUri::parse(input)? {
                    MimiUri::$kind(uri) => Ok(uri),
                    other => Err(UriError::WrongKind {
                        expected: UriKind::$kind,
                        found: other.kind(),
                    }),
                }
            }

            /// The domain of the provider that issued this identifier.
            pub fn domain(&self) -> &Domain {
                &self.domain
            }

            /// The identifier segment.
            pub fn id(&self) -> &Ident {
                &self.id
            }

            /// The provider that issued this identifier.
            pub fn provider(&self) -> ProviderUri {
                ProviderUri::new(self.domain.clone())
            }

            /// The length in bytes of the URI's text form (`to_string().len()`, without
            /// building the string).
            pub fn text_len(&self) -> usize {
                let letter = UriKind::$kind.segment().unwrap_or_default();
                SCHEME.len() + "://".len() + self.domain.as_str().len() + 2 + letter.len()
                    + self.id.as_str().len()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let letter = UriKind::$kind.segment().unwrap_or_default();
                write!(f, "{SCHEME}://{}/{letter}/{}", self.domain, self.id)
            }
        }

        impl FromStr for $name {
            type Err = UriError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl From<$name> for MimiUri {
            fn from(uri: $name) -> Self {
                MimiUri::$kind(uri)
            }
        }

        uri_string_impls!($name);
    };
}

single_id_uri!(
    /// A user: `mimi://<domain>/u/<id>`. Users are the participants of rooms.
    UserUri,
    User
);
single_id_uri!(
    /// A pseudonym: `mimi://<domain>/p/<id>` (minimal-metadata rooms).
    PseudonymUri,
    Pseudonym
);
single_id_uri!(
    /// A room: `mimi://<domain>/r/<id>`. The domain is the room's hub.
    RoomUri,
    Room
);
single_id_uri!(
    /// An MLS group: `mimi://<domain>/g/<id>`.
    GroupUri,
    Group
);
single_id_uri!(
    /// A team: `mimi://<domain>/t/<id>`.
    TeamUri,
    Team
);

impl RoomUri {
    /// The domain of the provider that hosts this room: its hub.
    pub fn hub_domain(&self) -> &Domain {
        &self.domain
    }

    /// The URI of the room's MLS group: same domain and identifier under `/g/`, as in the
    /// protocol draft's examples. Its octets are the MLS group ID.
    pub fn group_uri(&self) -> GroupUri {
        GroupUri::new(self.domain.clone(), self.id.clone())
    }
}

/// A provider: `mimi://<domain>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderUri {
    domain: Domain,
}

impl ProviderUri {
    /// The provider URI of a domain.
    pub fn new(domain: Domain) -> Self {
        Self { domain }
    }

    /// Parses `mimi://<domain>`.
    pub fn parse(input: &str) -> Result<Self, UriError> {
        match MimiUri::parse(input)? {
            MimiUri::Provider(uri) => Ok(uri),
            other => Err(UriError::WrongKind {
                expected: UriKind::Provider,
                found: other.kind(),
            }),
        }
    }

    /// The provider's domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl fmt::Display for ProviderUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}://{}", self.domain)
    }
}

impl FromStr for ProviderUri {
    type Err = UriError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

uri_string_impls!(ProviderUri);

/// A client (device), the MLS member: `mimi://<domain>/d/<id>` or `mimi://<domain>/d/<user>/<id>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientUri {
    domain: Domain,
    user: Option<Ident>,
    id: Ident,
}

impl UserUri {
    /// The same user with its account name in canonical form ([`Ident::canonical`]): what
    /// a provider registers and looks the user up by.
    #[must_use]
    pub fn canonical(&self) -> Self {
        Self::new(self.domain.clone(), self.id.canonical())
    }
}

impl ClientUri {
    /// A client URI of the form `…/d/<id>`.
    pub fn new(domain: Domain, id: Ident) -> Self {
        Self {
            domain,
            user: None,
            id,
        }
    }

    /// A client URI of the form `…/d/<user>/<id>`, naming its user.
    pub fn of_user(user: &UserUri, id: Ident) -> Self {
        Self {
            domain: user.domain().clone(),
            user: Some(user.id().clone()),
            id,
        }
    }

    /// Parses a client URI.
    pub fn parse(input: &str) -> Result<Self, UriError> {
        match MimiUri::parse(input)? {
            MimiUri::Client(uri) => Ok(uri),
            other => Err(UriError::WrongKind {
                expected: UriKind::Client,
                found: other.kind(),
            }),
        }
    }

    /// The domain of the provider the client belongs to.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The device identifier (the last segment).
    pub fn device_id(&self) -> &Ident {
        &self.id
    }

    /// The user segment of the `…/d/<user>/<id>` form.
    pub fn user_segment(&self) -> Option<&Ident> {
        self.user.as_ref()
    }

    /// The user this client names in its URI (`…/d/<user>/<id>` form), as a user URI of the same
    /// provider. A `…/d/<id>` client names no user: its user comes from its credential.
    pub fn user_hint(&self) -> Option<UserUri> {
        self.user
            .as_ref()
            .map(|user| UserUri::new(self.domain.clone(), user.clone()))
    }

    /// The provider the client belongs to.
    pub fn provider(&self) -> ProviderUri {
        ProviderUri::new(self.domain.clone())
    }
}

impl fmt::Display for ClientUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}://{}/d/", self.domain)?;
        if let Some(user) = &self.user {
            write!(f, "{user}/")?;
        }
        write!(f, "{}", self.id)
    }
}

impl FromStr for ClientUri {
    type Err = UriError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<ClientUri> for MimiUri {
    fn from(uri: ClientUri) -> Self {
        Self::Client(uri)
    }
}

impl From<ProviderUri> for MimiUri {
    fn from(uri: ProviderUri) -> Self {
        Self::Provider(uri)
    }
}

uri_string_impls!(ClientUri);

/// Any MIMI URI, sorted by kind.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MimiUri {
    /// `mimi://<domain>`
    Provider(ProviderUri),
    /// `/u/<id>`
    User(UserUri),
    /// `/p/<id>`
    Pseudonym(PseudonymUri),
    /// `/d/[<user>/]<id>`
    Client(ClientUri),
    /// `/r/<id>`
    Room(RoomUri),
    /// `/g/<id>`
    Group(GroupUri),
    /// `/t/<id>`
    Team(TeamUri),
}

impl MimiUri {
    /// Parses any MIMI URI.
    pub fn parse(input: &str) -> Result<Self, UriError> {
        let Parts {
            domain,
            kind,
            mut ids,
        } = parse_parts(input)?;
        let Some(id) = ids.pop() else {
            return Ok(Self::Provider(ProviderUri::new(domain)));
        };
        Ok(match kind {
            UriKind::User => Self::User(UserUri::new(domain, id)),
            UriKind::Pseudonym => Self::Pseudonym(PseudonymUri::new(domain, id)),
            UriKind::Client => Self::Client(ClientUri {
                domain,
                user: ids.pop(),
                id,
            }),
            UriKind::Room => Self::Room(RoomUri::new(domain, id)),
            UriKind::Group => Self::Group(GroupUri::new(domain, id)),
            UriKind::Team => Self::Team(TeamUri::new(domain, id)),
            UriKind::Provider => Self::Provider(ProviderUri::new(domain)),
        })
    }

    /// What the URI identifies.
    pub fn kind(&self) -> UriKind {
        match self {
            Self::Provider(_) => UriKind::Provider,
            Self::User(_) => UriKind::User,
            Self::Pseudonym(_) => UriKind::Pseudonym,
            Self::Client(_) => UriKind::Client,
            Self::Room(_) => UriKind::Room,
            Self::Group(_) => UriKind::Group,
            Self::Team(_) => UriKind::Team,
        }
    }

    /// The domain of the provider that issued the identifier.
    pub fn domain(&self) -> &Domain {
        match self {
            Self::Provider(u) => u.domain(),
            Self::User(u) => u.domain(),
            Self::Pseudonym(u) => u.domain(),
            Self::Client(u) => u.domain(),
            Self::Room(u) => u.domain(),
            Self::Group(u) => u.domain(),
            Self::Team(u) => u.domain(),
        }
    }
}

impl fmt::Display for MimiUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Provider(u) => u.fmt(f),
            Self::User(u) => u.fmt(f),
            Self::Pseudonym(u) => u.fmt(f),
            Self::Client(u) => u.fmt(f),
            Self::Room(u) => u.fmt(f),
            Self::Group(u) => u.fmt(f),
            Self::Team(u) => u.fmt(f),
        }
    }
}

impl FromStr for MimiUri {
    type Err = UriError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

uri_string_impls!(MimiUri);

#[cfg(test)]
mod tests;
