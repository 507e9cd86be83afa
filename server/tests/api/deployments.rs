//! Deployments end to end: real releases under the data dir, real service processes (a small
//! Python HTTP server), the real `optimus-proxy` on a public port, requests through it while
//! traffic switches, rolls back and drains.

use crate::helpers::{eventually, own_ports, spawn_app_with, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The service every test deploys: answers every GET with the text of `version.txt` (500 when
/// `mode.txt`, or `mode-<argument>.txt`, says `fail`), `/slow` after a second, on `$PORT`.
const SERVER: &str = r#"
import http.server, os, sys, time
port = int(os.environ["PORT"])
version = open("version.txt").read().strip()
mode_file = "mode-%s.txt" % sys.argv[1] if len(sys.argv) > 1 else "mode.txt"
mode = open(mode_file).read().strip() if os.path.exists(mode_file) else "ok"
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(1)
        body = version.encode()
        self.send_response(500 if mode == "fail" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"#;

/// A free port for a public address.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A project serving `version.txt` through `public` port.
struct Site {
    dir: tempfile::TempDir,
    project: i64,
    service: i64,
    public: u16,
}

impl Site {
    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join(file), text).expect("write");
    }
}

async fn site(app: &TestApp, token: &str, deploy: Value) -> Site {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("serve.py"), SERVER).expect("serve.py");
    std::fs::write(dir.path().join("version.txt"), "v1").expect("version");
    let project = app
        .post_anon("projects/create", json!({"path": dir.path()}), Some(token))
        .await;
    assert_eq!(project.status, StatusCode::OK, "{}", project.body);
    let project = project.body["id"].as_i64().expect("project id");
    let public = free_port();
    let service = service(app, token, project, "web", public, deploy).await;
    Site {
        dir,
        project,
        service,
        public,
    }
}

