//! The `Ctrl/⌘ K` command palette: every action the current user may take, filtered as you type.

use crate::models::{Operation, Role};
use leptos::prelude::*;

/// What a command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandAction {
    /// Navigate to a path.
    Go(&'static str),
    /// Cycle the theme.
    CycleTheme,
    /// Show the shortcut list.
    ShowShortcuts,
    /// Sign out.
    SignOut,
}

/// A palette entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// Stable id (used by tests).
    pub id: &'static str,
    /// What the user reads.
    pub label: &'static str,
    /// Its shortcut, if any.
    pub keys: &'static str,
    /// The operation it needs, if any.
    pub requires: Option<Operation>,
    /// What it does.
    pub action: CommandAction,
}

/// Every command.
pub const COMMANDS: [Command; 16] = [
    Command {
        id: "go-dashboard",
        label: "Go to dashboard",
        keys: "g d",
        requires: None,
        action: CommandAction::Go("/"),
    },
    Command {
        id: "go-projects",
        label: "Go to projects",
        keys: "g p",
        requires: Some(Operation::ReadCatalog),
        action: CommandAction::Go("/projects"),
    },
    Command {
        id: "go-council",
        label: "Ask the council",
        keys: "g c",
        requires: Some(Operation::ReadCouncil),
        action: CommandAction::Go("/council"),
    },
    Command {
        id: "go-pipelines",
        label: "Go to pipelines",
        keys: "g l",
        requires: Some(Operation::ReadPipelines),
        action: CommandAction::Go("/pipelines"),
    },
    Command {
        id: "go-deployments",
        label: "Go to deployments",
        keys: "g e",
        requires: Some(Operation::ReadDeployments),
        action: CommandAction::Go("/deployments"),
    },
    Command {
        id: "go-backups",
        label: "Go to backups",
        keys: "g b",
        requires: Some(Operation::ReadBackups),
        action: CommandAction::Go("/backups"),
    },
    Command {
        id: "go-notifications",
        label: "Go to notification channels",
        keys: "g n",
        requires: Some(Operation::ReadNotificationChannels),
        action: CommandAction::Go("/notifications"),
    },
    Command {
        id: "add-workspace",
        label: "Add a workspace to scan",
        keys: "",
        requires: Some(Operation::ManageWorkspaces),
        action: CommandAction::Go("/projects"),
    },
    Command {
        id: "go-tokens",
        label: "Go to API tokens",
        keys: "g t",
        requires: Some(Operation::ListTokens),
        action: CommandAction::Go("/tokens"),
    },
    Command {
        id: "create-token",
        label: "Create an API token",
        keys: "",
        requires: Some(Operation::CreateToken),
        action: CommandAction::Go("/tokens#new"),
    },
    Command {
        id: "go-users",
        label: "Go to users",
        keys: "g u",
        requires: Some(Operation::ListUsers),
        action: CommandAction::Go("/users"),
    },
    Command {
        id: "create-user",
        label: "Create a user",
        keys: "",
        requires: Some(Operation::CreateUser),
        action: CommandAction::Go("/users#new"),
    },
    Command {
        id: "go-audit",
        label: "Go to audit log",
        keys: "g a",
        requires: Some(Operation::ReadAudit),
        action: CommandAction::Go("/audit"),
    },
    Command {
        id: "cycle-theme",
        label: "Switch theme (system → light → dark)",
        keys: "",
        requires: None,
        action: CommandAction::CycleTheme,
    },
    Command {
        id: "shortcuts",
        label: "Show keyboard shortcuts",
        keys: "?",
        requires: None,
        action: CommandAction::ShowShortcuts,
    },
    Command {
        id: "sign-out",
        label: "Sign out",
        keys: "",
        requires: Some(Operation::Logout),
        action: CommandAction::SignOut,
    },
];

/// The commands a user with `role` may run.
pub fn commands_for(role: Role) -> Vec<Command> {
    COMMANDS
        .iter()
        .copied()
        .filter(|c| c.requires.is_none_or(|op| op.allowed_for(role)))
        .collect()
}

/// Commands whose label contains every word of `query` (case-insensitive).
pub fn filter_commands(commands: &[Command], query: &str) -> Vec<Command> {
    let q = query.to_lowercase();
    commands
        .iter()
        .copied()
        .filter(|c| {
            let label = c.label.to_lowercase();
            q.split_whitespace().all(|w| label.contains(w))
        })
        .collect()
}

/// The palette dialog.
#[component]
pub fn CommandPalette(
    /// Whether it is shown.
    open: RwSignal<bool>,
    /// The commands on offer (already filtered by permission).
    commands: Vec<Command>,
    /// Runs a chosen command.
    on_run: Callback<CommandAction>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0usize);
    let commands = StoredValue::new(commands);
    let visible = Memo::new(move |_| commands.with_value(|c| filter_commands(c, &query.get())));
    let input_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if open.get() {
            query.set(String::new());
            selected.set(0);
            if let Some(input) = input_ref.get() {
                let _ = input.focus();
            }
        }
    });
    let run = move |action: CommandAction| {
        open.set(false);
        on_run.run(action);
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = visible.with(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                if n > 0 {
                    selected.update(|s| *s = (*s + 1) % n);
                }
            }
            "ArrowUp" => {
                ev.prevent_default();
                if n > 0 {
                    selected.update(|s| *s = (*s + n - 1) % n);
                }
            }
            "Enter" => {
                ev.prevent_default();
                if let Some(c) = visible.with(|v| v.get(selected.get()).copied()) {
                    run(c.action);
                }
            }
            "Escape" => open.set(false),
            _ => {}
        }
    };
    view! {
        <Show when=move || open.get()>
            <div class="overlay" on:click=move |_| open.set(false)>
                <div class="dialog palette" role="dialog" aria-label="Command palette" data-testid="palette" on:click=|ev| ev.stop_propagation()>
                    <input
                        node_ref=input_ref
                        class="palette-input"
                        placeholder="Type a command…"
                        autofocus
                        bind:value=query
                        on:input=move |_| selected.set(0)
                        on:keydown=on_key
                    />
                    <ul class="palette-list" role="listbox">
                        <For each=move || visible.get().into_iter().enumerate() key=|(i, c)| (*i, c.id) let:item>
                            <li
                                role="option"
                                data-command=item.1.id
                                class:active=move || selected.get() == item.0
                                on:click=move |_| run(item.1.action)
                            >
                                <span>{item.1.label}</span>
                                <kbd>{item.1.keys}</kbd>
                            </li>
                        </For>
                        <Show when=move || visible.with(Vec::is_empty)>
                            <li class="muted">"No matching command"</li>
                        </Show>
                    </ul>
                </div>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_is_not_offered_admin_actions() {
        let ids: Vec<_> = commands_for(Role::Viewer).iter().map(|c| c.id).collect();
        assert!(!ids.contains(&"go-users"));
        assert!(!ids.contains(&"create-user"));
        assert!(!ids.contains(&"go-audit"));
        assert!(ids.contains(&"go-dashboard"));
    }

    #[test]
    fn an_admin_is_offered_user_management() {
        let ids: Vec<_> = commands_for(Role::Admin).iter().map(|c| c.id).collect();
        assert!(ids.contains(&"create-user"));
        assert!(ids.contains(&"go-audit"));
    }

    #[test]
    fn filtering_matches_every_word() {
        let found = filter_commands(&COMMANDS, "go aud");
        assert_eq!(
            found.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec!["go-audit"]
        );
    }
}
