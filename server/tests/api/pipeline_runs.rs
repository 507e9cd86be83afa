//! Pipeline runs through the API on a real instance, with real processes: DAG order and
//! parallelism, failures skipping dependents, cancelling a step's whole process tree, retries,
//! timeouts, artifacts with checksums, JUnit counts, gates by role and timeout, parameters, and
//! secrets masked in stored and live logs.

use crate::events::{connect, next_json, subscribe};
use crate::helpers::{eventually, spawn_app, ServiceGuard, TestApp};
use crate::runtime::project;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

/// Kills what the instance's pipeline steps still run when dropped.
fn steps_guard(app: &TestApp) -> ServiceGuard {
    ServiceGuard::for_folder(app.settings.data_dir.join("pipelines"))
}

pub(crate) async fn pipeline(app: &TestApp, token: &str, project: i64, def: Value) -> i64 {
    let r = app
        .post_anon(
            "pipelines/create",
            json!({"project_id": project, "definition": def}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["id"].as_i64().expect("pipeline id")
}

pub(crate) async fn start(app: &TestApp, token: &str, pipeline: i64, params: Value) -> Value {
    let r = app
        .post_anon(
            "pipelines/run",
            json!({"pipeline_id": pipeline, "params": params}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

pub(crate) async fn get_run(app: &TestApp, token: &str, id: i64) -> Value {
    let r = app
        .post_anon("pipelines/get_run", json!({"id": id}), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// Waits until the run is in `status`.
pub(crate) async fn until_status(
    app: &TestApp,
    token: &str,
    id: i64,
    status: &str,
    within: Duration,
) -> Value {
    let mut last = Value::Null;
    let found = tokio::time::timeout(within, async {
        loop {
            last = get_run(app, token, id).await;
            if last["status"] == status {
                return last.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("run {id} not {status} within {within:?}: {last:#}"))
}

/// Waits until the run is over.
pub(crate) async fn finished(app: &TestApp, token: &str, id: i64) -> Value {
    eventually(Duration::from_secs(20), "the run ends", || async {
        let run = get_run(app, token, id).await;
        let over = ["succeeded", "failed", "cancelled", "interrupted"]
            .contains(&run["status"].as_str().unwrap_or_default());
        over.then_some(run)
    })
    .await
}

pub(crate) fn step<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["name"] == name))
        .unwrap_or_else(|| panic!("no step {name} in {run:#}"))
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

async fn log_texts(app: &TestApp, token: &str, run: i64, step: &str) -> Vec<String> {
    let r = app
        .post_anon(
            "pipelines/step_log",
            json!({"run_id": run, "step": step}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["lines"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|x| x["text"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn alive(pid: i32) -> bool {
    // A zombie has ended: only its parent has not collected it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|rest| rest.trim().to_owned()))
        .is_some_and(|rest| !rest.starts_with('Z'))
}

/// Two independent 1 s steps run side by side (both done in under 1.5 s), and the step that
/// depends on both starts only after each has ended; the run's list and the contract's fields
/// show it.
#[tokio::test]
async fn independent_steps_run_in_parallel_and_dependents_wait() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "dag", "steps": [
            {"name": "a", "command": "sleep 1"},
            {"name": "b", "command": "sleep 1"},
            {"name": "c", "command": "echo done", "depends_on": ["a", "b"]}
        ]}),
    )
    .await;
    let listed = app
        .post_anon("pipelines/list", json!({"project_id": pid}), Some(&token))
        .await;
    assert_eq!(listed.body[0]["name"], "dag", "{}", listed.body);
    let run = start(&app, &token, id, json!({})).await;
    assert_eq!(run["number"], 1);
    assert_eq!(run["triggered_by"], "owner");
    let run = finished(&app, &token, run["id"].as_i64().expect("id")).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let (a, b, c) = (step(&run, "a"), step(&run, "b"), step(&run, "c"));
    let first = at(&a["started_at"]).min(at(&b["started_at"]));
    let last = at(&a["finished_at"]).max(at(&b["finished_at"]));
    let both = (last - first).num_milliseconds();
    assert!(
        (1000..1500).contains(&both),
        "two independent 1 s steps took {both} ms together"
    );
    assert!(
        at(&c["started_at"]) >= last,
        "c started before a and b ended"
    );
    assert_eq!(c["exit_code"], 0);
    assert_eq!(
        log_texts(&app, &token, run["id"].as_i64().unwrap_or(0), "c").await,
        ["done"]
    );
    let runs = app
        .post_anon("pipelines/runs", json!({"pipeline_id": id}), Some(&token))
        .await;
    assert_eq!(runs.body.as_array().map(Vec::len), Some(1), "{}", runs.body);
}

/// A failed step skips what depends on it; a step allowed to fail does not; the run fails
/// naming the step.
#[tokio::test]
async fn a_failed_step_skips_its_dependents_unless_it_may_fail() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "ci", "steps": [
            {"name": "lint", "command": "exit 3", "allow_failure": true},
            {"name": "docs", "command": "true", "depends_on": ["lint"]},
            {"name": "build", "command": "echo broken >&2; exit 2"},
            {"name": "test", "command": "true", "depends_on": ["build"]},
            {"name": "ship", "command": "true", "depends_on": ["test", "docs"]}
        ]}),
    )
    .await;
    let run = start(&app, &token, id, json!({})).await;
    let run = finished(&app, &token, run["id"].as_i64().expect("id")).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(run["message"], "step `build` failed");
    assert_eq!(step(&run, "lint")["status"], "failed");
    assert_eq!(step(&run, "lint")["exit_code"], 3);
    assert_eq!(step(&run, "docs")["status"], "succeeded");
    assert_eq!(step(&run, "build")["exit_code"], 2);
    assert_eq!(step(&run, "build")["reason"], "exited with status 2");
    assert_eq!(step(&run, "test")["status"], "skipped");
    assert_eq!(step(&run, "test")["reason"], "`build` failed");
    assert_eq!(step(&run, "ship")["status"], "skipped");
    let errors = log_texts(&app, &token, run["id"].as_i64().unwrap_or(0), "build").await;
    assert_eq!(errors, ["broken"]);
    let file = app
        .client
        .get(format!(
            "{}/api/v1/pipelines/step_log/download?run_id={}&step=build",
            app.addr, run["id"]
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("download");
    assert_eq!(file.status(), StatusCode::OK);
    let text = file.text().await.expect("text");
    assert!(text.trim_end().ends_with(" stderr broken"), "{text}");
}

/// Cancelling a run stops every process of its running step (the command's children too), and
/// the steps not started are cancelled.
#[tokio::test]
async fn cancel_stops_every_process_of_a_running_step() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (dir, pid) = project(&app, &token, &[]).await;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "long", "steps": [
            {"name": "work", "command": "sleep 300 & echo $! > pids; sleep 300 & echo $! >> pids; echo started; wait"},
            {"name": "after", "command": "true", "depends_on": ["work"]}
        ]}),
    )
    .await;
    let run = start(&app, &token, id, json!({})).await;
    let run_id = run["id"].as_i64().expect("id");
    eventually(Duration::from_secs(10), "the step starts", || async {
        log_texts(&app, &token, run_id, "work")
            .await
            .contains(&"started".to_owned())
            .then_some(())
    })
    .await;
    let running = get_run(&app, &token, run_id).await;
    assert_eq!(running["status"], "running");
    assert_eq!(step(&running, "work")["status"], "running");
    let pids: Vec<i32> = std::fs::read_to_string(dir.path().join("pids"))
        .expect("pids")
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(pids.len(), 2);
    assert!(pids.iter().all(|p| alive(*p)));

    let r = app
        .post_anon("pipelines/cancel", json!({"id": run_id}), Some(&token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "cancelled");
    let run = finished(&app, &token, run_id).await;
    assert_eq!(run["status"], "cancelled");
    assert_eq!(run["message"], "cancelled by owner");
    eventually(
        Duration::from_secs(10),
        "the step is recorded cancelled",
        || async {
            let run = get_run(&app, &token, run_id).await;
            (step(&run, "work")["status"] == "cancelled" && run["finished_at"].is_string())
                .then_some(())
        },
    )
    .await;
    let run = get_run(&app, &token, run_id).await;
    assert_eq!(step(&run, "after")["status"], "cancelled");
    for p in &pids {
        assert!(!alive(*p), "process {p} of the cancelled step still runs");
    }
    // Over: a second cancel is refused.
    let again = app
        .post_anon("pipelines/cancel", json!({"id": run_id}), Some(&token))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
}

/// A step retried on failure succeeds on its second attempt; a failure on an exit code not
/// listed is not retried; a step past its timeout is stopped and fails.
#[tokio::test]
async fn retries_and_timeouts() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "flaky", "steps": [
            {"name": "flaky", "command": "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo attempt $n; [ $n -ge 2 ]",
             "retry": {"count": 2}},
            {"name": "picky", "command": "exit 5", "retry": {"count": 3, "on_exit_codes": [7]}, "allow_failure": true},
            {"name": "slow", "command": "sleep 30", "timeout_secs": 1, "allow_failure": true}
        ]}),
    )
    .await;
    let started = std::time::Instant::now();
    let run = start(&app, &token, id, json!({})).await;
    let run = finished(&app, &token, run["id"].as_i64().expect("id")).await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the timeout did not stop `slow`"
    );
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let flaky = step(&run, "flaky");
    assert_eq!(
        (flaky["status"].clone(), flaky["attempt"].clone()),
        (json!("succeeded"), json!(2))
    );
    let run_id = run["id"].as_i64().unwrap_or(0);
    assert_eq!(
        log_texts(&app, &token, run_id, "flaky").await,
        ["attempt 2"]
    );
    let first = app
        .post_anon(
            "pipelines/step_log",
            json!({"run_id": run_id, "step": "flaky", "attempt": 1}),
            Some(&token),
        )
        .await;
    assert_eq!(
        first.body["lines"][0]["text"], "attempt 1",
        "{}",
        first.body
    );
    let picky = step(&run, "picky");
    assert_eq!(
        (picky["status"].clone(), picky["attempt"].clone()),
        (json!("failed"), json!(1))
    );
    let slow = step(&run, "slow");
    assert_eq!(slow["status"], "failed");
    assert_eq!(slow["reason"], "timed out after 1 s");
    assert_eq!(slow["exit_code"], Value::Null);
}

