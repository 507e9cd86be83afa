//! The one error type that crosses the wire.
//!
//! Every server function returns `Result<T, AppError>`. Each variant is something a client can act
//! on, and carries its HTTP status. `Internal` deliberately carries no detail: the cause is logged
//! once on the server (see `server::error`) and never shown to the caller.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error a client of the API can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    /// No valid credentials were presented (401).
    #[error("authentication required: {message}")]
    Unauthorized {
        /// Why the credentials were refused.
        message: String,
    },
    /// The caller is known but may not do this (403).
    #[error("forbidden: {message}")]
    Forbidden {
        /// Which role or scope was missing.
        message: String,
    },
    /// The thing asked for does not exist (404).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// A field of the input is invalid (400).
    #[error("{field}: {message}")]
    Validation {
        /// The offending field (`body` when the request as a whole is malformed).
        field: String,
        /// Why it was refused.
        message: String,
    },
    /// The input is well-formed and every field meets the document's rules, yet it cannot be
    /// acted on: a rule across fields or against stored data (a dependency cycle, a password that
    /// is the username, a file outside the project) (422).
    #[error("{field}: {message}")]
    Unprocessable {
        /// The field the rule is about.
        field: String,
        /// Why it was refused.
        message: String,
    },
    /// The request conflicts with the current state (409).
    #[error("conflict: {message}")]
    Conflict {
        /// What the conflict is.
        message: String,
    },
    /// The request body is over the size limit (413).
    #[error("request body larger than {limit_bytes} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit_bytes: u64,
    },
    /// Too many requests; try again after the given number of seconds (429).
    #[error("too many requests, retry in {retry_after_secs}s")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// A dependency (database, network) is unavailable (503).
    #[error("service unavailable: {message}")]
    Unavailable {
        /// What is unavailable.
        message: String,
    },
    /// Something went wrong on the server; the details are in its log (500).
    #[error("internal error")]
    Internal,
}

impl AppError {
    /// The HTTP status code this error is sent with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Validation { .. } => 400,
            Self::Conflict { .. } => 409,
            Self::Unprocessable { .. } => 422,
            Self::PayloadTooLarge { .. } => 413,
            Self::RateLimited { .. } => 429,
            Self::Unavailable { .. } => 503,
            Self::Internal => 500,
        }
    }

    /// A validation error for `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A 422 for `field`: well-formed, but a rule beyond its schema refuses it.
    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A 401 with a reason.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized {
            message: message.into(),
        }
    }

    /// A 403 with a reason.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            message: message.into(),
        }
    }

    /// A 404 for `what`.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    /// A 409 with a reason.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::Deserialization(message) => {
                Self::validation("body", message)
            }
            ServerFnErrorErr::Request(message) | ServerFnErrorErr::Response(message) => {
                Self::Unavailable { message }
            }
            _ => Self::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_name_their_field_on_the_wire() {
        let json =
            serde_json::to_value(AppError::validation("password", "too short")).unwrap_or_default();
        assert_eq!(json["error"], "validation");
        assert_eq!(json["field"], "password");
        assert_eq!(AppError::validation("x", "y").status(), 400);
    }

    #[test]
    fn internal_errors_carry_no_detail() {
        let json = serde_json::to_string(&AppError::Internal).unwrap_or_default();
        assert_eq!(json, r#"{"error":"internal"}"#);
    }

    #[test]
    fn malformed_arguments_become_a_400_on_the_body() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization("eof".into()));
        assert_eq!(err.status(), 400);
    }
}
