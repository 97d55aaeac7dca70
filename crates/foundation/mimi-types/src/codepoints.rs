//! Registry code points of MLS (RFC 9420), the MLS extensions draft and the MIMI drafts.
//!
//! Each registry is an *open* newtype over its integer: values we do not know survive decoding
//! and print in hex, and named constants cover the values we use. Values the drafts only
//! *suggest* (awaiting IANA) are listed in each registry's `PROVISIONAL` slice; when IANA assigns
//! them, this file is the one place to change. Sources: digest §3.13, §4.1.

/// Defines an open code-point registry: a newtype over an integer with named constants.
///
/// ```
/// mimi_types::open_codepoint! {
///     /// Colours.
///     pub struct Colour(u8) {
///         assigned {
///             /// Red.
///             RED = 1 => "red",
///         }
///         provisional {
///             /// Green, not yet assigned.
///             GREEN = 2 => "green",
///         }
///     }
/// }
/// assert_eq!(Colour::RED.name(), Some("red"));
/// assert_eq!(Colour::new(9).to_string(), "unknown (0x09)");
/// assert!(Colour::GREEN.is_provisional());
/// ```
#[macro_export]
macro_rules! open_codepoint {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($repr:ty) {
            assigned { $( $(#[$ameta:meta])* $aconst:ident = $aval:expr => $atext:literal, )* }
            provisional { $( $(#[$pmeta:meta])* $pconst:ident = $pval:expr => $ptext:literal, )* }
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name($repr);

        #[allow(dead_code)]
        impl $name {
            $( $(#[$ameta])* pub const $aconst: Self = Self($aval); )*
            $( $(#[$pmeta])* pub const $pconst: Self = Self($pval); )*

            /// Every value with a name in this registry.
            pub const KNOWN: &'static [Self] = &[$(Self::$aconst,)* $(Self::$pconst,)*];

            /// Values the drafts suggest but IANA has not assigned yet.
            pub const PROVISIONAL: &'static [Self] = &[$(Self::$pconst,)*];

            /// Wraps a raw value, known or not.
            pub const fn new(value: $repr) -> Self {
                Self(value)
            }

            /// The raw value.
            pub const fn value(self) -> $repr {
                self.0
            }

            /// The registry name of a known value.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( v if v == $aval => Some($atext), )*
                    $( v if v == $pval => Some($ptext), )*
                    _ => None,
                }
            }

            /// Whether the value has a name in this registry.
            pub fn is_known(self) -> bool {
                self.name().is_some()
            }

            /// Whether the value is only suggested by a draft.
            pub fn is_provisional(self) -> bool {
                Self::PROVISIONAL.contains(&self)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let width = 2 * ::core::mem::size_of::<$repr>();
                match self.name() {
                    Some(name) => write!(f, "{} (0x{:0width$x})", name, self.0, width = width),
                    None => write!(f, "unknown (0x{:0width$x})", self.0, width = width),
                }
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                Self(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

open_codepoint! {
    /// MLS Extension Types (RFC 9420 §17.3; mls-extensions).
    pub struct ExtensionType(u16) {
        assigned {
            /// `application_id`
            APPLICATION_ID = 0x0001 => "application_id",
            /// `ratchet_tree`
            RATCHET_TREE = 0x0002 => "ratchet_tree",
            /// `required_capabilities`
            REQUIRED_CAPABILITIES = 0x0003 => "required_capabilities",
            /// `external_pub`
            EXTERNAL_PUB = 0x0004 => "external_pub",
            /// `external_senders`
            EXTERNAL_SENDERS = 0x0005 => "external_senders",
        }
        provisional {
            /// `app_data_dictionary`: MIMI room state lives here (GroupContext).
            APP_DATA_DICTIONARY = 0x0006 => "app_data_dictionary",
            /// `supported_wire_formats` (LeafNode).
            SUPPORTED_WIRE_FORMATS = 0x0007 => "supported_wire_formats",
            /// `required_wire_formats` (GroupContext).
            REQUIRED_WIRE_FORMATS = 0x0008 => "required_wire_formats",
        }
    }
}

open_codepoint! {
    /// MLS Proposal Types (RFC 9420 §17.4; mls-extensions).
    pub struct ProposalType(u16) {
        assigned {
            /// `add`
            ADD = 0x0001 => "add",
            /// `update`
            UPDATE = 0x0002 => "update",
            /// `remove`
            REMOVE = 0x0003 => "remove",
            /// `psk`
            PSK = 0x0004 => "psk",
            /// `reinit`
            REINIT = 0x0005 => "reinit",
            /// `external_init`
            EXTERNAL_INIT = 0x0006 => "external_init",
            /// `group_context_extensions`
            GROUP_CONTEXT_EXTENSIONS = 0x0007 => "group_context_extensions",
        }
        provisional {
            /// `app_data_update`: changes a component of `app_data_dictionary`.
            APP_DATA_UPDATE = 0x0008 => "app_data_update",
            /// `app_ephemeral`
            APP_EPHEMERAL = 0x0009 => "app_ephemeral",
            /// `self_remove`: a member leaves; committed by another member or the hub.
            SELF_REMOVE = 0x000a => "self_remove",
        }
    }
}

open_codepoint! {
    /// MLS Component IDs (mls-extensions; MIMI protocol-06 §10; room-policy-03).
    pub struct ComponentId(u16) {
        assigned {
            /// Reserved.
            RESERVED = 0x0000 => "reserved",
            /// `app_components`: the list of components in use.
            APP_COMPONENTS = 0x0001 => "app_components",
            /// `safe_aad`
            SAFE_AAD = 0x0002 => "safe_aad",
            /// `content_media_types`
            CONTENT_MEDIA_TYPES = 0x0003 => "content_media_types",
            /// `last_resort_key_package`
            LAST_RESORT_KEY_PACKAGE = 0x0004 => "last_resort_key_package",
            /// `app_ack`
            APP_ACK = 0x0005 => "app_ack",
            /// `frank_aad`: the franking tag in the Safe AAD (protocol-06 §10.1).
            FRANK_AAD = 0x0020 => "frank_aad",
            /// `franking_signature_key` (protocol-06 §10.2).
            FRANKING_SIGNATURE_KEY = 0x0021 => "franking_signature_key",
            /// `participant_list` (protocol-06 §10.3).
            PARTICIPANT_LIST = 0x0022 => "participant_list",
            /// `room_metadata` (protocol-06 §10.4).
            ROOM_METADATA = 0x0023 => "room_metadata",
        }
        provisional {
            /// `mls_operational_policy` (room-policy-03, TBD0).
            MLS_OPERATIONAL_POLICY = 0x0024 => "mls_operational_policy",
            /// `roles_list` (room-policy-03, TBD1).
            ROLES_LIST = 0x0025 => "roles_list",
            /// `preauth_list` (room-policy-03, TBD2).
            PREAUTH_LIST = 0x0026 => "preauth_list",
            /// `base_room_policy` (room-policy-03, TBD3).
            BASE_ROOM_POLICY = 0x0027 => "base_room_policy",
            /// `status_notification_policy` (room-policy-03, TBD4).
            STATUS_NOTIFICATION_POLICY = 0x0028 => "status_notification_policy",
            /// `join_link_policy` (room-policy-03, TBD5).
            JOIN_LINK_POLICY = 0x0029 => "join_link_policy",
            /// `join_links` (room-policy-03, TBD6).
            JOIN_LINKS = 0x002a => "join_links",
            /// `link_preview_policy` (room-policy-03, TBD7).
            LINK_PREVIEW_POLICY = 0x002b => "link_preview_policy",
            /// `asset_policy` (room-policy-03, TBD8).
            ASSET_POLICY = 0x002c => "asset_policy",
            /// `logging_policy` (room-policy-03, TBD9).
            LOGGING_POLICY = 0x002d => "logging_policy",
            /// `chat_history_policy` (room-policy-03, TBD10).
            CHAT_HISTORY_POLICY = 0x002e => "chat_history_policy",
            /// `bot_policy` (room-policy-03, TBD11).
            BOT_POLICY = 0x002f => "bot_policy",
            /// `message_expiration_policy` (room-policy-03, TBD12).
            MESSAGE_EXPIRATION_POLICY = 0x0030 => "message_expiration_policy",
            /// `hub_retracted_messages` (hub-retracted-messages-00).
            HUB_RETRACTED_MESSAGES = 0x0050 => "hub_retracted_messages",
            /// `hub_retracted_range` (hub-retracted-messages-00).
            HUB_RETRACTED_RANGE = 0x0051 => "hub_retracted_range",
            /// `join_code_aad`: ours, in the private-use range. A Safe AAD item of an external
            /// commit carrying the join code the joiner presents (no draft says how the code
            /// reaches the members, who check it; see `mimi_room::readings`).
            JOIN_CODE_AAD = 0x8a01 => "join_code_aad",
            /// `server_policy`: ours, in the private-use range. The room's server access list:
            /// which providers take part and what their servers may do (`mimi_room::readings`).
            SERVER_POLICY = 0x8a02 => "server_policy",
            /// `room_ended`: ours, in the private-use range. The marker a member holding
            /// `canDestroyRoom` sets to end the room for good (`mimi_room::readings`).
            ROOM_ENDED = 0x8a03 => "room_ended",
        }
    }
}

impl ComponentId {
    /// Whether the value is in the private-use range 0x8000–0xFFFF.
    pub const fn is_private_use(self) -> bool {
        self.0 >= 0x8000
    }

    /// Whether the value is a GREASE value (0x0A0A, 0x1A1A, … 0x7A7A).
    pub const fn is_grease(self) -> bool {
        let [hi, lo] = self.0.to_be_bytes();
        hi == lo && hi & 0x0f == 0x0a && hi <= 0x7a
    }
}

open_codepoint! {
    /// MLS Wire Formats (RFC 9420 §17.2).
    pub struct WireFormat(u16) {
        assigned {
            /// `mls_public_message`
            PUBLIC_MESSAGE = 0x0001 => "mls_public_message",
            /// `mls_private_message`
            PRIVATE_MESSAGE = 0x0002 => "mls_private_message",
            /// `mls_welcome`
            WELCOME = 0x0003 => "mls_welcome",
            /// `mls_group_info`
            GROUP_INFO = 0x0004 => "mls_group_info",
            /// `mls_key_package`
            KEY_PACKAGE = 0x0005 => "mls_key_package",
        }
        provisional {}
    }
}

open_codepoint! {
    /// MLS Credential Types (RFC 9420 §17.5; mls-extensions).
    pub struct CredentialType(u16) {
        assigned {
            /// `basic`
            BASIC = 0x0001 => "basic",
            /// `x509`
            X509 = 0x0002 => "x509",
        }
        provisional {
            /// `multi`
            MULTI = 0x0003 => "multi",
            /// `weak-multi`
            WEAK_MULTI = 0x0004 => "weak-multi",
        }
    }
}

open_codepoint! {
    /// MLS Cipher Suites (RFC 9420 §17.1).
    pub struct Ciphersuite(u16) {
        assigned {
            /// The mandatory-to-implement suite, the one mimi-rs uses.
            MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519 = 0x0001
                => "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
            /// P-256 suite.
            MLS_128_DHKEMP256_AES128GCM_SHA256_P256 = 0x0002
                => "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
            /// X25519 with ChaCha20-Poly1305.
            MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519 = 0x0003
                => "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519",
            /// X448 with AES-256-GCM.
            MLS_256_DHKEMX448_AES256GCM_SHA512_ED448 = 0x0004
                => "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448",
            /// P-521 suite.
            MLS_256_DHKEMP521_AES256GCM_SHA512_P521 = 0x0005
                => "MLS_256_DHKEMP521_AES256GCM_SHA512_P521",
            /// X448 with ChaCha20-Poly1305.
            MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_ED448 = 0x0006
                => "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448",
            /// P-384 suite.
            MLS_256_DHKEMP384_AES256GCM_SHA384_P384 = 0x0007
                => "MLS_256_DHKEMP384_AES256GCM_SHA384_P384",
        }
        provisional {}
    }
}

/// The cipher suite mimi-rs uses for every group (RFC 9420's mandatory one).
pub const DEFAULT_CIPHERSUITE: Ciphersuite =
    Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

/// Media types used by MIMI (digest §2.4, §5.5).
pub mod media_type {
    /// MIMI content (draft-ietf-mimi-content).
    pub const MIMI_CONTENT: &str = "application/mimi-content";
    /// Delivery and read reports (draft-mahy-mimi-message-status).
    pub const MIMI_MESSAGE_STATUS: &str = "application/mimi-message-status";
    /// Plain text in UTF-8.
    pub const TEXT_PLAIN: &str = "text/plain;charset=utf-8";
    /// Markdown, GitHub-flavoured with the MIMI profile.
    pub const TEXT_MARKDOWN_GFM_MIMI: &str = "text/markdown;variant=GFM-MIMI";
    /// An MLSMessage (RFC 9420 §17.10).
    pub const MESSAGE_MLS: &str = "message/mls";
    /// The body type we send for MIMI's TLS-presentation-language bodies. The protocol draft
    /// defines none (digest §2.4); we send this and accept any.
    pub const MIMI_TLS_BODY: &str = "application/octet-stream";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_print_their_names() {
        assert_eq!(
            ExtensionType::APP_DATA_DICTIONARY.to_string(),
            "app_data_dictionary (0x0006)"
        );
        assert_eq!(ComponentId::PARTICIPANT_LIST.value(), 0x0022);
        assert_eq!(ProposalType::SELF_REMOVE.value(), 0x000a);
        assert_eq!(DEFAULT_CIPHERSUITE.value(), 1);
    }

    #[test]
    fn unknown_values_survive_and_print_in_hex() {
        let raw = ComponentId::new(0x1234);
        assert!(!raw.is_known());
        assert_eq!(u16::from(raw), 0x1234);
        assert_eq!(raw.to_string(), "unknown (0x1234)");
    }

    #[test]
    fn provisional_values_are_marked() {
        assert!(ComponentId::ROLES_LIST.is_provisional());
        assert!(!ComponentId::PARTICIPANT_LIST.is_provisional());
        assert!(ProposalType::APP_DATA_UPDATE.is_provisional());
        assert!(ExtensionType::APP_DATA_DICTIONARY.is_provisional());
        assert!(WireFormat::PROVISIONAL.is_empty());
    }

    #[test]
    fn registries_have_no_duplicate_values() {
        fn distinct<T: Ord + Copy>(values: &[T]) -> bool {
            let mut sorted = values.to_vec();
            sorted.sort();
            sorted.windows(2).all(|w| w[0] != w[1])
        }
        assert!(distinct(ExtensionType::KNOWN));
        assert!(distinct(ProposalType::KNOWN));
        assert!(distinct(ComponentId::KNOWN));
        assert!(distinct(WireFormat::KNOWN));
        assert!(distinct(CredentialType::KNOWN));
        assert!(distinct(Ciphersuite::KNOWN));
    }

    #[test]
    fn grease_and_private_use_ranges() {
        assert!(ComponentId::new(0x0a0a).is_grease());
        assert!(ComponentId::new(0x7a7a).is_grease());
        assert!(!ComponentId::new(0x8a8a).is_grease());
        assert!(!ComponentId::new(0x0a1a).is_grease());
        assert!(ComponentId::new(0x8000).is_private_use());
        assert!(!ComponentId::ROOM_METADATA.is_private_use());
    }
}
