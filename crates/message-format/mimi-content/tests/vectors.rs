//! The draft examples in `testing/vectors/content/`: decode, re-encode byte for byte, message
//! IDs (-08 and -07), status report, derived values, extension maps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{content_vectors, fields, hex_field, read_vector};
use mimi_content::cbor::{self, Value};
use mimi_content::status::{MessageStatus, MessageStatusReport};
use mimi_content::{
    Extensions, MessageDerivedValues, MimiContent, NestedPart, Original, ReplaceAuthority,
    ReplaceError, Timestamp, check_replacement, message_id, message_id_draft07,
};

#[test]
fn all_fourteen_draft08_examples_round_trip_and_give_their_ids() {
    let vectors = content_vectors();
    assert_eq!(
        vectors.len(),
        14,
        "expected the 14 -08 examples with a message ID"
    );
    for (name, f) in vectors {
        let bytes = hex_field(&f, "cbor_hex");
        let content = MimiContent::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            content.encode().unwrap(),
            bytes,
            "{name}: re-encoding differs"
        );
        assert_eq!(
            content.salt.0.to_vec(),
            hex_field(&f, "salt_hex"),
            "{name}: salt"
        );
        let cbor_length: usize = f["cbor_length"].parse().unwrap();
        assert_eq!(bytes.len(), cbor_length, "{name}: length");
        let sender = f["sender_uri"].as_bytes();
        let room = f["room_uri"].as_bytes();
        assert_eq!(
            content.extensions.sender_uri().map(str::as_bytes),
            Some(sender)
        );
        assert_eq!(content.extensions.room_uri().map(str::as_bytes), Some(room));
        let id = message_id(sender, room, &bytes).unwrap();
        assert_eq!(
            id.0.to_vec(),
            hex_field(&f, "message_id"),
            "{name}: -08 message ID"
        );
        let mut preimage = Vec::new();
        preimage.extend_from_slice(&(sender.len() as u16).to_be_bytes());
        preimage.extend_from_slice(sender);
        preimage.extend_from_slice(&(room.len() as u16).to_be_bytes());
        preimage.extend_from_slice(room);
        preimage.extend_from_slice(&bytes);
        preimage.extend_from_slice(&content.salt.0);
        assert_eq!(
            preimage,
            hex_field(&f, "message_id_preimage_hex"),
            "{name}: preimage"
        );
        let old = message_id_draft07(sender, room, &bytes).unwrap();
        assert_eq!(
            old.0.to_vec(),
            hex_field(&f, "message_id_draft07_algorithm_on_these_bytes"),
            "{name}: -07 algorithm"
        );
        let (encoded, id2) = content.encode_with_id(sender, room).unwrap();
        assert_eq!((encoded, id2), (bytes, id));
    }
}

#[test]
fn draft07_examples_give_their_ids_with_the_draft07_function() {
    let text = read_vector("mimi-content-07-legacy-message-ids.txt");
    let mut count = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [name, sender, id, cbor_hex] = cols[..] else {
            panic!("bad line {line}")
        };
        let bytes = hex::decode(cbor_hex).unwrap();
        let content = MimiContent::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(content.encode().unwrap(), bytes, "{name}");
        assert_eq!(content.extensions.sender_uri(), Some(sender), "{name}");
        let room = content.extensions.room_uri().unwrap();
        let computed = message_id_draft07(sender.as_bytes(), room.as_bytes(), &bytes).unwrap();
        assert_eq!(computed.to_string(), id, "{name}: -07 ID");
        let new = message_id(sender.as_bytes(), room.as_bytes(), &bytes).unwrap();
        assert_ne!(new.to_string(), id, "{name}: -08 must differ from -07");
        count += 1;
    }
    assert_eq!(count, 14);
}

/// The -08 message ID of each example, by example name.
fn ids_by_name() -> BTreeMap<String, String> {
    content_vectors()
        .into_iter()
        .map(|(_, f)| (f["name"].clone(), f["message_id"].clone()))
        .collect()
}

#[test]
fn status_report_example_round_trips() {
    let f = fields(&read_vector("mimi-message-status-01-report.txt"));
    let bytes = hex_field(&f, "cbor_hex");
    let report = MessageStatusReport::decode(&bytes).unwrap();
    assert_eq!(report.encode(), bytes);
    let ids = ids_by_name();
    // "original=2(read), reply=2(read), ..."
    let expected: Vec<(String, u8)> = f["entries"]
        .split(',')
        .map(|e| {
            let (name, rest) = e.trim().split_once('=').unwrap();
            let status = rest.split('(').next().unwrap().parse().unwrap();
            (ids[name].clone(), status)
        })
        .collect();
    let found: Vec<(String, u8)> = report
        .statuses
        .iter()
        .map(|s| (s.message_id.to_string(), s.status.value()))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(report.statuses[0].status, MessageStatus::READ);
}

