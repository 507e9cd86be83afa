//! Operations endpoints, and behaviour when a dependency goes away.

use crate::helpers::{spawn_app, spawn_app_with, PASSWORD};
use app::server::secret::Secret;
use reqwest::StatusCode;
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
    let Ok(admin_url) = std::env::var("OPTIMUS_TEST_DATABASE_URL") else {
        // SQLite cannot become unreachable while its file is open; the Redis test below covers
        // the 503 path in that mode.
        return;
    };
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    let name = app
        .database_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let admin = sea_orm::Database::connect(&admin_url).await.expect("admin");
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop");
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap_or_default();
    assert_eq!(body["database"], "unreachable");
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "the process is still up"
    );
}

/// A TCP proxy to Redis that the test can cut and restore.
struct Proxy {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(port: u16, upstream: String) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind proxy");
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn when_redis_drops_optimus_keeps_serving_reports_it_and_recovers() {
    let redis = crate::helpers::redis_url().unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let upstream = redis
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = Proxy::start(0, upstream.clone()).await;
    let port = proxy.port;
    let app =
        spawn_app_with(|s| s.redis_url = Some(Secret::new(format!("redis://127.0.0.1:{port}"))))
            .await;
    let token = app.setup_owner().await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    proxy.cut().await;
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
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
    let mut recovered = false;
    for _ in 0..40 {
        if app.get("/readyz").await.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "readyz recovers once Redis is back");
}
