use crate::helpers::{spawn_app, spawn_app_with, TestApp, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

/// The password the change-password tests switch to.
const NEW_PASSWORD: &str = "another long passphrase";

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
            json!({"current_password": "nope", "new_password": NEW_PASSWORD}),
            Some(&token),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    assert_eq!(wrong.field(), Some("current_password"));
    assert_eq!(login_status(&app, "owner", PASSWORD).await, StatusCode::OK);
}

/// A login's access and refresh tokens.
async fn sign_in(app: &TestApp, password: &str) -> (String, String) {
    let r = app
        .post_anon(
            "auth/login",
            json!({"username": "owner", "password": password}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "login: {}", r.body);
    let field = |name: &str| r.body[name].as_str().expect(name).to_owned();
    (field("token"), field("refresh_token"))
}

async fn login_status(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.post_anon(
        "auth/login",
        json!({"username": username, "password": password}),
        None,
    )
    .await
    .status
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.post_anon("auth/me", json!({}), Some(token))
        .await
        .status
}

#[tokio::test]
async fn changing_the_password_ends_the_old_password_and_every_other_session() {
    let app = spawn_app().await;
    app.setup_owner().await;
    let (here, here_refresh) = sign_in(&app, PASSWORD).await;
    let (elsewhere, elsewhere_refresh) = sign_in(&app, PASSWORD).await;

    let ok = app
        .post_anon(
            "auth/change_password",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
            Some(&here),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // The other sign-in ends at once: its access token and its refresh token.
    assert_eq!(me_status(&app, &elsewhere).await, StatusCode::UNAUTHORIZED);
    let refresh = app
        .post_anon(
            "auth/refresh",
            json!({"refresh_token": elsewhere_refresh}),
            None,
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED, "{}", refresh.body);
    // The session that made the change stays, and can still rotate its refresh token.
    assert_eq!(me_status(&app, &here).await, StatusCode::OK);
    let refresh = app
        .post_anon("auth/refresh", json!({"refresh_token": here_refresh}), None)
        .await;
    assert_eq!(refresh.status, StatusCode::OK, "{}", refresh.body);

    assert_eq!(
        login_status(&app, "owner", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "the old password no longer signs in"
    );
    assert_eq!(
        login_status(&app, "owner", NEW_PASSWORD).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_weak_new_password_is_refused_naming_new_password_and_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    // A username long enough to be a valid password, so that rule is reachable.
    let token = app.user_with_role(&owner, "administrator", "viewer").await;
    let too_long = "ab".repeat(65);
    // Lengths are the request schema's (400); the rules beyond it are a 422.
    for (weak, status, rule) in [
        ("short", StatusCode::BAD_REQUEST, "at least 12"),
        (too_long.as_str(), StatusCode::BAD_REQUEST, "at most 128"),
        (
            "aaaaaaaaaaaaaaaa",
            StatusCode::UNPROCESSABLE_ENTITY,
            "repeated",
        ),
        (
            "Administrator",
            StatusCode::UNPROCESSABLE_ENTITY,
            "username",
        ),
    ] {
        let r = app
            .post_anon(
                "auth/change_password",
                json!({"current_password": PASSWORD, "new_password": weak}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, status, "{weak}: {}", r.body);
        assert_eq!(r.field(), Some("new_password"), "{weak}: {}", r.body);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap_or_default()
                .contains(rule),
            "{weak}: expected `{rule}` in {}",
            r.body
        );
    }
    assert_eq!(me_status(&app, &token).await, StatusCode::OK);
    assert_eq!(
        login_status(&app, "administrator", PASSWORD).await,
        StatusCode::OK,
        "a refused change leaves the password as it was"
    );
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

/// A failed login for `username` from the client at `forwarded_for` (an `X-Forwarded-For` value):
/// the status and the `Retry-After` seconds, if any.
async fn login_from(
    app: &TestApp,
    forwarded_for: &str,
    username: &str,
    password: &str,
) -> (StatusCode, Option<u64>) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.addr))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request");
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (res.status(), retry)
}

fn assert_limited((status, retry): (StatusCode, Option<u64>), what: &str) {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{what}");
    assert!(
        retry.is_some_and(|s| (1..=60).contains(&s)),
        "{what}: Retry-After {retry:?}"
    );
}

#[tokio::test]
async fn login_limits_count_per_username_and_per_client_address_apart() {
    const LIMIT: u32 = 3;
    let app = spawn_app_with(|s| {
        s.auth_rate_per_minute = LIMIT;
        s.trust_forwarded_for = true;
    })
    .await;
    let owner = app.setup_owner().await;
    for name in ["alice", "bob"] {
        let r = app
            .post_anon(
                "users/create",
                json!({"username": name, "password": PASSWORD, "role": "viewer"}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "create {name}: {}", r.body);
    }
    // Behind the proxy the first entry is the client; the last (the proxy's hop) is shared, so a
    // limit keyed on it would make both clients one.
    let one = "203.0.113.1, 198.51.100.7";
    let two = "203.0.113.2, 198.51.100.7";

    let mut refused = 0;
    let limited = loop {
        let r = login_from(&app, one, "alice", "wrong password!").await;
        if r.0 != StatusCode::UNAUTHORIZED {
            break r;
        }
        refused += 1;
        assert!(refused <= LIMIT, "no limit after {refused} failed logins");
    };
    assert_eq!(refused, LIMIT, "{LIMIT} attempts per minute are allowed");
    assert_limited(limited, "alice from address one, over the limit");

    assert_limited(
        login_from(&app, two, "alice", PASSWORD).await,
        "alice from address two: the username is limited wherever it comes from",
    );
    assert_limited(
        login_from(&app, one, "bob", PASSWORD).await,
        "bob from address one: the address is limited whichever user it tries",
    );
    assert_eq!(
        login_from(&app, two, "bob", PASSWORD).await.0,
        StatusCode::OK,
        "bob from address two is neither"
    );
}
