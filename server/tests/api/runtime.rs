//! The runtime against real processes: small scripts the tests write (a web server that becomes
//! ready after a delay and forks helpers, one that crashes, one that ignores SIGTERM, one that
//! prints progress to both streams), started, probed, restarted, stopped and re-adopted.

use crate::helpers::{spawn_app, spawn_sharing, TestApp};
use app::server::runtime::proc;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A project folder holding `files`, cataloged; returns (folder, project id).
pub(crate) async fn project(
    app: &TestApp,
    token: &str,
    files: &[(&str, &str)],
) -> (tempfile::TempDir, i64) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Makefile"), "run:\n\ttrue\n").expect("write");
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).expect("write");
    }
    let r = app
        .post_anon("projects/create", json!({"path": dir.path()}), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    (dir, r.body["id"].as_i64().expect("id"))
}

pub(crate) async fn create(app: &TestApp, token: &str, project_id: i64, definition: Value) -> i64 {
    let r = app
        .post_anon(
            "services/create",
            json!({"project_id": project_id, "definition": definition}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["id"].as_i64().expect("id")
}

pub(crate) async fn get(app: &TestApp, token: &str, id: i64) -> Value {
    app.post_anon("services/get", json!({"id": id}), Some(token))
        .await
        .body
}

/// Polls until the service's state is `want` (or fails after `within`).
pub(crate) async fn wait_state(
    app: &TestApp,
    token: &str,
    id: i64,
    want: &str,
    within: Duration,
) -> Value {
    let until = Instant::now() + within;
    loop {
        let s = get(app, token, id).await;
        if s["state"] == want {
            return s;
        }
        assert!(Instant::now() < until, "never reached {want}: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An HTTP server that listens only after 1.5 s, answers `/health` with `ok`, and starts two
/// helpers: one in its process group and one that leaves it with `setsid`.
const WEB: &str = r#"
import http.server, os, subprocess, sys, time
subprocess.Popen(["sleep", "300"])
subprocess.Popen(["setsid", "sleep", "301"])
print("booting", flush=True)
time.sleep(1.5)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H)
print("listening on", os.environ["PORT"], flush=True)
s.serve_forever()
"#;

fn tree_of(run: &Value) -> Vec<u32> {
    let pid = u32::try_from(run["pid"].as_u64().expect("pid")).expect("pid");
    let mut all = proc::group_members(pid);
    all.push(pid);
    all
}

fn sleepers() -> Vec<u32> {
    // The helpers' `sleep 300`/`sleep 301` below any shim of this test process tree.
    procfs::process::all_processes()
        .map(|all| {
            all.flatten()
                .filter(|p| {
                    p.cmdline()
                        .is_ok_and(|c| c == ["sleep", "300"] || c == ["sleep", "301"])
                })
                .map(|p| u32::try_from(p.pid).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_web_service_is_ready_only_after_its_probe_passes_and_stop_ends_its_whole_tree() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[("web.py", WEB)]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({
            "name": "web",
            "command": "exec python3 web.py",
            "allocate_port": true,
            "probes": {"readiness": {"check": {"kind": "http", "path": "/health", "body": "ok"}, "interval_ms": 100}},
            "grace_ms": 3000
        }),
    )
    .await;
    let before = sleepers();
    let r = app
        .post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let early = get(&app, &owner, id).await;
    assert_eq!(
        early["state"], "starting",
        "not ready before the probe passes: {early}"
    );
    let ready = wait_state(&app, &owner, id, "ready", Duration::from_secs(15)).await;
    assert!(started.elapsed() >= Duration::from_millis(1400));
    let port = ready["port"].as_u64().expect("allocated port");
    assert!((20000..=29999).contains(&port), "{port} from the range");
    let body = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .expect("the service answers")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "ok");
    let run = ready["last_run"].clone();
    assert_eq!(run["port"], port);
    let tree = tree_of(&run);
    let helpers: Vec<u32> = sleepers()
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    assert_eq!(helpers.len(), 2, "both helpers run");

    // The port registry lists it.
    let ports = app.post_anon("ports/list", json!({}), Some(&owner)).await;
    assert!(ports
        .body
        .as_array()
        .expect("ports")
        .iter()
        .any(|p| p["port"] == port && p["live"] == true));

    let stopping = Instant::now();
    let r = app
        .post_anon("services/stop", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state"], "stopped");
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "python exits on SIGTERM at once"
    );
    for p in tree.iter().chain(&helpers) {
        assert!(
            proc::start_time(*p).is_none(),
            "process {p} survived the stop"
        );
    }
    let runs = app
        .post_anon("services/runs", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(runs.body[0]["reason"], "stopped by a user");
    assert!(runs.body[0]["ended_at"].is_string());
}

#[tokio::test]
async fn a_crashing_service_is_restarted_with_backoff_then_left_in_crash_loop() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({
            "name": "crashy",
            "command": "echo boom >&2; exit 3",
            "restart": {"mode": "on-failure", "max_retries": 2, "backoff_ms": 200, "max_backoff_ms": 1000}
        }),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    let s = wait_state(&app, &owner, id, "crash_loop", Duration::from_secs(15)).await;
    assert!(
        s["message"]
            .as_str()
            .is_some_and(|m| m.contains("exited with status 3")),
        "{s}"
    );
    assert_eq!(s["restarts"], 2);
    let runs = app
        .post_anon("services/runs", json!({"id": id}), Some(&owner))
        .await
        .body;
    let runs = runs.as_array().expect("runs");
    assert_eq!(runs.len(), 3, "the first run and two restarts");
    let at = |i: usize| {
        chrono::DateTime::parse_from_rfc3339(runs[i]["started_at"].as_str().expect("t"))
            .expect("time")
    };
    // Newest first: gaps grow (200 ms, then 400 ms).
    let first_gap = at(1) - at(2);
    let second_gap = at(0) - at(1);
    assert!(first_gap.num_milliseconds() >= 200, "{first_gap}");
    assert!(second_gap.num_milliseconds() >= 400, "{second_gap}");
    assert!(runs.iter().all(|r| r["exit_code"] == 3));

    let logs = app
        .post_anon(
            "services/logs",
            json!({"service_ids": [id], "stream": "stderr"}),
            Some(&owner),
        )
        .await
        .body;
    assert_eq!(
        logs.as_array().map(Vec::len),
        Some(3),
        "one line per run: {logs}"
    );

    // The project's timeline tells the story.
    let activity = app
        .post_anon("projects/activity", json!({"id": pid}), Some(&owner))
        .await
        .body;
    let kinds: Vec<&str> = activity["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds.first(), Some(&"crash_loop"), "{activity}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "started").count(),
        3,
        "{activity}"
    );
}

#[tokio::test]
async fn a_process_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({
            "name": "stubborn",
            "command": "trap '' TERM; echo up; while true; do sleep 0.1; done",
            "probes": {"readiness": {"check": {"kind": "log_line", "pattern": "^up$"}, "interval_ms": 50}},
            "grace_ms": 700
        }),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    let ready = wait_state(&app, &owner, id, "ready", Duration::from_secs(10)).await;
    let tree = tree_of(&ready["last_run"]);
    let t = Instant::now();
    let r = app
        .post_anon("services/stop", json!({"id": id}), Some(&owner))
        .await;
    let took = t.elapsed();
    assert_eq!(r.body["state"], "stopped", "{}", r.body);
    assert!(
        took >= Duration::from_millis(650),
        "waited the grace period: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "then killed: {took:?}");
    assert_eq!(r.body["last_run"]["signal"], 9, "{}", r.body);
    for p in tree {
        assert!(proc::start_time(p).is_none(), "process {p} survived");
    }
}

#[tokio::test]
async fn a_taken_port_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let busy = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
    let port = busy.local_addr().expect("addr").port();
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "web", "command": "sleep 30", "port": port}),
    )
    .await;
    let r = app
        .post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("port {port} is already in use"))),
        "{}",
        r.body
    );
    assert_eq!(
        get(&app, &owner, id).await["state"],
        "stopped",
        "nothing started"
    );
    drop(busy);

    // Two services of Optimus on one port: the second is refused while the first runs.
    let a = create(
        &app,
        &owner,
        pid,
        json!({"name": "a", "command": "sleep 30", "port": port}),
    )
    .await;
    let b = create(
        &app,
        &owner,
        pid,
        json!({"name": "b", "command": "sleep 30", "port": port}),
    )
    .await;
    let r = app
        .post_anon("services/start", json!({"id": a}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post_anon("services/start", json!({"id": b}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("held by running service `a`")),
        "{}",
        r.body
    );
    let again = app
        .post_anon("services/start", json!({"id": a}), Some(&owner))
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "no duplicate start: {}",
        again.body
    );
    app.post_anon("services/stop", json!({"id": a}), Some(&owner))
        .await;
}

