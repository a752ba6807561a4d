//! Server-rendered SVG charts (no JavaScript). Every chart comes with a
//! table that says the same in words, for screen readers and for print.

use maud::{Markup, PreEscaped, html};

/// One point of a client's trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub session: u32,
    /// The session's date, shown under the axis.
    pub date: Option<chrono::NaiveDate>,
    /// The total, or None for a session without an answer (a gap).
    pub total: Option<f64>,
    /// What the gap was, for the marker's title ("no answer", "missed").
    pub gap: Option<&'static str>,
}

/// A marker above the plot: alerts opening, repairs recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub session: u32,
    pub kind: MarkerKind,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    Alert,
    Repair,
}

pub struct Trajectory<'a> {
    pub points: &'a [Point],
    /// The scale's range (0–40 for the alliance questionnaire); the axis
    /// shows the part the data need, and says so.
    pub min: f64,
    pub max: f64,
    pub cutoff: Option<f64>,
    /// The reliable-change band around the personal baseline.
    pub band: Option<(f64, f64)>,
    pub baseline: Option<f64>,
    pub markers: &'a [Marker],
    /// An id for the chart's title/description elements.
    pub id: &'a str,
    pub title: &'a str,
}

/// Two drawings of every trajectory: a wide one, and a narrow one shown
/// instead on phones (CSS), whose text stays legible at 320–400 px.
#[derive(Clone, Copy)]
struct Layout {
    name: &'static str,
    w: f64,
    /// At most this many x labels.
    labels: u32,
}

const WIDE: Layout = Layout {
    name: "wide",
    w: 720.0,
    labels: 12,
};
const NARROW: Layout = Layout {
    name: "narrow",
    w: 360.0,
    labels: 5,
};
const H: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 50.0;

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

use super::number;

/// The value axis fitted to what is drawn (totals, the band, the cutoff):
/// from a round number below the lowest to a round number above the
/// highest, within the scale's range. Every trajectory uses this rule.
pub fn fitted_range(chart: &Trajectory) -> (f64, f64) {
    let mut values: Vec<f64> = chart.points.iter().filter_map(|p| p.total).collect();
    values.extend(chart.cutoff);
    if let Some((lo, hi)) = chart.band {
        values.extend([lo, hi]);
    }
    let (Some(lowest), Some(highest)) = (
        values.iter().copied().reduce(f64::min),
        values.iter().copied().reduce(f64::max),
    ) else {
        return (chart.min, chart.max);
    };
    let step = if chart.max - chart.min > 20.0 { 5.0 } else { 1.0 };
    let lo = ((lowest - step / 2.0) / step).floor() * step;
    let hi = ((highest + step / 2.0) / step).ceil() * step;
    (lo.max(chart.min), hi.min(chart.max).max(lo.max(chart.min) + step))
}

/// What the axis shows against the scale, for the caption.
pub fn axis_note(chart: &Trajectory) -> String {
    let (lo, hi) = fitted_range(chart);
    if (lo, hi) == (chart.min, chart.max) {
        format!(
            "The axis shows the whole scale, {}–{}.",
            number(chart.min),
            number(chart.max)
        )
    } else {
        format!(
            "The axis shows {}–{} of the scale's {}–{}.",
            number(lo),
            number(hi),
            number(chart.min),
            number(chart.max)
        )
    }
}

pub fn trajectory(chart: &Trajectory) -> Markup {
    html! {
        (draw(chart, WIDE))
        (draw(chart, NARROW))
    }
}

