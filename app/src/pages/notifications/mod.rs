//! The Notifications page (`g n`): where notifications go outside Optimus. Channels (a signed
//! webhook, a Slack-compatible webhook, email) with their rules and a "Send test" button, the
//! delivery log with its dead letters ([`deliveries`]), and maintenance windows ([`windows`]).

mod deliveries;
mod windows;

use crate::api::notifications::{
    create_notification_channel, create_notification_rule, delete_notification_channel,
    delete_notification_rule, list_notification_channels, list_notification_rules,
    test_notification_channel, update_notification_channel,
};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::notifications::{
    ChannelConfig, ChannelInfo, CreateChannelRequest, CreateRuleRequest, ItemRequest, RuleInfo,
    RulesRequest, UpdateChannelRequest, EVENT_KINDS, LEVELS,
};
use crate::models::Operation;
use crate::pages::error::ErrorPage;
use leptos::prelude::*;
use leptos_meta::Title;

/// A counter pages bump to refetch after a change.
type Version = RwSignal<u32>;

fn bump(v: Version) {
    v.update(|n| *n += 1);
}

/// Channels, rules, the delivery log and maintenance windows.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let manage = use_context::<Me>()
        .is_some_and(|m| Operation::ManageNotificationChannels.allowed_for(m.role));
    let version: Version = RwSignal::new(0);
    let channels = Resource::new(move || version.get(), |_| list_notification_channels());
    let rules = Resource::new(
        move || version.get(),
        |_| list_notification_rules(RulesRequest::default()),
    );
    view! {
        <Title text="Notifications · Optimus" />
        <h1>"Notifications"</h1>
        <p class="muted">
            "Send notifications out of Optimus: a failed backup, a rolled-back release or a crash loop reaches people where they are."
        </p>
        <Show when=move || manage>
            <NewChannel version />
        </Show>
        <h2>"Channels"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading channels…"</p> }>
            {move || Suspend::new(async move {
                match (channels.await, rules.await) {
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorPage error /> }.into_any(),
                    (Ok(list), _) if list.is_empty() => {
                        view! { <p class="muted" data-testid="no-channels">"No channels yet."</p> }
                            .into_any()
                    }
                    (Ok(list), Ok(rules)) => view! {
                        <div class="stack">
                            {list
                                .into_iter()
                                .map(|c| {
                                    let mine: Vec<RuleInfo> = rules
                                        .iter()
                                        .filter(|r| r.channel_id == c.id)
                                        .cloned()
                                        .collect();
                                    view! { <Channel c rules=mine manage version /> }
                                })
                                .collect_view()}
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
        <deliveries::DeliveryLog version manage />
        <windows::Windows />
    }
}

/// One channel: where it sends, its rules, and what can be done with it.
#[component]
fn Channel(c: ChannelInfo, rules: Vec<RuleInfo>, manage: bool, version: Version) -> impl IntoView {
    let toasts = use_toasts();
    let id = c.id;
    let enabled = c.enabled;
    let test = move |_| {
        leptos::task::spawn_local(async move {
            match test_notification_channel(ItemRequest { id }).await {
                Ok(d) if d.status == "delivered" => toasts.info("Test delivered"),
                Ok(d) => toasts.error(format!(
                    "Test not delivered: {}",
                    d.last_error.unwrap_or_else(|| d.status.clone())
                )),
                Err(e) => toasts.error(e.to_string()),
            }
            bump(version);
        });
    };
    let toggle = move |_| {
        leptos::task::spawn_local(async move {
            let r = update_notification_channel(UpdateChannelRequest {
                id,
                name: None,
                enabled: Some(!enabled),
                config: None,
            })
            .await;
            if let Err(e) = r {
                toasts.error(e.to_string());
            }
            bump(version);
        });
    };
    let remove = move |_| {
        leptos::task::spawn_local(async move {
            if let Err(e) = delete_notification_channel(ItemRequest { id }).await {
                toasts.error(e.to_string());
            }
            bump(version);
        });
    };
    let no_rules = rules.is_empty();
    view! {
        <section class="card" data-testid="channel" data-name=c.name.clone() data-enabled=enabled.to_string()>
            <header class="row">
                <strong>{c.name.clone()}</strong>
                <span class="badge subtle">{c.kind.clone()}</span>
                <code>{c.target.clone()}</code>
                {(!enabled).then(|| view! { <span class="badge">"disabled"</span> })}
                <span class="muted" data-testid="channel-counts">
                    {format!("{} pending · {} dead", c.pending, c.dead)}
                </span>
            </header>
            <ul class="plain" data-testid="channel-rules">
                {no_rules.then(|| view! { <li class="muted">"No rules: nothing is sent here but tests."</li> })}
                {rules
                    .into_iter()
                    .map(|r| {
                        let rid = r.id;
                        let kinds = if r.kinds.is_empty() { "every kind".to_owned() } else { r.kinds.join(", ") };
                        let scope = r.project_id.map_or("every project".to_owned(), |p| format!("project {p}"));
                        view! {
                            <li data-testid="channel-rule">
                                {format!("{kinds} · {scope} · {} and above", r.min_level)}
                                {(r.dedup_secs > 0).then(|| format!(" · repeats within {} s sent once", r.dedup_secs))}
                                <Show when=move || manage>
                                    <button class="button small" on:click=move |_| {
                                        leptos::task::spawn_local(async move {
                                            if let Err(e) = delete_notification_rule(ItemRequest { id: rid }).await {
                                                toasts.error(e.to_string());
                                            }
                                            bump(version);
                                        });
                                    }>"Remove"</button>
                                </Show>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <Show when=move || manage>
                <div class="row">
                    <button class="button" data-testid="send-test" on:click=test>"Send test"</button>
                    <button class="button" on:click=toggle>{if enabled { "Disable" } else { "Enable" }}</button>
                    <button class="button danger" on:click=remove>"Delete"</button>
                </div>
                <NewRule channel_id=id version />
            </Show>
        </section>
    }
}

/// A rule form: which kinds, from which level.
#[component]
fn NewRule(channel_id: i64, version: Version) -> impl IntoView {
    let toasts = use_toasts();
    let kind = RwSignal::new(String::new());
    let level = RwSignal::new("info".to_owned());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let k = kind.get_untracked();
        let request = CreateRuleRequest {
            channel_id,
            project_id: None,
            kinds: if k.is_empty() { Vec::new() } else { vec![k] },
            min_level: Some(level.get_untracked()),
            dedup_secs: None,
        };
        leptos::task::spawn_local(async move {
            if let Err(e) = create_notification_rule(request).await {
                toasts.error(e.to_string());
            }
            bump(version);
        });
    };
    view! {
        <form class="inline-form" data-testid="new-rule" on:submit=add>
            <select name="kind" aria-label="Kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                <option value="">"every kind"</option>
                {EVENT_KINDS
                    .iter()
                    .filter(|k| **k != "test")
                    .map(|k| view! { <option value=*k>{k.replace('_', " ")}</option> })
                    .collect_view()}
            </select>
            <select name="level" aria-label="Lowest level" on:change=move |ev| level.set(event_target_value(&ev))>
                {LEVELS.iter().map(|l| view! { <option value=*l>{format!("{l} and above")}</option> }).collect_view()}
            </select>
            <button class="button" type="submit">"Add rule"</button>
        </form>
    }
}

/// The "Add a channel" form; a webhook's signing secret is shown once.
#[component]
fn NewChannel(version: Version) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new("webhook".to_owned());
    let url = RwSignal::new(String::new());
    let host = RwSignal::new(String::new());
    let port = RwSignal::new(String::new());
    let security = RwSignal::new("starttls".to_owned());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let every = RwSignal::new(true);
    let secret = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
        let config = match kind.get_untracked().as_str() {
            "slack" => ChannelConfig::Slack {
                url: url.get_untracked(),
            },
            "email" => {
                let port = match port.get_untracked().trim() {
                    "" => None,
                    p => match p.parse::<u16>() {
                        Ok(p) => Some(p),
                        Err(_) => {
                            toasts.error("config.port: must be 1-65535");
                            return;
                        }
                    },
                };
                ChannelConfig::Email {
                    host: host.get_untracked(),
                    port,
                    security: Some(security.get_untracked()),
                    username: text(username),
                    password: text(password),
                    from: from.get_untracked(),
                    to: to
                        .get_untracked()
                        .split(',')
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect(),
                }
            }
            _ => ChannelConfig::Webhook {
                url: url.get_untracked(),
                secret: None,
            },
        };
        let request = CreateChannelRequest {
            name: name.get_untracked(),
            config,
            enabled: None,
        };
        let every = every.get_untracked();
        leptos::task::spawn_local(async move {
            match create_notification_channel(request).await {
                Ok(made) => {
                    if every {
                        let rule = CreateRuleRequest {
                            channel_id: made.channel.id,
                            project_id: None,
                            kinds: Vec::new(),
                            min_level: None,
                            dedup_secs: None,
                        };
                        if let Err(e) = create_notification_rule(rule).await {
                            toasts.error(e.to_string());
                        }
                    }
                    secret.set(made.secret);
                    name.set(String::new());
                    password.set(String::new());
                    toasts.info(format!("Added {}", made.channel.name));
                    bump(version);
                }
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    let is = move |k: &'static str| move || kind.get() == k;
    view! {
        <details class="card" data-testid="new-channel">
            <summary>"Add a channel"</summary>
            <form class="form" on:submit=submit>
                <label>"Name" <input name="name" required bind:value=name /></label>
                <label>
                    "Kind"
                    <select name="kind" prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="webhook">"Webhook (signed JSON)"</option>
                        <option value="slack">"Slack-compatible webhook"</option>
                        <option value="email">"Email (SMTP)"</option>
                    </select>
                </label>
                <Show when=move || !is("email")()>
                    <label>"URL" <input name="url" type="url" required bind:value=url /></label>
                </Show>
                <Show when=is("email")>
                    <label>"SMTP host" <input name="host" required bind:value=host /></label>
                    <label>"Port" <input name="port" type="number" min="1" max="65535" bind:value=port /></label>
                    <label>
                        "Security"
                        <select name="security" prop:value=move || security.get() on:change=move |ev| security.set(event_target_value(&ev))>
                            <option value="starttls">"STARTTLS"</option>
                            <option value="tls">"TLS"</option>
                            <option value="none">"none (loopback only)"</option>
                        </select>
                    </label>
                    <label>"User name" <input name="username" bind:value=username /></label>
                    <label>"Password" <input name="password" type="password" bind:value=password /></label>
                    <label>"From" <input name="from" required bind:value=from /></label>
                    <label>"To (comma-separated)" <input name="to" required bind:value=to /></label>
                </Show>
                <label class="check">
                    <input type="checkbox" name="every" bind:checked=every />
                    "Send every notification here (add a rule)"
                </label>
                <button class="button primary" type="submit" data-testid="create-channel">"Add channel"</button>
            </form>
            <Show when=move || secret.get().is_some()>
                <div class="callout" data-testid="channel-secret">
                    <p>"The webhook signing secret: copy it now, it will not be shown again."</p>
                    <code class="secret">{move || secret.get()}</code>
                </div>
            </Show>
        </details>
    }
}
