//! The service editor: a form over [`ServiceForm`] for adding a service or changing one, and
//! deleting a stopped one.

use crate::api::runtime::{create_service, delete_service, update_service};
use crate::components::toasts::use_toasts;
use crate::models::runtime::{
    CreateServiceRequest, ServiceDefinition, ServiceInfo, ServiceRequest, UpdateServiceRequest,
};
use crate::models::service_form::ServiceForm;
use leptos::prelude::*;

/// One text field of the service editor.
fn text_field(
    form: RwSignal<ServiceForm>,
    label: &'static str,
    name: &'static str,
    get: fn(&ServiceForm) -> String,
    set: fn(&mut ServiceForm, String),
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input name=name prop:value=move || form.with(get) on:input=move |ev| {
                let v = event_target_value(&ev);
                form.update(|f| set(f, v));
            } />
        </label>
    }
}

/// One multi-line field of the service editor.
fn text_area(
    form: RwSignal<ServiceForm>,
    label: &'static str,
    name: &'static str,
    get: fn(&ServiceForm) -> String,
    set: fn(&mut ServiceForm, String),
) -> impl IntoView {
    view! {
        <label class="wide">
            {label}
            <textarea name=name prop:value=move || form.with(get) on:input=move |ev| {
                let v = event_target_value(&ev);
                form.update(|f| set(f, v));
            }></textarea>
        </label>
    }
}

/// One choice of the service editor.
fn choice(
    form: RwSignal<ServiceForm>,
    label: &'static str,
    name: &'static str,
    options: &'static [(&'static str, &'static str)],
    get: fn(&ServiceForm) -> String,
    set: fn(&mut ServiceForm, String),
) -> impl IntoView {
    view! {
        <label>
            {label}
            <select name=name on:change=move |ev| {
                let v = event_target_value(&ev);
                form.update(|f| set(f, v));
            }>
                {options
                    .iter()
                    .map(|(value, text)| {
                        view! { <option value=*value selected=move || form.with(get) == *value>{*text}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

const PROBES: [(&str, &str); 5] = [
    ("none", "none"),
    ("http", "http GET (path)"),
    ("tcp", "tcp connect"),
    ("exec", "command"),
    ("log", "log line (regex)"),
];

/// Adds or edits a service: the form's rules are [`ServiceForm`]'s, the server checks again.
#[component]
pub fn ServiceEditor(
    /// The project.
    project_id: i64,
    /// The service edited; none for a new one.
    existing: Option<ServiceInfo>,
    /// Called after a save or delete.
    on_done: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let id = existing.as_ref().map(|s| s.id);
    let live = existing.as_ref().is_some_and(|s| s.state.is_active());
    let base = StoredValue::new(existing.as_ref().map(|s| s.definition.clone()));
    let form = RwSignal::new(
        existing
            .as_ref()
            .map(|s| ServiceForm::from_definition(&s.definition))
            .unwrap_or_else(ServiceForm::new_service),
    );
    let error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let def: ServiceDefinition =
            match form.with_untracked(|f| f.to_definition(base.get_value().as_ref())) {
                Ok(d) => d,
                Err((field, message)) => {
                    error.set(Some(format!("{field}: {message}")));
                    return;
                }
            };
        leptos::task::spawn_local(async move {
            let r = match id {
                Some(id) => {
                    update_service(UpdateServiceRequest {
                        id,
                        definition: def,
                    })
                    .await
                }
                None => {
                    create_service(CreateServiceRequest {
                        project_id,
                        definition: def,
                    })
                    .await
                }
            };
            match r {
                Ok(s) => {
                    toasts.info(if s.pending_changes {
                        format!("Saved `{}`; restart it to apply", s.definition.name)
                    } else {
                        format!("Saved `{}`", s.definition.name)
                    });
                    on_done.run(());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let remove = move |_| {
        let Some(id) = id else { return };
        leptos::task::spawn_local(async move {
            match delete_service(ServiceRequest { id }).await {
                Ok(()) => on_done.run(()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form class="editor" data-testid="service-editor" on:submit=save>
            <strong class="wide">{if id.is_some() { "Edit service" } else { "New service" }}</strong>
            {text_field(form, "Name", "name", |f| f.name.clone(), |f, v| f.name = v)}
            {text_field(form, "Folder (in the project)", "cwd", |f| f.cwd.clone(), |f, v| f.cwd = v)}
            <label class="wide">
                "Command"
                <input name="command" prop:value=move || form.with(|f| f.command.clone()) on:input=move |ev| {
                    let v = event_target_value(&ev);
                    form.update(|f| f.command = v);
                } />
            </label>
            {choice(form, "Port", "port_mode", &[("auto", "allocate one ($PORT)"), ("fixed", "fixed"), ("none", "none")], |f| f.port_mode.clone(), |f, v| f.port_mode = v)}
            {text_field(form, "Fixed port", "port", |f| f.port.clone(), |f, v| f.port = v)}
            {text_field(form, "Depends on (names, comma-separated)", "depends_on", |f| f.depends_on.clone(), |f, v| f.depends_on = v)}
            {choice(form, "Readiness probe", "readiness_kind", &PROBES, |f| f.readiness_kind.clone(), |f, v| f.readiness_kind = v)}
            {text_field(form, "Readiness path / command / pattern", "readiness_target", |f| f.readiness_target.clone(), |f, v| f.readiness_target = v)}
            {choice(form, "Liveness probe", "liveness_kind", &PROBES, |f| f.liveness_kind.clone(), |f, v| f.liveness_kind = v)}
            {text_field(form, "Liveness path / command / pattern", "liveness_target", |f| f.liveness_target.clone(), |f, v| f.liveness_target = v)}
            {choice(form, "Restart", "restart", &[("on-failure", "on failure"), ("always", "always"), ("never", "never")], |f| f.restart.clone(), |f, v| f.restart = v)}
            {text_field(form, "Max retries before crash loop", "max_retries", |f| f.max_retries.clone(), |f, v| f.max_retries = v)}
            {text_field(form, "Stop grace (ms)", "grace_ms", |f| f.grace_ms.clone(), |f, v| f.grace_ms = v)}
            {text_field(form, "Memory limit (MiB)", "memory_mb", |f| f.memory_mb.clone(), |f, v| f.memory_mb = v)}
            {text_field(form, "CPU limit (% of a core)", "cpu_percent", |f| f.cpu_percent.clone(), |f, v| f.cpu_percent = v)}
            {text_field(form, "Open files limit", "open_files", |f| f.open_files.clone(), |f, v| f.open_files = v)}
            {text_area(form, "Environment (KEY=VALUE per line)", "env", |f| f.env.clone(), |f, v| f.env = v)}
            {text_area(form, "Alerts (e.g. memory > 512 for 30, cpu > 90 for 60)", "alerts", |f| f.alerts.clone(), |f, v| f.alerts = v)}
            {move || error.get().map(|e| view! { <p class="error wide" role="alert" data-testid="editor-error">{e}</p> })}
            <div class="inline-form wide">
                <button class="button primary" type="submit" data-testid="save-service">"Save"</button>
                <button class="button ghost" type="button" on:click=move |_| on_done.run(())>"Cancel"</button>
                {(id.is_some() && !live).then(|| view! { <button class="button ghost" type="button" data-testid="delete-service" on:click=remove>"Delete"</button> })}
            </div>
        </form>
    }
}
