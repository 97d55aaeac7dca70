use mimi_federation_api::consent::{ConsentAction, ConsentEntry, ConsentScope};
use mimi_federation_api::request_consent::RequestConsentRequest;
use mimi_federation_api::update_consent::UpdateConsentRequest;
use mimi_federation_api::{Encode, IdentifierUri, decode_exact};
use mimi_types::{Domain, RoomUri, UserUri};

use super::*;
use crate::RequestError;

fn user(s: &str) -> UserUri {
    UserUri::parse(s).unwrap()
}

fn room(s: &str) -> RoomUri {
    RoomUri::parse(s).unwrap()
}

fn domain(s: &str) -> Domain {
    Domain::parse(s).unwrap()
}

fn diana() -> UserUri {
    user("mimi://z.example/u/diana")
}

fn charlie() -> UserUri {
    user("mimi://y.example/u/charlie")
}

fn decide(
    book: Option<&UserConsent>,
    policy: &ConsentPolicy,
    room: Option<&RoomUri>,
) -> ConsentDecision {
    UserConsent::decide(book, &diana(), policy, &charlie(), room)
}

#[test]
fn without_a_book_the_policy_decides() {
    assert_eq!(
        decide(None, &ConsentPolicy::Anyone, None),
        ConsentDecision::Allowed
    );
    assert_eq!(
        decide(None, &ConsentPolicy::Contacts, None),
        ConsentDecision::NoConsent
    );
    let y = ConsentPolicy::parse("providers:y.example").unwrap();
    let x = ConsentPolicy::parse("providers:x.example").unwrap();
    assert_eq!(decide(None, &y, None), ConsentDecision::Allowed);
    assert_eq!(decide(None, &x, None), ConsentDecision::NoConsent);
}

#[test]
fn a_users_own_policy_overrides_the_default_and_own_key_material_is_always_allowed() {
    let mut book = UserConsent::new(diana());
    book.set_policy(Some(ConsentPolicy::Contacts));
    assert_eq!(
        decide(Some(&book), &ConsentPolicy::Anyone, None),
        ConsentDecision::NoConsent
    );
    book.set_policy(Some(ConsentPolicy::Anyone));
    assert_eq!(
        decide(Some(&book), &ConsentPolicy::Contacts, None),
        ConsentDecision::Allowed
    );
    book.set_policy(Some(ConsentPolicy::Contacts));
    assert_eq!(
        UserConsent::decide(
            Some(&book),
            &diana(),
            &ConsentPolicy::Contacts,
            &diana(),
            None
        ),
        ConsentDecision::Allowed
    );
}

#[test]
fn grants_honour_their_scope_and_a_block_wins() {
    let r = room("mimi://y.example/r/clubhouse");
    let other = room("mimi://y.example/r/other");
    let mut book = UserConsent::new(diana());
    let closed = ConsentPolicy::Contacts;
    book.grant(&charlie(), Some(&r)).unwrap();
    assert_eq!(
        decide(Some(&book), &closed, Some(&r)),
        ConsentDecision::Allowed
    );
    assert_eq!(
        decide(Some(&book), &closed, Some(&other)),
        ConsentDecision::NoConsentForThisRoom
    );
    assert_eq!(
        decide(Some(&book), &closed, None),
        ConsentDecision::NoConsentForThisRoom
    );
    book.grant(&charlie(), None).unwrap();
    assert_eq!(
        decide(Some(&book), &closed, Some(&other)),
        ConsentDecision::Allowed
    );
    assert!(book.block(&charlie()).unwrap(), "a grant was withdrawn");
    assert_eq!(
        decide(Some(&book), &closed, Some(&r)),
        ConsentDecision::NoConsent
    );
    // Even an open policy does not let a blocked user in.
    assert_eq!(
        decide(Some(&book), &ConsentPolicy::Anyone, None),
        ConsentDecision::NoConsent
    );
    assert!(
        !book.block(&charlie()).unwrap(),
        "no grant left to withdraw"
    );
    book.grant(&charlie(), None).unwrap();
    assert_eq!(decide(Some(&book), &closed, None), ConsentDecision::Allowed);
}

