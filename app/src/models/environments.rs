//! Per-project environments (development, staging, production, …) and their variables. Secret
//! values are encrypted at rest and masked unless the caller may read secrets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvVar {
    /// Name.
    pub key: String,
    /// Value; null for a secret the caller may not read.
    pub value: Option<String>,
    /// Whether the value is secret (encrypted at rest, masked, redacted from logs).
    pub secret: bool,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An environment with its variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentInfo {
    /// Environment id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// Name, e.g. `development`.
    pub name: String,
    /// Whether services get its variables.
    pub active: bool,
    /// Variables by name.
    pub vars: Vec<EnvVar>,
}

/// A project's environments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentsRequest {
    /// The project.
    pub project_id: i64,
    /// Show secret values (needs the admin role, or a token with `read:secrets`).
    #[serde(default)]
    pub reveal: bool,
}

/// Adds an environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateEnvironmentRequest {
    /// The project.
    pub project_id: i64,
    /// 1–40 of `a-z 0-9 - _` (a project already holding 20 environments: 422; one of that
    /// name: 409).
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[a-z0-9_-]{1,40}$"))]
    pub name: String,
}

/// Names one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentRequest {
    /// The environment.
    pub id: i64,
}

/// Sets one variable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetVarRequest {
    /// The environment.
    pub environment_id: i64,
    /// Name: letters, digits and `_`, not starting with a digit (at most 128). In an environment
    /// already holding 500 variables: 422.
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"))]
    pub key: String,
    /// Value: at most 32768 characters, no NUL.
    #[cfg_attr(feature = "ssr", schema(max_length = 32768, pattern = r"^[^\x00]*$"))]
    pub value: String,
    /// Keep it secret.
    #[serde(default)]
    pub secret: bool,
}

/// Removes one variable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeleteVarRequest {
    /// The environment.
    pub environment_id: i64,
    /// Name.
    pub key: String,
}

/// Imports variables from a `.env` file in the project folder, or from text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportDotenvRequest {
    /// The environment.
    pub environment_id: i64,
    /// A file inside the project folder (default `.env`); read only, never changed. Outside
    /// the folder, missing, unreadable or larger than 1 MiB: 422.
    #[serde(default)]
    pub path: Option<String>,
    /// `.env` text to import instead of a file (together with `path`: 422). An entry that does
    /// not parse, a name that is not letters, digits and `_` not starting with a digit (at most
    /// 128), a value over 32768 characters or holding a NUL, or more than 500 variables: 422.
    #[serde(default)]
    pub content: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DotenvImported {
    /// Variables added.
    pub added: u32,
    /// Variables whose value changed.
    pub updated: u32,
    /// Names kept secret (they look like credentials: `*SECRET*`, `*TOKEN*`, `*PASSWORD*`, `*KEY*`, …).
    pub secret: Vec<String>,
}

/// An environment as `.env` text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DotenvExport {
    /// The text. Secret values appear only for callers who may read secrets.
    pub content: String,
    /// Whether secret values were withheld.
    pub secrets_withheld: bool,
}

/// One difference between what a running service started with and what it would start with now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SpecChange {
    /// What changed: `command`, `cwd`, `port` or `env NAME`.
    pub what: String,
    /// Before (secret values masked).
    pub before: Option<String>,
    /// After (secret values masked).
    pub after: Option<String>,
}
