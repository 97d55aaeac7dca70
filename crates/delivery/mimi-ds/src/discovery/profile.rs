//! A user's discovery profile: handle, display name, and what may be searched and revealed.

use std::fmt;

use mimi_types::UserUri;

/// The longest handle, in bytes.
pub const MAX_HANDLE_LEN: usize = 64;
/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 128;

/// Why a profile was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The handle is not 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
    #[error(
        "handle {0:?} is not usable: use 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a \
         letter or digit"
    )]
    BadHandle(String),
    /// The display name is empty, too long or has control characters.
    #[error("display name is not usable: use 1 to 128 characters without control characters ({0})")]
    BadDisplayName(String),
    /// A searchable field we do not know.
    #[error("{0:?} is not a searchable field; choose from handle, nick, name")]
    UnknownField(String),
    /// A stored searchable mask with bits we do not know.
    #[error("stored searchable fields {0:#x} have unknown bits")]
    UnknownBits(u8),
}

/// A handle: lowercase, 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit. Input is
/// lowercased first, so `Alice.Smith` and `alice.smith` are one handle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Handle(String);

impl Handle {
    /// Checks and lowercases `input`.
    pub fn parse(input: &str) -> Result<Self, ProfileError> {
        let folded = input.to_ascii_lowercase();
        let ok = !folded.is_empty()
            && folded.len() <= MAX_HANDLE_LEN
            && folded
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && folded
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(folded))
        } else {
            Err(ProfileError::BadHandle(input.to_owned()))
        }
    }

    /// The handle.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A field a user may make searchable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SearchableField {
    /// The handle (`handle`, `wholeProfile`; revealed as `preferred_username`).
    Handle,
    /// The user part of the MIMI URI (`nick`, `wholeProfile`).
    Nick,
    /// The display name (`partialName`, `wholeProfile`; revealed as `name`).
    Name,
}

impl SearchableField {
    /// Every field, in mask-bit order.
    pub const ALL: [Self; 3] = [Self::Handle, Self::Nick, Self::Name];

    fn bit(self) -> u8 {
        match self {
            Self::Handle => 1,
            Self::Nick => 2,
            Self::Name => 4,
        }
    }

    /// The field's name (`handle`, `nick`, `name`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Handle => "handle",
            Self::Nick => "nick",
            Self::Name => "name",
        }
    }

    /// The field named `name`.
    pub fn parse(name: &str) -> Result<Self, ProfileError> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name.trim())
            .ok_or_else(|| ProfileError::UnknownField(name.to_owned()))
    }
}

/// Which fields a query may match and an answer may reveal. None by default: a user nobody
/// may find.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Searchable(u8);

impl Searchable {
    /// Nothing searchable.
    pub const NONE: Self = Self(0);

    /// These fields.
    pub fn of(fields: &[SearchableField]) -> Self {
        Self(fields.iter().fold(0, |mask, f| mask | f.bit()))
    }

    /// Whether `field` is searchable.
    pub fn contains(self, field: SearchableField) -> bool {
        self.0 & field.bit() != 0
    }

    /// The fields, in a fixed order.
    pub fn fields(self) -> Vec<SearchableField> {
        SearchableField::ALL
            .into_iter()
            .filter(|f| self.contains(*f))
            .collect()
    }

    /// The stored form (a bit mask: handle 1, nick 2, name 4).
    pub fn bits(self) -> u8 {
        self.0
    }

    /// From the stored form, refusing unknown bits.
    pub fn from_bits(bits: u8) -> Result<Self, ProfileError> {
        if bits & !7 != 0 {
            return Err(ProfileError::UnknownBits(bits));
        }
        Ok(Self(bits))
    }
}

/// A user's discovery profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The user (canonical).
    pub user: UserUri,
    /// The handle, unique at its provider.
    pub handle: Option<Handle>,
    /// The display name as the user wrote it.
    pub display_name: Option<String>,
    /// What may be searched and revealed.
    pub searchable: Searchable,
}

impl Profile {
    /// A profile, checking the display name (the handle is checked by [`Handle::parse`]).
    pub fn new(
        user: UserUri,
        handle: Option<Handle>,
        display_name: Option<String>,
        searchable: Searchable,
    ) -> Result<Self, ProfileError> {
        if let Some(name) = &display_name {
            check_display_name(name)?;
        }
        Ok(Self {
            user,
            handle,
            display_name,
            searchable,
        })
    }

    /// The user part of the URI, lowercased (what `nick` compares).
    pub fn nick(&self) -> String {
        self.user.id().as_str().to_lowercase()
    }

    /// The display name folded for substring search (lowercased).
    pub fn folded_name(&self) -> Option<String> {
        self.display_name.as_deref().map(str::to_lowercase)
    }
}

fn check_display_name(name: &str) -> Result<(), ProfileError> {
    let chars = name.chars().count();
    if name.trim().is_empty() {
        return Err(ProfileError::BadDisplayName("it is empty".into()));
    }
    if chars > MAX_DISPLAY_NAME_CHARS {
        return Err(ProfileError::BadDisplayName(format!("{chars} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(ProfileError::BadDisplayName(
            "it has control characters".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_lowercased_and_checked() {
        assert_eq!(
            Handle::parse("Alice.Smith").unwrap().as_str(),
            "alice.smith"
        );
        for bad in ["", ".alice", "al ice", "al@ice", &"a".repeat(65), "ä"] {
            assert!(
                matches!(Handle::parse(bad), Err(ProfileError::BadHandle(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn searchable_round_trips_and_refuses_unknown_bits() {
        let s = Searchable::of(&[SearchableField::Name, SearchableField::Handle]);
        assert_eq!(Searchable::from_bits(s.bits()).unwrap(), s);
        assert_eq!(s.fields(), [SearchableField::Handle, SearchableField::Name]);
        assert!(!s.contains(SearchableField::Nick));
        assert_eq!(Searchable::from_bits(8), Err(ProfileError::UnknownBits(8)));
        assert!(matches!(
            SearchableField::parse("email"),
            Err(ProfileError::UnknownField(_))
        ));
    }

    #[test]
    fn display_names_are_checked() {
        let user = UserUri::parse("mimi://x.example/u/alice").unwrap();
        let make = |n: &str| Profile::new(user.clone(), None, Some(n.into()), Searchable::NONE);
        assert!(make("Alice Smith").is_ok());
        for bad in ["", "  ", "a\nb", &"x".repeat(129)] {
            assert!(
                matches!(make(bad), Err(ProfileError::BadDisplayName(_))),
                "{bad:?}"
            );
        }
    }
}
