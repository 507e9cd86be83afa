//! Faults survived on purpose, with a real `optimus` process (not an instance inside the test):
//! killed with SIGKILL in the middle of work and started again on the same data, or stopped with
//! SIGTERM while requests are in flight. Runs on PostgreSQL + Redis or SQLite, like the rest.

use crate::helpers::{fresh_database, redis_url, ServiceGuard, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An `optimus serve` child, killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
    /// Every line it has logged so far.
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Server {
    /// Sends SIGTERM (a stop as a service manager or container engine asks for it).
    pub(crate) fn sigterm(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -TERM {pid}");
    }

    /// Waits for the process to end, failing after `within`.
    pub(crate) async fn exited(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                return exit;
            }
            assert!(Instant::now() < deadline, "still running after {within:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Starts `optimus serve` on `data` and `database` with `extra` settings, on a port of its own
/// choosing (read from its log, so no two tests can race for one), and waits for `/healthz`.
pub(crate) async fn serve(
    data: &Path,
    database: &str,
    port_block: u16,
    extra: &[(&str, String)],
) -> Server {
    use std::io::BufRead;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_optimus"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OPTIMUS_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("serve")
        .env("OPTIMUS_DATA_DIR", data)
        .env("OPTIMUS_BIND", "127.0.0.1:0")
        .env("OPTIMUS_DATABASE_URL", database)
        .env("OPTIMUS_SHIM_PATH", env!("CARGO_BIN_EXE_optimus-shim"))
        .env("OPTIMUS_PORT_RANGE_START", port_block.to_string())
        .env("OPTIMUS_PORT_RANGE_END", (port_block + 49).to_string())
        .env("OPTIMUS_LOG", "warn,server::cli=info")
        .env("OPTIMUS_LOG_FORMAT", "json")
        // No self-backup beside what a test times (the backups tests run it).
        .env("OPTIMUS_SELF_BACKUP_CRON", "")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    if let Some(url) = redis_url() {
        let prefix = format!("optimus_test_{}", uuid::Uuid::new_v4().simple());
        cmd.env("OPTIMUS_REDIS_URL", url)
            .env("OPTIMUS_REDIS_PREFIX", prefix);
    }
    let mut server = Server {
        child: cmd.spawn().expect("spawn optimus"),
        addr: String::new(),
        log: Arc::default(),
    };
    let child = &mut server.child;
    let (tx, rx) = std::sync::mpsc::channel();
    for out in [
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let (tx, log) = (tx.clone(), server.log.clone());
        // Reads the log to its end, so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(mut log) = log.lock() {
                    log.push(line.clone());
                }
                let port = serde_json::from_str::<Value>(&line)
                    .ok()
                    .and_then(|v| v["port"].as_u64());
                if let Some(port) = port {
                    let _ = tx.send(port);
                }
                if line.contains("\"WARN\"") || line.contains("\"ERROR\"") {
                    crate::helpers::observed("optimus serve", &line);
                }
            }
        });
    }
    let port = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
        .await
        .expect("join")
        .expect("optimus logged the port it listens on");
    server.addr = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let up = reqwest::get(format!("{}/healthz", server.addr))
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "optimus serve never answered /healthz"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn post(
    addr: &str,
    path: &str,
    body: Value,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{addr}/api/v1/{path}"))
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn ok(addr: &str, path: &str, body: Value, token: &str) -> Value {
    let (status, body) = post(addr, path, body, Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// The services of `project` as the API lists them, sorted by name, each turned into a row by
/// `row` from (name, service).
async fn service_rows<T>(
    addr: &str,
    token: &str,
    project: i64,
    row: impl Fn(String, &Value) -> T,
) -> Vec<T> {
    let list = ok(
        addr,
        "services/list",
        json!({ "project_id": project }),
        token,
    )
    .await;
    let mut named: Vec<(String, &Value)> = list
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            let name = s["definition"]["name"].as_str().unwrap_or_default();
            (name.to_owned(), s)
        })
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named.into_iter().map(|(name, s)| row(name, s)).collect()
}

/// The services of `project` by name: (name, state, run id, pid).
async fn services(
    addr: &str,
    token: &str,
    project: i64,
) -> Vec<(String, String, i64, Option<i64>)> {
    service_rows(addr, token, project, |name, s| {
        let state = s["state"].as_str().unwrap_or_default().to_owned();
        let run = &s["last_run"];
        (
            name,
            state,
            run["id"].as_i64().unwrap_or_default(),
            run["pid"].as_i64(),
        )
    })
    .await
}

/// How many log lines the service has so far.
async fn log_lines(addr: &str, token: &str, service: i64) -> usize {
    let body = json!({"service_ids": [service], "regex": false, "limit": 5000});
    let lines = ok(addr, "services/logs", body, token).await;
    lines.as_array().map(Vec::len).unwrap_or_default()
}

/// The workspace once its scan is no longer running (failing after `within`).
pub(crate) async fn scan_ended(addr: &str, token: &str, workspace: i64, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let ws = ok(addr, "workspaces/get", json!({ "id": workspace }), token).await;
        if ws["scan_state"] != "running" {
            return ws;
        }
        assert!(Instant::now() < deadline, "the scan never ended: {ws}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates the owner on a fresh server and returns their access token.
pub(crate) async fn setup_owner(addr: &str) -> String {
    let body = json!({"username": "owner", "password": PASSWORD});
    let (status, setup) = post(addr, "auth/setup", body, None).await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    setup["token"].as_str().expect("token").to_owned()
}

/// A session of the owner made by [`setup_owner`] (on a restarted instance, say).
pub(crate) async fn login(addr: &str) -> String {
    let body = json!({"username": "owner", "password": PASSWORD});
    let (status, session) = post(addr, "auth/login", body, None).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    session["token"].as_str().expect("token").to_owned()
}

/// A project folder with `services` (name, command) defined: the folder, the project id and the
/// service ids in order.
pub(crate) async fn project_with(
    addr: &str,
    token: &str,
    services: &[(&str, &str)],
) -> (tempfile::TempDir, i64, Vec<i64>) {
    let dir = tempfile::tempdir().expect("project");
    std::fs::write(dir.path().join("Makefile"), "run:\n\ttrue\n").expect("write");
    let body = json!({"path": dir.path()});
    let project = ok(addr, "projects/create", body, token).await["id"]
        .as_i64()
        .expect("project id");
    let mut ids = Vec::new();
    for (name, command) in services {
        let body = json!({"project_id": project, "definition": {"name": name, "command": command}});
        ids.push(
            ok(addr, "services/create", body, token).await["id"]
                .as_i64()
                .expect("service id"),
        );
    }
    (dir, project, ids)
}

/// A block of 50 service ports for this test process, from `base` on.
pub(crate) fn port_block(base: u16, blocks: u32) -> u16 {
    base + u16::try_from(std::process::id() % blocks).unwrap_or(0) * 50
}

/// SIGKILL while three services run and a scan is under way; a new process on the same data
/// adopts the services (same pids, no second copy, logs go on), marks the scan interrupted and
/// lets it run again, and has every write it acknowledged.
#[tokio::test]
async fn a_killed_optimus_readopts_its_services_and_marks_the_interrupted_scan() {
    let data = tempfile::tempdir().expect("data");
    let database = fresh_database(data.path()).await;
    let _services = ServiceGuard::for_data_dir(data.path());
    let block = port_block(21000, 150);
    let first = serve(data.path(), &database, block, &[]).await;
    let token = setup_owner(&first.addr).await;
    let (_project_dir, project, ids) = project_with(
        &first.addr,
        &token,
        &[
            ("one", "exec sleep 300"),
            ("two", "exec sleep 300"),
            ("tick", "while :; do echo tick; sleep 0.1; done"),
        ],
    )
    .await;
    let ticker = ids[2];
    ok(
        &first.addr,
        "services/start_project",
        json!({ "project_id": project }),
        &token,
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let before = loop {
        let s = services(&first.addr, &token, project).await;
        if s.iter()
            .all(|(_, state, _, pid)| state == "ready" && pid.is_some())
        {
            break s;
        }
        assert!(Instant::now() < deadline, "not all running: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // An acknowledged write just before the kill.
    ok(
        &first.addr,
        "projects/update",
        json!({"id": project, "tags": ["survives-kill"]}),
        &token,
    )
    .await;
    // A scan that is still running when the process dies.
    let tree = tempfile::tempdir().expect("tree");
    for i in 0..400 {
        let dir = tree.path().join(format!("p{i}"));
        std::fs::create_dir_all(dir.join("src/a/b/c")).expect("mkdir");
        std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").expect("write");
    }
    let ws = ok(
        &first.addr,
        "workspaces/add",
        json!({"path": tree.path()}),
        &token,
    )
    .await;
    let ws_id = ws["id"].as_i64().expect("workspace id");
    let state = ok(
        &first.addr,
        "workspaces/get",
        json!({ "id": ws_id }),
        &token,
    )
    .await;
    let scanning = state["scan_state"] == "running";
    let mut first = first;
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reap");

    let restarted = Instant::now();
    let second = serve(data.path(), &database, block, &[]).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let after = loop {
        let s = services(&second.addr, &token, project).await;
        if s.iter().all(|(_, state, _, _)| state == "ready") || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        after, before,
        "the same runs and processes, adopted, in the same state"
    );
    crate::helpers::observed(
        "a_killed_optimus_readopts_its_services_and_marks_the_interrupted_scan",
        &format!(
            "3 services adopted {} ms after the new process was started (scan running at the kill: {scanning})",
            restarted.elapsed().as_millis()
        ),
    );
    let runs = ok(
        &second.addr,
        "services/runs",
        json!({ "id": ticker }),
        &token,
    )
    .await;
    assert_eq!(
        runs.as_array().map(Vec::len),
        Some(1),
        "no second run was started: {runs}"
    );
    let lines = log_lines(&second.addr, &token, ticker).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while log_lines(&second.addr, &token, ticker).await <= lines + 3 {
        assert!(
            Instant::now() < deadline,
            "the log stopped at {lines} lines"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let p = ok(
        &second.addr,
        "projects/get",
        json!({ "id": project }),
        &token,
    )
    .await;
    assert_eq!(
        p["tags"],
        json!(["survives-kill"]),
        "an acknowledged write was lost"
    );
    let ws = ok(
        &second.addr,
        "workspaces/get",
        json!({ "id": ws_id }),
        &token,
    )
    .await;
    if scanning {
        assert_eq!(ws["scan_state"], "failed", "{ws}");
        assert!(
            ws["scan_error"]
                .as_str()
                .unwrap_or_default()
                .contains("interrupted"),
            "{ws}"
        );
    } else {
        crate::helpers::skipped(
            "a_killed_optimus_readopts_its_services_and_marks_the_interrupted_scan",
            "the scan ended before the kill; its interruption was not observed",
        );
    }
    ok(
        &second.addr,
        "workspaces/scan",
        json!({ "id": ws_id }),
        &token,
    )
    .await;
    let ws = scan_ended(&second.addr, &token, ws_id, Duration::from_secs(60)).await;
    assert_ne!(ws["scan_state"], "failed", "the rerun failed: {ws}");
    ok(
        &second.addr,
        "services/stop_project",
        json!({ "project_id": project }),
        &token,
    )
    .await;
}

/// SIGTERM with a request in flight and services running: the request completes, the services
/// keep running (they are the user's), and the process exits 0.
#[tokio::test]
async fn sigterm_finishes_requests_in_flight_leaves_services_running_and_exits_0() {
    let data = tempfile::tempdir().expect("data");
    let database = fresh_database(data.path()).await;
    let _services = ServiceGuard::for_data_dir(data.path());
    let block = port_block(28500, 20);
    // A model on loopback that takes its time: a deliberation is a request really in flight.
    let model = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let model_port = model.local_addr().expect("addr").port();
    let slow_model = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let position = json!({"option": "defer", "confidence": 0.7,
                "rationale": "Wait [E1].", "concerns": [], "conditions": [], "evidence": ["E1"]});
            axum::Json(json!({
                "choices": [{"index": 0, "message": {"role": "assistant",
                                                     "content": position.to_string()}}],
                "usage": {"total_tokens": 50}
            }))
        }),
    );
    tokio::spawn(async move { axum::serve(model, slow_model).await });
    let settings = [
        (
            "OPTIMUS_LLM_BASE_URL",
            format!("http://127.0.0.1:{model_port}/v1"),
        ),
        ("OPTIMUS_LLM_MODEL", "slow-model".to_owned()),
        ("OPTIMUS_LLM_TIMEOUT_MS", "10000".to_owned()),
    ];
    let mut server = serve(data.path(), &database, block, &settings).await;
    let token = setup_owner(&server.addr).await;
    let (_project_dir, _, ids) =
        project_with(&server.addr, &token, &[("keep", "exec sleep 300")]).await;
    let service = ids[0];
    ok(
        &server.addr,
        "services/start",
        json!({ "id": service }),
        &token,
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        let s = ok(
            &server.addr,
            "services/get",
            json!({ "id": service }),
            &token,
        )
        .await;
        if let Some(pid) = s["last_run"]["pid"]
            .as_i64()
            .filter(|_| s["state"] == "ready")
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "never running: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // A request in flight: the council waits on the slow model.
    let addr = server.addr.clone();
    let slow = tokio::spawn(async move {
        post(
            &addr,
            "council/deliberate",
            json!({"question": "Should we ship the release on Friday?"}),
            Some(&token),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!slow.is_finished(), "the deliberation was not in flight");
    server.sigterm();
    let signalled = Instant::now();
    let (code, body) = slow.await.expect("the request task");
    let answered = signalled.elapsed();
    assert_eq!(
        code,
        StatusCode::OK,
        "the request in flight completed: {body}"
    );
    assert_eq!(
        body["engine"], "llm",
        "answered by the model, not cut short: {body}"
    );
    let exit = server.exited(Duration::from_secs(20)).await;
    assert_eq!(exit.code(), Some(0), "exit status after SIGTERM");
    crate::helpers::observed(
        "sigterm_finishes_requests_in_flight_leaves_services_running_and_exits_0",
        &format!(
            "the request in flight answered {} ms after SIGTERM, exit 0 after {} ms",
            answered.as_millis(),
            signalled.elapsed().as_millis()
        ),
    );
    let alive = Path::new(&format!("/proc/{pid}")).exists();
    assert!(alive, "the user's service {pid} was stopped with Optimus");
}

/// The instance id an `optimus serve` child gives in `/readyz`.
pub(crate) async fn instance_id(server: &Server) -> String {
    let body: Value = reqwest::get(format!("{}/readyz", server.addr))
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    body["instance"].as_str().expect("instance").to_owned()
}

/// The services of `project` by name: (name, state, pid, owning instance of the last run).
async fn owned(
    addr: &str,
    token: &str,
    project: i64,
) -> Vec<(String, String, Option<i64>, Option<String>)> {
    service_rows(addr, token, project, |name, s| {
        let state = s["state"].as_str().unwrap_or_default().to_owned();
        let run = &s["last_run"];
        (
            name,
            state,
            run["pid"].as_i64(),
            run["owner"].as_str().map(str::to_owned),
        )
    })
    .await
}

/// The services an instance logged as re-adopted, by id.
fn adopted_by(server: &Server) -> Vec<i64> {
    let log = server.log.lock().expect("log");
    log.iter()
        .filter(|l| l.contains("re-adopted a running service"))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            v["fields"]["service.id"]
                .as_i64()
                .or(v["service.id"].as_i64())
        })
        .collect()
}

/// The services `servers` logged as re-adopted (sorted), once they have logged `expected` of
/// them (their log arrives through a pipe) or after 5 s; a later extra one is caught by the
/// next assertion on the instances' state, not here.
async fn adopted_services(servers: &[&Server], expected: usize) -> Vec<i64> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut all: Vec<i64> = servers.iter().flat_map(|s| adopted_by(s)).collect();
        if all.len() >= expected || Instant::now() > deadline {
            all.sort_unstable();
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Several instances on one PostgreSQL, on one host: a second instance leaves alone the
/// services the first still supervises, takes them over once it is killed, and of two instances
/// started together, each service is adopted by exactly one.
#[tokio::test]
async fn instances_sharing_a_database_adopt_only_services_whose_owner_is_gone_and_never_both() {
    let test =
        "instances_sharing_a_database_adopt_only_services_whose_owner_is_gone_and_never_both";
    if std::env::var("OPTIMUS_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .is_none()
    {
        crate::helpers::skipped(
            test,
            "several instances share PostgreSQL; SQLite is the file of one instance",
        );
        return;
    }
    let data = tempfile::tempdir().expect("data");
    let database = fresh_database(data.path()).await;
    let _services = ServiceGuard::for_data_dir(data.path());
    let block = port_block(30500, 20);
    let adoptions = [(
        "OPTIMUS_LOG",
        "warn,server::cli=info,app::server::runtime::supervisor::adopt=info".to_owned(),
    )];
    let a = serve(data.path(), &database, block, &adoptions).await;
    let token = setup_owner(&a.addr).await;
    let (_project_dir, project, ids) = project_with(
        &a.addr,
        &token,
        &[
            ("one", "exec sleep 300"),
            ("two", "exec sleep 300"),
            ("three", "exec sleep 300"),
        ],
    )
    .await;
    ok(
        &a.addr,
        "services/start_project",
        json!({ "project_id": project }),
        &token,
    )
    .await;
    let a_id = instance_id(&a).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let pids = loop {
        let s = owned(&a.addr, &token, project).await;
        if s.iter()
            .all(|(_, state, pid, _)| state == "ready" && pid.is_some())
        {
            break s.into_iter().map(|(_, _, pid, _)| pid).collect::<Vec<_>>();
        }
        assert!(Instant::now() < deadline, "not all running: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // B starts while A runs: A's services stay A's, through B's start and a take-over round.
    let mut a = a;
    let b = serve(data.path(), &database, block, &adoptions).await;
    let b_id = instance_id(&b).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let seen = owned(&b.addr, &token, project).await;
    assert!(
        seen.iter()
            .all(|(_, _, _, owner)| owner.as_deref() == Some(a_id.as_str())),
        "A still owns its runs: {seen:?}"
    );
    assert!(adopted_by(&b).is_empty(), "B adopted nothing of A's");
    let (status, body) = post(
        &b.addr,
        "services/stop",
        json!({ "id": ids[0] }),
        Some(&token),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "B does not stop A's service: {body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("another Optimus instance"),
        "{body}"
    );

    // A is killed: B takes its services over (same processes, no second run).
    a.child.kill().expect("SIGKILL");
    a.child.wait().expect("reap");
    let killed = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = owned(&b.addr, &token, project).await;
        // Adopted runs pass through `starting` while their watch begins.
        let taken = |(_, state, _, owner): &(String, String, Option<i64>, Option<String>)| {
            owner.as_deref() == Some(b_id.as_str()) && state == "ready"
        };
        if s.iter().all(taken) {
            let now: Vec<_> = s.iter().map(|(_, _, pid, _)| *pid).collect();
            assert_eq!(now, pids, "the same processes");
            break;
        }
        assert!(Instant::now() < deadline, "B never took over: {s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took_over = killed.elapsed();
    let taken = adopted_services(&[&b], ids.len()).await;
    assert_eq!(taken, ids, "B adopted each service once");

    // B is killed too; C and D start together: each service is adopted by exactly one of them.
    let mut b = b;
    b.child.kill().expect("SIGKILL");
    b.child.wait().expect("reap");
    let (c, d) = tokio::join!(
        serve(data.path(), &database, block, &adoptions),
        serve(data.path(), &database, block, &adoptions)
    );
    let (c_id, d_id) = (instance_id(&c).await, instance_id(&d).await);
    let deadline = Instant::now() + Duration::from_secs(20);
    let owners = loop {
        let s = owned(&c.addr, &token, project).await;
        let mine = |o: &Option<String>| {
            o.as_deref() == Some(c_id.as_str()) || o.as_deref() == Some(d_id.as_str())
        };
        if s.iter().all(|(_, _, _, owner)| mine(owner)) {
            break s;
        }
        assert!(Instant::now() < deadline, "C and D never took over: {s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let both = adopted_services(&[&c, &d], ids.len()).await;
    assert_eq!(
        both, ids,
        "each service adopted once, by one of the two: {owners:?}"
    );
    for id in &ids {
        let runs = ok(&c.addr, "services/runs", json!({ "id": id }), &token).await;
        assert_eq!(
            runs.as_array().map(Vec::len),
            Some(1),
            "no second run: {runs}"
        );
    }
    crate::helpers::observed(
        test,
        &format!(
            "B left A's 3 services alone while A ran (stop through B: 409); took them over {} ms \
             after A was killed; C and D started together adopted {} and {} of them",
            took_over.as_millis(),
            adopted_by(&c).len(),
            adopted_by(&d).len()
        ),
    );
}
