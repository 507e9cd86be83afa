//! `spawn_app()` and a typed client.

use app::server::secret::Secret;
use app::server::settings::Settings;
use app::server::AppState;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use server::startup::Application;

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running instance.
pub struct TestApp {
    pub addr: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub state: AppState,
    pub database_url: String,
    pub settings: Settings,
    _data_dir: Option<tempfile::TempDir>,
}

/// A JSON response.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `field` of a validation error.
    pub fn field(&self) -> Option<&str> {
        self.body["field"].as_str()
    }
}

/// The Redis URL for tests, if any.
pub fn redis_url() -> Option<String> {
    std::env::var("OPTIMUS_TEST_REDIS_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Creates a fresh database: a new PostgreSQL database, or a SQLite file in `dir`.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match std::env::var("OPTIMUS_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(admin_url) => {
            let name = format!("optimus_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to the admin database");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create a test database");
            let _ = admin.close().await;
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b.to_owned())
                .unwrap_or(admin_url);
            format!("{base}/{name}")
        }
        None => format!("sqlite://{}?mode=rwc", dir.join("optimus.db").display()),
    }
}

/// Settings for a test instance: port 0, fresh database, own Redis prefix.
pub async fn test_settings(dir: &std::path::Path) -> Settings {
    let mut s = Settings::defaults().expect("defaults");
    s.bind = "127.0.0.1:0".parse().expect("addr");
    s.data_dir = dir.to_path_buf();
    s.database_url = Some(Secret::new(fresh_database(dir).await));
    s.redis_url = redis_url().map(Secret::new);
    s.redis_prefix = format!("optimus_test_{}", uuid::Uuid::new_v4().simple());
    s.log = "warn".into();
    // The real log shim (the test binary cannot be it).
    s.shim_path = Some(env!("CARGO_BIN_EXE_optimus-shim").into());
    s
}

/// Spawns an instance with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns an instance after `adjust` changes its settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path()).await;
    adjust(&mut settings);
    spawn_with_settings(settings, dir).await
}

/// Spawns an instance with exactly these settings.
pub async fn spawn_with_settings(settings: Settings, dir: tempfile::TempDir) -> TestApp {
    let mut app = spawn_sharing(settings).await;
    app._data_dir = Some(dir);
    app
}

/// Spawns another instance on the same database and data folder as `settings` (as after a
/// restart of Optimus); the caller keeps the folder alive.
pub async fn spawn_sharing(settings: Settings) -> TestApp {
    let database_url = settings.effective_database_url();
    let app = Application::build(settings.clone())
        .await
        .expect("build the app");
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        addr: format!("http://127.0.0.1:{port}"),
        port,
        client: client(),
        state,
        database_url,
        settings,
        _data_dir: None,
    }
}

/// A client that keeps cookies, like a browser.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    /// POSTs raw bytes to an API path, with an optional Bearer token.
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        bearer: Option<&str>,
    ) -> Reply {
        let mut req = self
            .client
            .post(format!("{}/api/v1/{path}", self.addr))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// POSTs JSON to an API path.
    pub async fn post(&self, path: &str, body: Value, bearer: Option<&str>) -> Reply {
        self.post_raw(path, body.to_string(), bearer).await
    }

    /// POSTs with a fresh, cookie-less client (an API script).
    pub async fn post_anon(&self, path: &str, body: Value, bearer: Option<&str>) -> Reply {
        let mut req = reqwest::Client::new()
            .post(format!("{}/api/v1/{path}", self.addr))
            .json(&body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.json().await.unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    /// GETs a path (not under the API).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.addr))
            .send()
            .await
            .expect("request")
    }

    /// Creates the owner `owner` and returns their access token.
    pub async fn setup_owner(&self) -> String {
        let r = self
            .post_anon(
                "auth/setup",
                json!({"username": "owner", "password": PASSWORD}),
                None,
            )
            .await;
        assert!(
            r.status.is_success(),
            "setup failed: {} {}",
            r.status,
            r.body
        );
        r.body["token"].as_str().expect("token").to_owned()
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, username: &str) -> String {
        let r = self
            .post_anon(
                "auth/login",
                json!({"username": username, "password": PASSWORD}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {}", r.body);
        r.body["token"].as_str().expect("token").to_owned()
    }

    /// Creates a user with `role` (as the owner) and returns their access token.
    pub async fn user_with_role(&self, owner_token: &str, username: &str, role: &str) -> String {
        let r = self
            .post_anon(
                "users/create",
                json!({"username": username, "password": PASSWORD, "role": role}),
                Some(owner_token),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "create {username}: {}", r.body);
        self.login(username).await
    }

    /// Creates an API token with `scopes` for the holder of `token`.
    pub async fn api_token(&self, token: &str, scopes: &[&str]) -> String {
        let r = self
            .post_anon(
                "tokens/create",
                json!({"name": "test", "scopes": scopes, "expires_in_days": 7}),
                Some(token),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "create token: {}", r.body);
        r.body["token"].as_str().expect("token").to_owned()
    }
}
