//! A dependency goes away while Optimus is under load: PostgreSQL is cut (every connection
//! closed, new ones refused, as when the server stops), or Redis is. Each test goes through a
//! [`Proxy`] of its own, so the suite's shared servers stay up for the other tests.

use crate::events::{
    connect, create_user, messages_within, next_json, reaches, subscribe, two_instances,
};
use crate::helpers::{
    eventually, host_port, own_ports, redis_url, spawn_app_with, via_port, Proxy, TestApp,
};
use crate::runtime::{create, get, project, wait_state};
use app::server::secret::Secret;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One answered request of the load: when it was sent, how long it took, its status.
type Sample = (Instant, Duration, Option<StatusCode>);

/// Clients calling endpoints in turn, in a loop, until stopped.
struct Load {
    running: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `clients` clients of `app`, each calling `calls` (path, body) in turn with `token`.
    fn start(app: &TestApp, token: &str, calls: &[(&'static str, Value)], clients: usize) -> Self {
        let running = Arc::new(AtomicBool::new(true));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..clients)
            .map(|i| {
                let (running, samples) = (running.clone(), samples.clone());
                let (addr, token, calls) = (app.addr.clone(), token.to_owned(), calls.to_vec());
                tokio::spawn(async move {
                    let client = reqwest::Client::builder()
                        .timeout(Duration::from_secs(30))
                        .build()
                        .expect("client");
                    for (path, body) in calls.iter().cycle().skip(i) {
                        if !running.load(Ordering::Relaxed) {
                            break;
                        }
                        let sent = Instant::now();
                        let status = client
                            .post(format!("{addr}/api/v1/{path}"))
                            .bearer_auth(&token)
                            .json(body)
                            .send()
                            .await
                            .ok()
                            .map(|r| r.status());
                        samples
                            .lock()
                            .expect("samples")
                            .push((sent, sent.elapsed(), status));
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                })
            })
            .collect();
        Self {
            running,
            samples,
            tasks,
        }
    }

    /// How many answers so far had `status`.
    fn count(&self, status: StatusCode) -> usize {
        let samples = self.samples.lock().expect("samples");
        samples
            .iter()
            .filter(|(_, _, s)| *s == Some(status))
            .count()
    }

    /// Stops the clients and returns what they saw.
    async fn stop(self) -> Vec<Sample> {
        self.running.store(false, Ordering::Relaxed);
        for t in self.tasks {
            t.await.expect("a load client");
        }
        let samples = self.samples.lock().expect("samples");
        samples.clone()
    }
}

/// The newest run id of a service.
async fn last_run(app: &TestApp, token: &str, id: i64) -> i64 {
    get(app, token, id).await["last_run"]["id"]
        .as_i64()
        .unwrap_or_default()
}

#[tokio::test]
async fn when_postgres_is_cut_under_load_requests_answer_503_promptly_and_optimus_recovers() {
    let test = "when_postgres_is_cut_under_load_requests_answer_503_promptly_and_optimus_recovers";
    let Some(admin) = std::env::var("OPTIMUS_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        crate::helpers::skipped(
            test,
            "PostgreSQL only; on SQLite, readyz_is_503_naming_the_database_when_it_is_unreachable \
             makes the file unreachable instead",
        );
        return;
    };
    let proxy = Proxy::start(0, host_port(&admin)).await;
    let port = proxy.port;
    let app = spawn_app_with(|s| {
        own_ports(s);
        s.api_rate_per_minute = 1_000_000;
        let direct = s.database_url.as_ref().expect("a database").expose();
        s.database_url = Some(Secret::new(via_port(direct, port)));
    })
    .await;
    let _services = app.guard();
    let app = &app;
    let token = app.setup_owner().await;
    let token = token.as_str();
    let (_dir, project) = project(app, token, &[]).await;
    let steady = create(
        app,
        token,
        project,
        json!({"name": "steady", "command": "exec sleep 300"}),
    )
    .await;
    // Ends every half second and is restarted: its supervisor has work to do during the cut.
    let flaky = create(
        app,
        token,
        project,
        json!({"name": "flaky", "command": "sleep 0.5; exit 3",
               "restart": {"mode": "on-failure", "max_retries": 100, "backoff_ms": 100, "max_backoff_ms": 200}}),
    )
    .await;
    for id in [steady, flaky] {
        let r = app
            .post_anon("services/start", json!({"id": id}), Some(token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let steady_pid = wait_state(app, token, steady, "ready", Duration::from_secs(15)).await
        ["last_run"]["pid"]
        .clone();

    let calls = [
        ("projects/list", json!({})),
        (
            "projects/update",
            json!({"id": project, "tags": ["under-load"]}),
        ),
    ];
    let load = Load::start(app, token, &calls, 4);
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.cut().await;
    let cut = Instant::now();
    let r = eventually(
        Duration::from_secs(10),
        "readyz answers 503",
        || async move {
            let r = app.get("/readyz").await;
            (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(r)
        },
    )
    .await;
    let noticed = cut.elapsed();
    let body: Value = r.json().await.unwrap_or_default();
    assert_eq!(body["database"], "unreachable", "{body}");
    // The outage lasts until every client has met it (the flaky service ends meanwhile and
    // wants a restart).
    let counting = &load;
    eventually(
        Duration::from_secs(30),
        "every client answered 503",
        || async move { (counting.count(StatusCode::SERVICE_UNAVAILABLE) >= 4).then_some(()) },
    )
    .await;
    let _restored = Proxy::start(port, host_port(&admin)).await;
    let restored = Instant::now();
    let recovered = eventually(
        Duration::from_secs(30),
        "requests succeed again",
        || async move {
            let r = app.post_anon("projects/list", json!({}), Some(token)).await;
            (r.status == StatusCode::OK).then(|| restored.elapsed())
        },
    )
    .await;
    let samples = load.stop().await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    let during: Vec<&Sample> = samples
        .iter()
        .filter(|(sent, _, _)| *sent >= cut && *sent < restored)
        .collect();
    let unavailable = during
        .iter()
        .filter(|(_, _, s)| *s == Some(StatusCode::SERVICE_UNAVAILABLE))
        .count();
    let slowest = during
        .iter()
        .map(|(_, took, _)| *took)
        .max()
        .unwrap_or_default();
    for (_, took, status) in &samples {
        assert!(
            matches!(
                *status,
                Some(StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE)
            ),
            "every answer is 200 or 503 (none 500, none unanswered): {status:?} after {took:?}"
        );
    }
    assert!(
        unavailable > 0,
        "requests during the cut answered 503: {during:?}"
    );
    assert!(
        slowest < Duration::from_secs(5),
        "503 promptly, no hang: the slowest request during the cut took {slowest:?}"
    );
    // Supervision carried on: the steady service is the same process, and the flaky one is
    // restarted again after the outage it ended in.
    let after = last_run(app, token, flaky).await;
    eventually(
        Duration::from_secs(15),
        "the flaky service restarts again",
        || async move { (last_run(app, token, flaky).await > after).then_some(()) },
    )
    .await;
    let s = get(app, token, steady).await;
    assert_eq!(s["state"], "ready", "{s}");
    assert_eq!(
        s["last_run"]["pid"], steady_pid,
        "the same process, still supervised"
    );
    crate::helpers::observed(
        test,
        &format!(
            "{} requests sent during the {:.1} s cut: {unavailable} × 503, {} × 200; slowest {} ms; /readyz 503 after {} ms; requests \
             succeed {} ms after the database is back",
            during.len(),
            restored.duration_since(cut).as_secs_f64(),
            during.len() - unavailable,
            slowest.as_millis(),
            noticed.as_millis(),
            recovered.as_millis()
        ),
    );
}

/// The answers that came back as something other than `want`.
fn other_than(samples: &[Sample], want: StatusCode) -> Vec<&Sample> {
    samples
        .iter()
        .filter(|(_, _, status)| *status != Some(want))
        .collect()
}

#[tokio::test]
async fn when_redis_stops_under_load_optimus_keeps_serving_in_process_and_catches_up() {
    let test = "when_redis_stops_under_load_optimus_keeps_serving_in_process_and_catches_up";
    let Some(redis) = redis_url() else {
        crate::helpers::skipped(
            test,
            "needs OPTIMUS_TEST_REDIS_URL (without it the bus and the limiter are in-process only)",
        );
        return;
    };
    let proxy = Proxy::start(0, host_port(&redis)).await;
    let port = proxy.port;
    let (a, b) = two_instances(Some(via_port(&redis, port)), |s| {
        s.api_rate_per_minute = 1_000_000;
    })
    .await;
    let (a, b) = (&a, &b);
    let token = a.setup_owner().await;
    let mut on_a = connect(a, &token).await;
    subscribe(&mut on_a, &["users"]).await;
    let mut on_b = connect(b, &token).await;
    subscribe(&mut on_b, &["users"]).await;
    reaches(a, &token, &mut on_b, Duration::from_secs(10)).await;
    // Both of A's events so far came to its own client too; start from a quiet stream.
    messages_within(&mut on_a, Duration::from_millis(300)).await;

    let calls = [("auth/me", json!({})), ("users/list", json!({}))];
    let load_a = Load::start(a, &token, &calls, 2);
    let load_b = Load::start(b, &token, &calls, 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.cut().await;
    let cut = Instant::now();
    for app in [a, b] {
        let r = eventually(
            Duration::from_secs(10),
            "readyz answers 503",
            || async move {
                let r = app.get("/readyz").await;
                (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(r)
            },
        )
        .await;
        let body: Value = r.json().await.unwrap_or_default();
        assert_eq!(body["redis"], "unreachable", "{body}");
        assert_eq!(body["database"], "ok", "{body}");
    }
    let noticed = cut.elapsed();

    // Events still reach the clients of the instance they happen on.
    create_user(a, &token, "during").await;
    let msg = next_json(&mut on_a).await;
    assert_eq!(msg["envelope"]["event"]["type"], "user_changed", "{msg}");
    // Limits still hold, counted in process: the sign-in limit for one name trips as usual.
    let limit = a.settings.auth_rate_per_minute;
    let mut refused = None;
    for attempt in 1..=limit + 1 {
        let r = a
            .post_anon(
                "auth/login",
                json!({"username": "during", "password": "wrong password!"}),
                None,
            )
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(attempt);
            break;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    assert_eq!(
        refused,
        Some(limit + 1),
        "the sign-in limit ({limit}/min) held without Redis"
    );

    // The load goes on through an outage of a few seconds before Redis returns.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _restored = Proxy::start(port, host_port(&redis)).await;
    let restored = Instant::now();
    // The connection manager reconnects with backoff (up to 2 s a try); allow a loaded machine.
    for app in [a, b] {
        eventually(
            Duration::from_secs(30),
            "readyz recovers once Redis is back",
            || async move { (app.get("/readyz").await.status() == StatusCode::OK).then_some(()) },
        )
        .await;
    }
    let ready_again = restored.elapsed();
    // Catching up: B's relay subscribes again, and A's events reach B's clients once more.
    let fanned_out = reaches(a, &token, &mut on_b, Duration::from_secs(30)).await;
    let mut samples = load_a.stop().await;
    samples.extend(load_b.stop().await);
    let failed = other_than(&samples, StatusCode::OK);
    assert!(failed.is_empty(), "every request answered 200: {failed:?}");
    let during: Vec<_> = samples
        .iter()
        .filter(|(sent, _, _)| *sent >= cut && *sent < restored)
        .collect();
    let slowest = during
        .iter()
        .map(|(_, took, _)| *took)
        .max()
        .unwrap_or_default();
    assert!(!during.is_empty(), "the load ran during the outage");
    assert!(
        slowest < Duration::from_secs(1),
        "no request waited on Redis: the slowest during the outage took {slowest:?}"
    );
    crate::helpers::observed(
        test,
        &format!(
            "{} requests on two instances during the {:.1} s outage, all 200, slowest {} ms; \
             /readyz 503 after {} ms; both ready {} ms after Redis is back; cross-instance \
             events again after {} ms more",
            during.len(),
            restored.duration_since(cut).as_secs_f64(),
            slowest.as_millis(),
            noticed.as_millis(),
            ready_again.as_millis(),
            fanned_out.as_millis()
        ),
    );
}

/// Unmounts a filesystem the test mounted, when dropped.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fills the filesystem holding `path` by writing to it until it refuses.
fn fill(path: &std::path::Path) -> u64 {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("a filler file");
    let chunk = vec![0u8; 4096];
    let mut written = 0;
    while f.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
    let _ = f.sync_all();
    written
}

#[tokio::test]
async fn when_the_log_disk_is_full_the_service_keeps_running_and_its_run_shows_the_lost_lines() {
    let test =
        "when_the_log_disk_is_full_the_service_keeps_running_and_its_run_shows_the_lost_lines";
    let app = spawn_app_with(own_ports).await;
    let app = &app;
    // The runs folder (logs and state of every run) on a small filesystem of the test's own.
    let runs = app.settings.data_dir.join("runs");
    std::fs::create_dir_all(&runs).expect("runs folder");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "optimus-test-logs"])
        .arg(&runs)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        crate::helpers::skipped(
            test,
            "cannot mount a small tmpfs here (mounting needs root)",
        );
        return;
    }
    let _unmount = Mounted(runs.clone());
    let _services = app.guard();
    let token = app.setup_owner().await;
    let token = token.as_str();
    let (_dir, project) = project(app, token, &[]).await;
    let chatty = create(
        app,
        token,
        project,
        json!({"name": "chatty", "command": "i=0; while :; do i=$((i+1)); echo \"line $i\"; sleep 0.01; done"}),
    )
    .await;
    let r = app
        .post_anon("services/start", json!({"id": chatty}), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let pid = wait_state(app, token, chatty, "ready", Duration::from_secs(15)).await["last_run"]
        ["pid"]
        .clone();

    let filler = runs.join("filler");
    let filled = fill(&filler);
    let full = Instant::now();
    let shown = eventually(
        Duration::from_secs(15),
        "the run shows the lost lines",
        || async move {
            let s = get(app, token, chatty).await;
            let t = s["last_run"]["log_trouble"].clone();
            (t["lost_lines"].as_u64().unwrap_or_default() > 0 && t["error"].is_string())
                .then_some(s)
        },
    )
    .await;
    let noticed = full.elapsed();
    let trouble = &shown["last_run"]["log_trouble"];
    assert!(
        trouble["error"]
            .as_str()
            .unwrap_or_default()
            .contains("No space left"),
        "{trouble}"
    );
    assert_eq!(
        shown["state"], "ready",
        "the service keeps running: {shown}"
    );
    assert_eq!(shown["last_run"]["pid"], pid, "the same process: {shown}");
    // The run records the trouble first and then notifies: the notification follows shortly.
    eventually(
        Duration::from_secs(5),
        "a notification says the log cannot be written",
        || async move {
            let notes = app
                .post_anon("notifications/list", json!({}), Some(token))
                .await;
            notes.body["items"]
                .as_array()
                .is_some_and(|n| {
                    n.iter()
                        .any(|n| n["kind"] == "log_trouble" && n["service_id"] == chatty)
                })
                .then_some(())
        },
    )
    .await;

    std::fs::remove_file(&filler).expect("free the space");
    let freed = Instant::now();
    let resumed = eventually(
        Duration::from_secs(15),
        "the log is written again",
        || async move {
            let s = get(app, token, chatty).await;
            let t = s["last_run"]["log_trouble"].clone();
            t["error"].is_null().then_some(t)
        },
    )
    .await;
    let lost = resumed["lost_lines"].as_u64().unwrap_or_default();
    assert!(lost > 0, "what was lost stays counted: {resumed}");
    let logs = app
        .post_anon(
            "services/logs",
            json!({"service_ids": [chatty], "search": "could not be written"}),
            Some(token),
        )
        .await;
    let texts: Vec<&str> = logs
        .body
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("[optimus] ") && t.contains("could not be written")),
        "the log says where lines are missing: {:?}",
        &texts[texts.len().saturating_sub(5)..]
    );
    let s = get(app, token, chatty).await;
    assert_eq!(s["last_run"]["pid"], pid, "still the same process: {s}");
    let r = app
        .post_anon("services/stop", json!({"id": chatty}), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    crate::helpers::observed(
        test,
        &format!(
            "1 MiB filesystem filled ({filled} bytes of filler): the run showed the error {} ms \
             later; {lost} lines lost; written again {} ms after the space was freed",
            noticed.as_millis(),
            freed.elapsed().as_millis()
        ),
    );
}