#[tokio::test]
async fn output_is_captured_per_stream_with_progress_collapsed_and_searchable() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({
            "name": "printer",
            "command": "echo hello; printf '10%%\\r50%%\\r100%%\\n'; echo 'warning: disk' >&2; printf '\\033[31mred\\033[0m\\n'",
            "restart": {"mode": "never"}
        }),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    let s = wait_state(&app, &owner, id, "exited", Duration::from_secs(10)).await;
    assert_eq!(s["last_run"]["exit_code"], 0);
    let all = app
        .post_anon("services/logs", json!({"service_ids": [id]}), Some(&owner))
        .await
        .body;
    let texts: Vec<&str> = all
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(texts.contains(&"hello"));
    assert!(texts.contains(&"100%"), "progress collapsed: {texts:?}");
    assert!(
        texts.contains(&"\u{1b}[31mred\u{1b}[0m"),
        "colours kept for the viewer: {texts:?}"
    );
    let err = app
        .post_anon(
            "services/logs",
            json!({"service_ids": [id], "stream": "stderr"}),
            Some(&owner),
        )
        .await
        .body;
    assert_eq!(err[0]["text"], "warning: disk");
    assert_eq!(err.as_array().map(Vec::len), Some(1));
    let found = app
        .post_anon(
            "services/logs",
            json!({"service_ids": [id], "search": "^h.llo$", "regex": true}),
            Some(&owner),
        )
        .await
        .body;
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    let bad = app
        .post_anon(
            "services/logs",
            json!({"service_ids": [id], "search": "(", "regex": true}),
            Some(&owner),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.field(), Some("search"));
}

