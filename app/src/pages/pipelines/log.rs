//! A step's log on the run page: its kept lines, then live ones over the event stream; stdout
//! and stderr apart, ANSI colours rendered (`\r` progress is collapsed when the line is kept),
//! follow or pause, search, download.

use crate::api::pipelines::read_step_log;
use crate::components::ansi::ansi_runs;
use crate::components::filter_select::{FilterOption, FilterSelect};
use crate::models::events::{Event, ServerMessage};
use crate::models::pipelines::{StepLogLine, StepLogRequest};
use crate::models::runtime::LogStream;
use leptos::prelude::*;

/// Lines kept in the browser (the whole log is a download away).
const KEEP: usize = 5000;

/// The log of step `step` of run `run_id`.
#[component]
pub fn StepLogView(
    /// The run.
    run_id: i64,
    /// The step.
    step: String,
) -> impl IntoView {
    let lines = RwSignal::new(Vec::<StepLogLine>::new());
    let attempt = RwSignal::new(0u32);
    let dropped = RwSignal::new(0u64);
    let follow = RwSignal::new(true);
    let missed = RwSignal::new(0usize);
    let stream = RwSignal::new(String::new());
    let filter = RwSignal::new(String::new());
    let name = step.clone();
    let history = LocalResource::new(move || {
        read_step_log(StepLogRequest {
            run_id,
            step: name.clone(),
            tail: Some(KEEP as u32),
            attempt: None,
        })
    });
    Effect::new(move |_| {
        if let Some(Ok(log)) = history.get() {
            attempt.set(log.attempt);
            dropped.set(log.dropped);
            lines.set(log.lines);
        }
    });
    let live_step = step.clone();
    Effect::new(move |_| {
        let topic = format!("pipeline-logs:{run_id}");
        let live_step = live_step.clone();
        crate::components::live::subscribe(&[topic.as_str()], move |msg| {
            let ServerMessage::Event { envelope } = msg else {
                return;
            };
            let Event::StepLogLines {
                step,
                attempt: a,
                lines: new,
                ..
            } = envelope.event
            else {
                return;
            };
            if step != live_step {
                return;
            }
            if !follow.get_untracked() {
                missed.update(|m| *m += new.len());
                return;
            }
            if a != attempt.get_untracked() {
                // A new attempt: its log starts afresh.
                attempt.set(a);
                lines.set(Vec::new());
            }
            lines.update(|l| {
                let last = l.last().map(|x| x.seq);
                l.extend(new.into_iter().filter(|x| last.is_none_or(|s| x.seq > s)));
                let over = l.len().saturating_sub(KEEP);
                l.drain(..over);
            });
        });
    });
    let box_ref = NodeRef::<leptos::html::Pre>::new();
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
    let streams = vec![
        FilterOption::new("", "stdout + stderr"),
        FilterOption::new("stdout", "stdout"),
        FilterOption::new("stderr", "stderr"),
    ];
    let download = format!("/api/v1/pipelines/step_log/download?run_id={run_id}&step={step}");
    view! {
        <h2>{format!("Log: {step}")}</h2>
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
            <FilterSelect name="step-log-stream" label="Stream" options=streams value=stream on_change=Callback::new(move |v| stream.set(v)) />
            <input type="search" class="grow" name="step-log-filter" placeholder="Search lines" aria-label="Search lines" bind:value=filter />
            <a class="button ghost" data-testid="download-step-log" download="" href=download>"Download"</a>
            <span class="muted small">
                {move || if attempt.get() > 1 { format!("attempt {}", attempt.get()) } else { String::new() }}
                {move || if dropped.get() > 0 { format!(" · {} earlier lines dropped", dropped.get()) } else { String::new() }}
            </span>
        </div>
        <pre class="log" data-testid="step-log" node_ref=box_ref>
            <For each=shown key=|l| l.seq let:line>
                <div class="log-line" class:stderr=line.stream == LogStream::Stderr>
                    <span class="log-time">{line.at.format("%H:%M:%S%.3f").to_string()}</span>
                    {ansi_runs(&line.text)
                        .into_iter()
                        .map(|(class, text)| view! { <span class=class>{text}</span> })
                        .collect_view()}
                </div>
            </For>
        </pre>
    }
}
