//! Every rule of the strict CBOR reader, each refused with its own error (RFC 8949 §4.2.1 and
//! digest §5.4), at the generic level and inside MIMI content.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{fields, hex_field, read_vector};
use mimi_content::cbor::{self, CborError, MAX_DEPTH, MapKey, Value};
use mimi_content::{DecodeError, MimiContent};

fn err(bytes: &[u8]) -> CborError {
    cbor::decode(bytes).expect_err("must be refused")
}

fn original() -> Vec<u8> {
    hex_field(
        &fields(&read_vector("mimi-content-08-original.txt")),
        "cbor_hex",
    )
}

#[test]
fn trailing_bytes() {
    let mut bytes = original();
    let len = bytes.len();
    bytes.push(0x00);
    assert_eq!(
        MimiContent::decode(&bytes),
        Err(DecodeError::Cbor(CborError::TrailingBytes {
            at: len,
            remaining: 1
        }))
    );
}

#[test]
fn truncated() {
    let bytes = original();
    assert!(matches!(
        MimiContent::decode(&bytes[..bytes.len() - 1]),
        Err(DecodeError::Cbor(CborError::Truncated { .. }))
    ));
    assert_eq!(err(&[]), CborError::Truncated { at: 0 });
    assert_eq!(err(&[0x19, 0x01]), CborError::Truncated { at: 0 });
    assert_eq!(err(&[0x42, 0x01]), CborError::Truncated { at: 0 });
}

#[test]
fn reserved_additional_information() {
    for b in [0x1c, 0x1d, 0x1e, 0x3f, 0xdf] {
        assert_eq!(
            err(&[b]),
            CborError::ReservedAdditionalInfo { at: 0 },
            "{b:#x}"
        );
    }
}

#[test]
fn indefinite_lengths() {
    assert_eq!(
        err(&[0x9f, 0x01, 0xff]),
        CborError::IndefiniteLength { at: 0 }
    );
    assert_eq!(err(&[0xbf, 0xff]), CborError::IndefiniteLength { at: 0 });
    assert_eq!(
        err(&[0x5f, 0x41, 0x00, 0xff]),
        CborError::IndefiniteLength { at: 0 }
    );
    assert_eq!(err(&[0x7f, 0xff]), CborError::IndefiniteLength { at: 0 });
    // The original example with its top-level array made indefinite.
    let mut bytes = original();
    bytes[0] = 0x9f;
    bytes.push(0xff);
    assert_eq!(
        MimiContent::decode(&bytes),
        Err(DecodeError::Cbor(CborError::IndefiniteLength { at: 0 }))
    );
}

#[test]
fn unexpected_break() {
    assert_eq!(err(&[0xff]), CborError::UnexpectedBreak { at: 0 });
    assert_eq!(err(&[0x81, 0xff]), CborError::UnexpectedBreak { at: 1 });
}

