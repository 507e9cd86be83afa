//! Toast notifications for errors and confirmations.

use leptos::prelude::*;

/// One toast.
#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    /// Unique id.
    pub id: u64,
    /// `error` or `info`.
    pub kind: &'static str,
    /// The text.
    pub message: String,
}

/// The toast queue, shared through context.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next: RwSignal<u64>,
}

impl Toasts {
    /// Shows an error.
    pub fn error(&self, message: impl Into<String>) {
        self.push("error", message.into());
    }

    /// Shows a confirmation.
    pub fn info(&self, message: impl Into<String>) {
        self.push("info", message.into());
    }

    fn push(&self, kind: &'static str, message: String) {
        let id = self.next.get_untracked();
        self.next.set(id + 1);
        self.items.update(|v| {
            v.push(Toast { id, kind, message });
            if v.len() > 4 {
                v.remove(0);
            }
        });
    }

    /// Removes a toast.
    pub fn dismiss(&self, id: u64) {
        self.items.update(|v| v.retain(|t| t.id != id));
    }
}

/// Puts a toast queue in context.
pub fn provide_toasts() {
    provide_context(Toasts {
        items: RwSignal::new(Vec::new()),
        next: RwSignal::new(0),
    });
}

/// The toast queue from context (a fresh one if absent).
pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(|| Toasts {
        items: RwSignal::new(Vec::new()),
        next: RwSignal::new(0),
    })
}

/// Renders the toast stack.
#[component]
pub fn ToastStack() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div class=format!("toast toast-{}", toast.kind)>
                    <span>{toast.message.clone()}</span>
                    <button class="link" aria-label="Dismiss" on:click=move |_| toasts.dismiss(toast.id)>
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
