//! A project's services (state, port, restarts, controls) and their merged live log.

use crate::api::runtime::{
    create_service, delete_service, import_detected_services, list_services,
    pending_service_changes, restart_project_services, restart_service, service_logs,
    service_metrics, start_project_services, start_service, stop_project_services, stop_service,
    update_service,
};
use crate::components::browser::ClientOnly;
use crate::components::charts::{Series, TimeChart};
use crate::components::toasts::{use_toasts, Toasts};
use crate::models::auth::Me;
use crate::models::events::{Event, ServerMessage};
use crate::models::runtime::{
    CreateServiceRequest, LogLine, LogQuery, LogStream, MetricsQuery, ProjectServicesRequest,
    ResourceSample, ServiceDefinition, ServiceInfo, ServiceRequest, ServiceState,
    UpdateServiceRequest, RANGES,
};
use crate::models::service_form::ServiceForm;
use crate::models::Operation;
use leptos::prelude::*;
use std::time::Duration;

/// Lines kept in the browser.
const KEEP: usize = 2000;

/// Splits text with ANSI SGR escapes into (CSS classes, text) runs: colours 30–37/90–97 and
/// bold are kept, everything else is dropped.
pub fn ansi_runs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut fg: Option<u8> = None;
    let mut bold = false;
    let mut current = String::new();
    let classes = |fg: Option<u8>, bold: bool| {
        let mut c = Vec::new();
        if let Some(n) = fg {
            c.push(format!("ansi-{n}"));
        }
        if bold {
            c.push("ansi-bold".to_owned());
        }
        c.join(" ")
    };
    let mut rest = text;
    while let Some(i) = rest.find('\u{1b}') {
        current.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(body) = after.strip_prefix('[') else {
            rest = after;
            continue;
        };
        let end = body
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(body.len());
        let (params, tail) = body.split_at(end);
        let command = tail.chars().next();
        rest = tail.get(1..).unwrap_or_default();
        if command != Some('m') {
            continue;
        }
        if !current.is_empty() {
            out.push((classes(fg, bold), std::mem::take(&mut current)));
        }
        for p in params.split(';') {
            match p.parse::<u8>().unwrap_or(0) {
                0 => {
                    fg = None;
                    bold = false;
                }
                1 => bold = true,
                22 => bold = false,
                39 => fg = None,
                n @ (30..=37 | 90..=97) => fg = Some(n),
                _ => {}
            }
        }
    }
    current.push_str(rest);
    if !current.is_empty() {
        out.push((classes(fg, bold), current));
    }
    out
}

fn state_class(s: ServiceState) -> &'static str {
    match s {
        ServiceState::Ready => "badge ok",
        ServiceState::Starting | ServiceState::Waiting | ServiceState::Stopping => "badge",
        ServiceState::Unhealthy | ServiceState::Backoff => "badge warn",
        ServiceState::Failed | ServiceState::CrashLoop => "badge danger",
        ServiceState::Stopped | ServiceState::Exited => "badge subtle",
    }
}

/// Starts, stops, restarts (`start`, `stop`, `restart`) or sets up from detection (`import`)
/// every service of a project, and says how it went in a toast.
async fn act_on_project(toasts: Toasts, project_id: i64, what: &'static str) {
    let req = ProjectServicesRequest { project_id };
    let r = match what {
        "start" => start_project_services(req).await.map(|_| ()),
        "stop" => stop_project_services(req).await.map(|_| ()),
        "restart" => restart_project_services(req).await.map(|_| ()),
        _ => import_detected_services(req).await.map(|_| ()),
    };
    match r {
        Ok(()) => toasts.info(match what {
            "start" => "Starting every service",
            "stop" => "Stopped every service",
            "restart" => "Restarting every service",
            _ => "Services set up from detection",
        }),
        Err(e) => toasts.error(e.to_string()),
    }
}

