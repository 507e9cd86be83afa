//! Maintenance windows: while one is on, notifications (of its project, or every one) still reach
//! the bell but are not sent out. Operators add and end them.

use crate::api::notifications::{
    create_notification_mute, delete_notification_mute, list_notification_mutes,
};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::notifications::{CreateMuteRequest, ItemRequest, MutesRequest};
use crate::models::Operation;
use crate::pages::error::ErrorPage;
use leptos::prelude::*;

/// The windows not over yet, and a form to add one.
#[component]
pub fn Windows() -> impl IntoView {
    let toasts = use_toasts();
    let can = use_context::<Me>().is_some_and(|m| Operation::MuteNotifications.allowed_for(m.role));
    let version = RwSignal::new(0u32);
    let list = Resource::new(
        move || version.get(),
        |_| list_notification_mutes(MutesRequest::default()),
    );
    let minutes = RwSignal::new("60".to_owned());
    let reason = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(m) = minutes.get_untracked().trim().parse::<u32>() else {
            toasts.error("minutes: must be a number of minutes");
            return;
        };
        let request = CreateMuteRequest {
            project_id: None,
            starts_at: None,
            ends_at: None,
            minutes: Some(m),
            reason: reason.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match create_notification_mute(request).await {
                Ok(_) => reason.set(String::new()),
                Err(e) => toasts.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    let end = move |id: i64| {
        leptos::task::spawn_local(async move {
            if let Err(e) = delete_notification_mute(ItemRequest { id }).await {
                toasts.error(e.to_string());
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        <h2>"Maintenance windows"</h2>
        <Show when=move || can>
            <form class="inline-form" data-testid="new-window" on:submit=add>
                <input name="minutes" type="number" min="1" max="43200" aria-label="Minutes" bind:value=minutes />
                <input name="reason" placeholder="why (e.g. moving racks)" required bind:value=reason />
                <button class="button" type="submit">"Mute everything for these minutes"</button>
            </form>
        </Show>
        <Transition fallback=|| view! { <p class="muted">"Loading windows…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(items) if items.is_empty() => view! { <p class="muted">"None."</p> }.into_any(),
                    Ok(items) => view! {
                        <ul class="plain" data-testid="windows">
                            {items.into_iter().map(|m| {
                                let id = m.id;
                                let scope = m.project_id.map_or("every project".to_owned(), |p| format!("project {p}"));
                                view! {
                                    <li data-testid="window" data-active=m.active.to_string()>
                                        {format!(
                                            "{scope}: {} → {} · {}",
                                            m.starts_at.format("%Y-%m-%d %H:%M"),
                                            m.ends_at.format("%Y-%m-%d %H:%M UTC"),
                                            m.reason
                                        )}
                                        <Show when=move || can>
                                            <button class="button small" on:click=move |_| end(id)>"End"</button>
                                        </Show>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
