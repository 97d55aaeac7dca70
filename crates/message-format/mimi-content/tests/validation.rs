//! Every MUST of draft-ietf-mimi-content-08 on the data model (digest §5.3, §5.4, §7.1) and
//! every shape rule of the CDDL, each with the specific error asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestRng, fields, hex_field, read_vector};
use mimi_content::cbor::{MapKey, Value};
use mimi_content::{
    AeadAlgorithm, AttachmentKey, ContentBuilder, DecodeError, Disposition, Expiration,
    ExternalPart, HashAlgorithm, MessageId, MimiContent, NestedPart, PartBody, PartSemantics, Salt,
    ShapeError, ValidationError,
};

fn original() -> MimiContent {
    let f = fields(&read_vector("mimi-content-08-original.txt"));
    MimiContent::decode(&hex_field(&f, "cbor_hex")).unwrap()
}

fn with_body(body: NestedPart) -> MimiContent {
    MimiContent {
        nested_part: body,
        ..original()
    }
}

/// The content is refused on encode and, encoded anyway, on decode, with `expected`.
fn refused(content: &MimiContent, expected: ValidationError) {
    assert_eq!(content.encode(), Err(expected.clone()));
    assert_eq!(
        MimiContent::decode(&content.encode_unchecked()),
        Err(DecodeError::Invalid(expected))
    );
}

fn shape(bytes: &[u8]) -> ShapeError {
    match MimiContent::decode(bytes) {
        Err(DecodeError::Shape(e)) => e,
        other => panic!("expected a shape error, got {other:?}"),
    }
}

fn text_parts(n: usize) -> Vec<NestedPart> {
    (0..n).map(|i| NestedPart::text(&i.to_string())).collect()
}

// ---- shape (CDDL) ----

#[test]
fn top_level_must_be_seven_elements() {
    assert_eq!(
        shape(&[0x86, 0, 0, 0, 0, 0, 0]),
        ShapeError::ArrayLength {
            what: "mimiContent",
            expected: 7,
            found: 6
        }
    );
}

#[test]
fn salt_must_be_16_bytes() {
    let bytes = [
        0x87, 0x41, 0x00, 0xf6, 0x40, 0xf6, 0xf6, 0xa0, 0x83, 0x01, 0x60, 0x00,
    ];
    assert_eq!(shape(&bytes), ShapeError::SaltLength { found: 1 });
}

#[test]
fn message_ids_must_be_32_bytes() {
    let mut content = original();
    content.replaces = Some(MessageId([1; 32]));
    let mut bytes = content.encode().unwrap();
    let at = bytes.windows(2).position(|w| w == [0x58, 0x20]).unwrap();
    bytes[at + 1] = 0x1f;
    bytes.remove(at + 2);
    assert_eq!(
        shape(&bytes),
        ShapeError::MessageIdLength {
            field: "replaces",
            found: 31
        }
    );
}

#[test]
fn field_types() {
    let mut bytes = original().encode().unwrap();
    // topicId h'' (0x40) -> "" (0x60)
    let at = 1 + 17 + 1;
    assert_eq!(bytes[at], 0x40);
    bytes[at] = 0x60;
    assert_eq!(
        shape(&bytes),
        ShapeError::WrongType {
            field: "topicId",
            expected: "a byte string"
        }
    );
}

#[test]
fn unknown_cardinality_and_part_semantics() {
    let content = with_body(NestedPart::alternatives(text_parts(2)));
    let bytes = content.encode().unwrap();
    let at = bytes
        .windows(5)
        .position(|w| w == [0x85, 0x01, 0x60, 0x03, 0x00])
        .unwrap();
    let mut bad = bytes.clone();
    bad[at + 4] = 0x03;
    assert_eq!(shape(&bad), ShapeError::UnknownPartSemantics(3));
    let mut bad = bytes.clone();
    bad[at + 3] = 0x04;
    assert_eq!(shape(&bad), ShapeError::UnknownCardinality(4));
    let mut bad = bytes;
    bad[at + 3] = 0x00; // null part with 5 elements
    assert_eq!(
        shape(&bad),
        ShapeError::PartLength {
            cardinality: 0,
            expected: 3,
            found: 5
        }
    );
}

#[test]
fn integer_sizes() {
    let bytes = original().encode().unwrap();
    let at = bytes
        .windows(3)
        .position(|w| w == [0x85, 0x01, 0x60])
        .unwrap();
    let mut bad = bytes[..at + 1].to_vec();
    bad.extend_from_slice(&[0x19, 0x01, 0x00]); // disposition 256
    bad.extend_from_slice(&bytes[at + 2..]);
    assert_eq!(
        shape(&bad),
        ShapeError::OutOfRange {
            field: "disposition",
            found: 256,
            max: 255
        }
    );
}

// ---- validation (MUSTs) ----

#[test]
fn salt_must_be_random() {
    let content = MimiContent {
        salt: Salt([0; 16]),
        ..original()
    };
    refused(&content, ValidationError::SaltNotRandom);
}

