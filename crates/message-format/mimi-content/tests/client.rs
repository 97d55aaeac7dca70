//! What a client does: builders, attachments, replacement authorization, reply chains,
//! message-ID and status-report errors. Builder outputs are pinned in
//! `testing/vectors/content/mimi-rs-builders-golden.txt`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::Write as _;

use common::{TestRng, vector_dir};
use mimi_content::status::{MessageStatus, MessageStatusReport};
use mimi_content::{
    AeadAlgorithm, AttachmentError, ContentBuilder, DecodeError, Disposition, HashAlgorithm,
    MessageId, MessageIdError, MimiContent, NestedPart, Original, PartBody, ReplaceAuthority,
    ReplaceError, ReplyChainError, ShapeError, ValidationError, check_replacement,
    markdown_mention, may_replace, message_id, message_id_draft07, message_id_for, open_attachment,
    reply_chain, seal_attachment,
};
use mimi_types::{RoomUri, UserUri};

const ALICE: &str = "mimi://a.example/u/alice";
const BOB: &str = "mimi://b.example/u/bob";
const ROOM: &str = "mimi://hub.example/r/team";

fn send(
    builder: ContentBuilder,
    sender: &str,
    rng: &mut TestRng,
) -> (MimiContent, Vec<u8>, MessageId) {
    let content = builder.uri_strings(sender, ROOM).build(rng).unwrap();
    let (bytes, id) = content
        .encode_with_id(sender.as_bytes(), ROOM.as_bytes())
        .unwrap();
    assert_eq!(MimiContent::decode(&bytes).unwrap(), content);
    (content, bytes, id)
}

/// Every builder, deterministic with a fixed RNG; the output is pinned as golden vectors.
fn conversation() -> Vec<(&'static str, Vec<u8>, MessageId)> {
    let mut rng = TestRng(2026);
    let mut out = Vec::new();
    let (_, b, original) = send(
        ContentBuilder::new(NestedPart::markdown("Hello <b>team</b>")),
        ALICE,
        &mut rng,
    );
    out.push(("markdown", b, original));
    let (_, b, reply) = send(
        ContentBuilder::reply(original, NestedPart::text("hi!")),
        BOB,
        &mut rng,
    );
    out.push(("reply", b, reply));
    let (_, b, reaction) = send(
        ContentBuilder::reaction(original, "\u{1F44D}"),
        BOB,
        &mut rng,
    );
    out.push(("reaction", b, reaction));
    let (_, b, id) = send(ContentBuilder::unlike(reaction, original), BOB, &mut rng);
    out.push(("unlike", b, id));
    let (_, b, id) = send(
        ContentBuilder::edit(reply, NestedPart::text("hi all!")).in_reply_to(original),
        BOB,
        &mut rng,
    );
    out.push(("edit", b, id));
    let (_, b, id) = send(
        ContentBuilder::delete(reply).in_reply_to(original),
        BOB,
        &mut rng,
    );
    out.push(("delete", b, id));
    let (_, b, id) = send(
        ContentBuilder::new(NestedPart::text("gone soon")).expires_at(1_800_000_000),
        ALICE,
        &mut rng,
    );
    out.push(("expiring", b, id));
    let (_, b, id) = send(
        ContentBuilder::new(NestedPart::text("read me"))
            .expires_after_read(60)
            .topic(*b"topic-1"),
        ALICE,
        &mut rng,
    );
    out.push(("expiring-after-read", b, id));
    let mention = format!("thanks {}", markdown_mention("Bob", BOB));
    let (_, b, id) = send(
        ContentBuilder::new(NestedPart::markdown(&mention)),
        ALICE,
        &mut rng,
    );
    out.push(("mention", b, id));
    let sealed = seal_attachment(&mut rng, b"the file bytes", b"").unwrap();
    let part = sealed.external_part(
        "https://b.example/f/1",
        "text/plain",
        "notes.txt",
        "my notes",
    );
    let (_, b, id) = send(
        ContentBuilder::new(NestedPart::attachment(part)),
        BOB,
        &mut rng,
    );
    out.push(("attachment", b, id));
    let alternatives = NestedPart::alternatives(vec![
        NestedPart::markdown("**bold**"),
        NestedPart::text("bold"),
    ])
    .with_language("en");
    let (_, b, id) = send(ContentBuilder::new(alternatives), ALICE, &mut rng);
    out.push(("alternatives", b, id));
    let (_, b, id) = send(
        ContentBuilder::new(NestedPart::reactions(["\u{2764}", "\u{1F973}"])).in_reply_to(original),
        ALICE,
        &mut rng,
    );
    out.push(("reactions", b, id));
    out
}

