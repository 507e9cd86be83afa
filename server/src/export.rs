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
    params: &[
        crate::openapi::QueryParam {
            name: "format",
            required: false,
            integer: false,
            pattern: Some(r"^(csv|json)?$"),
            description: "`csv` (default) or `json`",
        },
        crate::openapi::QueryParam {
            name: "search",
            required: false,
            integer: false,
            pattern: Some(r"^[\s\S]{0,200}$"),
            description: "Words that must all appear (at most 200 characters)",
        },
        crate::openapi::QueryParam {
            name: "q",
            required: false,
            integer: false,
            pattern: Some(r"^[\s\S]{0,200}$"),
            description: "Same as `search`",
        },
        crate::openapi::QueryParam {
            name: "stack",
            required: false,
            integer: false,
            pattern: Some(
                r"^ *(rust|node|deno|python|go|java|kotlin|ruby|php|dotnet|elixir|static|docker)? *$",
            ),
            description: "One stack",
        },
        crate::openapi::QueryParam {
            name: "tag",
            required: false,
            integer: false,
            pattern: Some(r"^ *([A-Za-z0-9._-]{1,32})? *$"),
            description: "One tag",
        },
        crate::openapi::QueryParam {
            name: "favorite",
            required: false,
            integer: false,
            pattern: Some(r"^(1|true|0|false)?$"),
            description: "Favorites only, or none",
        },
        crate::openapi::QueryParam {
            name: "archived",
            required: false,
            integer: false,
            pattern: Some(r"^(1|true|0|false)?$"),
            description: "Archived instead of active",
        },
        crate::openapi::QueryParam {
            name: "git",
            required: false,
            integer: false,
            pattern: Some(r"^ *(dirty|clean|ahead|behind|none)? *$"),
            description: "Git state",
        },
        crate::openapi::QueryParam {
            name: "status",
            required: false,
            integer: false,
            pattern: Some(r"^ *(present|missing)? *$"),
            description: "Whether the folder is there",
        },
        crate::openapi::QueryParam {
            name: "sort",
            required: false,
            integer: false,
            pattern: Some(r"^ *(name|last_commit|last_scanned|status)? *$"),
            description: "Order",
        },
        crate::openapi::QueryParam {
            name: "workspace_id",
            required: false,
            integer: true,
            pattern: None,
            description: "One workspace",
        },
    ],
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
    /// An integer; a whole float (`3.0`) counts as one, as JSON Schema has it.
    workspace_id: Option<String>,
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
    let workspace_id = match params.workspace_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(w) => match w.parse::<i64>().ok().or_else(|| {
            // Every f64 in this range with no fraction is exactly an i64.
            w.parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        }) {
            Some(id) => Some(id),
            None => {
                return error_response(&AppError::validation("workspace_id", "must be an integer"))
            }
        },
    };
    let format = params
        .format
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "json" {
        return error_response(&AppError::validation("format", "must be csv or json"));
    }
    let result = catalog::export_projects(
        &state,
        &caller,
        ProjectQuery {
            search: params.search.or(params.q),
            stack: params.stack,
            workspace_id,
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
