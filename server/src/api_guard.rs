//! The gate in front of every `/api/v1` request:
//! - enforces each caller's request budget (per token, else per client address);
//! - bounds the body size, and refuses malformed JSON, unknown fields, missing fields, wrong
//!   types and anything else the endpoint's published schema forbids (`request_schema`) with a
//!   400 naming the field, before any server function runs;
//! - gives server-function errors their proper HTTP status (server functions themselves always
//!   answer 500 on error) and a `Retry-After` on 429.

use crate::openapi::request_rules;
use app::server::accounts::opaque;
use app::server::AppState;
use app::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::time::Duration;

/// The header server_fn sets on error responses.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";
/// Largest error body we read back to find its status.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Builds the JSON error response for `err`.
pub fn error_response(err: &AppError) -> Response {
    err.clone().into_response()
}

fn budget_key(req: &Request, trust_forwarded_for: bool) -> String {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    if let Some(token) = bearer {
        return format!("tok:{}", &opaque::digest(&token)[..24]);
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    match app::server::context::client_ip(req.headers(), peer, trust_forwarded_for) {
        Some(ip) => format!("ip:{ip}"),
        None => "ip:unknown".into(),
    }
}

/// Whether the request carries any credential (checked properly later, by the service).
fn has_credentials(req: &Request) -> bool {
    req.headers().contains_key(header::AUTHORIZATION)
        || req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.contains(app::server::accounts::cookies::ACCESS_COOKIE))
}

/// Checks a JSON body against the endpoint's fields.
pub fn check_body(path: &str, bytes: &[u8]) -> Result<Vec<u8>, AppError> {
    let rules = request_rules()
        .get(path)
        .ok_or_else(|| AppError::not_found(format!("endpoint {path}")))?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| AppError::validation("body", "must be UTF-8 JSON"))?;
    // No body at all counts as `{}`; whitespace alone is not JSON.
    if text.is_empty() {
        if let Some((name, _)) = rules.iter().find(|(_, r)| r.required) {
            return Err(AppError::validation(name.clone(), "is required"));
        }
        return Ok(b"{}".to_vec());
    }
    let mut value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| AppError::validation("body", format!("malformed JSON: {e}")))?;
    crate::request_schema::normalise_numbers(&mut value);
    let serde_json::Value::Object(map) = &value else {
        return Err(AppError::validation("body", "must be a JSON object"));
    };
    for (key, v) in map {
        let Some(rule) = rules.get(key) else {
            // A key that is empty or not printable is named as the body's.
            let name = if key.is_empty() || key.chars().any(char::is_control) {
                "body".to_owned()
            } else {
                key.clone()
            };
            let known = rules.keys().cloned().collect::<Vec<_>>().join(", ");
            let hint = if known.is_empty() {
                "this endpoint takes no fields".to_owned()
            } else {
                format!("expected one of: {known}")
            };
            return Err(AppError::validation(
                name,
                format!("unknown field ({hint})"),
            ));
        };
        let actual = match v {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "boolean",
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            serde_json::Value::Number(_) => "number",
            serde_json::Value::String(_) => "string",
            serde_json::Value::Array(_) => "array",
            serde_json::Value::Object(_) => "object",
        };
        if !rule.types.is_empty() && !rule.types.contains(&actual) {
            return Err(AppError::validation(
                key.clone(),
                format!("must be {} (got {actual})", rule.types.join(" or ")),
            ));
        }
    }
    if let Some((name, _)) = rules
        .iter()
        .find(|(k, r)| r.required && !map.contains_key(*k))
    {
        return Err(AppError::validation(name.clone(), "is required"));
    }
    crate::request_schema::check(path, &value)?;
    serde_json::to_vec(&value).map_err(|e| AppError::validation("body", e.to_string()))
}

