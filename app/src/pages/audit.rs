//! The audit log.

use crate::api::audit::list_audit;
use crate::models::audit::{AuditEntry, AuditQuery};
use crate::pages::error::ErrorPage;
use leptos::prelude::*;
use leptos_meta::Title;

/// Newest entries first, filterable by action, with "load more".
#[component]
pub fn AuditPage() -> impl IntoView {
    let action = RwSignal::new(String::new());
    let applied = RwSignal::new(String::new());
    let cursor = RwSignal::new(None::<String>);
    let earlier = RwSignal::new(Vec::<AuditEntry>::new());
    let page = Resource::new(
        move || (applied.get(), cursor.get()),
        |(action, cursor)| {
            list_audit(AuditQuery {
                action: (!action.is_empty()).then_some(action),
                cursor,
                limit: Some(50),
            })
        },
    );
    view! {
        <Title text="Audit log · Optimus" />
        <h1>"Audit log"</h1>
        <form
            class="inline-form"
            on:submit=move |ev| {
                ev.prevent_default();
                earlier.set(Vec::new());
                cursor.set(None);
                applied.set(action.get_untracked().trim().to_string());
            }
        >
            <input placeholder="filter by action, e.g. auth.login" bind:value=action />
            <button class="button" type="submit">
                "Filter"
            </button>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(p) => {
                        let mut rows = earlier.get_untracked();
                        rows.extend(p.items.clone());
                        let next = p.next_cursor.clone();
                        let shown = rows.clone();
                        view! {
                            <table class="table" data-testid="audit-table">
                                <thead>
                                    <tr>
                                        <th>"When"</th>
                                        <th>"Who"</th>
                                        <th>"Action"</th>
                                        <th>"Target"</th>
                                        <th>"Outcome"</th>
                                        <th>"From"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {shown
                                        .into_iter()
                                        .map(|e| {
                                            view! {
                                                <tr>
                                                    <td>{e.at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                                                    <td>{e.actor.unwrap_or_else(|| "—".into())}</td>
                                                    <td>
                                                        <code>{e.action}</code>
                                                    </td>
                                                    <td>{e.target}</td>
                                                    <td>{e.outcome}</td>
                                                    <td>{e.client_addr.unwrap_or_default()}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <Show when={
                                let has = next.is_some();
                                move || has
                            }>
                                <button
                                    class="button"
                                    on:click={
                                        let rows = rows.clone();
                                        let next = next.clone();
                                        move |_| {
                                            earlier.set(rows.clone());
                                            cursor.set(next.clone());
                                        }
                                    }
                                >
                                    "Load more"
                                </button>
                            </Show>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}