#[tokio::test]
async fn dependencies_start_first_and_a_dependent_waits_until_they_are_ready() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let db = create(
        &app,
        &owner,
        pid,
        json!({
            "name": "db",
            "command": "sleep 1; echo 'ready to accept connections'; exec sleep 60",
            "probes": {"readiness": {"check": {"kind": "log_line", "pattern": "ready to accept"}, "interval_ms": 50}}
        }),
    )
    .await;
    let web = create(
        &app,
        &owner,
        pid,
        json!({"name": "web", "command": "exec sleep 60", "depends_on": ["db"]}),
    )
    .await;
    let r = app
        .post_anon(
            "services/start_project",
            json!({"project_id": pid}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let w = get(&app, &owner, web).await;
    assert_eq!(w["state"], "waiting", "{w}");
    assert_eq!(w["message"], "waiting for db");
    let d = wait_state(&app, &owner, db, "ready", Duration::from_secs(10)).await;
    let w = wait_state(&app, &owner, web, "ready", Duration::from_secs(10)).await;
    assert!(w["last_run"]["started_at"].as_str() >= d["last_run"]["ready_at"].as_str());

    // A cycle is refused.
    let r = app
        .post_anon(
            "services/update",
            json!({"id": db, "definition": {"name": "db", "command": "true", "depends_on": ["web"]}}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.field(), Some("depends_on"));

    let r = app
        .post_anon(
            "services/stop_project",
            json!({"project_id": pid}),
            Some(&owner),
        )
        .await;
    assert!(
        r.body
            .as_array()
            .expect("list")
            .iter()
            .all(|s| s["state"] == "stopped"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn after_optimus_restarts_a_running_service_is_adopted_not_duplicated() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "ticker", "command": "while true; do echo tick; sleep 0.2; done"}),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    let first = wait_state(&app, &owner, id, "ready", Duration::from_secs(10)).await;
    let pid_before = first["last_run"]["pid"].clone();

    // The supervisor goes away; the service keeps running.
    app.state.runtime.detach_all();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let main = u32::try_from(pid_before.as_u64().expect("pid")).expect("pid");
    assert!(
        proc::start_time(main).is_some(),
        "still running while nobody supervises"
    );

    let again = spawn_sharing(app.settings.clone()).await;
    let adopted = wait_state(&again, &owner, id, "ready", Duration::from_secs(10)).await;
    assert_eq!(
        adopted["last_run"]["pid"], pid_before,
        "the same process, re-adopted"
    );
    assert!(again.state.runtime.is_supervising(id));
    let r = again
        .post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no duplicate: {}", r.body);
    let runs = again
        .post_anon("services/runs", json!({"id": id}), Some(&owner))
        .await
        .body;
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "no second run");

    let r = again
        .post_anon("services/stop", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.body["state"], "stopped", "{}", r.body);
    assert!(
        proc::start_time(main).is_none(),
        "the adopted process was stopped"
    );
    let logs = again
        .post_anon("services/logs", json!({"service_ids": [id]}), Some(&owner))
        .await
        .body;
    assert!(
        logs.as_array().is_some_and(|l| l.len() >= 3),
        "output kept across the restart"
    );
}

#[tokio::test]
async fn a_viewer_sees_services_but_cannot_start_or_define_them() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "svc", "command": "sleep 1"}),
    )
    .await;
    let list = app
        .post_anon("services/list", json!({"project_id": pid}), Some(&viewer))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body[0]["id"], id);
    let r = app
        .post_anon("services/start", json!({"id": id}), Some(&viewer))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post_anon(
            "services/create",
            json!({"project_id": pid, "definition": {"name": "x", "command": "true"}}),
            Some(&viewer),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let bad = app
        .post_anon(
            "services/create",
            json!({"project_id": pid, "definition": {"name": "x", "command": "true", "cwd": "/etc"}}),
            Some(&owner),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.field(), Some("cwd"));
}

