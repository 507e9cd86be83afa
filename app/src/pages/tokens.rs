//! The caller's API tokens.

use crate::api::tokens::{create_token, list_tokens, revoke_token};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::page::PageRequest;
use crate::models::tokens::{CreateTokenRequest, IdRequest};
use crate::pages::error::ErrorPage;
use leptos::prelude::*;
use leptos_meta::Title;

/// Lists, creates and revokes API tokens; a new token's secret is shown once.
#[component]
pub fn TokensPage() -> impl IntoView {
    let toasts = use_toasts();
    let grantable = use_context::<Me>()
        .map(|m| m.role.grantable_scopes().to_vec())
        .unwrap_or_default();
    let version = RwSignal::new(0u32);
    let tokens = Resource::new(
        move || version.get(),
        |_| {
            list_tokens(PageRequest {
                cursor: None,
                limit: Some(200),
            })
        },
    );
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("30".to_string());
    let chosen = RwSignal::new(vec!["read".to_string()]);
    let secret = RwSignal::new(None::<String>);
    let create = Action::new(|r: &CreateTokenRequest| {
        let r = r.clone();
        async move { create_token(r).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(t)) => {
            secret.set(Some(t.token));
            name.set(String::new());
            version.update(|v| *v += 1);
        }
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    let revoke = move |id: i64| {
        leptos::task::spawn_local(async move {
            match revoke_token(IdRequest { id }).await {
                Ok(t) => toasts.info(format!("Revoked {}", t.name)),
                Err(e) => toasts.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        <Title text="API tokens · Optimus" />
        <h1>"API tokens"</h1>
        <p class="muted">"Use a token as " <code>"Authorization: Bearer <token>"</code> " with any " <code>"/api/v1"</code> " endpoint."</p>
        <form
            id="new"
            class="inline-form"
            data-testid="create-token"
            on:submit=move |ev| {
                ev.prevent_default();
                let Ok(d) = days.get_untracked().trim().parse::<u32>() else {
                    toasts.error("expires_in_days: must be a number of days");
                    return;
                };
                create.dispatch(CreateTokenRequest {
                    name: name.get_untracked(),
                    scopes: chosen.get_untracked(),
                    expires_in_days: d,
                });
            }
        >
            <input placeholder="token name" name="name" required bind:value=name />
            <input name="days" type="number" min="1" max="365" aria-label="Days until expiry" bind:value=days />
            {grantable
                .into_iter()
                .map(|s| {
                    let id = s.as_str();
                    view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                prop:checked=move || chosen.with(|c| c.iter().any(|x| x == id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|x| x != id);
                                        if on {
                                            c.push(id.to_string());
                                        }
                                    });
                                }
                            />
                            {id}
                        </label>
                    }
                })
                .collect_view()}
            <button class="button primary" type="submit">
                "Create token"
            </button>
        </form>
        <Show when=move || secret.get().is_some()>
            <div class="callout" data-testid="new-token">
                <p>"Copy this token now; it will not be shown again."</p>
                <code class="secret">{move || secret.get()}</code>
            </div>
        </Show>
        <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                    Ok(page) => view! {
                        <table class="table" data-testid="tokens-table">
                            <thead>
                                <tr>
                                    <th>"Name"</th>
                                    <th>"Prefix"</th>
                                    <th>"Scopes"</th>
                                    <th>"Expires"</th>
                                    <th>"Status"</th>
                                    <th></th>
                                </tr>
                            </thead>
                            <tbody>
                                {page
                                    .items
                                    .into_iter()
                                    .map(|t| {
                                        let id = t.id;
                                        let active = t.revoked_at.is_none();
                                        view! {
                                            <tr>
                                                <td>{t.name.clone()}</td>
                                                <td>
                                                    <code>{t.prefix.clone()}"…"</code>
                                                </td>
                                                <td>{t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")}</td>
                                                <td>{t.expires_at.format("%Y-%m-%d").to_string()}</td>
                                                <td>{if active { "active" } else { "revoked" }}</td>
                                                <td>
                                                    <Show when=move || active>
                                                        <button class="button danger" on:click=move |_| revoke(id)>
                                                            "Revoke"
                                                        </button>
                                                    </Show>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
