//! The Backups page (`g b`): every project's backup policies, their newest good backup, and
//! alerts for the ones whose backups are too old or failing. A project's own backups (policies,
//! back up now, progress, snapshots, browse and restore) are a tab of the project page
//! ([`crate::pages::project`]); both draw jobs with [`JobLine`] and sizes with [`size`].

use crate::api::backups::list_backup_policies;
use crate::components::browser::ClientOnly;
use crate::models::backups::{JobInfo, JobStatus, PoliciesRequest, PolicyInfo};
use crate::models::events::{Event, ServerMessage};
use crate::pages::deployments::when;
use leptos::prelude::*;

/// Bytes in words: `532 B`, `12.4 KiB`, `1.2 GiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The badge class of a job or backup status.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "succeeded" | "good" => "badge ok",
        "failed" => "badge danger",
        "running" => "badge running",
        _ => "badge subtle",
    }
}

/// A job: what, its status, its progress while it runs, its outcome once ended.
#[component]
pub fn JobLine(
    /// The job.
    j: JobInfo,
) -> impl IntoView {
    let status = j.status.as_str();
    let kind = j.kind.as_str();
    let what = match (&j.params.target_path, &j.params.path) {
        (Some(_), Some(p)) if j.params.in_place => format!("restore {p} in place"),
        (Some(_), None) if j.params.in_place => "restore in place".into(),
        (Some(t), Some(p)) => format!("{} {p} → {t}", kind.replace('_', " ")),
        (Some(t), None) => format!("{} → {t}", kind.replace('_', " ")),
        _ => kind.replace('_', " "),
    };
    let what = if j.params.dry_run {
        format!("{what} (dry run)")
    } else {
        what
    };
    let progress = (!j.status.is_final()).then(|| {
        j.progress.clone().map(|p| {
            let (done, total) = (p.bytes_done, p.bytes_total.unwrap_or(0));
            view! {
                <span class="job-progress">
                    <progress data-testid="backup-progress" max=total.max(1).to_string() value=done.min(total.max(1)).to_string()></progress>
                    {format!(" {} {}", p.phase, if total > 0 { format!("{} of {}", size(done), size(total)) } else { size(done) })}
                </span>
            }
        })
    });
    let outcome = j.result.clone().map(|r| {
        let text = match j.kind {
            crate::models::backups::JobKind::Backup => format!(
                "{} files, {} ({} new) in {:.1} s{}",
                r.files,
                size(r.bytes),
                size(r.added_bytes),
                r.seconds,
                if r.unreadable > 0 {
                    format!(" — {} could not be read, left out", r.unreadable)
                } else {
                    String::new()
                }
            ),
            crate::models::backups::JobKind::Restore => restore_outcome(&j.params, &r),
            crate::models::backups::JobKind::RestoreDatabase => format!(
                "{} ({} tables){} in {:.1} s",
                r.database.clone().unwrap_or_default(),
                r.tables,
                if r.verified { ", checked" } else { "" },
                r.seconds
            ),
            crate::models::backups::JobKind::Verify => format!(
                "{} check passed in {:.1} s",
                r.level.map(|l| l.as_str()).unwrap_or("structure"),
                r.seconds
            ),
        };
        let listed = (j.kind == crate::models::backups::JobKind::Restore && !r.changes.is_empty())
            .then(|| {
                let n = r.changes.len();
                view! {
                    <details class="small" data-testid="restore-changes">
                        <summary>{format!("{n}{} files written", if n >= 1000 { "+" } else { "" })}</summary>
                        <ul>{r.changes.iter().take(200).map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}</ul>
                    </details>
                }
            });
        view! { <span class="muted">{format!(" — {text}")}</span> {listed} }
    });
    view! {
        <li data-testid="backup-job" data-kind=kind data-status=status>
            <span class=status_class(status)>{status}</span>
            {format!(" #{} {what}", j.id)}
            {progress}
            {outcome}
            {j.reason.clone().map(|r| view! { <div class="muted small" data-testid="backup-job-reason">{r}</div> })}
        </li>
    }
}

