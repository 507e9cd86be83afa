use crate::helpers::spawn_app;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

#[tokio::test]
async fn a_token_is_shown_once_listed_without_its_secret_and_works_as_bearer() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let r = app
        .post_anon(
            "tokens/create",
            json!({"name": "ci", "scopes": ["read"], "expires_in_days": 30}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = r.body["token"].as_str().unwrap_or_default().to_owned();
    assert!(secret.starts_with("opt_"));

    let me = app.post_anon("auth/me", json!({}), Some(&secret)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["method"], "api_token");
    assert_eq!(me.body["scopes"], json!(["read"]));

    let list = app.post_anon("tokens/list", json!({}), Some(&owner)).await;
    assert_eq!(list.body["items"][0]["name"], "ci");
    assert!(
        !list.body.to_string().contains(&secret),
        "the secret never appears again"
    );
}

#[tokio::test]
async fn a_read_token_cannot_write_or_mint_tokens() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let read = app.api_token(&owner, &["read"]).await;
    let r = app
        .post_anon(
            "tokens/create",
            json!({"name": "x", "scopes": ["admin"], "expires_in_days": 1}),
            Some(&read),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post_anon(
            "users/create",
            json!({"username": "eve", "password": "correct horse battery", "role": "viewer"}),
            Some(&read),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("admin"));
}

#[tokio::test]
async fn scopes_beyond_the_role_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let r = app
        .post_anon(
            "tokens/create",
            json!({"name": "x", "scopes": ["write"], "expires_in_days": 1}),
            Some(&viewer),
        )
        .await;
    // Well-formed, but beyond what a viewer may grant.
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field(), Some("scopes"));
    let r = app
        .post_anon(
            "tokens/create",
            json!({"name": "x", "scopes": ["root"], "expires_in_days": 1}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.field(), Some("scopes"));
    let r = app
        .post_anon(
            "tokens/create",
            json!({"name": "x", "scopes": ["read"], "expires_in_days": 0}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.field(), Some("expires_in_days"));
    let r = app
        .post_anon(
            "tokens/create",
            json!({"name": " ", "scopes": ["read"], "expires_in_days": 3}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.field(), Some("name"));
}

#[tokio::test]
async fn revoked_and_expired_tokens_are_refused() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let a = app.api_token(&owner, &["read"]).await;
    let b = app.api_token(&owner, &["read"]).await;
    let list = app.post_anon("tokens/list", json!({}), Some(&owner)).await;
    let id_a = list.body["items"][1]["id"].as_i64().unwrap_or_default();
    let id_b = list.body["items"][0]["id"].as_i64().unwrap_or_default();

    let r = app
        .post_anon("tokens/revoke", json!({"id": id_a}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        app.post_anon("auth/me", json!({}), Some(&a)).await.status,
        StatusCode::UNAUTHORIZED
    );

    use app::server::accounts::entities::api_token;
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(api_token::Column::Id.eq(id_b))
        .exec(&app.state.db)
        .await
        .expect("expire token");
    let r = app.post_anon("auth/me", json!({}), Some(&b)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("expired"));
}

#[tokio::test]
async fn one_user_cannot_revoke_another_users_token() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    app.api_token(&owner, &["read"]).await;
    let list = app.post_anon("tokens/list", json!({}), Some(&owner)).await;
    let id = list.body["items"][0]["id"].as_i64().unwrap_or_default();
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let r = app
        .post_anon("tokens/revoke", json!({"id": id}), Some(&viewer))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
