//! Control of real processes: readiness before `ready`, restarts with backoff, a crash loop,
//! the grace period, port conflicts, dependency order, liveness restarts, and re-adoption after
//! Optimus restarts. Every test kills what it started even when it fails (`app.guard()`).

use crate::helpers::{eventually, own_ports, spawn_app, spawn_app_with, spawn_sharing, TestApp};
use crate::runtime::{create, get, pid_of, project, sleepers, tree_of, wait_state, WEB};
use app::server::runtime::proc;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

/// The time `key` of a run, for comparing server-side timestamps.
fn at(run: &serde_json::Value, key: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(run[key].as_str().expect(key)).expect("time")
}

/// Waits until the service has logged more than it had when asked; returns the new count.
async fn more_lines(app: &TestApp, token: &str, id: i64, when: &str) -> usize {
    let count = || async {
        let logs = app
            .post_anon("services/logs", json!({"service_ids": [id]}), Some(token))
            .await;
        logs.body.as_array().map_or(0, Vec::len)
    };
    let before = count().await;
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let now = count().await;
        if now > before {
            return now;
        }
        assert!(Instant::now() < until, "no new output {when}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_web_service_is_ready_only_after_its_probe_passes_and_stop_ends_its_whole_tree() {
    let app = spawn_app_with(own_ports).await;
    let _services = app.guard();
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
    let r = app
        .post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let started = Instant::now();
    // Until the probe passes it is never `ready`, however long the script takes to listen.
    let mut seen_starting = false;
    let ready = loop {
        let s = get(&app, &owner, id).await;
        match s["state"].as_str() {
            Some("ready") => break s,
            Some("starting") => seen_starting = true,
            Some("waiting") => {}
            other => panic!("unexpected {other:?} before the probe passed: {s}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "never ready: {s}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(seen_starting, "`starting` while the probe failed");
    let run = ready["last_run"].clone();
    let probed = at(&run, "ready_at") - at(&run, "started_at");
    assert!(
        probed.num_milliseconds() >= 1400 && started.elapsed() >= Duration::from_millis(1400),
        "ready only once it listened (after 1.5 s): {probed}"
    );
    let port = ready["port"].as_u64().expect("allocated port");
    let range = u64::from(app.settings.port_range_start)..=u64::from(app.settings.port_range_end);
    assert!(range.contains(&port), "{port} from {range:?}");
    let body = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .expect("the service answers")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "ok");
    assert_eq!(run["port"], port);
    let tree = tree_of(&run);
    let helpers = sleepers(&run);
    assert_eq!(helpers.len(), 2, "both helpers run: {helpers:?}");

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
    let _services = app.guard();
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
    let _services = app.guard();
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
    let app = spawn_app_with(own_ports).await;
    let _services = app.guard();
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

    // Two services of Optimus on one port: the second is refused while the first runs. The
    // port comes from this instance's own block, which no other test uses (the one just
    // dropped could be taken by anyone at once).
    let (first, last) = (app.settings.port_range_start, app.settings.port_range_end);
    let port = (first..=last)
        .find(|p| app::server::runtime::ports::is_free(*p))
        .expect("a free port in the block");
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
async fn dependencies_start_first_and_a_dependent_waits_until_they_are_ready() {
    let app = spawn_app().await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let (dir, pid) = project(&app, &owner, &[]).await;
    // The database is ready only once the test lets it (the file `go` appears).
    let db = create(
        &app,
        &owner,
        pid,
        json!({
            "name": "db",
            "command": "until [ -f go ]; do sleep 0.05; done; echo 'ready to accept connections'; exec sleep 60",
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
    // Its state turns `waiting` ("starting") as the start is accepted, then its supervisor
    // says what it waits for.
    let w = eventually(
        Duration::from_secs(10),
        "web says it waits for db",
        || async {
            let w = get(&app, &owner, web).await;
            (w["state"] == "waiting" && w["message"] == "waiting for db").then_some(w)
        },
    )
    .await;
    assert!(w["last_run"].is_null(), "not started yet: {w}");
    // The database runs but cannot be ready before the test says so; the dependent waits on.
    wait_state(&app, &owner, db, "starting", Duration::from_secs(10)).await;
    assert_eq!(get(&app, &owner, web).await["state"], "waiting");
    std::fs::write(dir.path().join("go"), "").expect("write");
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
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
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
    let mut services = app.guard();
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

    // The supervisor goes away as at a shutdown (its instance is forgotten); the service keeps
    // running (and logging).
    app.state.runtime.detach_all();
    app::server::instances::forget(&app.state.db, &app.state.instance)
        .await
        .expect("forget the instance");
    let unsupervised = more_lines(&app, &owner, id, "while nobody supervises").await;
    let main = pid_of(&first["last_run"]);
    assert!(
        proc::start_time(main).is_some(),
        "still running while nobody supervises"
    );

    let again = spawn_sharing(app.settings.clone()).await;
    services.cover(&again);
    let adopted = wait_state(&again, &owner, id, "ready", Duration::from_secs(10)).await;
    assert_eq!(
        adopted["last_run"]["pid"], pid_before,
        "the same process, re-adopted"
    );
    assert!(again.state.runtime.is_supervising(id));
    let adopted_lines = more_lines(&again, &owner, id, "once adopted").await;
    assert!(adopted_lines > unsupervised);
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
        logs.as_array().is_some_and(|l| l.len() >= adopted_lines) && logs[0]["seq"] == 0,
        "output from before and after the restart kept: {logs}"
    );
}

#[tokio::test]
async fn a_failing_liveness_probe_restarts_the_service() {
    let app = spawn_app().await;
    let _services = app.guard();
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
