//! One run's page (`/pipelines/runs/:id`): its state live, the DAG of its steps with their
//! states and durations, gates to approve or reject, the selected step's log, artifacts to
//! download; cancel and rerun. Keys: `c` cancel, `r` rerun, `f` rerun from the failed step, `a`
//! approve the waiting gate.

use super::log::StepLogView;
use super::{duration, state_class};
use crate::api::pipelines::{cancel_run, decide_gate, get_run, rerun};
use crate::components::browser::ClientOnly;
use crate::components::toasts::{use_toasts, Toasts};
use crate::models::auth::Me;
use crate::models::events::{Event, ServerMessage};
use crate::models::pipelines::{
    DecideRequest, PipelineRunInfo, RerunRequest, RunRequest, StepInfo, StepState,
};
use crate::models::Operation;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The column of each step in the drawing: one more than its deepest dependency.
pub fn columns(steps: &[StepInfo]) -> Vec<Vec<usize>> {
    let mut level: Vec<Option<usize>> = vec![None; steps.len()];
    // At most `steps.len()` passes settle every level (a definition has no cycles).
    for _ in 0..=steps.len() {
        for i in 0..steps.len() {
            let deps: Vec<Option<usize>> = steps[i]
                .depends_on
                .iter()
                .map(|d| {
                    steps
                        .iter()
                        .position(|s| &s.name == d)
                        .and_then(|j| level[j])
                })
                .collect();
            if deps.iter().all(Option::is_some) {
                level[i] = Some(deps.iter().flatten().map(|l| l + 1).max().unwrap_or(0));
            }
        }
    }
    let depth = level.iter().flatten().max().map_or(0, |m| m + 1);
    let mut out = vec![Vec::new(); depth.max(1)];
    for (i, l) in level.iter().enumerate() {
        out[l.unwrap_or(0)].push(i);
    }
    out
}

/// The run page.
#[component]
pub fn RunPage() -> impl IntoView {
    view! {
        <ClientOnly fallback=|| view! { <p class="muted">"Loading…"</p> }>
            <RunBody />
        </ClientOnly>
    }
}

/// Cancels or reruns; a rerun's new run is shown next (through `go`).
fn act(
    toasts: Toasts,
    version: RwSignal<u32>,
    go: RwSignal<Option<i64>>,
    what: &'static str,
    id: i64,
) {
    leptos::task::spawn_local(async move {
        let result = match what {
            "cancel" => cancel_run(RunRequest { id }).await.map(|_| None),
            "rerun" => rerun(RerunRequest {
                id,
                from_failed: false,
            })
            .await
            .map(|r| Some(r.id)),
            _ => rerun(RerunRequest {
                id,
                from_failed: true,
            })
            .await
            .map(|r| Some(r.id)),
        };
        match result {
            Ok(Some(new)) => go.set(Some(new)),
            Ok(None) => version.update(|v| *v += 1),
            Err(e) => toasts.error(e.to_string()),
        }
    });
}

fn decide(
    toasts: Toasts,
    version: RwSignal<u32>,
    run_id: i64,
    step: String,
    approve: bool,
    comment: String,
) {
    leptos::task::spawn_local(async move {
        let req = DecideRequest {
            run_id,
            step,
            approve,
            comment,
        };
        match decide_gate(req).await {
            Ok(_) => {
                toasts.info(if approve { "Approved" } else { "Rejected" });
                version.update(|v| *v += 1);
            }
            Err(e) => toasts.error(e.to_string()),
        }
    });
}