/// Artifacts are kept with their size and SHA-256 (and downloadable after the project's copy is
/// gone); a JUnit report's counts are read.
#[tokio::test]
async fn artifacts_are_kept_with_checksums_and_junit_counts_are_read() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (dir, pid) = project(&app, &token, &[]).await;
    let report = r#"<testsuite><testcase name="a"/><testcase name="b"><failure/></testcase><testcase name="c"><skipped/></testcase></testsuite>"#;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "build", "steps": [
            {"name": "build", "command": format!("mkdir -p dist && printf hello > dist/app.bin && printf nope > dist/notes.txt && printf '%s' '{report}' > report.xml"),
             "artifacts": ["dist/*.bin"], "test_report": "report.xml"}
        ]}),
    )
    .await;
    let run = start(&app, &token, id, json!({})).await;
    let run = finished(&app, &token, run["id"].as_i64().expect("id")).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(
        run["artifacts"],
        json!([{"step": "build", "path": "dist/app.bin", "size": 5,
                "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}])
    );
    assert_eq!(
        step(&run, "build")["tests"],
        json!({"passed": 1, "failed": 1, "skipped": 1})
    );
    std::fs::remove_dir_all(dir.path().join("dist")).expect("clean");
    let url = format!(
        "{}/api/v1/pipelines/artifact?run_id={}&path=dist/app.bin",
        app.addr, run["id"]
    );
    let got = app
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.expect("body").as_ref(), b"hello");
    let missing = app
        .client
        .get(format!(
            "{}/api/v1/pipelines/artifact?run_id={}&path=dist/notes.txt",
            app.addr, run["id"]
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// A gate waits for a person with its role: a lower role and the person who started the run
/// are refused; an approval lets the run go on and is kept with the comment; a rejection fails
/// the run; a gate nobody decides in time fails.
#[tokio::test]
async fn gates_wait_for_a_person_with_the_role() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let owner = app.setup_owner().await;
    let admin = app.user_with_role(&owner, "ada", "admin").await;
    let operator = app.user_with_role(&owner, "otto", "operator").await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = pipeline(
        &app,
        &owner,
        pid,
        json!({"name": "release", "steps": [
            {"name": "build", "command": "true"},
            {"name": "approve", "depends_on": ["build"],
             "approval": {"min_role": "admin", "not_triggerer": true, "prompt": "Ship it?"}},
            {"name": "ship", "command": "echo shipped", "depends_on": ["approve"]}
        ]}),
    )
    .await;
    let run = start(&app, &owner, id, json!({})).await;
    let run_id = run["id"].as_i64().expect("id");
    let waiting = until_status(
        &app,
        &owner,
        run_id,
        "waiting_approval",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(step(&waiting, "approve")["status"], "waiting_approval");
    assert_eq!(step(&waiting, "approve")["gate"]["prompt"], "Ship it?");
    let decide = |token: String, approve: bool| {
        let app = &app;
        async move {
            app.post_anon(
                "pipelines/decide",
                json!({"run_id": run_id, "step": "approve", "approve": approve, "comment": "looks good"}),
                Some(&token),
            )
            .await
        }
    };
    let low = decide(operator.clone(), true).await;
    assert_eq!(low.status, StatusCode::FORBIDDEN, "{}", low.body);
    let own = decide(owner.clone(), true).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.body);
    assert_eq!(
        step(&get_run(&app, &owner, run_id).await, "approve")["status"],
        "waiting_approval"
    );
    let ok = decide(admin.clone(), true).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let done = until_status(&app, &owner, run_id, "succeeded", Duration::from_secs(10)).await;
    let gate = &step(&done, "approve")["gate"];
    assert_eq!(
        (gate["decided_by"].clone(), gate["comment"].clone()),
        (json!("ada"), json!("looks good"))
    );
    assert!(gate["decided_at"].is_string());
    assert_eq!(step(&done, "ship")["status"], "succeeded");
    let twice = decide(admin.clone(), true).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);

    // Rejected: the gate fails and what follows is skipped.
    let run = start(&app, &owner, id, json!({})).await;
    let second = run["id"].as_i64().expect("id");
    until_status(
        &app,
        &owner,
        second,
        "waiting_approval",
        Duration::from_secs(10),
    )
    .await;
    let no = app
        .post_anon(
            "pipelines/decide",
            json!({"run_id": second, "step": "approve", "approve": false}),
            Some(&admin),
        )
        .await;
    assert_eq!(no.status, StatusCode::OK, "{}", no.body);
    let failed = until_status(&app, &owner, second, "failed", Duration::from_secs(10)).await;
    assert_eq!(step(&failed, "approve")["reason"], "rejected by ada");
    assert_eq!(step(&failed, "ship")["status"], "skipped");

    // Nobody decides within the gate's timeout: it fails.
    let timed = pipeline(
        &app,
        &owner,
        pid,
        json!({"name": "hurry", "steps": [
            {"name": "gate", "approval": {"timeout_secs": 1}},
            {"name": "after", "command": "true", "depends_on": ["gate"]}
        ]}),
    )
    .await;
    let run = start(&app, &operator, timed, json!({})).await;
    let failed = until_status(
        &app,
        &owner,
        run["id"].as_i64().expect("id"),
        "failed",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(step(&failed, "gate")["reason"], "no decision within 1 s");
}

/// Parameter values are checked against the pipeline's types (nothing starts on a refusal) and
/// reach the steps as `PARAM_<NAME>`.
#[tokio::test]
async fn parameters_are_checked_and_reach_the_steps() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "deploy",
               "parameters": [
                   {"name": "target", "type": "choice", "choices": ["staging", "production"], "default": "staging"},
                   {"name": "count", "type": "number", "required": true},
                   {"name": "dry_run", "type": "boolean", "default": false}
               ],
               "steps": [{"name": "show", "command": "echo target=$PARAM_TARGET count=$PARAM_COUNT dry=$PARAM_DRY_RUN"}]}),
    )
    .await;
    for (params, field) in [
        (json!({"count": "three"}), "params.count"),
        (json!({}), "params.count"),
        (json!({"count": 1, "nope": 1}), "params.nope"),
        (json!({"count": 1, "target": "moon"}), "params.target"),
    ] {
        let r = app
            .post_anon(
                "pipelines/run",
                json!({"pipeline_id": id, "params": params}),
                Some(&token),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{params}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{params}: {}", r.body);
    }
    let runs = app
        .post_anon("pipelines/runs", json!({"pipeline_id": id}), Some(&token))
        .await;
    assert_eq!(runs.body, json!([]), "a refused start made a run");
    let run = start(
        &app,
        &token,
        id,
        json!({"count": 3, "target": "production"}),
    )
    .await;
    assert_eq!(
        run["params"],
        json!({"count": 3.0, "dry_run": false, "target": "production"})
    );
    let run = finished(&app, &token, run["id"].as_i64().expect("id")).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(
        log_texts(&app, &token, run["id"].as_i64().unwrap_or(0), "show").await,
        ["target=production count=3 dry=false"]
    );
}

