//! Who may do what, written out by hand. Every endpoint is called with a valid body (fresh
//! fixtures for each call, so a delete has something to delete) as each role, with API tokens
//! carrying exactly the scopes it needs, each single other scope, and every scope but one it
//! needs. An allowed call must succeed; a refused one must answer 403. The server's own table is
//! not consulted: a policy change made there and not here fails this test.

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};
use app::api::endpoint::declared;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const VIEWER: &[&str] = &["viewer", "operator", "admin", "owner"];
const OPERATOR: &[&str] = &["operator", "admin", "owner"];
const ADMIN: &[&str] = &["admin", "owner"];
const SCOPES: [&str; 5] = ["read", "read:secrets", "write", "deploy", "admin"];

/// One row of the policy: an endpoint (and a variant of its body), the roles that may call it and
/// the scopes a token needs. `None` roles: public.
struct Rule {
    path: &'static str,
    variant: &'static str,
    roles: Option<&'static [&'static str]>,
    scopes: &'static [&'static str],
}

const fn public(path: &'static str) -> Rule {
    Rule {
        path,
        variant: "",
        roles: None,
        scopes: &[],
    }
}

const fn rule(
    path: &'static str,
    roles: &'static [&'static str],
    scopes: &'static [&'static str],
) -> Rule {
    Rule {
        path,
        variant: "",
        roles: Some(roles),
        scopes,
    }
}

const R: &[&str] = &["read"];
const W: &[&str] = &["write"];
const A: &[&str] = &["admin"];
const D: &[&str] = &["deploy"];

