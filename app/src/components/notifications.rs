//! The notification centre in the top bar: a bell with the unread count, and a panel listing
//! alerts and crash loops as they arrive over the event stream.
//!
//! The one component that fetches: it is part of the app shell, on every signed-in page and
//! owned by none of them, and its list, unread count and "mark all read" concern nothing else.
//! It loads after hydration, so the server-rendered page never depends on it.

use crate::api::notifications::{list_notifications, mark_notifications_read};
use crate::components::browser::ClientOnly;
use crate::models::events::{Event, ServerMessage};
use crate::models::notifications::{MarkReadRequest, NotificationInfo, NotificationsQuery};
use leptos::prelude::*;

/// The bell and its panel; drawn after hydration (the browser fetches its own list).
#[component]
pub fn NotificationBell() -> impl IntoView {
    view! {
        <ClientOnly>
            <Bell />
        </ClientOnly>
    }
}

#[component]
fn Bell() -> impl IntoView {
    let items = RwSignal::new(Vec::<NotificationInfo>::new());
    let unread = RwSignal::new(0u64);
    let open = RwSignal::new(false);
    let load = move || {
        leptos::task::spawn_local(async move {
            if let Ok(list) = list_notifications(NotificationsQuery {
                limit: Some(30),
                ..Default::default()
            })
            .await
            {
                items.set(list.items);
                unread.set(list.unread);
            }
        });
    };
    Effect::new(move |_| {
        load();
        crate::components::live::subscribe(&["notifications"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::Notification { notification } = envelope.event {
                    items.update(|l| {
                        l.insert(0, notification);
                        l.truncate(30);
                    });
                    unread.update(|u| *u += 1);
                }
            }
        });
    });
    let mark_all = move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(list) = mark_notifications_read(MarkReadRequest::default()).await {
                items.set(list.items);
                unread.set(list.unread);
            }
        });
    };
    view! {
        <div class="bell">
            <button
                class="button ghost"
                data-testid="notifications"
                aria-label="Notifications"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                    <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" />
                </svg>
                <Show when=move || { unread.get() > 0 }>
                    <span class="badge danger" data-testid="unread-count">{move || unread.get().to_string()}</span>
                </Show>
            </button>
            <Show when=move || open.get()>
                <div class="bell-panel" role="dialog" aria-label="Notifications" data-testid="notification-panel">
                    <div class="bell-head">
                        <strong>"Notifications"</strong>
                        <button class="button ghost small" data-testid="mark-all-read" on:click=mark_all>"Mark all read"</button>
                    </div>
                    <ul class="bell-list">
                        {move || {
                            let list = items.get();
                            if list.is_empty() {
                                return view! { <li class="muted small">"Nothing yet."</li> }.into_any();
                            }
                            list.into_iter()
                                .map(|n| {
                                    let class = format!("bell-item level-{}", n.level);
                                    let href = n.project_id.map(|p| format!("/projects/{p}")).unwrap_or_default();
                                    view! {
                                        <li class=class class:unread=!n.read data-kind=n.kind.clone()>
                                            <a href=href>
                                                <div class="bell-title">{n.title.clone()}</div>
                                                <div class="muted small">{n.body.clone()}</div>
                                                <div class="muted small">{n.created_at.format("%Y-%m-%d %H:%M:%S").to_string()}</div>
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        }}
                    </ul>
                </div>
            </Show>
        </div>
    }
}
