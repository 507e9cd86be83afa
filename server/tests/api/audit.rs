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

/// Makes every insert into the audit log fail, as a full disk or a broken table would.
async fn refuse_audit_inserts(app: &crate::helpers::TestApp) {
    use sea_orm::ConnectionTrait;
    let statements: &[&str] = if app.database_url.starts_with("postgres") {
        &[
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ]
    } else {
        &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused'); END"]
    };
    for s in statements {
        app.state
            .db
            .execute_unprepared(s)
            .await
            .expect("install the trigger");
    }
}

#[tokio::test]
async fn a_change_whose_audit_entry_fails_is_not_applied() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let folder = tempfile::tempdir().expect("tempdir");
    std::fs::write(folder.path().join("Makefile"), "run:\n\ttrue\n").expect("write");
    let project = app
        .post_anon(
            "projects/create",
            json!({"path": folder.path()}),
            Some(&owner),
        )
        .await;
    assert_eq!(project.status, StatusCode::OK, "{}", project.body);
    let pid = project.body["id"].clone();
    refuse_audit_inserts(&app).await;

    // Each call fails as a whole, and what it would have changed is unchanged.
    let r = app
        .post_anon(
            "tokens/create",
            json!({"name": "ci", "scopes": ["read"], "expires_in_days": 7}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
    let tokens = app.post_anon("tokens/list", json!({}), Some(&owner)).await;
    assert_eq!(
        tokens.body["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        tokens.body
    );

    let r = app
        .post_anon(
            "projects/favorite",
            json!({"id": pid, "value": true}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
    let p = app
        .post_anon("projects/get", json!({"id": pid}), Some(&owner))
        .await;
    assert_eq!(p.body["favorite"], false, "{}", p.body);

    let r = app
        .post_anon(
            "environments/create",
            json!({"project_id": pid, "name": "staging"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
    let envs = app
        .post_anon(
            "environments/list",
            json!({"project_id": pid}),
            Some(&owner),
        )
        .await;
    assert_eq!(envs.body.as_array().map(Vec::len), Some(0), "{}", envs.body);

    let r = app
        .post_anon(
            "services/create",
            json!({"project_id": pid, "definition": {"name": "web", "command": "sleep 1"}}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.body);
    let services = app
        .post_anon("services/list", json!({"project_id": pid}), Some(&owner))
        .await;
    assert_eq!(
        services.body.as_array().map(Vec::len),
        Some(0),
        "{}",
        services.body
    );
}
