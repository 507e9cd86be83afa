//! Live service counts for the cards: fetched from the runtime for the projects shown, and
//! fetched again (at most every 300 ms) when a service of one of them changes state.

use crate::api::runtime::project_runtime_summaries;
use crate::models::auth::Me;
use crate::models::runtime::{ProjectRuntimeSummary, RuntimeSummaryQuery};
use crate::models::Operation;
use leptos::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

/// The most project ids sent; beyond that the page asks for every project.
const MAX_IDS: usize = 1000;

/// The cards' service counts and what refreshes them. Built once by the page.
#[derive(Clone, Copy)]
pub struct RuntimeCounts {
    /// By project; empty until the first answer (and on the server).
    pub by_project: Signal<BTreeMap<i64, ProjectRuntimeSummary>>,
    shown: Memo<Vec<i64>>,
    version: RwSignal<u32>,
    pending: StoredValue<bool>,
}

impl RuntimeCounts {
    /// Fetches the counts of the `shown` projects whenever that list changes. Fetched in the
    /// browser only: the server renders the cards without counts, and so does hydration.
    pub fn new(shown: Memo<Vec<i64>>) -> Self {
        let can_read =
            use_context::<Me>().is_some_and(|m| Operation::ReadRuntime.allowed_for(m.role));
        let version = RwSignal::new(0u32);
        let fetched = LocalResource::new(move || {
            let ids = shown.get();
            version.track();
            async move {
                if !can_read || ids.is_empty() {
                    return Ok(Vec::new());
                }
                let project_ids = (ids.len() <= MAX_IDS).then_some(ids);
                project_runtime_summaries(RuntimeSummaryQuery { project_ids }).await
            }
        });
        let counts = RwSignal::new(BTreeMap::<i64, ProjectRuntimeSummary>::new());
        Effect::new(move |_| {
            // A failed read leaves the last counts; the cards are no place for an error.
            if let Some(Ok(list)) = fetched.get() {
                counts.set(list.into_iter().map(|s| (s.project_id, s)).collect());
            }
        });
        Self {
            by_project: counts.into(),
            shown,
            version,
            pending: StoredValue::new(false),
        }
    }

    /// Fetches again soon (several calls within 300 ms make one fetch). The `try_` reads: a
    /// live event or the timer may come after the page has gone.
    pub fn refresh(self) {
        if self.pending.try_get_value().unwrap_or(true) {
            return;
        }
        self.pending.set_value(true);
        set_timeout(
            move || {
                self.pending.try_set_value(false);
                self.version.try_update(|v| *v += 1);
            },
            Duration::from_millis(300),
        );
    }

    /// A service of `project_id` changed state: fetch again if the project is shown.
    pub fn service_changed(self, project_id: i64) {
        if self
            .shown
            .try_with_untracked(|s| s.contains(&project_id))
            .unwrap_or(false)
        {
            self.refresh();
        }
    }
}
