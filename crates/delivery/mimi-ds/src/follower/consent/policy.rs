//! A user's standing rule for strangers: who may fetch their key material without a grant.

use std::collections::BTreeSet;
use std::fmt;

use mimi_types::{Domain, UserUri};

/// Who may fetch a user's key material (and so add them to rooms) without having been
/// granted consent. A block always wins; a grant always allows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsentPolicy {
    /// Anyone not blocked (`anyone`).
    Anyone,
    /// Only the users this user granted consent to (`contacts`).
    Contacts,
    /// Anyone on these providers, and the user's contacts (`providers:a.example,b.example`).
    Providers(BTreeSet<Domain>),
}

/// A policy text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown consent policy {0:?}: write `anyone`, `contacts` or `providers:a.example,b.example`"
)]
pub struct PolicyParseError(pub String);

impl ConsentPolicy {
    /// The most providers a `providers` policy lists.
    pub const MAX_PROVIDERS: usize = 64;

    /// Whether the policy lets `requester` in without a grant.
    pub fn allows(&self, requester: &UserUri) -> bool {
        match self {
            Self::Anyone => true,
            Self::Contacts => false,
            Self::Providers(domains) => domains.contains(requester.domain()),
        }
    }

    /// Parses the text form ([`fmt::Display`] writes it).
    pub fn parse(text: &str) -> Result<Self, PolicyParseError> {
        let text = text.trim();
        let refuse = || PolicyParseError(text.to_owned());
        match text {
            "anyone" => Ok(Self::Anyone),
            "contacts" => Ok(Self::Contacts),
            _ => {
                let list = text.strip_prefix("providers:").ok_or_else(refuse)?;
                let domains = list
                    .split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| Domain::parse(d).map_err(|_| refuse()))
                    .collect::<Result<BTreeSet<_>, _>>()?;
                if domains.is_empty() || domains.len() > Self::MAX_PROVIDERS {
                    return Err(refuse());
                }
                Ok(Self::Providers(domains))
            }
        }
    }
}

impl fmt::Display for ConsentPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anyone => f.write_str("anyone"),
            Self::Contacts => f.write_str("contacts"),
            Self::Providers(domains) => {
                f.write_str("providers:")?;
                for (i, d) in domains.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(d.as_str())?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_bad_ones_are_refused() {
        for text in ["anyone", "contacts", "providers:a.example,b.example"] {
            assert_eq!(ConsentPolicy::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            ConsentPolicy::parse(" providers: B.example , a.example ")
                .unwrap()
                .to_string(),
            "providers:a.example,b.example"
        );
        for bad in ["", "everyone", "providers:", "providers:not a domain"] {
            assert!(ConsentPolicy::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn providers_policy_allows_only_listed_domains() {
        let p = ConsentPolicy::parse("providers:a.example").unwrap();
        assert!(p.allows(&UserUri::parse("mimi://a.example/u/x").unwrap()));
        assert!(!p.allows(&UserUri::parse("mimi://b.example/u/x").unwrap()));
        assert!(ConsentPolicy::Anyone.allows(&UserUri::parse("mimi://b.example/u/x").unwrap()));
        assert!(!ConsentPolicy::Contacts.allows(&UserUri::parse("mimi://b.example/u/x").unwrap()));
    }
}
