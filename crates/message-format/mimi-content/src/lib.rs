//! The MIMI content format (draft-ietf-mimi-content-08, digest §5): what users see, as
//! deterministic CBOR inside MLS application messages.
//!
//! * [`MimiContent`] and its parts ([`NestedPart`], [`PartBody`], [`ExternalPart`], ...) with
//!   public fields; [`MimiContent::decode`] is strict (deterministic CBOR only, every rule of
//!   the draft checked) and [`MimiContent::encode`] is byte-exact with the draft's examples.
//! * [`cbor`]: the one strict CBOR reader and deterministic writer every decoder here uses.
//! * [`message_id()`] (-08) and [`message_id_draft07`] (for older peers).
//! * [`ContentBuilder`] and [`NestedPart`] constructors for what a client sends, attachments
//!   via [`seal_attachment`] / [`open_attachment`] (AES-128-GCM, SHA-256).
//! * [`may_replace`] / [`check_replacement`]: who may edit or delete; [`reply_chain`] detects
//!   reply loops.
//! * [`ReceivedMessage::accept`]: decode, ID from the exact bytes, claimed sender and room
//!   checked against the authenticated ones, duplicates discarded;
//!   [`NestedPart::select_parts`] says which parts to show.
//! * [`status`]: message status reports (draft-mahy-mimi-message-status-01).
//!
//! No MLS, no rooms, no I/O, no clock; randomness only through a caller's RNG.
//!
//! # Readings where the drafts are defective or silent
//!
//! * The complete CDDL is normative: extension values are `any` (no 4095-byte limit), URLs are
//!   untagged text (digest §5.3, §5.10 items 5-6).
//! * Nesting levels count the root part and the extensions map as level 1; tags count as a
//!   level in extension values (the draft's depth example: map, array, array, tag 32 = 4).
//! * Receiver anomalies the draft says to discard are errors: more than 1024 parts, topic IDs
//!   over 4096 bytes, unknown `partSemantics`; expiries more than a year away are reported by
//!   [`MimiContent::check_expiry`] (it needs `now`).
//! * Extension keys 1 and 2 must be text when present; an all-zero salt is refused as not
//!   random. A text part whose content type says UTF-8 (or GFM-MIMI Markdown) must be UTF-8.
//! * "Reactions not concatenated": a reaction text part may hold at most one emoji (ZWJ,
//!   skin-tone, flag and keycap sequences count as one; plain text like "+1" is allowed).
//! * `cid:` references are searched in every `text/*` single part.
//! * External parts: `encAlg` 0 means no key, nonce or aad; known algorithms must have their
//!   key, nonce and hash lengths. `contentHash` and `size` describe the stored (encrypted)
//!   object, so the download is checked before decryption.
//! * A replacement may change only the body: topic, `inReplyTo` and expiry must stay, and it
//!   must reference the first version (not an edit).
//! * Bignums (tags 2, 3) are refused when they fit a plain integer or have leading zeros.
//!
//! ```
//! use mimi_content::{ContentBuilder, MimiContent, NestedPart, message_id};
//! # use rand::SeedableRng;
//! # let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let content = ContentBuilder::new(NestedPart::markdown("Hi *all*"))
//!     .uri_strings("mimi://a.example/u/alice", "mimi://hub.example/r/team")
//!     .build(&mut rng)?;
//! let bytes = content.encode()?;
//! let id = message_id(b"mimi://a.example/u/alice", b"mimi://hub.example/r/team", &bytes)?;
//! assert_eq!(MimiContent::decode(&bytes)?, content);
//! assert_eq!(id.as_bytes()[0], 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attachment;
mod builder;
pub mod cbor;
mod codec;
pub mod codepoints;
mod derived;
mod error;
mod extensions;
mod kind;
mod message_id;
mod model;
mod receive;
mod render;
mod replace;
pub mod status;
mod text;
mod validate;

pub use attachment::{AttachmentError, SealedAttachment, open_attachment, seal_attachment};
pub use builder::ContentBuilder;
pub use codepoints::{AeadAlgorithm, Disposition, HashAlgorithm};
pub use derived::{MessageDerivedValues, Timestamp};
pub use error::{DecodeError, ShapeError, ValidationError};
pub use extensions::{
    ExternalMessageId, ExternalScope, Fraction, LastSeen, MAX_SUBJECT_LEN, SenderTimestamp,
};
pub use kind::MessageKind;
pub use message_id::{
    MessageId, MessageIdError, message_id, message_id_draft07, message_id_for, salt_of,
};
pub use model::{
    AttachmentKey, Expiration, Extensions, ExternalPart, MimiContent, MultiPart, NestedPart,
    PartBody, PartSemantics, Salt, SinglePart,
};
pub use receive::{ReceiveError, ReceivedMessage};
pub use replace::{
    Original, ReplaceAuthority, ReplaceError, ReplyChainError, check_replacement, may_replace,
    reply_chain,
};
pub use text::{cid_references, emoji_count, gfm_mimi_escape_html, html_mention, markdown_mention};
pub use validate::{
    EXPIRY_WINDOW_SECS, MAX_EXTENSION_DEPTH, MAX_PART_DEPTH, MAX_PARTS, MAX_TEXT_KEY_LEN,
    MAX_TOPIC_ID_LEN,
};
