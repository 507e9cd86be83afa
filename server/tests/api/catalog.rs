//! The catalog over a generated tree of small, realistic projects.

use crate::helpers::{git, spawn_app, TestApp};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

fn write(root: &Path, path: &str, body: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, body).expect("write");
}

/// A workspace of one project per ecosystem, a monorepo, a broken manifest, a dependency folder
/// that must be skipped, and a dirty repository one commit ahead of and behind its remote.
fn fixture(ws: &Path, outside: &Path) {
    write(ws, "rust-cli/Cargo.toml", "[package]\nname = \"rust-cli\"\nversion = \"0.1.0\"\ndescription = \"A command line tool\"\n");
    write(ws, "rust-cli/src/main.rs", "fn main() {}\n");
    write(
        ws,
        "web/package.json",
        r#"{"name":"web","scripts":{"dev":"vite","build":"vite build"},"devDependencies":{"vite":"^5"}}"#,
    );
    write(ws, "web/pnpm-lock.yaml", "");
    write(
        ws,
        "web/node_modules/left-pad/package.json",
        r#"{"name":"left-pad"}"#,
    );
    write(
        ws,
        "pyapi/pyproject.toml",
        "[project]\nname = \"pyapi\"\ndependencies = [\"fastapi\"]\n",
    );
    write(ws, "pyapi/uv.lock", "");
    write(
        ws,
        "clients/gosvc/go.mod",
        "module example.com/gosvc\n\ngo 1.22\n",
    );
    write(ws, "clients/gosvc/main.go", "package main\n");
    write(ws, "broken/package.json", "{ this is not json");
    write(
        ws,
        "mono/package.json",
        r#"{"name":"mono","private":true,"workspaces":["packages/*"]}"#,
    );
    write(
        ws,
        "mono/packages/ui/package.json",
        r#"{"name":"@mono/ui"}"#,
    );
    write(
        ws,
        "mono/services/api/Cargo.toml",
        "[package]\nname = \"mono-api\"\nversion = \"0.1.0\"\n",
    );
    write(ws, "site/index.html", "<h1>hi</h1>");
    write(ws, "notes/readme.txt", "not a project");

    let repo = ws.join("repo");
    write(
        &repo,
        "Gemfile",
        "source 'https://rubygems.org'\ngem 'rails'\n",
    );
    write(&repo, "README.md", "one\n");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "first"]);
    let remote = outside.join("remote.git");
    git(
        outside,
        &[
            "clone",
            "-q",
            "--bare",
            repo.to_str().expect("utf8"),
            "remote.git",
        ],
    );
    git(
        &repo,
        &["remote", "add", "origin", remote.to_str().expect("utf8")],
    );
    git(&repo, &["fetch", "-q", "origin"]);
    git(&repo, &["branch", "-q", "-u", "origin/main", "main"]);
    git(
        outside,
        &["clone", "-q", remote.to_str().expect("utf8"), "other"],
    );
    write(&outside.join("other"), "other.txt", "theirs\n");
    git(&outside.join("other"), &["add", "."]);
    git(&outside.join("other"), &["commit", "-qm", "theirs"]);
    git(&outside.join("other"), &["push", "-q", "origin", "main"]);
    git(&repo, &["fetch", "-q", "origin"]);
    write(&repo, "mine.txt", "mine\n");
    git(&repo, &["add", "mine.txt"]);
    git(&repo, &["commit", "-qm", "mine: local change"]);
    write(&repo, "README.md", "one, edited\n");
    write(&repo, "scratch.txt", "untracked\n");
}

