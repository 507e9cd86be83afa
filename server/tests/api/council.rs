//! The Council of Minds through the API: deliberations on a real project's evidence (a real
//! crash-looping process), the contract shape, memory recall that changes a later call, outcomes
//! feeding track records, the knowledge graph with validity intervals, memories, and roles.

use crate::helpers::{spawn_app, TestApp};
use crate::runtime::{create, project, wait_state};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

/// Deliberates on `body` as the holder of `token`; the deliberation (a 200 is asserted).
pub(crate) async fn ask(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post_anon("council/deliberate", body, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

#[tokio::test]
async fn a_deliberation_on_a_crash_looping_project_says_no_and_cites_the_evidence() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_dir, pid) = project(&app, &owner, &[]).await;
    let id = create(
        &app,
        &owner,
        pid,
        json!({"name": "worker", "command": "exit 2",
               "restart": {"mode": "on-failure", "max_retries": 1, "backoff_ms": 50}}),
    )
    .await;
    app.post_anon("services/start", json!({"id": id}), Some(&owner))
        .await;
    wait_state(&app, &owner, id, "crash_loop", Duration::from_secs(15)).await;

    let d = ask(
        &app,
        &owner,
        json!({"question": "Should we deploy the new worker release today?", "project_id": pid,
               "facts": {"tests": "failing", "team_size": 3}}),
    )
    .await;
    let option = d["consensus"]["option"].as_str().unwrap_or_default();
    assert!(matches!(option, "defer" | "reject"), "{d}");
    let confidence = d["consensus"]["confidence"].as_f64().unwrap_or(0.0);
    assert!(confidence > 0.7, "a clear case: {}", d["consensus"]);
    assert!(d["consensus"]["agreement"].as_f64().is_some());
    let turns = d["turns"].as_array().cloned().unwrap_or_default();
    let personas: Vec<&str> = turns.iter().filter_map(|t| t["persona"].as_str()).collect();
    assert_eq!(
        personas,
        [
            "strategist",
            "pragmatist",
            "innovator",
            "guardian",
            "analyst"
        ]
    );
    for t in &turns {
        assert!(
            t["option"].is_string() && t["confidence"].is_number(),
            "{t}"
        );
        assert!(
            t["rationale"].as_str().is_some_and(|r| r.contains("[E")),
            "{t}"
        );
        assert!(
            t["evidence"].as_array().is_some_and(|e| !e.is_empty()),
            "{t}"
        );
    }
    // The evidence is the project's real state: the crash loop and its failed runs.
    let evidence = d["evidence"].to_string();
    assert!(evidence.contains("1 in crash loop"), "{evidence}");
    assert!(
        evidence.contains("failed run(s) in the last 24 hours"),
        "{evidence}"
    );
    // The crash is in the knowledge graph: an incident that affected the service of the project.
    let g = app
        .post_anon(
            "council/graph",
            json!({"project_id": pid, "depth": 2}),
            Some(&owner),
        )
        .await
        .body;
    let kinds: Vec<&str> = g["nodes"]
        .as_array()
        .map(|n| n.iter().filter_map(|x| x["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        kinds.contains(&"service") && kinds.contains(&"incident") && kinds.contains(&"decision"),
        "{g}"
    );
    // `council/get` returns it again.
    let again = app
        .post_anon("council/get", json!({"id": d["id"]}), Some(&owner))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["consensus"], d["consensus"]);
    assert_eq!(again.body["turns"], d["turns"]);
}

#[tokio::test]
async fn a_recorded_bad_outcome_is_recalled_and_tips_the_next_similar_question() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let question = "Should we deploy the search rewrite to production?";
    let facts = json!({"tests": "flaky", "backup_age_hours": 2});
    let first = ask(&app, &owner, json!({"question": question, "facts": facts})).await;
    let rank = |o: &str| {
        ["proceed", "proceed_with_conditions", "defer", "reject"]
            .iter()
            .position(|x| *x == o)
    };
    let before = first["consensus"]["option"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = app
        .post_anon(
            "council/outcome",
            json!({"id": first["id"], "outcome": "reject", "note": "search broke for an hour"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["outcome"], "reject");
    // The outcome refits the calibration: a call that turned out wrong makes the refit a little
    // less sure of calls like it than the shipped weights, a right one a little surer.
    assert!(first["consensus"]["raw_confidence"].is_number(), "{first}");
    let cal = app
        .post_anon("council/calibration", json!({}), Some(&owner))
        .await
        .body;
    assert_eq!(cal["samples"], 1, "{cal}");
    assert!(cal["updated_at"].is_string(), "{cal}");
    let (used, shipped) = (
        cal["weights"].as_array().cloned().unwrap_or_default(),
        cal["shipped"].as_array().cloned().unwrap_or_default(),
    );
    assert_eq!((used.len(), shipped.len()), (5, 5), "{cal}");
    // Right or wrong is read on the line between acting and holding back.
    let intercept = |w: &[Value]| w[0].as_f64().unwrap_or_default();
    if matches!(before.as_str(), "proceed" | "proceed_with_conditions") {
        assert!(intercept(&used) < intercept(&shipped), "{before}: {cal}");
    } else {
        assert!(intercept(&used) > intercept(&shipped), "{before}: {cal}");
    }
    let second = ask(&app, &owner, json!({"question": question, "facts": facts})).await;
    let after = second["consensus"]["option"].as_str().unwrap_or_default();
    let recalled = second["evidence"]
        .as_array()
        .and_then(|e| e.iter().find(|x| x["source"] == "memory").cloned())
        .unwrap_or(Value::Null);
    assert!(
        recalled["summary"]
            .as_str()
            .is_some_and(|s| s.contains("outcome: reject")),
        "{}",
        second["evidence"]
    );
    assert!(rank(after) > rank(&before), "{before} → {after}");
    // Track records: each persona of the first deliberation has one decided call.
    let personas = app
        .post_anon("council/personas", json!({}), Some(&owner))
        .await
        .body;
    let guardian = personas
        .as_array()
        .and_then(|a| a.iter().find(|p| p["key"] == "guardian").cloned())
        .unwrap_or(Value::Null);
    assert_eq!(guardian["decided"], 1, "{guardian}");
    assert!(guardian["brier"]
        .as_f64()
        .is_some_and(|b| (0.0..=1.0).contains(&b)));
    assert_eq!(
        personas.as_array().map(Vec::len),
        Some(13),
        "the thirteen built-in personas"
    );
    // Memories are searchable (full text), editable, pinnable and forgettable (audited).
    let found = app
        .post_anon(
            "council/memories",
            json!({"search": "search rewrite"}),
            Some(&owner),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let list = found.body.as_array().cloned().unwrap_or_default();
    assert!(!list.is_empty());
    assert!(list
        .windows(2)
        .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));
    let mid = list[0]["id"].clone();
    let pinned = app
        .post_anon(
            "council/update_memory",
            json!({"id": mid, "pinned": true}),
            Some(&owner),
        )
        .await;
    assert_eq!(pinned.body["pinned"], true, "{}", pinned.body);
    let gone = app
        .post_anon("council/forget_memory", json!({"id": mid}), Some(&owner))
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    let audit = app
        .post_anon(
            "audit/list",
            json!({"action": "council.memory_forget"}),
            Some(&owner),
        )
        .await
        .body;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
    let after_forget = app
        .post_anon(
            "council/memories",
            json!({"search": "search rewrite"}),
            Some(&owner),
        )
        .await
        .body;
    assert!(!after_forget.to_string().contains(&format!("\"id\":{mid},")));
}

/// The titles `council/memories` recalls for `body`.
async fn recalled(app: &TestApp, owner: &str, body: Value) -> Vec<(String, Option<i64>)> {
    let r = app.post_anon("council/memories", body, Some(owner)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["title"].as_str().unwrap_or_default().to_owned(),
                        m["project_id"].as_i64(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn recall_finds_inflected_words_ranks_the_rarer_ones_and_keeps_to_a_project() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let (_ledger_dir, ledger) = project(&app, &owner, &[]).await;
    let (_other_dir, other) = project(&app, &owner, &[]).await;
    let billing = "Should we rewrite the billing ledger before the audit?";
    ask(
        &app,
        &owner,
        json!({"question": billing, "project_id": ledger}),
    )
    .await;
    for q in [
        "Should we rewrite the search page?",
        "Should we rewrite the export job?",
        "Should we rewrite the login form?",
    ] {
        ask(&app, &owner, json!({"question": q, "project_id": other})).await;
    }
    // "rewrites" finds "rewrite"; "billing" is rarer than "rewrite", so its deliberation leads.
    let found = recalled(
        &app,
        &owner,
        json!({"search": "rewrites billing", "limit": 5}),
    )
    .await;
    assert!(found.len() == 5, "{found:?}");
    assert_eq!(found[0].0, billing, "{found:?}");
    // Kept to a project: only its memories, even where another project's would rank higher.
    let mine = recalled(
        &app,
        &owner,
        json!({"search": "rewrite search page", "project_id": ledger}),
    )
    .await;
    assert!(!mine.is_empty(), "the ledger's memories mention rewrite");
    assert!(mine.iter().all(|(_, p)| *p == Some(ledger)), "{mine:?}");
    // A word no memory has finds nothing; stop words alone are no query.
    assert!(recalled(&app, &owner, json!({"search": "zeppelin"}))
        .await
        .is_empty());
    assert!(recalled(&app, &owner, json!({"search": "the and of"}))
        .await
        .is_empty());
}

async fn scanned(app: &TestApp, owner: &str, wid: i64) {
    for _ in 0..200 {
        let r = app
            .post_anon("workspaces/get", json!({"id": wid}), Some(owner))
            .await;
        if r.body["scan_state"] == "done" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the scan did not finish");
}

#[tokio::test]
async fn the_graph_links_projects_by_technology_and_closes_what_stops_being_true() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let ws = tempfile::tempdir().expect("tempdir");
    for name in ["alpha", "beta"] {
        let dir = ws.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n"),
        )
        .expect("write");
    }
    let wid = app
        .post_anon("workspaces/add", json!({"path": ws.path()}), Some(&owner))
        .await
        .body["id"]
        .as_i64()
        .expect("workspace id");
    scanned(&app, &owner, wid).await;
    let list = app
        .post_anon("projects/list", json!({"search": "alpha"}), Some(&owner))
        .await
        .body;
    let a = list["items"][0]["id"].as_i64().expect("alpha");
    let has = |v: &Value, label: &str| {
        v["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|x| x["label"] == label))
    };
    // The graph follows the scan in the background: beta appears, linked through rust.
    let mut view = Value::Null;
    for _ in 0..100 {
        view = app
            .post_anon(
                "council/graph",
                json!({"project_id": a, "depth": 2}),
                Some(&owner),
            )
            .await
            .body;
        if has(&view, "beta") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(has(&view, "rust") && has(&view, "beta"), "{view}");
    let list = app
        .post_anon("projects/list", json!({"search": "beta"}), Some(&owner))
        .await
        .body;
    let b = list["items"][0]["id"].as_i64().expect("beta");
    let path = app
        .post_anon(
            "council/path",
            json!({"from_project_id": a, "to_project_id": b}),
            Some(&owner),
        )
        .await
        .body;
    let labels: Vec<&str> = path
        .as_array()
        .map(|p| p.iter().filter_map(|x| x["label"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(labels, ["alpha", "rust", "beta"], "{path}");
    // Asked about alpha, the council names beta as related, and why.
    let d = ask(
        &app,
        &owner,
        json!({"question": "Should alpha adopt a new logging library?", "project_id": a}),
    )
    .await;
    assert!(
        d["evidence"].as_array().is_some_and(|e| e
            .iter()
            .any(|x| x["summary"] == "Related project beta: also uses rust")),
        "{}",
        d["evidence"]
    );
    let before = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Alpha stops being a Rust project: its `uses rust` edge is closed, not deleted.
    let alpha = ws.path().join("alpha");
    std::fs::remove_file(alpha.join("Cargo.toml")).expect("remove");
    std::fs::write(alpha.join("package.json"), "{\"name\":\"alpha\"}").expect("write");
    let r = app
        .post_anon("workspaces/scan", json!({"id": wid}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    scanned(&app, &owner, wid).await;
    let now = app
        .post_anon(
            "council/graph",
            json!({"project_id": a, "depth": 1}),
            Some(&owner),
        )
        .await
        .body;
    let then = app
        .post_anon(
            "council/graph",
            json!({"project_id": a, "depth": 1, "at": before}),
            Some(&owner),
        )
        .await
        .body;
    assert!(!has(&now, "rust") && has(&now, "node"), "{now}");
    assert!(
        has(&then, "rust") && !has(&then, "node"),
        "what we knew then: {then}"
    );
    let bad = app
        .post_anon(
            "council/graph",
            json!({"project_id": a, "depth": 9}),
            Some(&owner),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "depth");
}

#[tokio::test]
async fn bad_questions_are_refused_by_field_and_roles_are_enforced() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let viewer = app.user_with_role(&owner, "vic", "viewer").await;
    let operator = app.user_with_role(&owner, "opal", "operator").await;
    // What the schema states is a 400; a rule across fields or stored personas a 422.
    let (bad, unprocessable) = (StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY);
    for (body, field, status) in [
        (json!({"question": "?"}), "question", bad),
        (
            json!({"question": "Which one?", "options": ["only"]}),
            "options",
            unprocessable,
        ),
        (
            json!({"question": "Which one?", "options": ["a", "A"]}),
            "options",
            unprocessable,
        ),
        (
            json!({"question": "Which one?", "personas": ["oracle"]}),
            "personas",
            unprocessable,
        ),
        (
            json!({"question": "Which one?", "facts": {"nested": {"x": 1}}}),
            "facts.nested",
            bad,
        ),
    ] {
        let r = app
            .post_anon("council/deliberate", body.clone(), Some(&owner))
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert_eq!(r.body["field"], field, "{}", r.body);
    }
    let missing = app
        .post_anon(
            "council/deliberate",
            json!({"question": "Go?", "project_id": 99999}),
            Some(&owner),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let listed = app.post_anon("council/list", json!({}), Some(&owner)).await;
    assert_eq!(listed.body, json!([]), "nothing was stored");

    let denied = app
        .post_anon(
            "council/deliberate",
            json!({"question": "Ship it?"}),
            Some(&viewer),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let d = ask(
        &app,
        &operator,
        json!({"question": "Pick a database for the prototype", "options": ["PostgreSQL", "SQLite"],
               "personas": ["guardian", "innovator"], "second_round": true}),
    )
    .await;
    assert_eq!(d["options"][0]["id"], "postgresql");
    let rounds: Vec<i64> = d["turns"]
        .as_array()
        .map(|t| t.iter().filter_map(|x| x["round"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(rounds, [1, 1, 2, 2]);
    let seen = app
        .post_anon("council/get", json!({"id": d["id"]}), Some(&viewer))
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    let bad_outcome = app
        .post_anon(
            "council/outcome",
            json!({"id": d["id"], "outcome": "mysql"}),
            Some(&operator),
        )
        .await;
    // Well-formed, but not one of this deliberation's options.
    assert_eq!(bad_outcome.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_outcome.body["field"], "outcome");
    let persona = json!({"key": "sre", "name": "SRE", "role": "Keeps production boring.",
                         "domains": ["reliability", "deploy"], "stance": "cautious"});
    let no = app
        .post_anon("council/save_persona", persona.clone(), Some(&operator))
        .await;
    assert_eq!(no.status, StatusCode::FORBIDDEN);
    let yes = app
        .post_anon("council/save_persona", persona, Some(&owner))
        .await;
    assert_eq!(yes.status, StatusCode::OK, "{}", yes.body);
    assert_eq!(yes.body.as_array().map(Vec::len), Some(14));
    // A question about deploys now also goes to the new persona.
    let d = ask(
        &app,
        &owner,
        json!({"question": "Should we deploy on Friday?"}),
    )
    .await;
    assert!(d["turns"]
        .as_array()
        .is_some_and(|t| t.iter().any(|x| x["persona"] == "sre")));
}
