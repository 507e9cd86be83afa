//! Service output: log lines, their streams, and the history query.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of a service's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogLine {
    /// The service.
    pub service_id: i64,
    /// The run.
    pub run_id: i64,
    /// Position in the run's log (increasing).
    pub seq: u64,
    /// When it was read.
    pub at: DateTime<Utc>,
    /// Which stream.
    pub stream: LogStream,
    /// The text (ANSI colour codes kept; `\r` progress collapsed; known secrets masked).
    pub text: String,
}

/// Asks for log history, newest last.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogQuery {
    /// Services whose lines are merged into one time-ordered view (1–20).
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 20))]
    pub service_ids: Vec<i64>,
    /// `stdout`, `stderr` or absent for both.
    #[serde(default)]
    pub stream: Option<LogStream>,
    /// Only lines containing this text (case-insensitive), or matching it when `regex` is set
    /// (at most 500 characters; with `regex`, not a valid regular expression: 422).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 500))]
    pub search: Option<String>,
    /// Treat `search` as a regular expression.
    #[serde(default)]
    pub regex: bool,
    /// At most this many lines (1–5000, default 500).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 5000))]
    pub limit: Option<u32>,
}
