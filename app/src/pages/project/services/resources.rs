//! CPU and memory of a project's services over a chosen range, one line per service; live
//! points arrive over the event stream.

use crate::api::runtime::service_metrics;
use crate::components::charts::{Series, TimeChart};
use crate::components::filter_select::{FilterOption, FilterSelect};
use crate::models::events::{Event, ServerMessage};
use crate::models::runtime::{MetricsQuery, ResourceSample, RANGES};
use leptos::prelude::*;

/// CPU and memory of the project's services over a chosen range, one line per service;
/// live points arrive over the event stream.
#[component]
pub fn ResourcesPanel(
    /// The services shown, with their names.
    services: Vec<(i64, String)>,
) -> impl IntoView {
    let ids: Vec<i64> = services.iter().map(|(id, _)| *id).collect();
    let range = RwSignal::new("15m".to_owned());
    let samples = RwSignal::new(Vec::<ResourceSample>::new());
    let query_ids = ids.clone();
    let history = LocalResource::new(move || {
        let ids = query_ids.clone();
        let range = range.get();
        async move {
            service_metrics(MetricsQuery {
                service_ids: ids,
                range: Some(range),
            })
            .await
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(h)) = history.get() {
            samples.set(h);
        }
    });
    let live_ids = ids.clone();
    Effect::new(move |_| {
        let live_ids = live_ids.clone();
        crate::components::live::subscribe(&["metrics"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::ResourcesSampled { samples: new, .. } = envelope.event {
                    // Only short ranges grow point by point; long ones show averages.
                    if !matches!(range.get_untracked().as_str(), "15m" | "1h") {
                        return;
                    }
                    let mine: Vec<ResourceSample> = new
                        .into_iter()
                        .filter(|s| live_ids.contains(&s.service_id))
                        .collect();
                    if !mine.is_empty() {
                        samples.update(|all| {
                            all.extend(mine);
                            let over = all.len().saturating_sub(20_000);
                            all.drain(..over);
                        });
                    }
                }
            }
        });
    });
    let series_of = move |value: fn(&ResourceSample) -> f64| {
        let names = services.clone();
        Signal::derive(move || {
            samples.with(|all| {
                names
                    .iter()
                    .map(|(id, name)| Series {
                        name: name.clone(),
                        points: all
                            .iter()
                            .filter(|s| s.service_id == *id)
                            .map(|s| (s.at.timestamp_millis(), value(s)))
                            .collect(),
                    })
                    .collect()
            })
        })
    };
    let cpu = series_of(|s| s.cpu_percent);
    let memory = series_of(|s| s.rss_bytes as f64 / 1_048_576.0);
    let key = ids.first().copied().unwrap_or_default();
    let ranges: Vec<FilterOption> = RANGES.iter().map(|r| FilterOption::new(*r, *r)).collect();
    view! {
        <h3>"Resources"</h3>
        <div class="inline-form">
            <FilterSelect name="range" label="Range" options=ranges value=range on_change=Callback::new(move |v| range.set(v)) />
            <span class="muted small" data-testid="sample-count">
                {move || format!("{} samples", samples.with(Vec::len))}
            </span>
        </div>
        <div class="charts">
            <TimeChart id=format!("cpu-{key}") title="CPU".to_owned() unit="%" series=cpu />
            <TimeChart id=format!("mem-{key}") title="Memory".to_owned() unit="MB" series=memory />
        </div>
    }
}