/// A secret of the project's active environment is masked in the stored step log, in the live
/// lines a WebSocket client receives, and in every file under the run's folder.
#[tokio::test]
async fn secrets_are_masked_in_stored_and_live_step_logs() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (dir, pid) = project(&app, &token, &[]).await;
    let env = app
        .post_anon(
            "environments/create",
            json!({"project_id": pid, "name": "ci"}),
            Some(&token),
        )
        .await;
    let env_id = env.body[0]["id"].as_i64().expect("env id");
    let set = app
        .post_anon(
            "environments/set_var",
            json!({"environment_id": env_id, "key": "API_TOKEN", "value": "tok-5ecret-77", "secret": true}),
            Some(&token),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "leaky", "steps": [
            {"name": "echo", "command": "while [ ! -f go ]; do sleep 0.05; done; echo token=$API_TOKEN; echo also $API_TOKEN >&2"}
        ]}),
    )
    .await;
    let run = start(&app, &token, id, json!({})).await;
    let run_id = run["id"].as_i64().expect("id");
    let mut socket = connect(&app, &token).await;
    subscribe(&mut socket, &[&format!("pipeline-logs:{run_id}")]).await;
    std::fs::write(dir.path().join("go"), "").expect("go");
    let mut live = Vec::new();
    while live.len() < 2 {
        let msg = tokio::time::timeout(Duration::from_secs(10), next_json(&mut socket))
            .await
            .expect("live lines within 10 s");
        let event = &msg["envelope"]["event"];
        assert_eq!(event["type"], "step_log_lines", "{msg}");
        assert_eq!(event["step"], "echo");
        for l in event["lines"].as_array().cloned().unwrap_or_default() {
            live.push((l["stream"].clone(), l["text"].clone()));
        }
    }
    // Two pipes: their lines may be read in either order.
    live.sort_by_key(|(stream, _)| stream.to_string());
    assert_eq!(
        live,
        [
            (json!("stderr"), json!("also ••••••")),
            (json!("stdout"), json!("token=••••••"))
        ]
    );
    let run = finished(&app, &token, run_id).await;
    assert_eq!(run["status"], "succeeded");
    let mut stored = log_texts(&app, &token, run_id, "echo").await;
    stored.sort();
    assert_eq!(stored, ["also ••••••", "token=••••••"]);
    let mut files = vec![app.settings.data_dir.join("pipelines")];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(
                std::fs::read_dir(&p)
                    .expect("read")
                    .flatten()
                    .map(|e| e.path()),
            );
        } else {
            let body = std::fs::read(&p).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&body).contains("tok-5ecret-77"),
                "the secret reached {}",
                p.display()
            );
        }
    }
}

