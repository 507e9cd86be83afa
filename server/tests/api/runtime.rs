//! The runtime against real processes: shared helpers (a project folder, a service, polling
//! its state, the processes of a run), the `runtime/*` contract, and definitions a viewer or a
//! rollback cannot run. Control (probes, restarts, stop, ports, adoption) is in
//! `runtime_control`; output, environments and resources in `runtime_output`.

use crate::helpers::{own_ports, spawn_app, spawn_app_with, TestApp};
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
pub(crate) const WEB: &str = r#"
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

/// The run's main process and the members of its process group.
pub(crate) fn tree_of(run: &Value) -> Vec<u32> {
    let pid = pid_of(run);
    let mut all = proc::group_members(pid);
    all.push(pid);
    all
}

/// The run's main process id.
pub(crate) fn pid_of(run: &Value) -> u32 {
    u32::try_from(run["pid"].as_u64().expect("pid")).expect("pid")
}

/// The `sleep 300`/`sleep 301` helpers [`WEB`] forks, found only below this run's shim (the
/// main process's parent), so parallel tests never count each other's.
pub(crate) fn sleepers(run: &Value) -> Vec<u32> {
    let table = proc::ProcTable::read();
    let pid = pid_of(run);
    let shim = table
        .stat(pid)
        .and_then(|s| u32::try_from(s.ppid).ok())
        .expect("the run's shim");
    table
        .tree(pid, Some(shim))
        .into_iter()
        .filter(|p| {
            procfs::process::Process::new(i32::try_from(*p).unwrap_or(i32::MAX))
                .and_then(|p| p.cmdline())
                .is_ok_and(|c| c == ["sleep", "300"] || c == ["sleep", "301"])
        })
        .collect()
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
    assert_eq!(bad.field(), Some("definition.cwd"));
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
    let app = spawn_app_with(own_ports).await;
    let _services = app.guard();
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
    let range = u64::from(app.settings.port_range_start)..=u64::from(app.settings.port_range_end);
    assert!(range.contains(&port), "{port} from {range:?}");
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
async fn a_stored_definition_that_cannot_be_read_is_named_and_never_run() {
    let app = spawn_app().await;
    let _services = app.guard();
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
