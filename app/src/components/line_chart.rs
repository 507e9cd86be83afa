//! Small line charts over time, drawn as inline SVG by the page itself. The dashboard's overview
//! uses them: no chart library to fetch (ECharts is ~330 KB compressed), so the first page stays
//! small; the detailed charts of a service (`charts::TimeChart`) keep ECharts' tooltips and zoom.

use crate::components::charts::Series;
use leptos::prelude::*;

/// The drawing's size in SVG units; it scales to the width of its box.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 180.0;
/// Room for the y labels on the left and the x labels below.
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 16.0;
const TOP: f64 = 6.0;
/// At most this many points per line (a longer one is thinned evenly).
const MAX_POINTS: usize = 300;
/// Line colours, readable on the light and the dark theme.
const COLOURS: [&str; 8] = [
    "#2f7ed8", "#e4572e", "#29a36a", "#b65fcf", "#e0a100", "#17a2b8", "#d6336c", "#6c757d",
];

/// The highest value of the axis: the data's maximum rounded up to 1, 2 or 5 × 10ⁿ.
fn axis_max(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * magnitude)
}

/// A value as an axis label: no decimals from 10 up.
fn label(value: f64, unit: &str) -> String {
    if value >= 10.0 || value == 0.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// How long ago `span_ms` is, for the left end of the x axis.
fn ago(span_ms: i64) -> String {
    let seconds = span_ms / 1000;
    if seconds < 120 {
        format!("{seconds} s ago")
    } else if seconds < 2 * 3600 {
        format!("{} min ago", seconds / 60)
    } else {
        format!("{} h ago", seconds / 3600)
    }
}

/// What the chart draws: one `points` attribute per line, the axis top and the time span.
#[derive(Debug, PartialEq)]
struct Plot {
    lines: Vec<(String, &'static str, String)>,
    top: f64,
    span_ms: i64,
}

fn plot(series: &[Series]) -> Plot {
    let points = || series.iter().flat_map(|s| s.points.iter());
    let t0 = points().map(|p| p.0).min().unwrap_or(0);
    let t1 = points().map(|p| p.0).max().unwrap_or(0);
    let max = points()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let top = axis_max(max);
    let span = (t1 - t0).max(1) as f64;
    let x = |t: i64| LEFT + (t - t0) as f64 / span * (WIDTH - LEFT);
    let y = |v: f64| TOP + (1.0 - (v.clamp(0.0, top) / top)) * (HEIGHT - TOP - BOTTOM);
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let stride = s.points.len().div_ceil(MAX_POINTS).max(1);
            let mut coords = String::new();
            for (t, v) in s.points.iter().step_by(stride) {
                let v = if v.is_finite() { *v } else { 0.0 };
                coords.push_str(&format!("{:.1},{:.1} ", x(*t), y(v)));
            }
            (s.name.clone(), COLOURS[i % COLOURS.len()], coords)
        })
        .collect();
    Plot {
        lines,
        top,
        span_ms: t1 - t0,
    }
}

/// A line chart over time, redrawn whenever `series` changes.
#[component]
pub fn LineChart(
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
    let drawn = Memo::new(move |_| series.with(|s| plot(s)));
    let base = HEIGHT - BOTTOM;
    view! {
        <figure class="chart line-chart" id=id data-testid="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img">
                <line class="axis" x1=LEFT y1=TOP x2=LEFT y2=base />
                <line class="axis" x1=LEFT y1=base x2=WIDTH y2=base />
                <text class="tick" x=LEFT - 4.0 y=TOP + 8.0 text-anchor="end">
                    {move || drawn.with(|d| label(d.top, unit))}
                </text>
                <text class="tick" x=LEFT - 4.0 y=base text-anchor="end">{format!("0 {unit}")}</text>
                <text class="tick" x=LEFT y=HEIGHT - 2.0>
                    {move || drawn.with(|d| ago(d.span_ms))}
                </text>
                <text class="tick" x=WIDTH y=HEIGHT - 2.0 text-anchor="end">"now"</text>
                {move || drawn.with(|d| {
                    d.lines
                        .iter()
                        .map(|(name, colour, points)| {
                            view! {
                                <polyline points=points.clone() stroke=*colour fill="none" stroke-width="1.5" vector-effect="non-scaling-stroke">
                                    <title>{name.clone()}</title>
                                </polyline>
                            }
                        })
                        .collect_view()
                })}
            </svg>
            <ul class="legend">
                {move || drawn.with(|d| {
                    d.lines
                        .iter()
                        .map(|(name, colour, _)| {
                            view! { <li><span class="swatch" style=format!("background:{colour}")></span>{name.clone()}</li> }
                        })
                        .collect_view()
                })}
            </ul>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_rounds_up_to_one_two_or_five() {
        assert_eq!(axis_max(0.0), 1.0);
        assert_eq!(axis_max(f64::NAN), 1.0);
        assert_eq!(axis_max(0.7), 1.0);
        assert_eq!(axis_max(1.3), 2.0);
        assert_eq!(axis_max(37.0), 50.0);
        assert_eq!(axis_max(100.0), 100.0);
        assert_eq!(axis_max(101.0), 200.0);
    }

    #[test]
    fn lines_span_the_drawing_and_long_ones_are_thinned() {
        let series = vec![
            Series {
                name: "a".into(),
                points: (0..1000).map(|i| (i * 1000, (i % 10) as f64)).collect(),
            },
            Series {
                name: "b".into(),
                points: vec![(500_000, 4.0), (999_000, f64::NAN)],
            },
        ];
        let p = plot(&series);
        assert_eq!(p.top, 10.0);
        assert_eq!(p.span_ms, 999_000);
        let a: Vec<&str> = p.lines[0].2.split_whitespace().collect();
        assert!(a.len() <= MAX_POINTS, "{} points", a.len());
        assert_eq!(a[0], format!("{LEFT:.1},{:.1}", HEIGHT - BOTTOM));
        let b: Vec<&str> = p.lines[1].2.split_whitespace().collect();
        // The NaN is drawn at zero, at the right edge.
        assert_eq!(b[1], format!("{WIDTH:.1},{:.1}", HEIGHT - BOTTOM));
        assert_ne!(p.lines[0].1, p.lines[1].1);
    }

    #[test]
    fn labels_read_naturally() {
        assert_eq!(label(50.0, "%"), "50 %");
        assert_eq!(label(0.5, "MB"), "0.5 MB");
        assert_eq!(ago(45_000), "45 s ago");
        assert_eq!(ago(15 * 60_000), "15 min ago");
        assert_eq!(ago(3 * 3_600_000), "3 h ago");
    }
}
