//! Pipeline definitions through the API: declared in `optimus.toml` or made in Optimus, checked
//! field by field (nothing saved on a refusal), by role, and kept in step with the file until
//! someone edits them.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::runtime::project;
use reqwest::StatusCode;
use serde_json::{json, Value};

const DECLARED: &str = r#"
[[pipelines]]
name = "ci"
[[pipelines.steps]]
name = "test"
command = "true"
[[pipelines.steps]]
name = "ship"
depends_on = ["test"]
approval = { min_role = "admin" }
"#;

async fn list(app: &TestApp, token: &str, project: i64) -> Vec<Value> {
    let r = app
        .post_anon(
            "pipelines/list",
            json!({ "project_id": project }),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.as_array().cloned().unwrap_or_default()
}

fn names(list: &[Value]) -> Vec<(String, String)> {
    list.iter()
        .map(|p| {
            (
                p["definition"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                p["origin"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn release() -> Value {
    json!({
        "name": "release",
        "parameters": [{"name": "target", "type": "choice", "choices": ["staging", "production"], "default": "staging"}],
        "steps": [
            {"name": "build", "command": "make build", "artifacts": ["dist/*.tar.gz"]},
            {"name": "lint", "command": "make lint", "allow_failure": true},
            {"name": "ship", "command": "make ship", "depends_on": ["build", "lint"]}
        ],
        "triggers": {"schedules": [{"cron": "0 30 2 * * *", "timezone": "Europe/Paris", "missed": "last"}]},
        "concurrency": "queue"
    })
}

/// Declared pipelines appear as `descriptor`; one made in Optimus as `user`; an edit makes a
/// declared one the user's, and the file then no longer changes it; removing one from the file
/// removes it from the list unless it was edited.
#[tokio::test]
async fn declared_and_made_pipelines_follow_the_service_rules() {
    let app = spawn_app().await;
    let token = app.setup_owner().await;
    let (dir, pid) = project(&app, &token, &[("optimus.toml", DECLARED)]).await;

    let first = list(&app, &token, pid).await;
    assert_eq!(names(&first), [("ci".into(), "descriptor".into())]);
    assert_eq!(
        first[0]["definition"]["steps"][1]["approval"]["min_role"],
        "admin"
    );

    let made = app
        .post_anon(
            "pipelines/create",
            json!({"project_id": pid, "definition": release()}),
            Some(&token),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(made.body["origin"], "user");
    assert_eq!(made.body["definition"]["concurrency"], "queue");
    let again = app
        .post_anon(
            "pipelines/create",
            json!({"project_id": pid, "definition": release()}),
            Some(&token),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);

    // The file changes: its pipeline follows.
    std::fs::write(
        dir.path().join("optimus.toml"),
        DECLARED.replace("command = \"true\"", "command = \"make test\""),
    )
    .expect("write");
    let followed = list(&app, &token, pid).await;
    let ci = followed
        .iter()
        .find(|p| p["definition"]["name"] == "ci")
        .expect("ci");
    assert_eq!(ci["definition"]["steps"][0]["command"], "make test");

    // Edited in Optimus: the user's from now on.
    let mut def = ci["definition"].clone();
    def["steps"][0]["command"] = json!("make check");
    let edited = app
        .post_anon(
            "pipelines/update",
            json!({"id": ci["id"], "definition": def}),
            Some(&token),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["origin"], "user");
    std::fs::write(dir.path().join("optimus.toml"), "").expect("empty the file");
    let kept = list(&app, &token, pid).await;
    assert_eq!(
        names(&kept),
        [
            ("ci".into(), "user".into()),
            ("release".into(), "user".into())
        ]
    );
    assert_eq!(kept[0]["definition"]["steps"][0]["command"], "make check");

    // Renaming onto another pipeline's name is a conflict; removal works.
    let mut onto = kept[0]["definition"].clone();
    onto["name"] = json!("release");
    let clash = app
        .post_anon(
            "pipelines/update",
            json!({"id": kept[0]["id"], "definition": onto}),
            Some(&token),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);
    let gone = app
        .post_anon(
            "pipelines/delete",
            json!({"id": kept[0]["id"]}),
            Some(&token),
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert_eq!(
        names(&list(&app, &token, pid).await),
        [("release".into(), "user".into())]
    );
    let audit = app.post_anon("audit/list", json!({}), Some(&token)).await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for action in ["pipelines.create", "pipelines.update", "pipelines.delete"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

/// Each broken rule is refused naming its field, and nothing is saved.
#[tokio::test]
async fn a_refused_definition_names_its_field_and_saves_nothing() {
    let app = spawn_app().await;
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut d = release();
        change(&mut d);
        d
    };
    let cases: Vec<(Value, StatusCode, &str, &str)> = vec![
        (
            with(&|d| d["steps"][0]["depends_on"] = json!(["ship"])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "definition.steps",
            "build → ship → build",
        ),
        (
            with(&|d| d["steps"][2]["depends_on"] = json!(["nope"])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "definition.steps[2].depends_on",
            "nope",
        ),
        (
            with(&|d| d["steps"][0]["artifacts"] = json!(["dist/[oops"])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "definition.steps[0].artifacts[0]",
            "glob",
        ),
        (
            with(&|d| d["triggers"]["schedules"][0]["cron"] = json!("0 99 * * *")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "definition.triggers.schedules[0].cron",
            "cron",
        ),
        (
            with(&|d| d["triggers"]["schedules"][0]["timezone"] = json!("Europe/Atlantis")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "definition.triggers.schedules[0].timezone",
            "time zone",
        ),
        (
            with(&|d| d["parameters"][0]["default"] = json!("moon")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "definition.parameters[0].default",
            "staging, production",
        ),
        (
            with(&|d| d["triggers"]["schedules"][0]["parameters"] = json!({"target": 3})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "definition.triggers.schedules[0].parameters.target",
            "text",
        ),
        (
            with(&|d| d["steps"][1]["cwd"] = json!("../outside")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "definition.steps[1].cwd",
            "inside the project",
        ),
        (
            with(&|d| d["name"] = json!("Has Spaces")),
            StatusCode::BAD_REQUEST,
            "definition.name",
            "^[a-z0-9]",
        ),
    ];
    for (definition, status, field, says) in cases {
        let r = app
            .post_anon(
                "pipelines/create",
                json!({"project_id": pid, "definition": definition}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, status, "{field}: {}", r.body);
        assert_eq!(r.field(), Some(field), "{}", r.body);
        let message = r.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{field}: {message}");
    }
    assert!(
        list(&app, &token, pid).await.is_empty(),
        "nothing was saved"
    );
}

/// A viewer reads pipelines but cannot change them; an operator can.
#[tokio::test]
async fn viewers_read_and_operators_edit() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let operator = app.user_with_role(&owner, "otto", "operator").await;
    let (_dir, pid) = project(&app, &owner, &[("optimus.toml", DECLARED)]).await;
    assert_eq!(list(&app, &viewer, pid).await.len(), 1);
    let body = json!({"project_id": pid, "definition": release()});
    let refused = app
        .post_anon("pipelines/create", body.clone(), Some(&viewer))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(list(&app, &owner, pid).await.len(), 1);
    let made = app
        .post_anon("pipelines/create", body, Some(&operator))
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
}

/// Runs are numbered per pipeline and a trigger key makes one run however many ask at once; a
/// queued run is claimed by one instance, and only the holder of the current fence renews it.
#[tokio::test]
async fn a_trigger_starts_one_run_and_one_instance_claims_it() {
    use app::models::pipelines::{StepState, TriggerKind};
    use app::server::pipelines::repo::runs::{self, NewRun};
    // This instance runs no pipelines: the claims below are the only ones.
    let app = spawn_app_with(|s| s.pipeline_slots = 0).await;
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    let made = app
        .post_anon(
            "pipelines/create",
            json!({"project_id": pid, "definition": release()}),
            Some(&token),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let pipeline = made.body["id"].as_i64().expect("id");
    let steps: Vec<(String, StepState)> = ["build", "lint", "ship"]
        .iter()
        .map(|s| ((*s).to_owned(), StepState::Pending))
        .collect();
    let new = |key: &'static str| NewRun {
        pipeline_id: pipeline,
        project_id: pid,
        trigger: TriggerKind::Schedule,
        trigger_key: key,
        triggered_by: None,
        branch: None,
        commit: None,
        parameters: "{}",
        definition: "{}",
        rerun_of: None,
        steps: &[],
    };
    // Eight instances see the same fire time at once.
    let attempts = (0..8).map(|_| {
        let db = app.state.db.clone();
        let steps = steps.clone();
        async move {
            let mut run = new("schedule:0:2026-12-06T03:00:00Z");
            run.steps = &steps;
            runs::insert(&db, &run, chrono::Utc::now()).await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let made: Vec<_> = results
        .into_iter()
        .filter_map(|r| r.expect("no database error"))
        .collect();
    assert_eq!(made.len(), 1, "one run for one fire time");
    let (first, first_steps) = &made[0];
    assert_eq!(first.number, 1);
    assert_eq!(first.state, "queued");
    assert_eq!(
        first_steps
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["build", "lint", "ship"]
    );
    let second = runs::insert(&app.state.db, &new("manual:a"), chrono::Utc::now())
        .await
        .expect("insert")
        .expect("a new key makes a run");
    assert_eq!(second.0.number, 2);

    let lease = chrono::Utc::now() + chrono::Duration::seconds(30);
    let now = chrono::Utc::now();
    let a = runs::claim(&app.state.db, first.id, "instance-a", lease, now)
        .await
        .expect("claim");
    let b = runs::claim(&app.state.db, first.id, "instance-b", lease, now)
        .await
        .expect("claim");
    assert_eq!((a, b), (Some(1), None), "one instance takes a queued run");
    assert!(runs::renew(&app.state.db, first.id, "instance-a", 1, lease)
        .await
        .expect("renew"));
    assert!(
        !runs::renew(&app.state.db, first.id, "instance-a", 0, lease)
            .await
            .expect("renew")
    );
    assert!(
        !runs::renew(&app.state.db, first.id, "instance-b", 1, lease)
            .await
            .expect("renew")
    );
}
