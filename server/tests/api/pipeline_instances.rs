//! Pipelines with several real `optimus` processes on the test PostgreSQL: a schedule fires
//! each fire time exactly once while two instances look; a run whose instance is killed is
//! marked interrupted by the other and queued again per its policy; after a real stop, missed
//! fire times follow the missed-run policy.

use crate::faults::{instance_id, ok, port_block, project_with, serve, setup_owner};
use crate::helpers::{fresh_database, ServiceGuard};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Whether the test database is PostgreSQL (several processes cannot share SQLite's file as
/// they share a server).
fn shared_database(test: &str) -> bool {
    let pg = std::env::var("OPTIMUS_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .is_some();
    if !pg {
        crate::helpers::skipped(
            test,
            "several instances share PostgreSQL; SQLite is the file of one instance",
        );
    }
    pg
}

async fn runs(addr: &str, token: &str, pipeline: i64) -> Vec<Value> {
    ok(
        addr,
        "pipelines/runs",
        json!({"pipeline_id": pipeline, "limit": 200}),
        token,
    )
    .await
    .as_array()
    .cloned()
    .unwrap_or_default()
}

fn time(v: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| panic!("not a time: {v}"))
}

/// (fire time, created at) of each scheduled run, by fire time.
fn fired(runs: &[Value]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out: Vec<_> = runs
        .iter()
        .filter_map(|r| {
            let key = r["trigger_key"].as_str()?.strip_prefix("schedule:0:")?;
            Some((time(key), time(r["created_at"].as_str()?)))
        })
        .collect();
    out.sort();
    out
}

async fn pipeline(addr: &str, token: &str, project: i64, def: Value) -> i64 {
    ok(
        addr,
        "pipelines/create",
        json!({"project_id": project, "definition": def}),
        token,
    )
    .await["id"]
        .as_i64()
        .expect("pipeline id")
}

/// Two `optimus` processes on one database, a schedule firing every 2 seconds for 60 seconds:
/// one run per fire time, none left out, none twice.
#[tokio::test]
async fn two_processes_start_each_fire_time_exactly_once() {
    let test = "two_processes_start_each_fire_time_exactly_once";
    if !shared_database(test) {
        return;
    }
    let data = tempfile::tempdir().expect("data");
    let database = fresh_database(data.path()).await;
    let _steps = ServiceGuard::for_folder(data.path().join("pipelines"));
    let block = port_block(31500, 20);
    let mut a = serve(data.path(), &database, block, &[]).await;
    let mut b = serve(data.path(), &database, block, &[]).await;
    let token = setup_owner(&a.addr).await;
    let (_dir, project, _) = project_with(&a.addr, &token, &[]).await;
    let id = pipeline(
        &a.addr,
        &token,
        project,
        json!({"name": "tick", "steps": [{"name": "a", "command": "true"}],
               "triggers": {"schedules": [{"cron": "*/2 * * * * *"}]}}),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    let made = runs(&b.addr, &token, id).await;
    let times: Vec<DateTime<Utc>> = fired(&made).into_iter().map(|(t, _)| t).collect();
    assert_eq!(times.len(), made.len());
    let mut distinct = times.clone();
    distinct.dedup();
    assert_eq!(distinct, times, "a fire time started two runs");
    assert!(
        times.windows(2).all(|w| (w[1] - w[0]).num_seconds() == 2),
        "a fire time was left out: {times:?}"
    );
    assert!(
        (28..=31).contains(&times.len()),
        "{} runs in 60 s of an every-2-seconds schedule",
        times.len()
    );
    let owners: std::collections::BTreeSet<String> = made
        .iter()
        .filter_map(|r| r["owner"].as_str().map(str::to_owned))
        .collect();
    crate::helpers::observed(
        test,
        &format!(
            "{} runs for {} fire times, run by {} instance(s)",
            made.len(),
            times.len(),
            owners.len()
        ),
    );
    a.sigterm();
    b.sigterm();
    a.exited(Duration::from_secs(20)).await;
    b.exited(Duration::from_secs(20)).await;
}

/// The instance running a run is killed (SIGKILL): the other marks the run interrupted within
/// 5 s, stops the step's process it left behind, and (`on_interrupt = "requeue"`) runs it again.
#[tokio::test]
async fn a_killed_instance_s_run_is_interrupted_and_requeued_by_the_other() {
    let test = "a_killed_instance_s_run_is_interrupted_and_requeued_by_the_other";
    if !shared_database(test) {
        return;
    }
    let data = tempfile::tempdir().expect("data");
    let database = fresh_database(data.path()).await;
    let _steps = ServiceGuard::for_folder(data.path().join("pipelines"));
    let block = port_block(32500, 20);
    let a = serve(data.path(), &database, block, &[]).await;
    let b = serve(data.path(), &database, block, &[]).await;
    let token = setup_owner(&a.addr).await;
    let (_dir, project, _) = project_with(&a.addr, &token, &[]).await;
    let id = pipeline(
        &a.addr,
        &token,
        project,
        json!({"name": "long", "on_interrupt": "requeue",
               "steps": [{"name": "work", "command": "echo started; exec sleep 300"}]}),
    )
    .await;
    let run = ok(&a.addr, "pipelines/run", json!({"pipeline_id": id}), &token).await;
    let run_id = run["id"].as_i64().expect("run id");
    let deadline = Instant::now() + Duration::from_secs(20);
    let (owner, pid) = loop {
        let r = ok(&a.addr, "pipelines/get_run", json!({"id": run_id}), &token).await;
        let owner = r["owner"].as_str().map(str::to_owned);
        if r["status"] == "running" && r["steps"][0]["status"] == "running" {
            let log = ok(
                &a.addr,
                "pipelines/step_log",
                json!({"run_id": run_id, "step": "work"}),
                &token,
            )
            .await;
            if log["lines"][0]["text"] == "started" {
                break (owner.expect("owner"), r);
            }
        }
        assert!(Instant::now() < deadline, "the run never ran: {r}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = pid;
    let (a_id, b_id) = (instance_id(&a).await, instance_id(&b).await);
    let (mut victim, survivor) = if owner == a_id { (a, b) } else { (b, a) };
    assert!(
        owner == a_id || owner == b_id,
        "owned by one of the two: {owner}"
    );
    // The step's process, as the shim recorded it.
    let state: Value = {
        let dir = data
            .path()
            .join("pipelines")
            .join(run_id.to_string())
            .join("0-1");
        serde_json::from_slice(&std::fs::read(dir.join("state.json")).expect("state.json"))
            .expect("json")
    };
    let step_pid = state["pid"].as_i64().expect("pid");
    victim.child.kill().expect("SIGKILL");
    let killed_at = Instant::now();
    let _ = victim.child.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    let interrupted = loop {
        let r = ok(
            &survivor.addr,
            "pipelines/get_run",
            json!({"id": run_id}),
            &token,
        )
        .await;
        if r["status"] == "interrupted" {
            break r;
        }
        assert!(Instant::now() < deadline, "not interrupted within 5 s: {r}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = killed_at.elapsed();
    assert_eq!(interrupted["steps"][0]["status"], "cancelled");
    assert_eq!(
        interrupted["message"],
        "the Optimus instance running it stopped"
    );
    let gone = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{step_pid}")).exists() {
        let zombie = std::fs::read_to_string(format!("/proc/{step_pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim().starts_with('Z'))
        });
        if zombie {
            break;
        }
        assert!(Instant::now() < gone, "the step's process outlived its run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Queued again once, and run by the survivor.
    let survivor_id = instance_id(&survivor).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let again = loop {
        let all = runs(&survivor.addr, &token, id).await;
        if let Some(r) = all
            .iter()
            .find(|r| r["rerun_of"] == run_id && r["status"] == "running")
        {
            assert_eq!(all.len(), 2, "requeued once: {all:?}");
            break r.clone();
        }
        assert!(Instant::now() < deadline, "not requeued: {all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(again["trigger_key"], format!("requeue:{run_id}"));
    assert_eq!(again["owner"], survivor_id.as_str());
    crate::helpers::observed(
        test,
        &format!(
            "interrupted {:.1} s after SIGKILL, requeued on the survivor",
            took.as_secs_f64()
        ),
    );
    ok(
        &survivor.addr,
        "pipelines/cancel",
        json!({"id": again["id"]}),
        &token,
    )
    .await;
    let mut survivor = survivor;
    survivor.sigterm();
    survivor.exited(Duration::from_secs(20)).await;
}

/// Optimus is stopped for 12 s while three every-2-seconds schedules are due: after the restart,
/// `none` starts none of the missed fire times, `last` one, `all` (cap 3) three. Missed fire
/// times are those more than 2 s older than the first look after the restart (when its runs
/// were made).
#[tokio::test]
async fn missed_fire_times_after_a_stop_follow_each_schedule_s_policy() {
    let test = "missed_fire_times_after_a_stop_follow_each_schedule_s_policy";
    if !shared_database(test) {
        return;
    }
    let data = tempfile::tempdir().expect("data");
    let database = fresh_database(data.path()).await;
    let _steps = ServiceGuard::for_folder(data.path().join("pipelines"));
    let block = port_block(33500, 20);
    let mut a = serve(data.path(), &database, block, &[]).await;
    let token = setup_owner(&a.addr).await;
    let (_dir, project, _) = project_with(&a.addr, &token, &[]).await;
    let mut ids = Vec::new();
    for policy in ["none", "last", "all"] {
        ids.push(
            pipeline(
                &a.addr,
                &token,
                project,
                json!({"name": policy, "steps": [{"name": "a", "command": "true"}],
                       "triggers": {"schedules": [{"cron": "*/2 * * * * *", "missed": policy, "missed_cap": 3}]}}),
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    a.sigterm();
    a.exited(Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    let restart = Utc::now();
    let b = serve(data.path(), &database, block, &[]).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    // The first look after the restart makes the runs of all three schedules at once (the
    // `all` one certainly has some): fire times more than 2 s older than that look were missed.
    let mut after = Vec::new();
    for id in &ids {
        after.push(
            fired(&runs(&b.addr, &token, *id).await)
                .into_iter()
                .filter(|(_, made)| *made >= restart)
                .collect::<Vec<_>>(),
        );
    }
    let first_look = after
        .iter()
        .flatten()
        .map(|(_, made)| *made)
        .min()
        .expect("runs after the restart");
    let counts: Vec<usize> = after
        .iter()
        .map(|runs| {
            runs.iter()
                .filter(|(at, made)| {
                    *made < first_look + chrono::Duration::seconds(1)
                        && *at <= first_look - chrono::Duration::seconds(2)
                })
                .count()
        })
        .collect();
    assert_eq!(
        counts,
        [0, 1, 3],
        "missed runs started: none / last / all (cap 3)"
    );
    let mut b = b;
    b.sigterm();
    b.exited(Duration::from_secs(20)).await;
}
