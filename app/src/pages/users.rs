//! User management.

use crate::api::users::{create_user, delete_user, list_users, update_user_role};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::page::PageRequest;
use crate::models::tokens::IdRequest;
use crate::models::users::{CreateUserRequest, UpdateRoleRequest};
use crate::models::{Operation, Role};
use crate::pages::error::ErrorPage;
use leptos::prelude::*;
use leptos_meta::Title;

/// Lists users; admins and owners create, re-role and delete them.
#[component]
pub fn UsersPage() -> impl IntoView {
    let toasts = use_toasts();
    let me = use_context::<Me>();
    let my_id = me.as_ref().map(|m| m.id).unwrap_or_default();
    let can_create = me
        .as_ref()
        .is_some_and(|m| Operation::CreateUser.allowed_for(m.role));
    let version = RwSignal::new(0u32);
    let users = Resource::new(
        move || version.get(),
        |_| {
            list_users(PageRequest {
                cursor: None,
                limit: Some(200),
            })
        },
    );

    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new("viewer".to_string());
    let create = Action::new(|r: &CreateUserRequest| {
        let r = r.clone();
        async move { create_user(r).await }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(u)) => {
            toasts.info(format!("Created {}", u.username));
            username.set(String::new());
            password.set(String::new());
            version.update(|v| *v += 1);
        }
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    let change_role = move |id: i64, new_role: String| {
        leptos::task::spawn_local(async move {
            match update_user_role(UpdateRoleRequest { id, role: new_role }).await {
                Ok(u) => toasts.info(format!("{} is now {}", u.username, u.role)),
                Err(e) => toasts.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    let remove = move |id: i64| {
        leptos::task::spawn_local(async move {
            match delete_user(IdRequest { id }).await {
                Ok(()) => toasts.info("User deleted"),
                Err(e) => toasts.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };

    view! {
        <Title text="Users · Optimus" />
        <h1>"Users"</h1>
        <Show when=move || can_create>
            <form
                id="new"
                class="inline-form"
                data-testid="create-user"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch(CreateUserRequest {
                        username: username.get_untracked(),
                        password: password.get_untracked(),
                        role: role.get_untracked(),
                    });
                }
            >
                <input placeholder="username" name="username" required bind:value=username />
                <input placeholder="password (12+ characters)" name="password" type="password" required bind:value=password />
                <select name="role" prop:value=move || role.get() on:change=move |ev| role.set(event_target_value(&ev))>
                    {Role::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                </select>
                <button class="button primary" type="submit">
                    "Create user"
                </button>
            </form>
        </Show>
        <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(page) => view! {
                        <table class="table" data-testid="users-table">
                            <thead>
                                <tr>
                                    <th>"Username"</th>
                                    <th>"Role"</th>
                                    <th>"Last sign-in"</th>
                                    <th></th>
                                </tr>
                            </thead>
                            <tbody>
                                {page
                                    .items
                                    .into_iter()
                                    .map(|u| {
                                        let id = u.id;
                                        let me_row = id == my_id;
                                        view! {
                                            <tr>
                                                <td>{u.username.clone()}</td>
                                                <td>
                                                    <select
                                                        disabled=me_row || !can_create
                                                        aria-label="Role"
                                                        on:change=move |ev| change_role(id, event_target_value(&ev))
                                                    >
                                                        {Role::ALL
                                                            .iter()
                                                            .map(|r| view! { <option value=r.as_str() selected=*r == u.role>{r.as_str()}</option> })
                                                            .collect_view()}
                                                    </select>
                                                </td>
                                                <td>{u.last_login_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "never".into())}</td>
                                                <td>
                                                    <Show when=move || !me_row && can_create>
                                                        <button class="button danger" on:click=move |_| remove(id)>
                                                            "Delete"
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
