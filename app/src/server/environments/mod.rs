//! Environments: per-project sets of variables, one of them active (injected at launch). Secret
//! values are sealed with the master key, masked unless the caller may read secrets, and
//! redacted from service logs.

pub mod entities;
pub mod repo;

use crate::error::AppError;
use crate::models::environments::{
    CreateEnvironmentRequest, DeleteVarRequest, DotenvExport, DotenvImported, EnvVar,
    EnvironmentInfo, ImportDotenvRequest, SetVarRequest,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::environments::entities::{env_var, environment};
use crate::server::error::ServerResult;
use crate::server::AppState;
use chrono::Utc;
use sea_orm::ConnectionTrait;
use std::collections::BTreeMap;
use std::path::{Component, Path};

/// What a launch gets from the active environment.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Every variable, decrypted.
    pub vars: BTreeMap<String, String>,
    /// The names of the secret ones.
    pub secret_keys: Vec<String>,
}

impl Resolved {
    /// The secret values (for log redaction).
    pub fn secret_values(&self) -> Vec<String> {
        self.secret_keys
            .iter()
            .filter_map(|k| self.vars.get(k).cloned())
            .collect()
    }
}

fn slot(environment_id: i64, key: &str) -> String {
    format!("env_var:{environment_id}:{key}")
}

/// A stored value in the clear (an undecryptable secret reads as empty and is logged).
fn plain(state: &AppState, v: &env_var::Model) -> String {
    if !v.secret {
        return v.value.clone();
    }
    state
        .crypto
        .open(&slot(v.environment_id, &v.key), &v.value)
        .unwrap_or_else(|e| {
            tracing::warn!(environment.id = v.environment_id, key = %v.key, error = %e, "cannot decrypt a secret");
            String::new()
        })
}

/// The active environment's variables, decrypted, for a launch.
pub async fn resolved(state: &AppState, project_id: i64) -> ServerResult<Resolved> {
    let Some(env) = repo::active(&state.db, project_id).await? else {
        return Ok(Resolved::default());
    };
    let mut out = Resolved::default();
    for v in repo::vars(&state.db, vec![env.id]).await? {
        if v.secret {
            out.secret_keys.push(v.key.clone());
        }
        let value = plain(state, &v);
        out.vars.insert(v.key, value);
    }
    Ok(out)
}

/// Whether `key` is a usable variable name.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 128
        && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `value` may be a variable's value: at most 32768 characters, no NUL.
pub fn valid_value(value: &str) -> bool {
    value.chars().count() <= 32 * 1024 && !value.contains('\0')
}

/// Whether a variable looks like a credential (kept secret on import).
pub fn looks_secret(key: &str, value: &str) -> bool {
    let k = key.to_ascii_uppercase();
    [
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "PRIVATE",
        "CREDENTIAL",
        "AUTH",
    ]
    .iter()
    .any(|w| k.contains(w))
        || k.ends_with("KEY")
        || value.split_once("://").is_some_and(|(_, rest)| {
            rest.split('/')
                .next()
                .is_some_and(|host| host.contains(':') && host.contains('@'))
        })
}

fn check_name(name: &str) -> Result<(), AppError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::validation(
            "name",
            "must be 1 to 40 of a-z 0-9 - _",
        ))
    }
}

async fn env_of(state: &AppState, id: i64) -> ServerResult<environment::Model> {
    Ok(repo::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("environment"))?)
}

async fn project_exists(
    state: &AppState,
    id: i64,
) -> ServerResult<crate::server::catalog::Project> {
    Ok(crate::server::catalog::find_project(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?)
}

/// A project's environments; secret values only when `reveal` (and allowed).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
    reveal: bool,
) -> ServerResult<Vec<EnvironmentInfo>> {
    caller.authorize(Operation::ReadEnvironments)?;
    if reveal {
        caller.authorize(Operation::RevealSecrets)?;
    }
    project_exists(state, project_id).await?;
    let envs = repo::of_project(&state.db, project_id).await?;
    let vars = repo::vars(&state.db, envs.iter().map(|e| e.id).collect()).await?;
    Ok(envs
        .into_iter()
        .map(|e| EnvironmentInfo {
            id: e.id,
            project_id: e.project_id,
            name: e.name,
            active: e.active,
            vars: vars
                .iter()
                .filter(|v| v.environment_id == e.id)
                .map(|v| EnvVar {
                    key: v.key.clone(),
                    value: (!v.secret || reveal).then(|| plain(state, v)),
                    secret: v.secret,
                    updated_at: v.updated_at,
                })
                .collect(),
        })
        .collect())
}

