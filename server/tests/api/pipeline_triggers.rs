//! What starts pipeline runs besides a person, on real instances: schedules (one run per fire
//! time with two instances looking, the missed-run policy after downtime, pause and resume), a
//! followed git branch (a run per new head commit), and signed webhooks (bad signature,
//! replay, good delivery).

use crate::helpers::{
    eventually, git, spawn_app, spawn_app_with, spawn_sharing, ServiceGuard, TestApp,
};
use crate::pipeline_runs::pipeline;
use crate::runtime::project;
use app::server::pipelines::entities::pipeline_trigger;
use chrono::{DateTime, Timelike, Utc};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;

async fn runs(app: &TestApp, token: &str, pipeline: i64) -> Vec<Value> {
    let r = app
        .post_anon(
            "pipelines/runs",
            json!({"pipeline_id": pipeline, "limit": 200}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.as_array().cloned().unwrap_or_default()
}

/// The fire times of a pipeline's scheduled runs, oldest first.
fn fire_times(runs: &[Value]) -> Vec<DateTime<Utc>> {
    let mut times: Vec<DateTime<Utc>> = runs
        .iter()
        .filter_map(|r| r["trigger_key"].as_str())
        .filter_map(|k| k.strip_prefix("schedule:0:"))
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .collect();
    times.sort();
    times
}

/// Two instances on one database look at an every-2-seconds schedule: each fire time starts
/// exactly one run, with no fire time left out; the schedules view shows the next fire times;
/// a paused schedule starts nothing, and resuming does not start what fell due while paused.
#[tokio::test]
async fn a_schedule_starts_one_run_per_fire_time_across_two_instances() {
    let a = spawn_app_with(|s| s.pipeline_slots = 0).await;
    let b = spawn_sharing(a.settings.clone()).await;
    let token = a.setup_owner().await;
    let (_dir, pid) = project(&a, &token, &[]).await;
    let id = pipeline(
        &a,
        &token,
        pid,
        json!({"name": "tick", "steps": [{"name": "a", "command": "true"}],
               "triggers": {"schedules": [{"cron": "*/2 * * * * *"}]}}),
    )
    .await;
    let schedules = a
        .post_anon(
            "pipelines/schedules",
            json!({"project_id": pid}),
            Some(&token),
        )
        .await;
    assert_eq!(schedules.status, StatusCode::OK, "{}", schedules.body);
    let next: Vec<DateTime<Utc>> = schedules.body[0]["next"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|t| t.as_str())
                .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(next.len(), 5, "{}", schedules.body);
    assert!(next.windows(2).all(|w| (w[1] - w[0]).num_seconds() == 2));
    assert!(next.iter().all(|t| t.second() % 2 == 0));

    let made = eventually(Duration::from_secs(20), "four scheduled runs", || async {
        let r = runs(&b, &token, id).await;
        (r.len() >= 4).then_some(r)
    })
    .await;
    let times = fire_times(&made);
    assert_eq!(times.len(), made.len(), "each run has its own fire time");
    let mut distinct = times.clone();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        times.len(),
        "a fire time started two runs: {times:?}"
    );
    assert!(
        times.windows(2).all(|w| (w[1] - w[0]).num_seconds() == 2),
        "a fire time was left out: {times:?}"
    );
    assert!(made
        .iter()
        .all(|r| r["trigger"] == "schedule" && r["triggered_by"].is_null()));

    let paused = a
        .post_anon(
            "pipelines/pause_schedule",
            json!({"pipeline_id": id, "index": 0, "paused": true}),
            Some(&token),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(paused.body["paused"], true);
    let before = runs(&a, &token, id).await.len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let during = runs(&a, &token, id).await.len();
    // A tick that had read the schedule just before the pause may still start one.
    assert!(
        during <= before + 1,
        "a paused schedule started {} runs",
        during - before
    );
    let resumed = b
        .post_anon(
            "pipelines/pause_schedule",
            json!({"pipeline_id": id, "index": 0, "paused": false}),
            Some(&token),
        )
        .await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    let resumed_at = Utc::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = fire_times(&runs(&a, &token, id).await);
    let owed = after
        .iter()
        .filter(|t| {
            **t > resumed_at - chrono::Duration::seconds(4)
                && **t < resumed_at - chrono::Duration::seconds(1)
        })
        .count();
    assert_eq!(
        owed, 0,
        "resuming started fire times from while it was paused: {after:?}"
    );
    assert!(
        after.iter().any(|t| *t >= resumed_at),
        "the resumed schedule fires again"
    );
}

/// After downtime (nobody looked at the schedule for 10 minutes), an every-minute schedule owes
/// ten fire times: `none` starts none of them, `last` the latest, `all` the latest `missed_cap`.
#[tokio::test]
async fn missed_fire_times_follow_the_policy() {
    let app = spawn_app_with(|s| s.pipeline_slots = 0).await;
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    // Second S of every minute, with S half a minute away from now: no fire time falls due
    // while the test runs.
    let second = (Utc::now().second() + 30) % 60;
    let cron = format!("{second} * * * * *");
    let mut ids = Vec::new();
    for (name, missed) in [("none", "none"), ("last", "last"), ("all", "all")] {
        let id = pipeline(
            &app,
            &token,
            pid,
            json!({"name": name, "steps": [{"name": "a", "command": "true"}],
                   "triggers": {"schedules": [{"cron": cron, "missed": missed, "missed_cap": 3}]}}),
        )
        .await;
        let r = app
            .post_anon(
                "pipelines/pause_schedule",
                json!({"pipeline_id": id, "index": 0, "paused": true}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        ids.push(id);
    }
    // The state an outage leaves: the schedules were last looked at 10 minutes ago.
    let down_since = Utc::now() - chrono::Duration::minutes(10);
    let back = Utc::now();
    pipeline_trigger::Entity::update_many()
        .col_expr(pipeline_trigger::Column::Paused, Expr::value(false))
        .col_expr(pipeline_trigger::Column::CheckedAt, Expr::value(down_since))
        .filter(pipeline_trigger::Column::PipelineId.is_in(ids.clone()))
        .exec(&app.state.db)
        .await
        .expect("simulate the outage");
    eventually(
        Duration::from_secs(10),
        "the schedules are looked at again",
        || async {
            let rows = pipeline_trigger::Entity::find()
                .filter(pipeline_trigger::Column::PipelineId.is_in(ids.clone()))
                .all(&app.state.db)
                .await
                .expect("read");
            rows.iter().all(|r| r.checked_at > back).then_some(())
        },
    )
    .await;
    let counts: Vec<usize> = {
        let mut out = Vec::new();
        for id in &ids {
            out.push(fire_times(&runs(&app, &token, *id).await).len());
        }
        out
    };
    assert_eq!(counts, [0, 1, 3], "none / last / all (cap 3)");
    let last = fire_times(&runs(&app, &token, ids[1]).await);
    let latest_missed = last.first().copied().unwrap_or_default();
    assert!(
        back - latest_missed < chrono::Duration::seconds(61),
        "`last` runs the latest"
    );
    let all = fire_times(&runs(&app, &token, ids[2]).await);
    assert!(
        all.windows(2).all(|w| (w[1] - w[0]).num_seconds() == 60),
        "{all:?}"
    );
}

/// A pipeline following `main` starts one run per new head commit: the head it first sees
/// starts nothing, two commits start two runs (with the branch and commit), and no more.
#[tokio::test]
async fn a_followed_branch_starts_one_run_per_new_commit() {
    let app = spawn_app().await;
    let _steps = ServiceGuard::for_folder(app.settings.data_dir.join("pipelines"));
    let token = app.setup_owner().await;
    let (dir, pid) = project(&app, &token, &[]).await;
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "first"]);
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "on-push", "steps": [{"name": "a", "command": "git log -1 --format=%s"}],
               "triggers": {"git": {"branch": "main"}}}),
    )
    .await;
    // The first head seen is where following starts.
    eventually(
        Duration::from_secs(15),
        "the branch is followed",
        || async {
            pipeline_trigger::Entity::find()
                .filter(pipeline_trigger::Column::PipelineId.eq(id))
                .one(&app.state.db)
                .await
                .ok()
                .flatten()
                .and_then(|r| r.last_commit)
        },
    )
    .await;
    assert!(
        runs(&app, &token, id).await.is_empty(),
        "the existing head started a run"
    );
    let mut commits = Vec::new();
    for n in 1..=2 {
        std::fs::write(dir.path().join("change.txt"), format!("{n}")).expect("write");
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-qm", &format!("change {n}")]);
        commits.push(git(dir.path(), &["rev-parse", "HEAD"]));
        eventually(Duration::from_secs(15), "a run for the commit", || async {
            (runs(&app, &token, id).await.len() == n).then_some(())
        })
        .await;
    }
    // Another poll or two: nothing more.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let made = runs(&app, &token, id).await;
    assert_eq!(made.len(), 2);
    let mut seen: Vec<String> = made
        .iter()
        .map(|r| r["commit"].as_str().unwrap_or_default().to_owned())
        .collect();
    seen.reverse();
    assert_eq!(seen, commits);
    assert!(made
        .iter()
        .all(|r| r["trigger"] == "git" && r["branch"] == "main"));
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={sig}")
}

