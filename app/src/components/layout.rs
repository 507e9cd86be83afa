//! The signed-in layout: navigation, top bar, palette, shortcuts and toasts around the page.
//! At phone width the top bar stays one row and the navigation and account items fold behind
//! a menu button.

use super::notifications::NotificationBell;
use super::palette::{commands_for, CommandAction, CommandPalette};
use super::shortcuts::ShortcutHelp;
use super::theme::{apply_theme, ThemeSwitch};
use super::toasts::ToastStack;
use crate::models::auth::Me;
use crate::models::Operation;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_location, use_navigate};

/// The id of the folding menu (navigation and account items), named by the button's
/// `aria-controls`.
const MENU_ID: &str = "app-menu";

struct NavItem {
    href: &'static str,
    label: &'static str,
    requires: Option<Operation>,
}

const NAV: [NavItem; 10] = [
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
        href: "/pipelines",
        label: "Pipelines",
        requires: Some(Operation::ReadPipelines),
    },
    NavItem {
        href: "/deployments",
        label: "Deployments",
        requires: Some(Operation::ReadDeployments),
    },
    NavItem {
        href: "/backups",
        label: "Backups",
        requires: Some(Operation::ReadBackups),
    },
    NavItem {
        href: "/council",
        label: "Council",
        requires: Some(Operation::ReadCouncil),
    },
    NavItem {
        href: "/notifications",
        label: "Notifications",
        requires: Some(Operation::ReadNotificationChannels),
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

/// Everything around a signed-in page: the menu, the top bar, the palette, the shortcut help
/// and the toasts. Provides the caller ([`Me`]) to the pages below.
#[component]
pub fn Layout(
    /// The signed-in caller.
    me: Me,
    /// Signs the caller out (the top bar's button and the palette's command).
    on_sign_out: Callback<()>,
) -> impl IntoView {
    let role = me.role;
    provide_context(me.clone());
    let palette_open = RwSignal::new(false);
    let help_open = RwSignal::new(false);
    let menu_open = RwSignal::new(false);
    let menu_button = NodeRef::<leptos::html::Button>::new();
    let theme = RwSignal::new("system".to_string());
    let navigate = use_navigate();
    // A followed link (or any other navigation) folds the menu away.
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });

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
            CommandAction::SignOut => on_sign_out.run(()),
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
                if menu_open.get_untracked() {
                    menu_open.set(false);
                    if let Some(button) = menu_button.get_untracked() {
                        let _ = button.focus();
                    }
                }
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
                    "l" if Operation::ReadPipelines.allowed_for(role) => Some("/pipelines"),
                    "e" if Operation::ReadDeployments.allowed_for(role) => Some("/deployments"),
                    "b" if Operation::ReadBackups.allowed_for(role) => Some("/backups"),
                    "n" if Operation::ReadNotificationChannels.allowed_for(role) => {
                        Some("/notifications")
                    }
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

    // A view of its own (type-erased): nested into the bar below, the shell's view type grows
    // past the compiler's recursion limit when the server renders it.
    let menu = view! {
        <div class="app-menu" id=MENU_ID data-testid="app-menu">
            <div class="sidebar">
                <a class="brand" href="/">
                    "Optimus"
                </a>
                // A link followed from the menu folds it on the click itself: in the end-to-end
                // run the route change alone left it open.
                <nav aria-label="Main" on:click=move |_| menu_open.set(false)>
                    <ul>{nav}</ul>
                </nav>
            </div>
            <div class="topbar-right">
                <ThemeSwitch choice=theme />
                <span class="whoami" data-testid="whoami">
                    {me.username.clone()}
                    <span class="badge">{me.role.as_str()}</span>
                </span>
                <button class="button ghost" data-testid="sign-out" on:click=move |_| on_sign_out.run(())>
                    "Sign out"
                </button>
            </div>
        </div>
    }
    .into_any();

    view! {
        <div class="app" class:menu-open=move || menu_open.get()>
            <header class="topbar">
                <a class="brand topbar-brand" href="/">
                    "Optimus"
                </a>
                <button class="palette-button" data-testid="open-palette" on:click=move |_| palette_open.set(true)>
                    <span>"Search or run a command"</span>
                    <kbd>"Ctrl K"</kbd>
                </button>
                <div class="topbar-end">
                    <NotificationBell />
                    <button
                        class="button ghost menu-button"
                        data-testid="menu-button"
                        node_ref=menu_button
                        aria-label="Menu"
                        aria-controls=MENU_ID
                        aria-expanded=move || menu_open.get().to_string()
                        on:click=move |_| menu_open.update(|o| *o = !*o)
                    >
                        <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                            <path fill="currentColor" d="M3 6h18v2H3zm0 5h18v2H3zm0 5h18v2H3z" />
                        </svg>
                    </button>
                    // Wide screens: the sidebar (fixed at the left) and the account items in the
                    // top bar. Phones: one panel below the bar, shown while the menu is open.
                    {menu}
                </div>
            </header>
            <main class="content">
                <Outlet />
            </main>
            <CommandPalette open=palette_open commands=commands_for(role) on_run=run />
            <ShortcutHelp open=help_open />
            <ToastStack />
        </div>
    }
}
