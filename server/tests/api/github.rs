//! GitHub in the project page, against a server on loopback that speaks the REST API's shapes
//! and headers: ETags and 304 Not Modified, `x-ratelimit-*`, a 403 when the limit is reached,
//! and `Link` pagination. The project is a real git repository whose `origin` is on that server.

use crate::helpers::{git, spawn_app, TestApp};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode as HttpStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Hub {
    /// Requests by path (`/repos/…`), and those answered 304.
    requests: Vec<String>,
    not_modified: u32,
    /// Authorization headers seen.
    auth: Vec<String>,
    /// The latest release's tag, if any.
    release: Option<String>,
    /// Requests left; at 0 every answer is a 403.
    remaining: i64,
    reset: i64,
}

type Shared = Arc<Mutex<Hub>>;

fn etag_of(body: &Value) -> String {
    use sha2::Digest;
    format!(
        "\"{:x}\"",
        sha2::Sha256::digest(body.to_string().as_bytes())
    )
}

/// Answers `body` as GitHub does: with an ETag, 304 when it matches, rate-limit headers, and a
/// 403 once no request is left (a 304 costs nothing).
fn answer(
    hub: &Shared,
    path: String,
    h: &HeaderMap,
    body: Value,
    link: Option<String>,
) -> Response {
    let mut g = hub.lock().expect("hub");
    g.requests.push(path);
    g.auth.push(
        h.get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    );
    let limits = |remaining: i64, reset: i64| {
        [
            ("x-ratelimit-limit", "5000".to_owned()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-reset", reset.to_string()),
        ]
    };
    if g.remaining <= 0 {
        let msg = json!({"message": "API rate limit exceeded for user ID 1."});
        return (HttpStatus::FORBIDDEN, limits(0, g.reset), axum::Json(msg)).into_response();
    }
    let etag = etag_of(&body);
    let matches = h
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    if matches {
        g.not_modified += 1;
        return (
            HttpStatus::NOT_MODIFIED,
            limits(g.remaining, g.reset),
            [("etag", etag)],
        )
            .into_response();
    }
    g.remaining -= 1;
    let mut r = (
        limits(g.remaining, g.reset),
        [("etag", etag)],
        axum::Json(body),
    )
        .into_response();
    if let Some(l) = link {
        r.headers_mut().insert("link", l.parse().expect("link"));
    }
    r
}

async fn start_hub(head: String) -> (String, Shared) {
    let hub: Shared = Arc::new(Mutex::new(Hub {
        remaining: 100,
        reset: chrono::Utc::now().timestamp() + 3600,
        ..Default::default()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("http://127.0.0.1:{port}/api/v3");
    let b = base.clone();
    let repo = move |State(hub): State<Shared>, h: HeaderMap| {
        let body = json!({"full_name": "acme/widget", "default_branch": "main",
                          "html_url": "https://github.example/acme/widget", "private": false});
        async move { answer(&hub, "/repos/acme/widget".into(), &h, body, None) }
    };
    let pulls = move |State(hub): State<Shared>,
                      Query(q): Query<HashMap<String, String>>,
                      h: HeaderMap| {
        let page: u64 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let (from, to) = if page == 1 { (51, 150) } else { (1, 50) };
        let body = Value::Array(
            (from..=to)
                .rev()
                .map(|n| {
                    json!({"number": n, "title": format!("Change {n}"), "draft": n % 2 == 0,
                                "user": {"login": "dev"}, "updated_at": "2026-12-01T10:00:00Z",
                                "html_url": format!("https://github.example/acme/widget/pull/{n}"),
                                "body": "x".repeat(2000)})
                })
                .collect(),
        );
        let link = (page == 1).then(|| {
            format!("<{b}/repos/acme/widget/pulls?state=open&per_page=100&page=2>; rel=\"next\", <{b}/repos/acme/widget/pulls?state=open&per_page=100&page=2>; rel=\"last\"")
        });
        async move { answer(&hub, format!("/pulls?page={page}"), &h, body, link) }
    };
    let head_for_status = head.clone();
    let status = move |State(hub): State<Shared>, UrlPath(r): UrlPath<String>, h: HeaderMap| {
        let body = if r == "main" {
            json!({"state": "success", "statuses": [{"context": "ci/build", "state": "success"}]})
        } else if r == head_for_status {
            json!({"state": "failure", "statuses": [{"context": "ci/test", "state": "failure"},
                                                     {"context": "ci/build", "state": "success"}]})
        } else {
            json!(null)
        };
        async move {
            if body.is_null() {
                return (
                    HttpStatus::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({"message": "No commit found for SHA"})),
                )
                    .into_response();
            }
            answer(&hub, format!("/status/{r}"), &h, body, None)
        }
    };
    let checks = move |State(hub): State<Shared>, UrlPath(r): UrlPath<String>, h: HeaderMap| {
        let body = json!({"total_count": 1, "check_runs": [
            {"name": "lint", "status": "completed", "conclusion": "success"}]});
        async move { answer(&hub, format!("/check-runs/{r}"), &h, body, None) }
    };
    let release = move |State(hub): State<Shared>, h: HeaderMap| async move {
        let tag = hub.lock().expect("hub").release.clone();
        match tag {
            None => (
                HttpStatus::NOT_FOUND,
                axum::Json(json!({"message": "Not Found"})),
            )
                .into_response(),
            Some(t) => answer(
                &hub,
                "/releases/latest".into(),
                &h,
                json!({"tag_name": t, "name": "Spring", "published_at": "2026-12-02T08:00:00Z",
                       "html_url": format!("https://github.example/acme/widget/releases/tag/{t}")}),
                None,
            ),
        }
    };
    let compare = move |State(hub): State<Shared>, UrlPath(spec): UrlPath<String>, h: HeaderMap| {
        let body = json!({"status": "diverged", "ahead_by": 2, "behind_by": 3, "total_commits": 2});
        async move { answer(&hub, format!("/compare/{spec}"), &h, body, None) }
    };
    let router = Router::new()
        .route("/api/v3/repos/acme/widget", get(repo))
        .route("/api/v3/repos/acme/widget/pulls", get(pulls))
        .route("/api/v3/repos/acme/widget/commits/{r}/status", get(status))
        .route(
            "/api/v3/repos/acme/widget/commits/{r}/check-runs",
            get(checks),
        )
        .route("/api/v3/repos/acme/widget/releases/latest", get(release))
        .route("/api/v3/repos/acme/widget/compare/{spec}", get(compare))
        .with_state(hub.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (base, hub)
}

/// A repository with one commit whose origin is `remote`; its HEAD.
fn repository(dir: &Path, remote: &str) -> String {
    std::fs::write(dir.join("README.md"), "# widget\n").expect("write");
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "first"]);
    git(dir, &["remote", "add", "origin", remote]);
    git(dir, &["rev-parse", "HEAD"])
}

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post_anon(path, body, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body
}

fn requests(hub: &Shared) -> usize {
    hub.lock().expect("hub").requests.len()
}

#[tokio::test]
async fn github_state_is_fetched_with_etags_every_page_and_the_rate_limit_respected() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // The remote names the loopback server's host (its port does not matter, as with GitHub).
    let head = repository(dir.path(), "git@127.0.0.1:acme/widget.git");
    let (base, hub) = start_hub(head.clone()).await;
    let pid = ok(&app, &owner, "projects/create", json!({"path": dir.path()})).await["id"].clone();

    // Nothing configured: nothing asked.
    let g = ok(&app, &owner, "github/project", json!({"id": pid})).await;
    assert_eq!(g["status"], "not_configured", "{g}");

    // Bad configurations change nothing and name the field.
    for (body, field) in [
        (
            json!({"token": "ghp_x", "base_url": "ftp://127.0.0.1/api"}),
            "base_url",
        ),
        (
            json!({"token": "ghp_x", "base_url": "http://github.example/api/v3"}),
            "base_url",
        ),
        (json!({"token": "has space", "base_url": base}), "token"),
        (json!({"base_url": base}), "token"),
    ] {
        let r = app
            .post_anon("github/configure", body.clone(), Some(&owner))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{body}: {}", r.body);
    }
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let r = app
        .post_anon(
            "github/configure",
            json!({"token": "ghp_x", "base_url": base}),
            Some(&viewer),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let s = ok(&app, &owner, "github/settings", json!({})).await;
    assert_eq!(s["configured"], false);

    let s = ok(
        &app,
        &owner,
        "github/configure",
        json!({"token": "ghp_t0ps3cret", "base_url": format!("{base}/")}),
    )
    .await;
    assert_eq!(s["configured"], true, "{s}");
    assert_eq!(s["base_url"], base);
    assert_eq!(s["web_host"], "127.0.0.1");
    assert!(!s.to_string().contains("t0ps3cret"), "{s}");

    // The first look fetches everything: 150 open pull requests over two pages, CI of both refs.
    let g = ok(&app, &viewer, "github/project", json!({"id": pid})).await;
    assert_eq!(g["status"], "ok", "{g}");
    assert_eq!(g["repository"], "acme/widget");
    assert_eq!(g["default_branch"], "main");
    assert_eq!(
        g["open_pulls"],
        150,
        "{g} {:?}",
        hub.lock().expect("hub").requests
    );
    assert_eq!(g["pulls"].as_array().map(Vec::len), Some(20));
    assert_eq!(g["pulls"][0]["number"], 150);
    assert_eq!(g["pulls"][0]["author"], "dev");
    assert_eq!(g["default_branch_ci"]["state"], "success", "{g}");
    assert_eq!(g["default_branch_ci"]["total"], 2);
    assert_eq!(g["head_ci"]["state"], "failure", "{g}");
    assert_eq!(g["head_ci"]["failing"], json!(["ci/test"]));
    assert_eq!(g["head_ci"]["reference"], head);
    assert!(g["latest_release"].is_null(), "{g}");
    assert_eq!(
        (g["ahead_by"].clone(), g["behind_by"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(g["compared_by"], "github");
    // repository, 2 pages, 2 × (status, check runs), release, compare.
    assert_eq!(g["requests"], 9, "{g}");
    assert_eq!(g["not_modified"], 0);
    assert_eq!(
        requests(&hub),
        8,
        "the 404 for the release is not counted by the hub"
    );
    assert!(hub
        .lock()
        .expect("hub")
        .auth
        .iter()
        .all(|a| a == "Bearer ghp_t0ps3cret"));

    // Within a minute the page is answered from what was kept.
    let again = ok(&app, &owner, "github/project", json!({"id": pid})).await;
    assert_eq!(again["fetched_at"], g["fetched_at"]);
    assert_eq!(requests(&hub), 8);

    // Refreshing asks again, conditionally: everything unchanged costs no quota.
    let before = s["rate_remaining"].clone();
    let r = ok(
        &app,
        &owner,
        "github/project",
        json!({"id": pid, "refresh": true}),
    )
    .await;
    assert_eq!(
        (r["requests"].clone(), r["not_modified"].clone()),
        (json!(9), json!(8)),
        "{r}"
    );
    assert_eq!(hub.lock().expect("hub").not_modified, 8);
    assert_eq!(
        r["open_pulls"], 150,
        "pages come back from the kept answers"
    );
    let s = ok(&app, &owner, "github/settings", json!({})).await;
    assert_eq!(s["rate_remaining"], 92, "{s} (was {before})");
    assert_eq!(s["rate_limit"], 5000);

    // A new release shows on the next refresh.
    hub.lock().expect("hub").release = Some("v1.2.0".into());
    let r = ok(
        &app,
        &owner,
        "github/project",
        json!({"id": pid, "refresh": true}),
    )
    .await;
    assert_eq!(r["latest_release"]["tag"], "v1.2.0", "{r}");
    assert_eq!(r["not_modified"], 8);

    // The council reads it: CI red on HEAD is evidence.
    let d = ok(
        &app,
        &owner,
        "council/deliberate",
        json!({"question": "Should we release widget today?", "project_id": pid}),
    )
    .await;
    let evidence = d["evidence"].to_string();
    assert!(evidence.contains("GitHub acme/widget"), "{evidence}");
    assert!(evidence.contains("CI on HEAD"), "{evidence}");
    assert!(d.to_string().contains("CI is red on HEAD"), "{d}");

    // A new local commit GitHub does not have: its page is fetched again at once, CI of the old
    // commit is no longer shown as HEAD's, and the council stops citing it.
    std::fs::write(dir.path().join("CHANGES.md"), "- more\n").expect("write");
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "second"]);
    let moved = git(dir.path(), &["rev-parse", "HEAD"]);
    let r = ok(&app, &owner, "github/project", json!({"id": pid})).await;
    assert_eq!(r["local_head"], moved, "{r}");
    assert!(r["head_ci"].is_null(), "{r}");
    assert_eq!(r["default_branch_ci"]["state"], "success", "{r}");
    let d = ok(
        &app,
        &owner,
        "council/deliberate",
        json!({"question": "Should we release widget today?", "project_id": pid}),
    )
    .await;
    assert!(!d.to_string().contains("CI is red on HEAD"), "{d}");

    // The limit is reached: the kept state stays shown, with when GitHub will be asked again,
    // and nothing is asked until then.
    let reset = {
        let mut h = hub.lock().expect("hub");
        h.remaining = 0;
        h.reset
    };
    let r = ok(
        &app,
        &owner,
        "github/project",
        json!({"id": pid, "refresh": true}),
    )
    .await;
    assert!(
        r["error"]
            .as_str()
            .is_some_and(|e| e.contains("rate limit")),
        "{r}"
    );
    assert_eq!(r["latest_release"]["tag"], "v1.2.0", "{r}");
    let next = r["next_refresh_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    assert_eq!(next.map(|t| t.timestamp()), Some(reset), "{r}");
    let s = ok(&app, &owner, "github/settings", json!({})).await;
    assert!(s["paused_until"].is_string(), "{s}");
    let asked = requests(&hub);
    let r = ok(
        &app,
        &owner,
        "github/project",
        json!({"id": pid, "refresh": true}),
    )
    .await;
    assert_eq!(requests(&hub), asked, "nothing is asked while paused");
    assert_eq!(
        r["next_refresh_at"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp()),
        Some(reset)
    );

    // Removing the token forgets it and what was fetched with it.
    let s = ok(
        &app,
        &owner,
        "github/configure",
        json!({"remove": true, "base_url": base}),
    )
    .await;
    assert_eq!(s["configured"], false);
    let g = ok(&app, &owner, "github/project", json!({"id": pid})).await;
    assert_eq!(g["status"], "not_configured");
    let audit = ok(
        &app,
        &owner,
        "audit/list",
        json!({"action": "github.configure"}),
    )
    .await;
    assert!(!audit.to_string().contains("t0ps3cret"));
    assert!(audit.to_string().contains("github.configure"), "{audit}");
}

#[tokio::test]
async fn a_project_elsewhere_is_not_asked_about_and_an_unknown_one_is_a_404() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let dir = tempfile::tempdir().expect("tempdir");
    repository(dir.path(), "https://gitlab.com/acme/widget.git");
    let (base, hub) = start_hub(String::new()).await;
    let pid = ok(&app, &owner, "projects/create", json!({"path": dir.path()})).await["id"].clone();
    ok(
        &app,
        &owner,
        "github/configure",
        json!({"token": "ghp_x", "base_url": base}),
    )
    .await;
    let g = ok(&app, &owner, "github/project", json!({"id": pid})).await;
    assert_eq!(g["status"], "not_github", "{g}");
    assert_eq!(requests(&hub), 0);
    let r = app
        .post_anon("github/project", json!({"id": 999_999}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
