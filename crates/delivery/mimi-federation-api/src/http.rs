//! HTTP metadata of every endpoint, as data the transport layer builds its router and client
//! from (digest §2.3, §2.5; our status-code reading is D23 in [`crate::defects`]).
//!
//! Paths are *nominal*: a peer publishes its real URL templates in its directory
//! ([`crate::directory`]). Path parameters are percent-encoded full URIs ([`crate::path`]).

use crate::defects::{ACCEPTED_STATUS, PROTOCOL_ANSWER_STATUS};

/// The HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

impl Method {
    /// The method as written in a request line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// The role a provider plays when it sends or receives a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The provider hosting the room (the room URI's domain).
    Hub,
    /// A provider with participants in a room hosted elsewhere.
    Follower,
    /// A provider talking to another directly, outside any room (consent, identifier query,
    /// directory).
    Peer,
}

/// What an endpoint's path parameter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PathParam {
    /// A room URI (`{roomId}`).
    RoomId,
    /// The target user's URI (`{targetUser}`; the consent text says `{targetDomain}`).
    TargetUser,
    /// The requester's URI (`{requesterUser}`; the consent text says `{requesterDomain}`).
    RequesterUser,
    /// A provider domain (`{domain}`).
    Domain,
    /// An asset's `https://` URL (`{downloadUrl}`).
    DownloadUrl,
}

/// What travels in a request or response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Body {
    /// No body.
    None,
    /// A TLS-PL struct of this crate, named as in the draft.
    Tls(&'static str),
    /// JSON (the directory).
    Json,
    /// Raw bytes (a downloaded asset).
    Raw,
}

impl Body {
    /// The `Content-Type` to send with this body (reading D24: TLS-PL bodies have none defined;
    /// receivers should not refuse on it).
    pub const fn media_type(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Tls(_) => Some(mimi_types::codepoints::media_type::MIMI_TLS_BODY),
            Self::Json => Some("application/json"),
            Self::Raw => Some("application/octet-stream"),
        }
    }
}

/// One endpoint's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// Its key in the directory document (`"well-known"` for the directory itself).
    pub directory_key: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The draft's nominal path template.
    pub path_template: &'static str,
    /// What the path parameter names, if there is one.
    pub path_param: Option<PathParam>,
    /// The draft section that defines it.
    pub draft_section: &'static str,
    /// Who sends the request.
    pub sent_by: &'static [Role],
    /// Who receives it.
    pub received_by: &'static [Role],
    /// The request body.
    pub request_body: Body,
    /// The response body on success.
    pub response_body: Body,
    /// The status the receiver answers on success.
    pub success_status: u16,
    /// Error statuses the receiver may answer (besides any other the HTTP layer produces): 400
    /// undecodable body, 403 peer not authenticated for this request, 404 unknown target, 413
    /// body too large, 429/503 try again later (honour `Retry-After`).
    pub error_statuses: &'static [u16],
    /// Whether repeating the request is harmless (RFC 9110 §9.2.2).
    pub idempotent: bool,
}

impl Endpoint {
    /// Whether a sender should treat `status` as success: any 2xx (the draft's "201 Accepted"
    /// makes strictness pointless).
    pub const fn is_success(&self, status: u16) -> bool {
        status >= 200 && status < 300
    }

    /// Whether a sender should retry after `status` (honouring `Retry-After`).
    pub const fn is_retryable(&self, status: u16) -> bool {
        matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
    }

    /// The nominal path with its parameter filled in (`encoded_param` must already be
    /// percent-encoded, see [`crate::path`]).
    pub fn path_with(&self, encoded_param: &str) -> String {
        match self.path_template.find('{') {
            Some(open) => format!("{}{}", &self.path_template[..open], encoded_param),
            None => self.path_template.to_owned(),
        }
    }
}

const ROOM_ERRORS: &[u16] = &[400, 403, 404, 413, 429, 500, 503];
const PEER_ERRORS: &[u16] = &[400, 403, 404, 413, 429, 500, 503];

/// `GET /.well-known/mimi-protocol-directory` (protocol-06 §5.1).
pub const DIRECTORY: Endpoint = Endpoint {
    directory_key: "well-known",
    method: Method::Get,
    path_template: "/.well-known/mimi-protocol-directory",
    path_param: None,
    draft_section: "draft-ietf-mimi-protocol-06 §5.1",
    sent_by: &[Role::Hub, Role::Follower, Role::Peer],
    received_by: &[Role::Hub, Role::Follower, Role::Peer],
    request_body: Body::None,
    response_body: Body::Json,
    success_status: 200,
    error_statuses: &[404, 429, 500, 503],
    idempotent: true,
};