/// A webhook delivery with a bad signature is 401 and starts nothing; a good one starts a run
/// for the pushed branch and commit; a replayed delivery id starts nothing; a rotated secret
/// retires the old one.
#[tokio::test]
async fn webhooks_are_signed_and_replays_start_nothing() {
    let app = spawn_app_with(|s| s.pipeline_slots = 0).await;
    let token = app.setup_owner().await;
    let (_dir, pid) = project(&app, &token, &[]).await;
    let id = pipeline(
        &app,
        &token,
        pid,
        json!({"name": "hooked", "steps": [{"name": "a", "command": "true"}],
               "triggers": {"webhook": true}}),
    )
    .await;
    let hook = app
        .post_anon(
            "pipelines/webhook",
            json!({"pipeline_id": id}),
            Some(&token),
        )
        .await;
    assert_eq!(hook.status, StatusCode::OK, "{}", hook.body);
    let secret = hook.body["secret"].as_str().expect("secret").to_owned();
    let url = format!("{}{}", app.addr, hook.body["path"].as_str().expect("path"));
    let body =
        json!({"ref": "refs/heads/main", "after": "0123456789abcdef0123456789abcdef01234567"})
            .to_string();
    let send = |signature: String, delivery: &'static str| {
        let (url, body) = (url.clone(), body.clone());
        let client = app.client.clone();
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .header("x-github-event", "push")
                .header("x-github-delivery", delivery)
                .header("x-hub-signature-256", signature)
                .body(body)
                .send()
                .await
                .expect("deliver")
        }
    };
    let forged = send(sign("not-the-secret", body.as_bytes()), "d-1").await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let unsigned = send(String::new(), "d-1").await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    assert!(
        runs(&app, &token, id).await.is_empty(),
        "a refused delivery started a run"
    );

    let good = send(sign(&secret, body.as_bytes()), "d-1").await;
    assert_eq!(good.status(), StatusCode::ACCEPTED);
    let answer: Value = good.json().await.expect("json");
    assert_eq!(answer["started"], true);
    let replay = send(sign(&secret, body.as_bytes()), "d-1").await;
    assert_eq!(replay.status(), StatusCode::OK);
    let answer: Value = replay.json().await.expect("json");
    assert_eq!(answer["started"], false);
    let made = runs(&app, &token, id).await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["trigger"], "webhook");
    assert_eq!(made[0]["trigger_key"], "webhook:d-1");
    assert_eq!(made[0]["branch"], "main");
    assert_eq!(
        made[0]["commit"],
        "0123456789abcdef0123456789abcdef01234567"
    );

    let unknown = app
        .client
        .post(format!("{}/api/v1/hooks/999999", app.addr))
        .header("x-github-delivery", "d-9")
        .header("x-hub-signature-256", sign(&secret, body.as_bytes()))
        .body(body.clone())
        .send()
        .await
        .expect("deliver");
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    let rotated = app
        .post_anon(
            "pipelines/webhook",
            json!({"pipeline_id": id, "rotate": true}),
            Some(&token),
        )
        .await;
    let fresh = rotated.body["secret"].as_str().expect("secret").to_owned();
    assert_ne!(fresh, secret);
    let old = send(sign(&secret, body.as_bytes()), "d-2").await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = send(sign(&fresh, body.as_bytes()), "d-2").await;
    assert_eq!(new.status(), StatusCode::ACCEPTED);
    assert_eq!(runs(&app, &token, id).await.len(), 2);
}