/// Adds an environment; the project's first becomes active.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: CreateEnvironmentRequest,
) -> ServerResult<Vec<EnvironmentInfo>> {
    caller.authorize(Operation::EditEnvironments)?;
    check_name(&req.name)?;
    let p = project_exists(state, req.project_id).await?;
    let existing = repo::of_project(&state.db, p.id).await?;
    if existing.iter().any(|e| e.name == req.name) {
        return Err(AppError::conflict(format!(
            "the project already has an environment `{}`",
            req.name
        ))
        .into());
    }
    if existing.len() >= 20 {
        return Err(
            AppError::unprocessable("name", "a project has at most 20 environments").into(),
        );
    }
    let txn = crate::server::db::begin(&state.db).await?;
    repo::insert(&txn, p.id, &req.name, existing.is_empty(), Utc::now()).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "environments.create",
        &format!("project:{}:{}", p.path, req.name),
    )
    .await?;
    list(state, caller, p.id, false).await
}

/// Removes an environment and its variables.
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::EditEnvironments)?;
    let e = env_of(state, id).await?;
    let txn = crate::server::db::begin(&state.db).await?;
    repo::delete(&txn, id).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "environments.delete",
        &format!("environment:{id}:{}", e.name),
    )
    .await?;
    Ok(())
}

/// Makes an environment the active one; running services pick it up on their next restart.
pub async fn activate(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<Vec<EnvironmentInfo>> {
    caller.authorize(Operation::EditEnvironments)?;
    let e = env_of(state, id).await?;
    let txn = crate::server::db::begin(&state.db).await?;
    repo::activate(&txn, e.project_id, id).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "environments.activate",
        &format!("environment:{id}:{}", e.name),
    )
    .await?;
    list(state, caller, e.project_id, false).await
}

async fn store_var(
    state: &AppState,
    db: &impl ConnectionTrait,
    env_id: i64,
    key: &str,
    value: &str,
    secret: bool,
) -> ServerResult<()> {
    let stored = if secret {
        state
            .crypto
            .seal(&slot(env_id, key), value)
            .map_err(crate::server::error::ServerError::Other)?
    } else {
        value.to_owned()
    };
    repo::upsert_var(db, env_id, key, &stored, secret, Utc::now()).await?;
    Ok(())
}

/// Sets a variable. The audit entry names the key, never the value.
pub async fn set_var(
    state: &AppState,
    caller: &Caller,
    req: SetVarRequest,
) -> ServerResult<Vec<EnvironmentInfo>> {
    caller.authorize(Operation::EditEnvironments)?;
    if !valid_key(&req.key) {
        return Err(AppError::validation(
            "key",
            "letters, digits and _, not starting with a digit (at most 128)",
        )
        .into());
    }
    if !valid_value(&req.value) {
        return Err(AppError::validation("value", "at most 32768 characters and no NUL").into());
    }
    let e = env_of(state, req.environment_id).await?;
    let count = repo::vars(&state.db, vec![e.id]).await?.len();
    if count >= 500 {
        return Err(
            AppError::unprocessable("key", "an environment has at most 500 variables").into(),
        );
    }
    let txn = crate::server::db::begin(&state.db).await?;
    store_var(state, &txn, e.id, &req.key, &req.value, req.secret).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "environments.set_var",
        &format!(
            "environment:{}:{}{}",
            e.id,
            req.key,
            if req.secret { " (secret)" } else { "" }
        ),
    )
    .await?;
    list(state, caller, e.project_id, false).await
}

/// Removes a variable.
pub async fn delete_var(
    state: &AppState,
    caller: &Caller,
    req: DeleteVarRequest,
) -> ServerResult<Vec<EnvironmentInfo>> {
    caller.authorize(Operation::EditEnvironments)?;
    let e = env_of(state, req.environment_id).await?;
    let txn = crate::server::db::begin(&state.db).await?;
    if !repo::delete_var(&txn, e.id, &req.key).await? {
        return Err(AppError::not_found(format!("variable {}", req.key)).into());
    }
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "environments.delete_var",
        &format!("environment:{}:{}", e.id, req.key),
    )
    .await?;
    list(state, caller, e.project_id, false).await
}

