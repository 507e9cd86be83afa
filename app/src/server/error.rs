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
    /// Anything else, with context.
    #[error("{0}")]
    Other(String),
}

impl From<ServerError> for AppError {
    fn from(err: ServerError) -> Self {
        match err {
            ServerError::App(app) => app,
            ServerError::Db(
                e @ (sea_orm::DbErr::Conn(_) | sea_orm::DbErr::ConnectionAcquire(_)),
            ) => {
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