/// `POST /keyMaterial/{targetUser}` (protocol-06 §5.2).
pub const KEY_MATERIAL: Endpoint = Endpoint {
    directory_key: "keyMaterial",
    method: Method::Post,
    path_template: "/keyMaterial/{targetUser}",
    path_param: Some(PathParam::TargetUser),
    draft_section: "draft-ietf-mimi-protocol-06 §5.2",
    sent_by: &[Role::Follower, Role::Hub],
    received_by: &[Role::Hub, Role::Peer],
    request_body: Body::Tls("KeyMaterialRequest"),
    response_body: Body::Tls("KeyMaterialResponse"),
    success_status: PROTOCOL_ANSWER_STATUS,
    error_statuses: PEER_ERRORS,
    idempotent: false,
};

/// `POST /update/{roomId}` (protocol-06 §5.3).
pub const UPDATE: Endpoint = Endpoint {
    directory_key: "update",
    method: Method::Post,
    path_template: "/update/{roomId}",
    path_param: Some(PathParam::RoomId),
    draft_section: "draft-ietf-mimi-protocol-06 §5.3",
    sent_by: &[Role::Follower],
    received_by: &[Role::Hub],
    request_body: Body::Tls("UpdateRequest"),
    response_body: Body::Tls("UpdateRoomResponse"),
    success_status: PROTOCOL_ANSWER_STATUS,
    error_statuses: ROOM_ERRORS,
    idempotent: false,
};

/// `POST /submitMessage/{roomId}` (protocol-06 §5.4).
pub const SUBMIT_MESSAGE: Endpoint = Endpoint {
    directory_key: "submitMessage",
    method: Method::Post,
    path_template: "/submitMessage/{roomId}",
    path_param: Some(PathParam::RoomId),
    draft_section: "draft-ietf-mimi-protocol-06 §5.4",
    sent_by: &[Role::Follower],
    received_by: &[Role::Hub],
    request_body: Body::Tls("SubmitMessageRequest"),
    response_body: Body::Tls("SubmitMessageResponse"),
    success_status: PROTOCOL_ANSWER_STATUS,
    error_statuses: ROOM_ERRORS,
    idempotent: false,
};

/// `POST /notify/{roomId}` (protocol-06 §5.5).
pub const NOTIFY: Endpoint = Endpoint {
    directory_key: "notify",
    method: Method::Post,
    path_template: "/notify/{roomId}",
    path_param: Some(PathParam::RoomId),
    draft_section: "draft-ietf-mimi-protocol-06 §5.5",
    sent_by: &[Role::Hub],
    received_by: &[Role::Follower],
    request_body: Body::Tls("FanoutMessage (one or more, concatenated)"),
    response_body: Body::None,
    success_status: ACCEPTED_STATUS,
    error_statuses: ROOM_ERRORS,
    // A byte-identical repeat MUST be answered 201 and SHOULD be processed once.
    idempotent: true,
};

/// `POST /groupInfo/{roomId}` (protocol-06 §5.6).
pub const GROUP_INFO: Endpoint = Endpoint {
    directory_key: "groupInfo",
    method: Method::Post,
    path_template: "/groupInfo/{roomId}",
    path_param: Some(PathParam::RoomId),
    draft_section: "draft-ietf-mimi-protocol-06 §5.6",
    sent_by: &[Role::Follower],
    received_by: &[Role::Hub],
    request_body: Body::Tls("GroupInfoRequest"),
    response_body: Body::Tls("GroupInfoResponse"),
    success_status: PROTOCOL_ANSWER_STATUS,
    error_statuses: ROOM_ERRORS,
    idempotent: true,
};

/// `POST /requestConsent/{targetUser}` (protocol-06 §5.7).
pub const REQUEST_CONSENT: Endpoint = Endpoint {
    directory_key: "requestConsent",
    method: Method::Post,
    path_template: "/requestConsent/{targetUser}",
    path_param: Some(PathParam::TargetUser),
    draft_section: "draft-ietf-mimi-protocol-06 §5.7",
    sent_by: &[Role::Peer],
    received_by: &[Role::Peer],
    request_body: Body::Tls("ConsentEntry (request or cancel)"),
    response_body: Body::None,
    success_status: ACCEPTED_STATUS,
    error_statuses: PEER_ERRORS,
    idempotent: true,
};

