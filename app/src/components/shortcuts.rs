//! Every keyboard shortcut, and the `?` overlay that lists them.

use leptos::prelude::*;

/// A shortcut and what it does.
pub const SHORTCUTS: [(&str, &str); 21] = [
    ("Ctrl/⌘ K", "Open the command palette"),
    ("?", "Show this list"),
    ("Esc", "Close a dialog"),
    ("g d", "Go to the dashboard"),
    ("g p", "Go to projects"),
    ("/", "Search projects (on the projects page)"),
    ("j k Enter", "Move through projects and open one"),
    ("f e", "Favorite or edit the selected project"),
    (
        "s x",
        "Start or stop all of a project's services (on its page)",
    ),
    ("r", "Restart all of a project's services (on its page)"),
    ("g c", "Go to the council"),
    ("g l", "Go to pipelines"),
    ("g e", "Go to deployments"),
    ("g b", "Go to backups"),
    ("g n", "Go to notification channels (operators)"),
    (
        "D B",
        "Deploy, or roll back to the release before (on a project's Deployments tab)",
    ),
    (
        "c r f a",
        "Cancel, rerun, rerun from the failed step, approve (on a run's page)",
    ),
    ("g t", "Go to API tokens"),
    ("g u", "Go to users (admins)"),
    ("g a", "Go to the audit log (admins)"),
    ("↑ ↓ Enter", "Move and run in the palette"),
];

/// The overlay listing every shortcut.
#[component]
pub fn ShortcutHelp(
    /// Whether it is shown.
    open: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <Show when=move || open.get()>
            <div class="overlay" on:click=move |_| open.set(false)>
                <div class="dialog" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts" on:click=|ev| ev.stop_propagation()>
                    <h2>"Keyboard shortcuts"</h2>
                    <table class="table">
                        <tbody>
                            {SHORTCUTS
                                .iter()
                                .map(|(keys, what)| {
                                    view! {
                                        <tr>
                                            <td>
                                                <kbd>{*keys}</kbd>
                                            </td>
                                            <td>{*what}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                    <button class="button" on:click=move |_| open.set(false)>
                        "Close"
                    </button>
                </div>
            </div>
        </Show>
    }
}
