//! A project's Backups tab: its backup policies (add one, back up now, verify), their jobs with
//! live progress, their snapshots (time, size, files, new bytes, duration, verified) and a
//! snapshot's file browser to restore a file or folder to a new path.

use crate::api::backups::{
    create_backup_policy, list_backup_jobs, list_backup_policies, list_backup_snapshots,
    list_snapshot_files, restore_backup, run_backup, verify_backups,
};
use crate::components::browser::ClientOnly;
use crate::components::toasts::{use_toasts, Toasts};
use crate::models::auth::Me;
use crate::models::backups::{
    BackupRemote, BackupSchedule, CreatePolicyRequest, FilesRequest, PoliciesRequest, PolicyInfo,
    PolicyRequest, RestoreRequest, SnapshotInfo, SnapshotsRequest, VerifyLevel, VerifyRequest,
};
use crate::models::events::{Event, ServerMessage};
use crate::models::Operation;
use crate::pages::backups::{open, size, status_class, JobLine};
use crate::pages::deployments::when;
use leptos::prelude::*;

/// The tab, rendered in the browser only (its lists are fetched there).
#[component]
pub fn BackupsTab(
    /// The project.
    project_id: i64,
) -> impl IntoView {
    view! {
        <ClientOnly fallback=|| view! { <p class="muted">"Loading backups…"</p> }>
            <BackupsBody project_id />
        </ClientOnly>
    }
}

/// What the tab's parts may do.
#[derive(Clone, Copy)]
struct Can {
    edit: bool,
    run: bool,
    restore: bool,
}