#[test]
fn builder_outputs_match_golden_vectors() {
    let mut text = String::from(
        "# mimi-rs golden vectors: ContentBuilder output with a splitmix64 test RNG seeded 2026\n\
         # (tests/client.rs `conversation`). room: mimi://hub.example/r/team\n\
         # format: name | -08 message_id | cbor_hex\n",
    );
    for (name, bytes, id) in conversation() {
        writeln!(text, "{name} | {id} | {}", hex::encode(bytes)).unwrap();
    }
    let path = vector_dir().join("mimi-rs-builders-golden.txt");
    match std::fs::read_to_string(&path) {
        Ok(pinned) => assert_eq!(
            pinned,
            text,
            "builder output changed; if intended, delete {} and rerun",
            path.display()
        ),
        Err(_) => {
            std::fs::write(&path, &text).unwrap();
            panic!(
                "golden vectors were missing: wrote {}; rerun the tests",
                path.display()
            );
        }
    }
}

#[test]
fn builders_produce_the_documented_shapes() {
    let mut rng = TestRng(5);
    let target = MessageId([1; 32]);
    let unlike = ContentBuilder::unlike(MessageId([2; 32]), target)
        .build(&mut rng)
        .unwrap();
    assert_eq!(unlike.nested_part.disposition, Disposition::REACTION);
    assert_eq!(unlike.nested_part.body, PartBody::Null);
    assert_eq!(unlike.replaces, Some(MessageId([2; 32])));
    assert_eq!(unlike.in_reply_to, Some(target));
    let delete = ContentBuilder::delete(target).build(&mut rng).unwrap();
    assert_eq!(delete.nested_part.body, PartBody::Null);
    let markdown = NestedPart::markdown("<script>x</script> 1 < 2");
    let PartBody::Single(single) = &markdown.body else {
        panic!()
    };
    assert_eq!(single.content, b"&lt;script>x&lt;/script> 1 < 2");
    assert_eq!(single.content_type, "text/markdown;variant=GFM-MIMI");
    // Builders validate: one reaction text with two emoji is refused.
    assert_eq!(
        ContentBuilder::reaction(target, "\u{2764}\u{2764}")
            .build(&mut rng)
            .unwrap_err(),
        ValidationError::ConcatenatedReactions { part: 0 }
    );
    // Two builds draw different salts.
    let a = ContentBuilder::new(NestedPart::text("x"))
        .build(&mut rng)
        .unwrap();
    let b = ContentBuilder::new(NestedPart::text("x"))
        .build(&mut rng)
        .unwrap();
    assert_ne!(a.salt, b.salt);
}

#[test]
fn message_id_with_uri_types_matches_octets() {
    let mut rng = TestRng(9);
    let alice: UserUri = ALICE.parse().unwrap();
    let room: RoomUri = ROOM.parse().unwrap();
    let content = ContentBuilder::new(NestedPart::text("x"))
        .uris(&alice, &room)
        .build(&mut rng)
        .unwrap();
    let bytes = content.encode().unwrap();
    assert_eq!(
        message_id_for(&alice, &room, &bytes).unwrap(),
        message_id(ALICE.as_bytes(), ROOM.as_bytes(), &bytes).unwrap()
    );
    assert_eq!(content.extensions.sender_uri(), Some(ALICE));
    // The -08 length prefixes separate sender and room: moving a byte between them changes
    // the -08 ID but not the -07 one.
    let (s1, r1) = (b"mimi://a/u/xy".as_slice(), b"zmimi://r".as_slice());
    let (s2, r2) = (b"mimi://a/u/xyz".as_slice(), b"mimi://r".as_slice());
    assert_ne!(
        message_id(s1, r1, &bytes).unwrap(),
        message_id(s2, r2, &bytes).unwrap()
    );
    assert_eq!(
        message_id_draft07(s1, r1, &bytes).unwrap(),
        message_id_draft07(s2, r2, &bytes).unwrap()
    );
}