/// `POST /updateConsent/{requesterUser}` (protocol-06 §5.7).
pub const UPDATE_CONSENT: Endpoint = Endpoint {
    directory_key: "updateConsent",
    method: Method::Post,
    path_template: "/updateConsent/{requesterUser}",
    path_param: Some(PathParam::RequesterUser),
    draft_section: "draft-ietf-mimi-protocol-06 §5.7",
    sent_by: &[Role::Peer],
    received_by: &[Role::Peer],
    request_body: Body::Tls("ConsentEntry (grant or revoke)"),
    response_body: Body::None,
    success_status: ACCEPTED_STATUS,
    error_statuses: PEER_ERRORS,
    idempotent: true,
};

/// `POST /identifierQuery/{domain}` (protocol-06 §5.8), declared safe and idempotent.
pub const IDENTIFIER_QUERY: Endpoint = Endpoint {
    directory_key: "identifierQuery",
    method: Method::Post,
    path_template: "/identifierQuery/{domain}",
    path_param: Some(PathParam::Domain),
    draft_section: "draft-ietf-mimi-protocol-06 §5.8",
    sent_by: &[Role::Peer],
    received_by: &[Role::Peer],
    request_body: Body::Tls("IdentifierRequest"),
    response_body: Body::Tls("IdentifierResponse"),
    success_status: PROTOCOL_ANSWER_STATUS,
    // 421: the path names another provider (our reading).
    error_statuses: &[400, 403, 404, 413, 421, 429, 500, 503],
    idempotent: true,
};

/// `POST /reportAbuse/{roomId}` (protocol-06 §5.9), to the hub only.
pub const REPORT_ABUSE: Endpoint = Endpoint {
    directory_key: "reportAbuse",
    method: Method::Post,
    path_template: "/reportAbuse/{roomId}",
    path_param: Some(PathParam::RoomId),
    draft_section: "draft-ietf-mimi-protocol-06 §5.9",
    sent_by: &[Role::Follower, Role::Hub],
    received_by: &[Role::Hub],
    request_body: Body::Tls("AbuseReport"),
    response_body: Body::None,
    success_status: ACCEPTED_STATUS,
    error_statuses: ROOM_ERRORS,
    idempotent: false,
};

/// `GET /proxyDownload/{downloadUrl}` (protocol-06 §5.10), which every hub must implement.
pub const PROXY_DOWNLOAD: Endpoint = Endpoint {
    directory_key: "proxyDownload",
    method: Method::Get,
    path_template: "/proxyDownload/{downloadUrl}",
    path_param: Some(PathParam::DownloadUrl),
    draft_section: "draft-ietf-mimi-protocol-06 §5.10",
    sent_by: &[Role::Follower],
    received_by: &[Role::Hub],
    request_body: Body::None,
    response_body: Body::Raw,
    success_status: 200,
    error_statuses: &[400, 403, 404, 413, 429, 500, 502, 503, 504],
    idempotent: true,
};

/// Every endpoint, the directory first.
pub const ENDPOINTS: &[&Endpoint] = &[
    &DIRECTORY,
    &KEY_MATERIAL,
    &UPDATE,
    &SUBMIT_MESSAGE,
    &NOTIFY,
    &GROUP_INFO,
    &REQUEST_CONSENT,
    &UPDATE_CONSENT,
    &IDENTIFIER_QUERY,
    &REPORT_ABUSE,
    &PROXY_DOWNLOAD,
];

/// The endpoint with this directory key.
pub fn endpoint(directory_key: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .copied()
        .find(|e| e.directory_key == directory_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_findable() {
        for e in ENDPOINTS {
            assert_eq!(endpoint(e.directory_key), Some(*e));
            assert!(e.path_template.starts_with('/'));
            assert_eq!(e.path_param.is_some(), e.path_template.contains('{'));
        }
        assert_eq!(endpoint("nope"), None);
    }

    #[test]
    fn statuses_follow_our_reading() {
        assert_eq!(NOTIFY.success_status, 201);
        assert_eq!(UPDATE.success_status, 200);
        assert!(NOTIFY.is_success(202) && NOTIFY.is_success(200) && !NOTIFY.is_success(301));
        assert!(NOTIFY.is_retryable(503) && !NOTIFY.is_retryable(400));
        assert_eq!(
            UPDATE.path_with("mimi%3A%2F%2Fa.example%2Fr%2Fx"),
            "/update/mimi%3A%2F%2Fa.example%2Fr%2Fx"
        );
        assert_eq!(DIRECTORY.path_with("x"), DIRECTORY.path_template);
    }
}
