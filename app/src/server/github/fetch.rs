//! One refresh of a repository's GitHub state: the repository (default branch), its open pull
//! requests (every page), the CI of the default branch and of the local HEAD (commit statuses
//! and check runs together), the latest release, and the comparison of the local HEAD with the
//! default branch. Each answer is trimmed to what is shown before it is kept.

use super::client::{Client, Failure};
use crate::models::github::{CiStatus, GitHubProject, PullInfo, ReleaseInfo};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

/// Pages of pull requests read at most (100 each).
const MAX_PULL_PAGES: usize = 10;
/// Pull requests listed.
const LISTED_PULLS: usize = 20;

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn time(v: &Value, k: &str) -> Option<DateTime<Utc>> {
    s(v, k).and_then(|t| {
        DateTime::parse_from_rfc3339(&t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// Percent-encodes a ref for a URL path (slashes kept: GitHub reads `feature/x` whole).
fn path_ref(r: &str) -> String {
    let mut out = String::new();
    for b in r.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn trim_repo(v: Value) -> Value {
    json!({ "default_branch": v.get("default_branch"), "html_url": v.get("html_url") })
}

fn trim_pulls(v: Value) -> Value {
    let items = v.as_array().cloned().unwrap_or_default();
    Value::Array(
        items
            .iter()
            .map(|p| {
                json!({
                    "number": p.get("number"),
                    "title": p.get("title"),
                    "author": p.get("user").and_then(|u| u.get("login")),
                    "draft": p.get("draft"),
                    "updated_at": p.get("updated_at"),
                    "html_url": p.get("html_url"),
                })
            })
            .collect(),
    )
}

fn trim_status(v: Value) -> Value {
    let statuses = v
        .get("statuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    json!({
        "statuses": statuses
            .iter()
            .map(|x| json!({ "context": x.get("context"), "state": x.get("state") }))
            .collect::<Vec<_>>(),
    })
}

fn trim_checks(v: Value) -> Value {
    let runs = v
        .get("check_runs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    json!({
        "total_count": v.get("total_count"),
        "check_runs": runs
            .iter()
            .map(|x| json!({
                "name": x.get("name"),
                "status": x.get("status"),
                "conclusion": x.get("conclusion"),
            }))
            .collect::<Vec<_>>(),
    })
}

fn trim_release(v: Value) -> Value {
    json!({
        "tag_name": v.get("tag_name"),
        "name": v.get("name"),
        "published_at": v.get("published_at"),
        "html_url": v.get("html_url"),
    })
}

fn trim_compare(v: Value) -> Value {
    json!({ "ahead_by": v.get("ahead_by"), "behind_by": v.get("behind_by") })
}

/// Commit statuses and check runs as one verdict.
pub fn combine(reference: &str, status: &Value, checks: &Value) -> CiStatus {
    let (mut total, mut pending, mut failing) = (0u32, 0u32, Vec::new());
    for x in status
        .get("statuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        total += 1;
        let name = s(x, "context").unwrap_or_default();
        match s(x, "state").as_deref() {
            Some("success") => {}
            Some("failure" | "error") => failing.push(name),
            _ => pending += 1,
        }
    }
    for x in checks
        .get("check_runs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        total += 1;
        let name = s(x, "name").unwrap_or_default();
        if s(x, "status").as_deref() != Some("completed") {
            pending += 1;
            continue;
        }
        match s(x, "conclusion").as_deref() {
            Some("success" | "neutral" | "skipped") => {}
            _ => failing.push(name),
        }
    }
    let state = if total == 0 {
        "none"
    } else if !failing.is_empty() {
        "failure"
    } else if pending > 0 {
        "pending"
    } else {
        "success"
    };
    CiStatus {
        reference: reference.to_owned(),
        state: state.to_owned(),
        total,
        pending,
        failing,
    }
}

async fn ci<C: ConnectionTrait>(
    c: &mut Client<'_, C>,
    repo: &str,
    reference: &str,
) -> Result<Option<CiStatus>, Failure> {
    let r = path_ref(reference);
    let status = match c
        .get(
            &c.url(&format!("/repos/{repo}/commits/{r}/status?per_page=100")),
            trim_status,
        )
        .await
    {
        Ok(p) => p.body,
        Err(Failure::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let checks = match c
        .get(
            &c.url(&format!(
                "/repos/{repo}/commits/{r}/check-runs?per_page=100"
            )),
            trim_checks,
        )
        .await
    {
        Ok(p) => p.body,
        Err(Failure::NotFound) => Value::Null,
        Err(e) => return Err(e),
    };
    Ok(Some(combine(reference, &status, &checks)))
}

/// Everything GitHub says about `repo` (`owner/name`) and the local HEAD `head`. The comparison
/// is left empty when GitHub does not have `head`.
pub async fn repository<C: ConnectionTrait>(
    c: &mut Client<'_, C>,
    repo: &str,
    head: Option<&str>,
    into: &mut GitHubProject,
) -> Result<(), Failure> {
    let r = c.get(&c.url(&format!("/repos/{repo}")), trim_repo).await?;
    into.html_url = s(&r.body, "html_url");
    into.default_branch = s(&r.body, "default_branch");

    let mut pulls: Vec<PullInfo> = Vec::new();
    let mut open = 0u32;
    let mut next = Some(c.url(&format!(
        "/repos/{repo}/pulls?state=open&sort=updated&direction=desc&per_page=100"
    )));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let page = c.get(&url, trim_pulls).await?;
        for p in page.body.as_array().into_iter().flatten() {
            open += 1;
            if pulls.len() < LISTED_PULLS {
                pulls.push(PullInfo {
                    number: p.get("number").and_then(Value::as_u64).unwrap_or_default(),
                    title: s(p, "title").unwrap_or_default(),
                    author: s(p, "author").unwrap_or_default(),
                    draft: p.get("draft").and_then(Value::as_bool).unwrap_or(false),
                    updated_at: time(p, "updated_at"),
                    html_url: s(p, "html_url").unwrap_or_default(),
                });
            }
        }
        pages += 1;
        if pages < MAX_PULL_PAGES {
            next = page.next;
        }
    }
    into.open_pulls = Some(open);
    into.pulls = pulls;

    if let Some(branch) = into.default_branch.clone() {
        into.default_branch_ci = ci(c, repo, &branch).await?;
    }
    if let Some(h) = head {
        into.head_ci = ci(c, repo, h).await?;
    }
    into.latest_release = match c
        .get(
            &c.url(&format!("/repos/{repo}/releases/latest")),
            trim_release,
        )
        .await
    {
        Ok(p) => Some(ReleaseInfo {
            tag: s(&p.body, "tag_name").unwrap_or_default(),
            name: s(&p.body, "name").filter(|n| !n.is_empty()),
            published_at: time(&p.body, "published_at"),
            html_url: s(&p.body, "html_url").unwrap_or_default(),
        }),
        Err(Failure::NotFound) => None,
        Err(e) => return Err(e),
    };
    if let (Some(branch), Some(h)) = (into.default_branch.clone(), head) {
        let url = c.url(&format!(
            "/repos/{repo}/compare/{}...{}?per_page=1",
            path_ref(&branch),
            path_ref(h)
        ));
        match c.get(&url, trim_compare).await {
            Ok(p) => {
                let n = |k: &str| {
                    p.body
                        .get(k)
                        .and_then(Value::as_u64)
                        .map(|x| u32::try_from(x).unwrap_or(u32::MAX))
                };
                into.ahead_by = n("ahead_by");
                into.behind_by = n("behind_by");
                into.compared_by = Some("github".into());
            }
            // A comparison too large to answer (or any other failure but the rate limit) leaves
            // it to the local copy of origin.
            Err(e @ (Failure::Paused(_) | Failure::Db(_))) => return Err(e),
            Err(e) => tracing::debug!(error = %e, "no comparison from GitHub"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_check_runs_make_one_verdict() {
        let none = combine("main", &Value::Null, &Value::Null);
        assert_eq!(none.state, "none");
        let status = json!({"statuses": [{"context": "ci/build", "state": "success"}]});
        let checks = json!({"check_runs": [
            {"name": "lint", "status": "completed", "conclusion": "success"},
            {"name": "test", "status": "in_progress", "conclusion": null},
        ]});
        let c = combine("main", &status, &checks);
        assert_eq!((c.state.as_str(), c.total, c.pending), ("pending", 3, 1));
        let checks = json!({"check_runs": [
            {"name": "test", "status": "completed", "conclusion": "timed_out"},
            {"name": "docs", "status": "completed", "conclusion": "skipped"},
        ]});
        let c = combine("abc", &status, &checks);
        assert_eq!(c.state, "failure");
        assert_eq!(c.failing, vec!["test".to_owned()]);
        let c = combine("abc", &status, &Value::Null);
        assert_eq!(c.state, "success");
    }

    #[test]
    fn refs_are_encoded_for_paths() {
        assert_eq!(path_ref("feature/a b#1"), "feature/a%20b%231");
    }
}
