//! Time-series charts: built with charming and drawn by Apache ECharts in the browser (served
//! from Optimus's own origin, loaded on the first chart). On the server a sized placeholder is
//! rendered; the browser draws into it after hydration.

use leptos::prelude::*;

/// One line of a chart: a name and (time in ms, value) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend name.
    pub name: String,
    /// Points, oldest first.
    pub points: Vec<(i64, f64)>,
}

/// A line chart over time; redrawn whenever `series` changes.
#[component]
pub fn TimeChart(
    /// Element id (unique on the page).
    id: String,
    /// The title.
    title: String,
    /// The y axis unit, e.g. `%` or `MB`.
    unit: &'static str,
    /// The lines.
    #[prop(into)]
    series: Signal<Vec<Series>>,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let id = id.clone();
        let ready = RwSignal::new(false);
        Effect::new(move |_| imp::ensure_echarts(move || ready.set(true)));
        Effect::new(move |_| {
            let lines = series.get();
            if ready.get() {
                imp::draw(&id, &title, unit, &lines);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (title, unit, series);
    view! { <div class="chart" id=id data-testid="chart"></div> }
}

/// A node of a network chart.
#[derive(Debug, Clone, PartialEq)]
pub struct NetNode {
    /// Unique id.
    pub id: String,
    /// Shown next to it.
    pub label: String,
    /// Its kind (one colour per kind).
    pub kind: String,
    /// Hops from the centre (the centre is drawn largest).
    pub distance: u32,
}

/// An interactive force-directed network (drag, zoom); redrawn whenever the data changes.
#[component]
pub fn NetworkChart(
    /// Element id (unique on the page).
    id: String,
    /// Nodes.
    #[prop(into)]
    nodes: Signal<Vec<NetNode>>,
    /// Edges: (from id, to id, kind).
    #[prop(into)]
    links: Signal<Vec<(String, String, String)>>,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let id = id.clone();
        let ready = RwSignal::new(false);
        Effect::new(move |_| imp::ensure_echarts(move || ready.set(true)));
        Effect::new(move |_| {
            let (n, l) = (nodes.get(), links.get());
            if ready.get() {
                imp::draw_network(&id, &n, &l);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (nodes, links);
    view! { <div class="chart network" id=id data-testid="network"></div> }
}

#[cfg(feature = "hydrate")]
mod imp {
    use super::Series;
    use charming::component::{Axis, Grid, Legend, Title};
    use charming::element::{AxisType, Tooltip, Trigger};
    use charming::series::Line;
    use charming::{Chart, WasmRenderer};
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::{JsCast, JsValue};

    const SCRIPT: &str = "/vendor/echarts.min.js";

    /// Calls `ready` once `window.echarts` exists, adding its script tag the first time.
    pub fn ensure_echarts(ready: impl FnOnce() + 'static) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let loaded = js_sys::Reflect::get(&window, &JsValue::from_str("echarts"))
            .map(|v| !v.is_undefined())
            .unwrap_or(false);
        if loaded {
            ready();
            return;
        }
        let Some(document) = window.document() else {
            return;
        };
        let existing = document
            .query_selector(&format!("script[src='{SCRIPT}']"))
            .ok()
            .flatten();
        let script = match existing {
            Some(s) => s,
            None => {
                let Ok(s) = document.create_element("script") else {
                    return;
                };
                let _ = s.set_attribute("src", SCRIPT);
                if let Some(head) = document.head() {
                    let _ = head.append_child(&s);
                }
                s
            }
        };
        let on_load = Closure::once_into_js(ready);
        let _ = script.add_event_listener_with_callback("load", on_load.unchecked_ref());
    }

    /// Draws (or redraws) the chart into the element `id`.
    pub fn draw(id: &str, title: &str, unit: &str, lines: &[Series]) {
        let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
        else {
            return;
        };
        let width = u32::try_from(el.client_width()).unwrap_or(600).max(200);
        let mut chart = Chart::new()
            .title(Title::new().text(title))
            .tooltip(Tooltip::new().trigger(Trigger::Axis))
            .legend(Legend::new().top("bottom"))
            .grid(Grid::new().left(60).right(20).top(40).bottom(50))
            .x_axis(Axis::new().type_(AxisType::Time))
            .y_axis(Axis::new().type_(AxisType::Value).name(unit));
        for s in lines {
            let data: Vec<Vec<f64>> = s.points.iter().map(|(t, v)| vec![*t as f64, *v]).collect();
            chart = chart.series(
                Line::new()
                    .name(s.name.as_str())
                    .show_symbol(false)
                    .data(data),
            );
        }
        let _ = WasmRenderer::new(width, 260).render(id, &chart);
    }

    /// Draws a force-directed network into the element `id`.
    pub fn draw_network(id: &str, nodes: &[super::NetNode], links: &[(String, String, String)]) {
        use charming::series::{
            Graph, GraphCategory, GraphData, GraphLayout, GraphLink, GraphNode,
        };
        let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
        else {
            return;
        };
        let width = u32::try_from(el.client_width()).unwrap_or(600).max(200);
        let mut kinds: Vec<String> = nodes.iter().map(|n| n.kind.clone()).collect();
        kinds.sort();
        kinds.dedup();
        let data = GraphData {
            nodes: nodes
                .iter()
                .map(|n| GraphNode {
                    id: n.id.clone(),
                    name: n.label.clone(),
                    x: 0.0,
                    y: 0.0,
                    value: f64::from(3u32.saturating_sub(n.distance)),
                    category: kinds.iter().position(|k| *k == n.kind).unwrap_or(0) as u64,
                    symbol_size: match n.distance {
                        0 => 28.0,
                        1 => 18.0,
                        _ => 10.0,
                    },
                    label: None,
                })
                .collect(),
            links: links
                .iter()
                .map(|(a, b, _)| GraphLink {
                    source: a.clone(),
                    target: b.clone(),
                    value: None,
                })
                .collect(),
            categories: kinds
                .iter()
                .map(|k| GraphCategory { name: k.clone() })
                .collect(),
        };
        let chart = Chart::new()
            .tooltip(Tooltip::new())
            .legend(Legend::new().top("bottom"))
            .series(
                Graph::new()
                    .layout(GraphLayout::Force)
                    .roam(true)
                    .data(data),
            );
        let _ = WasmRenderer::new(width, 420).render(id, &chart);
    }
}
