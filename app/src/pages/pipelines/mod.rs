//! The Pipelines page (`g l`): the latest runs across projects, live, and every schedule with
//! its next fire times (pause and resume). A run's own page is [`run`]; a project's pipelines
//! (define, run with parameters) are a tab of the project page.

pub mod log;
pub mod run;

use crate::api::pipelines::{list_runs, list_schedules, pause_schedule};
use crate::components::browser::ClientOnly;
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::events::{Event, ServerMessage};
use crate::models::pipelines::{
    PauseScheduleRequest, PipelineRunInfo, RunsRequest, ScheduleInfo, SchedulesRequest,
};
use crate::models::Operation;
use leptos::prelude::*;

/// The badge class of a run or step state.
pub fn state_class(state: &str) -> &'static str {
    match state {
        "succeeded" => "badge ok",
        "failed" | "interrupted" => "badge danger",
        "running" => "badge running",
        "waiting_approval" => "badge waiting",
        _ => "badge subtle",
    }
}

/// `83400` ms → `1m 23s`.
pub fn duration(ms: Option<u64>) -> String {
    let Some(ms) = ms else {
        return "—".into();
    };
    let secs = ms / 1000;
    match secs {
        0 => format!("{:.1}s", ms as f64 / 1000.0),
        1..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m {}s", secs / 60, secs % 60),
        _ => format!("{}h {}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// The runs table (shared by this page and the project's tab).
#[component]
pub fn RunsTable(
    /// The runs, newest first.
    runs: Vec<PipelineRunInfo>,
) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p class="muted" data-testid="no-runs">"No runs yet."</p> }.into_any();
    }
    view! {
        <table class="table" data-testid="runs">
            <thead>
                <tr>
                    <th>"Run"</th>
                    <th>"Status"</th>
                    <th>"Trigger"</th>
                    <th>"Started by"</th>
                    <th>"Queued"</th>
                    <th>"Duration"</th>
                </tr>
            </thead>
            <tbody>
                {runs
                    .into_iter()
                    .map(|r| {
                        let status = r.status.as_str();
                        view! {
                            <tr data-testid="run-row">
                                <td>
                                    <a href=format!("/pipelines/runs/{}", r.id)>{format!("{} #{}", r.pipeline, r.number)}</a>
                                </td>
                                <td>
                                    <span class=state_class(status) data-testid="run-status">{status}</span>
                                </td>
                                <td>{r.trigger.as_str()}</td>
                                <td>{r.triggered_by.unwrap_or_else(|| "—".into())}</td>
                                <td>{r.created_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                                <td>{duration(r.duration_ms)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The Pipelines page.
#[component]
pub fn PipelinesPage() -> impl IntoView {
    view! {
        <h1>"Pipelines"</h1>
        <p class="muted">"Runs across every project, live; schedules with their next fire times."</p>
        <ClientOnly fallback=|| view! { <p class="muted">"Loading…"</p> }>
            <PipelinesBody />
        </ClientOnly>
    }
}

#[component]
fn PipelinesBody() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let runs = LocalResource::new(move || {
        version.track();
        list_runs(RunsRequest {
            limit: Some(50),
            ..Default::default()
        })
    });
    Effect::new(move |_| {
        crate::components::live::subscribe(&["pipelines"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::PipelineRunChanged { step: None, .. } = envelope.event {
                    version.update(|v| *v += 1);
                }
            }
        });
    });
    view! {
        <h2>"Runs"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading runs…"</p> }>
            {move || {
                runs.get().map(|r| match r {
                    Ok(list) => view! { <RunsTable runs=list /> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })
            }}
        </Transition>
        <Schedules project_id=None />
    }
}

/// Every schedule (of one project, or all) with its next fire times; pause and resume.
#[component]
pub fn Schedules(
    /// One project's, or every project's.
    project_id: Option<i64>,
) -> impl IntoView {
    let toasts = use_toasts();
    let can_pause =
        use_context::<Me>().is_some_and(|m| Operation::RunPipelines.allowed_for(m.role));
    let version = RwSignal::new(0u32);
    let schedules = LocalResource::new(move || {
        version.track();
        list_schedules(SchedulesRequest { project_id })
    });
    let toggle = move |s: &ScheduleInfo| {
        let req = PauseScheduleRequest {
            pipeline_id: s.pipeline_id,
            index: s.index,
            paused: !s.paused,
        };
        leptos::task::spawn_local(async move {
            match pause_schedule(req).await {
                Ok(_) => version.update(|v| *v += 1),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    view! {
        <h2>"Schedules"</h2>
        <Transition fallback=|| ()>
            {move || {
                schedules.get().map(|r| match r {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="muted">"No pipeline has a schedule."</p> }.into_any()
                    }
                    Ok(list) => {
                        view! {
                            <table class="table" data-testid="schedules">
                                <thead>
                                    <tr>
                                        <th>"Pipeline"</th>
                                        <th>"Cron"</th>
                                        <th>"Time zone"</th>
                                        <th>"Missed runs"</th>
                                        <th>"Next"</th>
                                        <th>"Last fired"</th>
                                        <th></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list
                                        .into_iter()
                                        .map(|s| {
                                            let next = s
                                                .next
                                                .iter()
                                                .take(3)
                                                .map(|t| t.format("%m-%d %H:%M:%S").to_string())
                                                .collect::<Vec<_>>()
                                                .join(", ");
                                            let label = if s.paused { "Resume" } else { "Pause" };
                                            let item = s.clone();
                                            view! {
                                                <tr>
                                                    <td>{s.pipeline.clone()}</td>
                                                    <td><code>{s.cron.clone()}</code></td>
                                                    <td>{s.timezone.clone()}</td>
                                                    <td>{format!("{:?}", s.missed).to_lowercase()}</td>
                                                    <td>{if s.paused { "paused".to_owned() } else { next }}</td>
                                                    <td>{s.last_fire_at.map(|t| t.format("%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "—".into())}</td>
                                                    <td>
                                                        <Show when=move || can_pause>
                                                            {
                                                                let item = item.clone();
                                                                view! { <button class="button ghost" on:click=move |_| toggle(&item)>{label}</button> }
                                                            }
                                                        </Show>
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })
            }}
        </Transition>
    }
}