/// The middleware.
pub async fn api_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let key = budget_key(&req, state.settings.trust_forwarded_for);
    if let Err(retry_after_secs) = state
        .limiter
        .hit(
            &format!("api:{key}"),
            state.settings.api_rate_per_minute,
            Duration::from_secs(60),
        )
        .await
    {
        return error_response(&AppError::RateLimited { retry_after_secs });
    }
    let path = req.uri().path().to_owned();
    let declared = request_rules().contains_key(&path);
    let post = req.method() == Method::POST;
    let get_route = crate::openapi::get_routes().iter().any(|r| r.path == path)
        || path == "/api/v1/openapi.json"
        || path == "/api/v1/events"
        // Webhook deliveries: signed, not signed in; their handler reads the raw body.
        || path.starts_with(crate::hooks::PREFIX)
        // MCP: JSON-RPC, authenticated and checked by its handler, each tool call by its endpoint.
        || path == crate::mcp::PATH;
    if post && !declared && !get_route {
        return error_response(&AppError::not_found(format!("endpoint {path}")));
    }
    if post && declared && !has_credentials(&req) && !crate::openapi::is_public(&path) {
        // Who is asking comes before what is asked: no body is judged for an anonymous caller.
        return error_response(&AppError::unauthorized("sign in or send a Bearer token"));
    }
    let req = if post && declared {
        let limit = state.settings.max_body_bytes;
        let too_large = AppError::PayloadTooLarge {
            limit_bytes: limit as u64,
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return error_response(&too_large);
        }
        let (mut parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, limit).await else {
            return error_response(&too_large);
        };
        let checked = match check_body(parts.uri.path(), &bytes) {
            Ok(b) => b,
            Err(e) => return error_response(&e),
        };
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        parts.headers.remove(header::CONTENT_LENGTH);
        Request::from_parts(parts, Body::from(checked))
    } else {
        req
    };
    let res = next.run(req).await;
    if !res.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = to_bytes(body, MAX_ERROR_BODY).await.unwrap_or_default();
    match serde_json::from_slice::<AppError>(&bytes) {
        Ok(err) => {
            let mut res = error_response(&err);
            res.headers_mut()
                .insert(SERVER_FN_ERROR_HEADER, HeaderValue::from_static("1"));
            res
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<Vec<u8>, AppError>) -> Option<String> {
        match r {
            Err(AppError::Validation { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn unknown_fields_are_named() {
        let r = check_body(
            "/api/v1/auth/login",
            br#"{"username":"a","password":"b","admin":true}"#,
        );
        assert_eq!(field_of(r).as_deref(), Some("admin"));
    }

    #[test]
    fn wrong_types_are_named() {
        let r = check_body("/api/v1/auth/login", br#"{"username":5,"password":"b"}"#);
        assert_eq!(field_of(r).as_deref(), Some("username"));
    }

    #[test]
    fn missing_required_fields_are_named() {
        let r = check_body("/api/v1/auth/login", br#"{"username":"a"}"#);
        assert_eq!(field_of(r).as_deref(), Some("password"));
    }

    #[test]
    fn malformed_json_is_a_400_on_body() {
        assert_eq!(
            field_of(check_body("/api/v1/auth/login", b"{nope")).as_deref(),
            Some("body")
        );
        assert_eq!(
            field_of(check_body("/api/v1/auth/login", b"[1]")).as_deref(),
            Some("body")
        );
    }

    #[test]
    fn an_empty_body_means_no_fields() {
        assert_eq!(
            check_body("/api/v1/auth/me", b"").ok(),
            Some(b"{}".to_vec())
        );
        assert!(check_body("/api/v1/auth/me", br#"{"x":1}"#).is_err());
    }

    #[test]
    fn unknown_endpoints_are_404() {
        assert!(matches!(
            check_body("/api/v1/nope", b"{}"),
            Err(AppError::NotFound { .. })
        ));
    }

    #[test]
    fn an_optional_field_may_be_null_and_a_required_one_may_not() {
        // What the dashboard's project form sends: absent lists as `null`.
        let update = br#"{"id":1,"name":null,"tags":null,"commands":null}"#;
        assert!(check_body("/api/v1/projects/update", update).is_ok());
        let r = check_body("/api/v1/projects/update", br#"{"id":null}"#);
        assert_eq!(field_of(r).as_deref(), Some("id"));
        let r = check_body("/api/v1/projects/update", br#"{"id":1,"tags":"a"}"#);
        assert_eq!(field_of(r).as_deref(), Some("tags"));
    }
}
