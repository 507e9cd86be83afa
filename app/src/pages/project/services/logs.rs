//! The merged log of a project's services: history, then live lines over the event stream;
//! follow or pause, filter by stream and text, copy, download; ANSI colours kept.

use crate::api::runtime::service_logs;
use crate::components::ansi::ansi_runs;
use crate::components::filter_select::{FilterOption, FilterSelect};
use crate::components::toasts::use_toasts;
use crate::models::events::{Event, ServerMessage};
use crate::models::runtime::{LogLine, LogQuery, LogStream};
use leptos::prelude::*;

/// Lines kept in the browser.
const KEEP: usize = 2000;

/// The merged output of the services: history, then live lines; follow or pause, filter by
/// stream and text.
#[component]
pub fn LogViewer(
    /// The services shown, with their names.
    services: Vec<(i64, String)>,
) -> impl IntoView {
    let service_ids: Vec<i64> = services.iter().map(|(id, _)| *id).collect();
    let toasts = use_toasts();
    let downloads = services
        .iter()
        .map(|(id, name)| {
            view! {
                <a class="button ghost" data-testid="download-log" download="" title="The latest run's whole log"
                    href=format!("/api/v1/services/logs/download?service_id={id}")>
                    {format!("Download {name}.log")}
                </a>
            }
        })
        .collect_view();
    let name_of = move |id: i64| {
        services
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let lines = RwSignal::new(Vec::<LogLine>::new());
    let follow = RwSignal::new(true);
    let paused_missed = RwSignal::new(0usize);
    let stream = RwSignal::new(String::new());
    let filter = RwSignal::new(String::new());
    let ids = service_ids.clone();
    let history = Resource::new(
        || (),
        move |_| {
            service_logs(LogQuery {
                service_ids: ids.clone(),
                limit: Some(500),
                ..Default::default()
            })
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(h)) = history.get() {
            lines.set(h);
        }
    });
    let topics: Vec<String> = service_ids.iter().map(|id| format!("logs:{id}")).collect();
    Effect::new(move |_| {
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        crate::components::live::subscribe(&topics, move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::LogLines { lines: new, .. } = envelope.event {
                    if !follow.get_untracked() {
                        paused_missed.update(|m| *m += new.len());
                        return;
                    }
                    lines.update(|l| {
                        l.extend(new);
                        let over = l.len().saturating_sub(KEEP);
                        l.drain(..over);
                    });
                }
            }
        });
    });
    let box_ref = NodeRef::<leptos::html::Pre>::new();
    // Keep the newest line in view while following.
    Effect::new(move |_| {
        lines.track();
        if follow.get_untracked() {
            if let Some(el) = box_ref.get_untracked() {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    let shown = move || {
        let want = match stream.get().as_str() {
            "stdout" => Some(LogStream::Stdout),
            "stderr" => Some(LogStream::Stderr),
            _ => None,
        };
        let needle = filter.get().to_lowercase();
        lines.with(|l| {
            l.iter()
                .filter(|x| want.is_none_or(|w| w == x.stream))
                .filter(|x| needle.is_empty() || x.text.to_lowercase().contains(&needle))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let multi = service_ids.len() > 1;
    let streams = vec![
        FilterOption::new("", "stdout + stderr"),
        FilterOption::new("stdout", "stdout"),
        FilterOption::new("stderr", "stderr"),
    ];
    view! {
        <h3>"Logs"</h3>
        <div class="inline-form">
            <button class="button ghost" data-testid="follow" on:click=move |_| {
                let next = !follow.get_untracked();
                follow.set(next);
                if next {
                    paused_missed.set(0);
                }
            }>
                {move || if follow.get() { "Pause".to_owned() } else { format!("Follow ({} new)", paused_missed.get()) }}
            </button>
            <FilterSelect name="log-stream" label="Stream" options=streams value=stream on_change=Callback::new(move |v| stream.set(v)) />
            <input type="search" class="grow" name="log-filter" placeholder="Filter lines" aria-label="Filter lines" bind:value=filter />
            <button class="button ghost" data-testid="copy-log" title="Copy the lines shown" on:click=move |_| {
                let text = shown()
                    .iter()
                    .map(|l| format!("{} {}", l.at.format("%H:%M:%S%.3f"), l.text))
                    .collect::<Vec<_>>()
                    .join("\n");
                if crate::components::browser::copy_text(&text) {
                    toasts.info("Log lines copied");
                } else {
                    toasts.error("The browser did not allow copying");
                }
            }>"Copy"</button>
            {downloads}
        </div>
        <pre class="log" data-testid="log" node_ref=box_ref>
            <For each=shown key=|l| (l.service_id, l.run_id, l.seq) let:line>
                <div class="log-line" class:stderr=line.stream == LogStream::Stderr>
                    <span class="log-time">{line.at.format("%H:%M:%S%.3f").to_string()}</span>
                    {multi.then(|| view! { <span class="log-service">{name_of(line.service_id)}</span> })}
                    {ansi_runs(&line.text)
                        .into_iter()
                        .map(|(class, text)| view! { <span class=class>{text}</span> })
                        .collect_view()}
                </div>
            </For>
        </pre>
    }
}