/// The policy.
const POLICY: &[Rule] = &[
    public("auth/status"),
    public("auth/setup"),
    public("auth/login"),
    public("auth/refresh"),
    rule("auth/logout", VIEWER, R),
    rule("auth/me", VIEWER, R),
    rule("auth/change_password", VIEWER, A),
    rule("tokens/list", VIEWER, R),
    rule("tokens/create", VIEWER, A),
    rule("tokens/revoke", VIEWER, A),
    rule("users/list", ADMIN, R),
    rule("users/create", ADMIN, A),
    rule("users/update_role", ADMIN, A),
    rule("users/delete", ADMIN, A),
    rule("audit/list", ADMIN, R),
    rule("workspaces/list", VIEWER, R),
    rule("workspaces/get", VIEWER, R),
    rule("workspaces/add", OPERATOR, W),
    rule("workspaces/scan", OPERATOR, W),
    rule("workspaces/remove", OPERATOR, W),
    rule("projects/list", VIEWER, R),
    rule("projects/get", VIEWER, R),
    rule("projects/facets", VIEWER, R),
    rule("projects/activity", VIEWER, R),
    rule("projects/dependencies", VIEWER, R),
    rule("projects/create", OPERATOR, W),
    rule("projects/update", OPERATOR, W),
    rule("projects/favorite", OPERATOR, W),
    rule("projects/archive", OPERATOR, W),
    rule("projects/delete", OPERATOR, W),
    rule("projects/write_descriptor", OPERATOR, W),
    rule("projects/import", OPERATOR, W),
    rule("projects/set_dependencies", OPERATOR, W),
    rule("services/list", VIEWER, R),
    rule("services/get", VIEWER, R),
    rule("services/runs", VIEWER, R),
    rule("services/logs", VIEWER, R),
    rule("services/pending_changes", VIEWER, R),
    rule("services/summary", VIEWER, R),
    rule("ports/list", VIEWER, R),
    rule("metrics/services", VIEWER, R),
    rule("metrics/host", VIEWER, R),
    rule("runtime/status", VIEWER, R),
    rule("runtime/logs", VIEWER, R),
    rule("services/create", OPERATOR, W),
    rule("services/update", OPERATOR, W),
    rule("services/delete", OPERATOR, W),
    rule("services/import_detected", OPERATOR, W),
    rule("services/start", OPERATOR, W),
    rule("services/stop", OPERATOR, W),
    rule("services/restart", OPERATOR, W),
    rule("services/start_project", OPERATOR, W),
    rule("services/stop_project", OPERATOR, W),
    rule("services/restart_project", OPERATOR, W),
    rule("runtime/start", OPERATOR, W),
    rule("runtime/stop", OPERATOR, W),
    rule("environments/list", VIEWER, R),
    Rule {
        path: "environments/list",
        variant: "reveal",
        roles: Some(ADMIN),
        scopes: &["read", "read:secrets"],
    },
    rule("environments/export_dotenv", VIEWER, R),
    rule("environments/create", OPERATOR, W),
    rule("environments/delete", OPERATOR, W),
    rule("environments/activate", OPERATOR, W),
    rule("environments/set_var", OPERATOR, W),
    rule("environments/delete_var", OPERATOR, W),
    rule("environments/import_dotenv", OPERATOR, W),
    rule("notifications/list", VIEWER, R),
    rule("notifications/mark_read", VIEWER, R),
    rule("notifications/channels", OPERATOR, R),
    rule("notifications/create_channel", ADMIN, W),
    rule("notifications/update_channel", ADMIN, W),
    rule("notifications/delete_channel", ADMIN, W),
    rule("notifications/test_channel", ADMIN, W),
    rule("notifications/rules", OPERATOR, R),
    rule("notifications/create_rule", ADMIN, W),
    rule("notifications/delete_rule", ADMIN, W),
    rule("notifications/mutes", OPERATOR, R),
    rule("notifications/create_mute", OPERATOR, W),
    rule("notifications/delete_mute", OPERATOR, W),
    rule("notifications/deliveries", OPERATOR, R),
    rule("notifications/delivery", OPERATOR, R),
    rule("notifications/resend", ADMIN, W),
    rule("github/settings", VIEWER, R),
    rule("github/configure", ADMIN, W),
    rule("github/project", VIEWER, R),
    rule("council/list", VIEWER, R),
    rule("council/get", VIEWER, R),
    rule("council/personas", VIEWER, R),
    rule("council/calibration", VIEWER, R),
    rule("council/graph", VIEWER, R),
    rule("council/memories", VIEWER, R),
    rule("council/path", VIEWER, R),
    rule("council/deliberate", OPERATOR, W),
    rule("council/outcome", OPERATOR, W),
    rule("council/update_memory", OPERATOR, W),
    rule("council/forget_memory", OPERATOR, W),
    rule("council/save_persona", ADMIN, W),
    rule("pipelines/list", VIEWER, R),
    rule("pipelines/get", VIEWER, R),
    rule("pipelines/create", OPERATOR, W),
    rule("pipelines/update", OPERATOR, W),
    rule("pipelines/delete", OPERATOR, W),
    rule("pipelines/run", OPERATOR, W),
    rule("pipelines/get_run", VIEWER, R),
    rule("pipelines/runs", VIEWER, R),
    rule("pipelines/step_log", VIEWER, R),
    rule("pipelines/cancel", OPERATOR, W),
    rule("pipelines/rerun", OPERATOR, W),
    rule("pipelines/decide", OPERATOR, W),
    rule("pipelines/schedules", VIEWER, R),
    rule("pipelines/pause_schedule", OPERATOR, W),
    rule("pipelines/webhook", OPERATOR, W),
    rule("deployments/deploy", OPERATOR, D),
    rule("deployments/rollback", OPERATOR, D),
    rule("deployments/get", VIEWER, R),
    rule("deployments/list", VIEWER, R),
    rule("deployments/recent", VIEWER, R),
    rule("deployments/releases", VIEWER, R),
    rule("deployments/pin", OPERATOR, D),
    rule("deployments/diff", VIEWER, R),
    rule("backups/create_policy", OPERATOR, W),
    rule("backups/update_policy", OPERATOR, W),
    rule("backups/delete_policy", OPERATOR, W),
    rule("backups/get_policy", VIEWER, R),
    rule("backups/policies", VIEWER, R),
    rule("backups/run", OPERATOR, W),
    rule("backups/verify", OPERATOR, W),
    rule("backups/restore", OPERATOR, W),
    rule("backups/restore_database", OPERATOR, W),
    rule("backups/self_backups", ADMIN, W),
    rule("backups/self_backup", ADMIN, W),
    rule("backups/job", VIEWER, R),
    rule("backups/jobs", VIEWER, R),
    rule("backups/snapshots", VIEWER, R),
    rule("backups/files", VIEWER, R),
    rule("backups/repository", ADMIN, &["read:secrets"]),
];

