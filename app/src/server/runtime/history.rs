//! Runs, their logs, and the port registry.

use super::definitions::bad;
use super::services::service_of;
use crate::error::AppError;
use crate::models::runtime::{LogLine, LogQuery, PortEntry, RunInfo, RunsQuery};
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::runtime::repo;
use crate::server::runtime::{logs, ports};
use crate::server::AppState;
use std::collections::HashMap;
use std::path::PathBuf;

/// A service's runs, newest first.
pub async fn runs(state: &AppState, caller: &Caller, q: RunsQuery) -> ServerResult<Vec<RunInfo>> {
    caller.authorize(Operation::ReadRuntime)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(bad("limit", "must be between 1 and 100").into());
    }
    service_of(state, q.id).await?;
    Ok(repo::services::runs(&state.db, q.id, u64::from(limit))
        .await?
        .into_iter()
        .map(RunInfo::try_from)
        .collect::<Result<_, _>>()?)
}

/// Log history of one or more services merged by time, newest last.
pub async fn log_history(
    state: &AppState,
    caller: &Caller,
    q: LogQuery,
) -> ServerResult<Vec<LogLine>> {
    caller.authorize(Operation::ReadRuntime)?;
    if q.service_ids.is_empty() || q.service_ids.len() > 20 {
        return Err(bad("service_ids", "name 1 to 20 services").into());
    }
    let limit = usize::try_from(q.limit.unwrap_or(500)).unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(bad("limit", "must be between 1 and 5000").into());
    }
    let search = q.search.clone().unwrap_or_default();
    if search.chars().count() > 500 {
        return Err(bad("search", "must be at most 500 characters").into());
    }
    let matcher: Box<dyn Fn(&str) -> bool + Send> = if search.is_empty() {
        Box::new(|_| true)
    } else if q.regex {
        let re = regex::RegexBuilder::new(&search)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                AppError::unprocessable("search", format!("not a valid regular expression: {e}"))
            })?;
        Box::new(move |t| re.is_match(t))
    } else {
        let needle = search.to_lowercase();
        Box::new(move |t| t.to_lowercase().contains(&needle))
    };
    let mut dirs: Vec<(i64, i64, PathBuf)> = Vec::new();
    for id in &q.service_ids {
        service_of(state, *id).await?;
        // The newest runs first, until enough lines are found.
        for r in repo::services::runs(&state.db, *id, u64::from(state.settings.keep_runs)).await? {
            dirs.push((*id, r.id, PathBuf::from(r.run_dir)));
        }
    }
    let stream = q.stream;
    let lines = tokio::task::spawn_blocking(move || {
        let mut per_service: HashMap<i64, Vec<LogLine>> = HashMap::new();
        for (sid, rid, dir) in dirs {
            let have = per_service.get(&sid).map(Vec::len).unwrap_or(0);
            if have >= limit {
                continue;
            }
            let mut found: Vec<LogLine> = logs::read_run(&dir, sid, rid)
                .into_iter()
                .filter(|l| stream.is_none_or(|s| s == l.stream) && matcher(&l.text))
                .collect();
            let entry = per_service.entry(sid).or_default();
            // Runs come newest first: older lines go in front.
            found.append(entry);
            *entry = found;
        }
        let mut all: Vec<LogLine> = per_service.into_values().flatten().collect();
        all.sort_by_key(|l| (l.at, l.run_id, l.seq));
        let skip = all.len().saturating_sub(limit);
        all.split_off(skip)
    })
    .await
    .map_err(|e| crate::server::error::ServerError::Other(e.to_string()))?;
    Ok(lines)
}

/// One run's whole log as text for a download (`<time> <stream> <text>` per line), with a file
/// name; the latest run when `run_id` is absent.
pub async fn log_download(
    state: &AppState,
    caller: &Caller,
    service_id: i64,
    run_id: Option<i64>,
) -> ServerResult<(String, String)> {
    caller.authorize(Operation::ReadRuntime)?;
    let svc = service_of(state, service_id).await?;
    let runs =
        repo::services::runs(&state.db, service_id, u64::from(state.settings.keep_runs)).await?;
    let run = match run_id {
        Some(id) => runs
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| AppError::not_found(format!("kept run {id} of service {service_id}")))?,
        None => runs.into_iter().next().ok_or_else(|| {
            AppError::not_found(format!("run of service {service_id} (it has not run yet)"))
        })?,
    };
    let (sid, rid, dir) = (service_id, run.id, PathBuf::from(&run.run_dir));
    let text = tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        for l in logs::read_run(&dir, sid, rid) {
            let stream = match l.stream {
                crate::models::runtime::LogStream::Stdout => "stdout",
                crate::models::runtime::LogStream::Stderr => "stderr",
            };
            out.push_str(&format!(
                "{} {stream} {}\n",
                l.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                l.text
            ));
        }
        out
    })
    .await
    .map_err(|e| crate::server::error::ServerError::Other(e.to_string()))?;
    Ok((format!("{}-run-{rid}.log", svc.name), text))
}

/// Every port held by a service.
pub async fn port_registry(state: &AppState, caller: &Caller) -> ServerResult<Vec<PortEntry>> {
    caller.authorize(Operation::ReadRuntime)?;
    Ok(ports::entries(state).await?)
}
