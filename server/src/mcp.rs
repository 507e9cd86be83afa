//! `POST /api/v1/mcp`: Optimus as a Model Context Protocol server (Streamable HTTP transport,
//! stateless, JSON answers), so AI agents can list projects and their status, read logs, start
//! and stop services, run pipelines, deploy and roll back, and ask the council.
//!
//! Each tool is one JSON API endpoint, and a call is that endpoint called through the same router
//! with the caller's own credentials: the same authentication, role and token-scope checks,
//! validation (422 naming the field), rate limit and audit as `curl` with that token would get.
//! Every tool call is also audited as `mcp.call`. `tools/list` lists only the tools the caller may
//! call. A refused or failed call is a tool result with `isError` (so the agent reads why); a
//! request without credentials is an HTTP 401.

use crate::api_guard::error_response;
use app::api::endpoint::{declared, Access};
use app::models::Operation;
use app::server::{audit, AppState, Caller};
use app::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use tower::ServiceExt;

/// The path.
pub const PATH: &str = "/api/v1/mcp";
/// Protocol versions spoken, newest first.
const VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

/// The router the tools call through (the whole application, without this extension).
#[derive(Clone)]
pub struct Inner(pub Router);

/// A tool: its name, the endpoint it calls, and whether it changes anything.
struct Tool {
    name: &'static str,
    endpoint: &'static str,
    title: &'static str,
    read_only: bool,
    destructive: bool,
}

const fn read(name: &'static str, endpoint: &'static str, title: &'static str) -> Tool {
    Tool {
        name,
        endpoint,
        title,
        read_only: true,
        destructive: false,
    }
}

const fn act(
    name: &'static str,
    endpoint: &'static str,
    title: &'static str,
    destructive: bool,
) -> Tool {
    Tool {
        name,
        endpoint,
        title,
        read_only: false,
        destructive,
    }
}

const TOOLS: [Tool; 17] = [
    read("list_projects", "projects/list", "List projects"),
    read("get_project", "projects/get", "A project and its state"),
    read(
        "github_status",
        "github/project",
        "A project's GitHub side: CI of HEAD and the default branch, open pull requests, release",
    ),
    read(
        "list_services",
        "services/list",
        "A project's services and their status",
    ),
    read(
        "get_service",
        "services/get",
        "A service and its latest run",
    ),
    read("read_logs", "services/logs", "Log lines of services"),
    act("start_service", "services/start", "Start a service", false),
    act("stop_service", "services/stop", "Stop a service", true),
    act(
        "restart_service",
        "services/restart",
        "Restart a service",
        true,
    ),
    read("list_pipelines", "pipelines/list", "A project's pipelines"),
    act("run_pipeline", "pipelines/run", "Run a pipeline", false),
    read(
        "get_pipeline_run",
        "pipelines/get_run",
        "A pipeline run and its steps",
    ),
    read(
        "list_deployments",
        "deployments/list",
        "A project's deployments",
    ),
    act("deploy", "deployments/deploy", "Deploy a project", true),
    act(
        "rollback",
        "deployments/rollback",
        "Roll back to the release before",
        true,
    ),
    act(
        "ask_council",
        "council/deliberate",
        "Ask the Council of Minds",
        false,
    ),
    read(
        "list_notifications",
        "notifications/list",
        "Recent notifications",
    ),
];

fn operation(endpoint: &str) -> Option<(Operation, &'static app::api::endpoint::Declared)> {
    let d = declared().into_iter().find(|d| d.path == endpoint)?;
    match d.access {
        Access::Op(op) => Some((op, d)),
        Access::Public => None,
    }
}

/// The OpenAPI document, parsed once.
fn document() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(crate::openapi::document_json()).unwrap_or_default())
}

/// The JSON schema of `endpoint`'s request, its references inlined.
fn input_schema(endpoint: &str) -> Value {
    let doc = document();
    let schema = &doc["paths"][format!("/api/v1/{endpoint}")]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    let components = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut s = inline(schema, &components, 0);
    if !s.is_object() || s.get("type").is_none() {
        s = json!({"type": "object", "properties": {}});
    }
    s
}

