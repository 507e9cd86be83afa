//! The signed-in layout: navigation, top bar, palette, shortcuts and toasts around the page.

use super::notifications::NotificationBell;
use super::palette::{commands_for, CommandAction, CommandPalette};
use super::shortcuts::ShortcutHelp;
use super::theme::{apply_theme, ThemeSwitch};
use super::toasts::{use_toasts, ToastStack};
use crate::api::auth::{current_user, logout, refresh_session};
use crate::error::AppError;
use crate::models::auth::{Me, RefreshRequest};
use crate::models::Operation;
use crate::pages::error::ErrorPage;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_navigate;

/// The caller, renewing an expired access token with the refresh cookie once.
async fn current_user_or_refresh() -> Result<Me, AppError> {
    match current_user().await {
        Err(AppError::Unauthorized { .. }) => refresh_session(RefreshRequest::default())
            .await
            .map(|r| r.user),
        other => other,
    }
}

/// Loads the caller; signed-in users get the layout, others go to the login page.
///
/// A `Transition`, not a `Suspense`: every resource read below that has no nearer boundary
/// registers here, and a `Suspense` would take the whole app out of the page and put it back
/// each time one of them reloads (losing focus mid-word in a search box).
#[component]
pub fn Shell() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user_or_refresh());
    view! {
        <Transition fallback=|| view! { <div class="loading">"Loading…"</div> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(me) => view! { <SignedIn me /> }.into_any(),
                    Err(AppError::Unauthorized { .. }) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

struct NavItem {
    href: &'static str,
    label: &'static str,
    requires: Option<Operation>,
}

const NAV: [NavItem; 6] = [
    NavItem {
        href: "/",
        label: "Dashboard",
        requires: None,
    },
    NavItem {
        href: "/projects",
        label: "Projects",
        requires: Some(Operation::ReadCatalog),
    },
    NavItem {
        href: "/council",
        label: "Council",
        requires: Some(Operation::ReadCouncil),
    },
    NavItem {
        href: "/tokens",
        label: "API tokens",
        requires: Some(Operation::ListTokens),
    },
    NavItem {
        href: "/users",
        label: "Users",
        requires: Some(Operation::ListUsers),
    },
    NavItem {
        href: "/audit",
        label: "Audit log",
        requires: Some(Operation::ReadAudit),
    },
];

/// Whether a key went to a form field (shortcuts then stay out of the way).
pub(crate) fn is_typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    use leptos::wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        .map(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.has_attribute("contenteditable")
        })
        .unwrap_or(false)
}

#[component]
fn SignedIn(me: Me) -> impl IntoView {
    let role = me.role;
    provide_context(me.clone());
    let palette_open = RwSignal::new(false);
    let help_open = RwSignal::new(false);
    let theme = RwSignal::new("system".to_string());
    let toasts = use_toasts();
    let navigate = use_navigate();

    let sign_out = move || {
        leptos::task::spawn_local(async move {
            match logout().await {
                Ok(()) => {
                    let _ = window().location().set_href("/login");
                }
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };

    let run = {
        let navigate = navigate.clone();
        Callback::new(move |action: CommandAction| match action {
            CommandAction::Go(path) => navigate(path, Default::default()),
            CommandAction::CycleTheme => {
                let next = match theme.get_untracked().as_str() {
                    "system" => "light",
                    "light" => "dark",
                    _ => "system",
                };
                apply_theme(next);
                theme.set(next.to_string());
            }
            CommandAction::ShowShortcuts => help_open.set(true),
            CommandAction::SignOut => sign_out(),
        })
    };

    // Global keys; registered in an effect so it only happens in the browser.
    Effect::new(move |_| {
        let pending_g = StoredValue::new(false);
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            let key = ev.key();
            if (ev.ctrl_key() || ev.meta_key()) && key.eq_ignore_ascii_case("k") {
                ev.prevent_default();
                help_open.set(false);
                palette_open.update(|o| *o = !*o);
                return;
            }
            if key == "Escape" {
                palette_open.set(false);
                help_open.set(false);
                return;
            }
            if is_typing(&ev) || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            if pending_g.get_value() {
                pending_g.set_value(false);
                let target = match key.as_str() {
                    "d" => Some("/"),
                    "p" => Some("/projects"),
                    "c" if Operation::ReadCouncil.allowed_for(role) => Some("/council"),
                    "t" => Some("/tokens"),
                    "u" if Operation::ListUsers.allowed_for(role) => Some("/users"),
                    "a" if Operation::ReadAudit.allowed_for(role) => Some("/audit"),
                    _ => None,
                };
                if let Some(path) = target {
                    run.run(CommandAction::Go(path));
                }
                return;
            }
            match key.as_str() {
                "?" => help_open.update(|o| *o = !*o),
                "g" => pending_g.set_value(true),
                _ => {}
            }
        });
        on_cleanup(move || handle.remove());
    });

    let nav = NAV
        .iter()
        .filter(|item| item.requires.is_none_or(|op| op.allowed_for(role)))
        .map(|item| {
            view! {
                <li>
                    <A href=item.href>{item.label}</A>
                </li>
            }
        })
        .collect_view();

    view! {
        <div class="app">
            <aside class="sidebar">
                <a class="brand" href="/">
                    "Optimus"
                </a>
                <nav aria-label="Main">
                    <ul>{nav}</ul>
                </nav>
            </aside>
            <div class="main">
                <header class="topbar">
                    <button class="palette-button" data-testid="open-palette" on:click=move |_| palette_open.set(true)>
                        <span>"Search or run a command"</span>
                        <kbd>"Ctrl K"</kbd>
                    </button>
                    <div class="topbar-right">
                        <NotificationBell />
                        <ThemeSwitch choice=theme />
                        <span class="whoami" data-testid="whoami">
                            {me.username.clone()}
                            <span class="badge">{me.role.as_str()}</span>
                        </span>
                        <button class="button ghost" data-testid="sign-out" on:click=move |_| sign_out()>
                            "Sign out"
                        </button>
                    </div>
                </header>
                <main class="content">
                    <Outlet />
                </main>
            </div>
            <CommandPalette open=palette_open commands=commands_for(role) on_run=run />
            <ShortcutHelp open=help_open />
            <ToastStack />
        </div>
    }
}
