//! Operations endpoints, and readiness when the database goes away (under load: `outages`).

use crate::helpers::{eventually, redis_url, spawn_app, TestApp};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn healthz_and_readyz_answer_200_when_all_is_well() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap_or_default();
    assert_eq!(body["database"], "ok");
    let redis = if redis_url().is_some() {
        "ok"
    } else {
        "not_configured"
    };
    assert_eq!(body["redis"], redis, "{body}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.post_anon("auth/me", json!({}), None).await;
    app.post_anon("auth/me", json!({}), None).await;
    let text = app.get("/metrics").await.text().await.unwrap_or_default();
    assert!(
        text.contains(
            r#"optimus_http_requests_total{route="/api/v1/auth/me",method="POST",status="401"} 2"#
        ),
        "{text}"
    );
    assert!(text.contains("optimus_http_request_duration_seconds_bucket{"));
    assert!(text.contains("optimus_db_pool_connections{state=\"idle\"}"));
    assert!(text.contains("optimus_build_info{"));
}

#[tokio::test]
async fn unknown_pages_are_404_and_the_login_page_renders() {
    let app = spawn_app().await;
    let r = app.get("/definitely/not/here").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let login = app.get("/login").await;
    assert_eq!(login.status(), StatusCode::OK);
    assert!(login
        .text()
        .await
        .unwrap_or_default()
        .contains("Sign in to Optimus"));
}

#[tokio::test]
async fn readyz_is_503_naming_the_database_when_it_is_unreachable() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    match std::env::var("OPTIMUS_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(admin_url) => {
            let name = app
                .database_url
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let admin = sea_orm::Database::connect(&admin_url).await.expect("admin");
            admin
                .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .await
                .expect("drop");
            assert_database_unreachable(&app, &|| {}).await;
        }
        None => sqlite_file_becomes_unreachable_then_returns(&app).await,
    }
}

/// Waits for `/readyz` to answer 503 naming the database (calling `before_each` before every
/// try), and checks the process still answers `/healthz`.
async fn assert_database_unreachable(app: &TestApp, before_each: &dyn Fn()) {
    let r = eventually(
        Duration::from_secs(10),
        "readyz answers 503",
        || async move {
            before_each();
            let r = app.get("/readyz").await;
            (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(r)
        },
    )
    .await;
    let body: Value = r.json().await.unwrap_or_default();
    assert_eq!(body["database"], "unreachable", "{body}");
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "the process is still up"
    );
}

/// SQLite's ping never reads the file, and an open connection keeps working on a file that was
/// moved or deleted; what fails is opening a new one. So the test holds every idle connection
/// (the pool must then open one), puts a directory where the database file was (which nothing,
/// not even root, can open as SQLite), and later puts the file back.
async fn sqlite_file_becomes_unreachable_then_returns(app: &TestApp) {
    let path = app
        .database_url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .map(std::path::PathBuf::from)
        .expect("sqlite path");
    let aside = path.with_extension("aside");
    let pool = app.state.db.get_sqlite_connection_pool();
    let held = std::sync::Mutex::new(Vec::new());
    let hold_idle = || {
        let mut held = held.lock().expect("lock");
        while let Some(conn) = pool.try_acquire() {
            held.push(conn);
        }
    };
    hold_idle();
    std::fs::rename(&path, &aside).expect("move the database file aside");
    std::fs::create_dir(&path).expect("a directory in its place");

    assert_database_unreachable(app, &hold_idle).await;

    std::fs::remove_dir(&path).expect("remove the directory");
    std::fs::rename(&aside, &path).expect("put the database file back");
    held.lock().expect("lock").clear();
    eventually(Duration::from_secs(10), "readyz recovers", || async move {
        (app.get("/readyz").await.status() == StatusCode::OK).then_some(())
    })
    .await;
}
