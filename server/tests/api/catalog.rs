//! The catalog over a generated tree of small, realistic projects.

use crate::helpers::{spawn_app, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn write(root: &Path, path: &str, body: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, body).expect("write");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A workspace of one project per ecosystem, a monorepo, a broken manifest, a dependency folder
/// that must be skipped, and a dirty repository one commit ahead of and behind its remote.
fn fixture(ws: &Path, outside: &Path) {
    write(ws, "rust-cli/Cargo.toml", "[package]\nname = \"rust-cli\"\nversion = \"0.1.0\"\ndescription = \"A command line tool\"\n");
    write(ws, "rust-cli/src/main.rs", "fn main() {}\n");
    write(ws, "web/package.json", r#"{"name":"web","scripts":{"dev":"vite","build":"vite build"},"devDependencies":{"vite":"^5"}}"#);
    write(ws, "web/pnpm-lock.yaml", "");
    write(ws, "web/node_modules/left-pad/package.json", r#"{"name":"left-pad"}"#);
    write(ws, "pyapi/pyproject.toml", "[project]\nname = \"pyapi\"\ndependencies = [\"fastapi\"]\n");
    write(ws, "pyapi/uv.lock", "");
    write(ws, "clients/gosvc/go.mod", "module example.com/gosvc\n\ngo 1.22\n");
    write(ws, "clients/gosvc/main.go", "package main\n");
    write(ws, "broken/package.json", "{ this is not json");
    write(ws, "mono/package.json", r#"{"name":"mono","private":true,"workspaces":["packages/*"]}"#);
    write(ws, "mono/packages/ui/package.json", r#"{"name":"@mono/ui"}"#);
    write(ws, "mono/services/api/Cargo.toml", "[package]\nname = \"mono-api\"\nversion = \"0.1.0\"\n");
    write(ws, "site/index.html", "<h1>hi</h1>");
    write(ws, "notes/readme.txt", "not a project");

    let repo = ws.join("repo");
    write(&repo, "Gemfile", "source 'https://rubygems.org'\ngem 'rails'\n");
    write(&repo, "README.md", "one\n");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "first"]);
    let remote = outside.join("remote.git");
    git(outside, &["clone", "-q", "--bare", repo.to_str().expect("utf8"), "remote.git"]);
    git(&repo, &["remote", "add", "origin", remote.to_str().expect("utf8")]);
    git(&repo, &["fetch", "-q", "origin"]);
    git(&repo, &["branch", "-q", "-u", "origin/main", "main"]);
    git(outside, &["clone", "-q", remote.to_str().expect("utf8"), "other"]);
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
        let r = app.post_anon("workspaces/get", json!({"id": id}), Some(token)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if r.body["scan_state"] != "running" {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("scan did not finish within 20 s");
}

fn by_name<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no project {name} in {items:?}"))
}

#[tokio::test]
async fn a_scan_catalogs_every_project_with_stacks_commands_and_git_state() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let ws = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    fixture(ws.path(), outside.path());

    let added = app.post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner)).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let id = added.body["id"].as_i64().expect("id");
    let done = wait_for_scan(&app, &owner, id).await;
    assert_eq!(done["scan_state"], "done", "{done}");
    assert_eq!(done["projects_found"], 8);

    let list = app.post_anon("projects/list", json!({"limit": 200}), Some(&owner)).await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    let mut names: Vec<_> = items.iter().map(|p| p["name"].as_str().unwrap_or_default().to_owned()).collect();
    names.sort();
    assert_eq!(names, vec!["broken", "gosvc", "mono", "pyapi", "repo", "rust-cli", "site", "web"]);

    let rust = by_name(&items, "rust-cli");
    assert_eq!(rust["stacks"], json!(["rust"]));
    assert_eq!(rust["description"], "A command line tool");
    assert!(rust["git"].is_null());
    let run = rust["commands"].as_array().and_then(|c| c.iter().find(|c| c["kind"] == "run")).cloned().unwrap_or_default();
    assert_eq!(run["command"], "cargo run");
    assert_eq!(run["source"], "Cargo.toml");

    let web = by_name(&items, "web");
    assert_eq!(web["stacks"], json!(["node"]));
    assert_eq!(web["port"], 5173);
    assert!(web["frameworks"].as_array().is_some_and(|f| f.contains(&json!("vite")) && f.contains(&json!("pnpm"))));

    assert_eq!(by_name(&items, "pyapi")["stacks"], json!(["python"]));
    assert_eq!(by_name(&items, "gosvc")["stacks"], json!(["go"]));
    assert_eq!(by_name(&items, "site")["stacks"], json!(["static"]));

    let broken = by_name(&items, "broken");
    assert!(broken["errors"][0].as_str().is_some_and(|e| e.starts_with("package.json")), "{broken}");

    let mono = by_name(&items, "mono");
    assert_eq!(mono["stacks"], json!(["rust", "node"]));
    let comps: Vec<_> = mono["components"].as_array().cloned().unwrap_or_default().iter().map(|c| c["path"].as_str().unwrap_or_default().to_owned()).collect();
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
    let id = app.post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner)).await.body["id"].as_i64().expect("id");
    wait_for_scan(&app, &owner, id).await;

    let rust = app.post_anon("projects/list", json!({"stack": "rust"}), Some(&owner)).await;
    let names: Vec<_> = rust.body["items"].as_array().cloned().unwrap_or_default().iter().map(|p| p["name"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(names, vec!["mono", "rust-cli"]);
    let found = app.post_anon("projects/list", json!({"search": "COMMAND line"}), Some(&owner)).await;
    assert_eq!(found.body["items"].as_array().map(Vec::len), Some(1));
    let bad = app.post_anon("projects/list", json!({"stack": "cobol"}), Some(&owner)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.field(), Some("stack"));

    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = app.post_anon("projects/list", json!({"limit": 3, "cursor": cursor}), Some(&owner)).await;
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
    let id = app.post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner)).await.body["id"].as_i64().expect("id");
    wait_for_scan(&app, &owner, id).await;
    let before = app.post_anon("projects/list", json!({"search": "rust-cli"}), Some(&owner)).await.body["items"][0].clone();

    std::fs::remove_dir_all(ws.path().join("site")).expect("remove");
    let r = app.post_anon("workspaces/scan", json!({"id": id}), Some(&owner)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done = wait_for_scan(&app, &owner, id).await;
    assert_eq!(done["projects_found"], 7);

    let after = app.post_anon("projects/get", json!({"id": before["id"]}), Some(&owner)).await.body;
    assert_eq!(after["scanned_at"], before["scanned_at"], "an unchanged project is not re-examined");
    let site = app.post_anon("projects/list", json!({"search": "site"}), Some(&owner)).await.body["items"][0].clone();
    assert_eq!(site["status"], "missing", "vanished projects are kept and marked, never deleted");
}

#[tokio::test]
async fn workspace_paths_are_checked_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    for path in ["relative/path", "/no/such/folder/anywhere", "/"] {
        let r = app.post_anon("workspaces/add", json!({"path": path}), Some(&owner)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert_eq!(r.field(), Some("path"));
    }
    let ws = tempfile::tempdir().expect("tempdir");
    let first = app.post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner)).await;
    assert_eq!(first.status, StatusCode::OK);
    let again = app.post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let denied = app.post_anon("workspaces/add", json!({"path": "/tmp"}), Some(&viewer)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}
