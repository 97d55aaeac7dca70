//! Consent: who may fetch a user's key material, and the consent requests and answers
//! between providers (draft-ietf-mimi-protocol-06 §5.7, §8; digest §3.7).
//!
//! * [`ConsentPolicy`]: a user's rule for strangers (anyone / contacts only / anyone on listed
//!   providers); the provider's default applies to users who set none.
//! * [`UserConsent`]: one user's book (grants per room or any room, blocks, waiting requests,
//!   own requests and their answers), stored as one record per user; its
//!   [`UserConsent::decide`] answers `keyMaterial`'s consent question.
//! * [`receive_request`], [`receive_update`], [`ask`], [`accept`], [`block`]: what a received
//!   `requestConsent`/`updateConsent` and our users' actions do, and what they send.

mod book;
mod exchange;
mod policy;

pub use book::{
    BookFull, ConsentDecision, GrantScope, Outgoing, RequestReceipt, ScopeKey, UserConsent,
};
pub use exchange::{
    ConsentContext, ConsentLimiter, ConsentMessage, ConsentReply, ParsedScope, accept, ask, block,
    check_request, check_update, receive_request, receive_update,
};
pub use policy::{ConsentPolicy, PolicyParseError};

#[cfg(test)]
mod tests;
