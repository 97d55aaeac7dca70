use proptest::prelude::*;

use super::*;

#[test]
fn parses_every_form_of_the_drafts() {
    let cases = [
        ("mimi://a.example", UriKind::Provider),
        ("mimi://a.example/u/alice", UriKind::User),
        ("mimi://a.example/p/crazykoala75", UriKind::Pseudonym),
        ("mimi://a.example/d/ClientA1", UriKind::Client),
        (
            "mimi://example.com/d/3b52249d-68f9-45ce-8bf5-c799f3cad7ec/0003",
            UriKind::Client,
        ),
        ("mimi://a.example/r/clubhouse", UriKind::Room),
        ("mimi://a.example/g/clubhouse", UriKind::Group),
        ("mimi://a.example/t/engineering", UriKind::Team),
        ("mimi://local.invalid/u/someone", UriKind::User),
    ];
    for (text, kind) in cases {
        let uri = MimiUri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(uri.kind(), kind, "{text}");
        assert_eq!(uri.to_string(), text, "canonical form of {text}");
    }
}

#[test]
fn typed_parsers_return_their_parts() {
    let user = UserUri::parse("mimi://a.example/u/alice.smith").unwrap();
    assert_eq!(user.domain().as_str(), "a.example");
    assert_eq!(user.id().as_str(), "alice.smith");
    assert_eq!(user.provider().to_string(), "mimi://a.example");

    let client = ClientUri::parse("mimi://a.example/d/alice.smith/phone").unwrap();
    assert_eq!(client.device_id().as_str(), "phone");
    assert_eq!(client.user_segment().unwrap().as_str(), "alice.smith");
    assert_eq!(client.user_hint(), Some(user.clone()));
    assert_eq!(
        ClientUri::of_user(&user, Ident::parse("phone").unwrap()),
        client
    );

    let bare = ClientUri::parse("mimi://a.example/d/ClientA1").unwrap();
    assert_eq!(bare.user_hint(), None);
    assert_eq!(bare.provider().domain().as_str(), "a.example");

    let room = RoomUri::parse("mimi://hub.example/r/clubhouse").unwrap();
    assert_eq!(room.hub_domain().as_str(), "hub.example");
    assert_eq!(
        room.group_uri().to_string(),
        "mimi://hub.example/g/clubhouse"
    );

    let provider = ProviderUri::parse("mimi://hub.example").unwrap();
    assert_eq!(provider.domain(), room.hub_domain());
    assert_eq!(room.hub_domain().provider_uri(), provider);
}

#[test]
fn normalises_scheme_and_host_but_not_identifiers() {
    let uri = UserUri::parse("MIMI://A.Example/u/Alice").unwrap();
    assert_eq!(uri.to_string(), "mimi://a.example/u/Alice");
    assert_eq!(uri, UserUri::parse("mimi://a.example/u/Alice").unwrap());
    assert_ne!(uri, UserUri::parse("mimi://a.example/u/alice").unwrap());
    let idn = UserUri::parse("mimi://bücher.example/u/%C3%BC").unwrap();
    assert_eq!(idn.to_string(), "mimi://xn--bcher-kva.example/u/%C3%BC");
}

#[test]
fn identifiers_keep_sub_delims_and_percent_encodings_verbatim() {
    let text = "mimi://a.example/u/a-b.c_d~e!$&'()*+,;=:@%2F%2f";
    assert_eq!(UserUri::parse(text).unwrap().to_string(), text);
}

