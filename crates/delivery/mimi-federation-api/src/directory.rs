//! `GET /.well-known/mimi-protocol-directory` (draft-ietf-mimi-protocol-06 §5.1, digest §2.2).
//!
//! **Method** `GET`, **path** `/.well-known/mimi-protocol-directory`, **sent by** any provider to
//! any provider, **response** JSON whose members are endpoint URL templates, each with one
//! `{parameter}`. Metadata: [`crate::http::DIRECTORY`].
//!
//! Tolerance (reading D22 in [`crate::defects`]): the draft's own example has `"update{roomId}"`
//! (no `/`) and `"proxyDownload"` without its `:`. We read both as meant. Unknown members are
//! kept; a known member that is not an `https://` URL with exactly one placeholder is refused.

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::DIRECTORY as ENDPOINT;

use std::collections::BTreeMap;
use std::fmt::{self, Display};

use serde::{Deserialize, Serialize};

use crate::error::DirectoryError;
use crate::http::{ENDPOINTS, Endpoint};
use crate::limits::MAX_DIRECTORY_LEN;
use crate::path::encode_param;

/// The directory keys the draft defines, in its order.
pub const KEYS: &[&str] = &[
    "keyMaterial",
    "update",
    "notify",
    "submitMessage",
    "groupInfo",
    "requestConsent",
    "updateConsent",
    "identifierQuery",
    "reportAbuse",
    "proxyDownload",
];

/// Our extension member (not in the draft): the largest request body the provider accepts, in
/// bytes, as a decimal string (directory members are strings). A hub refuses a message whose
/// fan-out to that provider would be larger, instead of accepting it and seeing it refused.
pub const MAX_BODY_BYTES_KEY: &str = "maxBodyBytes";

/// One endpoint URL template, such as `https://mimi.example.com/v1/notify/{roomId}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UrlTemplate {
    template: String,
    open: usize,
    close: usize,
}

impl UrlTemplate {
    /// Parses a template for directory entry `key`, inserting the `/` the draft's example forgot
    /// before a placeholder glued to a word (`…/v1/update{roomId}`).
    pub fn parse(key: &str, template: &str) -> Result<Self, DirectoryError> {
        let is_https = template
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        if !is_https {
            return Err(DirectoryError::NotHttps {
                key: key.to_owned(),
                template: template.to_owned(),
            });
        }
        let bad = || DirectoryError::BadPlaceholder {
            key: key.to_owned(),
            template: template.to_owned(),
        };
        let (Some(open), Some(close)) = (template.find('{'), template.find('}')) else {
            return Err(bad());
        };
        let single = template.matches('{').count() == 1 && template.matches('}').count() == 1;
        if !single || close < open + 2 {
            return Err(bad());
        }
        let mut template = template.to_owned();
        let (mut open, mut close) = (open, close);
        if !template[..open].ends_with('/') {
            template.insert(open, '/');
            open += 1;
            close += 1;
        }
        Ok(Self {
            template,
            open,
            close,
        })
    }

    /// The template text (repaired if needed).
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The placeholder's name (`roomId`, `targetUser`, ...).
    pub fn placeholder(&self) -> &str {
        &self.template[self.open + 1..self.close]
    }

    /// The URL with an already percent-encoded parameter.
    pub fn expand_encoded(&self, encoded_param: &str) -> String {
        format!(
            "{}{}{}",
            &self.template[..self.open],
            encoded_param,
            &self.template[self.close + 1..]
        )
    }

    /// The URL for a URI parameter, percent-encoded as we always emit it.
    pub fn expand(&self, param: &impl Display) -> String {
        self.expand_encoded(&encode_param(param))
    }
}

impl Display for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.template)
    }
}

/// A provider's directory document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, serde_json::Value>",
    into = "BTreeMap<String, String>"
)]
#[non_exhaustive]
pub struct Directory {
    /// The known endpoints' templates, by directory key.
    pub endpoints: BTreeMap<String, UrlTemplate>,
    /// Members we do not know, kept as sent (string values only).
    pub other: BTreeMap<String, String>,
}