#[test]
fn grants_are_by_canonical_user() {
    let mut book = UserConsent::new(diana());
    book.grant(&user("mimi://y.example/u/CHARLIE"), None)
        .unwrap();
    assert_eq!(
        decide(Some(&book), &ConsentPolicy::Contacts, None),
        ConsentDecision::Allowed
    );
}

#[test]
fn waiting_requests_are_recorded_answered_and_capped_per_requester() {
    let mut book = UserConsent::new(diana());
    assert_eq!(
        book.receive_request(&charlie(), None, 5).unwrap(),
        RequestReceipt::Recorded
    );
    assert_eq!(
        book.receive_request(&charlie(), None, 6).unwrap(),
        RequestReceipt::Repeated
    );
    for i in 1..UserConsent::MAX_PENDING_PER_REQUESTER {
        let r = room(&format!("mimi://y.example/r/r{i}"));
        assert_eq!(
            book.receive_request(&charlie(), Some(&r), 7).unwrap(),
            RequestReceipt::Recorded
        );
    }
    let one_more = room("mimi://y.example/r/one-more");
    assert!(matches!(
        book.receive_request(&charlie(), Some(&one_more), 8),
        Err(BookFull::PendingPerRequester { .. })
    ));
    // Another requester is not affected.
    let eve = user("mimi://x.example/u/eve");
    assert_eq!(
        book.receive_request(&eve, None, 9).unwrap(),
        RequestReceipt::Recorded
    );
    // Accepting for any room answers all of Charlie's.
    book.grant(&charlie(), None).unwrap();
    assert!(book.incoming().keys().all(|(from, _)| from != &charlie()));
    assert_eq!(book.incoming().len(), 1);
    assert_eq!(
        book.receive_request(&charlie(), Some(&one_more), 10)
            .unwrap(),
        RequestReceipt::AlreadyGranted
    );
    // Blocking drops waiting requests and hides later ones.
    book.block(&eve).unwrap();
    assert!(book.incoming().is_empty());
    assert_eq!(
        book.receive_request(&eve, None, 11).unwrap(),
        RequestReceipt::Blocked
    );
    assert!(book.incoming().is_empty());
}

#[test]
fn waiting_requests_are_capped_in_all() {
    let mut book = UserConsent::new(diana());
    for i in 0..UserConsent::MAX_PENDING {
        book.receive_request(&user(&format!("mimi://y.example/u/u{i}")), None, 1)
            .unwrap();
    }
    assert!(matches!(
        book.receive_request(&user("mimi://y.example/u/last"), None, 1),
        Err(BookFull::Pending { .. })
    ));
}

#[test]
fn a_cancel_withdraws_only_the_same_scope() {
    let r = room("mimi://y.example/r/a");
    let mut book = UserConsent::new(diana());
    book.receive_request(&charlie(), Some(&r), 1).unwrap();
    assert!(!book.receive_cancel(&charlie(), None));
    assert!(book.receive_cancel(&charlie(), Some(&r)));
    assert!(book.incoming().is_empty());
}

#[test]
fn own_requests_follow_their_answers() {
    let r = room("mimi://z.example/r/a");
    let mut book = UserConsent::new(charlie());
    book.ask(&diana(), Some(&r), 1).unwrap();
    assert_eq!(
        book.outgoing().get(&(diana(), Some(r.clone()))),
        Some(&Outgoing::Asked { at_ms: 1 })
    );
    // Asking consents to the target (bilateral).
    assert_eq!(book.granted().get(&diana()), Some(&GrantScope::AnyRoom));
    book.receive_grant(&diana(), None, 2);
    assert_eq!(
        book.outgoing().get(&(diana(), Some(r.clone()))),
        Some(&Outgoing::Granted { at_ms: 2 })
    );
    book.receive_revoke(&diana(), None, 3);
    assert_eq!(
        book.outgoing().get(&(diana(), Some(r.clone()))),
        Some(&Outgoing::Revoked { at_ms: 3 })
    );
    book.mark_refused(&diana(), Some(&r), "HTTP 404: no such user");
    assert!(matches!(
        book.outgoing().get(&(diana(), Some(r))),
        Some(Outgoing::Refused { .. })
    ));
    // The any-room grant is kept as an entry of its own; an unsolicited revocation leaves
    // no trace.
    assert_eq!(book.outgoing().len(), 2);
    book.receive_revoke(&user("mimi://x.example/u/eve"), None, 4);
    assert_eq!(book.outgoing().len(), 2);
}