#[tokio::test]
async fn secrets_are_encrypted_masked_and_redacted_from_logs_and_changes_wait_for_a_restart() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let operator = app.user_with_role(&owner, "otto", "operator").await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let dotenv = "GREETING=hello\nAPI_TOKEN=tok-9f8e7d6c5b4a\n# a comment\nQUOTED=\"two words\"\n";
    let (dir, pid) = project(&app, &owner, &[(".env", dotenv)]).await;
    let r = app
        .post_anon(
            "environments/create",
            json!({"project_id": pid, "name": "development"}),
            Some(&operator),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body[0]["active"], true, "the first environment is active");
    let env_id = r.body[0]["id"].as_i64().expect("id");

    // Import the project's .env: the file stays as it was; credential-like names become secret.
    let imported = app
        .post_anon(
            "environments/import_dotenv",
            json!({"environment_id": env_id}),
            Some(&operator),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(imported.body["added"], 3);
    assert_eq!(imported.body["secret"], json!(["API_TOKEN"]));
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".env")).expect("read"),
        dotenv
    );

    // Masked for an operator and a viewer; revealed only for an admin who asks.
    let masked = app
        .post_anon(
            "environments/list",
            json!({"project_id": pid}),
            Some(&operator),
        )
        .await
        .body;
    let var = |list: &Value, key: &str| {
        list[0]["vars"]
            .as_array()
            .and_then(|v| v.iter().find(|x| x["key"] == key).cloned())
            .unwrap_or(Value::Null)
    };
    assert_eq!(var(&masked, "API_TOKEN")["value"], Value::Null);
    assert_eq!(var(&masked, "QUOTED")["value"], "two words");
    for token in [&operator, &viewer] {
        let r = app
            .post_anon(
                "environments/list",
                json!({"project_id": pid, "reveal": true}),
                Some(token),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let revealed = app
        .post_anon(
            "environments/list",
            json!({"project_id": pid, "reveal": true}),
            Some(&owner),
        )
        .await
        .body;
    assert_eq!(var(&revealed, "API_TOKEN")["value"], "tok-9f8e7d6c5b4a");
    let export = app
        .post_anon(
            "environments/export_dotenv",
            json!({"id": env_id}),
            Some(&operator),
        )
        .await
        .body;
    assert_eq!(export["secrets_withheld"], true);
    assert!(!export["content"]
        .as_str()
        .unwrap_or_default()
        .contains("tok-9f8e7d6c5b4a"));

    // Encrypted at rest.
    use sea_orm::{ConnectionTrait, Statement};
    let rows = app
        .state
        .db
        .query_all(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT value FROM env_vars".to_owned(),
        ))
        .await
        .expect("query");
    let stored: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String>("", "value").ok())
        .collect();
    assert!(
        stored.iter().all(|v| !v.contains("tok-9f8e7d6c5b4a")),
        "{stored:?}"
    );
    assert!(stored.iter().any(|v| v.starts_with("v1:")));

    // A service that echoes its secret: the log shows a mask, on disk too.
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "echo", "command": "echo \"token=$API_TOKEN greeting=$GREETING\"; exec sleep 60"}),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&operator))
        .await;
    wait_state(&app, &owner, id, "ready", Duration::from_secs(10)).await;
    let until = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let logs = app
            .post_anon("services/logs", json!({"service_ids": [id]}), Some(&viewer))
            .await
            .body;
        if let Some(l) = logs[0]["text"].as_str() {
            break l.to_owned();
        }
        assert!(Instant::now() < until, "no output");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(line, "token=•••••• greeting=hello");
    let on_disk = walk(&app.settings.data_dir.join("runs"));
    assert!(!on_disk.is_empty());
    assert!(
        on_disk.iter().all(|t| !t.contains("tok-9f8e7d6c5b4a")),
        "the secret reached a log file"
    );

    // Changing a variable does not touch the running process; it shows as pending.
    let r = app
        .post_anon(
            "environments/set_var",
            json!({"environment_id": env_id, "key": "GREETING", "value": "bonjour"}),
            Some(&operator),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get(&app, &owner, id).await["pending_changes"], true);
    let diff = app
        .post_anon("services/pending_changes", json!({"id": id}), Some(&viewer))
        .await
        .body;
    assert_eq!(
        diff,
        json!([{"what": "env GREETING", "before": "hello", "after": "bonjour"}])
    );
    let r = app
        .post_anon("services/restart", json!({"id": id}), Some(&operator))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    wait_state(&app, &owner, id, "ready", Duration::from_secs(10)).await;
    assert_eq!(get(&app, &owner, id).await["pending_changes"], false);
    app.post_anon("services/stop", json!({"id": id}), Some(&operator))
        .await;

    for (path, body, field) in [
        (
            "environments/set_var",
            json!({"environment_id": env_id, "key": "1BAD", "value": "x"}),
            "key",
        ),
        (
            "environments/import_dotenv",
            json!({"environment_id": env_id, "path": "../outside.env"}),
            "path",
        ),
        (
            "environments/create",
            json!({"project_id": pid, "name": "Prod Env"}),
            "name",
        ),
    ] {
        let r = app.post_anon(path, body, Some(&operator)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert_eq!(r.field(), Some(field), "{path}");
    }
    let r = app
        .post_anon(
            "environments/set_var",
            json!({"environment_id": env_id, "key": "X", "value": "y"}),
            Some(&viewer),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// The text of every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                out.push(t);
            }
        }
    }
    out
}

