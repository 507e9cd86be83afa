//! Backup policies as callers see them: create (a new restic repository under the data dir or
//! on an SFTP server, with a random password sealed with the master key), change, remove, list,
//! and reveal the repository's password to an admin so plain `restic` can open it.

use super::entities::policy;
use super::restic::{self, Repo};
use super::{databases, repo};
use crate::error::AppError;
use crate::models::backups::{
    BackupRemote, BackupSchedule, CreatePolicyRequest, KeepRule, PolicyInfo, RepositoryInfo,
    UpdatePolicyRequest,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::catalog::{self, Project};
use crate::server::error::ServerResult;
use crate::server::AppState;
use chrono::Utc;
use sea_orm::{IntoActiveModel, Set};
use std::path::{Component, Path};

/// The sealing context of a repository's password: its folder, so a password cannot be
/// opened for another repository.
fn context(repository: &str) -> String {
    format!("backup-repository:{repository}")
}

/// The sealing context of a remote repository's server and credentials.
fn remote_context(repository: &str) -> String {
    format!("backup-remote:{repository}")
}

pub(super) async fn project_of(state: &AppState, id: i64) -> ServerResult<Project> {
    Ok(catalog::find_project(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?)
}

pub(super) async fn policy_of(state: &AppState, id: i64) -> ServerResult<policy::Model> {
    Ok(repo::policies::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("backup policy {id}")))?)
}

/// The repository's password.
pub(super) fn password(state: &AppState, p: &policy::Model) -> ServerResult<String> {
    state
        .crypto
        .open(&context(&p.repository), &p.password)
        .map_err(|e| {
            tracing::error!(policy.id = p.id, error = %e, "a backup repository's password could not be opened");
            AppError::Internal.into()
        })
}

/// The remote server holding the repository (credentials included), when it is not local.
pub(super) fn remote(state: &AppState, p: &policy::Model) -> ServerResult<Option<BackupRemote>> {
    let Some(sealed) = &p.remote else {
        return Ok(None);
    };
    let json = state
        .crypto
        .open(&remote_context(&p.repository), sealed)
        .map_err(|e| {
            tracing::error!(policy.id = p.id, error = %e, "a backup repository's remote could not be opened");
            AppError::Internal
        })?;
    serde_json::from_str(&json).map(Some).map_err(|e| {
        tracing::error!(policy.id = p.id, error = %e, "a backup repository's remote is not readable");
        AppError::Internal.into()
    })
}

/// The policy's repository, ready to open.
pub(super) fn repo(state: &AppState, p: &policy::Model) -> ServerResult<Repo> {
    Ok(Repo {
        path: std::path::PathBuf::from(&p.repository),
        password: password(state, p)?,
        remote: remote(state, p)?,
    })
}

/// The paths a policy backs up.
pub(super) fn paths(p: &policy::Model) -> Vec<String> {
    serde_json::from_str(&p.paths).unwrap_or_else(|_| vec![".".into()])
}

/// The globs a policy leaves out.
pub(super) fn excludes(p: &policy::Model) -> Vec<String> {
    serde_json::from_str(&p.excludes).unwrap_or_default()
}

/// A policy's retention.
pub(super) fn keep(p: &policy::Model) -> KeepRule {
    serde_json::from_str(&p.keep).unwrap_or_default()
}

/// A 409 when another request took the name meanwhile (the unique index decides).
fn taken_or(e: sea_orm::DbErr, name: &str) -> crate::server::error::ServerError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::conflict(format!(
            "the project already has a backup policy named `{name}`"
        ))
        .into(),
        _ => e.into(),
    }
}

fn check_name(name: &str) -> ServerResult<String> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(AppError::unprocessable(
            "name",
            "must be 1 to 100 letters, digits, `-`, `_` or `.`",
        )
        .into());
    }
    Ok(name.to_owned())
}

