//! The machine overview: host cards (CPU, memory, load, network) and charts of every running
//! service's CPU and memory across projects, drawn from the samples it is given (as inline SVG:
//! this is the dashboard's first page, and loads no chart library).

use crate::components::charts::Series;
use crate::components::line_chart::LineChart;
use crate::models::runtime::{HostSample, ResourceSample};
use leptos::prelude::*;
use std::collections::BTreeMap;

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1_048_576.0)
}

fn rate(bps: f64) -> String {
    if bps >= 1_048_576.0 {
        format!("{:.1} MB/s", bps / 1_048_576.0)
    } else {
        format!("{:.0} KB/s", bps / 1024.0)
    }
}

/// Host cards (the latest sample) and charts of the host's CPU and of every running service's
/// CPU and memory.
#[component]
pub fn HostOverview(
    /// The host's samples, oldest first.
    #[prop(into)]
    host: Signal<Vec<HostSample>>,
    /// Samples of running services, oldest first, across projects.
    #[prop(into)]
    services: Signal<Vec<ResourceSample>>,
) -> impl IntoView {
    let latest = move || host.with(|h| h.last().cloned());
    let overlay = move |value: fn(&ResourceSample) -> f64| {
        Signal::derive(move || {
            services.with(|all| {
                let mut lines: BTreeMap<(i64, i64), Series> = BTreeMap::new();
                for s in all {
                    lines
                        .entry((s.project_id, s.service_id))
                        .or_insert_with(|| Series {
                            name: format!("{} (#{})", s.name, s.project_id),
                            points: Vec::new(),
                        })
                        .points
                        .push((s.at.timestamp_millis(), value(s)));
                }
                lines.into_values().collect::<Vec<_>>()
            })
        })
    };
    let host_cpu = Signal::derive(move || {
        vec![Series {
            name: "host".into(),
            points: host.with(|h| {
                h.iter()
                    .map(|s| (s.at.timestamp_millis(), s.cpu_percent))
                    .collect()
            }),
        }]
    });
    view! {
        <h2>"This machine"</h2>
        <div class="cards host-cards" data-testid="host">
            <section class="card stat">
                <span class="muted small">"CPU"</span>
                <strong data-testid="host-cpu">
                    {move || latest().map(|h| format!("{:.0}% of {} cores", h.cpu_percent, h.cpus)).unwrap_or_else(|| "—".into())}
                </strong>
            </section>
            <section class="card stat">
                <span class="muted small">"Memory"</span>
                <strong>
                    {move || latest().map(|h| format!("{} / {}", megabytes(h.memory_used_bytes), megabytes(h.memory_total_bytes))).unwrap_or_else(|| "—".into())}
                </strong>
            </section>
            <section class="card stat">
                <span class="muted small">"Load (1 min)"</span>
                <strong>{move || latest().map(|h| format!("{:.2}", h.load_1m)).unwrap_or_else(|| "—".into())}</strong>
            </section>
            <section class="card stat">
                <span class="muted small">"Network"</span>
                <strong>
                    {move || latest().map(|h| format!("↓ {} ↑ {}", rate(h.net_rx_bps), rate(h.net_tx_bps))).unwrap_or_else(|| "—".into())}
                </strong>
            </section>
        </div>
        <div class="charts">
            <LineChart id="host-cpu-chart".to_owned() title="Host CPU".to_owned() unit="%" series=host_cpu />
            <LineChart id="services-mem-chart".to_owned() title="Running services: memory".to_owned() unit="MB" series=overlay(|s| s.rss_bytes as f64 / 1_048_576.0) />
            <LineChart id="services-cpu-chart".to_owned() title="Running services: CPU".to_owned() unit="%" series=overlay(|s| s.cpu_percent) />
        </div>
    }
}
