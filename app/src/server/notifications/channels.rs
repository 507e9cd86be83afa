//! Notification channels: add (its configuration checked, then sealed with the master key),
//! change, remove, list (secrets never shown: only a target without tokens), and "send test",
//! which makes one attempt now and answers with how it went.

use super::entities::{channel, notification};
use super::{outbox, repo, worker};
use crate::error::AppError;
use crate::models::notifications::{
    ChannelConfig, ChannelCreated, ChannelInfo, CreateChannelRequest, DeliveryInfo,
    UpdateChannelRequest, SMTP_SECURITY,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::error::{ServerError, ServerResult};
use crate::server::state::AppState;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::Utc;
use sea_orm::{Set, TransactionTrait};

fn invalid(field: &str, why: impl Into<String>) -> ServerError {
    AppError::unprocessable(field, why).into()
}

fn check_name(name: &str) -> ServerResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            "must be 1-100 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

fn check_url(field: &str, raw: &str) -> ServerResult<url::Url> {
    if raw.len() > 2000 {
        return Err(invalid(field, "must be at most 2,000 characters"));
    }
    let u =
        url::Url::parse(raw.trim()).map_err(|e| invalid(field, format!("is not a URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(invalid(
            field,
            "must be an http:// or https:// URL with a host",
        ));
    }
    Ok(u)
}

/// `scheme://host[:port]/…`: where it goes, without the path and query that often hold tokens
/// (at most 300 characters).
fn url_target(u: &url::Url) -> String {
    let mut t = format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default());
    if let Some(p) = u.port() {
        t.push_str(&format!(":{p}"));
    }
    if u.path() != "/" || u.query().is_some() {
        t.push_str("/…");
    }
    t.chars().take(300).collect()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", B64.encode(bytes))
}

/// Checks a configuration; the one to seal (a webhook's secret made when absent), what may be
/// shown of it, and the secret made, if any.
fn check(config: ChannelConfig) -> ServerResult<(ChannelConfig, String, Option<String>)> {
    match config {
        ChannelConfig::Webhook { url, secret } => {
            let u = check_url("config.url", &url)?;
            let (secret, made) = match secret {
                Some(s) => {
                    let ok = s
                        .strip_prefix("whsec_")
                        .and_then(|b| B64.decode(b).ok())
                        .is_some_and(|k| (24..=64).contains(&k.len()));
                    if !ok {
                        return Err(invalid(
                            "config.secret",
                            "must be whsec_ followed by 24-64 bytes in base64 (or absent: Optimus makes one)",
                        ));
                    }
                    (s, None)
                }
                None => {
                    let s = new_secret();
                    (s.clone(), Some(s))
                }
            };
            let target = url_target(&u);
            Ok((
                ChannelConfig::Webhook {
                    url: u.to_string(),
                    secret: Some(secret),
                },
                target,
                made,
            ))
        }
        ChannelConfig::Slack { url } => {
            let u = check_url("config.url", &url)?;
            let target = url_target(&u);
            Ok((ChannelConfig::Slack { url: u.to_string() }, target, None))
        }
        ChannelConfig::Email {
            host,
            port,
            security,
            username,
            password,
            from,
            to,
        } => {
            let host = host.trim().to_owned();
            if host.is_empty()
                || host.len() > 253
                || host
                    .chars()
                    .any(|c| c.is_whitespace() || c == '/' || c == '@')
            {
                return Err(invalid("config.host", "must be a host name or address"));
            }
            if port == Some(0) {
                return Err(invalid("config.port", "must be 1-65535"));
            }
            let security = security.unwrap_or_else(|| "starttls".to_owned());
            if !SMTP_SECURITY.contains(&security.as_str()) {
                return Err(invalid(
                    "config.security",
                    format!("must be starttls, tls or none (got `{security}`)"),
                ));
            }
            if security == "none" && !is_loopback(&host) {
                return Err(invalid(
                    "config.security",
                    "plain SMTP (none) is only allowed to a loopback host; use starttls or tls",
                ));
            }
            if username.is_some() != password.is_some() {
                return Err(invalid(
                    "config.password",
                    "give both username and password, or neither",
                ));
            }
            if from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(invalid(
                    "config.from",
                    format!("`{from}` is not an email address"),
                ));
            }
            if to.is_empty() || to.len() > 20 {
                return Err(invalid("config.to", "must name 1-20 recipients"));
            }
            if let Some(bad) = to
                .iter()
                .find(|t| t.parse::<lettre::message::Mailbox>().is_err())
            {
                return Err(invalid(
                    "config.to",
                    format!("`{bad}` is not an email address"),
                ));
            }
            let port_shown = port.unwrap_or_else(|| super::send::default_port(&security));
            let scheme = if security == "tls" { "smtps" } else { "smtp" };
            let target = format!("{scheme}://{host}:{port_shown} → {}", to.join(", "));
            let target: String = target.chars().take(300).collect();
            Ok((
                ChannelConfig::Email {
                    host,
                    port,
                    security: Some(security),
                    username,
                    password,
                    from,
                    to,
                },
                target,
                None,
            ))
        }
    }
}

