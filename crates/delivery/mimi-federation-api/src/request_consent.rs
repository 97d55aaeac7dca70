//! `POST /requestConsent/{targetUser}` (draft-ietf-mimi-protocol-06 §5.7, digest §3.7).
//!
//! **Sent by** the requester's provider **directly to** the target's provider (no hub).
//! **Request** [`RequestConsentRequest`]: a [`ConsentEntry`](crate::consent::ConsentEntry) with
//! operation `request` or `cancel`; `targetUri` is in the receiver's domain, `requesterUri` in the
//! sender's; a `cancel` MUST repeat the request's scope. **Response** no body, HTTP 201 (or 404
//! for an unknown user, or 5xx; 201 may always be sent to avoid user enumeration). The text
//! names the parameter `{targetDomain}`, the directory `{targetUser}` (reading D21). Metadata:
//! [`crate::http::REQUEST_CONSENT`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::REQUEST_CONSENT as ENDPOINT;

use crate::consent::consent_body;

consent_body!(
    /// A `requestConsent` body: a consent entry with operation `request` or `cancel`.
    RequestConsentRequest,
    "requestConsent",
    [Cancel, Request]
);
