use super::*;
use crate::http::{NOTIFY, PROXY_DOWNLOAD, UPDATE};

/// The draft-06 §5.1 example, verbatim with its two typos.
const DRAFT_EXAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../testing/vectors/federation/draft-06-directory-example.json"
));

#[test]
fn draft_example_parses_with_its_typos_repaired() {
    let directory = Directory::from_json(DRAFT_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(directory.endpoints.len(), KEYS.len());
    let room: mimi_types::RoomUri = "mimi://a.example/r/clubhouse".parse().unwrap();
    assert_eq!(
        directory.url(&UPDATE, &room).unwrap(),
        "https://mimi.example.com/v1/update/mimi%3A%2F%2Fa.example%2Fr%2Fclubhouse"
    );
    assert_eq!(
        directory.url(&NOTIFY, &room).unwrap(),
        "https://mimi.example.com/v1/notify/mimi%3A%2F%2Fa.example%2Fr%2Fclubhouse"
    );
    let template = directory.template(&PROXY_DOWNLOAD).unwrap();
    assert_eq!(template.placeholder(), "downloadUrl");
}

#[test]
fn json_round_trips_through_serde() {
    let directory = Directory::nominal("https://mimi.a.example/v1/").unwrap();
    let json = directory.to_json();
    let back: Directory = serde_json::from_str(&json).unwrap();
    assert_eq!(back, directory);
    assert_eq!(Directory::from_json(json.as_bytes()).unwrap(), directory);
    assert_eq!(
        directory.template(&UPDATE).unwrap().as_str(),
        "https://mimi.a.example/v1/update/{roomId}"
    );
}

#[test]
fn unknown_members_are_kept_and_missing_ones_reported() {
    let directory =
        Directory::from_json(br#"{"x-extra":"hello","n":3,"notify":"https://h/n/{roomId}"}"#)
            .unwrap();
    assert_eq!(
        directory.other.get("x-extra").map(String::as_str),
        Some("hello")
    );
    assert_eq!(
        directory.template(&UPDATE),
        Err(DirectoryError::MissingEndpoint("update"))
    );
}

#[test]
fn bad_templates_are_refused_with_the_reason() {
    assert!(matches!(
        Directory::from_json(br#"{"notify":"http://h/n/{roomId}"}"#),
        Err(DirectoryError::NotHttps { .. })
    ));
    for bad in [
        r#"{"notify":"https://h/n/"}"#,
        r#"{"notify":"https://h/n/{a}/{b}"}"#,
        r#"{"notify":"https://h/n/{}"}"#,
        r#"{"notify":"https://h/n/}{"}"#,
    ] {
        assert!(
            matches!(
                Directory::from_json(bad.as_bytes()),
                Err(DirectoryError::BadPlaceholder { .. })
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        Directory::from_json(br#"{"notify":7}"#),
        Err(DirectoryError::Json(_))
    ));
    assert!(matches!(
        Directory::from_json(b"{"),
        Err(DirectoryError::Json(_))
    ));
    let huge = vec![b' '; MAX_DIRECTORY_LEN + 1];
    assert!(matches!(
        Directory::from_json(&huge),
        Err(DirectoryError::TooLong(_))
    ));
}

#[test]
fn an_advertised_body_limit_survives_the_round_trip_and_garbage_is_ignored() {
    let mut directory = Directory::nominal("https://mimi.a.example/v1").unwrap();
    assert_eq!(directory.max_body_bytes(), None);
    directory.set_max_body_bytes(65_536);
    let back = Directory::from_json(directory.to_json().as_bytes()).unwrap();
    assert_eq!(back.max_body_bytes(), Some(65_536));
    let mut odd = back.clone();
    odd.other
        .insert(MAX_BODY_BYTES_KEY.to_owned(), "lots".to_owned());
    assert_eq!(odd.max_body_bytes(), None, "not a number: not advertised");
}
