//! Property tests: for arbitrary valid content, `decode(encode(x)) == x` and the encoding is
//! deterministic; the same for generic CBOR values and status reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use mimi_content::cbor::{self, Float, MAX_SAFE_INTEGER_KEY, MapKey, SimpleValue, Value};
use mimi_content::status::{MessageStatus, MessageStatusReport};
use mimi_content::{
    AeadAlgorithm, AttachmentKey, Disposition, Expiration, Extensions, ExternalPart, HashAlgorithm,
    MessageId, MimiContent, MultiPart, NestedPart, PartBody, PartSemantics, Salt, SinglePart,
};
use proptest::prelude::*;

fn arb_key() -> impl Strategy<Value = MapKey> {
    prop_oneof![
        (-MAX_SAFE_INTEGER_KEY..=MAX_SAFE_INTEGER_KEY).prop_map(MapKey::Int),
        (-30i64..30).prop_map(MapKey::Int),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(MapKey::Bytes),
        "[a-z]{0,6}".prop_map(MapKey::Text),
    ]
}

fn arb_float() -> impl Strategy<Value = Float> {
    prop_oneof![
        any::<f64>().prop_map(Float::new),
        any::<f32>().prop_map(|f| Float::new(f64::from(f))),
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            1.5,
            65504.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            5.960464477539063e-8
        ])
        .prop_map(Float::new),
    ]
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::Unsigned),
        any::<u64>().prop_map(Value::Negative),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Bytes),
        "\\PC{0,8}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        Just(Value::Undefined),
        any::<u8>()
            .prop_filter_map("named simple", SimpleValue::new)
            .prop_map(Value::Simple),
        arb_float().prop_map(Value::Float),
    ]
}

/// Values with at most `depth` levels of arrays, maps and tags.
fn arb_value(depth: u32) -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(depth, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(arb_key(), inner.clone(), 0..4).prop_map(Value::Map),
            (
                any::<u64>().prop_filter("bignum tags need big bytes", |t| *t != 2 && *t != 3),
                inner
            )
                .prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
        ]
    })
}

fn arb_extension_key() -> impl Strategy<Value = MapKey> {
    prop_oneof![
        (3i64..=MAX_SAFE_INTEGER_KEY).prop_map(MapKey::Int),
        (-MAX_SAFE_INTEGER_KEY..0).prop_map(MapKey::Int),
        "[a-z]{1,8}".prop_map(MapKey::Text),
    ]
}

fn arb_extensions() -> impl Strategy<Value = Extensions> {
    (
        proptest::option::of("mimi://[a-z]{1,5}\\.example/u/[a-z]{1,5}"),
        proptest::collection::btree_map(arb_extension_key(), arb_value(3), 0..4),
    )
        .prop_map(|(sender, others)| {
            let mut map: BTreeMap<MapKey, Value> = others;
            if let Some(sender) = sender {
                map.insert(MapKey::Int(1), Value::Text(sender));
            }
            Extensions(map)
        })
}

fn arb_id() -> impl Strategy<Value = MessageId> {
    any::<[u8; 32]>().prop_map(MessageId)
}

fn arb_single() -> impl Strategy<Value = PartBody> {
    (
        prop::sample::select(vec![
            "text/plain;charset=utf-8",
            "text/markdown;variant=GFM-MIMI",
            "image/png",
            "",
        ]),
        "[a-zA-Z .,]{0,20}",
    )
        .prop_map(|(content_type, text)| {
            PartBody::Single(SinglePart {
                content_type: content_type.into(),
                content: text.into_bytes(),
            })
        })
}