#[component]
fn RunBody() -> impl IntoView {
    let toasts = use_toasts();
    let role = use_context::<Me>().map(|m| m.role);
    let can_run = role.is_some_and(|r| Operation::RunPipelines.allowed_for(r));
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0))
    });
    let version = RwSignal::new(0u32);
    let go = RwSignal::new(None::<i64>);
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(new) = go.get() {
            navigate(&format!("/pipelines/runs/{new}"), Default::default());
        }
    });
    let selected = RwSignal::new(None::<String>);
    let comment = RwSignal::new(String::new());
    let run = LocalResource::new(move || {
        version.track();
        get_run(RunRequest { id: id.get() })
    });
    let current = RwSignal::new(None::<PipelineRunInfo>);
    Effect::new(move |_| {
        if let Some(Ok(r)) = run.get() {
            if selected.get_untracked().is_none() {
                // The first step that ran or waits, else the first.
                let pick = r
                    .steps
                    .iter()
                    .rev()
                    .find(|s| s.status != StepState::Pending)
                    .or(r.steps.first())
                    .map(|s| s.name.clone());
                selected.set(pick);
            }
            current.set(Some(r));
        }
    });
    Effect::new(move |_| {
        crate::components::live::subscribe(&["pipelines"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::PipelineRunChanged { run_id, .. } = envelope.event {
                    if run_id == id.get_untracked() {
                        version.update(|v| *v += 1);
                    }
                }
            }
        });
    });
    // Keyboard: c cancel, r rerun, f rerun from the failed step, a approve the waiting gate.
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if !can_run
                || crate::components::layout::is_typing(&ev)
                || ev.ctrl_key()
                || ev.meta_key()
                || ev.alt_key()
            {
                return;
            }
            let Some(r) = current.get_untracked() else {
                return;
            };
            match ev.key().as_str() {
                "c" if !r.status.is_final() => act(toasts, version, go, "cancel", r.id),
                "r" if r.status.is_final() => act(toasts, version, go, "rerun", r.id),
                "f" if r.status.is_final() => act(toasts, version, go, "from_failed", r.id),
                "a" => {
                    if let Some(gate) = r.steps.iter().find(|s| s.status == StepState::Waiting) {
                        decide(
                            toasts,
                            version,
                            r.id,
                            gate.name.clone(),
                            true,
                            comment.get_untracked(),
                        );
                    }
                }
                _ => {}
            }
        });
        on_cleanup(move || handle.remove());
    });
    view! {
        {move || match run.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
            Some(Ok(_)) => ().into_any(),
        }}
        {move || current.get().map(|r| {
            let status = r.status.as_str();
            let over = r.status.is_final();
            let rid = r.id;
            let cols = columns(&r.steps);
            let steps = r.steps.clone();
            let waiting: Vec<StepInfo> = r.steps.iter().filter(|s| s.status == StepState::Waiting).cloned().collect();
            view! {
                <header class="run-header">
                    <h1>
                        <a href=format!("/projects/{}?tab=pipelines", r.project_id)>{r.pipeline.clone()}</a>
                        {format!(" #{}", r.number)}
                    </h1>
                    <span class=state_class(status) data-testid="run-state">{status}</span>
                </header>
                <p class="muted">
                    {format!(
                        "{} · started by {} · {}{}",
                        r.trigger.as_str(),
                        r.triggered_by.clone().unwrap_or_else(|| "a trigger".into()),
                        duration(r.duration_ms),
                        r.branch.clone().map(|b| format!(" · {b}")).unwrap_or_default(),
                    )}
                    {r.commit.clone().map(|c| view! { <code>{format!(" {}", &c[..c.len().min(10)])}</code> })}
                </p>
                {r.message.clone().map(|m| view! { <p data-testid="run-message">{m}</p> })}
                {(!r.params.is_empty()).then(|| view! {
                    <p class="small">
                        {r.params.iter().map(|(k, v)| view! { <span class="badge subtle">{format!("{k} = {}", v.to_env())}</span> " " }).collect_view()}
                    </p>
                })}
                <Show when=move || can_run>
                    <div class="inline-form">
                        {(!over).then(|| view! {
                            <button class="button" data-testid="cancel-run" title="c" on:click=move |_| act(toasts, version, go, "cancel", rid)>"Cancel"</button>
                        })}
                        {over.then(|| view! {
                            <button class="button" data-testid="rerun" title="r" on:click=move |_| act(toasts, version, go, "rerun", rid)>"Rerun"</button>
                            <button class="button ghost" data-testid="rerun-failed" title="f" on:click=move |_| act(toasts, version, go, "from_failed", rid)>"Rerun from failed"</button>
                        })}
                    </div>
                </Show>
                {waiting.into_iter().map(|g| {
                    let name = g.name.clone();
                    let (n1, n2) = (name.clone(), name.clone());
                    let gate = g.gate.clone();
                    view! {
                        <div class="card gate" data-testid="gate">
                            <strong>{format!("Approval: {name}")}</strong>
                            {gate.as_ref().map(|gi| view! {
                                <p>{gi.prompt.clone()}</p>
                                <p class="muted small">{format!(
                                    "needs {} or higher{}{}",
                                    gi.min_role.as_str(),
                                    if gi.not_triggerer { ", not the person who started the run" } else { "" },
                                    gi.expires_at.map(|t| format!(" · fails at {}", t.format("%Y-%m-%d %H:%M"))).unwrap_or_default()
                                )}</p>
                            })}
                            <div class="inline-form">
                                <input name="comment" placeholder="Comment (optional)" aria-label="Comment" bind:value=comment />
                                <button class="button primary" data-testid="approve" title="a" on:click=move |_| decide(toasts, version, rid, n1.clone(), true, comment.get_untracked())>"Approve"</button>
                                <button class="button" data-testid="reject" on:click=move |_| decide(toasts, version, rid, n2.clone(), false, comment.get_untracked())>"Reject"</button>
                            </div>
                        </div>
                    }
                }).collect_view()}
                <div class="dag" data-testid="dag">
                    {cols.into_iter().map(|col| {
                        let steps = steps.clone();
                        view! {
                            <div class="dag-column">
                                {col.into_iter().map(|i| {
                                    let s = steps[i].clone();
                                    let name = s.name.clone();
                                    let pick = name.clone();
                                    let st = s.status.as_str();
                                    view! {
                                        <button class=move || format!("dag-step {}{}", st, if selected.get().as_deref() == Some(name.as_str()) { " selected" } else { "" })
                                            data-testid="dag-step" data-step=s.name.clone() data-state=st
                                            on:click=move |_| selected.set(Some(pick.clone()))>
                                            <strong>{s.name.clone()}</strong>
                                            <span class=state_class(st)>{st}</span>
                                            <span class="muted small">{duration(s.duration_ms)}{(s.attempt > 1).then(|| format!(" · attempt {}", s.attempt))}</span>
                                            {s.tests.map(|t| view! { <span class="small">{format!("✓{} ✗{} ↷{}", t.passed, t.failed, t.skipped)}</span> })}
                                            {s.reason.clone().map(|why| view! { <span class="small muted">{why}</span> })}
                                        </button>
                                    }
                                }).collect_view()}
                            </div>
                        }
                    }).collect_view()}
                </div>
                {(!r.artifacts.is_empty()).then(|| view! {
                    <h2>"Artifacts"</h2>
                    <table class="table" data-testid="artifacts">
                        <thead><tr><th>"File"</th><th>"Step"</th><th>"Size"</th><th>"SHA-256"</th></tr></thead>
                        <tbody>
                            {r.artifacts.iter().map(|a| view! {
                                <tr>
                                    <td><a data-testid="artifact" download="" href=format!("/api/v1/pipelines/artifact?run_id={rid}&path={}", a.path)>{a.path.clone()}</a></td>
                                    <td>{a.step.clone()}</td>
                                    <td>{format!("{} B", a.size)}</td>
                                    <td><code class="small">{a.sha256[..a.sha256.len().min(16)].to_owned()}"…"</code></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                })}
            }
        })}
        {move || selected.get().map(|step| view! { <StepLogView run_id=id.get() step /> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, deps: &[&str]) -> StepInfo {
        StepInfo {
            name: name.into(),
            status: StepState::Pending,
            depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
            attempt: 1,
            exit_code: None,
            signal: None,
            reason: None,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            tests: None,
            gate: None,
        }
    }

    #[test]
    fn steps_are_drawn_one_column_after_their_deepest_dependency() {
        let steps = vec![
            step("ship", &["approve"]),
            step("build", &[]),
            step("lint", &[]),
            step("test", &["build", "lint"]),
            step("approve", &["test"]),
        ];
        assert_eq!(columns(&steps), vec![vec![1, 2], vec![3], vec![4], vec![0]]);
        assert_eq!(columns(&[]), vec![Vec::<usize>::new()]);
    }
}
