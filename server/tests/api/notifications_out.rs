//! Notifications that leave Optimus, against real receivers on loopback: an HTTP server that
//! checks each webhook's Standard Webhooks signature (computed here, not by Optimus) and answers
//! as a script says, a Slack-compatible receiver, and an SMTP server (`aiosmtpd`, installed by
//! `scripts/services.sh`). The notifications are real ones: the council's answers.

use crate::helpers::{eventually, spawn_app, spawn_app_with, spawn_sharing, TestApp};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as HttpStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Default)]
struct Script {
    /// Answers to give, in order; then `otherwise`.
    answers: VecDeque<(u16, Option<&'static str>)>,
    otherwise: u16,
    got: Vec<Got>,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    async fn start(answers: &[(u16, Option<&'static str>)], otherwise: u16) -> Self {
        let script = Arc::new(Mutex::new(Script {
            answers: answers.iter().copied().collect(),
            otherwise,
            got: Vec::new(),
        }));
        async fn hook(
            State(script): State<Arc<Mutex<Script>>>,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> Response {
            let mut s = script.lock().expect("script");
            s.got.push(Got {
                headers,
                body: body.to_vec(),
            });
            let (status, retry_after) = s.answers.pop_front().unwrap_or((s.otherwise, None));
            let status = HttpStatus::from_u16(status).expect("status");
            match retry_after {
                Some(r) => (status, [("retry-after", r)], "slow down").into_response(),
                None => (status, "answered").into_response(),
            }
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let router = Router::new()
            .route("/hooks/{token}", post(hook))
            .with_state(script.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url: format!("http://127.0.0.1:{port}/hooks/t0ps3cret"),
            script,
        }
    }

    fn got(&self) -> Vec<Got> {
        self.script.lock().expect("script").got.clone()
    }

    fn answer_always(&self, status: u16) {
        let mut s = self.script.lock().expect("script");
        s.answers.clear();
        s.otherwise = status;
    }
}

/// Checks a request's Standard Webhooks signature with `secret`, as a receiver would.
fn verify(secret: &str, got: &Got) -> bool {
    let header = |n: &str| {
        got.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let key = B64
        .decode(secret.strip_prefix("whsec_").expect("whsec_"))
        .expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.", header("webhook-id"), header("webhook-timestamp")).as_bytes());
    mac.update(&got.body);
    let expected = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post_anon(path, body, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body
}

/// Adds a channel named `name`; the answer (`channel`, `secret`).
async fn add_channel(app: &TestApp, token: &str, name: &str, config: Value) -> Value {
    let body = json!({"name": name, "config": config});
    ok(app, token, "notifications/create_channel", body).await
}

/// The id of a channel `add_channel` made.
fn channel_id(created: Value) -> i64 {
    created["channel"]["id"].as_i64().expect("a channel id")
}

async fn deliberate(app: &TestApp, token: &str, body: Value) -> Value {
    ok(app, token, "council/deliberate", body).await
}

async fn delivery_when(
    app: &TestApp,
    token: &str,
    id: i64,
    status: &str,
    within: Duration,
) -> Value {
    eventually(within, &format!("delivery {id} {status}"), || async {
        let d = ok(app, token, "notifications/delivery", json!({"id": id})).await;
        (d["status"] == status).then_some(d)
    })
    .await
}

async fn deliveries(app: &TestApp, token: &str, query: Value) -> Vec<Value> {
    ok(app, token, "notifications/deliveries", query)
        .await
        .as_array()
        .expect("a list")
        .clone()
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_as_the_receiver_asks_until_they_land() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    // 500, then 429 asking for a second's patience, then 200.
    let receiver = Receiver::start(&[(500, None), (429, Some("1"))], 200).await;
    let created = add_channel(
        &app,
        &owner,
        "ops hook",
        json!({"kind": "webhook", "url": receiver.url}),
    )
    .await;
    let secret = created["secret"]
        .as_str()
        .expect("a secret made and shown once");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let channel = created["channel"]["id"].as_i64().expect("id");
    // Nothing of the URL's token or the secret is ever shown again.
    let listed = ok(&app, &owner, "notifications/channels", json!({})).await;
    let shown = listed.to_string();
    assert!(
        !shown.contains("t0ps3cret") && !shown.contains(secret),
        "{shown}"
    );
    assert_eq!(
        listed[0]["target"],
        format!(
            "{}/…",
            &receiver.url[..receiver.url.find("/hooks").expect("path")]
        )
    );
    ok(
        &app,
        &owner,
        "notifications/create_rule",
        json!({"channel_id": channel, "kinds": ["council_decided"]}),
    )
    .await;

    let d = deliberate(
        &app,
        &owner,
        json!({"question": "Ship the new login page?"}),
    )
    .await;
    let list = deliveries(&app, &owner, json!({"channel_id": channel})).await;
    assert_eq!(
        list.len(),
        1,
        "one delivery per notification and channel: {list:?}"
    );
    let id = list[0]["id"].as_i64().expect("id");
    // 500 → 5 s backoff; 429 → the 1 s asked for; then delivered.
    let done = delivery_when(&app, &owner, id, "delivered", Duration::from_secs(30)).await;
    let log = done["log"].as_array().expect("log");
    let codes: Vec<_> = log.iter().map(|a| a["status_code"].as_i64()).collect();
    assert_eq!(codes, [Some(500), Some(429), Some(200)], "{done}");
    let outcomes: Vec<_> = log.iter().map(|a| a["outcome"].as_str()).collect();
    assert_eq!(outcomes, [Some("retry"), Some("retry"), Some("delivered")]);
    assert!(
        log[0]["error"].as_str().is_some_and(|e| e.contains("500")),
        "{done}"
    );
    assert_eq!(done["attempts"], 3);

    let got = receiver.got();
    assert_eq!(got.len(), 3);
    for g in &got {
        assert!(verify(secret, g), "a bad signature: {g:?}");
        assert_eq!(
            g.headers["webhook-id"].to_str().expect("id"),
            format!("msg_{id}"),
            "the same id on every retry, so the receiver can drop repeats"
        );
    }
    let body: Value = serde_json::from_slice(&got[2].body).expect("JSON");
    assert_eq!(body["type"], "council_decided");
    assert_eq!(body["data"]["kind"], "council_decided");
    assert!(body["data"]["body"]
        .as_str()
        .is_some_and(|b| b.contains("Ship the new login page?")));
    // A tampered body fails the check: the check can fail.
    let mut forged = got[2].clone();
    forged.body.push(b' ');
    assert!(!verify(secret, &forged));
    // The deliberation is what it was.
    assert!(d["consensus"]["option"].is_string(), "{d}");
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_goes_to_the_dead_letters_and_changes_nothing_it_reports() {
    let app = spawn_app_with(|s| s.notification_attempts = 2).await;
    let owner = app.setup_owner().await;
    let receiver = Receiver::start(&[], 503).await;
    let created = add_channel(
        &app,
        &owner,
        "down",
        json!({"kind": "slack", "url": receiver.url}),
    )
    .await;
    let channel = created["channel"]["id"].as_i64().expect("id");
    assert_eq!(created["secret"], Value::Null);
    ok(
        &app,
        &owner,
        "notifications/create_rule",
        json!({"channel_id": channel}),
    )
    .await;

    let d = deliberate(&app, &owner, json!({"question": "Upgrade the database?"})).await;
    let id = deliveries(&app, &owner, json!({}))
        .await
        .first()
        .and_then(|x| x["id"].as_i64())
        .expect("a delivery");
    let dead = delivery_when(&app, &owner, id, "dead", Duration::from_secs(30)).await;
    assert_eq!(dead["attempts"], 2, "{dead}");
    assert!(
        !dead.to_string().contains("t0ps3cret"),
        "no URL token in the log: {dead}"
    );
    assert_eq!(dead["last_status"], 503);
    assert_eq!(receiver.got().len(), 2);
    // Listed as a dead letter, counted on its channel.
    let letters = deliveries(&app, &owner, json!({"status": "dead"})).await;
    assert_eq!(letters.len(), 1);
    let listed = ok(&app, &owner, "notifications/channels", json!({})).await;
    assert_eq!(listed[0]["dead"], 1);
    // What it reported is untouched: the deliberation stands, and the bell has it.
    let again = ok(&app, &owner, "council/get", json!({"id": d["id"]})).await;
    assert_eq!(again["consensus"], d["consensus"]);
    let bell = ok(&app, &owner, "notifications/list", json!({})).await;
    assert_eq!(bell["items"][0]["kind"], "council_decided");

    // Resent once the receiver is back: delivered, with the whole log kept.
    receiver.answer_always(200);
    let r = app
        .post_anon("notifications/resend", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done = delivery_when(&app, &owner, id, "delivered", Duration::from_secs(10)).await;
    assert_eq!(done["log"].as_array().map(Vec::len), Some(3), "{done}");
    let slack: Value = serde_json::from_slice(&receiver.got()[2].body).expect("JSON");
    assert!(
        slack["text"]
            .as_str()
            .is_some_and(|t| t.contains("*The council answered “Upgrade the database?”")),
        "{slack}"
    );
    // Only a dead delivery can be resent.
    let r = app
        .post_anon("notifications/resend", json!({"id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

#[tokio::test]
async fn rules_route_by_kind_level_and_project_windows_mute_and_repeats_are_sent_once() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let receiver = Receiver::start(&[], 200).await;
    let channel = channel_id(
        add_channel(
            &app,
            &owner,
            "team",
            json!({"kind": "slack", "url": receiver.url}),
        )
        .await,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let project = ok(&app, &owner, "projects/create", json!({"path": dir.path()})).await["id"]
        .as_i64()
        .expect("project");
    // Rules that do not match a council answer: another kind; errors only.
    ok(
        &app,
        &owner,
        "notifications/create_rule",
        json!({"channel_id": channel, "kinds": ["pipeline_failed"]}),
    )
    .await;
    ok(
        &app,
        &owner,
        "notifications/create_rule",
        json!({"channel_id": channel, "min_level": "error"}),
    )
    .await;
    deliberate(&app, &owner, json!({"question": "Adopt Rust for the CLI?"})).await;
    assert!(deliveries(&app, &owner, json!({})).await.is_empty());

    // One project's notifications, any kind.
    ok(
        &app,
        &owner,
        "notifications/create_rule",
        json!({"channel_id": channel, "project_id": project}),
    )
    .await;
    deliberate(&app, &owner, json!({"question": "Adopt Rust for the CLI?"})).await;
    assert!(
        deliveries(&app, &owner, json!({})).await.is_empty(),
        "not that project's"
    );
    let ask = json!({"question": "Restart the API to apply its new configuration?", "project_id": project});
    deliberate(&app, &owner, ask.clone()).await;
    let list = deliveries(&app, &owner, json!({})).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let first = list[0]["id"].as_i64().expect("id");
    delivery_when(&app, &owner, first, "delivered", Duration::from_secs(10)).await;

    // The same answer again within the rule's window: recorded, not sent.
    deliberate(&app, &owner, ask.clone()).await;
    let list = deliveries(&app, &owner, json!({})).await;
    assert_eq!(list[0]["status"], "suppressed", "{list:?}");
    assert!(list[0]["last_error"]
        .as_str()
        .is_some_and(|e| e.contains(&format!("#{first}"))));

    // A maintenance window on the project: recorded, not sent.
    let mute = ok(
        &app,
        &owner,
        "notifications/create_mute",
        json!({"project_id": project, "minutes": 30, "reason": "moving racks"}),
    )
    .await;
    assert_eq!(mute["active"], true);
    deliberate(
        &app,
        &owner,
        json!({"question": "Rotate the TLS certificate now?", "project_id": project}),
    )
    .await;
    let list = deliveries(&app, &owner, json!({})).await;
    assert_eq!(list[0]["status"], "muted", "{list:?}");
    assert!(list[0]["last_error"]
        .as_str()
        .is_some_and(|e| e.contains("moving racks")));
    // Ended: sent again.
    ok(
        &app,
        &owner,
        "notifications/delete_mute",
        json!({"id": mute["id"]}),
    )
    .await;
    deliberate(
        &app,
        &owner,
        json!({"question": "Rotate the TLS certificate now?", "project_id": project}),
    )
    .await;
    let list = deliveries(&app, &owner, json!({})).await;
    assert_eq!(list[0]["status"], "pending", "{list:?}");
    let last = list[0]["id"].as_i64().expect("id");
    delivery_when(&app, &owner, last, "delivered", Duration::from_secs(10)).await;
    assert_eq!(
        receiver.got().len(),
        2,
        "only the two sent reached the receiver"
    );
}

#[tokio::test]
async fn two_instances_send_each_delivery_once() {
    let first = spawn_app().await;
    let owner = first.setup_owner().await;
    let second = spawn_sharing(first.settings.clone()).await;
    let receiver = Receiver::start(&[], 200).await;
    let channel = channel_id(
        add_channel(
            &first,
            &owner,
            "once",
            json!({"kind": "webhook", "url": receiver.url}),
        )
        .await,
    );
    ok(
        &first,
        &owner,
        "notifications/create_rule",
        json!({"channel_id": channel, "dedup_secs": 0}),
    )
    .await;
    for i in 0..6 {
        let on = if i % 2 == 0 { &first } else { &second };
        deliberate(on, &owner, json!({"question": format!("Ship build {i}?")})).await;
    }
    let ids: Vec<i64> = deliveries(&first, &owner, json!({}))
        .await
        .iter()
        .filter_map(|d| d["id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 6);
    for id in &ids {
        delivery_when(&first, &owner, *id, "delivered", Duration::from_secs(15)).await;
    }
    // A late second send would show up after its delivery was marked delivered.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut seen: Vec<String> = receiver
        .got()
        .iter()
        .map(|g| g.headers["webhook-id"].to_str().expect("id").to_owned())
        .collect();
    seen.sort();
    let mut expected: Vec<String> = ids.iter().map(|i| format!("msg_{i}")).collect();
    expected.sort();
    assert_eq!(seen, expected, "each delivery sent exactly once");
}

/// An SMTP server on loopback (aiosmtpd) that takes `optimus`/`s3cret` and prints each message
/// it receives as a JSON line.
struct SmtpSink {
    port: u16,
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl SmtpSink {
    async fn start() -> Self {
        use tokio::io::AsyncBufReadExt;
        let python = std::env::var("OPTIMUS_TEST_SMTP_PYTHON").unwrap_or_else(|_| {
            format!(
                "{}/.cache/optimus/aiosmtpd/bin/python",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        assert!(
            std::path::Path::new(&python).exists(),
            "no Python with aiosmtpd at {python}: run scripts/services.sh"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = tokio::process::Command::new(python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/api/smtp_sink.py"
            ))
            .arg(port.to_string())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP sink started in time")
            .expect("read")
            .expect("a line");
        assert_eq!(ready, "ready");
        Self { port, child, lines }
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line())
            .await
            .expect("a message in time")
            .expect("read")
            .expect("a line");
        serde_json::from_str(&line).expect("JSON")
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

#[tokio::test]
async fn email_channels_send_through_smtp_with_a_login() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let mut sink = SmtpSink::start().await;
    let port = sink.port;
    let email = |password: &str| {
        json!({
            "kind": "email", "host": "127.0.0.1", "port": port, "security": "none",
            "username": "optimus", "password": password,
            "from": "Optimus <optimus@example.test>", "to": ["ops@example.test", "Dev <dev@example.test>"],
        })
    };
    let created = add_channel(&app, &owner, "mail", email("s3cret")).await;
    let channel = &created["channel"];
    assert_eq!(channel["kind"], "email");
    assert!(!created.to_string().contains("s3cret"), "{created}");
    assert_eq!(
        channel["target"],
        format!(
            "smtp://127.0.0.1:{} → ops@example.test, Dev <dev@example.test>",
            sink.port
        )
    );
    let d = ok(
        &app,
        &owner,
        "notifications/test_channel",
        json!({"id": channel["id"]}),
    )
    .await;
    assert_eq!(d["status"], "delivered", "{d}");
    assert_eq!(d["log"][0]["status_code"], 250, "{d}");
    let mail = sink.next().await;
    assert_eq!(mail["authenticated"], true, "{mail}");
    assert_eq!(mail["from"], "optimus@example.test");
    assert_eq!(mail["to"], json!(["ops@example.test", "dev@example.test"]));
    let data = mail["data"].as_str().expect("data");
    assert!(
        data.contains("Subject: [Optimus] Test from Optimus to `mail`"),
        "{data}"
    );

    // A wrong password: the server refuses it for good (535), so the delivery is dead at once.
    let wrong = ok(
        &app,
        &owner,
        "notifications/update_channel",
        json!({"id": channel["id"], "config": email("wrong")}),
    )
    .await;
    let d = ok(
        &app,
        &owner,
        "notifications/test_channel",
        json!({"id": wrong["channel"]["id"]}),
    )
    .await;
    assert_eq!(d["status"], "dead", "{d}");
    assert_eq!(d["last_status"], 535, "{d}");
}

#[tokio::test]
async fn bad_channel_rule_and_window_input_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let cases = [
        (
            json!({"kind": "webhook", "url": "ftp://example.test/x"}),
            "config.url",
        ),
        (
            json!({"kind": "webhook", "url": "http://example.test", "secret": "whsec_c2hvcnQ="}),
            "config.secret",
        ),
        (json!({"kind": "slack", "url": "not a url"}), "config.url"),
        (
            json!({"kind": "email", "host": "mail.example.test", "security": "none", "from": "a@b.test", "to": ["c@d.test"]}),
            "config.security",
        ),
        (
            json!({"kind": "email", "host": "mail.example.test", "from": "nobody", "to": ["c@d.test"]}),
            "config.from",
        ),
        (
            json!({"kind": "email", "host": "mail.example.test", "from": "a@b.test", "to": []}),
            "config.to",
        ),
        (
            json!({"kind": "email", "host": "mail.example.test", "from": "a@b.test", "to": ["c@d.test"], "username": "u"}),
            "config.password",
        ),
    ];
    for (config, field) in cases {
        let r = app
            .post_anon(
                "notifications/create_channel",
                json!({"name": "x", "config": config}),
                Some(&owner),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{config}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{config}: {}", r.body);
    }
    assert!(ok(&app, &owner, "notifications/channels", json!({}))
        .await
        .as_array()
        .is_some_and(Vec::is_empty));
    let make = json!({"name": "x", "config": {"kind": "slack", "url": "http://127.0.0.1:9/x"}});
    let channel = ok(&app, &owner, "notifications/create_channel", make.clone()).await["channel"]
        ["id"]
        .clone();
    let r = app
        .post_anon("notifications/create_channel", make, Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    for (rule, field) in [
        (
            json!({"channel_id": channel, "kinds": ["coffee_ready"]}),
            "kinds",
        ),
        (
            json!({"channel_id": channel, "min_level": "loud"}),
            "min_level",
        ),
        (json!({"channel_id": 999_999}), "channel_id"),
        (
            json!({"channel_id": channel, "project_id": 999_999}),
            "project_id",
        ),
    ] {
        let r = app
            .post_anon("notifications/create_rule", rule.clone(), Some(&owner))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{rule}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{rule}: {}", r.body);
    }
    for (mute, field) in [
        (json!({"reason": "x"}), "ends_at"),
        (json!({"reason": "", "minutes": 5}), "reason"),
        (
            json!({"reason": "x", "ends_at": "2020-01-01T00:00:00Z"}),
            "ends_at",
        ),
        (
            json!({"reason": "x", "minutes": 5, "ends_at": "2999-01-01T00:00:00Z"}),
            "minutes",
        ),
    ] {
        let r = app
            .post_anon("notifications/create_mute", mute.clone(), Some(&owner))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{mute}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{mute}: {}", r.body);
    }
    let r = app
        .post_anon(
            "notifications/deliveries",
            json!({"status": "lost"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.field(), Some("status"), "{}", r.body);
}

#[tokio::test]
async fn a_backup_too_old_is_notified_once_whichever_instance_looks() {
    let first = spawn_app().await;
    let owner = first.setup_owner().await;
    let second = spawn_sharing(first.settings.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("notes.md"), "# notes\n").expect("write");
    let project = ok(
        &first,
        &owner,
        "projects/create",
        json!({"path": dir.path()}),
    )
    .await["id"]
        .clone();
    ok(
        &first,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "name": "hourly", "schedule": {"cron": "0 * * * *", "timezone": "UTC"}}),
    )
    .await;
    let stale_ones = || async {
        ok(&first, &owner, "notifications/list", json!({})).await["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|n| n["kind"] == "backup_stale")
            .cloned()
            .collect::<Vec<_>>()
    };
    // Fresh: nothing to say.
    let now = chrono::Utc::now();
    app::server::backups::schedules::stale(&first.state, now)
        .await
        .expect("look");
    assert!(stale_ones().await.is_empty());
    // Three hours on, never backed up: both instances look, twice each; one notification.
    let later = now + chrono::Duration::hours(3);
    let (a, b) = tokio::join!(
        app::server::backups::schedules::stale(&first.state, later),
        app::server::backups::schedules::stale(&second.state, later),
    );
    a.expect("look");
    b.expect("look");
    app::server::backups::schedules::stale(&second.state, later)
        .await
        .expect("look");
    let found = stale_ones().await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["project_id"], project);
    assert!(
        found[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("hourly")),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_window_or_a_disabled_channel_holds_back_what_was_already_queued() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let receiver = Receiver::start(&[(500, None), (500, None)], 200).await;
    let channel = channel_id(
        add_channel(
            &app,
            &owner,
            "flaky",
            json!({"kind": "slack", "url": receiver.url}),
        )
        .await,
    );
    ok(
        &app,
        &owner,
        "notifications/create_rule",
        json!({"channel_id": channel}),
    )
    .await;
    let retrying = |question: &'static str| {
        let app = &app;
        let owner = &owner;
        async move {
            deliberate(app, owner, json!({ "question": question })).await;
            let id = deliveries(app, owner, json!({})).await[0]["id"]
                .as_i64()
                .expect("id");
            eventually(
                Duration::from_secs(10),
                "a first failed attempt",
                || async {
                    let d = ok(app, owner, "notifications/delivery", json!({"id": id})).await;
                    (d["attempts"] == 1 && d["status"] == "pending").then_some(())
                },
            )
            .await;
            id
        }
    };

    // Queued and failing, then a maintenance window begins: its retry is muted, not sent.
    let first = retrying("Move the database to the new disk?").await;
    let mute = ok(
        &app,
        &owner,
        "notifications/create_mute",
        json!({"minutes": 30, "reason": "disk move"}),
    )
    .await;
    let muted = delivery_when(&app, &owner, first, "muted", Duration::from_secs(15)).await;
    assert!(
        muted["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("disk move")),
        "{muted}"
    );
    assert_eq!(receiver.got().len(), 1);
    ok(
        &app,
        &owner,
        "notifications/delete_mute",
        json!({"id": mute["id"]}),
    )
    .await;

    // Queued and failing, then the channel is disabled: it waits, using no attempt.
    let second = retrying("Rename the main branch?").await;
    ok(
        &app,
        &owner,
        "notifications/update_channel",
        json!({"id": channel, "enabled": false}),
    )
    .await;
    let waiting = eventually(Duration::from_secs(15), "the delivery waits", || async {
        let d = ok(
            &app,
            &owner,
            "notifications/delivery",
            json!({"id": second}),
        )
        .await;
        d["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("disabled"))
            .then_some(d)
    })
    .await;
    assert_eq!(waiting["status"], "pending", "{waiting}");
    assert_eq!(waiting["attempts"], 1, "{waiting}");
    assert_eq!(receiver.got().len(), 2);
}