impl Directory {
    /// A directory advertising exactly the `served` endpoints, each at its nominal path under
    /// `base` (e.g. `https://mimi.a.example/v1`): what a server publishes, built from its own
    /// route table so that it never lists an endpoint it does not answer. Endpoints without a
    /// path parameter (the directory itself) have no entry.
    pub fn serving<'a>(
        base: &str,
        served: impl IntoIterator<Item = &'a Endpoint>,
    ) -> Result<Self, DirectoryError> {
        let base = base.trim_end_matches('/');
        let mut endpoints = BTreeMap::new();
        for endpoint in served.into_iter().filter(|e| e.path_param.is_some()) {
            let key = endpoint.directory_key;
            endpoints.insert(
                key.to_owned(),
                UrlTemplate::parse(key, &format!("{base}{}", endpoint.path_template))?,
            );
        }
        Ok(Self {
            endpoints,
            other: BTreeMap::new(),
        })
    }

    /// A directory of every endpoint the draft defines at its nominal path under `base`: a
    /// reference document for tests and tools. A server publishes [`Directory::serving`] with
    /// the endpoints it routes instead.
    pub fn nominal(base: &str) -> Result<Self, DirectoryError> {
        Self::serving(base, ENDPOINTS.iter().copied())
    }

    /// Parses a directory document, repairing the draft example's typos.
    pub fn from_json(bytes: &[u8]) -> Result<Self, DirectoryError> {
        if bytes.len() > MAX_DIRECTORY_LEN {
            return Err(DirectoryError::TooLong(bytes.len()));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| DirectoryError::Json(e.to_string()))?;
        let map: BTreeMap<String, serde_json::Value> = match serde_json::from_str(text) {
            Ok(map) => map,
            Err(first) => serde_json::from_str(&repair_missing_colons(text))
                .map_err(|_| DirectoryError::Json(first.to_string()))?,
        };
        Self::try_from(map)
    }

    /// The document as JSON.
    pub fn to_json(&self) -> String {
        let map: BTreeMap<String, String> = self.clone().into();
        serde_json::to_string_pretty(&map).unwrap_or_default()
    }

    /// The largest request body the provider advertises ([`MAX_BODY_BYTES_KEY`]); `None` if
    /// it advertises none, or a value that is not a decimal number.
    pub fn max_body_bytes(&self) -> Option<usize> {
        self.other.get(MAX_BODY_BYTES_KEY)?.trim().parse().ok()
    }

    /// Advertises `bytes` as the largest request body we accept.
    pub fn set_max_body_bytes(&mut self, bytes: usize) {
        self.other
            .insert(MAX_BODY_BYTES_KEY.to_owned(), bytes.to_string());
    }

    /// The template of an endpoint, or [`DirectoryError::MissingEndpoint`].
    pub fn template(&self, endpoint: &Endpoint) -> Result<&UrlTemplate, DirectoryError> {
        self.endpoints
            .get(endpoint.directory_key)
            .ok_or(DirectoryError::MissingEndpoint(endpoint.directory_key))
    }

    /// The URL to call `endpoint` for `param` (a URI, domain or URL), percent-encoded.
    pub fn url(&self, endpoint: &Endpoint, param: &impl Display) -> Result<String, DirectoryError> {
        Ok(self.template(endpoint)?.expand(param))
    }
}

impl TryFrom<BTreeMap<String, serde_json::Value>> for Directory {
    type Error = DirectoryError;

    fn try_from(map: BTreeMap<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let mut directory = Self::default();
        for (key, value) in map {
            let known = KEYS.contains(&key.as_str());
            match value {
                serde_json::Value::String(template) if known => {
                    let template = UrlTemplate::parse(&key, &template)?;
                    directory.endpoints.insert(key, template);
                }
                serde_json::Value::String(other) => {
                    directory.other.insert(key, other);
                }
                _ if known => {
                    return Err(DirectoryError::Json(format!(
                        "directory entry {key:?} must be a string"
                    )));
                }
                _ => {}
            }
        }
        Ok(directory)
    }
}

impl From<Directory> for BTreeMap<String, String> {
    fn from(directory: Directory) -> Self {
        let mut map = directory.other;
        for (key, template) in directory.endpoints {
            map.insert(key, template.template);
        }
        map
    }
}

/// Inserts the `:` missing after a known key directly followed by a string
/// (`"proxyDownload" "https://…"`), as in the draft's example.
fn repair_missing_colons(text: &str) -> String {
    let mut out = text.to_owned();
    for key in KEYS {
        let quoted = format!("\"{key}\"");
        let mut from = 0;
        while let Some(found) = out[from..].find(&quoted) {
            let end = from + found + quoted.len();
            let rest = &out[end..];
            let gap = rest.len() - rest.trim_start().len();
            if rest.trim_start().starts_with('"') {
                out.insert(end + gap, ':');
            }
            from = end;
        }
    }
    out
}

#[cfg(test)]
mod tests;
