//! A project's pipelines tab: its pipelines (from `optimus.toml` or made here), a run form built
//! from each pipeline's parameters, a definition editor for new pipelines, and the project's
//! latest runs and schedules, live.

use crate::api::pipelines::{
    create_pipeline, list_pipelines, list_runs, run_pipeline, update_pipeline,
};
use crate::components::browser::ClientOnly;
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::events::{Event, ServerMessage};
use crate::models::pipelines::{
    CreatePipelineRequest, Parameter, ParameterKind, ParameterValue, PipelineDefinition,
    PipelineInfo, ProjectPipelinesRequest, RunPipelineRequest, RunsRequest, UpdatePipelineRequest,
};
use crate::models::Operation;
use crate::pages::pipelines::{RunsTable, Schedules};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// What the definition editor starts with.
const TEMPLATE: &str = r#"{
  "name": "ci",
  "parameters": [
    {"name": "target", "type": "choice", "choices": ["staging", "production"], "default": "staging"}
  ],
  "steps": [
    {"name": "test", "command": "make test"},
    {"name": "build", "command": "make build", "depends_on": ["test"], "artifacts": ["dist/*"]}
  ]
}"#;

/// A parameter's typed value from what its field holds; `None` leaves it to its default.
pub fn typed(p: &Parameter, raw: &str) -> Option<ParameterValue> {
    let raw = raw.trim();
    if raw.is_empty() && p.kind != ParameterKind::Boolean {
        return None;
    }
    Some(match p.kind {
        ParameterKind::Boolean => ParameterValue::Boolean(raw == "true"),
        // A number that does not parse is sent as text, for the server to refuse by name.
        ParameterKind::Number => raw
            .parse::<f64>()
            .map(ParameterValue::Number)
            .unwrap_or_else(|_| ParameterValue::Text(raw.to_owned())),
        ParameterKind::String | ParameterKind::Choice => ParameterValue::Text(raw.to_owned()),
    })
}

/// The pipelines tab: rendered in the browser only (its lists are fetched there), so nothing
/// of it is in the server-rendered page to mismatch during hydration.
#[component]
pub fn PipelinesTab(
    /// The project.
    project_id: i64,
) -> impl IntoView {
    view! {
        <ClientOnly fallback=|| view! { <p class="muted">"Loading pipelines…"</p> }>
            <PipelinesBody project_id />
        </ClientOnly>
    }
}