#[test]
fn refuses_invalid_uris_with_the_specific_reason() {
    use DomainError as D;
    use UriError as E;

    type IsExpected = fn(&UriError) -> bool;
    let cases: Vec<(&str, IsExpected)> = vec![
        ("", |e| *e == E::Empty),
        ("a.example/u/alice", |e| *e == E::MissingScheme),
        ("//a.example/u/alice", |e| *e == E::MissingScheme),
        (
            "im://a.example/u/alice",
            |e| matches!(e, E::WrongScheme(s) if s == "im"),
        ),
        ("https://a.example/u/alice", |e| {
            matches!(e, E::WrongScheme(_))
        }),
        ("mimi:a.example/u/alice", |e| *e == E::MissingAuthority),
        ("mimi:/a.example/u/alice", |e| *e == E::MissingAuthority),
        (
            "mimi://bob@a.example/u/alice",
            |e| matches!(e, E::UserInfo(u) if u == "bob"),
        ),
        (
            "mimi://a.example:443/u/alice",
            |e| matches!(e, E::Port(p) if p == "443"),
        ),
        ("mimi://a.example/u/alice?x=1", |e| *e == E::Query),
        ("mimi://a.example/u/alice#frag", |e| *e == E::Fragment),
        ("mimi:///u/alice", |e| *e == E::Domain(D::Empty)),
        ("mimi://a..example/u/alice", |e| {
            *e == E::Domain(D::EmptyLabel)
        }),
        ("mimi://a.example./u/alice", |e| {
            *e == E::Domain(D::EmptyLabel)
        }),
        ("mimi://a_b.example/u/alice", |e| {
            *e == E::Domain(D::InvalidChar('_'))
        }),
        ("mimi://-a.example/u/alice", |e| {
            matches!(e, E::Domain(D::HyphenAtLabelEdge(_)))
        }),
        ("mimi://192.0.2.1/u/alice", |e| {
            matches!(e, E::Domain(D::IpAddress(_)))
        }),
        ("mimi://[2001:db8::1]/u/alice", |e| {
            matches!(e, E::Domain(D::IpAddress(_)))
        }),
        ("mimi://xn--a.example/u/alice", |e| {
            matches!(e, E::Domain(D::Idna(_)))
        }),
        (
            "mimi://a.example/x/alice",
            |e| matches!(e, E::UnknownKind(k) if k == "x"),
        ),
        ("mimi://a.example/user/alice", |e| {
            matches!(e, E::UnknownKind(_))
        }),
        ("mimi://a.example/u", |e| *e == E::MissingId(UriKind::User)),
        ("mimi://a.example/u/", |e| *e == E::EmptySegment),
        ("mimi://a.example/", |e| *e == E::EmptySegment),
        ("mimi://a.example//u/alice", |e| *e == E::EmptySegment),
        ("mimi://a.example/u/alice/", |e| *e == E::EmptySegment),
        ("mimi://a.example/u/alice/phone", |e| {
            *e == E::TooManySegments(UriKind::User)
        }),
        ("mimi://a.example/d/a/b/c", |e| {
            *e == E::TooManySegments(UriKind::Client)
        }),
        ("mimi://a.example/r/..", |e| matches!(e, E::DotSegment(_))),
        ("mimi://a.example/u/al ice", |e| {
            matches!(e, E::InvalidIdChar { ch: ' ', at: 2, .. })
        }),
        ("mimi://a.example/u/ali\u{e7}e", |e| {
            matches!(
                e,
                E::InvalidIdChar {
                    ch: '\u{e7}',
                    at: 3,
                    ..
                }
            )
        }),
        ("mimi://a.example/u/a%zz", |e| {
            matches!(e, E::BadPercentEncoding { at: 1, .. })
        }),
        ("mimi://a.example/u/a%4", |e| {
            matches!(e, E::BadPercentEncoding { at: 1, .. })
        }),
    ];
    assert!(cases.len() >= 20);
    for (text, is_expected) in cases {
        match MimiUri::parse(text) {
            Ok(uri) => panic!("{text:?} parsed as {uri}"),
            Err(err) => assert!(is_expected(&err), "{text:?} gave the wrong error: {err:?}"),
        }
    }
    let long = format!("mimi://a.example/u/{}", "a".repeat(256));
    assert_eq!(
        MimiUri::parse(&long),
        Err(UriError::IdTooLong { len: 256, max: 255 })
    );
}