fn kind(c: &ChannelConfig) -> &'static str {
    match c {
        ChannelConfig::Webhook { .. } => "webhook",
        ChannelConfig::Slack { .. } => "slack",
        ChannelConfig::Email { .. } => "email",
    }
}

fn seal(state: &AppState, c: &ChannelConfig) -> ServerResult<String> {
    let json = serde_json::to_string(c).map_err(|e| ServerError::Other(e.to_string()))?;
    state
        .crypto
        .seal(worker::SEAL, &json)
        .map_err(ServerError::Other)
}

async fn info(state: &AppState, c: channel::Model) -> ServerResult<ChannelInfo> {
    Ok(ChannelInfo {
        pending: repo::deliveries::count(&state.db, c.id, "pending").await?,
        dead: repo::deliveries::count(&state.db, c.id, "dead").await?,
        id: c.id,
        name: c.name,
        kind: c.kind,
        target: c.target,
        enabled: c.enabled,
        created_by: c.created_by,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

async fn found(state: &AppState, id: i64) -> ServerResult<channel::Model> {
    repo::channels::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("notification channel {id}")).into())
}

/// A name taken meanwhile (the unique index refused it) is a 409; anything else stays a database
/// error.
fn taken(e: sea_orm::DbErr) -> ServerError {
    if e.to_string().to_ascii_lowercase().contains("unique") {
        AppError::conflict("a notification channel is already named so").into()
    } else {
        e.into()
    }
}

async fn name_free(state: &AppState, name: &str, id: Option<i64>) -> ServerResult<()> {
    match repo::channels::by_name(&state.db, name).await? {
        Some(c) if Some(c.id) != id => Err(AppError::conflict(format!(
            "a notification channel is already named `{name}`"
        ))
        .into()),
        _ => Ok(()),
    }
}

/// Every channel.
pub async fn list(state: &AppState, caller: &Caller) -> ServerResult<Vec<ChannelInfo>> {
    caller.authorize(Operation::ReadNotificationChannels)?;
    let mut out = Vec::new();
    for c in repo::channels::list(&state.db).await? {
        out.push(info(state, c).await?);
    }
    Ok(out)
}

/// Adds a channel.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: CreateChannelRequest,
) -> ServerResult<ChannelCreated> {
    caller.authorize(Operation::ManageNotificationChannels)?;
    let name = check_name(&req.name)?;
    let (config, target, secret) = check(req.config)?;
    name_free(state, &name, None).await?;
    let now = Utc::now();
    let row = channel::ActiveModel {
        name: Set(name.clone()),
        kind: Set(kind(&config).to_owned()),
        target: Set(target),
        config: Set(seal(state, &config)?),
        enabled: Set(req.enabled.unwrap_or(true)),
        created_by: Set(Some(caller.username.clone())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let c = repo::channels::insert(&state.db, row)
        .await
        .map_err(taken)?;
    audit::record(
        state,
        caller.into(),
        "notifications.create_channel",
        &format!("channel:{}:{}", c.id, c.kind),
        "ok",
    )
    .await?;
    Ok(ChannelCreated {
        channel: info(state, c).await?,
        secret,
    })
}

/// Changes a channel.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    req: UpdateChannelRequest,
) -> ServerResult<ChannelCreated> {
    caller.authorize(Operation::ManageNotificationChannels)?;
    let c = found(state, req.id).await?;
    let name = req.name.as_deref().map(check_name).transpose()?;
    let checked = req.config.map(check).transpose()?;
    if let Some(n) = &name {
        name_free(state, n, Some(c.id)).await?;
    }
    let mut row: channel::ActiveModel = c.into();
    if let Some(n) = name {
        row.name = Set(n);
    }
    if let Some(e) = req.enabled {
        row.enabled = Set(e);
    }
    let mut secret = None;
    if let Some((config, target, made)) = checked {
        row.kind = Set(kind(&config).to_owned());
        row.target = Set(target);
        row.config = Set(seal(state, &config)?);
        secret = made;
    }
    row.updated_at = Set(Utc::now());
    let c = repo::channels::update(&state.db, row)
        .await
        .map_err(taken)?;
    audit::record(
        state,
        caller.into(),
        "notifications.update_channel",
        &format!("channel:{}", c.id),
        "ok",
    )
    .await?;
    Ok(ChannelCreated {
        channel: info(state, c).await?,
        secret,
    })
}

/// Removes a channel with its rules and delivery log.
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::ManageNotificationChannels)?;
    let c = found(state, id).await?;
    let txn = state.db.begin().await?;
    repo::channels::delete(&txn, id).await?;
    txn.commit().await?;
    audit::record(
        state,
        caller.into(),
        "notifications.delete_channel",
        &format!("channel:{id}:{}", c.name),
        "ok",
    )
    .await
}

