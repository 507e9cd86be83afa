//! Operations endpoints: liveness, readiness and Prometheus metrics.

use app::server::{db, AppState};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

/// `GET /healthz`: 200 while the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The readiness report.
#[derive(Debug, Serialize)]
pub struct Readiness {
    /// `ok` or `unreachable`.
    pub database: &'static str,
    /// `ok`, `unreachable` or `not_configured`.
    pub redis: &'static str,
    /// This instance's id (the owner named by the services it supervises).
    pub instance: String,
}

/// `GET /readyz`: 200 when the database (and Redis, if configured) answer; 503 naming the one
/// that does not.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let db_ok = db::ping(&state.db).await;
    let redis = match &state.redis {
        None => "not_configured",
        Some(r) if r.ping().await => "ok",
        Some(_) => "unreachable",
    };
    let report = Readiness {
        database: if db_ok { "ok" } else { "unreachable" },
        redis,
        instance: state.instance.id.clone(),
    };
    let status = if db_ok && redis != "unreachable" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (open, idle, max) = db::pool_usage(&state.db);
    state.metrics.set_pool(open, idle, max);
    if let Some(redis) = &state.redis {
        state.metrics.redis_up.set(i64::from(redis.is_healthy()));
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
