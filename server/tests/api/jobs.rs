//! Background work has one owner: every task is named while it runs, gone when it is done, and
//! joined (not abandoned) at shutdown.

use crate::helpers::{redis_url, spawn_app};
use crate::runtime::{create, project, wait_state};
use serde_json::json;
use std::time::{Duration, Instant};

/// Polls until the running jobs are exactly `want` (sorted), or fails after 20 s.
async fn wait_jobs(app: &crate::helpers::TestApp, want: &[String]) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let running = app.state.jobs.running();
        if running == want {
            return;
        }
        assert!(
            Instant::now() < until,
            "jobs {running:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_background_task_is_named_while_it_runs_and_joined_at_shutdown() {
    let app = spawn_app().await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let mut idle: Vec<String> = vec![
        "backups.schedules".into(),
        "backups.worker".into(),
        "catalog.interrupted_scans".into(),
        "council.graph_feed".into(),
        "deployments.worker".into(),
        "events.hub".into(),
        "instances.heartbeat".into(),
        "notifications.deliveries".into(),
        "ops.gauges".into(),
        "pipelines.executor".into(),
        "pipelines.triggers".into(),
        "runtime.sampler".into(),
        "runtime.take_over".into(),
    ];
    if redis_url().is_some() {
        idle.extend(["bus.relay".into(), "redis.watch".into()]);
    }
    idle.sort();
    wait_jobs(&app, &idle).await;

    // A scan runs as a named job and leaves when it is done.
    let ws = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(ws.path().join("app")).expect("mkdir");
    std::fs::write(ws.path().join("app/package.json"), r#"{"name":"app"}"#).expect("write");
    let r = app
        .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
        .await;
    let wid = r.body["id"].as_i64().expect("id");
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let w = app
            .post_anon("workspaces/get", json!({"id": wid}), Some(&owner))
            .await;
        if w.body["scan_state"] == "done" {
            break;
        }
        assert!(Instant::now() < until, "scan never finished: {}", w.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_jobs(&app, &idle).await;

    // A supervised service is a job until it is stopped.
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "sleeper", "command": "sleep 60"}),
    )
    .await;
    let r = app
        .post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.body);
    wait_state(&app, &owner, id, "ready", Duration::from_secs(15)).await;
    let mut busy = idle.clone();
    busy.push(format!("runtime.supervise:{id}"));
    busy.sort();
    assert!(
        busy.iter().all(|j| app.state.jobs.running().contains(j)),
        "{:?}",
        app.state.jobs.running()
    );
    app.post_anon("services/stop", json!({"id": id}), Some(&owner))
        .await;
    wait_state(&app, &owner, id, "stopped", Duration::from_secs(15)).await;
    wait_jobs(&app, &idle).await;

    // Shutdown signals every job and joins them all in time: none has to be aborted.
    let aborted = app.state.jobs.shutdown(Duration::from_secs(10)).await;
    assert_eq!(aborted, Vec::<String>::new());
    assert_eq!(app.state.jobs.running(), Vec::<String>::new());
}
