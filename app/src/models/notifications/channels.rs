//! Notifications that leave Optimus: channels (a signed webhook, a Slack-compatible incoming
//! webhook, email over SMTP), the rules that route notifications to them, maintenance windows,
//! and the delivery log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Kinds of channel.
pub const CHANNEL_KINDS: [&str; 3] = ["webhook", "slack", "email"];

/// Kinds of notification a rule may name (`test` is what "send test" sends).
pub const EVENT_KINDS: [&str; 12] = [
    "pipeline_failed",
    "pipeline_approval",
    "deployment_succeeded",
    "deployment_rolled_back",
    "backup_failed",
    "backup_stale",
    "crash_loop",
    "log_trouble",
    "alert",
    "alert_resolved",
    "council_decided",
    "test",
];

/// What a delivery can be: waiting to be (re)tried, done, given up on, or never sent because a
/// maintenance window muted it or it repeated one sent shortly before.
pub const DELIVERY_STATUSES: [&str; 5] = ["pending", "delivered", "dead", "muted", "suppressed"];

/// SMTP connection security.
pub const SMTP_SECURITY: [&str; 3] = ["starttls", "tls", "none"];

/// Where a channel sends, with its secrets. Stored sealed; never shown back in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    /// A JSON POST signed per the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature: v1,<base64 HMAC-SHA256>`).
    Webhook {
        /// `http(s)://…` to POST to.
        url: String,
        /// The signing secret, `whsec_<base64>` (24–64 bytes); made for you when absent and shown
        /// once in the answer.
        #[serde(default)]
        secret: Option<String>,
    },
    /// A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Discord's `/slack`).
    Slack {
        /// The incoming webhook's URL (it holds its token).
        url: String,
    },
    /// Email over SMTP.
    Email {
        /// The SMTP server.
        host: String,
        /// Its port (default 587 with `starttls`, 465 with `tls`, 25 with `none`).
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 65535))]
        port: Option<u16>,
        /// `starttls` (default), `tls`, or `none` (only to a loopback host).
        #[serde(default)]
        security: Option<String>,
        /// User name to log in with (with `password`).
        #[serde(default)]
        username: Option<String>,
        /// Password to log in with.
        #[serde(default)]
        password: Option<String>,
        /// The sender, `Optimus <optimus@example.com>`.
        from: String,
        /// Recipients (1–20).
        to: Vec<String>,
    },
}

/// A channel as shown: its secrets are not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelInfo {
    /// Its id.
    pub id: i64,
    /// Its unique name.
    pub name: String,
    /// `webhook`, `slack` or `email`.
    pub kind: String,
    /// Where it sends, without tokens or passwords (`https://hooks.example.com/…`).
    pub target: String,
    /// Whether rules send to it.
    pub enabled: bool,
    /// Who added it.
    pub created_by: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Deliveries waiting to be (re)tried.
    pub pending: u64,
    /// Deliveries given up on (the dead-letter list).
    pub dead: u64,
}

/// A new channel and, for a webhook whose secret Optimus made, that secret: shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelCreated {
    /// The channel.
    pub channel: ChannelInfo,
    /// The webhook signing secret Optimus made; never shown again.
    pub secret: Option<String>,
}

/// Adds a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateChannelRequest {
    /// A unique name (1–100 characters).
    pub name: String,
    /// Where and how it sends.
    pub config: ChannelConfig,
    /// Whether rules send to it (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Changes a channel: what is given changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateChannelRequest {
    /// The channel.
    pub id: i64,
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether rules send to it.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// A whole new configuration (its secrets included).
    #[serde(default)]
    pub config: Option<ChannelConfig>,
}

/// Names a channel, a rule, a maintenance window or a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ItemRequest {
    /// Its id.
    pub id: i64,
}