/// A parent that forks a child holding ~80 MB and burning CPU: the tree's totals must include it.
const HOG: &str = r#"
import os, time
if os.fork() == 0:
    block = bytearray(80 * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    end = time.time() + 600
    while time.time() < end:
        pass
else:
    print("parent waiting", flush=True)
    os.wait()
"#;

#[tokio::test]
async fn resources_of_the_whole_tree_are_sampled_stored_downsampled_and_exported() {
    let app = crate::helpers::spawn_app_with(|s| s.sample_interval_ms = 200).await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[("hog.py", HOG)]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "hog", "command": "exec python3 hog.py"}),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    wait_state(&app, &owner, id, "ready", Duration::from_secs(10)).await;
    let until = Instant::now() + Duration::from_secs(15);
    let last = loop {
        let samples = app
            .post_anon(
                "metrics/services",
                json!({"service_ids": [id], "range": "15m"}),
                Some(&owner),
            )
            .await;
        assert_eq!(samples.status, StatusCode::OK, "{}", samples.body);
        let last = samples
            .body
            .as_array()
            .and_then(|a| a.last().cloned())
            .unwrap_or(Value::Null);
        if last["rss_bytes"].as_u64().unwrap_or(0) > 80_000_000
            && last["cpu_percent"].as_f64().unwrap_or(0.0) > 30.0
        {
            break last;
        }
        assert!(
            Instant::now() < until,
            "never saw the child's memory and CPU: {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        last["threads"].as_u64().unwrap_or(0) >= 2,
        "two processes: {last}"
    );
    assert!(last["open_files"].as_u64().unwrap_or(0) >= 3);
    let host = app
        .post_anon("metrics/host", json!({"range": "15m"}), Some(&owner))
        .await
        .body;
    let h = host
        .as_array()
        .and_then(|a| a.last().cloned())
        .unwrap_or(Value::Null);
    assert!(
        h["memory_total_bytes"].as_u64().unwrap_or(0)
            > h["memory_used_bytes"].as_u64().unwrap_or(u64::MAX)
    );

    let metrics = app.get("/metrics").await.text().await.unwrap_or_default();
    let series = format!(
        "optimus_service_memory_resident_bytes{{project_id=\"{pid}\",service_id=\"{id}\"}}"
    );
    assert!(metrics.contains(&series), "{metrics}");

    app.post_anon("services/stop", json!({"id": id}), Some(&owner))
        .await;
    // Minute averages appear once their minute is over; raw samples go after an hour.
    use app::server::runtime::repo::samples;
    use app::server::runtime::sampler::{self, MINUTE, RAW};
    let raw = samples::count(&app.state.db, RAW).await.expect("count");
    assert!(raw >= 2, "{raw}");
    sampler::roll_up(
        &app.state,
        chrono::Utc::now() + chrono::TimeDelta::minutes(2),
    )
    .await
    .expect("roll up");
    let minutes = samples::count(&app.state.db, MINUTE).await.expect("count");
    assert!(
        (1..=2).contains(&minutes),
        "one row per minute, not per sample: {minutes}"
    );
    sampler::roll_up(
        &app.state,
        chrono::Utc::now() + chrono::TimeDelta::minutes(2),
    )
    .await
    .expect("again");
    assert_eq!(
        samples::count(&app.state.db, MINUTE).await.expect("count"),
        minutes,
        "idempotent"
    );
    sampler::roll_up(&app.state, chrono::Utc::now() + chrono::TimeDelta::hours(2))
        .await
        .expect("prune");
    assert_eq!(
        samples::count(&app.state.db, RAW).await.expect("count"),
        0,
        "raw kept an hour"
    );
    assert_eq!(
        samples::count(&app.state.db, MINUTE).await.expect("count"),
        minutes
    );
    let long = app
        .post_anon(
            "metrics/services",
            json!({"service_ids": [id], "range": "bogus"}),
            Some(&owner),
        )
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert_eq!(long.field(), Some("range"));
}

