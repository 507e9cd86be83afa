use crate::helpers::{spawn_app, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn setup_creates_the_owner_once_then_answers_409() {
    let app = spawn_app().await;
    let status = app.post_anon("auth/status", json!({}), None).await;
    assert_eq!(status.body["needs_setup"], true);

    let r = app
        .post_anon(
            "auth/setup",
            json!({"username": "Owner", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["user"]["username"], "owner");
    assert_eq!(r.body["user"]["role"], "owner");

    let again = app
        .post_anon(
            "auth/setup",
            json!({"username": "mallory", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        app.post_anon("auth/status", json!({}), None).await.body["needs_setup"],
        false
    );
}

#[tokio::test]
async fn setup_refuses_a_weak_password_naming_the_field_and_creates_nothing() {
    let app = spawn_app().await;
    let r = app
        .post_anon(
            "auth/setup",
            json!({"username": "owner", "password": "short"}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.field(), Some("password"));
    assert!(r.body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("12"));
    assert_eq!(
        app.post_anon("auth/status", json!({}), None).await.body["needs_setup"],
        true
    );
}

#[tokio::test]
async fn login_returns_a_token_and_strict_http_only_cookies() {
    let app = spawn_app().await;
    app.setup_owner().await;
    let r = app
        .post_anon(
            "auth/login",
            json!({"username": "owner", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    assert!(r.body["refresh_token"].is_string());
    let cookies: Vec<_> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for c in cookies {
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_or_unknown_user_is_401_and_audited() {
    let app = spawn_app().await;
    let token = app.setup_owner().await;
    let wrong = app
        .post_anon(
            "auth/login",
            json!({"username": "owner", "password": "not the password"}),
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let unknown = app
        .post_anon(
            "auth/login",
            json!({"username": "ghost", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.body, unknown.body,
        "the answer must not reveal which usernames exist"
    );
    let audit = app
        .post_anon("audit/list", json!({"action": "auth.login"}), Some(&token))
        .await;
    let failed = audit.body["items"]
        .as_array()
        .map(|v| v.iter().filter(|e| e["outcome"] == "failed").count());
    assert_eq!(failed, Some(2));
}

#[tokio::test]
async fn me_needs_a_token_and_reports_username_and_role() {
    let app = spawn_app().await;
    let token = app.setup_owner().await;
    let me = app.post_anon("auth/me", json!({}), Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["username"], "owner");
    assert_eq!(me.body["role"], "owner");
    assert_eq!(
        app.post_anon("auth/me", json!({}), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_anon("auth/me", json!({}), Some("garbage"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_browser_session_cookie_authenticates_and_logout_revokes_it() {
    let app = spawn_app().await;
    let setup = app
        .post(
            "auth/setup",
            json!({"username": "owner", "password": PASSWORD}),
            None,
        )
        .await;
    let token = setup.body["token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        app.post("auth/me", json!({}), None).await.status,
        StatusCode::OK,
        "cookie session"
    );
    assert_eq!(
        app.post("auth/logout", json!({}), None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.post("auth/me", json!({}), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_anon("auth/me", json!({}), Some(&token))
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the access token of a logged-out session must stop working at once"
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_ends_the_family() {
    let app = spawn_app().await;
    app.setup_owner().await;
    let login = app
        .post_anon(
            "auth/login",
            json!({"username": "owner", "password": PASSWORD}),
            None,
        )
        .await;
    let first = login.body["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = app
        .post_anon("auth/refresh", json!({"refresh_token": first}), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let second_access = r.body["token"].as_str().unwrap_or_default().to_owned();
    assert_ne!(r.body["refresh_token"], first);
    assert_eq!(
        app.post_anon("auth/me", json!({}), Some(&second_access))
            .await
            .status,
        StatusCode::OK
    );

    let replay = app
        .post_anon("auth/refresh", json!({"refresh_token": first}), None)
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post_anon("auth/me", json!({}), Some(&second_access))
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "replaying a spent refresh token ends every session of that login"
    );
}

#[tokio::test]
async fn changing_the_password_requires_the_current_one() {
    let app = spawn_app().await;
    let token = app.setup_owner().await;
    let wrong = app
        .post_anon(
            "auth/change_password",
            json!({"current_password": "nope", "new_password": "another long passphrase"}),
            Some(&token),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.field(), Some("current_password"));
    let ok = app
        .post_anon(
            "auth/change_password",
            json!({"current_password": PASSWORD, "new_password": "another long passphrase"}),
            Some(&token),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let relogin = app
        .post_anon(
            "auth/login",
            json!({"username": "owner", "password": "another long passphrase"}),
            None,
        )
        .await;
    assert_eq!(relogin.status, StatusCode::OK);
}

#[tokio::test]
async fn login_is_rate_limited_per_username_with_retry_after() {
    let app = spawn_app().await;
    app.setup_owner().await;
    let mut limited = None;
    for _ in 0..12 {
        let r = app
            .post_anon(
                "auth/login",
                json!({"username": "owner", "password": "wrong password!"}),
                None,
            )
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the 11th attempt within a minute is refused");
    let retry: u64 = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(r.body["error"], "rate_limited");
    // Even the right password is refused while limited.
    let right = app
        .post_anon(
            "auth/login",
            json!({"username": "owner", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
}