/// Checks paths relative to the project's folder: inside it, and there. None at all only
/// when the policy dumps databases (it backs up only those).
fn check_paths(root: &Path, paths: &[String], databases: bool) -> ServerResult<Vec<String>> {
    if paths.is_empty() && !databases {
        return Err(AppError::unprocessable(
            "paths",
            "name at least one path (`.` is the whole folder), or databases to dump",
        )
        .into());
    }
    let mut out = Vec::with_capacity(paths.len());
    for (i, raw) in paths.iter().enumerate() {
        let field = format!("paths[{i}]");
        let p = raw.trim();
        let rel = Path::new(p);
        if p.is_empty()
            || rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(AppError::unprocessable(
                field,
                format!("`{raw}` must be a path inside the project's folder, relative to it, without `..`"),
            )
            .into());
        }
        if std::fs::symlink_metadata(root.join(rel)).is_err() {
            return Err(AppError::unprocessable(
                field,
                format!("`{raw}` does not exist in the project's folder"),
            )
            .into());
        }
        if let Err(why) = super::restic::inside(root, p) {
            return Err(AppError::unprocessable(field, why).into());
        }
        if !out.iter().any(|o: &String| o == p) {
            out.push(p.to_owned());
        }
    }
    Ok(out)
}

/// Checks gitignore-style globs as the backup will read them (rustic's exclude globs).
fn check_excludes(excludes: &[String]) -> ServerResult<Vec<String>> {
    let mut builder = ignore::overrides::OverrideBuilder::new("/");
    for (i, g) in excludes.iter().enumerate() {
        let g = g.trim();
        if g.is_empty() || g.len() > 1000 {
            return Err(AppError::unprocessable(
                format!("excludes[{i}]"),
                "must be a glob of 1 to 1,000 characters",
            )
            .into());
        }
        if let Err(e) = builder.add(&format!("!{g}")) {
            return Err(AppError::unprocessable(
                format!("excludes[{i}]"),
                format!("is not a valid glob: {e}"),
            )
            .into());
        }
    }
    Ok(excludes.iter().map(|g| g.trim().to_owned()).collect())
}

/// Checks a remote repository as given, then reaches its server: it must answer, and hold no
/// repository yet (Optimus makes its own, with a password of its own).
async fn check_remote(state: &AppState, r: &BackupRemote) -> ServerResult<BackupRemote> {
    let r = restic::check_remote(r).map_err(|(field, why)| AppError::unprocessable(field, why))?;
    // Its repository is made by its first backup: until then the server cannot tell that
    // another policy has the folder already.
    if let Some(other) =
        repo::policies::by_repository(&state.db, &restic::remote_location(&r)).await?
    {
        return Err(AppError::unprocessable(
            "remote.path",
            format!(
                "backup policy {} (`{}`) keeps its repository there already",
                other.id, other.name
            ),
        )
        .into());
    }
    let probed = r.clone();
    let exists = tokio::task::spawn_blocking(move || restic::probe_remote(&probed))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|why| AppError::unprocessable("remote", why))?;
    if exists {
        return Err(AppError::unprocessable(
            "remote.path",
            format!(
                "{} holds a restic repository already; give a folder of its own to this policy",
                restic::remote_location(&r)
            ),
        )
        .into());
    }
    Ok(r)
}

fn check_schedule(s: &BackupSchedule) -> ServerResult<BackupSchedule> {
    use crate::server::pipelines::definitions;
    definitions::cron(&s.cron).map_err(|e| AppError::unprocessable("schedule.cron", e))?;
    definitions::timezone(&s.timezone)
        .map_err(|e| AppError::unprocessable("schedule.timezone", e))?;
    Ok(BackupSchedule {
        cron: s.cron.trim().to_owned(),
        timezone: s.timezone.trim().to_owned(),
    })
}

