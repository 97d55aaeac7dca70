//! Provider domain names, normalised for octet-exact comparison.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DomainError;

/// Longest domain in ASCII form (RFC 1035 §2.3.4, without the root dot).
const MAX_DOMAIN_LEN: usize = 253;
/// Longest label (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// A provider's domain name: the host of a MIMI URI's authority.
///
/// Parsing normalises: ASCII letters are lowercased and an internationalised name is converted
/// to its punycode (A-label) form with UTS #46 strict rules. After that, two domains are equal
/// exactly when their octets are equal. Ports, user information, IP addresses and trailing dots
/// are refused: providers are named by domain names alone.
///
/// The text is shared ([`Arc`]): a clone costs a reference count, not an allocation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Domain(Arc<str>);

impl Domain {
    /// Parses and normalises a domain name.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        if input.is_empty() {
            return Err(DomainError::Empty);
        }
        let ascii = if input.is_ascii() {
            check_ascii_chars(input)?;
            input.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(input).map_err(|_| DomainError::Idna(input.to_owned()))?
        };
        check_structure(&ascii)?;
        if ascii.split('.').any(|label| label.starts_with("xn--")) && input.is_ascii() {
            // An A-label written directly must be valid punycode of a valid U-label.
            idna::domain_to_ascii_strict(&ascii)
                .map_err(|_| DomainError::Idna(input.to_owned()))?;
        }
        Ok(Self(Arc::from(ascii)))
    }

    /// The normalised ASCII form, as it appears in URIs and on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name in Unicode for display to people (punycode labels decoded).
    pub fn to_unicode(&self) -> String {
        idna::domain_to_unicode(&self.0).0
    }

    /// The provider URI of this domain, `mimi://<domain>`.
    pub fn provider_uri(&self) -> crate::ProviderUri {
        crate::ProviderUri::new(self.clone())
    }
}

fn check_ascii_chars(input: &str) -> Result<(), DomainError> {
    if input.starts_with('[') {
        return Err(DomainError::IpAddress(input.to_owned()));
    }
    match input
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        Some(c) => Err(DomainError::InvalidChar(c)),
        None => Ok(()),
    }
}

fn check_structure(ascii: &str) -> Result<(), DomainError> {
    if ascii.len() > MAX_DOMAIN_LEN {
        return Err(DomainError::TooLong(ascii.len()));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(DomainError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(DomainError::LabelTooLong {
                label: label.to_owned(),
                len: label.len(),
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(DomainError::HyphenAtLabelEdge(label.to_owned()));
        }
    }
    // A name whose last label is all digits is an IPv4 address (or would be taken for one).
    let last = ascii.rsplit('.').next().unwrap_or(ascii);
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::IpAddress(ascii.to_owned()));
    }
    Ok(())
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Domain({})", self.0)
    }
}

impl FromStr for Domain {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for Domain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Domain {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Domain {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_ascii() {
        assert_eq!(Domain::parse("A.Example").unwrap().as_str(), "a.example");
    }

    #[test]
    fn converts_idn_to_punycode_and_back() {
        let d = Domain::parse("bücher.example").unwrap();
        assert_eq!(d.as_str(), "xn--bcher-kva.example");
        assert_eq!(d.to_unicode(), "bücher.example");
        assert_eq!(Domain::parse("xn--bcher-kva.example").unwrap(), d);
    }

    #[test]
    fn accepts_single_label_and_reserved_names() {
        assert_eq!(Domain::parse("localhost").unwrap().as_str(), "localhost");
        assert_eq!(
            Domain::parse("local.invalid").unwrap().as_str(),
            "local.invalid"
        );
    }

    #[test]
    fn refuses_bad_domains_with_the_reason() {
        assert_eq!(Domain::parse(""), Err(DomainError::Empty));
        assert_eq!(Domain::parse("a..example"), Err(DomainError::EmptyLabel));
        assert_eq!(Domain::parse("example.com."), Err(DomainError::EmptyLabel));
        assert!(matches!(
            Domain::parse(&format!("{}.example", "a".repeat(64))),
            Err(DomainError::LabelTooLong { len: 64, .. })
        ));
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(matches!(
            Domain::parse(&long),
            Err(DomainError::TooLong(259))
        ));
        assert!(matches!(
            Domain::parse("-a.example"),
            Err(DomainError::HyphenAtLabelEdge(_))
        ));
        assert_eq!(
            Domain::parse("a_b.example"),
            Err(DomainError::InvalidChar('_'))
        );
        assert!(matches!(
            Domain::parse("127.0.0.1"),
            Err(DomainError::IpAddress(_))
        ));
        assert!(matches!(
            Domain::parse("[::1]"),
            Err(DomainError::IpAddress(_))
        ));
        assert!(matches!(
            Domain::parse("xn--zz.example"),
            Err(DomainError::Idna(_))
        ));
        assert!(matches!(
            Domain::parse("a\u{fffd}.example"),
            Err(DomainError::Idna(_))
        ));
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let d: Domain = serde_json::from_str("\"Y.Example\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"y.example\"");
        assert!(serde_json::from_str::<Domain>("\"bad domain\"").is_err());
    }
}