#[test]
fn message_id_errors() {
    let mut rng = TestRng(3);
    let bytes = ContentBuilder::new(NestedPart::text("x"))
        .build(&mut rng)
        .unwrap()
        .encode()
        .unwrap();
    let long = vec![b'a'; 65536];
    assert_eq!(
        message_id(&long, b"r", &bytes),
        Err(MessageIdError::UriTooLong {
            which: "sender",
            len: 65536
        })
    );
    assert_eq!(
        message_id(b"s", &long, &bytes),
        Err(MessageIdError::UriTooLong {
            which: "room",
            len: 65536
        })
    );
    assert!(message_id(&long[..65535], b"r", &bytes).is_ok());
    assert_eq!(
        message_id(b"s", b"r", &[0x86]),
        Err(MessageIdError::NotMimiContent)
    );
    assert_eq!(
        message_id(b"s", b"r", &bytes[..10]),
        Err(MessageIdError::NotMimiContent)
    );
    let id = message_id(b"s", b"r", &bytes).unwrap();
    assert_eq!(id.hash_alg(), HashAlgorithm::SHA_256);
}

#[test]
fn attachment_seal_and_open() {
    let mut rng = TestRng(11);
    let sealed = seal_attachment(&mut rng, b"secret video", b"aad").unwrap();
    assert_eq!(sealed.ciphertext.len(), b"secret video".len() + 16);
    let part = sealed.external_part("https://x/1", "video/mp4", "v.mp4", "a video");
    assert_eq!(part.enc_alg, AeadAlgorithm::AES_128_GCM);
    assert_eq!(part.key.as_bytes().len(), 16);
    assert!(!format!("{part:?}").contains(&format!("{:?}", part.key.as_bytes())));
    assert_eq!(
        open_attachment(&part, &sealed.ciphertext)
            .unwrap()
            .as_slice(),
        b"secret video"
    );

    let mut tampered = sealed.ciphertext.clone();
    tampered[0] ^= 1;
    assert_eq!(
        open_attachment(&part, &tampered),
        Err(AttachmentError::HashMismatch)
    );
    assert_eq!(
        open_attachment(&part, &sealed.ciphertext[1..]),
        Err(AttachmentError::SizeMismatch {
            expected: part.size,
            found: sealed.ciphertext.len() - 1
        })
    );
    let mut no_hash = part.clone();
    no_hash.hash_alg = HashAlgorithm::NONE;
    assert_eq!(
        open_attachment(&no_hash, &tampered),
        Err(AttachmentError::DecryptionFailed)
    );
    let mut wrong_aad = part.clone();
    wrong_aad.aad = b"other".to_vec();
    assert_eq!(
        open_attachment(&wrong_aad, &sealed.ciphertext),
        Err(AttachmentError::DecryptionFailed)
    );
    let mut sha512 = part.clone();
    sha512.hash_alg = HashAlgorithm::SHA_512;
    assert_eq!(
        open_attachment(&sha512, &sealed.ciphertext),
        Err(AttachmentError::UnsupportedHash(HashAlgorithm::SHA_512))
    );
    let mut chacha = part.clone();
    chacha.enc_alg = AeadAlgorithm::CHACHA20_POLY1305;
    assert_eq!(
        open_attachment(&chacha, &sealed.ciphertext),
        Err(AttachmentError::UnsupportedAead(
            AeadAlgorithm::CHACHA20_POLY1305
        ))
    );
    let mut short_nonce = part.clone();
    short_nonce.nonce.pop();
    assert_eq!(
        open_attachment(&short_nonce, &sealed.ciphertext),
        Err(AttachmentError::KeyMaterialLength)
    );
    let mut short_key = part;
    short_key.key.0.pop();
    assert_eq!(
        open_attachment(&short_key, &sealed.ciphertext),
        Err(AttachmentError::KeyMaterialLength)
    );
}

