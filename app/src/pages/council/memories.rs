//! The council's memories: search (ranked by relevance, importance and recency), pin, forget.

use crate::api::council::{forget_memory, list_memories, update_memory};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::council::{MemoriesQuery, MemoryRequest, UpdateMemoryRequest};
use crate::models::Operation;
use leptos::prelude::*;

/// What the council remembers: search (ranked by relevance, importance and recency), pin,
/// forget.
#[component]
pub fn Memories() -> impl IntoView {
    let toasts = use_toasts();
    let can_manage =
        use_context::<Me>().is_some_and(|m| Operation::ManageMemories.allowed_for(m.role));
    let search = RwSignal::new(String::new());
    let version = RwSignal::new(0u32);
    let found = LocalResource::new(move || {
        version.track();
        let q = search.get();
        list_memories(MemoriesQuery {
            search: (!q.trim().is_empty()).then_some(q),
            limit: Some(20),
            ..Default::default()
        })
    });
    let act = move |id: i64, pin: Option<bool>| {
        leptos::task::spawn_local(async move {
            let r = match pin {
                Some(p) => update_memory(UpdateMemoryRequest {
                    id,
                    pinned: Some(p),
                    ..Default::default()
                })
                .await
                .map(|_| ()),
                None => forget_memory(MemoryRequest { id }).await,
            };
            match r {
                Ok(()) => version.update(|v| *v += 1),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    view! {
        <h2>"Memories"</h2>
        <input type="search" name="memory-search" placeholder="Search what the council remembers" aria-label="Search memories" bind:value=search />
        <ul class="memories" data-testid="memories">
            {move || {
                found
                    .get()
                    .and_then(Result::ok)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| {
                        let id = m.id;
                        let pinned = m.pinned;
                        view! {
                            <li class="card small" data-memory=id.to_string()>
                                <span class="badge">{m.kind.clone()}</span>
                                {pinned.then(|| view! { <span class="badge ok">"pinned"</span> })}
                                " "<strong>{m.title.clone()}</strong>
                                <div class="muted">{m.content.chars().take(240).collect::<String>()}</div>
                                <Show when=move || can_manage>
                                    <button class="button ghost small" on:click=move |_| act(id, Some(!pinned))>{if pinned { "Unpin" } else { "Pin" }}</button>
                                    <button class="button ghost small" data-testid="forget" on:click=move |_| act(id, None)>"Forget"</button>
                                </Show>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}
