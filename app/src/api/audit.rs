//! `/api/v1/audit/*`: the audit log.

use crate::models::audit::{AuditEntry, AuditQuery};
use crate::models::page::Page;

endpoint! {
    /// Read the audit log, newest first
    ///
    /// Lists audit entries, newest first, optionally of one action.
    "audit/list", requires ReadAudit, |state, caller|
    pub async fn list_audit(query: AuditQuery) -> Page<AuditEntry> {
        use crate::server::audit;
        Ok(audit::list(&state, &caller, query).await?)
    }
}
