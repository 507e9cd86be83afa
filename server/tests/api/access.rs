//! Access beyond the written policy (see `policy.rs`): the document lists every server function,
//! admins stop below themselves, demotions apply at once, and the last owner stays.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn every_server_function_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap_or_default();
    let mut registered: Vec<_> = server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_owned())
        .collect();
    registered.sort();
    assert!(registered.len() >= 15, "{registered:?}");
    for path in &registered {
        assert!(
            doc["paths"][path]["post"].is_object(),
            "{path} is missing from /api/v1/openapi.json"
        );
    }
    let documented = doc["paths"]
        .as_object()
        .map(|m| m.values().filter(|p| p["post"].is_object()).count())
        .unwrap_or_default();
    assert_eq!(
        documented,
        registered.len(),
        "the document lists server functions that do not exist"
    );
    assert!(doc["paths"]["/api/v1/projects/export"]["get"].is_object());
}

#[tokio::test]
async fn an_admin_cannot_make_anyone_an_admin_or_touch_the_owner() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let admin = app.user_with_role(&owner, "ada", "admin").await;
    let r = app
        .post_anon("users/create", serde_json::json!({"username": "bob", "password": crate::helpers::PASSWORD, "role": "admin"}), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let owner_id = app
        .post_anon("auth/me", serde_json::json!({}), Some(&owner))
        .await
        .body["id"]
        .as_i64()
        .unwrap_or_default();
    let r = app
        .post_anon(
            "users/delete",
            serde_json::json!({"id": owner_id}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post_anon(
            "users/update_role",
            serde_json::json!({"id": owner_id, "role": "viewer"}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_demotion_applies_to_existing_sessions_at_once() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let ada = app.user_with_role(&owner, "ada", "admin").await;
    assert_eq!(
        app.post_anon("users/list", serde_json::json!({}), Some(&ada))
            .await
            .status,
        StatusCode::OK
    );
    let id = app
        .post_anon("auth/me", serde_json::json!({}), Some(&ada))
        .await
        .body["id"]
        .as_i64()
        .unwrap_or_default();
    let r = app
        .post_anon(
            "users/update_role",
            serde_json::json!({"id": id, "role": "viewer"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        app.post_anon("users/list", serde_json::json!({}), Some(&ada))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// Two owners each removing the other at once: the database lets exactly one through, so
/// Optimus is never left without an owner.
#[tokio::test]
async fn the_last_owner_is_never_deleted_or_demoted_even_by_a_concurrent_owner() {
    for round in 0..4 {
        let app = spawn_app().await;
        let owner = app.setup_owner().await;
        let olive = app.user_with_role(&owner, "olive", "owner").await;
        let id_of = async |token: &str| {
            app.post_anon("auth/me", serde_json::json!({}), Some(token))
                .await
                .body["id"]
                .as_i64()
                .unwrap_or_default()
        };
        let (owner_id, olive_id) = (id_of(&owner).await, id_of(&olive).await);
        let (op_a, op_b) = if round % 2 == 0 {
            ("users/delete", "users/update_role")
        } else {
            ("users/update_role", "users/delete")
        };
        let body = |id: i64| serde_json::json!({"id": id, "role": "viewer"});
        let (a, b) = tokio::join!(
            app.post_anon(op_a, body(olive_id), Some(&owner)),
            app.post_anon(op_b, body(owner_id), Some(&olive)),
        );
        assert!(
            a.status.is_success() != b.status.is_success(),
            "round {round}: exactly one may win: {} {} / {} {}",
            a.status,
            a.body,
            b.status,
            b.body
        );
        let survivor = if a.status.is_success() {
            &owner
        } else {
            &olive
        };
        let users = app
            .post_anon(
                "users/list",
                serde_json::json!({"limit": 100}),
                Some(survivor),
            )
            .await;
        let owners = users.body["items"]
            .as_array()
            .map(|users| users.iter().filter(|u| u["role"] == "owner").count());
        assert_eq!(owners, Some(1), "round {round}: {}", users.body);
    }
}