#[test]
fn nested_parts_at_most_four_levels() {
    let mut part = NestedPart::text("leaf");
    for _ in 0..3 {
        part = NestedPart::alternatives(vec![part, NestedPart::text("x")]);
    }
    with_body(part.clone()).encode().unwrap();
    let five = NestedPart::alternatives(vec![part, NestedPart::text("x")]);
    refused(
        &with_body(five),
        ValidationError::NestingTooDeep { depth: 5, limit: 4 },
    );
}

#[test]
fn at_most_1024_parts() {
    with_body(NestedPart::alternatives(text_parts(1023)))
        .encode()
        .unwrap();
    refused(
        &with_body(NestedPart::alternatives(text_parts(1024))),
        ValidationError::TooManyParts {
            count: 1025,
            limit: 1024,
        },
    );
}

#[test]
fn multipart_needs_two_parts() {
    refused(
        &with_body(NestedPart::alternatives(text_parts(1))),
        ValidationError::TooFewParts { part: 0, found: 1 },
    );
}

#[test]
fn topic_id_at_most_4096_bytes() {
    let content = MimiContent {
        topic_id: vec![b'x'; 4097],
        ..original()
    };
    refused(
        &content,
        ValidationError::TopicIdTooLong {
            len: 4097,
            limit: 4096,
        },
    );
}

fn with_extension(key: MapKey, value: Value) -> MimiContent {
    let mut content = original();
    content.extensions.0.insert(key, value);
    content
}

#[test]
fn extensions_at_most_four_levels() {
    let four = Value::Array(vec![Value::Array(vec![Value::Tag(
        32,
        Box::new(Value::text("u")),
    )])]);
    with_extension(MapKey::Int(256), four.clone())
        .encode()
        .unwrap();
    let five = Value::Array(vec![four]);
    refused(
        &with_extension(MapKey::Int(256), five),
        ValidationError::ExtensionsTooDeep {
            key: "256".into(),
            depth: 5,
            limit: 4,
        },
    );
}

#[test]
fn extension_keys() {
    refused(
        &with_extension(MapKey::Int(0), Value::Null),
        ValidationError::ExtensionKeyReserved,
    );
    refused(
        &with_extension(MapKey::text(""), Value::Null),
        ValidationError::ExtensionKeyTextLength { len: 0 },
    );
    refused(
        &with_extension(MapKey::text("k".repeat(256)), Value::Null),
        ValidationError::ExtensionKeyTextLength { len: 256 },
    );
    with_extension(MapKey::text("k".repeat(255)), Value::Null)
        .encode()
        .unwrap();
    with_extension(MapKey::Int(-7), Value::Null)
        .encode()
        .unwrap();
    refused(
        &with_extension(MapKey::Bytes(vec![1]), Value::Null),
        ValidationError::ExtensionKeyBytes,
    );
}

#[test]
fn integer_keys_within_2_pow_53() {
    let too_big = 1i64 << 53;
    assert_eq!(
        with_extension(MapKey::Int(too_big), Value::Null).encode(),
        Err(ValidationError::MapKeyOutOfRange { key: too_big })
    );
    let nested = Value::Map([(MapKey::Int(-too_big), Value::Null)].into());
    assert_eq!(
        with_extension(MapKey::Int(300), nested).encode(),
        Err(ValidationError::MapKeyOutOfRange { key: -too_big })
    );
}

#[test]
fn one_entry_per_extension_key() {
    // The model cannot hold two entries per key; on the wire the reader refuses them
    // (cbor_strict.rs: map_keys_sorted_bytewise_and_unique), and the builder replaces.
    let mut rng = TestRng(1);
    let content = ContentBuilder::new(NestedPart::text("x"))
        .extension(5, Value::text("first"))
        .extension(5, Value::text("second"))
        .build(&mut rng)
        .unwrap();
    assert_eq!(content.extensions.0.len(), 1);
    assert_eq!(
        content.extensions.get(&MapKey::Int(5)),
        Some(&Value::text("second"))
    );
}

#[test]
fn sender_and_room_uri_are_text() {
    refused(
        &with_extension(MapKey::Int(1), Value::Unsigned(1)),
        ValidationError::ExtensionValueType {
            key: 1,
            expected: "a text string (a URI)",
        },
    );
    refused(
        &with_extension(MapKey::Int(2), Value::Bytes(vec![])),
        ValidationError::ExtensionValueType {
            key: 2,
            expected: "a text string (a URI)",
        },
    );
}

fn html(text: &str) -> NestedPart {
    NestedPart::single(Disposition::RENDER, "text/html;charset=utf-8", text)
}

