//! The services table: one row per service with its state, port, pid, restarts, command and
//! limits, the "restart to apply" difference, and per-service controls.

use crate::api::runtime::pending_service_changes;
use crate::models::environments::SpecChange;
use crate::models::runtime::{ServiceInfo, ServiceRequest, ServiceState};
use leptos::prelude::*;

fn state_class(s: ServiceState) -> &'static str {
    match s {
        ServiceState::Ready => "badge ok",
        ServiceState::Starting | ServiceState::Waiting | ServiceState::Stopping => "badge",
        ServiceState::Unhealthy | ServiceState::Backoff => "badge warn",
        ServiceState::Failed | ServiceState::CrashLoop => "badge danger",
        ServiceState::Stopped | ServiceState::Exited => "badge subtle",
    }
}

/// The whole-project buttons and the table of services. `act(what, id)` starts, stops or
/// restarts one service; `act_all(what)` every service of the project.
pub fn services_table(
    list: Vec<ServiceInfo>,
    can_control: bool,
    can_edit: bool,
    editing: RwSignal<Option<Option<ServiceInfo>>>,
    act: impl Fn(&'static str, i64) + Copy + Send + Sync + 'static,
    act_all: impl Fn(&'static str) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <Show when=move || can_control>
            <div class="inline-form">
                <button class="button primary" data-testid="start-all" title="s" on:click=move |_| act_all("start")>"Start all"</button>
                <button class="button" data-testid="stop-all" title="x" on:click=move |_| act_all("stop")>"Stop all"</button>
                <button class="button" data-testid="restart-all" title="r" on:click=move |_| act_all("restart")>"Restart all"</button>
            </div>
        </Show>
        <table class="table" data-testid="services">
            <thead>
                <tr>
                    <th>"Service"</th>
                    <th>"State"</th>
                    <th>"Port"</th>
                    <th>"PID"</th>
                    <th>"Restarts"</th>
                    <th>"Command"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|s| service_row(s, can_control, can_edit, editing, act)).collect_view()}
            </tbody>
        </table>
    }
}

fn service_row(
    s: ServiceInfo,
    can_control: bool,
    can_edit: bool,
    editing: RwSignal<Option<Option<ServiceInfo>>>,
    act: impl Fn(&'static str, i64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = s.id;
    let limits = s
        .last_run
        .as_ref()
        .map(|r| {
            r.limits
                .iter()
                .map(|l| {
                    let unit = match l.limit.as_str() {
                        "memory" => " MiB",
                        "cpu" => "% cpu",
                        _ => " files",
                    };
                    format!("{}{unit}: {}", l.value, l.method)
                })
                .collect::<Vec<_>>()
                .join(" · ")
        })
        .filter(|t| !t.is_empty());
    let log_trouble = s
        .last_run
        .as_ref()
        .and_then(|r| r.log_trouble.as_ref())
        .map(|t| match &t.error {
            Some(e) => format!("Log lines are being lost ({} so far): {e}", t.lost_lines),
            None => format!("{} log lines were lost", t.lost_lines),
        });
    // A plain clone, not a StoredValue: this row is built inside the table's Suspend, whose
    // reactive values are disposed on the next reload while the old row may still be shown.
    let this = std::sync::Arc::new(s.clone());
    let live = s.state.is_active();
    let pid = s
        .last_run
        .as_ref()
        .filter(|r| r.ended_at.is_none())
        .and_then(|r| r.pid)
        .map(|p| p.to_string())
        .unwrap_or_default();
    view! {
        <tr data-service=s.definition.name.clone() data-state=s.state.as_str()>
            <td>
                <strong>{s.definition.name.clone()}</strong>
                {(!s.definition.depends_on.is_empty()).then(|| view! { <div class="muted small">{format!("after {}", s.definition.depends_on.join(", "))}</div> })}
            </td>
            <td>
                <span class=state_class(s.state) data-testid="service-state">{s.state.as_str().replace('_', " ")}</span>
                {s.pending_changes.then(|| view! { <PendingChanges id /> })}
                {s.message.clone().map(|m| view! { <div class="muted small">{m}</div> })}
                {log_trouble.map(|t| view! { <div class="small log-trouble" data-testid="log-trouble">{t}</div> })}
            </td>
            <td>{s.port.map(|p| p.to_string()).unwrap_or_else(|| "—".into())}</td>
            <td>{pid}</td>
            <td>{s.restarts}</td>
            <td>
                <code>{s.definition.command.clone()}</code>
                {limits.map(|t| view! { <div class="muted limits" data-testid="limits" title="How the limits are enforced">{t}</div> })}
            </td>
            <td>
                <Show when=move || can_edit>
                    <button class="button ghost" data-testid="edit-service" on:click={
                        let this = this.clone();
                        move |_| editing.set(Some(Some((*this).clone())))
                    }>"Edit"</button>
                </Show>
                <Show when=move || can_control>
                    {if live {
                        view! {
                            <button class="button ghost" data-testid="stop" on:click=move |_| act("stop", id)>"Stop"</button>
                            <button class="button ghost" on:click=move |_| act("restart", id)>"Restart"</button>
                        }
                            .into_any()
                    } else {
                        view! { <button class="button ghost" data-testid="start" on:click=move |_| act("start", id)>"Start"</button> }.into_any()
                    }}
                </Show>
            </td>
        </tr>
    }
}

/// The "restart to apply" badge; a click lists what a restart would change (secrets masked).
#[component]
fn PendingChanges(
    /// The service.
    id: i64,
) -> impl IntoView {
    let changes = RwSignal::new(None::<Vec<SpecChange>>);
    let toggle = move |_| {
        if changes.get_untracked().is_some() {
            changes.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            if let Ok(list) = pending_service_changes(ServiceRequest { id }).await {
                changes.set(Some(list));
            }
        });
    };
    view! {
        <button class="badge warn" data-testid="pending-changes" title="The definition or environment changed; click for the difference" on:click=toggle>
            "restart to apply"
        </button>
        {move || {
            changes
                .get()
                .map(|list| {
                    view! {
                        <ul class="changes small" data-testid="change-list">
                            {list
                                .into_iter()
                                .map(|c| {
                                    view! {
                                        <li>
                                            <code>{c.what}</code>": "
                                            <del>{c.before.unwrap_or_else(|| "—".into())}</del>" → "
                                            <ins>{c.after.unwrap_or_else(|| "—".into())}</ins>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })
        }}
    }
}