#[test]
fn records_round_trip_and_refuse_another_user_or_trailing_bytes() {
    let mut book = UserConsent::new(diana());
    book.set_policy(Some(
        ConsentPolicy::parse("providers:a.example,y.example").unwrap(),
    ));
    book.grant(&charlie(), Some(&room("mimi://y.example/r/a")))
        .unwrap();
    book.grant(&user("mimi://x.example/u/alice"), None).unwrap();
    book.block(&user("mimi://x.example/u/eve")).unwrap();
    book.receive_request(&user("mimi://x.example/u/bob"), None, 7)
        .unwrap();
    book.receive_request(
        &user("mimi://x.example/u/bob"),
        Some(&room("mimi://x.example/r/b")),
        8,
    )
    .unwrap();
    book.ask(&user("mimi://x.example/u/fay"), None, 9).unwrap();
    book.ask(&user("mimi://x.example/u/gus"), None, 9).unwrap();
    book.mark_refused(&user("mimi://x.example/u/gus"), None, "gone");
    let record = book.to_record().unwrap();
    assert_eq!(UserConsent::from_record(&diana(), &record).unwrap(), book);
    assert!(UserConsent::from_record(&charlie(), &record).is_err());
    let mut longer = record.clone();
    longer.push(0);
    assert!(UserConsent::from_record(&diana(), &longer).is_err());
    assert!(UserConsent::from_record(&diana(), &record[..record.len() - 1]).is_err());
    let empty = UserConsent::new(diana());
    assert_eq!(
        UserConsent::from_record(&diana(), &empty.to_record().unwrap()).unwrap(),
        empty
    );
}

fn id(s: &str) -> IdentifierUri {
    IdentifierUri::from_string(s.to_owned()).unwrap()
}

fn request_body(requester: &str, target: &str, room: Option<&str>) -> RequestConsentRequest {
    RequestConsentRequest::new(ConsentEntry::new(
        ConsentAction::Request,
        ConsentScope::new(id(requester), id(target), room.map(id)),
    ))
    .unwrap()
}

fn ctx<'a>(peer: &'a Domain, ours: &'a Domain) -> ConsentContext<'a> {
    ConsentContext {
        now_ms: 1_000,
        peer,
        our_domain: ours,
    }
}

#[test]
fn a_request_must_come_from_the_requesters_provider_for_one_of_our_users() {
    let (y, z, x) = (
        domain("y.example"),
        domain("z.example"),
        domain("x.example"),
    );
    let mut limiter = ConsentLimiter::default();
    let mut book = UserConsent::new(diana());
    let body = request_body(
        "mimi://y.example/u/charlie",
        "mimi://z.example/u/diana",
        None,
    );
    // x.example speaking for y.example's user: 403.
    let err = receive_request(ctx(&x, &z), &body, Some(&mut book), &mut limiter).unwrap_err();
    assert!(matches!(err, RequestError::ActingForForeignUser { .. }));
    assert_eq!(err.http_status(), 403);
    // A target that is not ours: 404.
    let elsewhere = request_body(
        "mimi://y.example/u/charlie",
        "mimi://x.example/u/diana",
        None,
    );
    let err = receive_request(ctx(&y, &z), &elsewhere, Some(&mut book), &mut limiter).unwrap_err();
    assert!(matches!(err, RequestError::NotOurUser(_)));
    assert_eq!(err.http_status(), 404);
    // No such account: 404.
    let err = receive_request(ctx(&y, &z), &body, None, &mut limiter).unwrap_err();
    assert_eq!(err.http_status(), 404);
    // Right peer, our user: recorded.
    assert_eq!(
        receive_request(ctx(&y, &z), &body, Some(&mut book), &mut limiter).unwrap(),
        ConsentReply::None
    );
    assert_eq!(book.incoming().len(), 1);
    assert!(book.incoming().contains_key(&(charlie(), None)));
    // Not a user URI: 400.
    let bad = request_body("mimi://y.example/r/room", "mimi://z.example/u/diana", None);
    assert_eq!(
        receive_request(ctx(&y, &z), &bad, Some(&mut book), &mut limiter)
            .unwrap_err()
            .http_status(),
        400
    );
}

