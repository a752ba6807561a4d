//! Server-rendered SVG charts (no JavaScript). Every chart comes with a
//! table that says the same in words, for screen readers and for print.

use maud::{Markup, PreEscaped, html};

/// One point of a client's trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub session: u32,
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

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

pub fn trajectory(chart: &Trajectory) -> Markup {
    let first = chart.points.first().map_or(1, |p| p.session);
    let last = chart.points.last().map_or(1, |p| p.session).max(first + 1);
    let span = f64::from(last - first);
    let x = |s: u32| LEFT + (f64::from(s - first) / span) * (W - LEFT - RIGHT);
    let range = (chart.max - chart.min).max(1e-9);
    let y = |v: f64| TOP + (1.0 - (v.clamp(chart.min, chart.max) - chart.min) / range) * (H - TOP - BOTTOM);
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
    let ticks = y_ticks(chart.min, chart.max);
    let step = ((span / 12.0).ceil() as u32).max(1);
    let desc_id = format!("{}-desc", chart.id);
    let title_id = format!("{}-title", chart.id);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img"
            aria-labelledby=(title_id) aria-describedby=(desc_id) {
            title #(title_id) { (chart.title) }
            desc #(desc_id) { "The same figures are in the table below the chart." }
            @if let Some((lo, hi)) = chart.band {
                rect x=(fmt(LEFT)) y=(fmt(y(hi))) width=(fmt(W - LEFT - RIGHT)) height=(fmt((y(lo) - y(hi)).max(0.0)))
                    fill="#dbe8f3" { title { "Reliable-change band around the baseline: " (number(lo)) "–" (number(hi)) } }
            }
            @if let Some(b) = chart.baseline {
                line x1=(fmt(LEFT)) x2=(fmt(W - RIGHT)) y1=(fmt(y(b))) y2=(fmt(y(b))) stroke="#5b7a99" stroke-width="1" {}
            }
            @for t in &ticks {
                line x1=(fmt(LEFT - 4.0)) x2=(fmt(LEFT)) y1=(fmt(y(*t))) y2=(fmt(y(*t))) stroke="#4a5866" {}
                text x=(fmt(LEFT - 8.0)) y=(fmt(y(*t) + 4.0)) text-anchor="end" font-size="12" fill="#1b2733" { (number(*t)) }
            }
            line x1=(fmt(LEFT)) x2=(fmt(LEFT)) y1=(fmt(TOP)) y2=(fmt(H - BOTTOM)) stroke="#4a5866" {}
            line x1=(fmt(LEFT)) x2=(fmt(W - RIGHT)) y1=(fmt(H - BOTTOM)) y2=(fmt(H - BOTTOM)) stroke="#4a5866" {}
            @for s in (first..=last).step_by(step as usize) {
                text x=(fmt(x(s))) y=(fmt(H - BOTTOM + 16.0)) text-anchor="middle" font-size="12" fill="#1b2733" { (s) }
            }
            text x=(fmt((LEFT + W - RIGHT) / 2.0)) y=(fmt(H - 4.0)) text-anchor="middle" font-size="12" fill="#1b2733" { "Session" }
            @if let Some(c) = chart.cutoff {
                line x1=(fmt(LEFT)) x2=(fmt(W - RIGHT)) y1=(fmt(y(c))) y2=(fmt(y(c))) stroke="#a4161a" stroke-width="1.5" stroke-dasharray="6 4" {}
                text x=(fmt(W - RIGHT)) y=(fmt(y(c) - 4.0)) text-anchor="end" font-size="12" fill="#a4161a" { "cutoff " (number(c)) }
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
                total: Some(38.0),
                gap: None,
            },
            Point {
                session: 2,
                total: Some(37.0),
                gap: None,
            },
            Point {
                session: 3,
                total: None,
                gap: Some("no answer"),
            },
            Point {
                session: 4,
                total: Some(31.0),
                gap: None,
            },
            Point {
                session: 5,
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
            2,
            "two segments around the gap"
        );
        assert!(svg.contains("Session 3: no answer"));
        assert!(svg.contains("cutoff 36"));
        assert!(svg.contains("Alert opened"));
        assert!(svg.contains("role=\"img\""));
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(y_ticks(0.0, 40.0), vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(y_ticks(1.0, 5.0), vec![1.0, 2.0, 3.0, 4.0, 5.0]);
    }
}
