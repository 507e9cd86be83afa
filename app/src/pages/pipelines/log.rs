//! A step's log on the run page: its kept lines, then live ones over the event stream; stdout
//! and stderr apart, ANSI colours rendered (`\r` progress is collapsed when the line is kept),
//! follow or pause, search, download.

use crate::api::pipelines::read_step_log;
use crate::components::ansi::ansi_runs;
use crate::components::log_view::{keep_newest_in_view, visible, LogToolbar};
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
    keep_newest_in_view(move || lines.track(), follow, box_ref);
    let shown = move || {
        let (stream, filter) = (stream.get(), filter.get());
        lines.with(|l| {
            visible(l, &stream, &filter, |x: &StepLogLine| {
                (x.stream, x.text.as_str())
            })
        })
    };
    let download = format!("/api/v1/pipelines/step_log/download?run_id={run_id}&step={step}");
    view! {
        <h2>{format!("Log: {step}")}</h2>
        <LogToolbar follow missed stream filter stream_name="step-log-stream" filter_name="step-log-filter">
            <a class="button ghost" data-testid="download-step-log" download="" href=download>"Download"</a>
            <span class="muted small">
                {move || if attempt.get() > 1 { format!("attempt {}", attempt.get()) } else { String::new() }}
                {move || if dropped.get() > 0 { format!(" · {} earlier lines dropped", dropped.get()) } else { String::new() }}
            </span>
        </LogToolbar>
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