fn inline(v: &Value, components: &Map<String, Value>, depth: usize) -> Value {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                let name = r.trim_start_matches("#/components/schemas/");
                return match components.get(name) {
                    Some(s) if depth < 12 => inline(s, components, depth + 1),
                    _ => json!({}),
                };
            }
            Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), inline(v, components, depth)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| inline(v, components, depth)).collect()),
        other => other.clone(),
    }
}

fn tool_list(caller: &Caller) -> Value {
    let tools: Vec<Value> = TOOLS
        .iter()
        .filter_map(|t| {
            let (op, d) = operation(t.endpoint)?;
            caller.authorize(op).ok()?;
            let description = d.docs.join("\n").trim().to_owned();
            Some(json!({
                "name": t.name,
                "title": t.title,
                "description": format!("{description}\n\n(The JSON API's `{}`.)", t.endpoint),
                "inputSchema": input_schema(t.endpoint),
                "annotations": {
                    "title": t.title,
                    "readOnlyHint": t.read_only,
                    "destructiveHint": t.destructive,
                    "openWorldHint": false,
                },
            }))
        })
        .collect();
    json!({ "tools": tools })
}

fn rpc_error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message.into()}})
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// `GET`: no server-initiated stream is offered.
pub async fn get_mcp() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, HeaderValue::from_static("POST"))],
        "POST JSON-RPC messages here",
    )
        .into_response()
}

/// Whether a browser `Origin` may call: only pages of Optimus itself (the same host and port as
/// the request was sent to). Agents send no `Origin`.
fn origin_allowed(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    // `scheme://host[:port]`, as browsers send it (default ports left out, like `Host`).
    let Some(seen) = origin.to_str().ok().and_then(|o| o.split_once("://")) else {
        return false;
    };
    seen.1.trim_end_matches('/').to_ascii_lowercase() == host
}

/// The handler.
pub async fn post_mcp(
    State(state): State<AppState>,
    Extension(inner): Extension<Inner>,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied();
    if !origin_allowed(&headers) {
        return error_response(&AppError::forbidden(
            "MCP requests from web pages other than Optimus's own are not accepted",
        ));
    }
    if let Some(v) = headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
    {
        if !VERSIONS.contains(&v) {
            return error_response(&AppError::validation(
                "MCP-Protocol-Version",
                format!(
                    "{v} is not spoken here (use one of {})",
                    VERSIONS.join(", ")
                ),
            ));
        }
    }
    let caller = match authenticate(&state, &headers, peer).await {
        Ok(c) => c,
        Err(e) => {
            let mut res = error_response(&e);
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"optimus\""),
            );
            return res;
        }
    };
    let limit = state.settings.max_body_bytes;
    let Ok(bytes) = to_bytes(body, limit).await else {
        return error_response(&AppError::PayloadTooLarge {
            limit_bytes: limit as u64,
        });
    };
    let message: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &rpc_error(Value::Null, -32700, format!("not JSON: {e}")),
            )
        }
    };
    let Some(m) = message.as_object() else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &rpc_error(
                Value::Null,
                -32600,
                "send one JSON-RPC message (batches are not taken)",
            ),
        );
    };
    let method = m.get("method").and_then(Value::as_str).unwrap_or_default();
    let Some(id) = m.get("id").cloned() else {
        // A notification (`notifications/initialized`) or a response: nothing to answer.
        return StatusCode::ACCEPTED.into_response();
    };
    if m.get("jsonrpc").and_then(Value::as_str) != Some("2.0") || method.is_empty() {
        return json_response(
            StatusCode::BAD_REQUEST,
            &rpc_error(id, -32600, "not a JSON-RPC 2.0 request"),
        );
    }
    let params = m.get("params").cloned().unwrap_or(Value::Null);
    let result = match method {
        "initialize" => {
            let asked = params["protocolVersion"].as_str().unwrap_or_default();
            let version = if VERSIONS.contains(&asked) {
                asked
            } else {
                VERSIONS[0]
            };
            json!({
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {"name": "optimus", "title": "Optimus", "version": env!("CARGO_PKG_VERSION")},
                "instructions": "Optimus catalogs, runs, deploys and backs up software projects. \
                    Every tool acts as the API token you connected with, within its role and scopes.",
            })
        }
        "ping" => json!({}),
        "tools/list" => tool_list(&caller),
        "tools/call" => match call(&state, &inner, &headers, peer, &caller, &params).await {
            Ok(r) => r,
            Err(why) => return json_response(StatusCode::OK, &rpc_error(id, -32602, why)),
        },
        _ => {
            return json_response(
                StatusCode::OK,
                &rpc_error(id, -32601, format!("no method `{method}`")),
            )
        }
    };
    json_response(
        StatusCode::OK,
        &json!({"jsonrpc": "2.0", "id": id, "result": result}),
    )
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<ConnectInfo<SocketAddr>>,
) -> Result<Caller, AppError> {
    let ctx = app::server::context::RequestCtx::new(
        headers.clone(),
        peer.map(|c| c.0),
        state.settings.trust_forwarded_for,
    );
    Ok(app::server::accounts::caller::authenticate(state, &ctx).await?)
}