/// On a project's page, whatever its tab: `s` starts, `x` stops, `r` restarts every service of
/// the project (for callers allowed to control services).
pub fn use_service_shortcuts(project_id: Signal<Option<i64>>) {
    let toasts = use_toasts();
    let can_control =
        use_context::<Me>().is_some_and(|m| Operation::ControlServices.allowed_for(m.role));
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if !can_control
                || crate::components::layout::is_typing(&ev)
                || ev.ctrl_key()
                || ev.meta_key()
                || ev.alt_key()
            {
                return;
            }
            let Some(id) = project_id.get_untracked() else {
                return;
            };
            let what = match ev.key().as_str() {
                "s" => "start",
                "x" => "stop",
                "r" => "restart",
                _ => return,
            };
            leptos::task::spawn_local(act_on_project(toasts, id, what));
        });
        on_cleanup(move || handle.remove());
    });
}

/// The services table with per-service and whole-project controls. Drawn only after hydration:
/// the resources it creates would otherwise shift the ids of the page's server-rendered
/// resources (and break their hydration).
#[component]
pub fn ServicesPanel(
    /// The project.
    project_id: i64,
) -> impl IntoView {
    view! {
        <h2>"Services"</h2>
        <ClientOnly fallback=|| view! { <p class="muted small">"Loading services…"</p> }>
            <ServicesBody project_id />
        </ClientOnly>
    }
}