#[test]
fn a_request_from_a_granted_user_is_answered_with_a_grant() {
    let (y, z) = (domain("y.example"), domain("z.example"));
    let mut limiter = ConsentLimiter::default();
    let mut book = UserConsent::new(diana());
    book.grant(&charlie(), None).unwrap();
    let body = request_body(
        "mimi://y.example/u/charlie",
        "mimi://z.example/u/diana",
        None,
    );
    let reply = receive_request(ctx(&y, &z), &body, Some(&mut book), &mut limiter).unwrap();
    let ConsentReply::Send(ConsentMessage::Update(update)) = reply else {
        panic!("expected a grant, got {reply:?}");
    };
    assert!(matches!(update.entry.action, ConsentAction::Grant { .. }));
    // It decodes as an updateConsent body and goes to Charlie's provider.
    let bytes = update.encode().unwrap();
    let again: UpdateConsentRequest = decode_exact(&bytes).unwrap();
    assert_eq!(again, update);
    assert_eq!(
        ConsentMessage::Update(update).recipient().unwrap(),
        charlie()
    );
}

#[test]
fn requests_per_requesting_user_are_rate_limited() {
    let (y, z) = (domain("y.example"), domain("z.example"));
    let mut limiter = ConsentLimiter::new(2, 60_000);
    for target in ["a", "b"] {
        let mut book = UserConsent::new(user(&format!("mimi://z.example/u/{target}")));
        let body = request_body(
            "mimi://y.example/u/charlie",
            &format!("mimi://z.example/u/{target}"),
            None,
        );
        receive_request(ctx(&y, &z), &body, Some(&mut book), &mut limiter).unwrap();
    }
    let mut book = UserConsent::new(user("mimi://z.example/u/c"));
    let body = request_body("mimi://y.example/u/charlie", "mimi://z.example/u/c", None);
    let err = receive_request(ctx(&y, &z), &body, Some(&mut book), &mut limiter).unwrap_err();
    assert!(matches!(err, RequestError::RateLimited { .. }));
    assert_eq!(err.http_status(), 429);
    assert!(book.incoming().is_empty());
    // A window later it is let through.
    let later = ConsentContext {
        now_ms: 1_000 + 60_000,
        peer: &y,
        our_domain: &z,
    };
    receive_request(later, &body, Some(&mut book), &mut limiter).unwrap();
}

#[test]
fn a_full_book_refuses_with_403() {
    let (y, z) = (domain("y.example"), domain("z.example"));
    let mut limiter = ConsentLimiter::new(0, 1);
    let mut book = UserConsent::new(diana());
    for i in 0..UserConsent::MAX_PENDING_PER_REQUESTER {
        let r = format!("mimi://y.example/r/r{i}");
        let body = request_body(
            "mimi://y.example/u/charlie",
            "mimi://z.example/u/diana",
            Some(&r),
        );
        receive_request(ctx(&y, &z), &body, Some(&mut book), &mut limiter).unwrap();
    }
    let body = request_body(
        "mimi://y.example/u/charlie",
        "mimi://z.example/u/diana",
        Some("mimi://y.example/r/more"),
    );
    let err = receive_request(ctx(&y, &z), &body, Some(&mut book), &mut limiter).unwrap_err();
    assert!(matches!(err, RequestError::TooManyPending(_)));
    assert_eq!(err.http_status(), 403);
}

