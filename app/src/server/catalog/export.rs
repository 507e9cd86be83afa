//! The project list as CSV or JSON.

use super::projects::{filter_from, sort_from};
use crate::models::catalog::{ProjectInfo, ProjectQuery};
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::catalog::repo;
use crate::server::error::ServerResult;
use crate::server::state::AppState;

/// Every project matching the query (all pages), for export.
pub async fn export_projects(
    state: &AppState,
    caller: &Caller,
    query: ProjectQuery,
) -> ServerResult<Vec<ProjectInfo>> {
    caller.authorize(Operation::ReadCatalog)?;
    let filter = filter_from(&query)?;
    let sort = sort_from(&query)?;
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let rows = repo::projects::page(&state.db, &filter, sort, after, 500).await?;
        let done = rows.len() < 500;
        after = rows.last().map(|r| r.id);
        for row in rows {
            out.push(ProjectInfo::try_from(row)?);
        }
        if done || out.len() >= 100_000 {
            break;
        }
    }
    Ok(out)
}

/// Quotes one CSV field (RFC 4180), and defuses spreadsheet formulas.
pub(super) fn csv_field(value: &str) -> String {
    let v = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// Projects as CSV: one row each, with the columns a spreadsheet user wants.
pub fn projects_csv(projects: &[ProjectInfo]) -> String {
    let mut out = String::from(
        "id,name,path,stacks,tags,status,favorite,archived,branch,dirty,ahead,behind,description\n",
    );
    for p in projects {
        let git = p.git.as_ref();
        let row = [
            p.id.to_string(),
            p.name.clone(),
            p.path.clone(),
            p.stacks
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            p.tags.join(" "),
            p.status.clone(),
            p.favorite.to_string(),
            p.archived.to_string(),
            git.and_then(|g| g.branch.clone()).unwrap_or_default(),
            git.map(|g| g.dirty.to_string()).unwrap_or_default(),
            git.map(|g| g.ahead.to_string()).unwrap_or_default(),
            git.map(|g| g.behind.to_string()).unwrap_or_default(),
            p.description.clone().unwrap_or_default(),
        ];
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