#[test]
fn implied_original_derived_values() {
    let f = fields(&read_vector("mimi-content-08-implied-original.txt"));
    let original = ids_by_name()["original"].clone();
    assert_eq!(f["message_id_per_draft08"], original);
    for key in ["committed_cbor_hex", "cbor_hex_with_draft08_message_id"] {
        let bytes = hex_field(&f, key);
        let derived = MessageDerivedValues::decode(&bytes).unwrap();
        assert_eq!(derived.encode(), bytes, "{key}");
        assert_eq!(
            derived.hub_accepted_timestamp,
            Timestamp::Millis(f["hub_accepted_timestamp_ms"].parse().unwrap())
        );
        assert_eq!(derived.mls_group_id, hex_field(&f, "mls_group_id_hex"));
        assert_eq!(
            derived.sender_leaf_index.to_string(),
            f["sender_leaf_index"]
        );
        assert_eq!(derived.sender_client_url, f["sender_client_url"]);
        assert_eq!(derived.sender_user_url, f["sender_user_url"]);
        assert_eq!(derived.room_url, f["room_url"]);
    }
    let fixed = hex_field(&f, "cbor_hex_with_draft08_message_id");
    let derived = MessageDerivedValues::decode(&fixed).unwrap();
    assert_eq!(derived.message_id.to_string(), original);
}

/// Each extension-map vector decodes, re-encodes identically and is a valid extensions map.
fn check_extension_map(hex: &[u8]) -> Extensions {
    let Value::Map(map) = cbor::decode(hex).unwrap() else {
        panic!("not a map")
    };
    assert_eq!(cbor::encode(&Value::Map(map.clone())), hex);
    let extensions = Extensions(map);
    let content = MimiContent {
        salt: mimi_content::Salt([7; 16]),
        replaces: None,
        topic_id: Vec::new(),
        expires: None,
        in_reply_to: None,
        extensions: extensions.clone(),
        nested_part: NestedPart::text("x"),
    };
    let bytes = content.encode().unwrap();
    assert_eq!(MimiContent::decode(&bytes).unwrap(), content);
    extensions
}

#[test]
fn extension_map_examples_are_valid() {
    let depth = fields(&read_vector("mimi-content-08-extensions-depth-example.txt"));
    let ext = check_extension_map(&hex_field(&depth, "cbor_hex"));
    assert_eq!(ext.sender_uri(), Some("mimi://a.example/u/alice"));
    let franking = fields(&read_vector("mimi-protocol-06-franking-extensions-map.txt"));
    check_extension_map(&hex_field(&franking, "cbor_hex"));
    let snippets = fields(&read_vector("mimi-content-more-extensions-00-snippets.txt"));
    let hex_keys: Vec<_> = snippets
        .keys()
        .filter(|k| k.ends_with("_cbor_hex"))
        .collect();
    assert_eq!(hex_keys.len(), 3);
    for key in hex_keys {
        check_extension_map(&hex_field(&snippets, key));
    }
}

fn vector_content(name: &str) -> (MimiContent, String) {
    let f = fields(&read_vector(&format!("mimi-content-08-{name}.txt")));
    let content = MimiContent::decode(&hex_field(&f, "cbor_hex")).unwrap();
    (content, f["sender_uri"].clone())
}

#[test]
fn example_edit_delete_unlike_are_authorized_replacements() {
    let ids = ids_by_name();
    let id = |name: &str| {
        let bytes: [u8; 32] = hex::decode(&ids[name]).unwrap().try_into().unwrap();
        mimi_content::MessageId(bytes)
    };
    for (replacement, target) in [
        ("edit", "reply"),
        ("delete", "reply"),
        ("unlike", "reaction"),
    ] {
        let (original, original_sender) = vector_content(target);
        let (new, new_sender) = vector_content(replacement);
        let original = Original {
            id: id(target),
            sender_uri: original_sender.as_bytes(),
            content: &original,
        };
        check_replacement(
            &original,
            &new,
            new_sender.as_bytes(),
            ReplaceAuthority::OriginalSenderOnly,
        )
        .unwrap_or_else(|e| panic!("{replacement}: {e}"));
        assert_eq!(
            check_replacement(
                &original,
                &new,
                b"mimi://example.com/u/alice-smith",
                ReplaceAuthority::OriginalSenderOnly
            ),
            Err(ReplaceError::NotOriginalSender),
            "{replacement} by someone else"
        );
        check_replacement(
            &original,
            &new,
            b"mimi://example.com/u/alice-smith",
            ReplaceAuthority::PolicyAuthorized,
        )
        .unwrap();
    }
}

#[test]
fn multipart3_cid_references_point_at_leaves() {
    let (content, _) = vector_content("multipart-3");
    let five = content.nested_part.part_at(5).unwrap();
    assert!(matches!(five.body, mimi_content::PartBody::Single(_)));
    let mut count = 0;
    content.nested_part.walk(&mut |_, _, _| count += 1);
    assert_eq!(count, 11);
}

