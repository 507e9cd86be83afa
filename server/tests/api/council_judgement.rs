//! The council's judgement, scored on the labelled situations of
//! `app/src/server/council/judgement/situations.json` (issue 18): each is asked through
//! `council/deliberate` as written, about a project built for it through the API when it has a
//! setup (a real git repository, real service processes, real pipeline runs, real backups), and
//! the answers are checked against the labels: accuracy, Brier score, and confidence high on
//! clear cases and low on split ones. The table is printed (run with `--nocapture`); when
//! `OPTIMUS_JUDGEMENT_REPORT` names a file, a JSON report is written there.
//!
//! One instance answers every situation: no outcome is ever recorded, so an earlier question
//! recalled from memory is evidence without a signal (only a known outcome tips a vote).

use crate::backups::{back_up, ok};
use crate::council::ask;
use crate::helpers::{git, spawn_app, ServiceGuard, TestApp};
use crate::pipeline_runs::{finished, pipeline, start, step};
use crate::runtime::{create, wait_state};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::Duration;

const SITUATIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../app/src/server/council/judgement/situations.json"
);

#[derive(Deserialize)]
struct Labels {
    situations: Vec<Situation>,
}

/// One labelled situation.
#[derive(Deserialize)]
struct Situation {
    id: String,
    /// `clear` or `split`.
    class: String,
    question: String,
    /// Labels of custom options; none: the default four.
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    facts: Map<String, Value>,
    setup: Option<Setup>,
    /// The acceptable option ids.
    expect: Vec<String>,
    why: String,
}