/// Calls a tool: its endpoint through the router, as the caller. `Err` for a call that names
/// no tool or is malformed (a protocol error, not a tool result).
async fn call(
    state: &AppState,
    inner: &Inner,
    headers: &HeaderMap,
    peer: Option<ConnectInfo<SocketAddr>>,
    caller: &Caller,
    params: &Value,
) -> Result<Value, String> {
    let name = params["name"].as_str().unwrap_or_default();
    let Some(tool) = TOOLS.iter().find(|t| t.name == name) else {
        return Err(format!("no tool `{name}`"));
    };
    let arguments = match &params["arguments"] {
        Value::Null => json!({}),
        a @ Value::Object(_) => a.clone(),
        _ => return Err("`arguments` must be an object".to_owned()),
    };
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/{}", tool.endpoint))
        .header(header::CONTENT_TYPE, "application/json");
    for h in [header::AUTHORIZATION, header::COOKIE, header::HOST] {
        if let Some(v) = headers.get(&h) {
            request = request.header(h, v);
        }
    }
    for h in ["x-forwarded-for", "x-real-ip"] {
        if let Some(v) = headers.get(h) {
            request = request.header(h, v);
        }
    }
    let (status, body) = match request.body(Body::from(arguments.to_string())) {
        Ok(mut r) => {
            // The caller's address, for the endpoint's audit entry and rate-limit budget.
            if let Some(p) = peer {
                r.extensions_mut().insert(p);
            }
            match inner.0.clone().oneshot(r).await {
                Ok(res) => {
                    let status = res.status();
                    let bytes = to_bytes(res.into_body(), 16 * 1024 * 1024)
                        .await
                        .unwrap_or_default();
                    (
                        status,
                        serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
                    )
                }
                Err(e) => match e {},
            }
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": format!("could not build the call: {e}")}),
        ),
    };
    let ok = status.is_success();
    let outcome = if ok {
        "ok".to_owned()
    } else {
        format!("error {}", status.as_u16())
    };
    if let Err(e) = audit::record(
        state,
        caller.into(),
        "mcp.call",
        &format!("tool:{}", tool.name),
        &outcome,
    )
    .await
    {
        tracing::warn!(error = %AppError::from(e), "could not audit an MCP tool call");
    }
    let text = if ok {
        serde_json::to_string_pretty(&body).unwrap_or_default()
    } else {
        let why = serde_json::from_value::<AppError>(body.clone())
            .map(|e| e.to_string())
            .unwrap_or_else(|_| "refused".to_owned());
        format!(
            "{} {}: {why}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        )
    };
    let structured = match body {
        Value::Object(_) => body,
        other => json!({ "result": other }),
    };
    Ok(json!({
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured,
        "isError": !ok,
    }))
}
