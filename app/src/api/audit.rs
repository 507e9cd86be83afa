//! `/api/v1/audit/*`: the audit log.

use crate::error::AppError;
use crate::models::audit::{AuditEntry, AuditQuery};
use crate::models::page::Page;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Lists audit entries, newest first, optionally of one action.
#[server(prefix = "/api/v1", endpoint = "audit/list", input = Json, output = Json)]
pub async fn list_audit(
    #[server(flatten)] query: AuditQuery,
) -> Result<Page<AuditEntry>, AppError> {
    use crate::server::{api_caller, audit};
    let (state, _, caller) = api_caller().await?;
    Ok(audit::list(&state, &caller, query).await?)
}