fn random_password() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a policy and the folder its repository will live in (the repository itself is
/// initialised by its first job).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: CreatePolicyRequest,
) -> ServerResult<PolicyInfo> {
    caller.authorize(Operation::EditBackups)?;
    let project = project_of(state, req.project_id).await?;
    let name = check_name(req.name.as_deref().unwrap_or("default"))?;
    let wanted_dbs = req.databases.as_deref().unwrap_or(&[]);
    let paths = check_paths(
        Path::new(&project.path),
        req.paths.as_deref().unwrap_or(&[".".to_owned()]),
        !wanted_dbs.is_empty(),
    )?;
    let excludes = check_excludes(req.excludes.as_deref().unwrap_or(&[]))?;
    let schedule = req.schedule.as_ref().map(check_schedule).transpose()?;
    let keep = req.keep.unwrap_or_default();
    if repo::policies::by_name(&state.db, project.id, &name)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(format!(
            "the project already has a backup policy named `{name}`"
        ))
        .into());
    }
    let remote = match &req.remote {
        None => None,
        Some(r) => Some(check_remote(state, r).await?),
    };
    let repository = match &remote {
        Some(r) => restic::remote_location(r),
        None => {
            let suffix: String = random_password().chars().take(8).collect();
            let repository = state
                .settings
                .data_dir
                .join("backups")
                .join(format!("project-{}-{name}-{suffix}", project.id));
            std::path::absolute(&repository)
                .unwrap_or(repository)
                .display()
                .to_string()
        }
    };
    let sealed_remote = match &remote {
        None => None,
        Some(r) => Some(
            serde_json::to_string(r)
                .ok()
                .and_then(|json| state.crypto.seal(&remote_context(&repository), &json).ok())
                .ok_or(AppError::Internal)?,
        ),
    };
    let databases = databases::check(state, Path::new(&project.path), &repository, wanted_dbs)?;
    let sealed = state
        .crypto
        .seal(&context(&repository), &random_password())
        .map_err(|_| AppError::Internal)?;
    let now = Utc::now();
    let row = policy::ActiveModel {
        project_id: Set(project.id),
        name: Set(name.clone()),
        paths: Set(serde_json::to_string(&paths).unwrap_or_else(|_| "[\".\"]".into())),
        excludes: Set(serde_json::to_string(&excludes).unwrap_or_else(|_| "[]".into())),
        schedule: Set(schedule.and_then(|s| serde_json::to_string(&s).ok())),
        schedule_checked_at: Set(Some(now)),
        keep: Set(serde_json::to_string(&keep).unwrap_or_else(|_| "{}".into())),
        databases: Set(serde_json::to_string(&databases).unwrap_or_else(|_| "[]".into())),
        repository: Set(repository),
        password: Set(sealed),
        remote: Set(sealed_remote),
        paused: Set(false),
        created_by: Set(Some(caller.username.clone())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let p = repo::policies::insert(&state.db, row)
        .await
        .map_err(|e| taken_or(e, &name))?;
    audit::record(
        state,
        caller.into(),
        "backups.create_policy",
        &format!("project:{}:policy:{}", project.id, p.id),
        "ok",
    )
    .await?;
    info(state, p).await
}

/// Changes a policy.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    req: UpdatePolicyRequest,
) -> ServerResult<PolicyInfo> {
    caller.authorize(Operation::EditBackups)?;
    let p = policy_of(state, req.policy_id).await?;
    let project = project_of(state, p.project_id).await?;
    let mut row = p.clone().into_active_model();
    if let Some(name) = &req.name {
        let name = check_name(name)?;
        if name != p.name
            && repo::policies::by_name(&state.db, p.project_id, &name)
                .await?
                .is_some()
        {
            return Err(AppError::conflict(format!(
                "the project already has a backup policy named `{name}`"
            ))
            .into());
        }
        row.name = Set(name);
    }
    let dbs_after = match &req.databases {
        Some(d) => !d.is_empty(),
        None => !databases::stored(&p.databases).is_empty(),
    };
    if let Some(dbs) = &req.databases {
        let stored = databases::check(state, Path::new(&project.path), &p.repository, dbs)?;
        row.databases = Set(serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into()));
    }
    let paths = match &req.paths {
        Some(paths) => paths.clone(),
        None => super::policies::paths(&p),
    };
    // Removing the last database of a policy with no paths is refused on `paths`.
    if req.paths.is_some() || (!dbs_after && paths.is_empty()) {
        let paths = check_paths(Path::new(&project.path), &paths, dbs_after)?;
        row.paths = Set(serde_json::to_string(&paths).unwrap_or_else(|_| "[\".\"]".into()));
    }
    if let Some(ex) = &req.excludes {
        let ex = check_excludes(ex)?;
        row.excludes = Set(serde_json::to_string(&ex).unwrap_or_else(|_| "[]".into()));
    }
    if req.unschedule && req.schedule.is_some() {
        return Err(AppError::unprocessable(
            "unschedule",
            "give a schedule or unschedule, not both",
        )
        .into());
    }
    if let Some(s) = &req.schedule {
        let s = check_schedule(s)?;
        row.schedule = Set(serde_json::to_string(&s).ok());
    }
    if req.unschedule {
        row.schedule = Set(None);
    }
    if let Some(k) = req.keep {
        row.keep = Set(serde_json::to_string(&k).unwrap_or_else(|_| "{}".into()));
    }
    if let Some(paused) = req.paused {
        row.paused = Set(paused);
    }
    let now = Utc::now();
    if req.schedule.is_some() || req.unschedule || req.paused.is_some() {
        // A new, paused or resumed schedule's window starts now: nothing is owed for before.
        row.schedule_checked_at = Set(Some(now));
    }
    row.updated_at = Set(now);
    let wanted = req.name.clone().unwrap_or_else(|| p.name.clone());
    let p = repo::policies::update(&state.db, row)
        .await
        .map_err(|e| taken_or(e, &wanted))?;
    audit::record(
        state,
        caller.into(),
        "backups.update_policy",
        &format!("project:{}:policy:{}", p.project_id, p.id),
        "ok",
    )
    .await?;
    info(state, p).await
}

