//! `POST /api/v1/hooks/<pipeline id>`: a signed webhook delivery starts a pipeline run. No
//! session or token: the body's HMAC-SHA256 with the pipeline's secret, in GitHub's
//! `X-Hub-Signature-256` header, is the credential (a bad one is 401 and starts nothing); the
//! delivery id header makes a replay start nothing.

use crate::api_guard::error_response;
use app::server::pipelines::triggers::{self, Delivered};
use app::server::AppState;
use app::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The path prefix.
pub const PREFIX: &str = "/api/v1/hooks/";
/// The largest delivery taken.
const MAX_BODY: usize = 1024 * 1024;

/// The handler.
pub async fn deliver(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(pipeline_id) = id.parse::<i64>() else {
        return error_response(&AppError::not_found(format!("webhook {id}")));
    };
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return error_response(&AppError::PayloadTooLarge {
            limit_bytes: MAX_BODY as u64,
        });
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let delivery = header("x-github-delivery").or_else(|| header("x-delivery-id"));
    let result = triggers::deliver(
        &state,
        pipeline_id,
        header("x-hub-signature-256"),
        delivery,
        &bytes,
    )
    .await;
    let (status, body) = match result {
        Ok(Delivered::Started(run)) => (
            StatusCode::ACCEPTED,
            json!({"started": true, "run_id": run}),
        ),
        Ok(Delivered::Replayed(run)) => (
            StatusCode::OK,
            json!({"started": false, "run_id": run, "reason": "this delivery id started a run already"}),
        ),
        Ok(Delivered::Skipped) => (
            StatusCode::OK,
            json!({"started": false, "reason": "a run is in progress and the pipeline's concurrency is `skip`"}),
        ),
        Err(e) => return error_response(&AppError::from(e)),
    };
    (status, axum::Json(body)).into_response()
}