fn arb_external() -> impl Strategy<Value = PartBody> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<[u8; 16]>(),
        any::<[u8; 12]>(),
        any::<[u8; 32]>(),
        "[a-z]{0,8}",
        any::<u32>(),
        any::<u64>(),
    )
        .prop_map(
            |(encrypted, hashed, key, nonce, hash, name, expires, size)| {
                PartBody::External(Box::new(ExternalPart {
                    content_type: "application/octet-stream".into(),
                    url: format!("https://example.com/{name}"),
                    expires,
                    size,
                    enc_alg: if encrypted {
                        AeadAlgorithm::AES_128_GCM
                    } else {
                        AeadAlgorithm::NONE
                    },
                    key: AttachmentKey(if encrypted { key.to_vec() } else { Vec::new() }),
                    nonce: if encrypted {
                        nonce.to_vec()
                    } else {
                        Vec::new()
                    },
                    aad: Vec::new(),
                    hash_alg: if hashed {
                        HashAlgorithm::SHA_256
                    } else {
                        HashAlgorithm::NONE
                    },
                    content_hash: if hashed { hash.to_vec() } else { Vec::new() },
                    description: name.clone(),
                    filename: name,
                }))
            },
        )
}

fn arb_part() -> impl Strategy<Value = NestedPart> {
    let leaf = (
        any::<u8>(),
        "[a-z]{0,2}",
        prop_oneof![Just(PartBody::Null), arb_single(), arb_external()],
    )
        .prop_map(|(d, language, body)| NestedPart {
            disposition: Disposition::new(d),
            language,
            body,
        });
    // Three levels of recursion: at most 4 levels of parts.
    leaf.prop_recursive(3, 32, 4, |inner| {
        (
            any::<u8>(),
            prop::sample::select(vec![
                PartSemantics::ChooseOne,
                PartSemantics::SingleUnit,
                PartSemantics::ProcessAll,
            ]),
            proptest::collection::vec(inner, 2..4),
        )
            .prop_map(|(d, semantics, parts)| NestedPart {
                disposition: Disposition::new(d),
                language: String::new(),
                body: PartBody::Multi(MultiPart { semantics, parts }),
            })
    })
}

fn arb_content() -> impl Strategy<Value = MimiContent> {
    (
        any::<[u8; 16]>().prop_filter("salt must not be all zeros", |s| *s != [0; 16]),
        proptest::option::of(arb_id()),
        proptest::collection::vec(any::<u8>(), 0..16),
        proptest::option::of((any::<bool>(), any::<u32>())),
        proptest::option::of(arb_id()),
        arb_extensions(),
        arb_part(),
    )
        .prop_map(
            |(salt, replaces, topic_id, expires, in_reply_to, extensions, nested_part)| {
                MimiContent {
                    salt: Salt(salt),
                    replaces,
                    topic_id,
                    expires: expires.map(|(relative, time)| Expiration { relative, time }),
                    in_reply_to,
                    extensions,
                    nested_part,
                }
            },
        )
}

proptest! {
    #[test]
    fn content_round_trips_deterministically(content in arb_content()) {
        let bytes = content.encode().unwrap();
        prop_assert_eq!(content.encode().unwrap(), bytes.clone());
        prop_assert_eq!(MimiContent::decode(&bytes).unwrap(), content.clone());
        // The generic reader agrees byte for byte.
        prop_assert_eq!(cbor::encode(&cbor::decode(&bytes).unwrap()), bytes);
    }

    #[test]
    fn values_round_trip(value in arb_value(4)) {
        let bytes = cbor::encode(&value);
        prop_assert_eq!(cbor::decode(&bytes).unwrap(), value);
    }

    #[test]
    fn map_key_order_matches_encoding_order(a in arb_key(), b in arb_key()) {
        let (ea, eb) = (cbor::encode(&a.to_value()), cbor::encode(&b.to_value()));
        prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
    }

    #[test]
    fn status_reports_round_trip(entries in proptest::collection::vec((arb_id(), any::<u8>()), 0..8)) {
        let mut report = MessageStatusReport::default();
        for (id, status) in entries {
            report.push(id, MessageStatus::new(status));
        }
        let bytes = report.encode();
        prop_assert_eq!(MessageStatusReport::decode(&bytes).unwrap(), report);
    }
}