/// Sends a test notification through a channel now (even a disabled one) and answers with the
/// attempt; a failed test is retried like any delivery.
pub async fn test(state: &AppState, caller: &Caller, id: i64) -> ServerResult<DeliveryInfo> {
    caller.authorize(Operation::ManageNotificationChannels)?;
    let c = found(state, id).await?;
    let now = Utc::now();
    let n = notification::Model {
        id: 0,
        level: "info".to_owned(),
        kind: "test".to_owned(),
        title: format!("Test from Optimus to `{}`", c.name),
        body: format!("Sent by {} with \"send test\".", caller.username),
        project_id: None,
        service_id: None,
        created_at: now,
    };
    let mut row = outbox::row(c.id, &n, None, now);
    // Held by this instance from the start, so the worker leaves it to this call.
    row.owner = Set(Some(state.instance.id.clone()));
    row.lease_until = Set(Some(now + chrono::Duration::seconds(60)));
    row.fence = Set(1);
    let d = repo::deliveries::insert(&state.db, row).await?;
    let id = d.id;
    worker::attempt(state, d).await;
    audit::record(
        state,
        caller.into(),
        "notifications.test_channel",
        &format!("channel:{}:delivery:{id}", c.id),
        "ok",
    )
    .await?;
    outbox::get(state, caller, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_hide_paths_and_queries() {
        let u = url::Url::parse("https://hooks.slack.com/services/T0/B0/secret").unwrap();
        assert_eq!(url_target(&u), "https://hooks.slack.com/…");
        let u = url::Url::parse("http://127.0.0.1:9000/").unwrap();
        assert_eq!(url_target(&u), "http://127.0.0.1:9000");
    }

    #[test]
    fn plain_smtp_only_to_loopback() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("[::1]"));
        assert!(is_loopback("LOCALHOST"));
        assert!(!is_loopback("mail.example.com"));
        assert!(!is_loopback("10.0.0.1"));
    }
}
