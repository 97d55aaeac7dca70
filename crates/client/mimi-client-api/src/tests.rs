#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use crate::routes::{ALL, fill};
use crate::*;

#[test]
fn every_route_is_in_the_openapi_document() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for route in ALL {
        let item = paths
            .get(route.path)
            .unwrap_or_else(|| panic!("{} missing from openapi.json", route.path));
        let method = route.method.to_ascii_lowercase();
        assert!(
            item.get(&method).is_some(),
            "{} {} missing from openapi.json",
            route.method,
            route.path
        );
    }
    // And nothing documented that the route table does not have.
    let documented: usize = paths.values().map(|v| v.as_object().unwrap().len()).sum();
    assert_eq!(documented, ALL.len());
}

#[test]
fn every_error_code_is_in_the_openapi_document() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
    let documented: Vec<&str> =
        doc["components"]["schemas"]["ApiError"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
    let codes = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::WrongPassword,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::QuotaExceeded,
        ErrorCode::PeerUnavailable,
        ErrorCode::Internal,
    ];
    let ours: Vec<String> = codes
        .iter()
        .map(|c| {
            serde_json::to_value(c)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(documented, ours);
    assert_eq!(ErrorCode::QuotaExceeded.http_status(), 507);
}

#[test]
fn bytes_travel_as_base64() {
    let device = RegisterDevice {
        user_id: "alice".into(),
        password: "correct horse".into(),
        device_id: "phone".into(),
        signature_key: vec![0xff; 4],
        kind: None,
    };
    let json = serde_json::to_value(&device).unwrap();
    assert_eq!(json["signature_key"], "/////w==");
    let back: RegisterDevice = serde_json::from_value(json).unwrap();
    assert_eq!(back, device);

    let registered = DeviceRegistered {
        client: "mimi://x.example/d/alice/phone".into(),
        user: "mimi://x.example/u/alice".into(),
        token: "t".into(),
        credential: vec![vec![1, 2], vec![3]],
        trust_bundle: BTreeMap::from([("x.example".to_owned(), vec![9])]),
        server_signature_key: vec![7; 32],
        server_credential: vec![vec![8]],
    };
    let json = serde_json::to_string(&registered).unwrap();
    let back: DeviceRegistered = serde_json::from_str(&json).unwrap();
    assert_eq!(back, registered);
}

#[test]
fn invalid_base64_is_refused_with_a_reason() {
    let err = serde_json::from_str::<HubAnswer>(r#"{"response":"not base64!"}"#).unwrap_err();
    assert!(err.to_string().contains("invalid base64"), "{err}");
}

#[test]
fn errors_carry_a_snake_case_code_and_their_status() {
    let err = ApiError::new(ErrorCode::WrongPassword, "check the password");
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["code"], "wrong_password");
    assert_eq!(ErrorCode::WrongPassword.http_status(), 401);
    assert_eq!(ErrorCode::NotFound.http_status(), 404);
}

#[test]
fn routes_fill_their_parameters() {
    assert_eq!(
        fill(&routes::KEY_MATERIAL, Some("R"), Some("U")),
        "/v1/rooms/R/key-material/U"
    );
}
