//! Rules (which notifications go to which channel) and maintenance windows (when a project's
//! notifications are not sent out).

use super::entities::{mute, rule};
use super::repo;
use crate::error::AppError;
use crate::models::notifications::{
    CreateMuteRequest, CreateRuleRequest, MuteInfo, RuleInfo, EVENT_KINDS, LEVELS,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::catalog;
use crate::server::error::{ServerError, ServerResult};
use crate::server::state::AppState;
use chrono::Utc;
use sea_orm::Set;

fn invalid(field: &str, why: impl Into<String>) -> ServerError {
    AppError::unprocessable(field, why).into()
}

async fn project_exists(state: &AppState, project_id: Option<i64>) -> ServerResult<()> {
    if let Some(p) = project_id {
        if catalog::find_project(&state.db, p).await?.is_none() {
            return Err(invalid("project_id", format!("no project has id {p}")));
        }
    }
    Ok(())
}

fn rule_info(r: rule::Model) -> RuleInfo {
    RuleInfo {
        id: r.id,
        channel_id: r.channel_id,
        project_id: r.project_id,
        kinds: serde_json::from_str(&r.kinds).unwrap_or_default(),
        min_level: r.min_level,
        dedup_secs: r.dedup_secs,
        created_by: r.created_by,
        created_at: r.created_at,
    }
}

/// Rules, of one channel or all.
pub async fn rules(
    state: &AppState,
    caller: &Caller,
    channel_id: Option<i64>,
) -> ServerResult<Vec<RuleInfo>> {
    caller.authorize(Operation::ReadNotificationChannels)?;
    Ok(repo::channels::rules(&state.db, channel_id)
        .await?
        .into_iter()
        .map(rule_info)
        .collect())
}

/// Adds a rule.
pub async fn create_rule(
    state: &AppState,
    caller: &Caller,
    req: CreateRuleRequest,
) -> ServerResult<RuleInfo> {
    caller.authorize(Operation::ManageNotificationChannels)?;
    let mut kinds = req.kinds;
    kinds.sort();
    kinds.dedup();
    if let Some(bad) = kinds
        .iter()
        .find(|k| !EVENT_KINDS.contains(&k.as_str()) || k.as_str() == "test")
    {
        return Err(invalid(
            "kinds",
            format!(
                "`{bad}` is not a notification kind (expected some of {})",
                EVENT_KINDS[..EVENT_KINDS.len() - 1].join(", ")
            ),
        ));
    }
    let min_level = req.min_level.unwrap_or_else(|| "info".to_owned());
    if !LEVELS.contains(&min_level.as_str()) {
        return Err(invalid(
            "min_level",
            format!("must be info, warning or error (got `{min_level}`)"),
        ));
    }
    let dedup = req.dedup_secs.unwrap_or(600);
    if dedup > 86_400 {
        return Err(invalid("dedup_secs", "must be at most 86,400 (a day)"));
    }
    if repo::channels::find(&state.db, req.channel_id)
        .await?
        .is_none()
    {
        return Err(invalid(
            "channel_id",
            format!("no notification channel has id {}", req.channel_id),
        ));
    }
    project_exists(state, req.project_id).await?;
    let r = repo::channels::insert_rule(
        &state.db,
        rule::ActiveModel {
            channel_id: Set(req.channel_id),
            project_id: Set(req.project_id),
            kinds: Set(serde_json::to_string(&kinds).unwrap_or_else(|_| "[]".to_owned())),
            min_level: Set(min_level),
            dedup_secs: Set(i64::from(dedup)),
            created_by: Set(Some(caller.username.clone())),
            created_at: Set(Utc::now()),
            ..Default::default()
        },
    )
    .await?;
    audit::record(
        state,
        caller.into(),
        "notifications.create_rule",
        &format!("channel:{}:rule:{}", r.channel_id, r.id),
        "ok",
    )
    .await?;
    Ok(rule_info(r))
}

/// Removes a rule.
pub async fn delete_rule(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::ManageNotificationChannels)?;
    let Some(r) = repo::channels::find_rule(&state.db, id).await? else {
        return Err(AppError::not_found(format!("notification rule {id}")).into());
    };
    repo::channels::delete_rule(&state.db, id).await?;
    audit::record(
        state,
        caller.into(),
        "notifications.delete_rule",
        &format!("channel:{}:rule:{id}", r.channel_id),
        "ok",
    )
    .await
}

fn mute_info(m: mute::Model) -> MuteInfo {
    let now = Utc::now();
    MuteInfo {
        active: m.starts_at <= now && now < m.ends_at,
        id: m.id,
        project_id: m.project_id,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        reason: m.reason,
        created_by: m.created_by,
    }
}

/// Maintenance windows not over yet (all with `past`).
pub async fn mutes(state: &AppState, caller: &Caller, past: bool) -> ServerResult<Vec<MuteInfo>> {
    caller.authorize(Operation::ReadNotificationChannels)?;
    Ok(repo::channels::mutes(&state.db, Utc::now(), past)
        .await?
        .into_iter()
        .map(mute_info)
        .collect())
}

/// Adds a maintenance window.
pub async fn create_mute(
    state: &AppState,
    caller: &Caller,
    req: CreateMuteRequest,
) -> ServerResult<MuteInfo> {
    caller.authorize(Operation::MuteNotifications)?;
    let reason = req.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(invalid("reason", "must be 1-500 characters"));
    }
    let now = Utc::now();
    let starts_at = req.starts_at.unwrap_or(now);
    let ends_at = match (req.ends_at, req.minutes) {
        (Some(_), Some(_)) => {
            return Err(invalid("minutes", "give ends_at or minutes, not both"));
        }
        (Some(e), None) => e,
        (None, Some(m)) if (1..=43_200).contains(&m) => starts_at
            .checked_add_signed(chrono::Duration::minutes(i64::from(m)))
            .ok_or_else(|| invalid("starts_at", "is too far in the future"))?,
        (None, Some(_)) => return Err(invalid("minutes", "must be 1-43,200 (30 days)")),
        (None, None) => return Err(invalid("ends_at", "give ends_at or minutes")),
    };
    if ends_at <= starts_at {
        return Err(invalid("ends_at", "must be after starts_at"));
    }
    if ends_at <= now {
        return Err(invalid("ends_at", "is already past"));
    }
    if ends_at - starts_at > chrono::Duration::days(30) {
        return Err(invalid("ends_at", "a window lasts at most 30 days"));
    }
    project_exists(state, req.project_id).await?;
    let m = repo::channels::insert_mute(
        &state.db,
        mute::ActiveModel {
            project_id: Set(req.project_id),
            starts_at: Set(starts_at),
            ends_at: Set(ends_at),
            reason: Set(reason),
            created_by: Set(Some(caller.username.clone())),
            created_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    audit::record(
        state,
        caller.into(),
        "notifications.create_mute",
        &format!(
            "mute:{}:project:{}",
            m.id,
            m.project_id.map_or("all".to_owned(), |p| p.to_string())
        ),
        "ok",
    )
    .await?;
    Ok(mute_info(m))
}

/// Ends (removes) a maintenance window.
pub async fn delete_mute(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::MuteNotifications)?;
    if repo::channels::find_mute(&state.db, id).await?.is_none() {
        return Err(AppError::not_found(format!("maintenance window {id}")).into());
    }
    repo::channels::delete_mute(&state.db, id).await?;
    audit::record(
        state,
        caller.into(),
        "notifications.delete_mute",
        &format!("mute:{id}"),
        "ok",
    )
    .await
}