#[test]
fn updates_must_come_from_the_targets_provider_for_one_of_our_users() {
    let (y, z, x) = (
        domain("y.example"),
        domain("z.example"),
        domain("x.example"),
    );
    let mut book = UserConsent::new(charlie());
    book.ask(&diana(), None, 1).unwrap();
    let grant = |target: &str, requester: &str| {
        UpdateConsentRequest::new(ConsentEntry::new(
            ConsentAction::Grant {
                client_key_packages: Vec::new(),
            },
            ConsentScope::new(id(requester), id(target), None),
        ))
        .unwrap()
    };
    let body = grant("mimi://z.example/u/diana", "mimi://y.example/u/charlie");
    // x.example granting in Diana's name: 403.
    let err = receive_update(ctx(&x, &y), &body, Some(&mut book)).unwrap_err();
    assert_eq!(err.http_status(), 403);
    // A requester that is not ours: 404.
    let err = receive_update(
        ctx(&z, &y),
        &grant("mimi://z.example/u/diana", "mimi://x.example/u/charlie"),
        Some(&mut book),
    )
    .unwrap_err();
    assert_eq!(err.http_status(), 404);
    assert!(matches!(
        book.outgoing().get(&(diana(), None)),
        Some(Outgoing::Asked { .. })
    ));
    receive_update(ctx(&z, &y), &body, Some(&mut book)).unwrap();
    assert!(matches!(
        book.outgoing().get(&(diana(), None)),
        Some(Outgoing::Granted { .. })
    ));
}

#[test]
fn local_actions_produce_the_entries_to_send() {
    let mut limiter = ConsentLimiter::default();
    let mut charlies = UserConsent::new(charlie());
    let sent = ask(1, &mut charlies, &diana(), None, &mut limiter).unwrap();
    assert_eq!(sent.len(), 2);
    assert!(matches!(&sent[0], ConsentMessage::Request(_)));
    assert_eq!(sent[0].recipient().unwrap(), diana());
    assert!(matches!(&sent[1], ConsentMessage::Update(_)));
    assert_eq!(sent[1].recipient().unwrap(), diana());
    assert!(ask(1, &mut charlies, &charlie(), None, &mut limiter).is_err());

    let mut dianas = UserConsent::new(diana());
    dianas.receive_request(&charlie(), None, 2).unwrap();
    let grant = accept(&mut dianas, &charlie(), None).unwrap();
    assert_eq!(grant.recipient().unwrap(), charlie());
    assert!(dianas.incoming().is_empty());
    let revoke = block(&mut dianas, &charlie()).unwrap().unwrap();
    assert!(matches!(revoke.entry().action, ConsentAction::Revoke));
    // Blocking a stranger is not announced.
    assert!(
        block(&mut dianas, &user("mimi://x.example/u/eve"))
            .unwrap()
            .is_none()
    );
}

proptest::proptest! {
    /// Whatever the stored bytes, loading a book never panics; every truncation of a valid
    /// record and any byte appended to it are refused.
    #[test]
    fn stored_books_never_panic_and_damage_is_refused(
        garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        extra in proptest::prelude::any::<u8>(),
    ) {
        let _ = UserConsent::from_record(&diana(), &garbage);
        let mut book = UserConsent::new(diana());
        book.grant(&charlie(), Some(&room("mimi://y.example/r/a"))).unwrap();
        book.receive_request(&user("mimi://x.example/u/bob"), None, 7).unwrap();
        book.ask(&user("mimi://x.example/u/fay"), None, 9).unwrap();
        let record = book.to_record().unwrap();
        for cut in 0..record.len() {
            proptest::prop_assert!(UserConsent::from_record(&diana(), &record[..cut]).is_err());
        }
        let mut longer = record.clone();
        longer.push(extra);
        proptest::prop_assert!(UserConsent::from_record(&diana(), &longer).is_err());
    }
}