#[component]
fn BackupsBody(project_id: i64) -> impl IntoView {
    let role = use_context::<Me>().map(|m| m.role);
    let allowed = |op: Operation| role.is_some_and(|r| op.allowed_for(r));
    let can = Can {
        edit: allowed(Operation::EditBackups),
        run: allowed(Operation::RunBackups),
        restore: allowed(Operation::RestoreBackups),
    };
    // Bumped by every change to one of the project's jobs: the parts below refetch.
    let version = RwSignal::new(0u32);
    // The snapshot being browsed, kept here: the policies re-render as their jobs change, and
    // the restore form must not lose what was typed into it.
    let browsing = RwSignal::new(None::<SnapshotInfo>);
    let toasts = use_toasts();
    let policies = LocalResource::new(move || {
        version.track();
        list_backup_policies(PoliciesRequest {
            project_id: Some(project_id),
        })
    });
    Effect::new(move |_| {
        crate::components::live::subscribe(&["backups"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::BackupJobChanged { project_id: p, .. } = envelope.event {
                    if p == project_id {
                        version.update(|v| *v += 1);
                    }
                }
            }
        });
    });
    view! {
        <h2>"Backups"</h2>
        {can.edit.then(|| view! { <NewPolicy project_id version /> })}
        <Transition fallback=|| view! { <p class="muted">"Loading backups…"</p> }>
            {move || policies.get().map(|r| match r {
                Ok(list) if list.is_empty() => view! {
                    <p class="muted" data-testid="no-backup-policies">"No backup policy yet."</p>
                }.into_any(),
                Ok(list) => list
                    .into_iter()
                    .map(|p| view! { <Policy p can version browsing /> })
                    .collect_view()
                    .into_any(),
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
        {move || browsing.get().map(|s| view! { <Browser s can toasts browsing /> })}
    }
}

/// Adds a policy: paths, excludes, a schedule.
#[component]
fn NewPolicy(project_id: i64, version: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new("default".to_owned());
    let paths = RwSignal::new(".".to_owned());
    let excludes = RwSignal::new(String::new());
    let cron = RwSignal::new(String::new());
    let remote = RemoteFields::default();
    let list = |s: String| {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let cron_text = cron.get_untracked().trim().to_owned();
        let req = CreatePolicyRequest {
            project_id,
            name: Some(name.get_untracked()),
            paths: Some(list(paths.get_untracked())),
            excludes: Some(list(excludes.get_untracked())),
            schedule: (!cron_text.is_empty()).then(|| BackupSchedule {
                cron: cron_text,
                timezone: "UTC".into(),
            }),
            remote: remote.request(),
            ..Default::default()
        };
        leptos::task::spawn_local(async move {
            match create_backup_policy(req).await {
                Ok(p) => {
                    toasts.info(format!("Backup policy {} added", p.name));
                    version.update(|v| *v += 1);
                }
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    view! {
        <details class="card" data-testid="new-backup-policy">
            <summary>"Add a backup policy"</summary>
            <form class="edit-form" on:submit=submit>
                <label>"Name" <input name="name" bind:value=name required /></label>
                <label>"Paths (comma-separated, relative to the project)" <input name="paths" bind:value=paths /></label>
                <label>"Excludes (gitignore globs, comma-separated)" <input name="excludes" placeholder="*.log, tmp/" bind:value=excludes /></label>
                <label>"Schedule (cron, UTC; empty: by hand)" <input name="cron" placeholder="0 30 2 * * *" bind:value=cron /></label>
                <RemoteForm remote />
                <div class="actions"><button class="button primary" type="submit" data-testid="create-backup-policy">"Add policy"</button></div>
            </form>
        </details>
    }
}

/// Where a new policy's repository lives when not under Optimus's data dir: an SFTP server.
#[derive(Clone, Copy, Default)]
struct RemoteFields {
    host: RwSignal<String>,
    port: RwSignal<String>,
    user: RwSignal<String>,
    password: RwSignal<String>,
    private_key: RwSignal<String>,
    host_key: RwSignal<String>,
    path: RwSignal<String>,
}

impl RemoteFields {
    /// The remote asked for (`None` while no host is given: the repository stays local).
    fn request(self) -> Option<BackupRemote> {
        let host = self.host.get_untracked().trim().to_owned();
        let given = |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        (!host.is_empty()).then(|| BackupRemote {
            kind: "sftp".into(),
            host,
            port: self.port.get_untracked().trim().parse().ok(),
            user: self.user.get_untracked().trim().to_owned(),
            password: given(self.password),
            private_key: given(self.private_key),
            host_key: given(self.host_key),
            path: self.path.get_untracked().trim().to_owned(),
        })
    }
}

#[component]
fn RemoteForm(remote: RemoteFields) -> impl IntoView {
    view! {
        <details data-testid="backup-remote">
            <summary>"Keep the repository on an SFTP server"</summary>
            <label>"Host" <input name="remote-host" placeholder="backup.example.org" bind:value=remote.host /></label>
            <label>"Port" <input name="remote-port" inputmode="numeric" placeholder="22" bind:value=remote.port /></label>
            <label>"User" <input name="remote-user" autocomplete="off" bind:value=remote.user /></label>
            <label>"Password" <input name="remote-password" type="password" autocomplete="new-password" bind:value=remote.password /></label>
            <label>"Or a private key (PEM)" <textarea name="remote-private-key" rows="3" bind:value=remote.private_key></textarea></label>
            <label>"Server's host key (ssh-ed25519 AAAA…; empty: not checked)" <input name="remote-host-key" bind:value=remote.host_key /></label>
            <label>"Folder on the server (a new one)" <input name="remote-path" placeholder="backups/my-project" bind:value=remote.path /></label>
        </details>
    }
}

/// One policy: what it keeps, its jobs, its snapshots, and the browser of the one picked.
#[component]
fn Policy(
    p: PolicyInfo,
    can: Can,
    version: RwSignal<u32>,
    browsing: RwSignal<Option<SnapshotInfo>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let policy_id = p.id;
    let jobs = LocalResource::new(move || {
        version.track();
        list_backup_jobs(PolicyRequest { policy_id })
    });
    let snapshots = LocalResource::new(move || {
        version.track();
        list_backup_snapshots(SnapshotsRequest {
            policy_id,
            good_only: false,
        })
    });
    let back_up = move |_| {
        leptos::task::spawn_local(async move {
            match run_backup(PolicyRequest { policy_id }).await {
                Ok(j) => toasts.info(format!("Backup #{} queued", j.id)),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    let verify = move |_| {
        leptos::task::spawn_local(async move {
            let asked = verify_backups(VerifyRequest {
                policy_id,
                level: VerifyLevel::Full,
                subset_percent: None,
            })
            .await;
            match asked {
                Ok(j) => toasts.info(format!("Full verification #{} queued", j.id)),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    let schedule = match (&p.schedule, p.paused) {
        (Some(s), false) => format!(
            "{} ({}), next {}",
            s.cron,
            s.timezone,
            p.next.first().map(|n| when(n)).unwrap_or_default()
        ),
        (Some(_), true) => "paused".into(),
        (None, _) => "by hand".into(),
    };
    let dbs = p
        .databases
        .iter()
        .map(|d| format!("{} ({})", d.name, d.kind.as_str()))
        .collect::<Vec<_>>();
    view! {
        <section class="card backup-policy" data-testid="backup-policy" data-name=p.name.clone()>
            <header class="deploy-head">
                <p>
                    <strong>{p.name.clone()}</strong>
                    <span class="muted">{format!(" — {}", p.paths.join(", "))}</span>
                    {(!dbs.is_empty()).then(|| view! { <span class="muted">{format!(" + databases {}", dbs.join(", "))}</span> })}
                </p>
                {(can.run).then(|| view! {
                    <div class="actions">
                        <button class="button primary" data-testid="backup-now" on:click=back_up>"Back up now"</button>
                        <button class="button" data-testid="verify-backups" on:click=verify>"Verify all data"</button>
                    </div>
                })}
            </header>
            <p class="muted small">
                {format!("Schedule: {schedule} · keeps last {}, daily {}, weekly {}, monthly {} · newest good backup: {}",
                    p.keep.last, p.keep.daily, p.keep.weekly, p.keep.monthly,
                    p.last_good_at.as_deref().map(when).unwrap_or_else(|| "never".into()))}
            </p>
            <p class="muted small" data-testid="backup-repository">{format!("Repository: {}", p.repository)}</p>
            {p.alert.clone().map(|a| view! { <p class="error" data-testid="backup-alert">{a}</p> })}
            <Transition fallback=|| ()>
                {move || jobs.get().and_then(|r| r.ok()).map(|list| {
                    let shown: Vec<_> = list.iter().filter(|j| open(j)).cloned().chain(list.iter().filter(|j| !open(j)).take(3).cloned()).collect();
                    (!shown.is_empty()).then(|| view! {
                        <ul class="backup-jobs" data-testid="backup-jobs">
                            {shown.into_iter().map(|j| view! { <JobLine j /> }).collect_view()}
                        </ul>
                    })
                })}
                {move || snapshots.get().map(|r| match r {
                    Ok(list) => view! { <Snapshots list browsing /> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// A policy's snapshots, newest first.
#[component]
fn Snapshots(list: Vec<SnapshotInfo>, browsing: RwSignal<Option<SnapshotInfo>>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No backups yet."</p> }.into_any();
    }
    view! {
        <table class="table" data-testid="backup-snapshots">
            <thead>
                <tr><th>"When"</th><th>"Status"</th><th>"Size"</th><th>"Files"</th><th>"New"</th><th>"Took"</th><th>"Verified"</th><th></th></tr>
            </thead>
            <tbody>
                {list.into_iter().map(|s| {
                    let good = s.status == "good";
                    let chosen = s.clone();
                    let verified = match (&s.verified, &s.verify_error) {
                        (_, Some(e)) => format!("failed: {e}"),
                        (Some(l), None) => l.clone(),
                        (None, None) => "—".into(),
                    };
                    view! {
                        <tr data-testid="backup-snapshot" data-status=s.status.clone() data-id=s.id>
                            <td>{when(&s.time)}</td>
                            <td>
                                <span class=status_class(&s.status)>{s.status.clone()}</span>
                                {(s.kind == "safety").then(|| view! { <span class="tag" title="Taken just before an in-place restore overwrote these files">"safety"</span> })}
                                {s.reason.clone().map(|r| view! { <div class="muted small">{r}</div> })}
                            </td>
                            <td>{size(s.bytes.max(0) as u64)}</td>
                            <td>{s.files}</td>
                            <td>{size(s.added_bytes.max(0) as u64)}</td>
                            <td>{format!("{:.1} s", s.duration_ms as f64 / 1000.0)}</td>
                            <td>{verified}</td>
                            <td class="actions">
                                {good.then(|| view! {
                                    <button class="button small" data-testid="browse-snapshot" on:click=move |_| browsing.set(Some(chosen.clone()))>"Browse & restore"</button>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn parent_of(path: &str) -> Option<String> {
    let p = std::path::Path::new(path).parent()?.display().to_string();
    (!p.is_empty()).then_some(p)
}

/// A snapshot's folders, a file or folder to restore, and where to.
#[component]
fn Browser(
    s: SnapshotInfo,
    can: Can,
    toasts: Toasts,
    browsing: RwSignal<Option<SnapshotInfo>>,
) -> impl IntoView {
    let snapshot_id = s.id;
    let folder = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(None::<String>);
    let target = RwSignal::new(String::new());
    let files = LocalResource::new(move || {
        list_snapshot_files(FilesRequest {
            snapshot_id,
            path: folder.get(),
        })
    });
    let in_place = RwSignal::new(false);
    let stop_services = RwSignal::new(false);
    let send = move |dry_run: bool| {
        let here = in_place.get_untracked();
        let req = RestoreRequest {
            snapshot_id,
            target_path: (!here).then(|| target.get_untracked().trim().to_owned()),
            path: chosen.get_untracked(),
            dry_run,
            in_place: here,
            stop_services: here && stop_services.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match restore_backup(req).await {
                Ok(j) if dry_run => toasts.info(format!(
                    "Dry run #{} queued: its result lists what would be written",
                    j.id
                )),
                Ok(j) => toasts.info(format!("Restore #{} queued", j.id)),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    let restore = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send(false);
    };
    view! {
        <div class="backup-browser card" data-testid="snapshot-browser">
            <p>
                <strong>{format!("Backup of {}", when(&s.time))}</strong>
                <span class="muted">{move || format!(" — /{}", folder.get().unwrap_or_default())}</span>
                " "
                {move || folder.get().map(|f| view! {
                    <button class="button small" data-testid="folder-up" on:click=move |_| folder.set(parent_of(&f))>"Up"</button>
                })}
                " "
                <button class="button small ghost" data-testid="close-browser" on:click=move |_| browsing.set(None)>"Close"</button>
            </p>
            <Transition fallback=|| view! { <p class="muted">"Reading the snapshot…"</p> }>
                {move || files.get().map(|r| match r {
                    Ok(list) => view! {
                        <table class="table" data-testid="snapshot-files">
                            <tbody>
                                {list.into_iter().map(|e| {
                                    let (path, path2) = (e.path.clone(), e.path.clone());
                                    let dir = e.kind == "dir";
                                    view! {
                                        <tr data-testid="snapshot-entry" data-name=e.name.clone() data-kind=e.kind.clone()>
                                            <td>
                                                {if dir {
                                                    view! { <button class="folder-link" data-testid="open-folder" on:click=move |_| folder.set(Some(path.clone()))>{format!("{}/", e.name)}</button> }.into_any()
                                                } else {
                                                    view! { <span>{e.name.clone()}</span> }.into_any()
                                                }}
                                            </td>
                                            <td>{if dir { String::new() } else { size(e.size) }}</td>
                                            <td class="actions">
                                                {can.restore.then(|| view! {
                                                    <button class="button small" data-testid="choose-restore" on:click=move |_| chosen.set(Some(path2.clone()))>"Restore…"</button>
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            {can.restore.then(|| view! {
                <form class="edit-form" data-testid="restore-form" on:submit=restore>
                    <p>{move || {
                        let what = chosen.get().map(|c| format!("`{c}`")).unwrap_or_else(|| "everything".into());
                        if in_place.get() {
                            format!("Restore {what} over the project's folder: files that differ are rewritten, files the backup does not hold are kept, and a safety snapshot of what is there is taken first.")
                        } else {
                            format!("Restore {what} to a new path (it must not exist; nothing is overwritten):")
                        }
                    }}</p>
                    <label class="check"><input type="checkbox" data-testid="restore-in-place" bind:checked=in_place />" In place"</label>
                    {move || if in_place.get() {
                        view! {
                            <label class="check"><input type="checkbox" data-testid="restore-stop-services" bind:checked=stop_services />" Stop the project's services for it (they start again after)"</label>
                        }.into_any()
                    } else {
                        view! {
                            <label>"Target path" <input name="target_path" placeholder="/home/you/restored" bind:value=target required /></label>
                        }.into_any()
                    }}
                    <div class="actions">
                        <button class="button" type="button" data-testid="restore-dry-run" on:click=move |_| send(true)>"Dry run"</button>
                        <button class="button primary" type="submit" data-testid="restore">"Restore"</button>
                    </div>
                </form>
            })}
        </div>
    }
}
