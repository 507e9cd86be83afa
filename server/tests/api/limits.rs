//! Resource limits (really enforced, and the method shown), threshold alerts into the
//! notification centre, crash-loop notifications, and log downloads — with real processes.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::runtime::{create, get, project, wait_state};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Holds ~200 MB in a shell variable, then says it survived.
const HOG: &str = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}";

async fn log_text(app: &TestApp, token: &str, id: i64) -> String {
    let logs = app
        .post_anon("services/logs", json!({"service_ids": [id]}), Some(token))
        .await
        .body;
    logs.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The cgroup folder a limit's detail names, if it was enforced by a cgroup.
fn cgroup_of(limit: &Value) -> Option<std::path::PathBuf> {
    limit["detail"]
        .as_str()?
        .strip_prefix("cgroup ")
        .map(std::path::PathBuf::from)
}

#[tokio::test]
async fn a_memory_limit_stops_a_hog_and_the_run_says_how_it_was_enforced() {
    let app = spawn_app().await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let free = create(
        &app,
        &owner,
        pid,
        json!({"name": "free", "command": HOG, "restart": {"mode": "never"}}),
    )
    .await;
    let capped = create(
        &app,
        &owner,
        pid,
        json!({"name": "capped", "command": HOG, "restart": {"mode": "never"},
               "limits": {"memory_mb": 64}}),
    )
    .await;
    for id in [free, capped] {
        let r = app
            .post_anon("services/start", json!({"id": id}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    // Without a limit the shell holds its 200 MB and finishes.
    wait_state(&app, &owner, free, "exited", Duration::from_secs(60)).await;
    assert!(log_text(&app, &owner, free)
        .await
        .contains("survived 200000000"));
    // With one it is stopped (killed by the cgroup, or refused memory under an rlimit).
    let s = wait_state(&app, &owner, capped, "failed", Duration::from_secs(60)).await;
    let log = log_text(&app, &owner, capped).await;
    assert!(!log.contains("survived"), "the capped hog must not finish");
    let limits = s["last_run"]["limits"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(limits.len(), 1, "{s}");
    assert_eq!(limits[0]["limit"], "memory");
    assert_eq!(limits[0]["value"], 64);
    let method = limits[0]["method"].as_str().unwrap_or_default();
    eprintln!("memory limit: {}; the run: {}", limits[0], s["last_run"]);
    // Why it ended must be the limit, not some other failure.
    let run = &s["last_run"];
    match method {
        "cgroup v2" | "cgroup v1" => {
            assert_eq!(run["signal"], 9, "the cgroup's OOM killer: {run}");
            assert_eq!(run["exit_code"], Value::Null, "{run}");
            assert_eq!(run["reason"], "killed by signal 9 (SIGKILL)", "{run}");
        }
        "rlimit" => {
            // The shell cannot grow its address space: dash crashes (SIGSEGV), bash and others
            // abort or exit non-zero saying it cannot allocate.
            let crashed = matches!(run["signal"].as_i64(), Some(6 | 11));
            let refused = run["exit_code"].as_i64().is_some_and(|c| c != 0)
                && ["allocate", "memory"].iter().any(|w| log.contains(w));
            assert!(
                crashed || refused,
                "ended by the rlimit: {run}, log {log:?}"
            );
        }
        other => panic!("a memory limit is always enforced somehow, got {other}"),
    }
    if let Some(dir) = cgroup_of(&limits[0]) {
        assert!(
            !dir.exists(),
            "the run's cgroup {} is removed when it ends",
            dir.display()
        );
    }
}

#[tokio::test]
async fn a_cpu_limit_holds_a_busy_loop_near_its_quota_where_a_cgroup_is_writable() {
    const TEST: &str = "a_cpu_limit_holds_a_busy_loop_near_its_quota_where_a_cgroup_is_writable";
    let app = spawn_app_with(|s| s.sample_interval_ms = 250).await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "spin", "command": "while :; do :; done", "grace_ms": 500,
               "limits": {"cpu_percent": 20}}),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    let s = wait_state(&app, &owner, id, "ready", Duration::from_secs(10)).await;
    let limit = s["last_run"]["limits"][0].clone();
    assert_eq!(limit["limit"], "cpu", "{s}");
    assert_eq!(limit["value"], 20, "{s}");
    eprintln!("cpu limit: {limit}");
    let enforced = limit["method"] != "not enforced";
    if enforced {
        assert!(
            ["cgroup v2", "cgroup v1"].contains(&limit["method"].as_str().unwrap_or_default()),
            "CPU has no rlimit: {limit}"
        );
        // At least six samples after the first, taken under the quota.
        let until = Instant::now() + Duration::from_secs(20);
        let recent = loop {
            let cpu = cpu_samples(&app, &owner, id).await;
            if cpu.len() >= 7 {
                break cpu.iter().rev().take(6).copied().collect::<Vec<f64>>();
            }
            assert!(Instant::now() < until, "too few samples: {cpu:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let mean = recent.iter().sum::<f64>() / recent.len() as f64;
        eprintln!("cpu under a 20% quota: mean {mean:.1}% of {recent:?}");
        assert!(
            (5.0..=35.0).contains(&mean),
            "a 20% quota holds the loop near 20% of a core, saw {mean:.1}% ({recent:?})"
        );
    } else {
        // No writable cgroup here: nothing to measure, but the run must say so plainly, and the
        // service must still run (an unenforceable limit does not stop a start).
        let why = limit["detail"].as_str().unwrap_or_default();
        crate::helpers::skipped(
            TEST,
            &format!("no writable cgroup ({why}); checked the run reports it"),
        );
        assert!(
            why.contains("writable cgroup"),
            "the reason is named: {limit}"
        );
        assert_eq!(get(&app, &owner, id).await["state"], "ready");
    }
    let r = app
        .post_anon("services/stop", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.body["state"], "stopped", "{}", r.body);
    if let Some(dir) = cgroup_of(&limit) {
        assert!(!dir.exists(), "{} removed after stop", dir.display());
    }
}

/// The service's CPU samples, oldest first.
async fn cpu_samples(app: &TestApp, token: &str, id: i64) -> Vec<f64> {
    let samples = app
        .post_anon(
            "metrics/services",
            json!({"service_ids": [id], "range": "15m"}),
            Some(token),
        )
        .await;
    assert_eq!(samples.status, StatusCode::OK, "{}", samples.body);
    samples
        .body
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["cpu_percent"].as_f64()).collect())
        .unwrap_or_default()
}

/// Holds ~60 MB for 3 s, then lets it go and idles.
const BALLOON: &str = r#"
import time
x = b"a" * (60 * 1024 * 1024)
print("holding", flush=True)
time.sleep(3)
del x
print("released", flush=True)
time.sleep(60)
"#;

async fn notifications(app: &TestApp, token: &str) -> Value {
    let r = app
        .post_anon("notifications/list", json!({}), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

fn kinds(list: &Value, service: i64) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|n| n["service_id"] == service)
                .filter_map(|n| n["kind"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_alert_fires_once_and_resolves_in_the_notification_centre_read_per_user() {
    let app = spawn_app_with(|s| s.sample_interval_ms = 200).await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let (_dir, pid) = project(&app, &owner, &[("balloon.py", BALLOON)]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "balloon", "command": "exec python3 balloon.py", "grace_ms": 500,
               "alerts": [{"metric": "memory", "above": 40, "for_secs": 1}]}),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    let until = Instant::now() + Duration::from_secs(20);
    let list = loop {
        let list = notifications(&app, &viewer).await;
        if kinds(&list, id).contains(&"alert_resolved".to_owned()) {
            break list;
        }
        assert!(Instant::now() < until, "no fired+resolved alert: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Newest first: resolved, then fired, once each.
    assert_eq!(kinds(&list, id), vec!["alert_resolved", "alert"], "{list}");
    let fired = list["items"]
        .as_array()
        .and_then(|a| a.iter().find(|n| n["kind"] == "alert").cloned())
        .unwrap_or(Value::Null);
    assert_eq!(fired["level"], "warning");
    assert_eq!(fired["project_id"], pid);
    assert!(
        fired["title"]
            .as_str()
            .is_some_and(|t| t.contains("balloon") && t.contains("memory above 40 MiB")),
        "{fired}"
    );
    assert_eq!(list["unread"], 2);
    // Reading is per user.
    let after = app
        .post_anon("notifications/mark_read", json!({}), Some(&viewer))
        .await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert_eq!(after.body["unread"], 0);
    assert!(after.body["items"]
        .as_array()
        .is_some_and(|a| a.iter().all(|n| n["read"] == true)));
    assert_eq!(notifications(&app, &owner).await["unread"], 2);
    let unread_only = app
        .post_anon(
            "notifications/list",
            json!({"unread_only": true}),
            Some(&viewer),
        )
        .await
        .body;
    assert_eq!(unread_only["items"], json!([]));
    let bad = app
        .post_anon("notifications/list", json!({"limit": 0}), Some(&viewer))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "limit");
    let anon = app.post_anon("notifications/list", json!({}), None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    app.post_anon("services/stop", json!({"id": id}), Some(&owner))
        .await;
}

#[tokio::test]
async fn a_crash_loop_is_a_notification_too() {
    let app = spawn_app().await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "flaky", "command": "exit 4",
               "restart": {"mode": "on-failure", "max_retries": 1, "backoff_ms": 50}}),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    wait_state(&app, &owner, id, "crash_loop", Duration::from_secs(15)).await;
    let list = notifications(&app, &owner).await;
    assert_eq!(kinds(&list, id), vec!["crash_loop"], "{list}");
    assert_eq!(list["items"][0]["level"], "error");
}

#[tokio::test]
async fn bad_limits_and_alerts_are_refused_naming_the_field_and_descriptors_carry_them() {
    let app = spawn_app().await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let toml = r#"
[[services]]
name = "api"
command = "sleep 60"
limits = { memory_mb = 128, open_files = 256 }

[[services.alerts]]
metric = "cpu"
above = 90
for_secs = 60
"#;
    let (_dir, pid) = project(&app, &owner, &[("optimus.toml", toml)]).await;
    // The runtime calls bring services in line with the descriptor.
    let status = app
        .post_anon("runtime/status", json!({"project_id": pid}), Some(&owner))
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let services = app
        .post_anon("services/list", json!({"project_id": pid}), Some(&owner))
        .await
        .body;
    let api = &services[0]["definition"];
    assert_eq!(api["limits"]["memory_mb"], 128, "{services}");
    assert_eq!(api["limits"]["open_files"], 256);
    assert_eq!(
        api["alerts"],
        json!([{"metric": "cpu", "above": 90.0, "for_secs": 60}])
    );
    for (definition, field) in [
        (
            json!({"name": "a", "command": "true", "limits": {"memory_mb": 1}}),
            "definition.limits.memory_mb",
        ),
        (
            json!({"name": "a", "command": "true", "limits": {"cpu_percent": 0}}),
            "definition.limits.cpu_percent",
        ),
        (
            json!({"name": "a", "command": "true", "alerts": [{"metric": "memory", "above": -1}]}),
            "definition.alerts.0.above",
        ),
    ] {
        let r = app
            .post_anon(
                "services/create",
                json!({"project_id": pid, "definition": definition}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["field"], field, "{}", r.body);
    }
    let after = app
        .post_anon("services/list", json!({"project_id": pid}), Some(&owner))
        .await
        .body;
    assert_eq!(after.as_array().map(Vec::len), Some(1), "nothing was added");
}

#[tokio::test]
async fn a_run_log_downloads_as_text_with_credentials_only() {
    let app = spawn_app().await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "say", "command": "echo hello; echo oops >&2", "restart": {"mode": "never"}}),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    let s = wait_state(&app, &owner, id, "exited", Duration::from_secs(10)).await;
    let run_id = s["last_run"]["id"].as_i64().expect("run id");
    let url = |q: &str| format!("{}/api/v1/services/logs/download?{q}", app.addr);
    let res = reqwest::Client::new()
        .get(url(&format!("service_id={id}")))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"say-run-{run_id}.log\"")
    );
    let text = res.text().await.expect("body");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines.iter().any(|l| l.ends_with(" stdout hello")), "{text}");
    assert!(lines.iter().any(|l| l.ends_with(" stderr oops")), "{text}");
    for (query, bearer, status) in [
        (format!("service_id={id}"), None, StatusCode::UNAUTHORIZED),
        (
            "service_id=999999".to_owned(),
            Some(&owner),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("service_id={id}&run_id=424242"),
            Some(&owner),
            StatusCode::NOT_FOUND,
        ),
        (
            "service_id=abc".to_owned(),
            Some(&owner),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let mut req = reqwest::Client::new().get(url(&query));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        assert_eq!(res.status(), status, "{query}");
    }
}