#[test]
fn cid_references_only_single_or_external_parts() {
    let image = NestedPart::single(Disposition::INLINE, "image/png", vec![1, 2, 3]);
    let ok = NestedPart::multi(
        Disposition::RENDER,
        PartSemantics::SingleUnit,
        vec![html("<img src=\"cid:2@local.invalid\">"), image.clone()],
    );
    with_body(ok).encode().unwrap();
    let to_multi = NestedPart::multi(
        Disposition::RENDER,
        PartSemantics::SingleUnit,
        vec![html("<img src=\"cid:0@local.invalid\">"), image.clone()],
    );
    refused(
        &with_body(to_multi),
        ValidationError::CidTargetNotLeaf { part: 1, target: 0 },
    );
    let missing = NestedPart::multi(
        Disposition::RENDER,
        PartSemantics::SingleUnit,
        vec![html("<img src=\"cid:9@local.invalid\">"), image],
    );
    refused(
        &with_body(missing),
        ValidationError::CidTargetMissing { part: 1, target: 9 },
    );
}

#[test]
fn reactions_not_concatenated() {
    refused(
        &with_body(NestedPart::reaction("\u{2764}\u{1F973}")),
        ValidationError::ConcatenatedReactions { part: 0 },
    );
    with_body(NestedPart::reaction("\u{2764}\u{FE0F}"))
        .encode()
        .unwrap();
    with_body(NestedPart::reactions(["\u{2764}", "\u{1F973}"]))
        .encode()
        .unwrap();
}

#[test]
fn utf8_text_parts_are_utf8() {
    refused(
        &with_body(NestedPart::single(
            Disposition::RENDER,
            "text/plain;charset=utf-8",
            vec![0xff],
        )),
        ValidationError::TextNotUtf8 { part: 0 },
    );
    refused(
        &with_body(NestedPart::single(
            Disposition::RENDER,
            "text/markdown;variant=GFM-MIMI",
            vec![0xc3],
        )),
        ValidationError::TextNotUtf8 { part: 0 },
    );
}

fn external(
    enc_alg: AeadAlgorithm,
    key: usize,
    nonce: usize,
    hash_alg: HashAlgorithm,
    hash: usize,
) -> NestedPart {
    NestedPart::attachment(ExternalPart {
        content_type: "image/png".into(),
        url: "https://example.com/f".into(),
        expires: 0,
        size: 0,
        enc_alg,
        key: AttachmentKey(vec![7; key]),
        nonce: vec![7; nonce],
        aad: Vec::new(),
        hash_alg,
        content_hash: vec![7; hash],
        description: String::new(),
        filename: String::new(),
    })
}

#[test]
fn external_part_key_material() {
    use AeadAlgorithm as A;
    use HashAlgorithm as H;
    with_body(external(A::AES_128_GCM, 16, 12, H::SHA_256, 32))
        .encode()
        .unwrap();
    with_body(external(A::NONE, 0, 0, H::NONE, 0))
        .encode()
        .unwrap();
    with_body(external(A::new(999), 3, 3, H::new(99), 3))
        .encode()
        .unwrap();
    refused(
        &with_body(external(A::NONE, 16, 0, H::NONE, 0)),
        ValidationError::UnencryptedPartHasKeyMaterial { part: 0 },
    );
    refused(
        &with_body(external(A::AES_128_GCM, 32, 12, H::SHA_256, 32)),
        ValidationError::KeyLength {
            part: 0,
            expected: 16,
            found: 32,
        },
    );
    refused(
        &with_body(external(A::AES_128_GCM, 16, 16, H::SHA_256, 32)),
        ValidationError::NonceLength {
            part: 0,
            expected: 12,
            found: 16,
        },
    );
    refused(
        &with_body(external(A::AES_128_GCM, 16, 12, H::SHA_256, 20)),
        ValidationError::ContentHashLength {
            part: 0,
            expected: 32,
            found: 20,
        },
    );
}

#[test]
fn expiry_anomalies() {
    let year = mimi_content::EXPIRY_WINDOW_SECS;
    let now = 1_700_000_000u64;
    let at = |relative, time: u64| MimiContent {
        expires: Some(Expiration {
            relative,
            time: time as u32,
        }),
        ..original()
    };
    at(false, now + 60).check_expiry(now).unwrap();
    at(false, now - 60).check_expiry(now).unwrap();
    at(true, 3600).check_expiry(now).unwrap();
    original().check_expiry(now).unwrap();
    assert_eq!(
        at(false, now - year - 1).check_expiry(now),
        Err(ValidationError::ExpiryFarInPast {
            expires: now - year - 1,
            now
        })
    );
    assert_eq!(
        at(false, now + year + 1).check_expiry(now),
        Err(ValidationError::ExpiryFarInFuture {
            expires: now + year + 1,
            now
        })
    );
    assert_eq!(
        at(true, year + 1).check_expiry(now),
        Err(ValidationError::ExpiryFarInFuture {
            expires: now + year + 1,
            now
        })
    );
}

#[test]
fn unknown_dispositions_render() {
    let content = with_body(NestedPart::single(
        Disposition::new(200),
        "text/plain;charset=utf-8",
        "hi",
    ));
    let decoded = MimiContent::decode(&content.encode().unwrap()).unwrap();
    assert_eq!(
        decoded.nested_part.disposition.effective(),
        Disposition::RENDER
    );
    assert!(matches!(decoded.nested_part.body, PartBody::Single(_)));
}
