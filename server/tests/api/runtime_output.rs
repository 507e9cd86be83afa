//! What services print and get: output per stream (progress collapsed, searchable), the active
//! environment (secrets encrypted, masked and redacted, changes pending until a restart), and
//! the resources of the whole process tree, sampled, rolled up and exported.

use crate::helpers::spawn_app;
use crate::runtime::{create, get, project, wait_state};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test]
async fn output_is_captured_per_stream_with_progress_collapsed_and_searchable() {
    let app = spawn_app().await;
    let _services = app.guard();
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
    // Valid JSON whose value no regex engine accepts: a rule of the service, not the schema.
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(bad.field(), Some("search"));
}

#[tokio::test]
async fn secrets_are_encrypted_masked_and_redacted_from_logs_and_changes_wait_for_a_restart() {
    let app = spawn_app().await;
    let _services = app.guard();
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

    for (path, body, field, status) in [
        (
            "environments/set_var",
            json!({"environment_id": env_id, "key": "1BAD", "value": "x"}),
            "key",
            StatusCode::BAD_REQUEST,
        ),
        (
            "environments/import_dotenv",
            json!({"environment_id": env_id, "path": "../outside.env"}),
            "path",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "environments/create",
            json!({"project_id": pid, "name": "Prod Env"}),
            "name",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = app.post_anon(path, body, Some(&operator)).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
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
    let _services = app.guard();
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