#[test]
fn replacement_rules() {
    let mut rng = TestRng(13);
    let original_id = MessageId([9; 32]);
    let parent = MessageId([8; 32]);
    let original = ContentBuilder::reply(parent, NestedPart::text("v1"))
        .topic(*b"t")
        .build(&mut rng)
        .unwrap();
    let orig = Original {
        id: original_id,
        sender_uri: ALICE.as_bytes(),
        content: &original,
    };
    let edit = |b: ContentBuilder| b.build(&mut TestRng(1)).unwrap();
    let good = edit(
        ContentBuilder::edit(original_id, NestedPart::text("v2"))
            .in_reply_to(parent)
            .topic(*b"t"),
    );
    let check = |c: &MimiContent, who: &str| {
        check_replacement(
            &orig,
            c,
            who.as_bytes(),
            ReplaceAuthority::OriginalSenderOnly,
        )
    };
    assert_eq!(check(&good, ALICE), Ok(()));
    assert!(may_replace(ALICE.as_bytes(), ALICE.as_bytes()));
    assert!(!may_replace(ALICE.as_bytes(), BOB.as_bytes()));
    assert_eq!(check(&good, BOB), Err(ReplaceError::NotOriginalSender));
    assert_eq!(
        check_replacement(
            &orig,
            &good,
            BOB.as_bytes(),
            ReplaceAuthority::PolicyAuthorized
        ),
        Ok(())
    );
    let plain = edit(ContentBuilder::new(NestedPart::text("v2")));
    assert_eq!(check(&plain, ALICE), Err(ReplaceError::NotAReplacement));
    let other = edit(ContentBuilder::edit(
        MessageId([7; 32]),
        NestedPart::text("v2"),
    ));
    assert_eq!(
        check(&other, ALICE),
        Err(ReplaceError::WrongTarget {
            expected: original_id,
            found: MessageId([7; 32])
        })
    );
    let topic = edit(ContentBuilder::edit(original_id, NestedPart::text("v2")).in_reply_to(parent));
    assert_eq!(check(&topic, ALICE), Err(ReplaceError::TopicChanged));
    let reply = edit(ContentBuilder::edit(original_id, NestedPart::text("v2")).topic(*b"t"));
    assert_eq!(check(&reply, ALICE), Err(ReplaceError::InReplyToChanged));
    let expiry = edit(
        ContentBuilder::edit(original_id, NestedPart::text("v2"))
            .in_reply_to(parent)
            .topic(*b"t")
            .expires_after_read(5),
    );
    assert_eq!(check(&expiry, ALICE), Err(ReplaceError::ExpiryChanged));
    // An edit of an edit must reference the first version instead.
    let edit_id = MessageId([6; 32]);
    let second = edit(
        ContentBuilder::edit(edit_id, NestedPart::text("v3"))
            .in_reply_to(parent)
            .topic(*b"t"),
    );
    let as_target = Original {
        id: edit_id,
        sender_uri: ALICE.as_bytes(),
        content: &good,
    };
    assert_eq!(
        check_replacement(
            &as_target,
            &second,
            ALICE.as_bytes(),
            ReplaceAuthority::OriginalSenderOnly
        ),
        Err(ReplaceError::TargetIsReplacement)
    );
}

#[test]
fn reply_chains_detect_loops() {
    let id = |n: u8| MessageId([n; 32]);
    // 1 -> 2 -> 3 -> (unknown)
    let chain = reply_chain(id(1), |m| (m.0[0] < 3).then(|| id(m.0[0] + 1)), 10).unwrap();
    assert_eq!(chain, vec![id(2), id(3)]);
    // 1 -> 2 -> 3 -> 1
    let looped = reply_chain(id(1), |m| Some(id(m.0[0] % 3 + 1)), 10);
    assert_eq!(looped, Err(ReplyChainError::Loop(id(1))));
    // self-reply
    assert_eq!(
        reply_chain(id(4), |_| Some(id(4)), 10),
        Err(ReplyChainError::Loop(id(4)))
    );
    let long = reply_chain(id(0), |m| Some(id(m.0[0].wrapping_add(1))), 5);
    assert_eq!(long, Err(ReplyChainError::TooLong(5)));
}

