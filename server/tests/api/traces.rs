//! Traces (APM): with `OPTIMUS_OTLP_ENDPOINT` set, a real `optimus serve` exports request, job
//! and model-call spans over OTLP/HTTP to a collector on loopback, which decodes them as a real
//! collector does (protobuf, the `opentelemetry-proto` messages).

use crate::faults::{ok, port_block, post, scan_ended, serve, setup_owner};
use crate::helpers::{fresh_database, observed};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every export the collector received: its content type and the decoded request.
type Received = Arc<Mutex<Vec<(String, ExportTraceServiceRequest)>>>;

/// An OTLP/HTTP traces endpoint on loopback; answers 400 to what does not decode.
async fn collector() -> (String, Received) {
    let received = Received::default();
    let keep = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let keep = keep.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                match ExportTraceServiceRequest::decode(body) {
                    Ok(request) => {
                        keep.lock().expect("lock").push((kind, request));
                        StatusCode::OK
                    }
                    Err(_) => StatusCode::BAD_REQUEST,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://127.0.0.1:{port}"), received)
}

/// A model on loopback that answers every chat at once, reporting 50 tokens.
async fn model() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|| async {
            let position = json!({"option": "defer", "confidence": 0.7,
                "rationale": "Wait [E1].", "concerns": [], "conditions": [], "evidence": ["E1"]});
            axum::Json(json!({
                "choices": [{"index": 0, "message": {"role": "assistant",
                                                     "content": position.to_string()}}],
                "usage": {"total_tokens": 50}
            }))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}/v1")
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a Any> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attr(span, key) {
        Some(Any::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn int(span: &Span, key: &str) -> Option<i64> {
    match attr(span, key) {
        Some(Any::IntValue(n)) => Some(*n),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// W3C trace context a caller sends: `00-<trace id>-<parent span id>-01`.
fn traceparent(trace: &str, parent: &str) -> String {
    format!("00-{trace}-{parent}-01")
}

/// A request sent with a caller's trace context, a scan started by another, and a deliberation
/// that asks a model: after SIGTERM (the exporter only sends at shutdown here, so the flush on
/// stop is what delivers them), the collector holds the request spans as children of the
/// callers' spans and named by route, the scan as a job trace of its own linked to the request
/// that started it, and the model calls as client spans inside the deliberation's request.
#[tokio::test]
async fn requests_jobs_and_model_calls_reach_an_otlp_collector() {
    let (endpoint, received) = collector().await;
    let data = tempfile::tempdir().expect("data");
    let database = fresh_database(data.path()).await;
    let settings = [
        ("OPTIMUS_OTLP_ENDPOINT", endpoint),
        // Nothing leaves on a timer: what arrives was sent by the flush at shutdown.
        ("OTEL_BSP_SCHEDULE_DELAY", "600000".to_owned()),
        ("OPTIMUS_LLM_BASE_URL", model().await),
        ("OPTIMUS_LLM_MODEL", "trace-model".to_owned()),
    ];
    let mut server = serve(data.path(), &database, port_block(31500, 20), &settings).await;
    let token = setup_owner(&server.addr).await;
    let client = reqwest::Client::new();

    let (list_trace, caller_span) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let res = client
        .post(format!("{}/api/v1/projects/list", server.addr))
        .bearer_auth(&token)
        .header("traceparent", traceparent(list_trace, caller_span))
        .json(&json!({}))
        .send()
        .await
        .expect("projects/list");
    assert_eq!(res.status(), StatusCode::OK);

    let tree = tempfile::tempdir().expect("tree");
    for name in ["one", "two"] {
        std::fs::create_dir_all(tree.path().join(name)).expect("mkdir");
        std::fs::write(
            tree.path().join(name).join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\n"),
        )
        .expect("write");
    }
    let scan_trace = "0af7651916cd43dd8448eb211c80319c";
    let res = client
        .post(format!("{}/api/v1/workspaces/add", server.addr))
        .bearer_auth(&token)
        .header("traceparent", traceparent(scan_trace, "b7ad6b7169203331"))
        .json(&json!({"path": tree.path()}))
        .send()
        .await
        .expect("workspaces/add");
    assert_eq!(res.status(), StatusCode::OK);
    let workspace = res.json::<serde_json::Value>().await.expect("json")["id"]
        .as_i64()
        .expect("workspace id");
    let ws = scan_ended(&server.addr, &token, workspace, Duration::from_secs(30)).await;
    assert_eq!(ws["scan_state"], "done", "{ws}");

    let (status, deliberation) = post(
        &server.addr,
        "council/deliberate",
        json!({"question": "Should we ship the release on Friday?"}),
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{deliberation}");
    assert_eq!(deliberation["engine"], "llm", "{deliberation}");
    assert!(
        received.lock().expect("lock").is_empty(),
        "spans were sent before shutdown; this test could not tell the flush on stop"
    );

    server.sigterm();
    let exit = server.exited(Duration::from_secs(20)).await;
    assert!(exit.success(), "{exit}");

    let exports = received.lock().expect("lock").clone();
    assert!(!exports.is_empty(), "no spans arrived");
    for (kind, _) in &exports {
        assert_eq!(kind, "application/x-protobuf");
    }
    let resources: Vec<_> = exports
        .iter()
        .flat_map(|(_, r)| &r.resource_spans)
        .collect();
    for rs in &resources {
        let service = rs
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref());
        assert_eq!(service, Some(&Any::StringValue("optimus".to_owned())));
    }
    let spans: Vec<&Span> = resources
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .collect();
    for s in &spans {
        assert!(s.end_time_unix_nano >= s.start_time_unix_nano, "{}", s.name);
    }

    // The caller's trace continues into Optimus: the request span is its child.
    let list = spans
        .iter()
        .find(|s| hex(&s.trace_id) == list_trace)
        .expect("a span in the caller's trace");
    assert_eq!(list.name, "POST /api/v1/projects/list");
    assert_eq!(hex(&list.parent_span_id), caller_span);
    assert_eq!(list.kind, SpanKind::Server as i32);
    assert_eq!(text(list, "http.request.method"), Some("POST"));
    assert_eq!(text(list, "http.route"), Some("/api/v1/projects/list"));
    assert_eq!(
        int(list, "http.response.status_code"),
        Some(200),
        "{:?}",
        list.attributes
    );

    // The scan is a trace of its own, linked to the request that started it.
    let started = spans
        .iter()
        .find(|s| hex(&s.trace_id) == scan_trace)
        .expect("the workspaces/add request span");
    assert_eq!(started.name, "POST /api/v1/workspaces/add");
    let job = spans
        .iter()
        .find(|s| s.name == "catalog.scan")
        .expect("a job span for the scan");
    let job_label = format!("catalog.scan:{workspace}");
    assert_eq!(text(job, "job"), Some(job_label.as_str()));
    assert!(job.parent_span_id.is_empty(), "the job span is a root");
    assert_ne!(hex(&job.trace_id), scan_trace);
    assert!(
        job.links
            .iter()
            .any(|l| l.trace_id == started.trace_id && l.span_id == started.span_id),
        "the job links to the request that started it: {:?}",
        job.links
    );

    // Each persona's model call is a client span inside the deliberation's request.
    let ask = spans
        .iter()
        .find(|s| s.name == "POST /api/v1/council/deliberate")
        .expect("the deliberation's request span");
    let calls: Vec<&&Span> = spans
        .iter()
        .filter(|s| s.name == "chat trace-model")
        .collect();
    assert!(!calls.is_empty(), "no model call spans");
    for call in &calls {
        assert_eq!(call.trace_id, ask.trace_id);
        assert_eq!(call.parent_span_id, ask.span_id);
        assert_eq!(call.kind, SpanKind::Client as i32);
        assert_eq!(text(call, "gen_ai.request.model"), Some("trace-model"));
        assert_eq!(
            int(call, "gen_ai.usage.total_tokens"),
            Some(50),
            "{:?}",
            call.attributes
        );
    }
    observed(
        "requests_jobs_and_model_calls_reach_an_otlp_collector",
        &format!(
            "{} spans in {} exports at shutdown ({} model calls in the deliberation)",
            spans.len(),
            exports.len(),
            calls.len()
        ),
    );
}

/// A collector that is not there: requests are answered as usual, the lost export is logged as
/// an error, and the process still stops promptly with exit code 0.
#[tokio::test]
async fn an_unreachable_collector_costs_a_log_line_not_a_request() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let data = tempfile::tempdir().expect("data");
    let database = fresh_database(data.path()).await;
    let settings = [
        (
            "OPTIMUS_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{closed}"),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
    ];
    let mut server = serve(data.path(), &database, port_block(31500, 20), &settings).await;
    let token = setup_owner(&server.addr).await;
    for _ in 0..5 {
        let started = Instant::now();
        ok(&server.addr, "projects/list", json!({}), &token).await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a request waited on the collector"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let logged = |server: &crate::faults::Server| {
        server
            .log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains("opentelemetry") && l.contains("\"ERROR\""))
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !logged(&server) {
        assert!(
            Instant::now() < deadline,
            "the failed export was not logged"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.sigterm();
    let exit = server.exited(Duration::from_secs(20)).await;
    assert!(exit.success(), "{exit}");
}