/// Rerunning from the failed step keeps what succeeded and runs the rest; a full rerun runs
/// every step.
#[tokio::test]
async fn rerun_from_the_failed_step_keeps_what_succeeded() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (dir, pid) = project(&app, &token, &[]).await;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "twice", "steps": [
            {"name": "build", "command": "echo built >> builds"},
            {"name": "test", "command": "[ -f fixed ]", "depends_on": ["build"]}
        ]}),
    )
    .await;
    let run = start(&app, &token, id, json!({})).await;
    let first = finished(&app, &token, run["id"].as_i64().expect("id")).await;
    assert_eq!(first["status"], "failed");
    std::fs::write(dir.path().join("fixed"), "").expect("fix");
    let r = app
        .post_anon(
            "pipelines/rerun",
            json!({"id": first["id"], "from_failed": true}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["rerun_of"], first["id"]);
    assert_eq!(r.body["number"], 2);
    let second = finished(&app, &token, r.body["id"].as_i64().expect("id")).await;
    assert_eq!(second["status"], "succeeded", "{second:#}");
    let builds = std::fs::read_to_string(dir.path().join("builds")).unwrap_or_default();
    assert_eq!(builds.lines().count(), 1, "build ran again: {builds}");
    let r = app
        .post_anon("pipelines/rerun", json!({"id": first["id"]}), Some(&token))
        .await;
    let third = finished(&app, &token, r.body["id"].as_i64().expect("id")).await;
    assert_eq!(third["status"], "succeeded");
    let builds = std::fs::read_to_string(dir.path().join("builds")).unwrap_or_default();
    assert_eq!(builds.lines().count(), 2);
}

