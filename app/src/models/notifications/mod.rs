//! The in-app notification centre: alerts and other things people should notice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Levels a notification may have.
pub const LEVELS: [&str; 3] = ["info", "warning", "error"];

/// A notification as a user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationInfo {
    /// Its id (increasing).
    pub id: i64,
    /// `info`, `warning` or `error`.
    pub level: String,
    /// What kind: `alert`, `alert_resolved`, `crash_loop`, …
    pub kind: String,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
    /// The project it concerns.
    pub project_id: Option<i64>,
    /// The service it concerns.
    pub service_id: Option<i64>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Whether the caller has read it.
    pub read: bool,
}

/// Asks for notifications, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationsQuery {
    /// Only those with an id below this (the next page).
    #[serde(default)]
    pub before: Option<i64>,
    /// At most this many (1–200, default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    /// Only those the caller has not read.
    #[serde(default)]
    pub unread_only: bool,
}

/// A page of notifications and the caller's unread count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationList {
    /// Newest first.
    pub items: Vec<NotificationInfo>,
    /// How many the caller has not read.
    pub unread: u64,
}

/// Marks notifications read for the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MarkReadRequest {
    /// Everything up to this id; absent means everything so far.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 0))]
    pub up_to: Option<i64>,
}

mod channels;
pub use channels::*;
