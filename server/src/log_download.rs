//! `GET /api/v1/services/logs/download?service_id=…[&run_id=…]`: one run's whole log as a text
//! file. A plain GET (not a server function) so a browser link and `curl -O` both work.

use crate::api_guard::error_response;
use app::server::runtime;
use app::server::{AppState, Caller};
use app::AppError;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The route: path and documentation.
pub const ROUTE: crate::openapi::GetRoute = crate::openapi::GetRoute {
    path: "/api/v1/services/logs/download",
    summary: "Download one run's whole log as text",
    description: "Query parameters: `service_id` (required) and `run_id` (default: the latest \
        run). One line per output line: `<RFC 3339 time> <stdout|stderr> <text>`.",
    operation: app::models::access::Operation::ReadRuntime,
    errors: &[
        ("400", "A bad query parameter"),
        ("404", "No such service, or no such run of it"),
    ],
    params: &[
        crate::openapi::QueryParam {
            name: "service_id",
            required: true,
            integer: true,
            pattern: None,
            description: "The service",
        },
        crate::openapi::QueryParam {
            name: "run_id",
            required: false,
            integer: true,
            pattern: None,
            description: "The run (default: the latest)",
        },
    ],
};

/// Query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    service_id: i64,
    run_id: Option<i64>,
}

/// The handler.
pub async fn download_logs(
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
    let result = runtime::log_download(&state, &caller, params.service_id, params.run_id).await;
    let (name, body) = match result {
        Ok(r) => r,
        Err(e) => return error_response(&AppError::from(e)),
    };
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
