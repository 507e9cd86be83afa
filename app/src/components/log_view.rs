//! What every log view shares (a service's, a pipeline step's): the toolbar to follow or pause,
//! pick a stream and search; which lines are shown; keeping the newest in view while following.

use crate::components::filter_select::{FilterOption, FilterSelect};
use crate::models::runtime::LogStream;
use leptos::prelude::*;

/// The lines of the chosen stream (`stdout`, `stderr`, or `""` for both) whose text contains
/// `needle` (any case). `of` gives a line's stream and text.
pub fn visible<T: Clone>(
    lines: &[T],
    stream: &str,
    needle: &str,
    of: impl Fn(&T) -> (LogStream, &str),
) -> Vec<T> {
    let want = match stream {
        "stdout" => Some(LogStream::Stdout),
        "stderr" => Some(LogStream::Stderr),
        _ => None,
    };
    let needle = needle.to_lowercase();
    lines
        .iter()
        .filter(|l| {
            let (s, text) = of(l);
            want.is_none_or(|w| w == s)
                && (needle.is_empty() || text.to_lowercase().contains(&needle))
        })
        .cloned()
        .collect()
}

/// Scrolls `pre` to its end whenever `changed` changes while `follow` is on.
pub fn keep_newest_in_view(
    changed: impl Fn() + 'static,
    follow: RwSignal<bool>,
    pre: NodeRef<leptos::html::Pre>,
) {
    Effect::new(move |_| {
        changed();
        if follow.get_untracked() {
            if let Some(el) = pre.get_untracked() {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
}

/// Follow / pause (with the count of lines missed while paused), the stream filter and the
/// search box; `children` are the view's own buttons after them.
#[component]
pub fn LogToolbar(
    /// Following new lines.
    follow: RwSignal<bool>,
    /// Lines that arrived while paused.
    missed: RwSignal<usize>,
    /// `""`, `stdout` or `stderr`.
    stream: RwSignal<String>,
    /// The search text.
    filter: RwSignal<String>,
    /// The stream filter's form name.
    stream_name: &'static str,
    /// The search box's form name.
    filter_name: &'static str,
    children: Children,
) -> impl IntoView {
    let streams = vec![
        FilterOption::new("", "stdout + stderr"),
        FilterOption::new("stdout", "stdout"),
        FilterOption::new("stderr", "stderr"),
    ];
    view! {
        <div class="inline-form">
            <button class="button ghost" data-testid="follow" on:click=move |_| {
                let next = !follow.get_untracked();
                follow.set(next);
                if next {
                    missed.set(0);
                }
            }>
                {move || if follow.get() { "Pause".to_owned() } else { format!("Follow ({} new)", missed.get()) }}
            </button>
            <FilterSelect name=stream_name label="Stream" options=streams value=stream on_change=Callback::new(move |v| stream.set(v)) />
            <input type="search" class="grow" name=filter_name placeholder="Search lines" aria-label="Search lines" bind:value=filter />
            {children()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of<'a>(l: &'a (LogStream, &'static str)) -> (LogStream, &'a str) {
        (l.0, l.1)
    }

    #[test]
    fn lines_are_kept_by_stream_and_search_text() {
        let lines = vec![
            (LogStream::Stdout, "Build OK"),
            (LogStream::Stderr, "warning: build slow"),
            (LogStream::Stdout, "done"),
        ];
        assert_eq!(visible(&lines, "", "build", of).len(), 2);
        assert_eq!(visible(&lines, "stderr", "", of), vec![lines[1]]);
        assert_eq!(visible(&lines, "stdout", "BUILD", of), vec![lines[0]]);
    }
}
