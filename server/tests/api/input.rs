//! Bad input is a 4xx naming the field, never a 5xx, and changes nothing.

use crate::helpers::{spawn_app, spawn_app_with, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn malformed_json_wrong_types_and_unknown_fields_are_400_naming_the_field() {
    let app = spawn_app().await;
    let r = app.post_raw("auth/login", "{\"username\": ", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.field(), Some("body"));

    let r = app
        .post(
            "auth/login",
            json!({"username": 42, "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.field(), Some("username"));

    let r = app
        .post(
            "auth/setup",
            json!({"username": "owner", "password": PASSWORD, "role": "owner"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.field(), Some("role"));
    assert_eq!(
        app.post("auth/status", json!({}), None).await.body["needs_setup"],
        true,
        "nothing changed"
    );

    let r = app
        .post("auth/login", json!({"username": "owner"}), None)
        .await;
    assert_eq!(r.field(), Some("password"));

    let r = app.post_raw("auth/login", "[]", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn invalid_values_name_their_field() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    // Shapes the document states are a 400; a password rule beyond its length a 422.
    for (body, field, status) in [
        (
            json!({"username": "1bad", "password": PASSWORD, "role": "viewer"}),
            "username",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"username": "good", "password": "aaaaaaaaaaaaaaaa", "role": "viewer"}),
            "password",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"username": "good", "password": PASSWORD, "role": "emperor"}),
            "role",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = app.post_anon("users/create", body, Some(&owner)).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert_eq!(r.field(), Some(field));
    }
    let r = app
        .post_anon("users/list", json!({"limit": 0}), Some(&owner))
        .await;
    assert_eq!(r.field(), Some("limit"));
    let r = app
        .post_anon("users/list", json!({"cursor": "garbage"}), Some(&owner))
        .await;
    assert_eq!(r.field(), Some("cursor"));
    let users = app.post_anon("users/list", json!({}), Some(&owner)).await;
    assert_eq!(
        users.body["items"].as_array().map(Vec::len),
        Some(1),
        "nothing was created"
    );
}

#[tokio::test]
async fn an_oversized_body_is_413_and_an_unknown_endpoint_404() {
    let app = spawn_app_with(|s| s.max_body_bytes = 4096).await;
    let big = json!({"username": "x".repeat(10_000), "password": PASSWORD}).to_string();
    let r = app.post_raw("auth/login", big, None).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app.post("nothing/here", json!({}), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_empty_body_counts_as_an_empty_object() {
    let app = spawn_app().await;
    let token = app.setup_owner().await;
    let r = app.post_raw("auth/me", "", Some(&token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn each_caller_has_a_request_budget() {
    let app = spawn_app_with(|s| s.api_rate_per_minute = 5).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(app.post_anon("auth/status", json!({}), None).await);
    }
    assert!(statuses[..5].iter().all(|r| r.status == StatusCode::OK));
    let limited = &statuses[6];
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn pages_follow_cursors_in_a_stable_order() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    for i in 0..4 {
        let r = app
            .post_anon(
                "users/create",
                json!({"username": format!("user{i}"), "password": PASSWORD, "role": "viewer"}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let mut seen = Vec::new();
    let mut cursor = serde_json::Value::Null;
    loop {
        let r = app
            .post_anon(
                "users/list",
                json!({"limit": 2, "cursor": cursor}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for u in r.body["items"].as_array().cloned().unwrap_or_default() {
            seen.push(u["username"].as_str().unwrap_or_default().to_owned());
        }
        cursor = r.body["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen, vec!["owner", "user0", "user1", "user2", "user3"]);
}