#[component]
fn ServicesBody(project_id: i64) -> impl IntoView {
    let toasts = use_toasts();
    let role = use_context::<Me>().map(|m| m.role);
    let can_control = role.is_some_and(|r| Operation::ControlServices.allowed_for(r));
    let can_edit = role.is_some_and(|r| Operation::EditServices.allowed_for(r));
    let version = RwSignal::new(0u32);
    // None: closed; Some(None): a new service; Some(Some(s)): editing s.
    let editing = RwSignal::new(None::<Option<ServiceInfo>>);
    let edited = Callback::new(move |()| {
        editing.set(None);
        version.update(|v| *v += 1);
    });
    // Fetched in the browser: rendered inside the project page's own Suspense, a server-side
    // read here could hydrate against different markup.
    let services = LocalResource::new(move || {
        version.track();
        list_services(ProjectServicesRequest { project_id })
    });
    let names = Memo::new(move |_| {
        services
            .get()
            .and_then(Result::ok)
            .map(|list| {
                list.iter()
                    .map(|s| (s.id, s.definition.name.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let pending = StoredValue::new(false);
    Effect::new(move |_| {
        crate::components::live::subscribe(&["runtime"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::ServiceChanged { project_id: p, .. } = envelope.event {
                    if p == project_id && !pending.get_value() {
                        pending.set_value(true);
                        set_timeout(
                            move || {
                                pending.set_value(false);
                                version.update(|v| *v += 1);
                            },
                            Duration::from_millis(150),
                        );
                    }
                }
            }
        });
    });
    let act = move |what: &'static str, id: i64| {
        leptos::task::spawn_local(async move {
            let r = match what {
                "start" => start_service(ServiceRequest { id }).await.map(|_| ()),
                "stop" => stop_service(ServiceRequest { id }).await.map(|_| ()),
                _ => restart_service(ServiceRequest { id }).await.map(|_| ()),
            };
            if let Err(e) = r {
                toasts.error(e.to_string());
            }
            version.update(|v| *v += 1);
        });
    };
    let act_all = move |what: &'static str| {
        leptos::task::spawn_local(async move {
            act_on_project(toasts, project_id, what).await;
            version.update(|v| *v += 1);
        });
    };
    view! {
        <Show when=move || can_edit>
            <div class="inline-form">
                <button class="button ghost" data-testid="add-service" on:click=move |_| editing.set(Some(None))>"Add service"</button>
            </div>
        </Show>
        {move || {
            editing
                .get()
                .map(|target| view! { <ServiceEditor project_id existing=target on_done=edited /> })
        }}
        <Transition fallback=|| view! { <p class="muted small">"Loading services…"</p> }>
            {move || Suspend::new(async move {
                let list = services.await.unwrap_or_default();
                if list.is_empty() {
                    return view! {
                        <div class="callout" data-testid="no-services">
                            <p>"No services yet. Optimus can set them up from what it detected (optimus.toml, Procfile or the run command)."</p>
                            <Show when=move || can_edit>
                                <button class="button primary" data-testid="import-services" on:click=move |_| act_all("import")>
                                    "Set up from detection"
                                </button>
                            </Show>
                        </div>
                    }
                        .into_any();
                }
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
                    .into_any()
            })}
        </Transition>
        // Outside the table's Suspense and keyed on which services exist: a state change
        // reloads the table, never the charts or the log (which keep their range, filter and
        // follow state).
        {move || {
            let names = names.get();
            (!names.is_empty())
                .then(|| view! {
                    <ResourcesPanel services=names.clone() />
                    <LogViewer services=names />
                })
        }}
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
    let changes = RwSignal::new(None::<Vec<crate::models::environments::SpecChange>>);
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
fn ServiceEditor(
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

/// The merged output of the services: history, then live lines; follow or pause, filter by
/// stream and text.
#[component]
fn LogViewer(
    /// The services shown, with their names.
    services: Vec<(i64, String)>,
) -> impl IntoView {
    let service_ids: Vec<i64> = services.iter().map(|(id, _)| *id).collect();
    let toasts = use_toasts();
    let downloads = services
        .iter()
        .map(|(id, name)| {
            view! {
                <a class="button ghost" data-testid="download-log" download="" title="The latest run's whole log"
                    href=format!("/api/v1/services/logs/download?service_id={id}")>
                    {format!("Download {name}.log")}
                </a>
            }
        })
        .collect_view();
    let name_of = move |id: i64| {
        services
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let lines = RwSignal::new(Vec::<LogLine>::new());
    let follow = RwSignal::new(true);
    let paused_missed = RwSignal::new(0usize);
    let stream = RwSignal::new(String::new());
    let filter = RwSignal::new(String::new());
    let ids = service_ids.clone();
    let history = Resource::new(
        || (),
        move |_| {
            service_logs(LogQuery {
                service_ids: ids.clone(),
                limit: Some(500),
                ..Default::default()
            })
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(h)) = history.get() {
            lines.set(h);
        }
    });
    let topics: Vec<String> = service_ids.iter().map(|id| format!("logs:{id}")).collect();
    Effect::new(move |_| {
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        crate::components::live::subscribe(&topics, move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::LogLines { lines: new, .. } = envelope.event {
                    if !follow.get_untracked() {
                        paused_missed.update(|m| *m += new.len());
                        return;
                    }
                    lines.update(|l| {
                        l.extend(new);
                        let over = l.len().saturating_sub(KEEP);
                        l.drain(..over);
                    });
                }
            }
        });
    });
    let box_ref = NodeRef::<leptos::html::Pre>::new();
    // Keep the newest line in view while following.
    Effect::new(move |_| {
        lines.track();
        if follow.get_untracked() {
            if let Some(el) = box_ref.get_untracked() {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    let shown = move || {
        let want = match stream.get().as_str() {
            "stdout" => Some(LogStream::Stdout),
            "stderr" => Some(LogStream::Stderr),
            _ => None,
        };
        let needle = filter.get().to_lowercase();
        lines.with(|l| {
            l.iter()
                .filter(|x| want.is_none_or(|w| w == x.stream))
                .filter(|x| needle.is_empty() || x.text.to_lowercase().contains(&needle))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let multi = service_ids.len() > 1;
    view! {
        <h3>"Logs"</h3>
        <div class="inline-form">
            <button class="button ghost" data-testid="follow" on:click=move |_| {
                let next = !follow.get_untracked();
                follow.set(next);
                if next {
                    paused_missed.set(0);
                }
            }>
                {move || if follow.get() { "Pause".to_owned() } else { format!("Follow ({} new)", paused_missed.get()) }}
            </button>
            <select aria-label="Stream" name="log-stream" on:change=move |ev| stream.set(event_target_value(&ev))>
                <option value="">"stdout + stderr"</option>
                <option value="stdout">"stdout"</option>
                <option value="stderr">"stderr"</option>
            </select>
            <input type="search" class="grow" name="log-filter" placeholder="Filter lines" aria-label="Filter lines" bind:value=filter />
            <button class="button ghost" data-testid="copy-log" title="Copy the lines shown" on:click=move |_| {
                let text = shown()
                    .iter()
                    .map(|l| format!("{} {}", l.at.format("%H:%M:%S%.3f"), l.text))
                    .collect::<Vec<_>>()
                    .join("\n");
                if crate::components::browser::copy_text(&text) {
                    toasts.info("Log lines copied");
                } else {
                    toasts.error("The browser did not allow copying");
                }
            }>"Copy"</button>
            {downloads}
        </div>
        <pre class="log" data-testid="log" node_ref=box_ref>
            <For each=shown key=|l| (l.service_id, l.run_id, l.seq) let:line>
                <div class="log-line" class:stderr=line.stream == LogStream::Stderr>
                    <span class="log-time">{line.at.format("%H:%M:%S%.3f").to_string()}</span>
                    {multi.then(|| view! { <span class="log-service">{name_of(line.service_id)}</span> })}
                    {ansi_runs(&line.text)
                        .into_iter()
                        .map(|(class, text)| view! { <span class=class>{text}</span> })
                        .collect_view()}
                </div>
            </For>
        </pre>
    }
}

/// CPU and memory of the project's services over a chosen range, one line per service;
/// live points arrive over the event stream.
#[component]
fn ResourcesPanel(
    /// The services shown, with their names.
    services: Vec<(i64, String)>,
) -> impl IntoView {
    let ids: Vec<i64> = services.iter().map(|(id, _)| *id).collect();
    let range = RwSignal::new("15m".to_owned());
    let samples = RwSignal::new(Vec::<ResourceSample>::new());
    let query_ids = ids.clone();
    let history = LocalResource::new(move || {
        let ids = query_ids.clone();
        let range = range.get();
        async move {
            service_metrics(MetricsQuery {
                service_ids: ids,
                range: Some(range),
            })
            .await
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(h)) = history.get() {
            samples.set(h);
        }
    });
    let live_ids = ids.clone();
    Effect::new(move |_| {
        let live_ids = live_ids.clone();
        crate::components::live::subscribe(&["metrics"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::ResourcesSampled { samples: new, .. } = envelope.event {
                    // Only short ranges grow point by point; long ones show averages.
                    if !matches!(range.get_untracked().as_str(), "15m" | "1h") {
                        return;
                    }
                    let mine: Vec<ResourceSample> = new
                        .into_iter()
                        .filter(|s| live_ids.contains(&s.service_id))
                        .collect();
                    if !mine.is_empty() {
                        samples.update(|all| {
                            all.extend(mine);
                            let over = all.len().saturating_sub(20_000);
                            all.drain(..over);
                        });
                    }
                }
            }
        });
    });
    let series_of = move |value: fn(&ResourceSample) -> f64| {
        let names = services.clone();
        Signal::derive(move || {
            samples.with(|all| {
                names
                    .iter()
                    .map(|(id, name)| Series {
                        name: name.clone(),
                        points: all
                            .iter()
                            .filter(|s| s.service_id == *id)
                            .map(|s| (s.at.timestamp_millis(), value(s)))
                            .collect(),
                    })
                    .collect()
            })
        })
    };
    let cpu = series_of(|s| s.cpu_percent);
    let memory = series_of(|s| s.rss_bytes as f64 / 1_048_576.0);
    let key = ids.first().copied().unwrap_or_default();
    view! {
        <h3>"Resources"</h3>
        <div class="inline-form">
            <select name="range" aria-label="Range" on:change=move |ev| range.set(event_target_value(&ev))>
                {RANGES.iter().map(|r| view! { <option value=*r>{*r}</option> }).collect_view()}
            </select>
            <span class="muted small" data-testid="sample-count">
                {move || format!("{} samples", samples.with(Vec::len))}
            </span>
        </div>
        <div class="charts">
            <TimeChart id=format!("cpu-{key}") title="CPU".to_owned() unit="%" series=cpu />
            <TimeChart id=format!("mem-{key}") title="Memory".to_owned() unit="MB" series=memory />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_colours_become_classes_and_other_escapes_vanish() {
        assert_eq!(
            ansi_runs("\u{1b}[31mred\u{1b}[0m plain"),
            vec![
                ("ansi-31".into(), "red".into()),
                (String::new(), " plain".into())
            ]
        );
        assert_eq!(
            ansi_runs("\u{1b}[1;92mok\u{1b}[2K"),
            vec![("ansi-92 ansi-bold".into(), "ok".into())]
        );
        assert_eq!(ansi_runs("none"), vec![(String::new(), "none".into())]);
    }
}
