//! The role × endpoint matrix: every server function, called with no credentials, as each role
//! and with API tokens of one scope, must answer as its `endpoint!` declaration says; and the
//! declarations, the registered server functions and the OpenAPI document list the same paths.

use crate::helpers::spawn_app;
use app::api::endpoint::{declared, Access};
use app::models::access::Scope;
use app::models::Role;
use reqwest::StatusCode;
use serde_json::{Map, Value};
use server::openapi::request_rules;

/// A body of the right shape (so the request reaches the service), with values that name nothing.
fn sample_body(path: &str) -> Value {
    let rules = request_rules().get(path).cloned().unwrap_or_default();
    let mut map = Map::new();
    for (name, rule) in rules {
        if !rule.required {
            continue;
        }
        let value = match rule.types.first().copied() {
            Some("integer") | Some("number") => Value::from(987_654),
            Some("array") => Value::Array(Vec::new()),
            Some("boolean") => Value::Bool(false),
            // Fields typed by a schema reference are objects; the one so far is a service
            // definition.
            Some("object") | None => serde_json::json!({"name": "sample", "command": "true"}),
            _ => Value::from("sample-value-x"),
        };
        map.insert(name, value);
    }
    Value::Object(map)
}

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
async fn every_endpoint_answers_each_role_as_the_table_says() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let mut tokens = vec![(Role::Owner, owner.clone())];
    for (name, role) in [
        ("vic", Role::Viewer),
        ("oscar", Role::Operator),
        ("ada", Role::Admin),
    ] {
        tokens.push((role, app.user_with_role(&owner, name, role.as_str()).await));
    }
    // Logout last: it ends the session it is called with.
    let mut all = declared();
    all.sort_by_key(|e| e.path == "auth/logout");
    for e in all {
        let path = format!("/api/v1/{}", e.path);
        let body = sample_body(&path);
        let anonymous = app.post_anon(e.path, body.clone(), None).await;
        assert!(
            !anonymous.status.is_server_error(),
            "{path} anonymous: {}",
            anonymous.status
        );
        let Access::Op(op) = e.access else {
            assert_ne!(anonymous.status, StatusCode::FORBIDDEN, "{path} is public");
            continue;
        };
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{path} without credentials"
        );
        for (role, token) in &tokens {
            let r = app.post_anon(e.path, body.clone(), Some(token)).await;
            assert!(
                !r.status.is_server_error(),
                "{path} as {role}: {} {}",
                r.status,
                r.body
            );
            if op.allowed_for(*role) {
                assert_ne!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{path} as {role}: {}",
                    r.body
                );
                assert_ne!(
                    r.status,
                    StatusCode::UNAUTHORIZED,
                    "{path} as {role}: {}",
                    r.body
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{path} as {role}: {}",
                    r.body
                );
            }
        }
    }
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

/// An API token carrying only the declared scope gets past authorisation (so the service asks no
/// more than the declaration says), and one carrying every other scope is refused.
#[tokio::test]
async fn every_endpoint_asks_a_token_for_exactly_its_declared_scope() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let mut only = Vec::new();
    let mut all_but = Vec::new();
    for scope in Scope::ALL {
        only.push((scope, app.api_token(&owner, &[scope.as_str()]).await));
        let others: Vec<&str> = Scope::ALL
            .iter()
            .filter(|s| **s != scope)
            .map(|s| s.as_str())
            .collect();
        all_but.push((scope, app.api_token(&owner, &others).await));
    }
    let mut checked = 0;
    let mut all = declared();
    all.sort_by_key(|e| e.path == "auth/logout");
    for e in all {
        let Access::Op(op) = e.access else { continue };
        let path = format!("/api/v1/{}", e.path);
        let body = sample_body(&path);
        let scope = op.required_scope();
        let token = only
            .iter()
            .find(|(s, _)| *s == scope)
            .map(|(_, t)| t.as_str());
        let r = app.post_anon(e.path, body.clone(), token).await;
        assert!(
            r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED,
            "{path} with a `{scope}` token: {} {}",
            r.status,
            r.body
        );
        let token = all_but
            .iter()
            .find(|(s, _)| *s == scope)
            .map(|(_, t)| t.as_str());
        let r = app.post_anon(e.path, body, token).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{path} with every scope but `{scope}`: {}",
            r.body
        );
        checked += 1;
    }
    assert!(checked >= 60, "only {checked} endpoints checked");
}
