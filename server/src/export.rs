//! `GET /api/v1/projects/export?format=csv|json&…`: the filtered project list as a download.
//! A plain GET (not a server function) so a browser link and `curl -O` both work.

use crate::api_guard::error_response;
use app::models::catalog::ProjectQuery;
use app::server::auth::authenticate;
use app::server::services::catalog;
use app::server::{AppState, RequestCtx};
use app::AppError;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

/// Query parameters: the list filters plus `format`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportParams {
    format: Option<String>,
    search: Option<String>,
    q: Option<String>,
    stack: Option<String>,
    tag: Option<String>,
    favorite: Option<bool>,
    archived: Option<bool>,
    git: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    workspace_id: Option<i64>,
}

/// The handler.
pub async fn export_projects(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params: ExportParams =
        match serde_urlencoded::from_str(query.as_deref().unwrap_or_default()) {
            Ok(p) => p,
            Err(e) => return error_response(&AppError::validation("query", e.to_string())),
        };
    let format = params.format.clone().unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "json" {
        return error_response(&AppError::validation("format", "must be csv or json"));
    }
    let ctx = RequestCtx::new(headers, Some(peer), state.settings.trust_forwarded_for);
    let result = async {
        let caller = authenticate(&state, &ctx).await?;
        catalog::export_projects(
            &state,
            &caller,
            ProjectQuery {
                search: params.search.or(params.q),
                stack: params.stack,
                workspace_id: params.workspace_id,
                tag: params.tag,
                favorite: params.favorite,
                archived: params.archived,
                git: params.git,
                status: params.status,
                sort: params.sort,
                cursor: None,
                limit: None,
            },
        )
        .await
    }
    .await;
    let projects = match result {
        Ok(p) => p,
        Err(e) => return error_response(&AppError::from(e)),
    };
    if format == "json" {
        let body = serde_json::to_string_pretty(&projects).unwrap_or_else(|_| "[]".into());
        return (
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"optimus-projects.json\"",
                ),
            ],
            body,
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"optimus-projects.csv\"",
            ),
        ],
        catalog::projects_csv(&projects),
    )
        .into_response()
}