/// A project descriptor with one short-lived service, so a failed run leaves nothing behind for
/// long.
const DESCRIPTOR: &str = "name = \"policy\"\n\n[[services]]\nname = \"web\"\n\
                          command = \"exec sleep 20\"\n";

/// Makes fresh fixtures as the owner.
struct World<'a> {
    app: &'a TestApp,
    owner: String,
    dirs: Mutex<Vec<tempfile::TempDir>>,
    n: AtomicUsize,
}

impl World<'_> {
    fn unique(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.n.fetch_add(1, Ordering::Relaxed))
    }

    /// POSTs as the owner and insists on success.
    async fn ok(&self, path: &str, body: Value) -> Value {
        let r = self.app.post_anon(path, body, Some(&self.owner)).await;
        assert_eq!(r.status, StatusCode::OK, "fixture {path}: {}", r.body);
        r.body
    }

    fn dir(&self) -> std::path::PathBuf {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("optimus.toml"), DESCRIPTOR).expect("descriptor");
        std::fs::write(dir.path().join("Makefile"), "run:\n\tsleep 1\n").expect("Makefile");
        let path = dir.path().to_path_buf();
        self.dirs.lock().expect("dirs").push(dir);
        path
    }

    async fn project(&self) -> i64 {
        let path = self.dir();
        let id = self.ok("projects/create", json!({ "path": path })).await["id"]
            .as_i64()
            .expect("project id");
        // The descriptor's service is registered on the first look at the project.
        self.ok("runtime/status", json!({ "project_id": id })).await;
        id
    }

    /// A project with no `optimus.toml` (one is written for it; an existing one never is).
    async fn bare_project(&self) -> i64 {
        let path = self.dir();
        std::fs::remove_file(path.join("optimus.toml")).expect("remove the descriptor");
        self.ok("projects/create", json!({ "path": path })).await["id"]
            .as_i64()
            .expect("project id")
    }

    fn pipeline_definition(&self) -> Value {
        json!({"name": self.unique("ci-"), "steps": [{"name": "test", "command": "true"}]})
    }

    async fn pipeline(&self) -> i64 {
        self.pipeline_of(json!([{"name": "test", "command": "true"}]))
            .await
    }

    async fn pipeline_of(&self, steps: Value) -> i64 {
        self.pipeline_with(json!({"steps": steps})).await
    }

    /// A pipeline of the fields in `def` (a name is added).
    async fn pipeline_with(&self, mut def: Value) -> i64 {
        def["name"] = json!(self.unique("ci-"));
        let body = json!({"project_id": self.project().await, "definition": def});
        self.ok("pipelines/create", body).await["id"]
            .as_i64()
            .expect("pipeline id")
    }

    /// A run of a pipeline of `steps`, once it is in `status` (any, when `None`).
    async fn run_of(&self, steps: Value, status: Option<&str>) -> i64 {
        let pipeline = self.pipeline_of(steps).await;
        let id = self
            .ok("pipelines/run", json!({"pipeline_id": pipeline}))
            .await["id"]
            .as_i64()
            .expect("run id");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while let Some(want) = status {
            if self.ok("pipelines/get_run", json!({"id": id})).await["status"] == want {
                break;
            }
            assert!(std::time::Instant::now() < until, "run {id} never {want}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        id
    }

    /// A project with one deployment queued (its release 1); (project, deployment).
    async fn deployed(&self) -> (i64, i64) {
        let project = self.project().await;
        let d = self
            .ok("deployments/deploy", json!({"project_id": project}))
            .await;
        (project, d["id"].as_i64().expect("deployment id"))
    }

    /// A backup policy of a fresh project.
    async fn backup_policy(&self) -> i64 {
        self.ok(
            "backups/create_policy",
            json!({"project_id": self.project().await}),
        )
        .await["id"]
            .as_i64()
            .expect("policy id")
    }

    /// A good snapshot of a fresh project.
    async fn snapshot(&self) -> i64 {
        let policy = self.backup_policy().await;
        self.backed_up(policy).await
    }

    /// A good backup of a fresh project's SQLite database `app` (and nothing else).
    async fn database_snapshot(&self) -> i64 {
        let path = self.dir();
        crate::backups_databases::sqlite_file(&path.join("app.db"), 3).await;
        let project = self.ok("projects/create", json!({ "path": path })).await["id"]
            .as_i64()
            .expect("project id");
        let policy = self
            .ok(
                "backups/create_policy",
                json!({"project_id": project, "paths": [],
                       "databases": [{"name": "app", "kind": "sqlite", "path": "app.db"}]}),
            )
            .await["id"]
            .as_i64()
            .expect("policy id");
        self.backed_up(policy).await
    }

    /// Backs up `policy` now: its good snapshot.
    async fn backed_up(&self, policy: i64) -> i64 {
        let job = self.ok("backups/run", json!({"policy_id": policy})).await["id"]
            .as_i64()
            .expect("job id");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let j = self.ok("backups/job", json!({"id": job})).await;
            if j["status"] == "succeeded" {
                return j["result"]["snapshot_id"].as_i64().expect("snapshot id");
            }
            assert_ne!(j["status"], "failed", "backup {job}: {j}");
            assert!(
                std::time::Instant::now() < until,
                "backup {job} never ended"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A path that does not exist yet, in a folder removed after the test.
    fn new_path(&self) -> std::path::PathBuf {
        self.dir().join(self.unique("restored-"))
    }

    async fn service(&self, project_id: i64) -> i64 {
        let definition = json!({"name": self.unique("svc-"), "command": "exec sleep 20"});
        let body = json!({"project_id": project_id, "definition": definition});
        self.ok("services/create", body).await["id"]
            .as_i64()
            .expect("service id")
    }

    async fn environment(&self, project_id: i64) -> i64 {
        let name = self.unique("env-");
        let list = self
            .ok(
                "environments/create",
                json!({"project_id": project_id, "name": name}),
            )
            .await;
        let env = list
            .as_array()
            .and_then(|l| l.iter().find(|e| e["name"] == name));
        env.and_then(|e| e["id"].as_i64()).expect("environment id")
    }

    async fn workspace(&self) -> i64 {
        let path = self.dir();
        self.ok("workspaces/add", json!({ "path": path })).await["id"]
            .as_i64()
            .expect("workspace id")
    }

    /// A workspace whose first scan has finished (a scan or removal meanwhile is a 409).
    async fn settled_workspace(&self) -> i64 {
        let id = self.workspace().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while self.ok("workspaces/get", json!({ "id": id })).await["scan_state"] == "running" {
            assert!(std::time::Instant::now() < deadline, "the scan never ended");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        id
    }

    async fn user(&self, role: &str) -> (i64, String) {
        let username = self.unique(&format!("{role}-"));
        let body = json!({"username": username, "password": PASSWORD, "role": role});
        let id = self.ok("users/create", body).await["id"]
            .as_i64()
            .expect("user id");
        (id, self.app.login(&username).await)
    }

    async fn deliberation(&self) -> i64 {
        let body = json!({"question": "Should we ship the policy change?"});
        self.ok("council/deliberate", body).await["id"]
            .as_i64()
            .expect("deliberation id")
    }

    async fn memory(&self) -> i64 {
        let id = self.deliberation().await;
        self.ok("council/outcome", json!({"id": id, "outcome": "reject"}))
            .await;
        let memories = self.ok("council/memories", json!({})).await;
        memories[0]["id"]
            .as_i64()
            .expect("a memory after an outcome")
    }

    /// A Slack channel pointing at a port nothing listens on.
    async fn channel(&self) -> i64 {
        let body = json!({
            "name": self.unique("channel-"),
            "config": {"kind": "slack", "url": "http://127.0.0.1:9/hook"},
        });
        self.ok("notifications/create_channel", body).await["channel"]["id"]
            .as_i64()
            .expect("a channel id")
    }

    /// A delivery that failed its one attempt (the app allows one): dead.
    async fn dead_delivery(&self) -> i64 {
        let d = self
            .ok(
                "notifications/test_channel",
                json!({"id": self.channel().await}),
            )
            .await;
        assert_eq!(d["status"], "dead", "{d}");
        d["id"].as_i64().expect("a delivery id")
    }

    /// A valid body for `rule`, called by the holder of `session` (the session behind the
    /// credential used: a token to revoke must be theirs).
    /// `held`: the scopes of the API token the call is made with (a token grants only those).
    async fn body(&self, rule: &Rule, session: &str, held: Option<&[&str]>) -> Value {
        match (rule.path, rule.variant) {
            ("auth/status" | "auth/logout" | "auth/me" | "ports/list", _) => json!({}),
            ("auth/setup" | "auth/login", _) => json!({"username": "owner", "password": PASSWORD}),
            ("auth/refresh", _) => {
                let r = self
                    .app
                    .post_anon(
                        "auth/login",
                        json!({"username": "owner", "password": PASSWORD}),
                        None,
                    )
                    .await;
                json!({"refresh_token": r.body["refresh_token"]})
            }
            ("auth/change_password", _) => {
                json!({"current_password": PASSWORD, "new_password": "another horse battery"})
            }
            ("tokens/list" | "users/list" | "workspaces/list" | "audit/list", _) => json!({}),
            ("tokens/create", _) => {
                let scopes = held.unwrap_or(&["read"]);
                json!({"name": "t", "scopes": scopes, "expires_in_days": 1})
            }
            ("tokens/revoke", _) => {
                let body = json!({"name": "gone", "scopes": ["read"], "expires_in_days": 1});
                let r = self
                    .app
                    .post_anon("tokens/create", body, Some(session))
                    .await;
                assert_eq!(r.status, StatusCode::OK, "fixture token: {}", r.body);
                json!({"id": r.body["info"]["id"]})
            }
            ("users/create", _) => {
                json!({"username": self.unique("new-"), "password": PASSWORD, "role": "viewer"})
            }
            ("users/update_role", _) => {
                json!({"id": self.user("viewer").await.0, "role": "operator"})
            }
            ("users/delete", _) => json!({"id": self.user("viewer").await.0}),
            ("workspaces/get", _) => json!({"id": self.workspace().await}),
            ("workspaces/scan" | "workspaces/remove", _) => {
                json!({"id": self.settled_workspace().await})
            }
            ("workspaces/add" | "projects/create", _) => json!({"path": self.dir()}),
            ("projects/list" | "projects/facets" | "services/summary", _) => json!({}),
            (
                "projects/get" | "projects/activity" | "projects/dependencies" | "projects/delete",
                _,
            ) => json!({"id": self.project().await}),
            ("projects/write_descriptor", _) => json!({"id": self.bare_project().await}),
            ("projects/update", _) => {
                json!({"id": self.project().await, "description": "edited", "tags": ["x"]})
            }
            ("projects/favorite" | "projects/archive", _) => {
                json!({"id": self.project().await, "value": true})
            }
            ("projects/import", _) => json!({"projects": [{"path": self.dir(), "tags": []}]}),
            ("projects/set_dependencies", _) => {
                json!({"id": self.project().await, "depends_on": [self.project().await]})
            }
            (
                "services/list"
                | "services/import_detected"
                | "services/start_project"
                | "services/stop_project"
                | "services/restart_project"
                | "runtime/status"
                | "runtime/start"
                | "runtime/stop",
                _,
            ) => json!({"project_id": self.project().await}),
            (
                "services/get"
                | "services/runs"
                | "services/pending_changes"
                | "services/delete"
                | "services/start"
                | "services/stop"
                | "services/restart",
                _,
            ) => json!({"id": self.service(self.project().await).await}),
            ("services/logs", _) => {
                json!({"service_ids": [self.service(self.project().await).await], "regex": false})
            }
            ("metrics/services", _) => {
                json!({"service_ids": [self.service(self.project().await).await]})
            }
            ("metrics/host", _) => json!({"range": "1h"}),
            ("runtime/logs", _) => json!({"project_id": self.project().await, "service": "web"}),
            ("services/create", _) => json!({"project_id": self.project().await,
                                            "definition": {"name": "api", "command": "true"}}),
            ("services/update", _) => json!({"id": self.service(self.project().await).await,
                                            "definition": {"name": "api", "command": "true"}}),
            ("environments/list", variant) => {
                json!({"project_id": self.project().await, "reveal": variant == "reveal"})
            }
            ("environments/create", _) => json!({"project_id": self.project().await, "name": "qa"}),
            ("environments/delete" | "environments/activate" | "environments/export_dotenv", _) => {
                json!({"id": self.environment(self.project().await).await})
            }
            ("environments/set_var", _) => {
                let env = self.environment(self.project().await).await;
                json!({"environment_id": env, "key": "API_KEY", "value": "s3cret", "secret": true})
            }
            ("environments/delete_var", _) => {
                let env = self.environment(self.project().await).await;
                self.ok(
                    "environments/set_var",
                    json!({"environment_id": env, "key": "GONE", "value": "1", "secret": false}),
                )
                .await;
                json!({"environment_id": env, "key": "GONE"})
            }
            ("environments/import_dotenv", _) => {
                let env = self.environment(self.project().await).await;
                json!({"environment_id": env, "content": "PORT=8080\n"})
            }
            ("github/settings", _) => json!({}),
            ("github/configure", _) => {
                json!({"token": "ghp_policy", "base_url": "http://127.0.0.1:9/api/v3"})
            }
            ("github/project", _) => json!({"id": self.project().await}),
            ("notifications/list", _) => json!({"unread_only": false}),
            ("notifications/mark_read", _) => json!({}),
            ("notifications/channels" | "notifications/deliveries", _) => json!({}),
            ("notifications/rules" | "notifications/mutes", _) => json!({}),
            ("notifications/create_channel", _) => json!({
                "name": self.unique("channel-"),
                "config": {"kind": "slack", "url": "http://127.0.0.1:9/hook"},
            }),
            ("notifications/update_channel", _) => {
                json!({"id": self.channel().await, "enabled": false})
            }
            ("notifications/delete_channel" | "notifications/test_channel", _) => {
                json!({"id": self.channel().await})
            }
            ("notifications/create_rule", _) => {
                json!({"channel_id": self.channel().await, "kinds": ["backup_failed"]})
            }
            ("notifications/delete_rule", _) => {
                let channel = self.channel().await;
                let rule = self
                    .ok("notifications/create_rule", json!({"channel_id": channel}))
                    .await;
                json!({"id": rule["id"]})
            }
            ("notifications/create_mute", _) => json!({"minutes": 5, "reason": "upgrade"}),
            ("notifications/delete_mute", _) => {
                let m = self
                    .ok(
                        "notifications/create_mute",
                        json!({"minutes": 5, "reason": "upgrade"}),
                    )
                    .await;
                json!({"id": m["id"]})
            }
            ("notifications/delivery" | "notifications/resend", _) => {
                json!({"id": self.dead_delivery().await})
            }
            ("council/graph", _) => json!({"project_id": self.project().await}),
            (
                "council/list" | "council/personas" | "council/memories" | "council/calibration",
                _,
            ) => {
                json!({})
            }
            ("council/get", _) => json!({"id": self.deliberation().await}),
            ("council/path", _) => json!({"from_project_id": self.project().await,
                                         "to_project_id": self.project().await}),
            ("council/deliberate", _) => json!({"question": "Ship it on Friday?"}),
            ("council/outcome", _) => {
                json!({"id": self.deliberation().await, "outcome": "proceed", "note": "fine"})
            }
            ("council/update_memory", _) => json!({"id": self.memory().await, "pinned": true}),
            ("council/forget_memory", _) => json!({"id": self.memory().await}),
            ("council/save_persona", _) => json!({"key": self.unique("sre"), "name": "SRE",
                "role": "Keeps production boring.", "domains": ["reliability"],
                "stance": "cautious", "enabled": true}),
            ("pipelines/list", _) => json!({"project_id": self.project().await}),
            ("pipelines/create", _) => json!({"project_id": self.project().await,
                                             "definition": self.pipeline_definition()}),
            ("pipelines/get" | "pipelines/delete", _) => json!({"id": self.pipeline().await}),
            ("pipelines/update", _) => json!({"id": self.pipeline().await,
                                             "definition": self.pipeline_definition()}),
            ("pipelines/run" | "pipelines/runs", _) => {
                json!({"pipeline_id": self.pipeline().await})
            }
            ("pipelines/get_run", _) => {
                json!({"id": self.run_of(json!([{"name": "test", "command": "true"}]), None).await})
            }
            ("pipelines/step_log", _) => {
                let steps = json!([{"name": "test", "command": "echo hi"}]);
                json!({"run_id": self.run_of(steps, Some("succeeded")).await, "step": "test"})
            }
            ("pipelines/cancel", _) => {
                json!({"id": self.run_of(json!([{"name": "wait", "command": "sleep 20"}]), None).await})
            }
            ("pipelines/rerun", _) => {
                let steps = json!([{"name": "test", "command": "true"}]);
                json!({"id": self.run_of(steps, Some("succeeded")).await})
            }
            ("pipelines/schedules", _) => json!({}),
            ("pipelines/pause_schedule", _) => {
                let def = json!({"steps": [{"name": "a", "command": "true"}],
                                 "triggers": {"schedules": [{"cron": "0 0 1 1 *"}]}});
                json!({"pipeline_id": self.pipeline_with(def).await, "index": 0, "paused": true})
            }
            ("pipelines/webhook", _) => {
                let def = json!({"steps": [{"name": "a", "command": "true"}],
                                 "triggers": {"webhook": true}});
                json!({"pipeline_id": self.pipeline_with(def).await})
            }
            ("pipelines/decide", _) => {
                let steps = json!([{"name": "gate", "approval": {}}]);
                let run = self.run_of(steps, Some("waiting_approval")).await;
                json!({"run_id": run, "step": "gate", "approve": true})
            }
            ("deployments/deploy", _) => json!({"project_id": self.project().await}),
            ("deployments/recent", _) => json!({"limit": 10}),
            ("deployments/list" | "deployments/releases", _) => {
                json!({"project_id": self.project().await})
            }
            ("deployments/get", _) => json!({"id": self.deployed().await.1}),
            ("deployments/rollback", _) => {
                json!({"project_id": self.deployed().await.0, "release": 1})
            }
            ("deployments/pin", _) => {
                json!({"project_id": self.deployed().await.0, "release": 1, "pinned": true})
            }
            ("deployments/diff", _) => {
                let (project, _) = self.deployed().await;
                self.ok("deployments/deploy", json!({"project_id": project}))
                    .await;
                json!({"project_id": project, "from": 1, "to": 2})
            }
            ("backups/create_policy", _) => json!({"project_id": self.project().await}),
            ("backups/update_policy", _) => {
                json!({"policy_id": self.backup_policy().await, "keep": {"last": 2}})
            }
            (
                "backups/delete_policy"
                | "backups/get_policy"
                | "backups/run"
                | "backups/jobs"
                | "backups/snapshots"
                | "backups/repository",
                _,
            ) => json!({"policy_id": self.backup_policy().await}),
            ("backups/policies", _) => json!({}),
            ("backups/verify", _) => {
                json!({"policy_id": self.backup_policy().await, "level": "structure"})
            }
            ("backups/job", _) => {
                let policy = self.backup_policy().await;
                json!({"id": self.ok("backups/run", json!({"policy_id": policy})).await["id"]})
            }
            ("backups/files", _) => json!({"snapshot_id": self.snapshot().await}),
            ("backups/restore", _) => {
                json!({"snapshot_id": self.snapshot().await, "target_path": self.new_path()})
            }
            ("backups/self_backups", _) => json!({}),
            ("backups/self_backup", _) => {
                // One run at a time: the one before must have ended.
                let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
                loop {
                    let info = self.ok("backups/self_backups", json!({})).await;
                    if info["runs"][0]["status"] != "running" {
                        break;
                    }
                    assert!(
                        std::time::Instant::now() < until,
                        "a self-backup never ended"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                json!({})
            }
            ("backups/restore_database", _) => json!({
                "snapshot_id": self.database_snapshot().await,
                "database": "app",
                "target_path": self.new_path(),
            }),
            (path, variant) => panic!("no valid body written for {path} {variant}"),
        }
    }

    /// The session to call with as `role`: the standing one, except for calls that end or
    /// change the caller's sessions, which get a fresh user (or, for the unique owner, a second
    /// session to log out; a password change keeps the session it is made through).
    async fn caller(&self, rule: &Rule, role: &str, standing: &str) -> String {
        match (rule.path, role) {
            ("auth/logout", "owner") => self.app.login("owner").await,
            ("auth/change_password", "owner") => standing.to_owned(),
            ("auth/logout" | "auth/change_password", _) => self.user(role).await.1,
            _ => standing.to_owned(),
        }
    }
}

/// Undoes what a successful call changed that later calls rely on.
async fn restore(app: &TestApp, rule: &Rule, caller: &str) {
    if rule.path == "auth/change_password" {
        let body = json!({"current_password": "another horse battery", "new_password": PASSWORD});
        let r = app
            .post_anon("auth/change_password", body, Some(caller))
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "restoring the password: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn every_endpoint_answers_each_role_and_scope_as_the_written_policy_says() {
    // Hundreds of sign-ins from one address: the login limit has its own tests.
    let app = spawn_app_with(|s| {
        s.auth_rate_per_minute = 100_000;
        s.api_rate_per_minute = 1_000_000;
        s.notification_attempts = 1;
    })
    .await;
    let owner = app.setup_owner().await;
    // Services started along the way are stopped however the test ends.
    let _services = app.guard();
    let world = World {
        app: &app,
        owner: owner.clone(),
        dirs: Mutex::default(),
        n: AtomicUsize::new(0),
    };
    // The policy names exactly the declared endpoints.
    let written: BTreeSet<&str> = POLICY.iter().map(|r| r.path).collect();
    let declared: BTreeSet<&str> = declared().iter().map(|e| e.path).collect();
    assert_eq!(
        written, declared,
        "the written policy and the endpoints differ"
    );

    let mut sessions = vec![("owner", owner.clone())];
    for role in ["viewer", "operator", "admin"] {
        sessions.push((role, world.user(role).await.1));
    }
    let mut calls = 0;
    for rule in POLICY {
        let what = format!("{} {}", rule.path, rule.variant);
        let Some(roles) = rule.roles else {
            let body = world.body(rule, &owner, None).await;
            let r = app.post_anon(rule.path, body, None).await;
            let expected = if rule.path == "auth/setup" {
                StatusCode::CONFLICT // set up once, above
            } else {
                StatusCode::OK
            };
            assert_eq!(r.status, expected, "{what} anonymous: {}", r.body);
            calls += 1;
            continue;
        };
        let body = world.body(rule, &owner, None).await;
        let anonymous = app.post_anon(rule.path, body, None).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{what} anonymous"
        );
        for (role, standing) in &sessions {
            let caller = world.caller(rule, role, standing).await;
            let body = world.body(rule, &caller, None).await;
            let r = app.post_anon(rule.path, body, Some(&caller)).await;
            if roles.contains(role) {
                assert!(
                    r.status.is_success(),
                    "{what} as {role}: {} {}",
                    r.status,
                    r.body
                );
                restore(&app, rule, &caller).await;
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{what} as {role}: {}",
                    r.body
                );
            }
            calls += 1;
        }
        calls += check_tokens(&world, rule).await;
    }
    assert!(calls > 700, "only {calls} calls made");
}

/// Tokens of the owner (or, for a change of password, of a fresh admin): exactly the needed
/// scopes succeed; each single other scope, and every scope but a needed one, are refused.
async fn check_tokens(world: &World<'_>, rule: &Rule) -> usize {
    let app = world.app;
    let what = format!("{} {}", rule.path, rule.variant);
    let mut calls = 0;
    let mut try_with = async |scopes: Vec<&str>, allowed: bool| {
        // A password change ends the holder's other sessions: each try gets its own admin.
        let session = match rule.path {
            "auth/change_password" => world.user("admin").await.1,
            _ => world.owner.clone(),
        };
        let token = app.api_token(&session, &scopes).await;
        let body = world.body(rule, &session, Some(&scopes)).await;
        let r = app.post_anon(rule.path, body, Some(&token)).await;
        calls += 1;
        if !allowed {
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{what} with {scopes:?}: {}",
                r.body
            );
        } else if rule.path == "auth/logout" {
            // Scope checked first; then an API token is told to use tokens/revoke.
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what} with {scopes:?}: {}",
                r.body
            );
            assert_eq!(r.field(), Some("token"));
        } else {
            assert!(
                r.status.is_success(),
                "{what} with {scopes:?}: {} {}",
                r.status,
                r.body
            );
            restore(app, rule, &token).await;
        }
    };
    try_with(rule.scopes.to_vec(), true).await;
    // `write` includes `read`; no other scope includes another.
    let suffices = |held: &str, needed: &str| held == needed || (held, needed) == ("write", "read");
    for scope in SCOPES {
        if *rule.scopes != [scope] {
            let enough = rule.scopes.iter().all(|n| suffices(scope, n));
            try_with(vec![scope], enough).await;
        }
    }
    for needed in rule.scopes {
        let others: Vec<&str> = SCOPES
            .iter()
            .copied()
            .filter(|s| !suffices(s, needed))
            .collect();
        try_with(others, false).await;
    }
    calls
}