#[component]
fn PipelinesBody(project_id: i64) -> impl IntoView {
    let toasts = use_toasts();
    let role = use_context::<Me>().map(|m| m.role);
    let can_edit = role.is_some_and(|r| Operation::EditPipelines.allowed_for(r));
    let version = RwSignal::new(0u32);
    let pipelines = LocalResource::new(move || {
        version.track();
        list_pipelines(ProjectPipelinesRequest { project_id })
    });
    let runs = LocalResource::new(move || {
        version.track();
        list_runs(RunsRequest {
            project_id: Some(project_id),
            limit: Some(20),
            ..Default::default()
        })
    });
    Effect::new(move |_| {
        crate::components::live::subscribe(&["pipelines"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::PipelineRunChanged {
                    project_id: p,
                    step: None,
                    ..
                } = envelope.event
                {
                    if p == project_id {
                        version.update(|v| *v += 1);
                    }
                }
            }
        });
    });
    let editing = RwSignal::new(false);
    let source = RwSignal::new(TEMPLATE.to_owned());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let definition: PipelineDefinition = match serde_json::from_str(&source.get_untracked()) {
            Ok(d) => d,
            Err(e) => {
                toasts.error(format!(
                    "The definition is not valid JSON for a pipeline: {e}"
                ));
                return;
            }
        };
        leptos::task::spawn_local(async move {
            match create_pipeline(CreatePipelineRequest {
                project_id,
                definition,
            })
            .await
            {
                Ok(p) => {
                    toasts.info(format!("Pipeline {} added", p.name));
                    editing.set(false);
                    version.update(|v| *v += 1);
                }
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    view! {
        <h2>"Pipelines"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading pipelines…"</p> }>
            {move || {
                pipelines.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted" data-testid="no-pipelines">"No pipelines yet: declare them under [[pipelines]] in optimus.toml, or add one here."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="pipelines" data-testid="pipelines">
                            {list.into_iter().map(|p| view! { <PipelineCard p version /> }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })
            }}
        </Transition>
        <Show when=move || can_edit>
            <Show when=move || editing.get() fallback=move || view! {
                <button class="button" data-testid="new-pipeline" on:click=move |_| editing.set(true)>"New pipeline"</button>
            }>
                <form class="editor" data-testid="pipeline-editor" on:submit=save>
                    <label class="wide">
                        "Definition (JSON; the same fields as [[pipelines]] in optimus.toml)"
                        <textarea name="definition" rows="14" bind:value=source></textarea>
                    </label>
                    <div class="inline-form wide">
                        <button class="button primary" type="submit" data-testid="save-pipeline">"Add pipeline"</button>
                        <button class="button ghost" type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                    </div>
                </form>
            </Show>
        </Show>
        <h2>"Runs"</h2>
        <Transition fallback=|| ()>
            {move || {
                runs.get().map(|r| match r {
                    Ok(list) => view! { <RunsTable runs=list /> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })
            }}
        </Transition>
        <Schedules project_id=Some(project_id) />
    }
}

/// One pipeline: what it is, and (for those who may) a run form built from its parameters and
/// its definition to edit.
#[component]
fn PipelineCard(
    p: PipelineInfo,
    /// Bumped when the list should reload.
    version: RwSignal<u32>,
) -> impl IntoView {
    let toasts = use_toasts();
    let role = use_context::<Me>().map(|m| m.role);
    let can_run = role.is_some_and(|r| Operation::RunPipelines.allowed_for(r));
    let can_edit = role.is_some_and(|r| Operation::EditPipelines.allowed_for(r));
    let open = RwSignal::new(false);
    let editing = RwSignal::new(false);
    let source = RwSignal::new(serde_json::to_string_pretty(&p.definition).unwrap_or_default());
    let id = p.id;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let definition: PipelineDefinition = match serde_json::from_str(&source.get_untracked()) {
            Ok(d) => d,
            Err(e) => {
                toasts.error(format!(
                    "The definition is not valid JSON for a pipeline: {e}"
                ));
                return;
            }
        };
        leptos::task::spawn_local(async move {
            match update_pipeline(UpdatePipelineRequest { id, definition }).await {
                Ok(saved) => {
                    toasts.info(format!("Pipeline {} saved", saved.name));
                    editing.set(false);
                    version.update(|v| *v += 1);
                }
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    let def = p.definition.clone();
    let values = RwSignal::new(
        def.parameters
            .iter()
            .map(|param| {
                let start = param
                    .default
                    .as_ref()
                    .map(ParameterValue::to_env)
                    .unwrap_or_default();
                (param.name.clone(), start)
            })
            .collect::<BTreeMap<String, String>>(),
    );
    let go = RwSignal::new(None::<i64>);
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(run) = go.get() {
            navigate(&format!("/pipelines/runs/{run}"), Default::default());
        }
    });
    let params = def.parameters.clone();
    let pipeline_id = p.id;
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let given = values.get_untracked();
        let params: BTreeMap<String, ParameterValue> = params
            .iter()
            .filter_map(|param| {
                typed(
                    param,
                    given
                        .get(&param.name)
                        .map(String::as_str)
                        .unwrap_or_default(),
                )
                .map(|v| (param.name.clone(), v))
            })
            .collect();
        leptos::task::spawn_local(async move {
            match run_pipeline(RunPipelineRequest {
                pipeline_id,
                params,
            })
            .await
            {
                Ok(run) => go.set(Some(run.id)),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    let summary = format!(
        "{} step{}{}{}",
        def.steps.len(),
        if def.steps.len() == 1 { "" } else { "s" },
        if def.triggers.schedules.is_empty() {
            String::new()
        } else {
            format!(" · {} schedule(s)", def.triggers.schedules.len())
        },
        def.triggers
            .git
            .as_ref()
            .map(|g| format!(" · follows {}", g.branch))
            .unwrap_or_default(),
    );
    let fields = def
        .parameters
        .iter()
        .map(|param| {
            let name = param.name.clone();
            let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
            let value = move || values.with(|v| v.get(&n1).cloned().unwrap_or_default());
            let set = move |v: String| values.update(|m| {
                m.insert(n2.clone(), v);
            });
            let input = match param.kind {
                ParameterKind::Choice => {
                    let choices = param.choices.clone();
                    view! {
                        <select name=format!("param-{name}") prop:value=value on:change=move |ev| set(event_target_value(&ev))>
                            {choices.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                        </select>
                    }
                    .into_any()
                }
                ParameterKind::Boolean => view! {
                    <input type="checkbox" name=format!("param-{name}") prop:checked=move || values.with(|v| v.get(&n3).is_some_and(|x| x == "true"))
                        on:change=move |ev| set(event_target_checked(&ev).to_string()) />
                }
                .into_any(),
                ParameterKind::Number => view! {
                    <input type="number" step="any" name=format!("param-{name}") prop:value=value on:input=move |ev| set(event_target_value(&ev)) />
                }
                .into_any(),
                ParameterKind::String => view! {
                    <input name=format!("param-{name}") prop:value=value on:input=move |ev| set(event_target_value(&ev)) />
                }
                .into_any(),
            };
            view! {
                <label>
                    {format!("{}{}", param.name, if param.required { " *" } else { "" })}
                    {input}
                    {(!param.description.is_empty()).then(|| view! { <span class="muted small">{param.description.clone()}</span> })}
                </label>
            }
        })
        .collect_view();
    view! {
        <div class="card pipeline" data-testid="pipeline" data-name=p.name.clone()>
            <header>
                <strong>{p.name.clone()}</strong>
                <span class="badge subtle">{p.origin.clone()}</span>
                <span class="muted small">{summary}</span>
                <Show when=move || can_edit>
                    <button class="button ghost" data-testid="edit-pipeline" on:click=move |_| editing.update(|o| *o = !*o)>"Edit"</button>
                </Show>
                <Show when=move || can_run>
                    <button class="button primary" data-testid="run-pipeline" on:click=move |_| open.update(|o| *o = !*o)>"Run…"</button>
                </Show>
            </header>
            <Show when=move || editing.get()>
                <form class="editor" data-testid="pipeline-edit" on:submit=save>
                    <label class="wide">
                        "Definition (JSON). Saving makes it this project's own: optimus.toml no longer changes it."
                        <textarea name="definition" rows="14" bind:value=source></textarea>
                    </label>
                    <div class="inline-form wide">
                        <button class="button primary" type="submit" data-testid="save-edit">"Save"</button>
                    </div>
                </form>
            </Show>
            {(!def.description.is_empty()).then(|| view! { <p class="muted">{def.description.clone()}</p> })}
            // Kept in the page while closed, so what was typed survives closing it.
            <form class="editor" data-testid="run-form" on:submit=start style:display=move || if open.get() { "" } else { "none" }>
                {fields}
                <div class="inline-form wide">
                    <button class="button primary" type="submit" data-testid="start-run">"Start run"</button>
                </div>
            </form>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(kind: ParameterKind) -> Parameter {
        Parameter {
            name: "p".into(),
            kind,
            choices: Vec::new(),
            default: None,
            required: false,
            description: String::new(),
        }
    }

    #[test]
    fn form_fields_become_typed_values() {
        assert_eq!(
            typed(&param(ParameterKind::Number), " 3 "),
            Some(ParameterValue::Number(3.0))
        );
        assert_eq!(
            typed(&param(ParameterKind::Number), "three"),
            Some(ParameterValue::Text("three".into()))
        );
        assert_eq!(
            typed(&param(ParameterKind::Boolean), ""),
            Some(ParameterValue::Boolean(false))
        );
        assert_eq!(typed(&param(ParameterKind::String), "  "), None);
        assert_eq!(
            typed(&param(ParameterKind::Choice), "prod"),
            Some(ParameterValue::Text("prod".into()))
        );
    }
}
