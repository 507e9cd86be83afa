//! `GET /api/v1/services/logs/download?service_id=…[&run_id=…]`: one run's whole log as a text
//! file. A plain GET (not a server function) so a browser link and `curl -O` both work.

use crate::api_guard::error_response;
use app::server::auth::authenticate;
use app::server::services::runtime;
use app::server::{AppState, RequestCtx};
use app::AppError;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params: Params = match serde_urlencoded::from_str(query.as_deref().unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return error_response(&AppError::validation("query", e.to_string())),
    };
    let ctx = RequestCtx::new(headers, Some(peer), state.settings.trust_forwarded_for);
    let result = async {
        let caller = authenticate(&state, &ctx).await?;
        runtime::log_download(&state, &caller, params.service_id, params.run_id).await
    }
    .await;
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
