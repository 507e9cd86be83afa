//! `services/delete`, `services/restart_project` and `services/import_detected` with valid
//! bodies and bad ones (see `endpoints`).

use crate::endpoints::{bad_ids, refused};
use crate::helpers::{spawn_app, TestApp};
use crate::runtime::{create, get, pid_of, project, wait_state};
use app::server::runtime::proc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_stopped_service_is_deleted_but_a_running_or_needed_one_is_refused() {
    let app = spawn_app().await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let db = create(
        &app,
        &owner,
        pid,
        json!({"name": "db", "command": "exec sleep 60"}),
    )
    .await;
    let web = create(
        &app,
        &owner,
        pid,
        json!({"name": "web", "command": "exec sleep 60", "depends_on": ["db"]}),
    )
    .await;
    let solo = create(
        &app,
        &owner,
        pid,
        json!({"name": "solo", "command": "exec sleep 60"}),
    )
    .await;
    let names = || async {
        let r = app
            .post_anon("services/list", json!({"project_id": pid}), Some(&owner))
            .await;
        let items = r.body.as_array().cloned().unwrap_or_default();
        items
            .iter()
            .filter_map(|s| s["definition"]["name"].as_str().map(str::to_owned))
            .collect::<std::collections::BTreeSet<_>>()
    };
    let all = ["db", "solo", "web"].map(str::to_owned).into();
    assert_eq!(names().await, all);

    app.post_anon("services/start", json!({"id": solo}), Some(&owner))
        .await;
    let running = wait_state(&app, &owner, solo, "ready", Duration::from_secs(10)).await;
    for (id, why) in [(solo, "stop the service"), (db, "`web` depends on it")] {
        let r = app
            .post_anon("services/delete", json!({"id": id}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(
            r.body["message"].as_str().is_some_and(|m| m.contains(why)),
            "{}",
            r.body
        );
    }
    refused(&app, &owner, "services/delete", &bad_ids("id")).await;
    assert_eq!(names().await, all, "nothing was removed");
    let still = get(&app, &owner, solo).await;
    assert_eq!(still["state"], "ready");
    assert_eq!(still["last_run"]["pid"], running["last_run"]["pid"]);

    let r = app
        .post_anon("services/stop", json!({"id": solo}), Some(&owner))
        .await;
    assert_eq!(r.body["state"], "stopped", "{}", r.body);
    let runs = app.settings.data_dir.join("runs").join(solo.to_string());
    assert!(runs.exists(), "{} holds its runs", runs.display());
    for id in [solo, web, db] {
        let r = app
            .post_anon("services/delete", json!({"id": id}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let gone = app
            .post_anon("services/get", json!({"id": id}), Some(&owner))
            .await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
    assert!(names().await.is_empty());
    assert!(!runs.exists(), "its run folders went with it");
}

#[tokio::test]
async fn restarting_a_project_gives_every_service_a_new_process() {
    let app = spawn_app().await;
    let _services = app.guard();
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let ids = [
        create(
            &app,
            &owner,
            pid,
            json!({"name": "api", "command": "exec sleep 60"}),
        )
        .await,
        create(
            &app,
            &owner,
            pid,
            json!({"name": "worker", "command": "exec sleep 60", "depends_on": ["api"]}),
        )
        .await,
    ];
    let r = app
        .post_anon(
            "services/start_project",
            json!({"project_id": pid}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut before = Vec::new();
    for id in ids {
        let s = wait_state(&app, &owner, id, "ready", Duration::from_secs(10)).await;
        before.push(pid_of(&s["last_run"]));
    }
    let path = "services/restart_project";
    refused(&app, &owner, path, &bad_ids("project_id")).await;
    let as_viewer = [(json!({"project_id": pid}), StatusCode::FORBIDDEN, "")];
    refused(&app, &viewer, path, &as_viewer).await;
    for (id, old) in ids.iter().zip(&before) {
        let s = get(&app, &owner, *id).await;
        assert_eq!(
            pid_of(&s["last_run"]),
            *old,
            "a refused restart restarts nothing"
        );
    }

    let r = app
        .post_anon(
            "services/restart_project",
            json!({"project_id": pid}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body.as_array().map(Vec::len), Some(2), "{}", r.body);
    for (id, old) in ids.iter().zip(&before) {
        let until = Instant::now() + Duration::from_secs(10);
        let s = loop {
            let s = get(&app, &owner, *id).await;
            if s["state"] == "ready" && pid_of(&s["last_run"]) != *old {
                break s;
            }
            assert!(Instant::now() < until, "never restarted: {s}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            proc::start_time(*old).is_none(),
            "the old process {old} ended"
        );
        assert!(proc::start_time(pid_of(&s["last_run"])).is_some());
        let runs = app
            .post_anon("services/runs", json!({"id": id}), Some(&owner))
            .await;
        assert_eq!(runs.body.as_array().map(Vec::len), Some(2), "{}", runs.body);
        assert_eq!(runs.body[1]["reason"], "stopped by a user", "{}", runs.body);
    }
    app.post_anon(
        "services/stop_project",
        json!({"project_id": pid}),
        Some(&owner),
    )
    .await;
}

/// (name, command, port, origin) of each of the project's services.
async fn service_rows(
    app: &TestApp,
    token: &str,
    pid: i64,
) -> Vec<(String, String, Value, String)> {
    let r = app
        .post_anon("services/list", json!({"project_id": pid}), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut rows: Vec<_> = r
        .body
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            let d = &s["definition"];
            (
                text(&d["name"]),
                text(&d["command"]),
                d["port"].clone(),
                text(&s["origin"]),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

#[tokio::test]
async fn importing_detected_services_adds_what_detection_proposes_once() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let row = |name: &str, command: &str, port: Value, origin: &str| {
        (name.to_owned(), command.to_owned(), port, origin.to_owned())
    };
    let node =
        r#"{"name":"shop","scripts":{"dev":"node server.js"},"dependencies":{"express":"4"}}"#;
    let procfile = "web: python3 -m http.server $PORT\nworker: exec sleep 60\n";
    let (_a, from_node) = project(&app, &owner, &[("package.json", node)]).await;
    let (_b, from_procfile) = project(&app, &owner, &[("Procfile", procfile)]).await;
    let (_c, from_make) = project(&app, &owner, &[]).await;
    // A service the user defined keeps its definition: the import adds by name only.
    create(
        &app,
        &owner,
        from_procfile,
        json!({"name": "worker", "command": "echo mine"}),
    )
    .await;
    let expected = [
        (
            from_node,
            vec![row("app", "npm run dev", json!(3000), "detected")],
        ),
        (
            from_procfile,
            vec![
                row(
                    "web",
                    "python3 -m http.server $PORT",
                    Value::Null,
                    "detected",
                ),
                row("worker", "echo mine", Value::Null, "user"),
            ],
        ),
        (
            from_make,
            vec![row("app", "make run", Value::Null, "detected")],
        ),
    ];
    for (pid, want) in &expected {
        let untouched = service_rows(&app, &owner, *pid).await;
        let path = "services/import_detected";
        refused(&app, &owner, path, &bad_ids("project_id")).await;
        let as_viewer = [(json!({"project_id": pid}), StatusCode::FORBIDDEN, "")];
        refused(&app, &viewer, path, &as_viewer).await;
        assert_eq!(
            service_rows(&app, &owner, *pid).await,
            untouched,
            "refused: no change"
        );
        for call in ["first", "second"] {
            let r = app
                .post_anon(
                    "services/import_detected",
                    json!({"project_id": pid}),
                    Some(&owner),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(
                &service_rows(&app, &owner, *pid).await,
                want,
                "{call} import"
            );
        }
    }
}