fn draw(chart: &Trajectory, layout: Layout) -> Markup {
    let w = layout.w;
    let (lo_axis, hi_axis) = fitted_range(chart);
    let first = chart.points.first().map_or(1, |p| p.session);
    let last = chart.points.last().map_or(1, |p| p.session).max(first + 1);
    let span = f64::from(last - first);
    let x = |s: u32| LEFT + (f64::from(s - first) / span) * (w - LEFT - RIGHT);
    let range = (hi_axis - lo_axis).max(1e-9);
    let y = |v: f64| TOP + (1.0 - (v.clamp(lo_axis, hi_axis) - lo_axis) / range) * (H - TOP - BOTTOM);
    // Line segments break at gaps so a missing answer is never drawn over.
    let mut segments: Vec<Vec<(f64, f64)>> = vec![vec![]];
    for p in chart.points {
        match p.total {
            Some(t) => {
                if let Some(segment) = segments.last_mut() {
                    segment.push((x(p.session), y(t)));
                }
            }
            None => segments.push(vec![]),
        }
    }
    let paths: Vec<String> = segments
        .iter()
        .filter(|s| s.len() > 1)
        .map(|s| {
            s.iter()
                .enumerate()
                .map(|(i, (px, py))| format!("{}{},{}", if i == 0 { "M" } else { "L" }, fmt(*px), fmt(*py)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let ticks = y_ticks(lo_axis, hi_axis);
    let step = ((span / f64::from(layout.labels)).ceil() as u32).max(1);
    let date_of = |s: u32| chart.points.iter().find(|p| p.session == s).and_then(|p| p.date);
    let desc_id = format!("{}-{}-desc", chart.id, layout.name);
    let title_id = format!("{}-{}-title", chart.id, layout.name);
    html! {
        svg class=(layout.name) xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (w) " " (H) } role="img"
            aria-labelledby=(title_id) aria-describedby=(desc_id) {
            title #(title_id) { (chart.title) }
            desc #(desc_id) { (axis_note(chart)) " The same figures are in the table below the chart." }
            @if let Some((lo, hi)) = chart.band {
                rect x=(fmt(LEFT)) y=(fmt(y(hi))) width=(fmt(w - LEFT - RIGHT)) height=(fmt((y(lo) - y(hi)).max(0.0)))
                    fill="#dbe8f3" { title { "Reliable-change band around the baseline: " (number(lo)) "–" (number(hi)) } }
            }
            @if let Some(b) = chart.baseline {
                line x1=(fmt(LEFT)) x2=(fmt(w - RIGHT)) y1=(fmt(y(b))) y2=(fmt(y(b))) stroke="#5b7a99" stroke-width="1" {}
            }
            @for t in &ticks {
                line x1=(fmt(LEFT - 4.0)) x2=(fmt(LEFT)) y1=(fmt(y(*t))) y2=(fmt(y(*t))) stroke="#4a5866" {}
                text x=(fmt(LEFT - 8.0)) y=(fmt(y(*t) + 4.0)) text-anchor="end" font-size="12" fill="#1b2733" { (number(*t)) }
            }
            line x1=(fmt(LEFT)) x2=(fmt(LEFT)) y1=(fmt(TOP)) y2=(fmt(H - BOTTOM)) stroke="#4a5866" {}
            line x1=(fmt(LEFT)) x2=(fmt(w - RIGHT)) y1=(fmt(H - BOTTOM)) y2=(fmt(H - BOTTOM)) stroke="#4a5866" {}
            @for s in (first..=last).step_by(step as usize) {
                text x=(fmt(x(s))) y=(fmt(H - BOTTOM + 16.0)) text-anchor="middle" font-size="12" fill="#1b2733" { (s) }
                @if let Some(d) = date_of(s) {
                    text x=(fmt(x(s))) y=(fmt(H - BOTTOM + 30.0)) text-anchor="middle" font-size="11" fill="#4a5866" { (d.format("%-d %b")) }
                }
            }
            text x=(fmt((LEFT + w - RIGHT) / 2.0)) y=(fmt(H - 4.0)) text-anchor="middle" font-size="12" fill="#1b2733" { "Session and date" }
            @if let Some(c) = chart.cutoff {
                line x1=(fmt(LEFT)) x2=(fmt(w - RIGHT)) y1=(fmt(y(c))) y2=(fmt(y(c))) stroke="#a4161a" stroke-width="1.5" stroke-dasharray="6 4" {}
                text x=(fmt(w - RIGHT)) y=(fmt(y(c) - 4.0)) text-anchor="end" font-size="12" fill="#a4161a" { "cutoff " (number(c)) }
            }
            @for d in &paths {
                path d=(d) fill="none" stroke="#1f5f8b" stroke-width="2.5" {}
            }
            @for p in chart.points {
                @match p.total {
                    Some(t) => circle cx=(fmt(x(p.session))) cy=(fmt(y(t))) r="4" fill="#1f5f8b" { title { "Session " (p.session) ": " (number(t)) } },
                    None => circle cx=(fmt(x(p.session))) cy=(fmt(H - BOTTOM - 6.0)) r="4" fill="#ffffff" stroke="#4a5866" stroke-width="1.5" {
                        title { "Session " (p.session) ": " (p.gap.unwrap_or("no answer")) }
                    },
                }
            }
            @for m in chart.markers {
                @let mx = x(m.session);
                @match m.kind {
                    MarkerKind::Alert => path d=(PreEscaped(format!("M{},{} l-6,-11 h12 z", fmt(mx), fmt(TOP - 4.0)))) fill="#a4161a" { title { (m.label) } },
                    MarkerKind::Repair => circle cx=(fmt(mx)) cy=(fmt(TOP - 10.0)) r="5" fill="#1e6b3a" { title { (m.label) } },
                }
            }
        }
    }
}

fn y_ticks(min: f64, max: f64) -> Vec<f64> {
    let range = max - min;
    let raw = range / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw);
    let mut ticks = vec![];
    let mut t = (min / step).ceil() * step;
    while t <= max + 1e-9 {
        ticks.push(t);
        t += step;
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_break_the_line_and_markers_have_titles() {
        let points = vec![
            Point {
                session: 1,
                date: None,
                total: Some(38.0),
                gap: None,
            },
            Point {
                session: 2,
                date: None,
                total: Some(37.0),
                gap: None,
            },
            Point {
                session: 3,
                date: None,
                total: None,
                gap: Some("no answer"),
            },
            Point {
                session: 4,
                date: None,
                total: Some(31.0),
                gap: None,
            },
            Point {
                session: 5,
                date: chrono::NaiveDate::from_ymd_opt(2026, 3, 2),
                total: Some(33.0),
                gap: None,
            },
        ];
        let markers = vec![Marker {
            session: 4,
            kind: MarkerKind::Alert,
            label: "Alert opened".into(),
        }];
        let svg = trajectory(&Trajectory {
            points: &points,
            min: 0.0,
            max: 40.0,
            cutoff: Some(36.0),
            band: Some((31.0, 44.0)),
            baseline: Some(37.5),
            markers: &markers,
            id: "t",
            title: "Totals",
        })
        .into_string();
        assert_eq!(
            svg.matches("fill=\"none\" stroke=\"#1f5f8b\"").count(),
            4,
            "two segments around the gap, in each of the two drawings"
        );
        assert!(svg.contains("class=\"wide\"") && svg.contains("class=\"narrow\""));
        assert!(svg.contains("2 Mar"), "dates under the sessions");
        assert!(
            svg.contains("The axis shows 25–45") || svg.contains("The axis shows 25–40"),
            "{svg}"
        );
        assert!(svg.contains("Session 3: no answer"));
        assert!(svg.contains("cutoff 36"));
        assert!(svg.contains("Alert opened"));
        assert!(svg.contains("role=\"img\""));
    }

    #[test]
    fn the_axis_fits_the_data_within_the_scale() {
        let points: Vec<Point> = [38.0, 37.0, 30.0]
            .iter()
            .enumerate()
            .map(|(i, t)| Point {
                session: i as u32 + 1,
                date: None,
                total: Some(*t),
                gap: None,
            })
            .collect();
        let chart = Trajectory {
            points: &points,
            min: 0.0,
            max: 40.0,
            cutoff: Some(36.0),
            band: None,
            baseline: None,
            markers: &[],
            id: "f",
            title: "Totals",
        };
        assert_eq!(fitted_range(&chart), (25.0, 40.0));
        assert_eq!(axis_note(&chart), "The axis shows 25–40 of the scale's 0–40.");
        let empty = Trajectory {
            points: &[],
            cutoff: None,
            ..chart
        };
        assert_eq!(fitted_range(&empty), (0.0, 40.0));
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(y_ticks(0.0, 40.0), vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(y_ticks(1.0, 5.0), vec![1.0, 2.0, 3.0, 4.0, 5.0]);
    }
}