/// A viewer reads runs but cannot start one.
#[tokio::test]
async fn a_viewer_reads_runs_but_cannot_start_them() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vera", "viewer").await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = pipeline(
        &app,
        &owner,
        pid,
        json!({"name": "ci", "steps": [{"name": "a", "command": "true"}]}),
    )
    .await;
    let r = app
        .post_anon("pipelines/run", json!({"pipeline_id": id}), Some(&viewer))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let run = start(&app, &owner, id, json!({})).await;
    let seen = get_run(&app, &viewer, run["id"].as_i64().expect("id")).await;
    assert_eq!(seen["id"], run["id"]);
}

/// The council reads the pipelines' record: the test counts a run's JUnit report gave, and the
/// failed run, are evidence without anyone stating them.
#[tokio::test]
async fn the_council_reads_test_counts_and_failures_from_runs() {
    let app = spawn_app().await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    let report =
        r#"<testsuite><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>"#;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "test", "steps": [
            {"name": "unit", "command": format!("printf '%s' '{report}' > junit.xml; exit 1"), "test_report": "junit.xml"}
        ]}),
    )
    .await;
    let run = start(&app, &token, id, json!({})).await;
    let run = finished(&app, &token, run["id"].as_i64().expect("id")).await;
    assert_eq!(run["status"], "failed");
    let d = app
        .post_anon(
            "council/deliberate",
            json!({"question": "Should we ship the release today?", "project_id": pid}),
            Some(&token),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let evidence = d.body["evidence"].as_array().cloned().unwrap_or_default();
    let said = |source: &str| {
        evidence
            .iter()
            .find(|e| e["source"] == source)
            .map(|e| (e["summary"].clone(), e["signal"].clone()))
    };
    assert_eq!(
        said("tests"),
        Some((
            json!("Tests in test #1: 1 passed, 1 failed, 0 skipped"),
            json!("risk")
        )),
        "{evidence:#?}"
    );
    assert_eq!(
        said("pipelines").map(|(s, _)| s),
        Some(json!(
            "Pipeline runs (newest first): test #1 failed; 1 failed in a row"
        ))
    );
}

