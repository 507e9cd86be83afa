//! The delivery log: every delivery, newest first, filtered by status (`dead` is the dead-letter
//! list, with "Resend"); a delivery opens to show each attempt (status, latency, error).

use super::{bump, Version};
use crate::api::notifications::{
    get_notification_delivery, list_notification_deliveries, resend_notification_delivery,
};
use crate::components::toasts::use_toasts;
use crate::models::notifications::{
    DeliveriesRequest, DeliveryInfo, ItemRequest, DELIVERY_STATUSES,
};
use crate::pages::error::ErrorPage;
use leptos::prelude::*;

fn badge(status: &str) -> &'static str {
    match status {
        "delivered" => "badge ok",
        "dead" => "badge danger",
        "pending" => "badge running",
        _ => "badge subtle",
    }
}

/// The log with its status filter.
#[component]
pub fn DeliveryLog(version: Version, manage: bool) -> impl IntoView {
    let status = RwSignal::new(String::new());
    let list = Resource::new(
        move || (version.get(), status.get()),
        |(_, s)| {
            list_notification_deliveries(DeliveriesRequest {
                status: Some(s).filter(|s| !s.is_empty()),
                limit: Some(100),
                ..Default::default()
            })
        },
    );
    view! {
        <h2>"Delivery log"</h2>
        <div class="row">
            <select aria-label="Status" data-testid="delivery-status" on:change=move |ev| status.set(event_target_value(&ev))>
                <option value="">"every status"</option>
                {DELIVERY_STATUSES.iter().map(|s| view! { <option value=*s>{*s}</option> }).collect_view()}
            </select>
            <button class="button" on:click=move |_| bump(version)>"Refresh"</button>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading deliveries…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(items) if items.is_empty() => {
                        view! { <p class="muted" data-testid="no-deliveries">"No deliveries."</p> }.into_any()
                    }
                    Ok(items) => view! {
                        <ul class="plain stack" data-testid="deliveries">
                            {items.into_iter().map(|d| view! { <Delivery d manage version /> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Delivery(d: DeliveryInfo, manage: bool, version: Version) -> impl IntoView {
    let toasts = use_toasts();
    let id = d.id;
    let open = RwSignal::new(false);
    let log = Resource::new(
        move || open.get(),
        move |open| async move {
            if open {
                get_notification_delivery(ItemRequest { id })
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let resend = move |_| {
        leptos::task::spawn_local(async move {
            match resend_notification_delivery(ItemRequest { id }).await {
                Ok(_) => toasts.info("Queued again"),
                Err(e) => toasts.error(e.to_string()),
            }
            bump(version);
        });
    };
    let dead = d.status == "dead";
    let when = d.created_at.format("%Y-%m-%d %H:%M:%S").to_string();
    view! {
        <li class="card" data-testid="delivery" data-status=d.status.clone() data-kind=d.kind.clone() data-channel=d.channel_name.clone()>
            <div class="row">
                <span class=badge(&d.status)>{d.status.clone()}</span>
                <strong>{d.title.clone()}</strong>
                <span class="muted">{format!("→ {} · {} · {when}", d.channel_name, d.kind)}</span>
                <span class="muted">{format!("{} attempt(s)", d.attempts)}</span>
                {d.last_status.map(|s| view! { <code>{s}</code> })}
                <button class="button small" data-testid="delivery-log" on:click=move |_| open.update(|o| *o = !*o)>
                    {move || if open.get() { "Hide attempts" } else { "Attempts" }}
                </button>
                {(dead && manage).then(|| view! {
                    <button class="button small" data-testid="resend" on:click=resend>"Resend"</button>
                })}
            </div>
            {d.last_error.clone().map(|e| view! { <p class="muted small">{e}</p> })}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(Some(full)) => view! {
                            <table class="table" data-testid="attempts">
                                <thead><tr><th>"#"</th><th>"At"</th><th>"Status"</th><th>"Latency"</th><th>"Outcome"</th><th>"Error"</th></tr></thead>
                                <tbody>
                                    {full.log.into_iter().map(|a| view! {
                                        <tr data-testid="attempt" data-outcome=a.outcome.clone()>
                                            <td>{a.attempt}</td>
                                            <td>{a.at.format("%H:%M:%S").to_string()}</td>
                                            <td>{a.status_code.map(|s| s.to_string()).unwrap_or_default()}</td>
                                            <td>{format!("{} ms", a.latency_ms)}</td>
                                            <td>{a.outcome.clone()}</td>
                                            <td>{a.error.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorPage error /> }.into_any(),
                    }
                })}
            </Transition>
        </li>
    }
}