#[test]
fn multipart_selection_follows_preference_and_cid_references() {
    let (content, _) = vector_content("multipart-3");
    let content_type = |p: &NestedPart| match &p.body {
        mimi_content::PartBody::Single(s) => s.content_type.clone(),
        _ => String::new(),
    };
    // Everything understood: the first alternative, English HTML; the GIF it references
    // (part 5) is consumed inline.
    assert_eq!(content.nested_part.select_parts(|_| true), vec![3]);
    // No GIF support: the first alternative's HTML would reference a GIF, so the PNG one.
    let no_gif = content
        .nested_part
        .select_parts(|p| !content_type(p).starts_with("image/gif"));
    assert_eq!(no_gif, vec![8]);
    // French preferred: language is up to the receiver's callback.
    let french = content.nested_part.select_parts(|p| p.language != "en");
    assert_eq!(french, vec![4]);
    // Nothing understood.
    assert!(content.nested_part.select_parts(|_| false).is_empty());
    // multipart-1: chooseOne of Markdown and a proprietary type.
    let (content, _) = vector_content("multipart-1");
    assert_eq!(content.nested_part.select_parts(|_| true), vec![1]);
    assert_eq!(
        content
            .nested_part
            .select_parts(|p| content_type(p).starts_with("application/")),
        vec![2]
    );
    // multipart-2: processAll of three reactions.
    let (content, _) = vector_content("multipart-2");
    assert_eq!(content.nested_part.select_parts(|_| true), vec![1, 2, 3]);
}

#[test]
fn received_examples_are_accepted_with_their_ids() {
    for (name, f) in content_vectors() {
        let bytes = hex_field(&f, "cbor_hex");
        let received = mimi_content::ReceivedMessage::accept(
            bytes.clone(),
            &f["sender_uri"],
            &f["room_uri"],
            |_| false,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(received.id.to_string(), f["message_id"], "{name}");
        assert_eq!(received.bytes, bytes);
    }
}

#[test]
fn example_kinds() {
    use mimi_content::MessageKind::*;
    for (name, kind) in [
        ("original", Message),
        ("reply", Reply),
        ("reaction", Reaction),
        ("edit", Edit),
        ("delete", Delete),
        ("unlike", Unlike),
        ("mention", Reply),
        ("expiring", Message),
        ("attachment", Message),
        ("multipart-2", Message),
    ] {
        assert_eq!(vector_content(name).0.kind(), kind, "{name}");
    }
}

#[test]
fn more_extensions_snippets_have_typed_accessors() {
    use mimi_content::{ExternalMessageId, ExternalScope, Fraction, LastSeen, SenderTimestamp};
    let f = fields(&read_vector("mimi-content-more-extensions-00-snippets.txt"));
    let map = |key: &str| match cbor::decode(&hex_field(&f, key)).unwrap() {
        Value::Map(map) => Extensions(map),
        _ => panic!("{key} is not a map"),
    };
    let ts = map("senderTimestamp_cbor_hex")
        .sender_timestamp()
        .unwrap()
        .unwrap();
    assert_eq!(
        ts,
        SenderTimestamp {
            seconds: 1762760377,
            fraction: Some(Fraction::Micros(462917))
        }
    );
    let mut rebuilt = Extensions::new();
    rebuilt.set_sender_timestamp(ts);
    assert_eq!(rebuilt, map("senderTimestamp_cbor_hex"));

    let ext = map("externalMessageId_cbor_hex")
        .external_message_id()
        .unwrap()
        .unwrap();
    assert_eq!(ext.scope, ExternalScope::Pen(311));
    assert_eq!(
        ext.id,
        hex::decode("08bbeeb8175c4a64a8926a5a23bb2811").unwrap()
    );
    let mut rebuilt = Extensions::new();
    rebuilt.set_external_message_id(&ext);
    assert_eq!(rebuilt, map("externalMessageId_cbor_hex"));

    let subject = map("subject_cbor_hex");
    assert_eq!(
        subject.subject().unwrap(),
        Some("This space intentionally left blank")
    );
    let mut rebuilt = Extensions::new();
    rebuilt
        .set_subject("This space intentionally left blank")
        .unwrap();
    assert_eq!(rebuilt, subject);
    assert!(rebuilt.set_subject("").is_err());
    assert!(rebuilt.set_subject(&"x".repeat(4097)).is_err());

    // The depth example's key 256 is not a lastSeen list of IDs: reported, not panicking.
    let depth = fields(&read_vector("mimi-content-08-extensions-depth-example.txt"));
    let Value::Map(depth) = cbor::decode(&hex_field(&depth, "cbor_hex")).unwrap() else {
        panic!()
    };
    assert!(Extensions(depth).last_seen().is_err());
    let ids = ids_by_name();
    let seen = LastSeen::Mimi(vec![mimi_content::MessageId(
        hex::decode(&ids["original"]).unwrap().try_into().unwrap(),
    )]);
    let mut ext = Extensions::new();
    ext.set_last_seen(&seen);
    assert_eq!(ext.last_seen().unwrap(), Some(seen));
    let external = LastSeen::External(vec![ExternalMessageId {
        id: vec![1, 2],
        scope: ExternalScope::Text("example.com".into()),
    }]);
    ext.set_last_seen(&external);
    assert_eq!(ext.last_seen().unwrap(), Some(external));
    assert_eq!(Extensions::new().last_seen().unwrap(), None);
}