const DESCRIPTOR: &str = r#"
name = "shop"

[[services]]
name = "db"
command = "echo 'db accepting connections'; exec sleep 120"
readiness = { log = "accepting connections" }

[[services]]
name = "web"
command = "exec python3 web.py"
port = "auto"
env = { GREETING = "hi" }
depends_on = ["db"]
readiness = { http = "/health" }
liveness = { tcp = true }
"#;

/// The acceptance contract: `optimus.toml` services, `runtime/start|status|logs|stop`.
#[tokio::test]
async fn the_runtime_contract_starts_descriptor_services_with_an_allocated_port() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(
        &app,
        &owner,
        &[("optimus.toml", DESCRIPTOR), ("web.py", WEB)],
    )
    .await;
    let status = app
        .post_anon("runtime/status", json!({"project_id": pid}), Some(&owner))
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(
        status.body["services"],
        json!([
            {"name": "db", "state": "stopped", "pid": null, "port": null, "restarts": 0},
            {"name": "web", "state": "stopped", "pid": null, "port": null, "restarts": 0}
        ])
    );
    let r = app
        .post_anon("runtime/start", json!({"project_id": pid}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let until = Instant::now() + Duration::from_secs(20);
    let web = loop {
        let s = app
            .post_anon("runtime/status", json!({"project_id": pid}), Some(&owner))
            .await
            .body;
        let web = s["services"][1].clone();
        if s["services"][0]["state"] == "ready" && web["state"] == "ready" {
            break web;
        }
        assert!(Instant::now() < until, "not ready: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let port = web["port"].as_u64().expect("an allocated port");
    assert!(web["pid"].as_u64().is_some());
    let body = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .expect("$PORT reached the command")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "ok");
    let logs = app
        .post_anon(
            "runtime/logs",
            json!({"project_id": pid, "service": "web", "tail": 1}),
            Some(&owner),
        )
        .await;
    assert_eq!(logs.status, StatusCode::OK, "{}", logs.body);
    assert_eq!(logs.body["lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(logs.body["lines"][0]["stream"], "stdout");
    assert_eq!(
        logs.body["lines"][0]["text"],
        format!("listening on {port}")
    );
    assert!(logs.body["lines"][0]["ts"].is_string());
    let again = app
        .post_anon(
            "runtime/start",
            json!({"project_id": pid, "service": "web"}),
            Some(&owner),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "starting a running service changes nothing"
    );
    let stopped = app
        .post_anon("runtime/stop", json!({"project_id": pid}), Some(&owner))
        .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    assert!(
        stopped.body["services"]
            .as_array()
            .expect("services")
            .iter()
            .all(|s| s["state"] == "stopped" && s["pid"].is_null()),
        "{}",
        stopped.body
    );
    let missing = app
        .post_anon(
            "runtime/logs",
            json!({"project_id": pid, "service": "nope"}),
            Some(&owner),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_failing_liveness_probe_restarts_the_service() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({
            "name": "hangs",
            "command": "touch alive; echo up; exec sleep 60",
            "probes": {
                "readiness": {"check": {"kind": "log_line", "pattern": "^up$"}, "interval_ms": 50},
                "liveness": {"check": {"kind": "exec", "command": "test -f alive"}, "interval_ms": 100, "failure_threshold": 2}
            },
            "restart": {"mode": "on-failure", "backoff_ms": 50},
            "grace_ms": 500
        }),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    let first = wait_state(&app, &owner, id, "ready", Duration::from_secs(10)).await;
    let first_pid = first["last_run"]["pid"].clone();
    std::fs::remove_file(dir.path().join("alive")).expect("remove");
    let until = Instant::now() + Duration::from_secs(10);
    let again = loop {
        let s = get(&app, &owner, id).await;
        if s["state"] == "ready" && s["last_run"]["pid"] != first_pid {
            break s;
        }
        assert!(Instant::now() < until, "never restarted: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(again["restarts"], 1);
    let runs = app
        .post_anon("services/runs", json!({"id": id}), Some(&owner))
        .await
        .body;
    assert!(
        runs[1]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("liveness probe failed")),
        "{runs}"
    );
    app.post_anon("services/stop", json!({"id": id}), Some(&owner))
        .await;
}

#[tokio::test]
async fn a_stored_definition_that_cannot_be_read_is_named_and_never_run() {
    let app = spawn_app().await;
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    let id = create(
        &app,
        &token,
        pid,
        json!({"name": "web", "command": "echo hi; sleep 30"}),
    )
    .await;
    // As after a rollback to a release that stored definitions differently.
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE services SET definition = '{{\"command\": 42}}' WHERE id = {id}"
        ))
        .await
        .expect("corrupt the row");
    let named = format!("services row {id}: column `definition` cannot be read");
    for (path, body) in [
        ("services/list", json!({"project_id": pid})),
        ("services/start", json!({"id": id})),
    ] {
        let r = app.post_anon(path, body, Some(&token)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}: {}", r.body);
        assert!(
            r.body["message"]
                .as_str()
                .is_some_and(|m| m.contains(&named)),
            "{path}: {}",
            r.body
        );
    }
    let runs = app
        .post_anon("services/runs", json!({"id": id}), Some(&token))
        .await;
    assert_eq!(
        runs.body.as_array().map(Vec::len),
        Some(0),
        "nothing ran: {}",
        runs.body
    );
    // Replacing the definition repairs it.
    let r = app
        .post_anon(
            "services/update",
            json!({"id": id, "definition": {"name": "web", "command": "sleep 30"}}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["definition"]["command"], "sleep 30");
}
