//! Curation: edit, tag, favorite, archive and remove catalog entries (files are never touched).

use super::activity::note;
use super::projects::get_project;
use crate::error::AppError;
use crate::models::catalog::{ProjectFlagRequest, ProjectInfo, UpdateProjectRequest, LIFECYCLES};
use crate::models::events::Event;
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::catalog::repo;
use crate::server::error::ServerResult;
use crate::server::state::AppState;

/// Checks a tag: 1–32 characters of lowercase letters, digits, `-`, `_`, `.`.
pub fn parse_tag(raw: &str) -> Result<String, AppError> {
    let t = raw.trim().to_lowercase();
    if t.is_empty() || t.chars().count() > 32 {
        return Err(AppError::validation(
            "tags",
            format!("`{raw}`: a tag has 1 to 32 characters"),
        ));
    }
    if let Some(bad) = t
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        return Err(AppError::validation(
            "tags",
            format!("`{raw}`: `{bad}` is not allowed (letters, digits, - _ .)"),
        ));
    }
    Ok(t)
}

fn optional_text(field: &str, raw: &str, max: usize) -> Result<Option<String>, AppError> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(AppError::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(AppError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

/// Edits a project; overrides survive rescans, clearing one re-detects on the next scan.
pub async fn update_project(
    state: &AppState,
    caller: &Caller,
    input: UpdateProjectRequest,
) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::EditProjects)?;
    let current = repo::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    // Every stored column must read before anything changes: never apply a change behind a 409.
    let info = ProjectInfo::try_from(current.clone())?;
    let mut overrides = repo::projects::Overrides::of(&current)?;
    let mut c = repo::projects::Curation {
        tags: info.tags,
        ..Default::default()
    };
    if let Some(name) = &input.name {
        match optional_text("name", name, 128)? {
            Some(n) => {
                overrides.name = Some(n.clone());
                c.name = Some(n);
            }
            None => {
                overrides.name = None;
                c.rescan = true;
            }
        }
    }
    if let Some(description) = &input.description {
        let d = optional_text("description", description, 1000)?;
        if d.is_none() {
            c.rescan = true;
        }
        overrides.description = d.clone();
        c.description = Some(d);
    }
    if let Some(tags) = &input.tags {
        if tags.len() > 20 {
            return Err(AppError::validation("tags", "at most 20 tags").into());
        }
        let mut parsed = Vec::new();
        for t in tags {
            let t = parse_tag(t)?;
            if !parsed.contains(&t) {
                parsed.push(t);
            }
        }
        c.tags = parsed;
        overrides.curated.push("tags".into());
    }
    if let Some(owner) = &input.owner {
        c.owner = Some(optional_text("owner", owner, 64)?);
        overrides.curated.push("owner".into());
    }
    if let Some(lifecycle) = &input.lifecycle {
        let l = optional_text("lifecycle", lifecycle, 32)?.map(|l| l.to_lowercase());
        if let Some(l) = &l {
            if !LIFECYCLES.contains(&l.as_str()) {
                return Err(AppError::validation(
                    "lifecycle",
                    format!("must be one of {}", LIFECYCLES.join(", ")),
                )
                .into());
            }
        }
        c.lifecycle = Some(l);
        overrides.curated.push("lifecycle".into());
    }
    overrides.curated.sort();
    overrides.curated.dedup();
    if let Some(commands) = &input.commands {
        for o in commands {
            let cmd = optional_text("commands", &o.command, 1000)?;
            overrides.commands.retain(|(k, _)| *k != o.kind);
            if let Some(cmd) = cmd {
                overrides.commands.push((o.kind, cmd));
            }
        }
    }
    c.overrides = Some(overrides);
    let mut changed = Vec::new();
    for (field, set) in [
        ("name", input.name.is_some()),
        ("description", input.description.is_some()),
        ("tags", input.tags.is_some()),
        ("owner", input.owner.is_some()),
        ("lifecycle", input.lifecycle.is_some()),
        ("commands", input.commands.is_some()),
    ] {
        if set {
            changed.push(field);
        }
    }
    let txn = crate::server::db::begin(&state.db).await?;
    let updated = repo::projects::curate(&txn, current, c).await?;
    note(
        &txn,
        updated.id,
        "edited",
        format!("Edited {}", changed.join(", ")),
        Some(caller),
    )
    .await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "projects.update",
        &format!("project:{}", updated.path),
    )
    .await?;
    state
        .bus
        .publish(Event::ProjectChanged {
            id: updated.id,
            name: updated.name.clone(),
            change: "updated".into(),
        })
        .await;
    Ok(ProjectInfo::try_from(updated)?)
}

/// Marks or unmarks a favorite.
pub async fn set_favorite(
    state: &AppState,
    caller: &Caller,
    input: ProjectFlagRequest,
) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::EditProjects)?;
    let p = repo::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    // Refuse before changing anything when the row cannot be read.
    ProjectInfo::try_from(p.clone())?;
    let what = if input.value {
        "Marked as a favorite"
    } else {
        "No longer a favorite"
    };
    let txn = crate::server::db::begin(&state.db).await?;
    repo::projects::set_favorite(&txn, p.id, input.value).await?;
    note(&txn, p.id, "favorite", what.into(), Some(caller)).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "projects.favorite",
        &format!("project:{}:{}", p.path, input.value),
    )
    .await?;
    get_project(state, caller, p.id).await
}

/// Archives or unarchives a project.
pub async fn set_archived(
    state: &AppState,
    caller: &Caller,
    input: ProjectFlagRequest,
) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::EditProjects)?;
    let p = repo::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    // Refuse before changing anything when the row cannot be read.
    ProjectInfo::try_from(p.clone())?;
    let txn = crate::server::db::begin(&state.db).await?;
    repo::projects::set_archived(&txn, p.id, input.value).await?;
    note(
        &txn,
        p.id,
        if input.value {
            "archived"
        } else {
            "unarchived"
        },
        if input.value {
            "Archived"
        } else {
            "Unarchived"
        }
        .into(),
        Some(caller),
    )
    .await?;
    let action = if input.value {
        "projects.archive"
    } else {
        "projects.unarchive"
    };
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        action,
        &format!("project:{}", p.path),
    )
    .await?;
    state
        .bus
        .publish(Event::ProjectChanged {
            id: p.id,
            name: p.name.clone(),
            change: if input.value {
                "archived"
            } else {
                "unarchived"
            }
            .into(),
        })
        .await;
    get_project(state, caller, p.id).await
}

/// Removes the catalog entry only; the folder on disk is untouched. A later scan of its
/// workspace finds it again.
pub async fn delete_project(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::EditProjects)?;
    let p = repo::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let txn = crate::server::db::begin(&state.db).await?;
    repo::projects::delete(&txn, id).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "projects.delete",
        &format!("project:{}", p.path),
    )
    .await?;
    state
        .bus
        .publish(Event::ProjectChanged {
            id,
            name: p.name,
            change: "deleted".into(),
        })
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_checked() {
        assert_eq!(parse_tag(" Backend ").ok().as_deref(), Some("backend"));
        assert!(parse_tag("has space").is_err());
        assert!(parse_tag("").is_err());
        assert!(parse_tag("\"quoted\"").is_err());
    }
}
