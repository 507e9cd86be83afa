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
