//! Workspaces.

use crate::models::catalog::WorkspaceInfo;
use crate::server::catalog::entities::workspace;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

impl From<workspace::Model> for WorkspaceInfo {
    fn from(m: workspace::Model) -> Self {
        WorkspaceInfo {
            id: m.id,
            path: m.path,
            scan_state: m.scan_state,
            scan_error: m.scan_error,
            projects_found: u32::try_from(m.projects_found).unwrap_or(0),
            folders_scanned: u32::try_from(m.folders_scanned).unwrap_or(0),
            last_scan_at: m.last_scan_at,
            last_scan_ms: m.last_scan_ms.and_then(|v| u64::try_from(v).ok()),
        }
    }
}

/// A workspace by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<workspace::Model>, DbErr> {
    workspace::Entity::find_by_id(id).one(db).await
}

/// A workspace by path.
pub async fn find_by_path(
    db: &impl ConnectionTrait,
    path: &str,
) -> Result<Option<workspace::Model>, DbErr> {
    workspace::Entity::find()
        .filter(workspace::Column::Path.eq(path))
        .one(db)
        .await
}

/// Workspaces with id above `after`, by id.
pub async fn page(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<workspace::Model>, DbErr> {
    let mut q = workspace::Entity::find().order_by_asc(workspace::Column::Id);
    if let Some(after) = after {
        q = q.filter(workspace::Column::Id.gt(after));
    }
    q.limit(limit).all(db).await
}

/// Adds a workspace.
pub async fn insert(
    db: &impl ConnectionTrait,
    path: &str,
    now: DateTime<Utc>,
) -> Result<workspace::Model, DbErr> {
    workspace::ActiveModel {
        path: Set(path.to_owned()),
        scan_state: Set("idle".into()),
        scan_error: Set(None),
        projects_found: Set(0),
        folders_scanned: Set(0),
        last_scan_at: Set(None),
        last_scan_ms: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Marks a scan as started by instance `me` unless one is running; returns whether this call
/// claimed it.
pub async fn claim_scan(db: &impl ConnectionTrait, id: i64, me: &str) -> Result<bool, DbErr> {
    let res = workspace::Entity::update_many()
        .col_expr(workspace::Column::ScanState, Expr::value("running"))
        .col_expr(workspace::Column::ScanOwner, Expr::value(me))
        .col_expr(
            workspace::Column::ScanError,
            Expr::value(Option::<String>::None),
        )
        .col_expr(workspace::Column::FoldersScanned, Expr::value(0))
        .filter(workspace::Column::Id.eq(id))
        .filter(workspace::Column::ScanState.ne("running"))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records scan progress.
pub async fn progress(db: &impl ConnectionTrait, id: i64, folders: u32) -> Result<(), DbErr> {
    workspace::Entity::update_many()
        .col_expr(
            workspace::Column::FoldersScanned,
            Expr::value(i32::try_from(folders).unwrap_or(i32::MAX)),
        )
        .filter(workspace::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Records the end of a scan.
pub async fn finish_scan(
    db: &impl ConnectionTrait,
    id: i64,
    error: Option<String>,
    projects: u32,
    folders: u32,
    millis: u64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    workspace::Entity::update_many()
        .col_expr(
            workspace::Column::ScanState,
            Expr::value(if error.is_some() { "failed" } else { "done" }),
        )
        .col_expr(workspace::Column::ScanError, Expr::value(error))
        .col_expr(
            workspace::Column::ProjectsFound,
            Expr::value(i32::try_from(projects).unwrap_or(i32::MAX)),
        )
        .col_expr(
            workspace::Column::FoldersScanned,
            Expr::value(i32::try_from(folders).unwrap_or(i32::MAX)),
        )
        .col_expr(workspace::Column::LastScanAt, Expr::value(now))
        .col_expr(
            workspace::Column::ScanOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            workspace::Column::LastScanMs,
            Expr::value(i64::try_from(millis).unwrap_or(i64::MAX)),
        )
        .filter(workspace::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// The running scans: (workspace, the instance running it).
pub async fn running_scans(db: &impl ConnectionTrait) -> Result<Vec<(i64, Option<String>)>, DbErr> {
    let rows = workspace::Entity::find()
        .filter(workspace::Column::ScanState.eq("running"))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|w| (w.id, w.scan_owner)).collect())
}

/// Marks a running scan failed, as interrupted, if `owner` still runs it; whether it did.
pub async fn fail_interrupted(
    db: &impl ConnectionTrait,
    id: i64,
    owner: Option<&str>,
) -> Result<bool, DbErr> {
    let q = workspace::Entity::update_many()
        .col_expr(workspace::Column::ScanState, Expr::value("failed"))
        .col_expr(
            workspace::Column::ScanError,
            Expr::value("interrupted by a restart; scan again"),
        )
        .col_expr(
            workspace::Column::ScanOwner,
            Expr::value(Option::<String>::None),
        )
        .filter(workspace::Column::Id.eq(id))
        .filter(workspace::Column::ScanState.eq("running"));
    let q = match owner {
        Some(o) => q.filter(workspace::Column::ScanOwner.eq(o)),
        None => q.filter(workspace::Column::ScanOwner.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Removes a workspace (its projects stay in the catalog, unlinked).
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<u64, DbErr> {
    workspace::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}