/// What to build for a situation; a key this test cannot build fails the parse.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Setup {
    git: Option<GitSetup>,
    #[serde(default)]
    services: Vec<ServiceSetup>,
    pipeline: Option<PipelineSetup>,
    /// `null` or absent: no backup policy.
    backup: Option<BackupSetup>,
    lifecycle: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GitSetup {
    #[serde(default)]
    clean: bool,
    #[serde(default)]
    dirty: bool,
    /// Commits the tracked upstream has that the checkout has not.
    #[serde(default)]
    behind: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceSetup {
    name: String,
    /// `serve` (a long-running process) or a literal command.
    command: String,
    /// The state to wait for: `ready`, `crash_loop`.
    state: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineSetup {
    junit: Option<Junit>,
    /// Finished runs' states, oldest first.
    #[serde(default)]
    runs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Junit {
    passed: u32,
    failed: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupSetup {
    age_hours: Option<f64>,
    #[serde(default)]
    last_failed: bool,
}

/// A project built for a situation.
struct Built {
    project_id: i64,
    /// Its long-running services, stopped after the deliberation.
    running: Vec<i64>,
}

/// One scored answer.
#[derive(Serialize)]
struct Row {
    id: String,
    class: String,
    built: bool,
    option: String,
    confidence: f64,
    raw_confidence: Option<f64>,
    correct: bool,
    #[serde(skip)]
    line: String,
}

/// The scores of a set of answers.
#[derive(Serialize)]
struct Summary {
    total: usize,
    accuracy: f64,
    brier: f64,
    clear_confidence: Option<f64>,
    split_confidence: Option<f64>,
}

#[tokio::test]
async fn the_council_is_right_and_calibrated_on_the_labelled_situations() {
    let app = spawn_app().await;
    let folders = tempfile::tempdir().expect("tempdir");
    let _services = app.guard();
    let _steps = ServiceGuard::for_folder(app.settings.data_dir.join("pipelines"));
    let owner = app.setup_owner().await;
    let text = std::fs::read_to_string(SITUATIONS).expect("read the labelled situations");
    let labels: Labels = serde_json::from_str(&text).expect("the labelled situations parse");

    let mut rows = Vec::new();
    for s in &labels.situations {
        let built = match &s.setup {
            Some(setup) => Some(build(&app, &owner, folders.path(), &s.id, setup).await),
            None => None,
        };
        let d = deliberate(&app, &owner, s, built.as_ref().map(|b| b.project_id)).await;
        if let Some(b) = &built {
            stop(&app, &owner, &b.running).await;
        }
        rows.push(score(s, built.is_some(), &d));
    }

    let all = summarise(&rows.iter().collect::<Vec<_>>());
    let built_rows: Vec<&Row> = rows.iter().filter(|r| r.built).collect();
    let built = summarise(&built_rows);
    let mut table = vec![format!(
        "{:<28} {:<5} {:<24} {:>10}",
        "situation", "class", "option", "confidence"
    )];
    table.extend(rows.iter().map(|r| r.line.clone()));
    table.push(summary_line("all", &all));
    table.push(summary_line("built through the API", &built));
    let table = table.join("\n");
    println!("{table}");
    if let Some(path) = std::env::var_os("OPTIMUS_JUDGEMENT_REPORT").filter(|p| !p.is_empty()) {
        let report = json!({
            "situations": rows,
            "accuracy": all.accuracy,
            "brier": all.brier,
            "clear_confidence": all.clear_confidence,
            "split_confidence": all.split_confidence,
            "built_subset": built,
        });
        std::fs::write(&path, format!("{report:#}")).expect("write the judgement report");
    }

    assert!(
        built.total >= 20,
        "only {} situations were built through the API:\n{table}",
        built.total
    );
    let mut missed = Vec::new();
    if all.accuracy < 0.90 {
        missed.push(format!("accuracy {:.3} < 0.90", all.accuracy));
    }
    if all.brier > 0.12 {
        missed.push(format!("Brier score {:.3} > 0.12", all.brier));
    }
    if !all.clear_confidence.is_some_and(|c| c >= 0.75) {
        missed.push(format!(
            "mean confidence on clear cases {:?} < 0.75",
            all.clear_confidence
        ));
    }
    if !all.split_confidence.is_some_and(|c| c <= 0.60) {
        missed.push(format!(
            "mean confidence on split cases {:?} > 0.60",
            all.split_confidence
        ));
    }
    assert!(missed.is_empty(), "{}:\n{table}", missed.join("; "));
}

/// Builds the situation's project in `root/<id>`: its git state first (read when the project is
/// added), then lifecycle, services, pipeline runs and backups.
async fn build(app: &TestApp, owner: &str, root: &Path, id: &str, setup: &Setup) -> Built {
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("Makefile"), "run:\n\ttrue\n").expect("write");
    std::fs::write(dir.join("README.md"), format!("# {id}\n")).expect("write");
    // The report a pipeline step writes must not make a clean tree dirty.
    std::fs::write(dir.join(".gitignore"), "junit.xml\n").expect("write");
    if let Some(g) = &setup.git {
        build_git(root, id, g);
    }
    let project = ok(app, owner, "projects/create", json!({"path": dir})).await;
    let project_id = project["id"].as_i64().expect("project id");
    if let Some(g) = &setup.git {
        let seen = &project["git"];
        assert_eq!(seen["dirty"], g.dirty, "{id}: {seen}");
        assert_eq!(seen["behind"], g.behind, "{id}: {seen}");
    }
    if let Some(lifecycle) = &setup.lifecycle {
        let p = ok(
            app,
            owner,
            "projects/update",
            json!({"id": project_id, "lifecycle": lifecycle}),
        )
        .await;
        assert_eq!(p["lifecycle"], json!(lifecycle), "{id}: {p}");
    }
    let running = build_services(app, owner, project_id, &setup.services).await;
    if let Some(p) = &setup.pipeline {
        build_pipeline(app, owner, project_id, id, p).await;
    }
    if let Some(b) = &setup.backup {
        build_backup(app, owner, project_id, &dir, id, b).await;
    }
    Built {
        project_id,
        running,
    }
}

/// Makes `root/<id>` a git repository with one commit; `behind` commits behind the upstream it
/// tracks (a bare repository beside it, to which another clone pushed them, fetched); then a
/// tracked file changed and not committed when dirty.
fn build_git(root: &Path, id: &str, g: &GitSetup) {
    assert!(!(g.clean && g.dirty), "{id}: a tree is clean or dirty");
    let dir = root.join(id);
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-qm", "first"]);
    if g.behind > 0 {
        let remote = root.join(format!("{id}.git"));
        let other = root.join(format!("{id}.other"));
        let (dir_s, remote_s, other_s) = (
            dir.to_str().expect("utf8"),
            remote.to_str().expect("utf8"),
            other.to_str().expect("utf8"),
        );
        git(root, &["clone", "-q", "--bare", dir_s, remote_s]);
        git(&dir, &["remote", "add", "origin", remote_s]);
        git(&dir, &["fetch", "-q", "origin"]);
        git(&dir, &["branch", "-q", "-u", "origin/main", "main"]);
        git(root, &["clone", "-q", remote_s, other_s]);
        for n in 1..=g.behind {
            std::fs::write(other.join("upstream.txt"), format!("change {n}\n")).expect("write");
            git(&other, &["add", "."]);
            git(&other, &["commit", "-qm", &format!("upstream change {n}")]);
        }
        git(&other, &["push", "-q", "origin", "main"]);
        git(&dir, &["fetch", "-q", "origin"]);
    }
    if g.dirty {
        std::fs::write(dir.join("README.md"), "# edited, not committed\n").expect("write");
    }
}

/// Creates and starts each service and waits for its state; the ids of those left running.
/// `serve` is a process that runs (ready without a check, as the runtime tests' sleepers).
async fn build_services(
    app: &TestApp,
    owner: &str,
    project_id: i64,
    services: &[ServiceSetup],
) -> Vec<i64> {
    let mut running = Vec::new();
    for s in services {
        let command = match s.command.as_str() {
            "serve" => "exec sleep 300",
            literal => literal,
        };
        let id = create(
            app,
            owner,
            project_id,
            json!({"name": s.name, "command": command,
                   "restart": {"mode": "on-failure", "max_retries": 1, "backoff_ms": 50}}),
        )
        .await;
        let r = app
            .post_anon("services/start", json!({"id": id}), Some(owner))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", s.name, r.body);
        wait_state(app, owner, id, &s.state, Duration::from_secs(15)).await;
        if s.state == "ready" {
            running.push(id);
        }
    }
    running
}

/// Runs the pipeline history: `runs` in order (the last the newest), then a test run whose JUnit
/// report has the counts (failing, as a test runner does, when a test failed).
async fn build_pipeline(app: &TestApp, owner: &str, project_id: i64, id: &str, p: &PipelineSetup) {
    if !p.runs.is_empty() {
        let ci = pipeline(
            app,
            owner,
            project_id,
            json!({"name": "ci",
                   "parameters": [{"name": "outcome", "type": "choice",
                                   "choices": ["succeeded", "failed"], "default": "succeeded"}],
                   "steps": [{"name": "check", "command": "test \"$PARAM_OUTCOME\" = succeeded"}]}),
        )
        .await;
        for want in &p.runs {
            let run = start(app, owner, ci, json!({"outcome": want})).await;
            let run = finished(app, owner, run["id"].as_i64().expect("run id")).await;
            assert_eq!(run["status"], json!(want), "{id}: {run:#}");
        }
    }
    if let Some(j) = &p.junit {
        let (passed, failed) = (j.passed, j.failed);
        let command = format!(
            "{{ echo '<testsuite>'; \
             for i in $(seq 1 {passed}); do echo \"<testcase name=\\\"pass$i\\\"/>\"; done; \
             for i in $(seq 1 {failed}); do echo \"<testcase name=\\\"fail$i\\\"><failure/></testcase>\"; done; \
             echo '</testsuite>'; }} > junit.xml; test {failed} -eq 0"
        );
        let test = pipeline(
            app,
            owner,
            project_id,
            json!({"name": "test",
                   "steps": [{"name": "unit", "command": command, "test_report": "junit.xml"}]}),
        )
        .await;
        let run = start(app, owner, test, json!({})).await;
        let run = finished(app, owner, run["id"].as_i64().expect("run id")).await;
        let status = if failed == 0 { "succeeded" } else { "failed" };
        assert_eq!(run["status"], status, "{id}: {run:#}");
        assert_eq!(
            step(&run, "unit")["tests"],
            json!({"passed": passed, "failed": failed, "skipped": 0}),
            "{id}: {run:#}"
        );
    }
}

/// A backup policy with one good backup, or one whose only backup failed (what it backs up
/// was removed, as the backups tests make one fail).
async fn build_backup(
    app: &TestApp,
    owner: &str,
    project_id: i64,
    dir: &Path,
    id: &str,
    b: &BackupSetup,
) {
    if b.last_failed {
        std::fs::create_dir(dir.join("data")).expect("mkdir");
        let policy = ok(
            app,
            owner,
            "backups/create_policy",
            json!({"project_id": project_id, "paths": ["data"]}),
        )
        .await;
        std::fs::remove_dir(dir.join("data")).expect("rmdir");
        let job = back_up(app, owner, policy["id"].as_i64().expect("policy id")).await;
        assert_eq!(job["status"], "failed", "{id}: {job}");
        return;
    }
    // A backup taken now is ~0 h old: as fresh as the label's few hours, which is what counts.
    if let Some(h) = b.age_hours {
        assert!(
            h < 24.0,
            "{id}: a backup taken now cannot stand for one {h} h old"
        );
    }
    let policy = ok(
        app,
        owner,
        "backups/create_policy",
        json!({"project_id": project_id}),
    )
    .await;
    let job = back_up(app, owner, policy["id"].as_i64().expect("policy id")).await;
    assert_eq!(job["status"], "succeeded", "{id}: {job}");
}

/// Stops the services left running.
async fn stop(app: &TestApp, owner: &str, ids: &[i64]) {
    for id in ids {
        let r = app
            .post_anon("services/stop", json!({"id": id}), Some(owner))
            .await;
        assert_eq!(r.body["state"], "stopped", "{}", r.body);
    }
}

/// Asks the situation's question as written, about its project when one was built.
async fn deliberate(app: &TestApp, owner: &str, s: &Situation, project_id: Option<i64>) -> Value {
    let mut body = json!({"question": s.question, "facts": s.facts});
    if !s.options.is_empty() {
        body["options"] = json!(s.options);
    }
    if let Some(pid) = project_id {
        body["project_id"] = json!(pid);
    }
    ask(app, owner, body).await
}

/// Scores one answer against the labels.
fn score(s: &Situation, built: bool, d: &Value) -> Row {
    let consensus = &d["consensus"];
    let option = consensus["option"].as_str().unwrap_or("(none)").to_owned();
    let Some(confidence) = consensus["confidence"].as_f64() else {
        panic!("{}: no confidence in {consensus}", s.id);
    };
    let correct = s.expect.contains(&option);
    let mut line = format!(
        "{:<28} {:<5} {:<24} {confidence:>10.2}  {}",
        s.id,
        s.class,
        option,
        if correct { "ok" } else { "WRONG" }
    );
    if !correct {
        line.push_str(&format!(
            "  (expected {}: {})",
            s.expect.join(" or "),
            s.why
        ));
    }
    Row {
        id: s.id.clone(),
        class: s.class.clone(),
        built,
        option,
        confidence,
        raw_confidence: consensus["raw_confidence"].as_f64(),
        correct,
        line,
    }
}

/// Accuracy, Brier score and mean confidence by class of `rows`.
fn summarise(rows: &[&Row]) -> Summary {
    let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
    let hit = |correct: bool| if correct { 1.0 } else { 0.0 };
    let of_class = |class: &str| {
        mean(
            rows.iter()
                .filter(|r| r.class == class)
                .map(|r| r.confidence)
                .collect(),
        )
    };
    Summary {
        total: rows.len(),
        accuracy: mean(rows.iter().map(|r| hit(r.correct)).collect()).unwrap_or(0.0),
        brier: mean(
            rows.iter()
                .map(|r| (r.confidence - hit(r.correct)).powi(2))
                .collect(),
        )
        .unwrap_or(1.0),
        clear_confidence: of_class("clear"),
        split_confidence: of_class("split"),
    }
}

fn summary_line(what: &str, s: &Summary) -> String {
    let show = |c: Option<f64>| c.map_or("-".to_owned(), |c| format!("{c:.3}"));
    format!(
        "{what} ({}): accuracy {:.3}, Brier {:.3}, mean confidence clear {} / split {}",
        s.total,
        s.accuracy,
        s.brier,
        show(s.clear_confidence),
        show(s.split_confidence)
    )
}
