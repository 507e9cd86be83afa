//! The environments tab of a project page: which environment is active, its variables (secrets
//! masked), adding and removing them, `.env` import (the file is only read) and export. The
//! panel owns its data, fetched in the browser.

use crate::api::environments::{
    activate_environment, create_environment, delete_env_var, export_dotenv, import_dotenv,
    list_environments, set_env_var,
};
use crate::components::browser::ClientOnly;
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::environments::{
    CreateEnvironmentRequest, DeleteVarRequest, EnvironmentInfo, EnvironmentRequest,
    EnvironmentsRequest, ImportDotenvRequest, SetVarRequest,
};
use crate::models::Operation;
use leptos::prelude::*;

/// The environments tab; drawn after hydration.
#[component]
pub fn EnvironmentsPanel(
    /// The project.
    project_id: i64,
) -> impl IntoView {
    view! {
        <h2>"Environments"</h2>
        <ClientOnly fallback=|| view! { <p class="muted small">"Loading environments…"</p> }>
            <EnvironmentsBody project_id />
        </ClientOnly>
    }
}

#[component]
fn EnvironmentsBody(project_id: i64) -> impl IntoView {
    let toasts = use_toasts();
    let can_edit =
        use_context::<Me>().is_some_and(|m| Operation::EditEnvironments.allowed_for(m.role));
    let envs = RwSignal::new(Vec::<EnvironmentInfo>::new());
    let selected = RwSignal::new(None::<i64>);
    let exported = RwSignal::new(None::<String>);
    let reload = move || {
        leptos::task::spawn_local(async move {
            match list_environments(EnvironmentsRequest {
                project_id,
                reveal: false,
            })
            .await
            {
                Ok(list) => envs.set(list),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    Effect::new(move |_| reload());
    // The selected environment, else the active one, else the first.
    let current = move || {
        envs.with(|l| {
            let pick = selected.get();
            l.iter()
                .find(|e| Some(e.id) == pick)
                .or_else(|| l.iter().find(|e| e.active))
                .or_else(|| l.first())
                .cloned()
        })
    };
    let apply = move |r: Result<Vec<EnvironmentInfo>, crate::error::AppError>, done: &str| match r {
        Ok(list) => {
            envs.set(list);
            toasts.info(done.to_owned());
        }
        Err(e) => toasts.error(e.to_string()),
    };
    let new_name = RwSignal::new(String::new());
    let add_env = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = new_name.get_untracked();
        leptos::task::spawn_local(async move {
            let r = create_environment(CreateEnvironmentRequest { project_id, name }).await;
            if r.is_ok() {
                new_name.set(String::new());
            }
            apply(r, "Environment added");
        });
    };
    let key = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let secret = RwSignal::new(false);
    let add_var = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(env) = current() else { return };
        let req = SetVarRequest {
            environment_id: env.id,
            key: key.get_untracked().trim().to_owned(),
            value: value.get_untracked(),
            secret: secret.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            let r = set_env_var(req).await;
            if r.is_ok() {
                key.set(String::new());
                value.set(String::new());
                secret.set(false);
            }
            apply(r, "Variable saved; running services get it on restart");
        });
    };
    view! {
        <div class="inline-form" data-testid="environments">
            <select aria-label="Environment" name="environment" on:change=move |ev| {
                selected.set(event_target_value(&ev).parse().ok());
                exported.set(None);
            }>
                {move || {
                    let cur = current().map(|e| e.id);
                    envs.get()
                        .into_iter()
                        .map(|e| {
                            let label = if e.active { format!("{} (active)", e.name) } else { e.name.clone() };
                            view! { <option value=e.id.to_string() selected=Some(e.id) == cur>{label}</option> }
                        })
                        .collect_view()
                }}
            </select>
            <Show when=move || can_edit && current().is_some_and(|e| !e.active)>
                <button class="button ghost" data-testid="activate-env" on:click=move |_| {
                    let Some(env) = current() else { return };
                    leptos::task::spawn_local(async move {
                        apply(activate_environment(EnvironmentRequest { id: env.id }).await, "Environment activated; restart services to apply");
                    });
                }>"Make active"</button>
            </Show>
            <Show when=move || can_edit>
                <button class="button ghost" data-testid="import-dotenv" title="Reads the project's .env; never changes it" on:click=move |_| {
                    let Some(env) = current() else { return };
                    leptos::task::spawn_local(async move {
                        match import_dotenv(ImportDotenvRequest { environment_id: env.id, path: None, content: None }).await {
                            Ok(r) => {
                                toasts.info(format!("Imported .env: {} added, {} updated", r.added, r.updated));
                                reload();
                            }
                            Err(e) => toasts.error(e.to_string()),
                        }
                    });
                }>"Import .env"</button>
            </Show>
            <button class="button ghost" data-testid="export-dotenv" on:click=move |_| {
                let Some(env) = current() else { return };
                leptos::task::spawn_local(async move {
                    match export_dotenv(EnvironmentRequest { id: env.id }).await {
                        Ok(x) => exported.set(Some(x.content)),
                        Err(e) => toasts.error(e.to_string()),
                    }
                });
            }>"Export .env"</button>
            <Show when=move || can_edit>
                <form class="inline-form" on:submit=add_env>
                    <input name="environment-name" placeholder="New environment" aria-label="New environment" bind:value=new_name />
                    <button class="button ghost" type="submit">"Add"</button>
                </form>
            </Show>
        </div>
        {move || exported.get().map(|text| view! { <textarea class="log" readonly data-testid="dotenv" aria-label=".env export">{text}</textarea> })}
        <table class="table" data-testid="env-vars">
            <thead>
                <tr>
                    <th>"Variable"</th>
                    <th>"Value"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    let Some(env) = current() else {
                        return view! { <tr><td colspan="3" class="muted">"No environment yet."</td></tr> }.into_any();
                    };
                    let env_id = env.id;
                    env.vars
                        .into_iter()
                        .map(|v| {
                            let k = v.key.clone();
                            let shown = if v.secret {
                                "••••••".to_owned()
                            } else {
                                v.value.clone().unwrap_or_default()
                            };
                            view! {
                                <tr data-var=v.key.clone()>
                                    <td><code>{v.key.clone()}</code>{v.secret.then(|| view! { <span class="badge">"secret"</span> })}</td>
                                    <td><code>{shown}</code></td>
                                    <td>
                                        <Show when=move || can_edit>
                                            <button class="button ghost small" on:click={
                                                let k = k.clone();
                                                move |_| {
                                                    let key = k.clone();
                                                    leptos::task::spawn_local(async move {
                                                        apply(delete_env_var(DeleteVarRequest { environment_id: env_id, key }).await, "Variable removed");
                                                    });
                                                }
                                            }>"Remove"</button>
                                        </Show>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </tbody>
        </table>
        <Show when=move || can_edit>
            <form class="inline-form" data-testid="add-var" on:submit=add_var>
                <input name="var-key" placeholder="KEY" aria-label="Variable name" bind:value=key />
                <input name="var-value" class="grow" placeholder="value" aria-label="Value" bind:value=value />
                <label class="small"><input type="checkbox" name="var-secret" bind:checked=secret />" secret"</label>
                <button class="button ghost" type="submit">"Set"</button>
            </form>
        </Show>
    }
}