#[test]
fn status_report_build_and_errors() {
    let mut report = MessageStatusReport::default();
    report.push(MessageId([1; 32]), MessageStatus::DELIVERED);
    report.push(MessageId([2; 32]), MessageStatus::new(200));
    let bytes = report.encode();
    assert_eq!(MessageStatusReport::decode(&bytes).unwrap(), report);
    assert_eq!(
        MessageStatusReport::decode(&[0x80]).unwrap(),
        MessageStatusReport::default()
    );
    assert_eq!(
        MessageStatusReport::decode(&[0xa0]),
        Err(DecodeError::Shape(ShapeError::WrongType {
            field: "MessageStatusReport",
            expected: "an array"
        }))
    );
    assert_eq!(
        MessageStatusReport::decode(&[0x81, 0x81, 0x00]),
        Err(DecodeError::Shape(ShapeError::ArrayLength {
            what: "PerMessageStatus",
            expected: 2,
            found: 1
        }))
    );
    assert_eq!(
        MessageStatusReport::decode(&[0x81, 0x82, 0x41, 0x00, 0x00]),
        Err(DecodeError::Shape(ShapeError::MessageIdLength {
            field: "messageId",
            found: 1
        }))
    );
    let mut big = bytes.clone();
    let last = big.len() - 2;
    big.truncate(last);
    big.extend_from_slice(&[0x19, 0x01, 0x00]);
    assert_eq!(
        MessageStatusReport::decode(&big),
        Err(DecodeError::Shape(ShapeError::OutOfRange {
            field: "status",
            found: 256,
            max: 255
        }))
    );
    let mut trailing = bytes;
    trailing.push(0);
    assert!(matches!(
        MessageStatusReport::decode(&trailing),
        Err(DecodeError::Cbor(_))
    ));
}

#[test]
fn receiving_checks_claimed_uris_and_duplicates() {
    use mimi_content::{ReceiveError, ReceivedMessage};
    let mut rng = TestRng(21);
    let (_, bytes, id) = send(ContentBuilder::new(NestedPart::text("hi")), ALICE, &mut rng);
    let ok = ReceivedMessage::accept(bytes.clone(), ALICE, ROOM, |_| false).unwrap();
    assert_eq!(ok.id, id);
    assert_eq!(
        ReceivedMessage::accept(bytes.clone(), BOB, ROOM, |_| false),
        Err(ReceiveError::SenderUriMismatch {
            claimed: ALICE.into(),
            authenticated: BOB.into()
        })
    );
    assert_eq!(
        ReceivedMessage::accept(bytes.clone(), ALICE, "mimi://hub.example/r/other", |_| {
            false
        }),
        Err(ReceiveError::RoomUriMismatch {
            claimed: ROOM.into(),
            actual: "mimi://hub.example/r/other".into()
        })
    );
    assert_eq!(
        ReceivedMessage::accept(bytes.clone(), ALICE, ROOM, |known| *known == id),
        Err(ReceiveError::Duplicate(id))
    );
    let mut bad = bytes;
    bad.push(0);
    assert!(matches!(
        ReceivedMessage::accept(bad, ALICE, ROOM, |_| false),
        Err(ReceiveError::Decode(DecodeError::Cbor(_)))
    ));
    // Without URI extensions, the authenticated values are used for the ID.
    let content = ContentBuilder::new(NestedPart::text("x"))
        .build(&mut rng)
        .unwrap();
    let bytes = content.encode().unwrap();
    let received = ReceivedMessage::accept(bytes.clone(), BOB, ROOM, |_| false).unwrap();
    assert_eq!(received.content, content);
    assert_eq!(
        received.id,
        message_id(BOB.as_bytes(), ROOM.as_bytes(), &bytes).unwrap()
    );
}