/// What a restore did (or, in a dry run, would do), in a line.
fn restore_outcome(
    p: &crate::models::backups::JobParams,
    r: &crate::models::backups::JobResult,
) -> String {
    let mut parts = vec![format!(
        "{} files, {} {}",
        r.restored_files,
        size(r.restored_bytes),
        if p.dry_run {
            "would be written"
        } else {
            "written"
        }
    )];
    if r.unchanged_files > 0 {
        parts.push(format!("{} unchanged", r.unchanged_files));
    }
    if p.in_place && r.extra_files > 0 {
        parts.push(format!("{} not in the backup, kept", r.extra_files));
    }
    if let Some(id) = r.safety_snapshot_id {
        parts.push(format!("safety snapshot #{id} taken first"));
    }
    if !r.stopped_services.is_empty() {
        parts.push(format!("restarted {}", r.stopped_services.join(", ")));
    }
    if r.verified {
        parts.push("read back and verified".into());
    }
    format!("{} in {:.1} s", parts.join(", "), r.seconds)
}

/// Whether a job is still under way.
pub fn open(j: &JobInfo) -> bool {
    matches!(j.status, JobStatus::Queued | JobStatus::Running)
}

/// A policy as a table row, for the page across projects.
#[component]
fn PolicyRow(p: PolicyInfo) -> impl IntoView {
    let schedule = match (&p.schedule, p.paused) {
        (Some(s), false) => format!("{} ({})", s.cron, s.timezone),
        (Some(_), true) => "paused".into(),
        (None, _) => "by hand".into(),
    };
    let last = match (&p.last_good_at, &p.last_status) {
        (Some(at), Some(s)) if s == "failed" => format!("{} (newest failed)", when(at)),
        (Some(at), _) => when(at),
        (None, _) => "never".into(),
    };
    view! {
        <tr data-testid="backup-policy-row" data-alert=p.alert.is_some().to_string()>
            <td><a href=format!("/projects/{}?tab=backups", p.project_id)>{p.project.clone()}</a></td>
            <td>{p.name.clone()}</td>
            <td>{schedule}</td>
            <td>{last}</td>
            <td>{p.snapshots}</td>
            <td>
                {match p.alert.clone() {
                    Some(a) => view! { <span class="badge danger" data-testid="backup-alert">{a}</span> }.into_any(),
                    None => view! { <span class="badge ok">"ok"</span> }.into_any(),
                }}
            </td>
        </tr>
    }
}

/// The Backups page.
#[component]
pub fn BackupsPage() -> impl IntoView {
    view! {
        <h1>"Backups"</h1>
        <p class="muted">"Every project's backup policies and how recent their backups are. A project's Backups tab backs up, browses and restores."</p>
        <ClientOnly fallback=|| view! { <p class="muted">"Loading…"</p> }>
            <BackupsBody />
        </ClientOnly>
    }
}

#[component]
fn BackupsBody() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        version.track();
        list_backup_policies(PoliciesRequest { project_id: None })
    });
    Effect::new(move |_| {
        crate::components::live::subscribe(&["backups"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::BackupJobChanged { status, .. } = envelope.event {
                    if status.is_final() {
                        version.update(|v| *v += 1);
                    }
                }
            }
        });
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || list.get().map(|r| match r {
                Ok(list) if list.is_empty() => view! {
                    <p class="muted" data-testid="no-backup-policies">"No backup policies yet: add one on a project's Backups tab."</p>
                }.into_any(),
                Ok(list) => {
                    let alerts = list.iter().filter(|p| p.alert.is_some()).count();
                    view! {
                        {(alerts > 0).then(|| view! {
                            <p class="error" data-testid="backup-alerts">{format!("{alerts} backup polic{} need{} attention.", if alerts == 1 { "y" } else { "ies" }, if alerts == 1 { "s" } else { "" })}</p>
                        })}
                        <table class="table" data-testid="backup-policies">
                            <thead><tr><th>"Project"</th><th>"Policy"</th><th>"Schedule"</th><th>"Newest good backup"</th><th>"Kept"</th><th>"State"</th></tr></thead>
                            <tbody>{list.into_iter().map(|p| view! { <PolicyRow p /> }).collect_view()}</tbody>
                        </table>
                    }.into_any()
                }
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}
