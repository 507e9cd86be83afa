use crate::helpers::{spawn_app, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn mutating_actions_are_audited_with_actor_target_and_address() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let r = app
        .post_anon(
            "users/create",
            json!({"username": "vera", "password": PASSWORD, "role": "viewer"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let audit = app.post_anon("audit/list", json!({}), Some(&owner)).await;
    assert_eq!(audit.status, StatusCode::OK);
    let items = audit.body["items"].as_array().cloned().unwrap_or_default();
    let actions: Vec<_> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(actions, vec!["users.create", "auth.setup"], "newest first");
    let entry = &items[0];
    assert_eq!(entry["actor"], "owner");
    assert_eq!(entry["target"], "user:vera");
    assert_eq!(entry["outcome"], "ok");
    assert_eq!(entry["client_addr"], "127.0.0.1");
    assert!(entry["at"].is_string());
}

#[tokio::test]
async fn the_audit_log_filters_by_action() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    app.login("owner").await;
    app.api_token(&owner, &["read"]).await;
    let r = app
        .post_anon(
            "audit/list",
            json!({"action": "tokens.create"}),
            Some(&owner),
        )
        .await;
    let items = r.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1);
    let r = app
        .post_anon("audit/list", json!({"action": "DROP TABLE"}), Some(&owner))
        .await;
    assert_eq!(r.field(), Some("action"));
}
