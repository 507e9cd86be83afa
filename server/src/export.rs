//! `GET /api/v1/projects/export?format=csv|json&…`: the filtered project list as a download.
//! A plain GET (not a server function) so a browser link and `curl -O` both work.

use crate::api_guard::error_response;
use app::models::catalog::ProjectQuery;
use app::server::catalog;
use app::server::{AppState, Caller};
use app::AppError;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The route: path and documentation.
pub const ROUTE: crate::openapi::GetRoute = crate::openapi::GetRoute {
    path: "/api/v1/projects/export",
    summary: "Download the filtered project list as CSV or JSON",
    description: "Query parameters: `format` (`csv`, default, or `json`) and the projects page's \
        filters: `q` (or `search`), `stack`, `tag`, `favorite` and `archived` (1, true, 0 or \
        false), `git`, `status`, `sort`, `workspace_id`. All pages of the filtered list.",
    operation: app::models::access::Operation::ReadCatalog,
    errors: &[("400", "A bad query parameter (named)")],
};

/// Query parameters: the list filters plus `format`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportParams {
    format: Option<String>,
    search: Option<String>,
    q: Option<String>,
    stack: Option<String>,
    tag: Option<String>,
    favorite: Option<String>,
    archived: Option<String>,
    git: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    workspace_id: Option<i64>,
}

/// The handler.
pub async fn export_projects(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(e) = caller.authorize(ROUTE.operation) {
        return error_response(&e);
    }
    let params: ExportParams =
        match serde_urlencoded::from_str(query.as_deref().unwrap_or_default()) {
            Ok(p) => p,
            Err(e) => return error_response(&AppError::validation("query", e.to_string())),
        };
    let flag = |field: &str, raw: Option<&str>| -> Result<Option<bool>, AppError> {
        match raw {
            None | Some("") => Ok(None),
            Some("1" | "true") => Ok(Some(true)),
            Some("0" | "false") => Ok(Some(false)),
            Some(_) => Err(AppError::validation(field, "must be 1, true, 0 or false")),
        }
    };
    let (favorite, archived) = match (
        flag("favorite", params.favorite.as_deref()),
        flag("archived", params.archived.as_deref()),
    ) {
        (Ok(f), Ok(a)) => (f, a),
        (Err(e), _) | (_, Err(e)) => return error_response(&e),
    };
    let format = params.format.clone().unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "json" {
        return error_response(&AppError::validation("format", "must be csv or json"));
    }
    let result = catalog::export_projects(
        &state,
        &caller,
        ProjectQuery {
            search: params.search.or(params.q),
            stack: params.stack,
            workspace_id: params.workspace_id,
            tag: params.tag,
            favorite,
            archived,
            git: params.git,
            status: params.status,
            sort: params.sort,
            cursor: None,
            limit: None,
        },
    )
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
