//! The council's LLM engine against a real HTTP server on loopback that speaks the OpenAI
//! chat-completions protocol (streamed and plain), started by the test: good answers, an answer
//! that needs repair, invalid JSON, a 429 then success, and a timeout. The deliberation completes
//! in every case, with the right personas abstaining.

use crate::helpers::spawn_app_with;
use app::server::secret::Secret;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake model saw: (persona, authorization header, request body).
type Seen = Arc<Mutex<Vec<(String, String, Value)>>>;

fn position(option: &str, confidence: f64) -> String {
    json!({
        "option": option,
        "confidence": confidence,
        "rationale": format!("The evidence [E1] points to {option}."),
        "concerns": ["none worth naming"],
        "conditions": [],
        "evidence": ["E1", "E99"]
    })
    .to_string()
}

fn streamed(content: &str) -> Response {
    let mut body = String::new();
    // Split the content over several chunks, as a real server would.
    let chars: Vec<char> = content.chars().collect();
    for piece in chars.chunks(7) {
        let s: String = piece.iter().collect();
        body.push_str(&format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": {"content": s}}]})
        ));
    }
    body.push_str(&format!(
        "data: {}\n\ndata: [DONE]\n\n",
        json!({"choices": [], "usage": {"total_tokens": 120}})
    ));
    ([("content-type", "text/event-stream")], body).into_response()
}

fn plain(content: &str) -> Response {
    Json(json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        "usage": {"total_tokens": 90}
    }))
    .into_response()
}

async fn completions(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let system = body["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let persona = [
        "Strategist",
        "Pragmatist",
        "Innovator",
        "Guardian",
        "Analyst",
    ]
    .into_iter()
    .find(|p| system.contains(&format!("You are the {p}")))
    .unwrap_or("unknown")
    .to_owned();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let calls = {
        let mut s = seen.lock().expect("lock");
        s.push((persona.clone(), auth, body.clone()));
        s.iter().filter(|(p, _, _)| *p == persona).count()
    };
    match persona.as_str() {
        "Strategist" => streamed(&position("defer", 0.8)),
        // Wrapped in a code fence and prose: repaired without asking again.
        "Pragmatist" => plain(&format!(
            "Here you go:\n```json\n{}\n```",
            position("defer", 0.7)
        )),
        "Innovator" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            streamed(&position("proceed", 0.9))
        }
        "Guardian" if calls == 1 => (
            AxumStatus::TOO_MANY_REQUESTS,
            [("retry-after", "0")],
            "slow down",
        )
            .into_response(),
        "Guardian" => streamed(&position("reject", 0.9)),
        // Never valid: the persona is asked once more, then abstains.
        _ => streamed("I think we should wait and see."),
    }
}

#[tokio::test]
async fn the_llm_engine_completes_with_repairs_retries_and_abstentions() {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let router = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(seen.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let app = spawn_app_with(|s| {
        s.llm_base_url = Some(format!("http://127.0.0.1:{port}/v1"));
        s.llm_api_key = Some(Secret::new("sk-test-not-for-logs"));
        s.llm_model = Some("test-model".into());
        s.llm_timeout_ms = 500;
    })
    .await;
    let owner = app.setup_owner().await;
    let r = app
        .post_anon(
            "council/deliberate",
            json!({"question": "Should we deploy the billing release today?",
                   "facts": {"tests": "failing"}}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = r.body;
    assert_eq!(d["engine"], "llm");
    let turn = |p: &str| {
        d["turns"]
            .as_array()
            .and_then(|t| t.iter().find(|x| x["persona"] == p).cloned())
            .unwrap_or(Value::Null)
    };
    assert_eq!(turn("strategist")["option"], "defer", "streamed answer");
    assert_eq!(
        turn("strategist")["evidence"],
        json!(["E1"]),
        "unknown ids dropped"
    );
    assert_eq!(
        turn("pragmatist")["option"],
        "defer",
        "repaired from a code fence"
    );
    assert_eq!(turn("guardian")["option"], "reject", "429, then success");
    assert_eq!(turn("innovator")["abstained"], true);
    assert!(
        turn("innovator")["error"]
            .as_str()
            .is_some_and(|e| e.contains("no answer within")),
        "{}",
        turn("innovator")
    );
    assert_eq!(turn("analyst")["abstained"], true);
    assert!(
        turn("analyst")["error"]
            .as_str()
            .is_some_and(|e| e.contains("not valid JSON")),
        "{}",
        turn("analyst")
    );
    let c = &d["consensus"];
    assert_eq!(c["abstained"], json!(["innovator", "analyst"]));
    assert!(
        matches!(c["option"].as_str(), Some("defer") | Some("reject")),
        "{c}"
    );
    assert!(
        !d.to_string().contains("sk-test-not-for-logs"),
        "the key never reaches a response"
    );

    let first = seen.lock().expect("lock").clone();
    let count = |p: &str| first.iter().filter(|(x, _, _)| x == p).count();
    assert_eq!(count("Guardian"), 2, "retried after the 429");
    assert_eq!(count("Analyst"), 2, "asked once more after invalid JSON");
    assert_eq!(count("Pragmatist"), 1, "repaired without asking again");
    for (_, auth, body) in &first {
        assert_eq!(auth, "Bearer sk-test-not-for-logs");
        assert_eq!(body["model"], "test-model");
        assert_eq!(body["stream"], true);
        assert_eq!(
            body["response_format"]["json_schema"]["schema"]["properties"]["option"]["enum"],
            json!(["proceed", "proceed_with_conditions", "defer", "reject"])
        );
        assert!(
            body["messages"][1]["content"]
                .as_str()
                .is_some_and(|m| m.contains("E1 (")),
            "evidence is in the prompt"
        );
    }
    // A persona bound to its own model uses it.
    let bound = app
        .post_anon(
            "council/save_persona",
            json!({"key": "guardian", "name": "Guardian", "role": "Security, risk and reliability.",
                   "domains": ["security", "risk", "reliability"], "stance": "cautious", "model": "guardian-large"}),
            Some(&owner),
        )
        .await;
    assert_eq!(bound.status, StatusCode::OK, "{}", bound.body);
    let r = app
        .post_anon(
            "council/deliberate",
            json!({"question": "Should we rotate the signing keys?", "personas": ["guardian"]}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let last = seen
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .expect("a request");
    assert_eq!(last.0, "Guardian");
    assert_eq!(last.2["model"], "guardian-large");
}
