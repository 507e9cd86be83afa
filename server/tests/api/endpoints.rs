//! Endpoints no other test calls with a valid body: each does what it says, and its bad inputs
//! (an unknown id, a wrong type, a missing field, a caller without the right) are refused
//! without changing anything. Workspaces and environments here; services in
//! `endpoints_services`.

use crate::helpers::{spawn_app, TestApp};
use crate::runtime::project;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Each call is refused with `status`, naming `field` when there is one.
pub(crate) async fn refused(
    app: &TestApp,
    token: &str,
    path: &str,
    cases: &[(Value, StatusCode, &str)],
) {
    for (body, status, field) in cases {
        let r = app.post_anon(path, body.clone(), Some(token)).await;
        assert_eq!(r.status, *status, "{path} {body}: {}", r.body);
        if !field.is_empty() {
            assert_eq!(r.field(), Some(*field), "{path} {body}: {}", r.body);
        }
    }
}

/// The usual bad bodies of an endpoint taking one id `field`: unknown, wrong type, missing.
pub(crate) fn bad_ids(field: &str) -> Vec<(Value, StatusCode, &str)> {
    vec![
        (json!({ field: 999_999 }), StatusCode::NOT_FOUND, ""),
        (json!({ field: "one" }), StatusCode::BAD_REQUEST, field),
        (json!({}), StatusCode::BAD_REQUEST, field),
    ]
}

/// Polls a workspace until its scan is over.
async fn scanned(app: &TestApp, token: &str, id: i64) -> Value {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let w = app
            .post_anon("workspaces/get", json!({"id": id}), Some(token))
            .await;
        if w.body["scan_state"] == "done" {
            return w.body;
        }
        assert!(Instant::now() < until, "scan never finished: {}", w.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every file under `dir` with its contents, sorted.
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).expect("read")));
        }
    }
    out.sort();
    out
}

async fn workspace_ids(app: &TestApp, token: &str, body: Value) -> (Vec<i64>, Value) {
    let r = app.post_anon("workspaces/list", body, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ids = r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|w| w["id"].as_i64())
        .collect();
    (ids, r.body["next_cursor"].clone())
}

