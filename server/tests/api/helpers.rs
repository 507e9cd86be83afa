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
    s.proxy_path = Some(env!("CARGO_BIN_EXE_optimus-proxy").into());
    // Deployed services' public ports only on loopback.
    s.public_bind = std::net::Ipv4Addr::LOCALHOST.into();
    // No self-backup at start (each instance would catch up on today's): tests run it.
    s.self_backup_cron = String::new();
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

/// Polls `check` every 50 ms until it gives `Some`, and fails naming `what` after `within`: a
/// wait for something to happen, in place of a fixed sleep.
pub async fn eventually<T, F, Fut>(within: std::time::Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Gives the instance a block of 50 ports of its own in the allocation range, so tests running
/// in parallel never hand out the same port (each instance has its own database, so its port
/// registry cannot see the others').
pub fn own_ports(s: &mut Settings) {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let block = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 200;
    s.port_range_start = 20000 + block * 50;
    s.port_range_end = s.port_range_start + 49;
}

/// Kills what the instance's services still run when dropped, also when a test fails half-way
/// (services leave the test's session through the shim and would outlive it). Supervision is
/// detached first so nothing restarts; then, for every run without an exit record, its process
/// group and everything below its shim get SIGKILL, and the shims get a moment to record it.
pub struct ServiceGuard {
    runtimes: Vec<app::server::runtime::Runtime>,
    runs: std::path::PathBuf,
    /// The folder of the instance's `optimus-proxy` (it outlives Optimus on purpose).
    proxy: Option<std::path::PathBuf>,
}

impl TestApp {
    /// A guard that kills this instance's services when dropped; declare it after the app.
    pub fn guard(&self) -> ServiceGuard {
        ServiceGuard {
            runtimes: vec![self.state.runtime.clone()],
            runs: self.settings.data_dir.join("runs"),
            proxy: Some(self.settings.data_dir.join("proxy")),
        }
    }
}

impl ServiceGuard {
    /// A guard over the services of an `optimus` child process using `data` (nothing in this
    /// process supervises them).
    pub fn for_data_dir(data: &std::path::Path) -> ServiceGuard {
        ServiceGuard {
            runtimes: Vec::new(),
            runs: data.join("runs"),
            proxy: Some(data.join("proxy")),
        }
    }

    /// A guard over the processes started under `folder` (two levels of run folders, as
    /// `<data>/runs` and `<data>/pipelines` hold them).
    pub fn for_folder(folder: std::path::PathBuf) -> ServiceGuard {
        ServiceGuard {
            runtimes: Vec::new(),
            runs: folder,
            proxy: None,
        }
    }

    /// Also detaches `other`, an instance sharing this one's data folder.
    pub fn cover(&mut self, other: &TestApp) {
        self.runtimes.push(other.state.runtime.clone());
    }
}

impl Drop for ServiceGuard {
    fn drop(&mut self) {
        use app::server::runtime::proc;
        for r in &self.runtimes {
            r.detach_all();
        }
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let (killed, shims) = kill_runs(&self.runs);
            let shims_left = shims.iter().any(|p| proc::start_time(*p).is_some());
            if (!killed && !shims_left) || std::time::Instant::now() > until {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        if let Some(dir) = &self.proxy {
            stop_proxy(dir);
        }
    }
}

/// Kills the `optimus-proxy` serving `dir`, if one runs (its pid file names it; the process
/// must still be a proxy, not one that reused the pid).
pub fn stop_proxy(dir: &std::path::Path) {
    let Some(pid) = std::fs::read_to_string(dir.join("proxy.pid"))
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    else {
        return;
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if String::from_utf8_lossy(&cmdline).contains("proxy") {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

/// Whether `pid` is the log shim that started a run's main process at `main_start`: a shim
/// (`… optimus-shim shim`) started no later than it, not one that reused the pid since.
fn is_shim_of(pid: u32, main_start: u64) -> bool {
    let started_before =
        app::server::runtime::proc::start_time(pid).is_some_and(|t| t <= main_start);
    started_before
        && i32::try_from(pid)
            .ok()
            .and_then(|p| procfs::process::Process::new(p).ok())
            .and_then(|p| p.cmdline().ok())
            .is_some_and(|c| c.len() == 2 && c[0].contains("optimus") && c[1] == "shim")
}

/// One SIGKILL round over the runs under `runs`: (whether any process got one, the shims seen).
fn kill_runs(runs: &std::path::Path) -> (bool, Vec<u32>) {
    use app::server::runtime::{proc, shim};
    let table = proc::ProcTable::read();
    let (mut killed, mut shims) = (false, Vec::new());
    let dirs = std::fs::read_dir(runs).into_iter().flatten().flatten();
    for run in dirs.flat_map(|s| std::fs::read_dir(s.path()).into_iter().flatten().flatten()) {
        let dir = run.path();
        let Some(s) = shim::read_json::<shim::ShimStarted>(&dir, shim::STATE_FILE) else {
            continue;
        };
        let main_alive = proc::is_same_process(s.pid, s.pid_start);
        let below = is_shim_of(s.shim_pid, s.pid_start).then_some(s.shim_pid);
        if below.is_none() && !main_alive {
            continue;
        }
        shims.extend(below);
        let mut targets: Vec<String> = table
            .tree(s.pid, below)
            .iter()
            .map(u32::to_string)
            .collect();
        if main_alive {
            // The leader is ours and alive, so the group id is too.
            targets.push(format!("-{}", s.pid));
        }
        if !targets.is_empty() {
            killed = true;
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--"])
                .args(&targets)
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
    (killed, shims)
}

/// Reports a test that could not run its check here, by name, on the real stderr: the test
/// harness captures `eprintln!` of passing tests, and a skip must show in the CI log.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// Reports a figure a fault test observed, by name, on the real stderr (kept in the CI log).
pub fn observed(test: &str, what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "OBSERVED {test}: {what}");
}

/// A TCP proxy in front of a dependency (PostgreSQL, Redis) that a test can cut, as if the
/// server had stopped (connections close, new ones are refused), and start again on its port.
pub struct Proxy {
    /// The port it listens on.
    pub port: u16,
    tasks: std::sync::Arc<tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    /// Listens on `port` (0: any) and forwards every connection to `upstream` (`host:port`).
    pub async fn start(port: u16, upstream: String) -> Self {
        use tokio::net::{TcpListener, TcpStream};
        // Restarting on the port of a cut proxy waits for its listener to be gone.
        let listener = eventually(
            std::time::Duration::from_secs(5),
            "bind the proxy",
            || async move { TcpListener::bind(("127.0.0.1", port)).await.ok() },
        )
        .await;
        let port = listener.local_addr().expect("addr").port();
        let tasks = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::new()));
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

    /// Closes every connection and stops listening.
    pub async fn cut(&self) {
        for t in self.tasks.lock().await.drain(..) {
            t.abort();
        }
    }
}

/// The `host:port` that `url` names.
pub fn host_port(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).expect("a URL");
    format!(
        "{}:{}",
        parsed.host_str().expect("a host"),
        parsed.port().expect("a port")
    )
}

/// `url` with its host and port replaced by 127.0.0.1:`port` (to go through a [`Proxy`]).
pub fn via_port(url: &str, port: u16) -> String {
    let mut parsed = reqwest::Url::parse(url).expect("a URL");
    parsed.set_host(Some("127.0.0.1")).expect("host");
    parsed.set_port(Some(port)).expect("port");
    parsed.to_string()
}

/// Runs `git` in `dir` as a test user (default branch `main`); its trimmed standard output. A
/// failing command fails the test with git's message.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
