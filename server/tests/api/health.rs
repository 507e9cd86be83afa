//! Operations endpoints, and behaviour when a dependency goes away.

use crate::helpers::{eventually, redis_url, spawn_app, spawn_app_with, TestApp, PASSWORD};
use app::server::secret::Secret;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

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

/// A TCP proxy to Redis that the test can cut and restore.
struct Proxy {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(port: u16, upstream: String) -> Self {
        // Restarting on the port of a cut proxy waits for its listener to be gone.
        let listener = eventually(Duration::from_secs(5), "bind the proxy", || async move {
            TcpListener::bind(("127.0.0.1", port)).await.ok()
        })
        .await;
        let port = listener.local_addr().expect("addr").port();
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let inner = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                inner.lock().await.push(conn);
            }
        });
        tasks.lock().await.push(accept);
        Self { port, tasks }
    }

    async fn cut(&self) {
        for t in self.tasks.lock().await.drain(..) {
            t.abort();
        }
    }
}

#[tokio::test]
async fn when_redis_drops_optimus_keeps_serving_reports_it_and_recovers() {
    let Some(redis) = redis_url() else {
        // Nothing to drop: without Redis the bus and the limiter are in-process only.
        crate::helpers::skipped(
            "when_redis_drops_optimus_keeps_serving_reports_it_and_recovers",
            "needs OPTIMUS_TEST_REDIS_URL",
        );
        return;
    };
    let upstream = redis
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = Proxy::start(0, upstream.clone()).await;
    let port = proxy.port;
    let app =
        spawn_app_with(|s| s.redis_url = Some(Secret::new(format!("redis://127.0.0.1:{port}"))))
            .await;
    let app = &app;
    let token = app.setup_owner().await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    proxy.cut().await;
    let r = eventually(
        Duration::from_secs(10),
        "readyz answers 503",
        || async move {
            let r = app.get("/readyz").await;
            (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(r)
        },
    )
    .await;
    let body: Value = r.json().await.unwrap_or_default();
    assert_eq!(body["redis"], "unreachable");
    assert_eq!(body["database"], "ok");
    // Degraded, not down: sign-in, rate limiting and events fall back to in-process.
    let me = app.post_anon("auth/me", json!({}), Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    let r = app
        .post_anon(
            "users/create",
            json!({"username": "vera", "password": PASSWORD, "role": "viewer"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let _restored = Proxy::start(port, upstream).await;
    // The connection manager reconnects with backoff (up to 2 s a try); allow a loaded machine.
    eventually(
        Duration::from_secs(30),
        "readyz recovers once Redis is back",
        || async move { (app.get("/readyz").await.status() == StatusCode::OK).then_some(()) },
    )
    .await;
}
