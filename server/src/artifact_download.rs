//! `GET /api/v1/pipelines/artifact?run_id=…&path=…`: a file a pipeline run kept, streamed from
//! Optimus's copy (with ranges), its SHA-256 in a header. A plain GET so a browser link and
//! `curl -O` both work.

use crate::api_guard::error_response;
use app::server::pipelines::running;
use app::server::{AppState, Caller};
use app::AppError;
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower::ServiceExt;

/// The route: path and documentation.
pub const ROUTE: crate::openapi::GetRoute = crate::openapi::GetRoute {
    path: "/api/v1/pipelines/artifact",
    summary: "Download a file a pipeline run kept",
    description: "Query parameters: `run_id` and `path` (as listed in the run's `artifacts`). \
        The body is the file as the step left it; `x-checksum-sha256` carries its hex SHA-256, \
        and `Range` requests are served.",
    operation: app::models::access::Operation::ReadPipelines,
    errors: &[
        ("400", "A bad query parameter"),
        ("404", "No such run, or it kept no file at that path"),
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
            name: "path",
            required: true,
            integer: false,
            pattern: None,
            description: "The file's path relative to the step's folder",
        },
    ],
};

/// Query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    run_id: i64,
    path: String,
}

/// The handler.
pub async fn download_artifact(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    if let Err(e) = caller.authorize(ROUTE.operation) {
        return error_response(&e);
    }
    let params: Params = match serde_urlencoded::from_str(query.as_deref().unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return error_response(&AppError::validation("query", e.to_string())),
    };
    let (info, stored) = match running::artifact(&state, &caller, params.run_id, &params.path).await
    {
        Ok(found) => found,
        Err(e) => return error_response(&AppError::from(e)),
    };
    if !stored.is_file() {
        return error_response(&AppError::not_found(format!(
            "the kept copy of `{}` (it was removed from Optimus's data folder)",
            info.path
        )));
    }
    let served = match tower_http::services::ServeFile::new(&stored)
        .oneshot(request)
        .await
    {
        Ok(r) => r.map(axum::body::Body::new),
        Err(never) => match never {},
    };
    let mut response = served.into_response();
    let name = info
        .path
        .rsplit('/')
        .next()
        .unwrap_or("artifact")
        .replace('"', "");
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&info.sha256) {
        headers.insert(HeaderName::from_static("x-checksum-sha256"), v);
    }
    response
}