/// Imports a `.env` (a file inside the project, read only; or text). Names that look like
/// credentials are kept secret.
pub async fn import_dotenv(
    state: &AppState,
    caller: &Caller,
    req: ImportDotenvRequest,
) -> ServerResult<DotenvImported> {
    caller.authorize(Operation::EditEnvironments)?;
    let e = env_of(state, req.environment_id).await?;
    let text = match (&req.content, &req.path) {
        (Some(_), Some(_)) => {
            return Err(
                AppError::unprocessable("content", "give a path or content, not both").into(),
            )
        }
        (Some(c), None) => c.clone(),
        (None, path) => {
            let p = project_exists(state, e.project_id).await?;
            let rel = path.clone().unwrap_or_else(|| ".env".into());
            let relp = Path::new(&rel);
            if relp.is_absolute() || relp.components().any(|c| matches!(c, Component::ParentDir)) {
                return Err(AppError::unprocessable(
                    "path",
                    "must be a file inside the project folder",
                )
                .into());
            }
            let file = Path::new(&p.path).join(relp);
            let meta = std::fs::metadata(&file).map_err(|_| {
                AppError::unprocessable("path", format!("{} does not exist", file.display()))
            })?;
            if meta.len() > 1024 * 1024 {
                return Err(
                    AppError::unprocessable("path", "the file is larger than 1 MiB").into(),
                );
            }
            std::fs::read_to_string(&file).map_err(|err| {
                AppError::unprocessable("path", format!("cannot read {}: {err}", file.display()))
            })?
        }
    };
    let mut parsed = Vec::new();
    for (i, item) in dotenvy::from_read_iter(text.as_bytes()).enumerate() {
        let (k, v) = item
            .map_err(|err| AppError::unprocessable("content", format!("entry {}: {err}", i + 1)))?;
        if !valid_key(&k) {
            return Err(AppError::unprocessable(
                "content",
                format!("`{k}` is not a valid variable name"),
            )
            .into());
        }
        if !valid_value(&v) {
            return Err(AppError::unprocessable(
                "content",
                format!("the value of `{k}` is over 32768 characters or holds a NUL"),
            )
            .into());
        }
        parsed.push((k, v));
    }
    if parsed.len() > 500 {
        return Err(AppError::unprocessable("content", "at most 500 variables").into());
    }
    let before: BTreeMap<String, String> = repo::vars(&state.db, vec![e.id])
        .await?
        .iter()
        .map(|v| (v.key.clone(), plain(state, v)))
        .collect();
    let mut report = DotenvImported::default();
    let txn = crate::server::db::begin(&state.db).await?;
    for (k, v) in parsed {
        let secret = looks_secret(&k, &v);
        match before.get(&k) {
            Some(old) if *old == v => continue,
            Some(_) => report.updated += 1,
            None => report.added += 1,
        }
        if secret {
            report.secret.push(k.clone());
        }
        store_var(state, &txn, e.id, &k, &v, secret).await?;
    }
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "environments.import",
        &format!("environment:{}:+{} ~{}", e.id, report.added, report.updated),
    )
    .await?;
    Ok(report)
}

fn dotenv_value(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@,+".contains(c))
    {
        return v.to_owned();
    }
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The environment as `.env` text; secret values only for callers who may read secrets.
pub async fn export_dotenv(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<DotenvExport> {
    caller.authorize(Operation::ReadEnvironments)?;
    let e = env_of(state, id).await?;
    let reveal = caller.authorize(Operation::RevealSecrets).is_ok();
    let mut out = DotenvExport {
        content: format!("# Optimus environment `{}`\n", e.name),
        secrets_withheld: false,
    };
    for v in repo::vars(&state.db, vec![e.id]).await? {
        if v.secret && !reveal {
            out.secrets_withheld = true;
            out.content
                .push_str(&format!("# {} is secret: withheld\n{}=\n", v.key, v.key));
        } else {
            out.content
                .push_str(&format!("{}={}\n", v.key, dotenv_value(&plain(state, &v))));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_recognised() {
        assert!(looks_secret("STRIPE_SECRET_KEY", "x"));
        assert!(looks_secret("GITHUB_TOKEN", "x"));
        assert!(looks_secret("DATABASE_URL", "postgres://app:pw@db/app"));
        assert!(!looks_secret("DATABASE_URL", "postgres://db/app"));
        assert!(!looks_secret("NODE_ENV", "production"));
    }

    #[test]
    fn exported_values_parse_back_the_same() {
        for v in [
            "plain",
            "with space",
            "quote\"s",
            "multi\nline",
            "$HOME",
            "back\\slash",
            "",
        ] {
            let text = format!("K={}\n", dotenv_value(v));
            let parsed: Vec<_> = dotenvy::from_read_iter(text.as_bytes()).flatten().collect();
            assert_eq!(parsed, vec![("K".to_owned(), v.to_owned())], "{text}");
        }
    }
}