#[test]
fn typed_parsers_refuse_other_kinds() {
    assert_eq!(
        UserUri::parse("mimi://a.example/r/clubhouse"),
        Err(UriError::WrongKind {
            expected: UriKind::User,
            found: UriKind::Room
        })
    );
    assert_eq!(
        RoomUri::parse("mimi://a.example"),
        Err(UriError::WrongKind {
            expected: UriKind::Room,
            found: UriKind::Provider
        })
    );
    assert!(matches!(
        ClientUri::parse("mimi://a.example/u/alice"),
        Err(UriError::WrongKind { .. })
    ));
    assert!(matches!(
        ProviderUri::parse("mimi://a.example/u/alice"),
        Err(UriError::WrongKind { .. })
    ));
}

#[test]
fn errors_explain_what_to_do() {
    let err = MimiUri::parse("a.example/u/alice").unwrap_err();
    assert!(err.to_string().contains("mimi://"), "{err}");
    let err = MimiUri::parse("mimi://a.example/u/al ice").unwrap_err();
    assert!(err.to_string().contains("percent-encode"), "{err}");
}

#[test]
fn serde_uses_the_canonical_string() {
    let user = UserUri::parse("mimi://A.example/u/alice").unwrap();
    let json = serde_json::to_string(&user).unwrap();
    assert_eq!(json, "\"mimi://a.example/u/alice\"");
    assert_eq!(serde_json::from_str::<UserUri>(&json).unwrap(), user);
    assert!(serde_json::from_str::<UserUri>("\"mimi://a.example/r/x\"").is_err());
    let any: MimiUri = serde_json::from_str("\"mimi://a.example/d/alice/1\"").unwrap();
    assert_eq!(any.kind(), UriKind::Client);
}

/// An LDH label. Labels with hyphens in the third and fourth places are left
/// out: IDNA reserves them ("xn--" marks an A-label, which must be valid
/// Punycode), so the parser rightly refuses most of them.
fn label() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,20}[a-z0-9])?"
        .prop_filter("reserved IDNA label form", |l| l.get(2..4) != Some("--"))
}

fn domain() -> impl Strategy<Value = Domain> {
    (prop::collection::vec(label(), 1..4), "[a-z]{2,6}").prop_map(|(labels, tld)| {
        let mut text = labels.join(".");
        text.push('.');
        text.push_str(&tld);
        Domain::parse(&text).unwrap()
    })
}

fn ident() -> impl Strategy<Value = Ident> {
    "([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2}){1,40}"
        .prop_filter("dot segments are not identifiers", |s| {
            s != "." && s != ".."
        })
        .prop_map(|s| Ident::parse(&s).unwrap())
}

fn any_uri() -> impl Strategy<Value = MimiUri> {
    prop_oneof![
        domain().prop_map(|d| MimiUri::Provider(ProviderUri::new(d))),
        (domain(), ident()).prop_map(|(d, i)| MimiUri::User(UserUri::new(d, i))),
        (domain(), ident()).prop_map(|(d, i)| MimiUri::Pseudonym(PseudonymUri::new(d, i))),
        (domain(), ident()).prop_map(|(d, i)| MimiUri::Client(ClientUri::new(d, i))),
        (domain(), ident(), ident())
            .prop_map(|(d, u, i)| { MimiUri::Client(ClientUri::of_user(&UserUri::new(d, u), i)) }),
        (domain(), ident()).prop_map(|(d, i)| MimiUri::Room(RoomUri::new(d, i))),
        (domain(), ident()).prop_map(|(d, i)| MimiUri::Group(GroupUri::new(d, i))),
        (domain(), ident()).prop_map(|(d, i)| MimiUri::Team(TeamUri::new(d, i))),
    ]
}

proptest! {
    #[test]
    fn parse_of_display_is_identity(uri in any_uri()) {
        let text = uri.to_string();
        prop_assert_eq!(MimiUri::parse(&text), Ok(uri));
    }

    #[test]
    fn parse_never_panics(text in "mimi://[a-zA-Z0-9./:@%?#_\\[\\]-]{0,40}") {
        let _ = MimiUri::parse(&text);
    }
}
