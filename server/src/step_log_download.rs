//! `GET /api/v1/pipelines/step_log/download?run_id=…&step=…[&attempt=…]`: a step's whole kept
//! log as a text file. A plain GET so a browser link and `curl -O` both work.

use crate::api_guard::error_response;
use app::models::pipelines::StepLogRequest;
use app::models::runtime::LogStream;
use app::server::pipelines::running;
use app::server::{AppState, Caller};
use app::AppError;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The route: path and documentation.
pub const ROUTE: crate::openapi::GetRoute = crate::openapi::GetRoute {
    path: "/api/v1/pipelines/step_log/download",
    summary: "Download a pipeline step's whole log as text",
    description: "Query parameters: `run_id`, `step` and `attempt` (default: the latest). One \
        line per output line: `<RFC 3339 time> <stdout|stderr> <text>`, secrets masked.",
    operation: app::models::access::Operation::ReadPipelines,
    errors: &[
        ("400", "A bad query parameter"),
        ("404", "No such run, or no such step in it"),
        ("422", "No such attempt of the step"),
    ],
    params: &[
        crate::openapi::QueryParam {
            name: "run_id",
            required: true,
            integer: true,
            pattern: None,
            description: "The run",
        },
        crate::openapi::QueryParam {
            name: "step",
            required: true,
            integer: false,
            pattern: None,
            description: "The step's name",
        },
        crate::openapi::QueryParam {
            name: "attempt",
            required: false,
            integer: true,
            pattern: None,
            description: "The attempt (default: the latest)",
        },
    ],
};

/// Query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    run_id: i64,
    step: String,
    /// Any integer: one that is no attempt of the step is refused by the step log itself (422).
    attempt: Option<i64>,
}

/// The handler.
pub async fn download_step_log(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(e) = caller.authorize(ROUTE.operation) {
        return error_response(&e);
    }
    let params: Params = match serde_urlencoded::from_str(query.as_deref().unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return error_response(&AppError::validation("query", e.to_string())),
    };
    let req = StepLogRequest {
        run_id: params.run_id,
        step: params.step.clone(),
        tail: None,
        attempt: params.attempt.map(|a| u32::try_from(a).unwrap_or(u32::MAX)),
    };
    let log = match running::step_log(&state, &caller, req).await {
        Ok(l) => l,
        Err(e) => return error_response(&AppError::from(e)),
    };
    let mut body = String::new();
    for l in &log.lines {
        let stream = match l.stream {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
        };
        body.push_str(&l.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        body.push(' ');
        body.push_str(stream);
        body.push(' ');
        body.push_str(&l.text);
        body.push('\n');
    }
    let safe: String = params
        .step
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let name = format!("run-{}-{safe}-{}.log", log.run_id, log.attempt);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}