async fn service(
    app: &TestApp,
    token: &str,
    project: i64,
    name: &str,
    public: u16,
    deploy: Value,
) -> i64 {
    let definition = json!({"name": name, "command": "exec python3 serve.py",
                            "allocate_port": true, "public_port": public, "deploy": deploy});
    let r = app
        .post_anon(
            "services/create",
            json!({"project_id": project, "definition": definition}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["id"].as_i64().expect("service id")
}

/// Replaces service `id`'s definition.
pub(crate) async fn redefine(app: &TestApp, token: &str, id: i64, definition: Value) {
    let body = json!({"id": id, "definition": definition});
    let r = app.post_anon("services/update", body, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

pub(crate) async fn deploy(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post_anon("deployments/deploy", body, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "queued", "{}", r.body);
    r.body["id"].as_i64().expect("deployment id")
}

/// The deployment once it has ended.
pub(crate) async fn ended(app: &TestApp, token: &str, id: i64, within: Duration) -> Value {
    eventually(within, "the deployment ends", || async move {
        let d = app
            .post_anon("deployments/get", json!({"id": id}), Some(token))
            .await
            .body;
        matches!(
            d["status"].as_str(),
            Some("succeeded" | "failed" | "rolled_back")
        )
        .then_some(d)
    })
    .await
}

pub(crate) async fn deployed(app: &TestApp, token: &str, body: Value, want: &str) -> Value {
    let id = deploy(app, token, body).await;
    let d = ended(app, token, id, Duration::from_secs(60)).await;
    assert_eq!(d["status"], want, "{d}");
    d
}

/// The names of a deployment's steps, in order.
pub(crate) fn step_names(d: &Value) -> Vec<String> {
    d["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_owned))
        .collect()
}

/// What the public port answers: (status, body), or why it did not.
pub(crate) async fn fetch(port: u16, path: &str) -> Result<(u16, String), String> {
    let r = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    Ok((status, r.text().await.map_err(|e| e.to_string())?))
}

/// Requests to `port` in a loop until stopped: (answered by version, failures).
pub(crate) struct Load {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<(Vec<String>, Vec<String>)>,
    count: Arc<AtomicU64>,
}

pub(crate) fn load(port: u16) -> Load {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let (s, c) = (stop.clone(), count.clone());
    let task = tokio::spawn(async move {
        let (mut seen, mut failures) = (Vec::new(), Vec::new());
        while !s.load(Ordering::Relaxed) {
            match fetch(port, "/").await {
                Ok((200, body)) => {
                    if seen.last() != Some(&body) {
                        seen.push(body);
                    }
                }
                Ok((status, body)) => failures.push(format!("{status} {body}")),
                Err(e) => failures.push(e),
            }
            c.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        (seen, failures)
    });
    Load { stop, task, count }
}

impl Load {
    pub(crate) async fn finish(self) -> (Vec<String>, Vec<String>, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let (seen, failures) = self.task.await.expect("load");
        (seen, failures, self.count.load(Ordering::Relaxed))
    }
}

/// Quick policy: watch 1 s, two checks in a row.
fn quick() -> Value {
    json!({"watch_secs": 1, "ready_passes": 2, "drain_secs": 5})
}

/// An instance keeping `keep` releases, with ports of its own.
pub(crate) async fn setup_keeping(keep: u32) -> (TestApp, String) {
    let app = spawn_app_with(|s| {
        own_ports(s);
        s.keep_releases = keep;
    })
    .await;
    let token = app.setup_owner().await;
    (app, token)
}

async fn setup() -> (TestApp, String) {
    setup_keeping(3).await
}

#[tokio::test]
async fn blue_green_switches_traffic_once_the_new_release_is_ready_and_drops_no_request() {
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let s = site(app, token, quick()).await;
    let first = deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    assert_eq!(first["release"], 1);
    assert_eq!(first["kind"], "deploy");
    assert_eq!(fetch(s.public, "/").await, Ok((200, "v1".into())));

    s.write("version.txt", "v2");
    let traffic = load(s.public);
    // A slow request under way on v1 while the switch happens finishes there.
    let slow = tokio::spawn(fetch(s.public, "/slow"));
    let second = deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    let (seen, failures, count) = traffic.finish().await;
    assert!(
        failures.is_empty(),
        "{} of {count} failed: {failures:?}",
        failures.len()
    );
    assert_eq!(seen, ["v1", "v2"], "v1 until the switch, then v2 only");
    assert_eq!(slow.await.expect("slow"), Ok((200, "v1".into())));
    assert_eq!(second["release"], 2);
    assert_eq!(second["previous_release"], 1);
    let steps = step_names(&second);
    assert_eq!(
        steps,
        [
            "start web",
            "wait until web is ready",
            "switch web",
            "watch for 1 s",
            "stop web (release before)"
        ],
        "{second}"
    );
    // The release before is stopped and its instance gone; the user's own service untouched.
    let runtime = app
        .post_anon(
            "services/list",
            json!({"project_id": s.project}),
            Some(token),
        )
        .await
        .body;
    assert_eq!(runtime.as_array().map(Vec::len), Some(1), "{runtime}");
    assert_eq!(runtime[0]["id"], s.service);
    assert_eq!(
        runtime[0]["state"], "stopped",
        "deploying never starts the working copy"
    );
    // The release lives under the data dir with the project's files.
    let kept = app
        .settings
        .data_dir
        .join("releases")
        .join(s.project.to_string());
    assert_eq!(
        std::fs::read_to_string(kept.join("1/version.txt"))
            .ok()
            .as_deref(),
        Some("v1")
    );
    assert_eq!(
        std::fs::read_to_string(kept.join("2/version.txt"))
            .ok()
            .as_deref(),
        Some("v2")
    );
}

#[tokio::test]
async fn a_release_that_never_becomes_ready_never_gets_traffic_and_the_old_one_serves_throughout() {
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let s = site(app, token, quick()).await;
    deployed(app, token, json!({"project_id": s.project}), "succeeded").await;

    // Release 2 never listens.
    let definition = json!({"name": "web", "command": "exec sleep 60", "allocate_port": true,
                            "public_port": s.public,
                            "deploy": {"ready_timeout_secs": 2, "watch_secs": 1}});
    redefine(app, token, s.service, definition).await;
    let traffic = load(s.public);
    let failed = deployed(app, token, json!({"project_id": s.project}), "failed").await;
    let (seen, failures, count) = traffic.finish().await;
    assert!(
        failures.is_empty(),
        "{} of {count} failed: {failures:?}",
        failures.len()
    );
    assert_eq!(seen, ["v1"]);
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("did not become ready") && reason.contains("within 2 s"),
        "{failed}"
    );
    assert!(
        !failed["steps"].to_string().contains("switch web"),
        "{failed}"
    );
    // The current release is still 1.
    let releases = app
        .post_anon(
            "deployments/releases",
            json!({"project_id": s.project}),
            Some(token),
        )
        .await
        .body;
    let current: Vec<i64> = releases
        .as_array()
        .expect("releases")
        .iter()
        .filter(|r| r["current"] == true)
        .filter_map(|r| r["number"].as_i64())
        .collect();
    assert_eq!(current, [1]);
}

#[tokio::test]
async fn too_many_5xx_after_the_switch_roll_back_at_once_and_the_rollback_is_its_own_entry() {
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let s = site(
        app,
        token,
        json!({"watch_secs": 30, "ready_passes": 2, "min_requests": 5, "max_5xx_percent": 50}),
    )
    .await;
    // The first deployment has nothing to roll back to: make it quick.
    redefine(
        app,
        token,
        s.service,
        json!({
            "name": "web", "command": "exec python3 serve.py", "allocate_port": true,
            "public_port": s.public, "deploy": {"watch_secs": 0}}),
    )
    .await;
    deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    redefine(
        app,
        token,
        s.service,
        json!({
            "name": "web", "command": "exec python3 serve.py", "allocate_port": true,
            "public_port": s.public,
            "deploy": {"watch_secs": 30, "min_requests": 5, "max_5xx_percent": 50}}),
    )
    .await;

    s.write("version.txt", "v2");
    s.write("mode.txt", "fail");
    let id = deploy(app, token, json!({"project_id": s.project})).await;
    // Once traffic is on v2 (500s), keep asking until it is back on v1.
    let started = Instant::now();
    eventually(
        Duration::from_secs(30),
        "traffic reaches v2",
        || async move { (fetch(s.public, "/").await == Ok((500, "v2".into()))).then_some(()) },
    )
    .await;
    let switched = Instant::now();
    eventually(
        Duration::from_secs(10),
        "traffic is back on v1",
        || async move { (fetch(s.public, "/").await == Ok((200, "v1".into()))).then_some(()) },
    )
    .await;
    let back = switched.elapsed();
    let d = ended(app, token, id, Duration::from_secs(30)).await;
    assert_eq!(d["status"], "rolled_back", "{d}");
    assert!(
        d["reason"].as_str().unwrap_or_default().contains("5xx"),
        "{d}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "rolled back before the window ended"
    );
    assert!(
        back < Duration::from_secs(5),
        "rolled back {back:?} after the switch"
    );
    let list = app
        .post_anon(
            "deployments/list",
            json!({"project_id": s.project}),
            Some(token),
        )
        .await
        .body;
    let newest = &list[0];
    assert_eq!(newest["kind"], "rollback", "{list}");
    assert_eq!(newest["status"], "succeeded", "{list}");
    assert_eq!(newest["release"], 1);
    assert_eq!(newest["rollback_of"], id);
    assert_eq!(newest["triggered_by"], Value::Null);
    assert_eq!(list[1]["id"], id);
    // A notification says so.
    let notes = app
        .post_anon("notifications/list", json!({}), Some(token))
        .await
        .body;
    assert!(
        notes.to_string().contains("deployment_rolled_back"),
        "{notes}"
    );
    // The council reads the history: the newest release was rolled back, and why.
    let asked = app
        .post_anon(
            "council/deliberate",
            json!({"question": "Deploy release 3 now?", "project_id": s.project}),
            Some(token),
        )
        .await
        .body;
    let seen = asked["evidence"]
        .as_array()
        .and_then(|e| e.iter().find(|x| x["source"] == "deployments").cloned())
        .unwrap_or(Value::Null);
    assert!(
        seen["summary"]
            .as_str()
            .is_some_and(|t| t.contains("release #2 rolled back") && t.contains("5xx")),
        "{asked}"
    );
    assert_eq!(seen["signal"], "risk", "{seen}");
    // Release 1 serves on; the next deployment replaces it as usual.
    s.write("mode.txt", "ok");
    s.write("version.txt", "v3");
    redefine(
        app,
        token,
        s.service,
        json!({
            "name": "web", "command": "exec python3 serve.py", "allocate_port": true,
            "public_port": s.public, "deploy": {"watch_secs": 0}}),
    )
    .await;
    deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    assert_eq!(fetch(s.public, "/").await, Ok((200, "v3".into())));
}

#[tokio::test]
async fn a_manual_rollback_three_releases_back_serves_that_release_again_without_rebuilding() {
    let (app, token) = setup_keeping(5).await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let s = site(app, token, json!({"watch_secs": 0, "ready_passes": 1})).await;
    let mut last = Value::Null;
    for v in 1..=4 {
        s.write("version.txt", &format!("v{v}"));
        last = deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    }
    assert_eq!(fetch(s.public, "/").await, Ok((200, "v4".into())));
    // The working folder changes; the rollback uses the kept release, not the folder.
    s.write("version.txt", "not released");
    let r = app
        .post_anon(
            "deployments/rollback",
            json!({"project_id": s.project, "release": 1}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["kind"], "rollback");
    assert_eq!(r.body["rollback_of"], last["id"]);
    let asked = Instant::now();
    let rolled = ended(
        app,
        token,
        r.body["id"].as_i64().expect("id"),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(rolled["status"], "succeeded", "{rolled}");
    assert_eq!(rolled["release"], 1);
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "took {:?}",
        asked.elapsed()
    );
    assert_eq!(fetch(s.public, "/").await, Ok((200, "v1".into())));
    // Rolling back to the current one, or to a release that does not exist, is refused.
    let again = app
        .post_anon(
            "deployments/rollback",
            json!({"project_id": s.project, "release": 1}),
            Some(token),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let missing = app
        .post_anon(
            "deployments/rollback",
            json!({"project_id": s.project, "release": 99}),
            Some(token),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    // With no release given, it goes to the one before the current one (4).
    let back = app
        .post_anon(
            "deployments/rollback",
            json!({"project_id": s.project}),
            Some(token),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(back.body["release"], 4);
}

#[tokio::test]
async fn retention_keeps_the_newest_and_pinned_releases_and_never_the_current_or_its_rollback_target(
) {
    let (app, token) = setup().await; // keep_releases = 3
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let s = site(app, token, json!({"watch_secs": 0, "ready_passes": 1})).await;
    for v in 1..=2 {
        s.write("version.txt", &format!("v{v}"));
        deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    }
    let pin = app
        .post_anon(
            "deployments/pin",
            json!({"project_id": s.project, "release": 1, "pinned": true}),
            Some(token),
        )
        .await;
    assert_eq!(pin.status, StatusCode::OK, "{}", pin.body);
    assert_eq!(pin.body["pinned"], true);
    for v in 3..=6 {
        s.write("version.txt", &format!("v{v}"));
        deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    }
    // Roll back to 4: current is 4, its rollback target (the one it replaced) is 6.
    let r = app
        .post_anon(
            "deployments/rollback",
            json!({"project_id": s.project, "release": 4}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    ended(
        app,
        token,
        r.body["id"].as_i64().expect("id"),
        Duration::from_secs(30),
    )
    .await;
    s.write("version.txt", "v7");
    deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    // Kept: 7, 6, 5 (the newest three), 1 (pinned) and 4 (7 replaced it: a rollback's
    // target). Pruned: 2 and 3.
    let releases = app
        .post_anon(
            "deployments/releases",
            json!({"project_id": s.project}),
            Some(token),
        )
        .await
        .body;
    let pruned: Vec<i64> = releases
        .as_array()
        .expect("releases")
        .iter()
        .filter(|r| r["pruned"] == true)
        .filter_map(|r| r["number"].as_i64())
        .collect();
    assert_eq!(pruned, [3, 2], "{releases}");
    let folder = app
        .settings
        .data_dir
        .join("releases")
        .join(s.project.to_string());
    for (n, kept) in [
        (1, true),
        (2, false),
        (3, false),
        (4, true),
        (5, true),
        (6, true),
        (7, true),
    ] {
        assert_eq!(folder.join(n.to_string()).is_dir(), kept, "release {n}");
    }
    let gone = app
        .post_anon(
            "deployments/rollback",
            json!({"project_id": s.project, "release": 2}),
            Some(token),
        )
        .await;
    assert_eq!(
        gone.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        gone.body
    );
    assert!(gone.body.to_string().contains("pruned"), "{}", gone.body);
    // The user's working folder is never touched.
    assert!(Path::new(&s.dir.path().join("serve.py")).is_file());
}

#[tokio::test]
async fn recreate_stops_the_serving_instance_before_starting_the_new_one() {
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let s = site(
        app,
        token,
        json!({"strategy": "recreate", "watch_secs": 0, "ready_passes": 1}),
    )
    .await;
    deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    s.write("version.txt", "v2");
    let d = deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    let steps = step_names(&d);
    assert_eq!(
        steps[..2],
        ["stop web (release before)", "start web"],
        "{d}"
    );
    assert_eq!(fetch(s.public, "/").await, Ok((200, "v2".into())));
    // A strategy asked for applies to every service.
    s.write("version.txt", "v3");
    let d = deployed(
        app,
        token,
        json!({"project_id": s.project, "strategy": "blue_green"}),
        "succeeded",
    )
    .await;
    assert_eq!(d["strategy"], "blue_green");
    assert_eq!(d["steps"][0]["name"], "start web", "{d}");
}

#[tokio::test]
async fn a_pre_deploy_command_runs_in_the_release_first_and_one_that_fails_starts_nothing() {
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let policy = json!({"watch_secs": 0, "ready_passes": 1,
                        "pre_deploy": "echo \"$(cat version.txt) for release $OPTIMUS_RELEASE\" | tee migrated.txt"});
    let s = site(app, token, policy).await;
    let d = deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    assert_eq!(d["steps"][0]["name"], "pre-deploy web", "{d}");
    assert!(
        d["steps"][0]["detail"]
            .as_str()
            .is_some_and(|t| t.starts_with("exit 0 after") && t.ends_with(": v1 for release 1")),
        "{d}"
    );
    assert_eq!(d["steps"][1]["name"], "start web", "{d}");
    // It ran in the release's folder, never in the working one.
    let release = app
        .settings
        .data_dir
        .join(format!("releases/{}/1", s.project));
    assert_eq!(
        std::fs::read_to_string(release.join("migrated.txt"))
            .ok()
            .as_deref(),
        Some("v1 for release 1\n")
    );
    assert!(!s.dir.path().join("migrated.txt").exists());

    // A failing one stops the deployment before anything starts; v1 serves on.
    let failing = json!({"name": "web", "command": "exec python3 serve.py", "allocate_port": true,
                         "public_port": s.public,
                         "deploy": {"watch_secs": 0, "ready_passes": 1,
                                    "pre_deploy": "echo 'relation users already exists' >&2; exit 3"}});
    redefine(app, token, s.service, failing).await;
    s.write("version.txt", "v2");
    let d = deployed(app, token, json!({"project_id": s.project}), "failed").await;
    let steps = step_names(&d);
    assert_eq!(steps, ["pre-deploy web"], "{d}");
    let reason = d["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("pre-deploy command of `web` failed")
            && reason.contains("relation users already exists"),
        "{d}"
    );
    assert_eq!(fetch(s.public, "/").await, Ok((200, "v1".into())));

    // One that overruns its time is stopped, whole process group included.
    let slow = json!({"name": "web", "command": "exec python3 serve.py", "allocate_port": true,
                      "public_port": s.public,
                      "deploy": {"watch_secs": 0, "ready_passes": 1, "pre_deploy_timeout_secs": 1,
                                 "pre_deploy": "sleep 30 & wait"}});
    redefine(app, token, s.service, slow).await;
    let asked = Instant::now();
    let d = deployed(app, token, json!({"project_id": s.project}), "failed").await;
    assert!(
        d["reason"]
            .as_str()
            .is_some_and(|r| r.contains("still running after 1 s")),
        "{d}"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "{:?}",
        asked.elapsed()
    );
    // A blank command is refused naming the field.
    let blank = json!({"name": "web", "command": "exec python3 serve.py", "allocate_port": true,
                       "deploy": {"pre_deploy": "  "}});
    let r = app
        .post_anon(
            "services/update",
            json!({"id": s.service, "definition": blank}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body["field"]
            .as_str()
            .is_some_and(|f| f.ends_with("deploy.pre_deploy")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_deployment_requiring_a_recent_backup_runs_nothing_until_there_is_one() {
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let policy = json!({"watch_secs": 0, "ready_passes": 1, "require_backup_hours": 24,
                        "pre_deploy": "touch migrated.txt"});
    let s = site(app, token, policy).await;
    // No backup policy: the migration never runs.
    let d = deployed(app, token, json!({"project_id": s.project}), "failed").await;
    assert_eq!(step_names(&d), ["backup check"], "{d}");
    let reason = d["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("requires a backup at most 24 h old")
            && reason.contains("no backup policy"),
        "{d}"
    );
    let release = app
        .settings
        .data_dir
        .join(format!("releases/{}", s.project));
    let migrated = walk_has(&release, "migrated.txt");
    assert!(!migrated, "the pre-deploy command ran");

    // A policy that has made no good backup yet is not enough either.
    let p = crate::backups::ok(
        app,
        token,
        "backups/create_policy",
        json!({"project_id": s.project, "paths": ["version.txt"]}),
    )
    .await;
    let d = deployed(app, token, json!({"project_id": s.project}), "failed").await;
    assert!(
        d["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no good backup")),
        "{d}"
    );

    // Backed up: the check passes and says how old the backup is, then the migration runs.
    let job = crate::backups::back_up(app, token, p["id"].as_i64().expect("policy id")).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let d = deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    assert_eq!(d["steps"][0]["name"], "backup check", "{d}");
    assert!(
        d["steps"][0]["detail"]
            .as_str()
            .is_some_and(|t| t.contains("newest good backup") && t.contains("at most 24 h")),
        "{d}"
    );
    assert_eq!(d["steps"][1]["name"], "pre-deploy web", "{d}");
    assert!(walk_has(&release, "migrated.txt"));
    // Out of range is refused naming the field.
    let wrong = json!({"name": "web", "command": "exec python3 serve.py", "allocate_port": true,
                       "deploy": {"require_backup_hours": 0}});
    let r = app
        .post_anon(
            "services/update",
            json!({"id": s.service, "definition": wrong}),
            Some(token),
        )
        .await;
    // Below the schema's minimum: a 400 naming the field.
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body["field"]
            .as_str()
            .is_some_and(|f| f.ends_with("deploy.require_backup_hours")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_release_made_from_a_pipeline_run_serves_what_the_run_built() {
    use crate::pipeline_runs::{pipeline, start, until_status};
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let s = site(app, token, json!({"watch_secs": 0, "ready_passes": 1})).await;
    // The run builds `version.txt`; the working folder changes after it.
    let build = pipeline(
        app,
        token,
        s.project,
        json!({"name": "build", "steps": [
            {"name": "build", "command": "printf built-by-the-run > version.txt",
             "artifacts": ["serve.py", "version.txt"]}
        ]}),
    )
    .await;
    let run = start(app, token, build, json!({})).await;
    let run = run["id"].as_i64().expect("run id");
    until_status(app, token, run, "succeeded", Duration::from_secs(30)).await;
    s.write("version.txt", "the-working-folder");
    let d = deployed(
        app,
        token,
        json!({"project_id": s.project, "pipeline_run_id": run}),
        "succeeded",
    )
    .await;
    assert_eq!(
        fetch(s.public, "/").await,
        Ok((200, "built-by-the-run".into())),
        "{d}"
    );
    let releases = app
        .post_anon(
            "deployments/releases",
            json!({"project_id": s.project}),
            Some(token),
        )
        .await
        .body;
    assert_eq!(releases[0]["source"], "pipeline_run", "{releases}");
    assert_eq!(releases[0]["pipeline_run_id"], run, "{releases}");

    // A run that failed, or kept nothing, makes no release.
    let failing = pipeline(
        app,
        token,
        s.project,
        json!({"name": "broken", "steps": [{"name": "x", "command": "exit 3"}]}),
    )
    .await;
    let bad = start(app, token, failing, json!({})).await["id"]
        .as_i64()
        .expect("run id");
    until_status(app, token, bad, "failed", Duration::from_secs(30)).await;
    let empty = pipeline(
        app,
        token,
        s.project,
        json!({"name": "empty", "steps": [{"name": "x", "command": "true"}]}),
    )
    .await;
    let none = start(app, token, empty, json!({})).await["id"]
        .as_i64()
        .expect("run id");
    until_status(app, token, none, "succeeded", Duration::from_secs(30)).await;
    for (id, why) in [(bad, "not succeeded"), (none, "kept no artifacts")] {
        let r = app
            .post_anon(
                "deployments/deploy",
                json!({"project_id": s.project, "pipeline_run_id": id}),
                Some(token),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.field(), Some("pipeline_run_id"), "{}", r.body);
        assert!(r.body.to_string().contains(why), "{}", r.body);
    }
}

/// Whether a file named `name` is anywhere under `dir`.
fn walk_has(dir: &std::path::Path, name: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        p.file_name().is_some_and(|n| n == name) || (p.is_dir() && walk_has(&p, name))
    })
}

#[tokio::test]
async fn deploying_what_cannot_be_deployed_is_refused_and_changes_nothing() {
    let (app, token) = setup().await;
    let app = &app;
    let token = token.as_str();
    let dir = tempfile::tempdir().expect("tempdir");
    let project = app
        .post_anon("projects/create", json!({"path": dir.path()}), Some(token))
        .await
        .body["id"]
        .as_i64()
        .expect("project");
    let none = app
        .post_anon(
            "deployments/deploy",
            json!({"project_id": project}),
            Some(token),
        )
        .await;
    assert_eq!(
        none.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        none.body
    );
    assert!(
        none.body.to_string().contains("no services"),
        "{}",
        none.body
    );
    let bad = app
        .post_anon(
            "deployments/deploy",
            json!({"project_id": project, "strategy": "yolo"}),
            Some(token),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let missing = app
        .post_anon(
            "deployments/deploy",
            json!({"project_id": 999_999}),
            Some(token),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let nothing = app
        .post_anon(
            "deployments/rollback",
            json!({"project_id": project}),
            Some(token),
        )
        .await;
    assert_eq!(nothing.status, StatusCode::CONFLICT, "{}", nothing.body);
    // A public port needs a port to forward to.
    let r = app
        .post_anon(
            "services/create",
            json!({"project_id": project, "definition": {
            "name": "web", "command": "true", "public_port": 8080}}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.to_string().contains("public_port"), "{}", r.body);
    let r = app
        .post_anon(
            "services/create",
            json!({"project_id": project, "definition": {
            "name": "web", "command": "true", "allocate_port": true,
            "deploy": {"watch_secs": 999_999}}}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.to_string().contains("watch_secs"), "{}", r.body);
    let list = app
        .post_anon(
            "deployments/list",
            json!({"project_id": project}),
            Some(token),
        )
        .await;
    assert_eq!(list.body, json!([]));
}

#[tokio::test]
async fn a_multi_service_project_deploys_as_one_unit_in_dependency_order_and_rolls_back_together() {
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let s = site(app, token, json!({"watch_secs": 0, "ready_passes": 1})).await;
    let api_public = free_port();
    let api = service(
        app,
        token,
        s.project,
        "api",
        api_public,
        json!({"watch_secs": 0}),
    )
    .await;
    // web depends on api, and reads the api's own flag file.
    let web_def = |watch: u32| {
        json!({"name": "web", "command": "exec python3 serve.py web",
        "allocate_port": true, "public_port": s.public, "depends_on": ["api"],
        "deploy": {"watch_secs": watch, "min_requests": 5, "max_5xx_percent": 50}})
    };
    redefine(app, token, s.service, web_def(0)).await;
    let first = deployed(app, token, json!({"project_id": s.project}), "succeeded").await;
    let order: Vec<String> = step_names(&first)
        .into_iter()
        .filter(|n| n.starts_with("start"))
        .collect();
    assert_eq!(order, ["start api", "start web"], "{first}");
    assert_eq!(fetch(api_public, "/").await, Ok((200, "v1".into())));
    assert_eq!(fetch(s.public, "/").await, Ok((200, "v1".into())));

    // Release 2: api is fine, web answers 500: both go back.
    redefine(app, token, s.service, web_def(30)).await;
    s.write("version.txt", "v2");
    s.write("mode-web.txt", "fail");
    let id = deploy(app, token, json!({"project_id": s.project})).await;
    eventually(Duration::from_secs(30), "web serves v2", || async move {
        (fetch(s.public, "/").await == Ok((500, "v2".into()))).then_some(())
    })
    .await;
    assert_eq!(
        fetch(api_public, "/").await,
        Ok((200, "v2".into())),
        "api switched too"
    );
    // Traffic to web (its 5xx share decides), until it is back on v1.
    eventually(
        Duration::from_secs(10),
        "web is back on v1",
        || async move { (fetch(s.public, "/").await == Ok((200, "v1".into()))).then_some(()) },
    )
    .await;
    let d = ended(app, token, id, Duration::from_secs(30)).await;
    assert_eq!(d["status"], "rolled_back", "{d}");
    assert!(
        d["reason"].as_str().unwrap_or_default().contains("`web`"),
        "{d}"
    );
    assert_eq!(
        fetch(api_public, "/").await,
        Ok((200, "v1".into())),
        "api rolled back with web"
    );
    assert_eq!(fetch(s.public, "/").await, Ok((200, "v1".into())));
    let _ = api;
}

/// `optimus-proxy` is its own process: Optimus killed with SIGKILL and started again drops no
/// request to a deployed service, and the next deployment goes on through the same proxy.
#[tokio::test]
async fn the_proxy_keeps_serving_while_optimus_is_killed_and_started_again() {
    use crate::faults::{ok, port_block, serve, setup_owner};
    let data = tempfile::tempdir().expect("data");
    let database = crate::helpers::fresh_database(data.path()).await;
    let _guard = crate::helpers::ServiceGuard::for_data_dir(data.path());
    // Below the kernel's ephemeral range (32768 on), so no outgoing connection holds one.
    let block = port_block(29500, 20);
    let extra = [
        (
            "OPTIMUS_PROXY_PATH",
            env!("CARGO_BIN_EXE_optimus-proxy").to_owned(),
        ),
        ("OPTIMUS_PUBLIC_BIND", "127.0.0.1".to_owned()),
    ];
    let server = serve(data.path(), &database, block, &extra).await;
    let addr = server.addr.clone();
    let token = setup_owner(&addr).await;
    let dir = tempfile::tempdir().expect("project");
    std::fs::write(dir.path().join("serve.py"), SERVER).expect("serve.py");
    std::fs::write(dir.path().join("version.txt"), "v1").expect("version");
    let project = ok(
        &addr,
        "projects/create",
        json!({"path": dir.path()}),
        &token,
    )
    .await["id"]
        .as_i64()
        .expect("project");
    let public = free_port();
    ok(
        &addr,
        "services/create",
        json!({"project_id": project, "definition": {
        "name": "web", "command": "exec python3 serve.py", "allocate_port": true,
        "public_port": public, "deploy": {"watch_secs": 0, "ready_passes": 1}}}),
        &token,
    )
    .await;
    let wait = |addr: String, token: String, id: i64| async move {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let d = ok(&addr, "deployments/get", json!({"id": id}), &token).await;
            if d["status"] != "queued" && d["status"] != "running" {
                return d;
            }
            assert!(Instant::now() < until, "deployment {id} never ended");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let d = ok(
        &addr,
        "deployments/deploy",
        json!({"project_id": project}),
        &token,
    )
    .await;
    let d = wait(addr.clone(), token.clone(), d["id"].as_i64().expect("id")).await;
    assert_eq!(d["status"], "succeeded", "{d}");

    let traffic = load(public);
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    // Requests answered while no Optimus runs at all.
    let at_kill = traffic.count.load(Ordering::Relaxed);
    eventually(
        Duration::from_secs(10),
        "requests while Optimus is down",
        || {
            let count = traffic.count.clone();
            async move { (count.load(Ordering::Relaxed) >= at_kill + 10).then_some(()) }
        },
    )
    .await;
    let restarted = serve(data.path(), &database, block, &extra).await;
    let addr = restarted.addr.clone();
    let (seen, failures, count) = traffic.finish().await;
    assert!(
        failures.is_empty(),
        "{} of {count} failed: {failures:?}",
        failures.len()
    );
    assert_eq!(seen, ["v1"]);

    // The restarted Optimus deploys through the same proxy.
    let token = crate::faults::login(&addr).await;
    std::fs::write(dir.path().join("version.txt"), "v2").expect("version");
    let d = ok(
        &addr,
        "deployments/deploy",
        json!({"project_id": project}),
        &token,
    )
    .await;
    let d = wait(addr.clone(), token.clone(), d["id"].as_i64().expect("id")).await;
    assert_eq!(d["status"], "succeeded", "{d}");
    assert_eq!(fetch(public, "/").await, Ok((200, "v2".into())));
}

/// `optimus deploy` with a token: follows the deployment step by step; exit 0 when it
/// succeeded, 1 when it failed.
#[tokio::test]
async fn the_deploy_command_follows_a_deployment_and_exits_by_its_outcome() {
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let s = site(app, &token, json!({"watch_secs": 0, "ready_passes": 1})).await;
    let name = app
        .post_anon("projects/get", json!({"id": s.project}), Some(&token))
        .await
        .body["name"]
        .as_str()
        .expect("name")
        .to_owned();
    let run = |args: Vec<String>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_optimus"));
        for (k, _) in std::env::vars() {
            if k.starts_with("OPTIMUS_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg("deploy")
            .args(args)
            .arg("--url")
            .arg(&app.addr)
            .env("OPTIMUS_TOKEN", &token)
            .env("OPTIMUS_DATA_DIR", app.settings.data_dir.join("cli"));
        async move {
            tokio::task::spawn_blocking(move || cmd.output())
                .await
                .expect("join")
                .expect("run optimus deploy")
        }
    };
    let out = run(vec![name.clone()]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("✓ start web"), "{text}");
    assert!(text.contains("succeeded: release 1 serves"), "{text}");
    assert_eq!(fetch(s.public, "/").await, Ok((200, "v1".into())));

    let out = run(vec![s.project.to_string(), "--release".into(), "7".into()]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("release 7"),
        "{out:?}"
    );

    redefine(
        app,
        &token,
        s.service,
        json!({
            "name": "web", "command": "exec false", "allocate_port": true, "public_port": s.public,
            "deploy": {"ready_timeout_secs": 2}}),
    )
    .await;
    let out = run(vec![s.project.to_string()]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("failed: `web` did not become ready"),
        "{text}"
    );
}

/// With `council: true` the Council of Minds is asked first; its verdict stays with the
/// deployment, `defer`/`reject` stops it before anything starts, and how the deployment ended
/// becomes the deliberation's outcome.
#[tokio::test]
async fn the_council_is_asked_first_and_learns_how_the_deployment_ended() {
    let (app, token) = setup().await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let s = site(app, token, json!({"watch_secs": 0, "ready_passes": 1})).await;
    let r = app
        .post_anon(
            "deployments/deploy",
            json!({"project_id": s.project, "council": true}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let verdict = r.body["council"].clone();
    let deliberation = verdict["deliberation_id"]
        .as_i64()
        .expect("deliberation id");
    let option = verdict["option"].as_str().unwrap_or_default().to_owned();
    assert!(
        ["proceed", "proceed_with_conditions", "defer", "reject"].contains(&option.as_str()),
        "{verdict}"
    );
    let asked = app
        .post_anon("council/get", json!({"id": deliberation}), Some(token))
        .await
        .body;
    assert_eq!(asked["project_id"], s.project);
    assert!(
        asked["question"]
            .as_str()
            .unwrap_or_default()
            .contains("release 1"),
        "{asked}"
    );
    let id = r.body["id"].as_i64().expect("id");
    let d = ended(app, token, id, Duration::from_secs(60)).await;
    if option == "defer" || option == "reject" {
        assert_eq!(d["status"], "failed", "{d}");
        assert!(
            d["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("council advised"),
            "{d}"
        );
        assert_eq!(d["steps"], json!([]), "nothing started: {d}");
        assert!(asked["outcome"].is_null());
    } else {
        assert_eq!(d["status"], "succeeded", "{d}");
        assert_eq!(d["council"]["outcome"], "proceed", "{d}");
        let settled = app
            .post_anon("council/get", json!({"id": deliberation}), Some(token))
            .await
            .body;
        assert_eq!(settled["outcome"], "proceed", "{settled}");
        assert!(
            settled["outcome_note"]
                .as_str()
                .unwrap_or_default()
                .contains("stayed healthy"),
            "{settled}"
        );
    }
    // A token that may deploy but not deliberate cannot ask the council.
    let viewer_deploy = app
        .post_anon(
            "tokens/create",
            json!({"name": "deploy-only", "scopes": ["read", "deploy"], "expires_in_days": 1}),
            Some(token),
        )
        .await;
    assert_eq!(
        viewer_deploy.status,
        StatusCode::OK,
        "{}",
        viewer_deploy.body
    );
    let narrow = viewer_deploy.body["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let refused = app
        .post_anon(
            "deployments/deploy",
            json!({"project_id": s.project, "council": true}),
            Some(&narrow),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let releases = app
        .post_anon(
            "deployments/releases",
            json!({"project_id": s.project}),
            Some(token),
        )
        .await
        .body;
    assert_eq!(
        releases.as_array().map(Vec::len),
        Some(1),
        "no release made: {releases}"
    );
}
