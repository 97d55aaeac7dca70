//! Registry values of the content format: dispositions, AEAD and hash algorithms, extension
//! keys (digest §5.1, §5.3, §5.8). Open newtypes: unknown values survive decoding.

mimi_types::open_codepoint! {
    /// MIMI Content Disposition (IANA registry, 0..=255). Unknown values are treated as
    /// `RENDER` by receivers ([`Disposition::effective`]).
    pub struct Disposition(u8) {
        assigned {
            /// No disposition given.
            UNSPECIFIED = 0 => "unspecified",
            /// Show the part.
            RENDER = 1 => "render",
            /// A reaction to the message in `inReplyTo`.
            REACTION = 2 => "reaction",
            /// Profile data of the sender.
            PROFILE = 3 => "profile",
            /// Shown inline.
            INLINE = 4 => "inline",
            /// An icon.
            ICON = 5 => "icon",
            /// An attachment.
            ATTACHMENT = 6 => "attachment",
            /// A session (e.g. a conference to join).
            SESSION = 7 => "session",
            /// A preview.
            PREVIEW = 8 => "preview",
        }
        provisional {}
    }
}

impl Disposition {
    /// How a receiver treats the value: unknown dispositions (9..=255) render (digest §5.3).
    pub fn effective(self) -> Self {
        if self.is_known() { self } else { Self::RENDER }
    }
}

mimi_types::open_codepoint! {
    /// IANA "AEAD Algorithms" registry values for `ExternalPart.encAlg` (uint16).
    pub struct AeadAlgorithm(u16) {
        assigned {
            /// Not encrypted: key, nonce and aad are empty.
            NONE = 0 => "none",
            /// AEAD_AES_128_GCM (RFC 5116), mandatory to implement (digest §5.3).
            AES_128_GCM = 1 => "AEAD_AES_128_GCM",
            /// AEAD_AES_256_GCM (RFC 5116).
            AES_256_GCM = 2 => "AEAD_AES_256_GCM",
            /// AEAD_CHACHA20_POLY1305 (RFC 8439).
            CHACHA20_POLY1305 = 29 => "AEAD_CHACHA20_POLY1305",
        }
        provisional {}
    }
}

impl AeadAlgorithm {
    /// Key and nonce lengths in bytes, for the algorithms whose lengths we know.
    pub fn key_and_nonce_len(self) -> Option<(usize, usize)> {
        match self {
            Self::AES_128_GCM => Some((16, 12)),
            Self::AES_256_GCM | Self::CHACHA20_POLY1305 => Some((32, 12)),
            _ => None,
        }
    }
}

mimi_types::open_codepoint! {
    /// IANA "Named Information Hash Algorithm" registry values (uint8), for
    /// `ExternalPart.hashAlg` and the first octet of a message ID.
    pub struct HashAlgorithm(u8) {
        assigned {
            /// Reserved value 0; the conferencing example uses it for "no hash".
            NONE = 0 => "none",
            /// SHA-256, the default for message IDs.
            SHA_256 = 1 => "sha-256",
            /// SHA-384.
            SHA_384 = 7 => "sha-384",
            /// SHA-512.
            SHA_512 = 8 => "sha-512",
        }
        provisional {}
    }
}

impl HashAlgorithm {
    /// Output length in bytes, for the algorithms whose length we know.
    pub fn output_len(self) -> Option<usize> {
        match self {
            Self::NONE => Some(0),
            Self::SHA_256 => Some(32),
            Self::SHA_384 => Some(48),
            Self::SHA_512 => Some(64),
            _ => None,
        }
    }
}

/// Keys of the MIMI Content Extension Keys registry and of the more-extensions draft.
pub mod extension_key {
    /// Reserved.
    pub const RESERVED: i64 = 0;
    /// `senderUri` (tstr).
    pub const SENDER_URI: i64 = 1;
    /// `roomUri` (tstr).
    pub const ROOM_URI: i64 = 2;
    /// `senderTimestamp`, suggested by draft-mimi-content-more-extensions-00 (TBD1).
    pub const SENDER_TIMESTAMP: i64 = 3;
    /// `externalMessageId`, suggested (TBD2).
    pub const EXTERNAL_MESSAGE_ID: i64 = 4;
    /// `subject`, suggested (TBD3).
    pub const SUBJECT: i64 = 5;
    /// `lastSeen`, suggested (TBD4).
    pub const LAST_SEEN: i64 = 256;
}