/// A rule: these notifications go to that channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleInfo {
    /// Its id.
    pub id: i64,
    /// The channel.
    pub channel_id: i64,
    /// Only this project's notifications; every project's (and Optimus's own) without one.
    pub project_id: Option<i64>,
    /// Only these kinds; every kind when empty.
    pub kinds: Vec<String>,
    /// At least this level: `info`, `warning` or `error`.
    pub min_level: String,
    /// A notification repeating one sent to the channel within this many seconds (same kind,
    /// project, service and title) is not sent again; 0 sends every one.
    pub dedup_secs: i64,
    /// Who added it.
    pub created_by: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Adds a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateRuleRequest {
    /// The channel.
    pub channel_id: i64,
    /// Only this project's notifications (default: every project's).
    #[serde(default)]
    pub project_id: Option<i64>,
    /// Only these kinds (default: every kind): `pipeline_failed`, `pipeline_approval`,
    /// `deployment_succeeded`, `deployment_rolled_back`, `backup_failed`, `backup_stale`, `crash_loop`,
    /// `log_trouble`, `alert`, `alert_resolved`, `council_decided`.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// At least this level (default `info`).
    #[serde(default)]
    pub min_level: Option<String>,
    /// Repeats within this many seconds are not sent again (0–86,400; default 600).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 86400))]
    pub dedup_secs: Option<u32>,
}

/// Lists rules, of one channel or all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RulesRequest {
    /// Only this channel's.
    #[serde(default)]
    pub channel_id: Option<i64>,
}

/// A maintenance window: notifications are not sent out during it (they still reach the bell).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MuteInfo {
    /// Its id.
    pub id: i64,
    /// The project muted; every project and Optimus itself without one.
    pub project_id: Option<i64>,
    /// From.
    pub starts_at: DateTime<Utc>,
    /// Until.
    pub ends_at: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// Who.
    pub created_by: Option<String>,
    /// Whether it is on now.
    pub active: bool,
}

/// Adds a maintenance window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateMuteRequest {
    /// The project (default: every project).
    #[serde(default)]
    pub project_id: Option<i64>,
    /// From (default now).
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// Until; or give `minutes`.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// How long from `starts_at` (1–43,200 minutes: 30 days).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 43200))]
    pub minutes: Option<u32>,
    /// Why (1–500 characters).
    pub reason: String,
}

/// Lists maintenance windows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MutesRequest {
    /// Also those that have ended.
    #[serde(default)]
    pub include_past: bool,
}

/// One attempt at a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttemptInfo {
    /// 1 for the first.
    pub attempt: i32,
    /// When.
    pub at: DateTime<Utc>,
    /// The HTTP status (or SMTP reply code) answered, if any.
    pub status_code: Option<i32>,
    /// How long it took.
    pub latency_ms: i64,
    /// `delivered`, `retry` or `dead`.
    pub outcome: String,
    /// Why it failed.
    pub error: Option<String>,
}

/// A delivery of one notification to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryInfo {
    /// Its id (also the webhook's `webhook-id`, `msg_<id>`, the same on every retry).
    pub id: i64,
    /// The channel.
    pub channel_id: i64,
    /// The channel's name.
    pub channel_name: String,
    /// The notification it carries (none for a test).
    pub notification_id: Option<i64>,
    /// The notification's kind.
    pub kind: String,
    /// Its level.
    pub level: String,
    /// Its title.
    pub title: String,
    /// Its project.
    pub project_id: Option<i64>,
    /// `pending`, `delivered`, `dead`, `muted` or `suppressed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is tried next (pending ones).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure, or why it was not sent.
    pub last_error: Option<String>,
    /// The last HTTP status (or SMTP reply code).
    pub last_status: Option<i32>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Every attempt (filled when one delivery is asked for).
    #[serde(default)]
    pub log: Vec<AttemptInfo>,
}

/// Lists deliveries, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveriesRequest {
    /// Only this channel's.
    #[serde(default)]
    pub channel_id: Option<i64>,
    /// Only those with this status (`dead` is the dead-letter list).
    #[serde(default)]
    pub status: Option<String>,
    /// Only those with an id below this (the next page).
    #[serde(default)]
    pub before: Option<i64>,
    /// At most this many (1–200, default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}