async fn wait_for_scan(app: &TestApp, token: &str, id: i64) -> Value {
    for _ in 0..200 {
        let r = app
            .post_anon("workspaces/get", json!({"id": id}), Some(token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["scan_state"] != "running" {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("scan did not finish within 20 s");
}

fn by_name<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no project {name} in {items:?}"))
}

#[tokio::test]
async fn a_scan_catalogs_every_project_with_stacks_commands_and_git_state() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let ws = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    fixture(ws.path(), outside.path());

    let added = app
        .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let id = added.body["id"].as_i64().expect("id");
    let done = wait_for_scan(&app, &owner, id).await;
    assert_eq!(done["scan_state"], "done", "{done}");
    assert_eq!(done["projects_found"], 8);

    let list = app
        .post_anon("projects/list", json!({"limit": 200}), Some(&owner))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    let mut names: Vec<_> = items
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["broken", "gosvc", "mono", "pyapi", "repo", "rust-cli", "site", "web"]
    );

    let rust = by_name(&items, "rust-cli");
    assert_eq!(rust["stacks"], json!(["rust"]));
    assert_eq!(rust["description"], "A command line tool");
    assert!(rust["git"].is_null());
    let run = rust["commands"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["kind"] == "run"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(run["command"], "cargo run");
    assert_eq!(run["source"], "Cargo.toml");

    let web = by_name(&items, "web");
    assert_eq!(web["stacks"], json!(["node"]));
    assert_eq!(web["port"], 5173);
    assert!(web["frameworks"]
        .as_array()
        .is_some_and(|f| f.contains(&json!("vite")) && f.contains(&json!("pnpm"))));

    assert_eq!(by_name(&items, "pyapi")["stacks"], json!(["python"]));
    assert_eq!(by_name(&items, "gosvc")["stacks"], json!(["go"]));
    assert_eq!(by_name(&items, "site")["stacks"], json!(["static"]));

    let broken = by_name(&items, "broken");
    assert!(
        broken["errors"][0]
            .as_str()
            .is_some_and(|e| e.starts_with("package.json")),
        "{broken}"
    );

    let mono = by_name(&items, "mono");
    assert_eq!(mono["stacks"], json!(["rust", "node"]));
    let comps: Vec<_> = mono["components"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| c["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(comps, vec!["packages/ui", "services/api"]);

    let repo = by_name(&items, "repo");
    assert_eq!(repo["stacks"], json!(["ruby"]));
    let g = &repo["git"];
    assert_eq!(g["branch"], "main", "{g}");
    assert_eq!(g["detached"], false);
    assert_eq!(g["ahead"], 1, "{g}");
    assert_eq!(g["behind"], 1, "{g}");
    assert_eq!(g["dirty"], true);
    assert_eq!(g["modified"], 1);
    assert_eq!(g["untracked"], 1);
    assert_eq!(g["upstream"], "origin/main");
    assert_eq!(g["last_commit"]["subject"], "mine: local change");
    assert_eq!(g["last_commit"]["author"], "Test");
}

#[tokio::test]
async fn filters_search_and_stack_and_refuses_an_unknown_stack() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let ws = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    fixture(ws.path(), outside.path());
    let id = app
        .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    wait_for_scan(&app, &owner, id).await;

    let rust = app
        .post_anon("projects/list", json!({"stack": "rust"}), Some(&owner))
        .await;
    let names: Vec<_> = rust.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, vec!["mono", "rust-cli"]);
    let found = app
        .post_anon(
            "projects/list",
            json!({"search": "COMMAND line"}),
            Some(&owner),
        )
        .await;
    assert_eq!(found.body["items"].as_array().map(Vec::len), Some(1));
    // `_` and `%` are taken literally, not as SQL wildcards (`rust_cli` is not `rust-cli`).
    for literal in ["rust_cli", "%", "rust%cli"] {
        let none = app
            .post_anon("projects/list", json!({"search": literal}), Some(&owner))
            .await;
        assert_eq!(none.status, StatusCode::OK, "{literal}");
        assert_eq!(
            none.body["items"].as_array().map(Vec::len),
            Some(0),
            "{literal}: {}",
            none.body
        );
    }
    let bad = app
        .post_anon("projects/list", json!({"stack": "cobol"}), Some(&owner))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.field(), Some("stack"));

    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = app
            .post_anon(
                "projects/list",
                json!({"limit": 3, "cursor": cursor}),
                Some(&owner),
            )
            .await;
        for p in page.body["items"].as_array().cloned().unwrap_or_default() {
            seen.push(p["name"].as_str().unwrap_or_default().to_lowercase());
        }
        cursor = page.body["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages follow the name order");
    assert_eq!(seen.len(), 8);
}

#[tokio::test]
async fn a_rescan_skips_unchanged_projects_and_marks_vanished_ones_missing() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let ws = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    fixture(ws.path(), outside.path());
    let id = app
        .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    wait_for_scan(&app, &owner, id).await;
    let before = app
        .post_anon("projects/list", json!({"search": "rust-cli"}), Some(&owner))
        .await
        .body["items"][0]
        .clone();

    std::fs::remove_dir_all(ws.path().join("site")).expect("remove");
    let r = app
        .post_anon("workspaces/scan", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done = wait_for_scan(&app, &owner, id).await;
    assert_eq!(done["projects_found"], 7);

    let after = app
        .post_anon("projects/get", json!({"id": before["id"]}), Some(&owner))
        .await
        .body;
    assert_eq!(
        after["scanned_at"], before["scanned_at"],
        "an unchanged project is not re-examined"
    );
    let site = app
        .post_anon("projects/list", json!({"search": "site"}), Some(&owner))
        .await
        .body["items"][0]
        .clone();
    assert_eq!(
        site["status"], "missing",
        "vanished projects are kept and marked, never deleted"
    );
}

#[tokio::test]
async fn workspace_paths_are_checked_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    // Not absolute: the document says so (400); missing or a system folder: the disk says so
    // (422).
    for (path, status) in [
        ("relative/path", StatusCode::BAD_REQUEST),
        ("/no/such/folder/anywhere", StatusCode::UNPROCESSABLE_ENTITY),
        ("/", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = app
            .post_anon("workspaces/add", json!({"path": path}), Some(&owner))
            .await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert_eq!(r.field(), Some("path"));
    }
    let ws = tempfile::tempdir().expect("tempdir");
    let first = app
        .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let again = app
        .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let denied = app
        .post_anon("workspaces/add", json!({"path": "/tmp"}), Some(&viewer))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

async fn scanned_app() -> (TestApp, String, tempfile::TempDir, tempfile::TempDir, i64) {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let ws = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    fixture(ws.path(), outside.path());
    let id = app
        .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
        .await
        .body["id"]
        .as_i64()
        .expect("id");
    wait_for_scan(&app, &owner, id).await;
    (app, owner, ws, outside, id)
}

async fn project_named(app: &TestApp, token: &str, name: &str) -> Value {
    let r = app
        .post_anon(
            "projects/list",
            json!({"search": name, "limit": 200}),
            Some(token),
        )
        .await;
    r.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .find(|p| p["name"] == name)
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn user_edits_survive_rescans_and_clearing_one_brings_detection_back() {
    let (app, owner, ws, _outside, wid) = scanned_app().await;
    let p = project_named(&app, &owner, "rust-cli").await;
    let r = app
        .post_anon(
            "projects/update",
            json!({"id": p["id"], "name": "Renamed CLI", "tags": ["Backend", "team-a", "backend"], "lifecycle": "active",
                   "commands": [{"kind": "run", "command": "cargo run --release"}]}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["tags"], json!(["backend", "team-a"]));
    let run = r.body["commands"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["kind"] == "run"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(run["command"], "cargo run --release");
    assert_eq!(run["source"], "set by a user");

    write(
        ws.path(),
        "rust-cli/Cargo.toml",
        "[package]\nname = \"rust-cli\"\nversion = \"0.2.0\"\ndescription = \"Changed\"\n",
    );
    app.post_anon("workspaces/scan", json!({"id": wid}), Some(&owner))
        .await;
    wait_for_scan(&app, &owner, wid).await;
    let after = app
        .post_anon("projects/get", json!({"id": p["id"]}), Some(&owner))
        .await
        .body;
    assert_eq!(
        after["name"], "Renamed CLI",
        "the override wins over the rescan"
    );
    assert_eq!(
        after["description"], "Changed",
        "fields not overridden follow the files"
    );
    assert_eq!(after["overridden"], json!(["name", "commands"]));

    app.post_anon(
        "projects/update",
        json!({"id": p["id"], "name": ""}),
        Some(&owner),
    )
    .await;
    app.post_anon("workspaces/scan", json!({"id": wid}), Some(&owner))
        .await;
    wait_for_scan(&app, &owner, wid).await;
    let reset = app
        .post_anon("projects/get", json!({"id": p["id"]}), Some(&owner))
        .await
        .body;
    assert_eq!(reset["name"], "rust-cli");
    let tagged = app
        .post_anon("projects/list", json!({"tag": "team-a"}), Some(&owner))
        .await;
    assert_eq!(tagged.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn favorites_archive_and_delete_change_the_catalog_but_never_the_disk() {
    let (app, owner, ws, _outside, _wid) = scanned_app().await;
    let web = project_named(&app, &owner, "web").await;
    let go = project_named(&app, &owner, "gosvc").await;
    let site = project_named(&app, &owner, "site").await;
    app.post_anon(
        "projects/favorite",
        json!({"id": web["id"], "value": true}),
        Some(&owner),
    )
    .await;
    let favs = app
        .post_anon("projects/list", json!({"favorite": true}), Some(&owner))
        .await;
    assert_eq!(favs.body["items"][0]["name"], "web");
    assert_eq!(favs.body["items"].as_array().map(Vec::len), Some(1));

    app.post_anon(
        "projects/archive",
        json!({"id": go["id"], "value": true}),
        Some(&owner),
    )
    .await;
    let active = app
        .post_anon("projects/list", json!({"limit": 200}), Some(&owner))
        .await;
    assert!(!active.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .any(|p| p["name"] == "gosvc"));
    let archived = app
        .post_anon("projects/list", json!({"archived": true}), Some(&owner))
        .await;
    assert_eq!(archived.body["items"][0]["name"], "gosvc");

    let r = app
        .post_anon("projects/delete", json!({"id": site["id"]}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        app.post_anon("projects/get", json!({"id": site["id"]}), Some(&owner))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        ws.path().join("site/index.html").exists(),
        "deleting a catalog entry never deletes files"
    );

    let facets = app
        .post_anon("projects/facets", json!({}), Some(&owner))
        .await;
    assert_eq!(facets.status, StatusCode::OK, "{}", facets.body);
    assert_eq!(facets.body["total"], 6);
    assert_eq!(facets.body["stacks"]["node"], 3);
    assert_eq!(facets.body["favorites"], 1);
    assert_eq!(facets.body["dirty"], 1);
    assert_eq!(facets.body["behind"], 1);
}

#[tokio::test]
async fn a_project_can_be_added_by_path_once() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "mix.exs", "defmodule X.MixProject do\n  def project, do: [app: :hello, deps: [{:phoenix, \"~> 1.7\"}]]\nend\n");
    let r = app
        .post_anon("projects/create", json!({"path": dir.path()}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["stacks"], json!(["elixir"]));
    assert_eq!(r.body["port"], 4000);
    assert!(r.body["workspace_id"].is_null());
    let again = app
        .post_anon("projects/create", json!({"path": dir.path()}), Some(&owner))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_filtered_list_exports_as_csv_and_json() {
    let (app, owner, _ws, _outside, _wid) = scanned_app().await;
    let csv = app
        .client
        .get(format!(
            "{}/api/v1/projects/export?format=csv&stack=node",
            app.addr
        ))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("export");
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap_or_default()
        .contains("attachment"));
    let text = csv.text().await.unwrap_or_default();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,name,path,stacks,tags,status,favorite,archived,branch,dirty,ahead,behind,description"
    );
    let names: Vec<_> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(names, vec!["broken", "mono", "web"]);

    let json_export: Value = app
        .client
        .get(format!("{}/api/v1/projects/export?format=json", app.addr))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("export")
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(json_export.as_array().map(Vec::len), Some(8));

    let anon = reqwest::get(format!("{}/api/v1/projects/export", app.addr))
        .await
        .expect("export");
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    let bad = app
        .client
        .get(format!("{}/api/v1/projects/export?format=xls", app.addr))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("export");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // The export link carries the page's own encoding of the filters (`q`, `favorite=1`).
    let web = project_named(&app, &owner, "web").await;
    let r = app
        .post(
            "projects/favorite",
            json!({"id": web["id"], "value": true}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (query, expected) in [("favorite=1", vec!["web"]), ("favorite=1&q=zzz", vec![])] {
        let res = app
            .client
            .get(format!(
                "{}/api/v1/projects/export?format=json&{query}",
                app.addr
            ))
            .bearer_auth(&owner)
            .send()
            .await
            .expect("export");
        assert_eq!(res.status(), StatusCode::OK);
        let names: Vec<String> = res
            .json::<Value>()
            .await
            .unwrap_or_default()
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(names, expected, "{query}");
    }
    let bad = app
        .client
        .get(format!("{}/api/v1/projects/export?favorite=yes", app.addr))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("export");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap_or_default();
    assert_eq!(body["field"], "favorite", "{body}");
}

#[tokio::test]
async fn bad_curation_input_names_the_field() {
    let (app, owner, _ws, _outside, _wid) = scanned_app().await;
    let p = project_named(&app, &owner, "web").await;
    for (body, field) in [
        (json!({"id": p["id"], "lifecycle": "forever"}), "lifecycle"),
        (json!({"id": p["id"], "tags": ["has space"]}), "tags"),
        (json!({"id": p["id"], "name": "x".repeat(500)}), "name"),
    ] {
        let r = app.post_anon("projects/update", body, Some(&owner)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.field(), Some(field));
    }
    let r = app
        .post_anon("projects/list", json!({"git": "sideways"}), Some(&owner))
        .await;
    assert_eq!(r.field(), Some("git"));
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let denied = app
        .post_anon(
            "projects/favorite",
            json!({"id": p["id"], "value": true}),
            Some(&viewer),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_optimus_toml_overrides_detection_and_can_be_written_from_the_catalog() {
    let (app, owner, ws, _outside, wid) = scanned_app().await;
    write(
        ws.path(),
        "pyapi/optimus.toml",
        "name = \"Payments API\"\ntags = [\"payments\"]\nowner = \"team-pay\"\nlifecycle = \"active\"\n\n[commands]\nrun = \"uv run uvicorn app:app\"\n\n[[services]]\nname = \"api\"\ncommand = \"uv run uvicorn app:app\"\nport = 8100\n",
    );
    write(ws.path(), "web/optimus.toml", "nmae = \"typo\"\n");
    app.post_anon("workspaces/scan", json!({"id": wid}), Some(&owner))
        .await;
    wait_for_scan(&app, &owner, wid).await;

    let pay = project_named(&app, &owner, "Payments API").await;
    assert_eq!(pay["tags"], json!(["payments"]));
    assert_eq!(pay["owner"], "team-pay");
    assert_eq!(pay["port"], 8100);
    assert_eq!(pay["services"][0]["name"], "api");
    let run = pay["commands"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["kind"] == "run"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(run["source"], "optimus.toml");
    let web = project_named(&app, &owner, "web").await;
    assert!(
        web["errors"].as_array().is_some_and(|e| e.iter().any(|e| e
            .as_str()
            .is_some_and(|e| e.contains("optimus.toml") && e.contains("nmae")))),
        "{web}"
    );

    // A user's tag edit wins over the file on later scans.
    app.post_anon(
        "projects/update",
        json!({"id": pay["id"], "tags": ["mine"]}),
        Some(&owner),
    )
    .await;
    write(
        ws.path(),
        "pyapi/optimus.toml",
        "name = \"Payments API\"\ntags = [\"payments\", \"v2\"]\n",
    );
    app.post_anon("workspaces/scan", json!({"id": wid}), Some(&owner))
        .await;
    wait_for_scan(&app, &owner, wid).await;
    assert_eq!(
        app.post_anon("projects/get", json!({"id": pay["id"]}), Some(&owner))
            .await
            .body["tags"],
        json!(["mine"])
    );

    let go = project_named(&app, &owner, "gosvc").await;
    let r = app
        .post_anon(
            "projects/write_descriptor",
            json!({"id": go["id"]}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let text =
        std::fs::read_to_string(ws.path().join("clients/gosvc/optimus.toml")).expect("written");
    assert!(
        text.contains("name = \"gosvc\"") && text.contains("go test ./..."),
        "{text}"
    );
    let again = app
        .post_anon(
            "projects/write_descriptor",
            json!({"id": go["id"]}),
            Some(&owner),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "an existing file is never overwritten"
    );
}

#[tokio::test]
async fn a_json_export_imports_into_another_instance() {
    let (app, owner, ws, _outside, _wid) = scanned_app().await;
    let web = project_named(&app, &owner, "web").await;
    app.post_anon(
        "projects/update",
        json!({"id": web["id"], "name": "Web Front", "tags": ["ui"]}),
        Some(&owner),
    )
    .await;
    app.post_anon(
        "projects/favorite",
        json!({"id": web["id"], "value": true}),
        Some(&owner),
    )
    .await;
    let mut export: Value = app
        .client
        .get(format!("{}/api/v1/projects/export?format=json", app.addr))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("export")
        .json()
        .await
        .unwrap_or_default();
    export
        .as_array_mut()
        .expect("array")
        .push(json!({"path": "/no/longer/here", "name": "gone"}));

    let other = spawn_app().await;
    let token = other.setup_owner().await;
    let r = other
        .post_anon("projects/import", json!({"projects": export}), Some(&token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["created"], 8);
    assert_eq!(r.body["skipped"][0]["path"], "/no/longer/here");
    let imported = project_named(&other, &token, "Web Front").await;
    assert_eq!(imported["tags"], json!(["ui"]));
    assert_eq!(imported["favorite"], true);
    assert_eq!(
        imported["stacks"],
        json!(["node"]),
        "detection ran on the folder"
    );
    assert!(ws.path().join("web/package.json").exists());
}

#[tokio::test]
async fn the_activity_timeline_records_scans_and_edits_newest_first() {
    let (app, owner, ws, _outside, wid) = scanned_app().await;
    let site = project_named(&app, &owner, "site").await;
    app.post_anon(
        "projects/update",
        json!({"id": site["id"], "tags": ["docs"]}),
        Some(&owner),
    )
    .await;
    std::fs::remove_dir_all(ws.path().join("site")).expect("remove");
    app.post_anon("workspaces/scan", json!({"id": wid}), Some(&owner))
        .await;
    wait_for_scan(&app, &owner, wid).await;
    let r = app
        .post_anon("projects/activity", json!({"id": site["id"]}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let kinds: Vec<_> = r.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(kinds, vec!["missing", "edited", "discovered"]);
    assert_eq!(r.body["items"][1]["actor"], "owner");
    assert_eq!(r.body["items"][1]["summary"], "Edited tags");
    let missing = app
        .post_anon("projects/activity", json!({"id": 987654}), Some(&owner))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dependencies_are_shown_both_ways_and_cycles_are_refused() {
    let (app, owner, _ws, _outside, _wid) = scanned_app().await;
    let web = project_named(&app, &owner, "web").await["id"]
        .as_i64()
        .expect("id");
    let api = project_named(&app, &owner, "pyapi").await["id"]
        .as_i64()
        .expect("id");
    let go = project_named(&app, &owner, "gosvc").await["id"]
        .as_i64()
        .expect("id");
    let r = app
        .post_anon(
            "projects/set_dependencies",
            json!({"id": web, "depends_on": [api]}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["depends_on"][0]["name"], "pyapi");
    app.post_anon(
        "projects/set_dependencies",
        json!({"id": api, "depends_on": [go]}),
        Some(&owner),
    )
    .await;
    let deps = app
        .post_anon("projects/dependencies", json!({"id": api}), Some(&owner))
        .await;
    assert_eq!(deps.body["dependents"][0]["name"], "web");
    assert_eq!(deps.body["depends_on"][0]["name"], "gosvc");

    let cycle = app
        .post_anon(
            "projects/set_dependencies",
            json!({"id": go, "depends_on": [web]}),
            Some(&owner),
        )
        .await;
    // Well-formed, but refused by the stored graph.
    assert_eq!(cycle.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(cycle.field(), Some("depends_on"));
    assert!(cycle.body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("cycle"));
    let itself = app
        .post_anon(
            "projects/set_dependencies",
            json!({"id": go, "depends_on": [go]}),
            Some(&owner),
        )
        .await;
    assert_eq!(itself.field(), Some("depends_on"));
    let unknown = app
        .post_anon(
            "projects/set_dependencies",
            json!({"id": go, "depends_on": [987654]}),
            Some(&owner),
        )
        .await;
    assert_eq!(unknown.field(), Some("depends_on"));
}

/// Every page of `projects/list` for `query`, `limit` at a time.
async fn all_pages(app: &TestApp, token: &str, query: Value, limit: u32) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let mut body = query.clone();
        body["limit"] = json!(limit);
        body["cursor"] = cursor;
        let page = app.post_anon("projects/list", body, Some(token)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(page.body["items"].as_array().cloned().unwrap_or_default());
        cursor = page.body["next_cursor"].clone();
        if cursor.is_null() {
            return seen;
        }
    }
}

fn names_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn every_sort_order_pages_without_gaps_or_repeats() {
    let (app, owner, ws, _outside, id) = scanned_app().await;
    std::fs::remove_dir_all(ws.path().join("site")).expect("remove");
    app.post_anon("workspaces/scan", json!({"id": id}), Some(&owner))
        .await;
    wait_for_scan(&app, &owner, id).await;
    let everything = all_pages(&app, &owner, json!({}), 200).await;
    assert_eq!(everything.len(), 8);

    // Newest commit first; projects without a commit last, by name.
    let by_commit = all_pages(&app, &owner, json!({"sort": "last_commit"}), 2).await;
    let stamps: Vec<Option<String>> = by_commit
        .iter()
        .map(|p| p["git"]["last_commit"]["time"].as_str().map(str::to_owned))
        .collect();
    let committed = stamps.iter().take_while(|s| s.is_some()).count();
    assert!(
        committed >= 1,
        "the fixture's repository comes first: {stamps:?}"
    );
    assert!(
        stamps[committed..].iter().all(Option::is_none),
        "{stamps:?}"
    );
    assert!(
        stamps[..committed].windows(2).all(|w| w[0] >= w[1]),
        "newest first: {stamps:?}"
    );
    let rest = names_of(&by_commit[committed..]);
    let mut sorted = rest.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(rest, sorted, "projects without commits follow by name");

    // Missing first.
    let by_status = names_of(&all_pages(&app, &owner, json!({"sort": "status"}), 3).await);
    assert_eq!(by_status.first().map(String::as_str), Some("site"));
    let missing = all_pages(&app, &owner, json!({"status": "missing"}), 50).await;
    assert_eq!(names_of(&missing), vec!["site"]);

    let by_scan = all_pages(&app, &owner, json!({"sort": "last_scanned"}), 3).await;
    let scanned: Vec<&str> = by_scan
        .iter()
        .map(|p| p["scanned_at"].as_str().unwrap_or_default())
        .collect();
    assert!(scanned.windows(2).all(|w| w[0] >= w[1]), "{scanned:?}");

    for order in [&by_commit, &by_scan] {
        let mut a = names_of(order);
        let mut b = names_of(&everything);
        a.sort();
        b.sort();
        assert_eq!(a, b, "every project exactly once");
    }

    for (field, body) in [
        ("sort", json!({"sort": "size"})),
        ("status", json!({"status": "gone"})),
    ] {
        let r = app.post_anon("projects/list", body, Some(&owner)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.field(), Some(field));
    }
}

#[tokio::test]
async fn an_unreadable_stored_project_is_named_changes_nothing_and_a_rescan_repairs_it() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let ws = tempfile::tempdir().expect("tempdir");
    write(
        ws.path(),
        "web/package.json",
        "{\"name\": \"web\", \"scripts\": {\"dev\": \"vite\"}}\n",
    );
    let added = app
        .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
        .await;
    let wid = added.body["id"].as_i64().expect("id");
    wait_for_scan(&app, &owner, wid).await;
    let list = app
        .post_anon("projects/list", json!({}), Some(&owner))
        .await;
    let pid = list.body["items"][0]["id"].as_i64().expect("a project");
    assert_eq!(list.body["items"][0]["stacks"], json!(["node"]));
    // As after a rollback to a release that stored these columns differently.
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE projects SET stacks = ' cobol ', tags = '{{\"a\": 1}}' WHERE id = {pid}"
        ))
        .await
        .expect("corrupt the row");
    let named = format!("projects row {pid}: column `");
    for (path, body) in [
        ("projects/list", json!({})),
        ("projects/get", json!({"id": pid})),
        ("projects/facets", json!({})),
        ("projects/favorite", json!({"id": pid, "value": true})),
    ] {
        let r = app.post_anon(path, body, Some(&owner)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}: {}", r.body);
        assert!(
            r.body["message"]
                .as_str()
                .is_some_and(|m| m.contains(&named)),
            "{path}: {}",
            r.body
        );
    }
    app.post_anon("workspaces/scan", json!({"id": wid}), Some(&owner))
        .await;
    wait_for_scan(&app, &owner, wid).await;
    let repaired = app
        .post_anon("projects/get", json!({"id": pid}), Some(&owner))
        .await;
    assert_eq!(repaired.status, StatusCode::OK, "{}", repaired.body);
    assert_eq!(repaired.body["stacks"], json!(["node"]));
    assert_eq!(repaired.body["tags"], json!([]));
    assert_eq!(
        repaired.body["favorite"], false,
        "the refused favorite was not applied"
    );
    let errors = repaired.body["errors"].to_string();
    assert!(
        errors.contains("column `tags`") && errors.contains("reset by this scan"),
        "the reset is told: {errors}"
    );
}

#[tokio::test]
async fn a_kept_page_of_the_list_never_outlives_a_change_made_elsewhere() {
    let (app, owner, _ws, _outside, _wid) = scanned_app().await;
    // A second instance on the same database, as behind a load balancer.
    let other = crate::helpers::spawn_sharing(app.settings.clone()).await;
    let names = |r: &crate::helpers::Reply| -> Vec<String> {
        r.body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let ask = json!({"limit": 3});
    let first = app
        .post_anon("projects/list", ask.clone(), Some(&owner))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = app
        .post_anon("projects/list", ask.clone(), Some(&owner))
        .await;
    assert_eq!(again.body, first.body, "nothing changed: the same page");
    let top = first.body["items"][0].clone();

    // Renamed through the other instance: this one's kept page is not served.
    let renamed = other
        .post_anon(
            "projects/update",
            json!({"id": top["id"], "name": "zz renamed elsewhere"}),
            Some(&owner),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let after = app
        .post_anon("projects/list", ask.clone(), Some(&owner))
        .await;
    assert!(
        !names(&after).contains(&"zz renamed elsewhere".to_owned())
            && !after.body["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|p| p["id"] == top["id"])),
        "the renamed project sorts last now: {}",
        after.body
    );

    // Archived straight in the database (no Optimus code involved): gone from the next page,
    // and from the facet counts kept before.
    let facets = app
        .post_anon("projects/facets", json!({}), Some(&owner))
        .await;
    let total = facets.body["total"].as_u64().expect("a total");
    let second = after.body["items"][0].clone();
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE projects SET archived = true WHERE id = {}",
            second["id"]
        ))
        .await
        .expect("archive in SQL");
    let now = other
        .post_anon("projects/list", ask.clone(), Some(&owner))
        .await;
    assert!(
        !now.body["items"]
            .as_array()
            .is_some_and(|i| i.iter().any(|p| p["id"] == second["id"])),
        "archived elsewhere: {}",
        now.body
    );
    let here = app.post_anon("projects/list", ask, Some(&owner)).await;
    assert_eq!(here.body, now.body, "both instances answer alike");
    let facets = app
        .post_anon("projects/facets", json!({}), Some(&owner))
        .await;
    assert_eq!(
        facets.body["total"].as_u64(),
        Some(total - 1),
        "{}",
        facets.body
    );

    // A cursor page, kept, then its cursor project deleted elsewhere: the cursor is refused.
    let cursor = here.body["next_cursor"]
        .as_str()
        .expect("more pages")
        .to_owned();
    let next = json!({"limit": 3, "cursor": cursor});
    let page2 = app
        .post_anon("projects/list", next.clone(), Some(&owner))
        .await;
    assert_eq!(page2.status, StatusCode::OK, "{}", page2.body);
    let last_id = here.body["items"][2]["id"].clone();
    let deleted = other
        .post_anon("projects/delete", json!({"id": last_id}), Some(&owner))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let gone = app.post_anon("projects/list", next, Some(&owner)).await;
    assert_eq!(
        gone.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        gone.body
    );
    assert_eq!(gone.field(), Some("cursor"));
}