/// Past `keep_pipeline_runs`, a pipeline's oldest finished runs are removed with their logs and
/// artifacts (folders Optimus made); the newest stay.
#[tokio::test]
async fn old_runs_are_removed_with_their_logs_and_artifacts() {
    let app = crate::helpers::spawn_app_with(|s| s.keep_pipeline_runs = 2).await;
    let _steps = steps_guard(&app);
    let token = app.setup_owner().await;
    let (dir, pid) = project(&app, &token, &[]).await;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "keep", "steps": [
            {"name": "a", "command": "echo hi; echo kept > out.txt", "artifacts": ["out.txt"]}
        ]}),
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let run = start(&app, &token, id, json!({})).await;
        let run = finished(&app, &token, run["id"].as_i64().expect("id")).await;
        assert_eq!(run["status"], "succeeded");
        ids.push(run["id"].as_i64().expect("id"));
    }
    let folder = |id: i64| app.settings.data_dir.join("pipelines").join(id.to_string());
    eventually(
        Duration::from_secs(5),
        "the oldest run is removed",
        || async {
            let r = app
                .post_anon("pipelines/get_run", json!({"id": ids[0]}), Some(&token))
                .await;
            (r.status == StatusCode::NOT_FOUND && !folder(ids[0]).exists()).then_some(())
        },
    )
    .await;
    for id in &ids[1..] {
        assert_eq!(get_run(&app, &token, *id).await["status"], "succeeded");
        assert!(folder(*id).join("artifacts").join("out.txt").is_file());
    }
    // The project's own file is never touched.
    assert!(dir.path().join("out.txt").is_file());
}