/// Removes a policy and its records. Its repository stays on disk (it holds the user's
/// backups; the audit entry names it) until removed by hand.
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::EditBackups)?;
    let p = policy_of(state, id).await?;
    if let Some(open) = repo::jobs::open_of_policy(&state.db, p.id).await? {
        return Err(AppError::conflict(format!(
            "backup job {} of this policy has not finished",
            open.id
        ))
        .into());
    }
    repo::policies::delete(&state.db, p.id).await?;
    audit::record(
        state,
        caller.into(),
        "backups.delete_policy",
        &format!(
            "project:{}:policy:{}:repository:{}",
            p.project_id, p.id, p.repository
        ),
        "ok",
    )
    .await?;
    Ok(())
}

/// One policy.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<PolicyInfo> {
    caller.authorize(Operation::ReadBackups)?;
    let p = policy_of(state, id).await?;
    info(state, p).await
}

/// A project's policies (every project's when `project_id` is `None`).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    project_id: Option<i64>,
) -> ServerResult<Vec<PolicyInfo>> {
    caller.authorize(Operation::ReadBackups)?;
    if let Some(id) = project_id {
        project_of(state, id).await?;
    }
    let policies = repo::policies::list(&state.db, project_id).await?;
    let mut ids: Vec<i64> = policies.iter().map(|p| p.project_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = catalog::project_names(&state.db, ids).await?;
    let mut out = Vec::with_capacity(policies.len());
    for p in policies {
        let project = names.get(&p.project_id).cloned().unwrap_or_default();
        out.push(info_named(state, p, project).await?);
    }
    Ok(out)
}

/// Where a policy's repository is and its password (admins only; audited).
pub async fn repository(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<RepositoryInfo> {
    caller.authorize(Operation::RevealBackupPassword)?;
    let p = policy_of(state, id).await?;
    let password = password(state, &p)?;
    let (path, env) = match remote(state, &p)? {
        None => (p.repository, Default::default()),
        Some(r) => {
            let shown = tokio::task::spawn_blocking(move || restic::restic_env(&r))
                .await
                .map_err(|_| AppError::Internal)?;
            shown.map_err(|message| AppError::Unavailable { message })?
        }
    };
    audit::record(
        state,
        caller.into(),
        "backups.reveal_password",
        &format!("project:{}:policy:{}", p.project_id, p.id),
        "ok",
    )
    .await?;
    Ok(RepositoryInfo {
        path,
        password,
        env,
    })
}

/// Why a policy's backups need attention at `now`, when they do: the newest good one (or, with
/// none, the policy itself) is older than twice the schedule's interval plus five minutes, or
/// than a week when it is not scheduled.
pub(super) fn alert(
    schedule: Option<&BackupSchedule>,
    last_good: Option<chrono::DateTime<Utc>>,
    created: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
) -> Option<String> {
    let interval = schedule.and_then(|s| {
        let next = super::schedules::next(s, now, 2);
        (next.len() == 2).then(|| next[1] - next[0])
    });
    let allowed = match interval {
        Some(i) => i * 2 + chrono::Duration::minutes(5),
        None => chrono::Duration::days(7),
    };
    let hours = |d: chrono::Duration| {
        let h = d.num_hours();
        if h >= 48 {
            format!("{} days", h / 24)
        } else if h >= 1 {
            format!("{h} h")
        } else {
            format!("{} min", d.num_minutes().max(1))
        }
    };
    let every = match interval {
        Some(i) => format!("its schedule runs every {}", hours(i)),
        None => "it has no schedule".to_owned(),
    };
    match last_good {
        Some(at) if now - at > allowed => Some(format!(
            "the newest good backup is {} old and {every}",
            hours(now - at)
        )),
        None if now - created > allowed => Some(format!(
            "no good backup since the policy was made {} ago, and {every}",
            hours(now - created)
        )),
        None if interval.is_none() => Some("no good backup yet: run one".to_owned()),
        _ => None,
    }
}

pub(super) async fn info(state: &AppState, p: policy::Model) -> ServerResult<PolicyInfo> {
    let project = catalog::find_project(&state.db, p.project_id)
        .await?
        .map(|pr| pr.name)
        .unwrap_or_default();
    info_named(state, p, project).await
}

/// A policy as callers see it, its project's name known.
async fn info_named(
    state: &AppState,
    p: policy::Model,
    project: String,
) -> ServerResult<PolicyInfo> {
    let latest = repo::snapshots::latest(&state.db, p.id).await?;
    let good = repo::snapshots::latest_good(&state.db, p.id).await?;
    let snapshots = repo::snapshots::count_good(&state.db, p.id).await?;
    let schedule: Option<BackupSchedule> = p
        .schedule
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let now = Utc::now();
    let alert = alert(
        schedule.as_ref().filter(|_| !p.paused),
        good.as_ref().map(|g| g.started_at),
        p.created_at,
        now,
    );
    Ok(PolicyInfo {
        alert,
        project,
        id: p.id,
        project_id: p.project_id,
        name: p.name.clone(),
        paths: paths(&p),
        excludes: excludes(&p),
        next: match (&schedule, p.paused) {
            (Some(s), false) => super::schedules::next(s, Utc::now(), 3)
                .into_iter()
                .map(|t| t.to_rfc3339())
                .collect(),
            _ => Vec::new(),
        },
        schedule,
        keep: keep(&p),
        databases: databases::stored(&p.databases)
            .iter()
            .map(|d| databases::shown(state, &p.repository, d))
            .collect(),
        repository: p.repository.clone(),
        paused: p.paused,
        last_good_at: good.map(|g| g.started_at.to_rfc3339()),
        last_status: latest.as_ref().map(|l| l.status.clone()),
        last_reason: latest.and_then(|l| l.reason),
        snapshots,
        created_by: p.created_by,
        created_at: p.created_at.to_rfc3339(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + chrono::Duration::hours(h)
    }

    #[test]
    fn a_backup_older_than_twice_its_schedule_needs_attention() {
        let hourly = BackupSchedule {
            cron: "0 * * * *".into(),
            timezone: "UTC".into(),
        };
        // Fresh enough: no alert.
        assert_eq!(alert(Some(&hourly), Some(at(9)), at(0), at(10)), None);
        // Three hours with an hourly schedule: too old, and it says so.
        let a = alert(Some(&hourly), Some(at(7)), at(0), at(10)).unwrap_or_default();
        assert!(a.contains("3 h old") && a.contains("every 1 h"), "{a}");
        // Never backed up: fine at first, an alert once the schedule should have run twice.
        assert_eq!(alert(Some(&hourly), None, at(10), at(11)), None);
        assert!(alert(Some(&hourly), None, at(0), at(10)).is_some());
        // Unscheduled: a week is allowed; none at all is worth saying at once.
        assert_eq!(alert(None, Some(at(0)), at(0), at(24 * 6)), None);
        assert!(alert(None, Some(at(0)), at(0), at(24 * 8))
            .is_some_and(|a| a.contains("8 days") && a.contains("no schedule")));
        assert!(alert(None, None, at(0), at(1)).is_some_and(|a| a.contains("no good backup yet")));
    }
}