#[test]
fn non_minimal_integers_lengths_tags() {
    assert_eq!(err(&[0x18, 0x05]), CborError::NonMinimalInteger { at: 0 });
    assert_eq!(
        err(&[0x19, 0x00, 0xff]),
        CborError::NonMinimalInteger { at: 0 }
    );
    assert_eq!(err(&[0x38, 0x00]), CborError::NonMinimalInteger { at: 0 });
    assert_eq!(
        err(&[0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
        CborError::NonMinimalInteger { at: 0 }
    );
    assert_eq!(
        err(&[0x58, 0x01, 0x00]),
        CborError::NonMinimalLength { at: 0 }
    );
    assert_eq!(
        err(&[0x98, 0x01, 0x00]),
        CborError::NonMinimalLength { at: 0 }
    );
    assert_eq!(err(&[0xb8, 0x00]), CborError::NonMinimalLength { at: 0 });
    assert_eq!(err(&[0xd8, 0x01, 0x00]), CborError::NonMinimalTag { at: 0 });
    // The original example's salt with a one-byte length prefix.
    let mut bytes = original();
    bytes.splice(1..2, [0x58, 0x10]);
    assert_eq!(
        MimiContent::decode(&bytes),
        Err(DecodeError::Cbor(CborError::NonMinimalLength { at: 1 }))
    );
}

#[test]
fn floats_shortest_and_canonical_nan() {
    // 1.0 as single and double precision: half is enough.
    assert_eq!(
        err(&[0xfa, 0x3f, 0x80, 0, 0]),
        CborError::NonShortestFloat { at: 0 }
    );
    assert_eq!(
        err(&[0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
        CborError::NonShortestFloat { at: 0 }
    );
    // 0.1 needs a double: accepted, and re-encodes to itself.
    let tenth = [0xfb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a];
    assert_eq!(cbor::encode(&cbor::decode(&tenth).unwrap()), tenth);
    assert_eq!(
        err(&[0xfa, 0x7f, 0xc0, 0, 0]),
        CborError::NonCanonicalNaN { at: 0 }
    );
    assert_eq!(
        err(&[0xf9, 0x7e, 0x01]),
        CborError::NonCanonicalNaN { at: 0 }
    );
    assert_eq!(
        err(&[0xf9, 0xfe, 0x00]),
        CborError::NonCanonicalNaN { at: 0 }
    );
    let nan = [0xf9, 0x7e, 0x00];
    assert_eq!(cbor::encode(&cbor::decode(&nan).unwrap()), nan);
}

#[test]
fn invalid_simple_values() {
    assert_eq!(
        err(&[0xf8, 0x10]),
        CborError::InvalidSimpleValue { at: 0, value: 16 }
    );
    assert_eq!(
        err(&[0xf8, 0x1f]),
        CborError::InvalidSimpleValue { at: 0, value: 31 }
    );
    assert_eq!(
        cbor::decode(&[0xf8, 0x20]).unwrap(),
        Value::Simple(cbor::SimpleValue::new(32).unwrap())
    );
}

#[test]
fn invalid_utf8() {
    assert_eq!(err(&[0x62, 0xc3, 0x28]), CborError::InvalidUtf8 { at: 0 });
    // The original example's language "" made a one-byte invalid string.
    let bytes = original();
    let at = bytes
        .windows(4)
        .position(|w| w == [0x85, 0x01, 0x60, 0x01])
        .unwrap();
    let mut broken = bytes[..at + 2].to_vec();
    broken.extend_from_slice(&[0x61, 0xff]);
    broken.extend_from_slice(&bytes[at + 3..]);
    assert_eq!(
        MimiContent::decode(&broken),
        Err(DecodeError::Cbor(CborError::InvalidUtf8 { at: at + 2 }))
    );
}

#[test]
fn map_keys_sorted_bytewise_and_unique() {
    assert_eq!(
        err(&[0xa2, 0x02, 0x00, 0x01, 0x00]),
        CborError::UnsortedMapKeys { at: 3 }
    );
    assert_eq!(
        err(&[0xa2, 0x01, 0x00, 0x01, 0x00]),
        CborError::DuplicateMapKey { at: 3 }
    );
    // RFC 7049 "canonical" (length-first) order puts -1 before 256; RFC 8949 bytewise order
    // puts 256 (0x19...) before -1 (0x20): length-first is refused.
    assert_eq!(
        err(&[0xa2, 0x20, 0x00, 0x19, 0x01, 0x00, 0x00]),
        CborError::UnsortedMapKeys { at: 3 }
    );
    let bytewise = [0xa2, 0x19, 0x01, 0x00, 0x00, 0x20, 0x00];
    assert_eq!(cbor::encode(&cbor::decode(&bytewise).unwrap()), bytewise);
    // Duplicate senderUri in the original example's extensions map.
    let bytes = original();
    let map_at = bytes.iter().position(|b| *b == 0xa2).unwrap();
    // a2 | 01 | 78 20 <32 bytes of senderUri> | 02 | ...: rewrite key 2 as 1.
    let second = map_at + 1 + 1 + 2 + 0x20;
    assert_eq!(bytes[second], 0x02);
    let mut dup = bytes.clone();
    dup[second] = 0x01;
    assert_eq!(
        MimiContent::decode(&dup),
        Err(DecodeError::Cbor(CborError::DuplicateMapKey { at: second }))
    );
}

#[test]
fn map_key_types_and_range() {
    assert_eq!(err(&[0xa1, 0x80, 0x00]), CborError::MapKeyType { at: 1 });
    assert_eq!(err(&[0xa1, 0xf4, 0x00]), CborError::MapKeyType { at: 1 });
    let two53 = [0xa1, 0x1b, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0x00];
    assert_eq!(err(&two53), CborError::MapKeyOutOfRange { at: 1 });
    let minus_two53 = [
        0xa1, 0x3b, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
    ];
    assert_eq!(err(&minus_two53), CborError::MapKeyOutOfRange { at: 1 });
    let max_ok = [
        0xa1, 0x1b, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
    ];
    let Value::Map(map) = cbor::decode(&max_ok).unwrap() else {
        panic!()
    };
    assert!(map.contains_key(&MapKey::Int(cbor::MAX_SAFE_INTEGER_KEY)));
    let min_ok = [
        0xa1, 0x3b, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00,
    ];
    let Value::Map(map) = cbor::decode(&min_ok).unwrap() else {
        panic!()
    };
    assert!(map.contains_key(&MapKey::Int(-cbor::MAX_SAFE_INTEGER_KEY)));
}

#[test]
fn depth_limit() {
    let mut deep = vec![0x81; MAX_DEPTH];
    deep.push(0x00);
    assert!(cbor::decode(&deep).is_ok());
    let mut too_deep = vec![0x81; MAX_DEPTH + 1];
    too_deep.push(0x00);
    assert_eq!(
        err(&too_deep),
        CborError::TooDeep {
            at: MAX_DEPTH,
            limit: MAX_DEPTH
        }
    );
    // Deep enough to overflow a naive recursive decoder's stack.
    let huge = vec![0x81; 1_000_000];
    assert!(matches!(err(&huge), CborError::TooDeep { .. }));
}

#[test]
fn bignums_only_when_needed() {
    assert_eq!(err(&[0xc2, 0x01]), CborError::BignumNotBytes { at: 0 });
    let fits = [0xc2, 0x48, 1, 2, 3, 4, 5, 6, 7, 8];
    assert_eq!(err(&fits), CborError::BignumFitsInInteger { at: 0 });
    let zero = [0xc3, 0x49, 0, 1, 2, 3, 4, 5, 6, 7, 8];
    assert_eq!(err(&zero), CborError::BignumLeadingZero { at: 0 });
    let big = [0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(cbor::encode(&cbor::decode(&big).unwrap()), big);
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // An array claiming 2^64-1 elements and a byte string claiming 2^32 bytes.
    assert!(matches!(
        err(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        CborError::Truncated { .. }
    ));
    assert!(matches!(
        err(&[0x5b, 0, 0, 0, 1, 0, 0, 0, 0]),
        CborError::Truncated { .. }
    ));
}

#[test]
fn map_key_order_is_encoding_order() {
    let keys = [
        MapKey::Int(0),
        MapKey::Int(23),
        MapKey::Int(24),
        MapKey::Int(256),
        MapKey::Int(-1),
        MapKey::Int(-25),
        MapKey::Bytes(vec![]),
        MapKey::Bytes(vec![0xff]),
        MapKey::Bytes(vec![0x00, 0x00]),
        MapKey::text("b"),
        MapKey::text("aa"),
    ];
    for pair in keys.windows(2) {
        assert!(pair[0] < pair[1], "{pair:?}");
        assert!(cbor::encode(&pair[0].to_value()) < cbor::encode(&pair[1].to_value()));
    }
}
