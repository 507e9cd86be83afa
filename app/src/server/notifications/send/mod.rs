//! Sending one delivery through its channel: a signed webhook or a Slack-compatible incoming
//! webhook ([`http`]), or an email ([`email`]). Each answers with what happened, never an error:
//! the caller logs it and decides whether to try again.

mod email;
mod http;

pub use email::default_port;

use crate::models::notifications::ChannelConfig;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;

/// How long one attempt may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// What is sent: a copy of the notification as the delivery holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// The delivery (`webhook-id` is `msg_<id>`, the same on every retry).
    #[serde(skip)]
    pub delivery_id: i64,
    /// The notification's id in Optimus (none for a test).
    pub notification_id: Option<i64>,
    /// Its kind.
    pub kind: String,
    /// `info`, `warning` or `error`.
    pub level: String,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
    /// The project.
    pub project_id: Option<i64>,
    /// The service.
    pub service_id: Option<i64>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The HTTP status or SMTP reply code answered, if any.
    pub status: Option<i32>,
    /// Why it failed; `None` when delivered.
    pub error: Option<String>,
    /// How long the receiver asked to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// Whether trying again cannot help (an SMTP 5xx reply).
    pub permanent: bool,
}

impl Sent {
    fn ok(status: Option<i32>) -> Self {
        Self {
            status,
            error: None,
            retry_after: None,
            permanent: false,
        }
    }

    fn failed(status: Option<i32>, error: impl Into<String>) -> Self {
        Self {
            status,
            error: Some(error.into()),
            retry_after: None,
            permanent: false,
        }
    }
}

/// Sends `m` through a channel configured as `config`, within twice [`TIMEOUT`] whatever the
/// receiver does (a server that stops answering half-way included).
pub async fn send(config: &ChannelConfig, m: &Message) -> Sent {
    match tokio::time::timeout(TIMEOUT * 2, sending(config, m)).await {
        Ok(sent) => sent,
        Err(_) => Sent::failed(
            None,
            format!("no answer within {} s", (TIMEOUT * 2).as_secs()),
        ),
    }
}

async fn sending(config: &ChannelConfig, m: &Message) -> Sent {
    match config {
        ChannelConfig::Webhook { url, secret } => {
            http::webhook(url, secret.as_deref().unwrap_or_default(), m).await
        }
        ChannelConfig::Slack { url } => http::slack(url, m).await,
        ChannelConfig::Email { .. } => email::send(config, m).await,
    }
}

/// Cuts an error message to a size worth storing.
fn short(s: impl AsRef<str>) -> String {
    let s = s.as_ref().trim();
    let mut out: String = s.chars().take(500).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}