#[tokio::test]
async fn workspaces_list_in_pages_and_remove_unlinks_projects_without_touching_files() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let folders: Vec<tempfile::TempDir> = (0..3)
        .map(|i| {
            let ws = tempfile::tempdir().expect("tempdir");
            std::fs::create_dir(ws.path().join("app")).expect("mkdir");
            let manifest = format!(r#"{{"name":"app-{i}","scripts":{{"dev":"node ."}}}}"#);
            std::fs::write(ws.path().join("app/package.json"), manifest).expect("write");
            ws
        })
        .collect();
    let mut added = Vec::new();
    for ws in &folders {
        let r = app
            .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let id = r.body["id"].as_i64().expect("id");
        assert_eq!(scanned(&app, &owner, id).await["projects_found"], 1);
        added.push(id);
    }

    // Two pages of two and one, in order, without gaps or repeats; a viewer may read them.
    let (first, cursor) = workspace_ids(&app, &viewer, json!({"limit": 2})).await;
    assert_eq!(first, added[..2]);
    assert!(cursor.is_string(), "more remain");
    let (rest, end) = workspace_ids(&app, &viewer, json!({"limit": 2, "cursor": cursor})).await;
    assert_eq!(rest, added[2..]);
    assert!(end.is_null(), "the last page has no cursor");
    assert_eq!(
        workspace_ids(&app, &viewer, json!({"limit": 200})).await.0,
        added
    );
    let bad_pages: Vec<(Value, StatusCode, &str)> = vec![
        (json!({"limit": 0}), StatusCode::BAD_REQUEST, "limit"),
        (json!({"limit": 201}), StatusCode::BAD_REQUEST, "limit"),
        (json!({"limit": "two"}), StatusCode::BAD_REQUEST, "limit"),
        (json!({"cursor": "nope"}), StatusCode::BAD_REQUEST, "cursor"),
    ];
    refused(&app, &viewer, "workspaces/list", &bad_pages).await;

    // Refused removals change nothing.
    refused(&app, &owner, "workspaces/remove", &bad_ids("id")).await;
    let forbidden = [(json!({"id": added[0]}), StatusCode::FORBIDDEN, "")];
    refused(&app, &viewer, "workspaces/remove", &forbidden).await;
    assert_eq!(workspace_ids(&app, &owner, json!({})).await.0, added);

    // Removing one: gone from the list, its project stays listed but unlinked, files as they were.
    let before = snapshot(folders[0].path());
    let projects =
        |ws: i64| app.post_anon("projects/list", json!({"workspace_id": ws}), Some(&owner));
    let linked = projects(added[0]).await.body["items"].clone();
    let project_id = linked[0]["id"].as_i64().expect("the workspace's project");
    let r = app
        .post_anon("workspaces/remove", json!({"id": added[0]}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(workspace_ids(&app, &owner, json!({})).await.0, added[1..]);
    let gone = app
        .post_anon("workspaces/get", json!({"id": added[0]}), Some(&owner))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(projects(added[0]).await.body["items"], json!([]));
    let p = app
        .post_anon("projects/get", json!({"id": project_id}), Some(&owner))
        .await;
    assert_eq!(p.status, StatusCode::OK, "still in the catalog: {}", p.body);
    assert_eq!(p.body["workspace_id"], Value::Null, "{}", p.body);
    let all = app
        .post_anon("projects/list", json!({}), Some(&owner))
        .await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(snapshot(folders[0].path()), before, "files untouched");
    let again = app
        .post_anon("workspaces/remove", json!({"id": added[0]}), Some(&owner))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

/// A project with environments `development` (active, first) and `staging`, each with
/// variables; returns (folder, project id, [development id, staging id]).
async fn with_environments(app: &TestApp, token: &str) -> (tempfile::TempDir, i64, [i64; 2]) {
    let (dir, pid) = project(app, token, &[]).await;
    let mut ids = [0; 2];
    for (i, name) in ["development", "staging"].into_iter().enumerate() {
        let r = app
            .post_anon(
                "environments/create",
                json!({"project_id": pid, "name": name}),
                Some(token),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        ids[i] = r.body[i]["id"].as_i64().expect("id");
        for (key, secret) in [("HOST", false), ("PORT_NAME", false), ("API_TOKEN", true)] {
            let r = app
                .post_anon(
                    "environments/set_var",
                    json!({"environment_id": ids[i], "key": key, "value": format!("{name}-{key}"), "secret": secret}),
                    Some(token),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }
    (dir, pid, ids)
}

async fn environments(app: &TestApp, token: &str, pid: i64) -> Value {
    let r = app
        .post_anon("environments/list", json!({"project_id": pid}), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// (name, active, keys) of each environment.
fn shape(list: &Value) -> Vec<(String, bool, Vec<String>)> {
    list.as_array()
        .expect("environments")
        .iter()
        .map(|e| {
            let keys = e["vars"].as_array().expect("vars").iter();
            (
                e["name"].as_str().unwrap_or_default().to_owned(),
                e["active"] == true,
                keys.filter_map(|v| v["key"].as_str().map(str::to_owned))
                    .collect(),
            )
        })
        .collect()
}

/// Rows left in `env_vars` for an environment (the API cannot list a deleted one's).
async fn stored_vars(app: &TestApp, environment_id: i64) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = format!("SELECT COUNT(*) AS n FROM env_vars WHERE environment_id = {environment_id}");
    let db = &app.state.db;
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("count")
}

#[tokio::test]
async fn deleting_an_environment_removes_it_and_its_variables_only() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let (_dir, pid, [dev, staging]) = with_environments(&app, &owner).await;
    let keys = || {
        ["API_TOKEN", "HOST", "PORT_NAME"]
            .map(str::to_owned)
            .to_vec()
    };
    let before = shape(&environments(&app, &owner, pid).await);
    assert_eq!(
        before,
        vec![
            ("development".to_owned(), true, keys()),
            ("staging".to_owned(), false, keys())
        ]
    );
    refused(&app, &owner, "environments/delete", &bad_ids("id")).await;
    let forbidden = [(json!({"id": staging}), StatusCode::FORBIDDEN, "")];
    refused(&app, &viewer, "environments/delete", &forbidden).await;
    assert_eq!(shape(&environments(&app, &owner, pid).await), before);

    let r = app
        .post_anon("environments/delete", json!({"id": staging}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        shape(&environments(&app, &owner, pid).await),
        vec![("development".to_owned(), true, keys())]
    );
    assert_eq!(
        stored_vars(&app, staging).await,
        0,
        "its variables went too"
    );
    assert_eq!(stored_vars(&app, dev).await, 3, "the other's stayed");
    let r = app
        .post_anon(
            "environments/set_var",
            json!({"environment_id": staging, "key": "X", "value": "y"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "gone: {}", r.body);
    let again = app
        .post_anon("environments/delete", json!({"id": staging}), Some(&owner))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn activating_an_environment_leaves_exactly_one_active_in_its_project() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid, [dev, staging]) = with_environments(&app, &owner).await;
    let (_other_dir, other, [other_dev, _]) = with_environments(&app, &owner).await;
    let active = |list: &Value| -> Vec<i64> {
        list.as_array()
            .expect("environments")
            .iter()
            .filter(|e| e["active"] == true)
            .filter_map(|e| e["id"].as_i64())
            .collect()
    };
    for (id, twice) in [(staging, false), (staging, true), (dev, false)] {
        let r = app
            .post_anon("environments/activate", json!({"id": id}), Some(&owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(active(&r.body), vec![id], "again: {twice}: {}", r.body);
        assert_eq!(active(&environments(&app, &owner, pid).await), vec![id]);
    }
    assert_eq!(
        active(&environments(&app, &owner, other).await),
        vec![other_dev],
        "another project's active environment is its own"
    );
    refused(&app, &owner, "environments/activate", &bad_ids("id")).await;
    assert_eq!(active(&environments(&app, &owner, pid).await), vec![dev]);
}

#[tokio::test]
async fn deleting_a_variable_removes_only_that_key_of_that_environment() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid, [dev, staging]) = with_environments(&app, &owner).await;
    let before = shape(&environments(&app, &owner, pid).await);
    let bad: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"environment_id": dev, "key": "NOPE"}),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            json!({"environment_id": 999_999, "key": "HOST"}),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            json!({"environment_id": "dev", "key": "HOST"}),
            StatusCode::BAD_REQUEST,
            "environment_id",
        ),
        (
            json!({"environment_id": dev, "key": 7}),
            StatusCode::BAD_REQUEST,
            "key",
        ),
        (
            json!({"environment_id": dev}),
            StatusCode::BAD_REQUEST,
            "key",
        ),
        (
            json!({"key": "HOST"}),
            StatusCode::BAD_REQUEST,
            "environment_id",
        ),
    ];
    refused(&app, &owner, "environments/delete_var", &bad).await;
    assert_eq!(shape(&environments(&app, &owner, pid).await), before);

    for key in ["HOST", "API_TOKEN"] {
        let r = app
            .post_anon(
                "environments/delete_var",
                json!({"environment_id": dev, "key": key}),
                Some(&owner),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let after = environments(&app, &owner, pid).await;
    assert_eq!(
        shape(&after),
        vec![
            ("development".to_owned(), true, vec!["PORT_NAME".to_owned()]),
            before[1].clone()
        ]
    );
    assert_eq!(after[0]["vars"][0]["value"], "development-PORT_NAME");
    assert_eq!(stored_vars(&app, staging).await, 3);
}
