//! `POST /updateConsent/{requesterUser}` (draft-ietf-mimi-protocol-06 §5.7, digest §3.7).
//!
//! **Sent by** the target's provider **directly to** the requester's provider (no hub).
//! **Request** [`UpdateConsentRequest`]: a [`ConsentEntry`](crate::consent::ConsentEntry) with
//! operation `grant` (with zero or more of the target's KeyPackages) or `revoke`; `requesterUri`
//! is in the receiver's domain, `targetUri` in the sender's. Neither needs a prior request.
//! **Response** no body, HTTP 201 (or 404, or 5xx). The text names the parameter
//! `{requesterDomain}`, the directory `{requesterUser}` (reading D21). Metadata:
//! [`crate::http::UPDATE_CONSENT`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::UPDATE_CONSENT as ENDPOINT;

use crate::consent::consent_body;

consent_body!(
    /// An `updateConsent` body: a consent entry with operation `grant` or `revoke`.
    UpdateConsentRequest,
    "updateConsent",
    [Grant, Revoke]
);
