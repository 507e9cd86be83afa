//! The server-side error, and the one place it becomes a wire error.
//!
//! Services return `Result<T, ServerError>`. Errors a client can act on travel inside
//! `ServerError::App` unchanged; everything else (database, Redis, I/O, hashing) is logged here,
//! once, with its cause, and reaches the client as a bare `Internal` or `Unavailable`.

use crate::error::AppError;

/// Anything that can go wrong while serving a request or running a worker.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// An error the client can act on.
    #[error(transparent)]
    App(#[from] AppError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Redis failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// File or process I/O failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A blocking task panicked or was cancelled.
    #[error("task: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// Signing or checking a token failed for a reason other than bad input.
    #[error("jwt: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// A stored JSON value could not be decoded (the message names table, row and column).
    #[error(transparent)]
    Stored(#[from] crate::server::stored::Undecodable),
    /// Anything else, with context.
    #[error("{0}")]
    Other(String),
}

impl From<ServerError> for AppError {
    fn from(err: ServerError) -> Self {
        match err {
            ServerError::App(app) => app,
            // Already logged where it was met; the client learns which row to repair.
            ServerError::Stored(e) => AppError::conflict(format!("{e}; update or delete it")),
            ServerError::Db(e) if crate::server::db::is_unavailable(&e) => {
                tracing::error!(error = %e, "database unavailable");
                AppError::Unavailable {
                    message: "database unavailable".into(),
                }
            }
            other => {
                tracing::error!(error = %other, "internal error");
                AppError::Internal
            }
        }
    }
}

/// Shorthand for service results.
pub type ServerResult<T> = Result<T, ServerError>;

impl axum::response::IntoResponse for AppError {
    /// The JSON error with its status, and `Retry-After` on 429.
    fn into_response(self) -> axum::response::Response {
        use http::{header, HeaderValue, StatusCode};
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body =
            serde_json::to_string(&self).unwrap_or_else(|_| r#"{"error":"internal"}"#.into());
        let mut res = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        if let AppError::RateLimited { retry_after_secs } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}
