//! The dashboard's charts: server-rendered SVG built with maud, like
//! `views::chart`. Each chart is an image with a title and a description
//! pointing to the table under it, which holds the same figures. Lines
//! differ by colour, dash and marker shape, so colour is never the only
//! cue; every point names its group, period and value on hover.

use maud::{Markup, html};

use super::figures::display;
use crate::domain::trends::research::number;
use crate::domain::trends::{CellValue, Period, Spread, Unit};

/// Colours with at least 3:1 contrast against white (WCAG 1.4.11).
const COLOURS: [&str; 8] = [
    "#1f5f8b", "#b35c00", "#1e6b3a", "#8e3b8e", "#a4161a", "#00617f", "#5b5b00", "#6b4f2a",
];
const DASHES: [&str; 4] = ["", "6 3", "2 3", "9 3 2 3"];

/// The most lines a chart draws; beyond that it shows the spread instead.
pub const MAX_LINES: usize = 8;

// Sized for a card a third of the page wide, so the 12-unit labels stay
// about 12 px on screen.
const W: f64 = 400.0;
const H: f64 = 170.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 28.0;

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

fn dash(i: usize) -> &'static str {
    DASHES[(i / COLOURS.len() + i) % DASHES.len()]
}

/// A marker shape centred on (x, y): circle, square, triangle, diamond.
fn marker(i: usize, x: f64, y: f64, fill: &str, label: &str) -> Markup {
    let r = 4.0;
    match i % 4 {
        0 => html! { circle cx=(fmt(x)) cy=(fmt(y)) r=(fmt(r)) fill=(fill) { title { (label) } } },
        1 => {
            html! { rect x=(fmt(x - r)) y=(fmt(y - r)) width=(fmt(2.0 * r)) height=(fmt(2.0 * r)) fill=(fill) { title { (label) } } }
        }
        2 => html! {
            path d=(format!("M{},{} L{},{} L{},{} Z", fmt(x), fmt(y - r - 1.0), fmt(x + r + 1.0), fmt(y + r), fmt(x - r - 1.0), fmt(y + r)))
                fill=(fill) { title { (label) } }
        },
        _ => html! {
            path d=(format!("M{},{} L{},{} L{},{} L{},{} Z", fmt(x), fmt(y - r - 1.0), fmt(x + r + 1.0), fmt(y), fmt(x), fmt(y + r + 1.0), fmt(x - r - 1.0), fmt(y)))
                fill=(fill) { title { (label) } }
        },
    }
}

/// A value axis: its lowest and highest value and the ticks between.
#[derive(Debug, Clone, PartialEq)]
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Axis {
    /// Where `v` lies between pixel positions `at_lo` and `at_hi`.
    fn place(&self, v: f64, at_lo: f64, at_hi: f64) -> f64 {
        let share = (v.clamp(self.lo, self.hi) - self.lo) / (self.hi - self.lo).max(1e-9);
        at_lo + share * (at_hi - at_lo)
    }

    /// For the chart's description: an axis that does not start at 0 says so.
    fn note(&self, unit: Unit) -> Option<String> {
        (self.lo > 0.0).then(|| format!("The value axis starts at {}, not 0.", tick_label(unit, self.lo)))
    }
}

/// A round step of about a quarter of `span`.
fn nice_step(span: f64) -> f64 {
    let raw = (span / 4.0).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw)
}

/// The value axis. Shares run 0–100%. Counts, rates and hours run from 0.
/// Alliance scores crowd the ceiling, where a point or two matters
/// (CLINICAL.md §1), so when every value is in the upper half of its
/// range the axis starts at a round number below the lowest (and says so).
fn value_axis(unit: Unit, smallest: f64, largest: f64) -> Axis {
    let ticks_between = |lo: f64, hi: f64, step: f64| -> Vec<f64> {
        (0..=(((hi - lo) / step).round() as usize))
            .map(|i| lo + i as f64 * step)
            .collect()
    };
    match unit {
        Unit::Share => Axis {
            lo: 0.0,
            hi: 1.0,
            ticks: vec![0.0, 0.25, 0.5, 0.75, 1.0],
        },
        Unit::Score100 | Unit::Points if smallest.is_finite() && smallest > 0.5 * largest && largest > smallest => {
            // Scores keep the best possible (100) in view.
            let hi_wanted = if unit == Unit::Score100 { 100.0 } else { largest };
            let step = nice_step(hi_wanted - smallest);
            let lo = (smallest / step).floor() * step;
            let hi = (hi_wanted / step).ceil() * step;
            Axis {
                lo,
                hi,
                ticks: ticks_between(lo, hi, step),
            }
        }
        Unit::Score100 => Axis {
            lo: 0.0,
            hi: 100.0,
            ticks: vec![0.0, 25.0, 50.0, 75.0, 100.0],
        },
        _ => {
            let top = largest.max(1.0);
            let step = nice_step(top);
            let hi = (top / step).ceil() * step;
            Axis {
                lo: 0.0,
                hi,
                ticks: ticks_between(0.0, hi, step),
            }
        }
    }
}

/// The smallest and largest of some values (infinite when there are none).
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, 0.0), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// One value axis per unit for the whole page: two charts of the same kind
/// of figure (every share, both rates per 100 sessions, a figure and its
/// spread across clinicians) are drawn to the same scale, so they can be
/// compared by eye.
#[derive(Debug, Default)]
pub struct Scales(Vec<(Unit, f64, f64)>);

impl Scales {
    /// Widens the scale of `unit` to take in `values`.
    pub fn include(&mut self, unit: Unit, values: impl Iterator<Item = f64>) {
        let (lo, hi) = extent(values);
        match self.0.iter_mut().find(|(u, _, _)| *u == unit) {
            Some((_, l, h)) => {
                *l = l.min(lo);
                *h = h.max(hi);
            }
            None => self.0.push((unit, lo, hi)),
        }
    }

    fn extent(&self, unit: Unit) -> (f64, f64) {
        self.0
            .iter()
            .find(|(u, _, _)| *u == unit)
            .map_or((f64::INFINITY, 0.0), |(_, lo, hi)| (*lo, *hi))
    }

    fn axis(&self, unit: Unit) -> Axis {
        let (lo, hi) = self.extent(unit);
        value_axis(unit, lo, hi)
    }
}

fn tick_label(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Share => format!("{:.0}%", v * 100.0),
        _ => number(v),
    }
}

fn frame(id: &str, title: &str, height: f64, note: Option<String>, body: Markup) -> Markup {
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (fmt(height)) } role="img"
            aria-labelledby=(title_id) aria-describedby=(desc_id) {
            title #(title_id) { (title) }
            desc #(desc_id) {
                "The same figures are in the table under the chart. Periods with fewer than 5 clients are left as gaps."
                @if let Some(note) = note { " " (note) }
            }
            (body)
        }
    }
}

/// Horizontal grid lines and labels of the value axis, for a plot between
/// `top` and `bottom`.
fn y_axis(unit: Unit, axis: &Axis, top: f64, bottom: f64) -> Markup {
    let y = |v: f64| axis.place(v, bottom, top);
    html! {
        @for t in &axis.ticks {
            line x1=(fmt(LEFT)) x2=(fmt(W - RIGHT)) y1=(fmt(y(*t))) y2=(fmt(y(*t))) stroke="#dde3e8" stroke-width="1" {}
            text x=(fmt(LEFT - 6.0)) y=(fmt(y(*t) + 4.0)) text-anchor="end" font-size="12" fill="#1b2733" { (tick_label(unit, *t)) }
        }
        line x1=(fmt(LEFT)) x2=(fmt(LEFT)) y1=(fmt(top)) y2=(fmt(bottom)) stroke="#4a5866" {}
        line x1=(fmt(LEFT)) x2=(fmt(W - RIGHT)) y1=(fmt(bottom)) y2=(fmt(bottom)) stroke="#4a5866" {}
    }
}

fn x_positions(n: usize) -> Vec<f64> {
    let width = W - LEFT - RIGHT - 16.0;
    match n {
        0 => vec![],
        1 => vec![LEFT + 8.0 + width / 2.0],
        _ => (0..n).map(|i| LEFT + 8.0 + width * i as f64 / (n - 1) as f64).collect(),
    }
}

fn x_labels(periods: &[Period], xs: &[f64]) -> Markup {
    let step = periods.len().div_ceil(8).max(1);
    html! {
        @for (i, (period, x)) in periods.iter().zip(xs).enumerate() {
            @if i % step == 0 {
                text x=(fmt(*x)) y=(fmt(H - BOTTOM + 17.0)) text-anchor="middle" font-size="12" fill="#1b2733" { (period.short_label()) }
            }
        }
    }
}

/// One line per group over the periods; gaps where there is no figure.
pub fn line_chart(
    id: &str,
    title: &str,
    unit: Unit,
    scales: &Scales,
    periods: &[Period],
    series: &[(String, Vec<CellValue>)],
) -> Markup {
    let axis = scales.axis(unit);
    let bottom = H - BOTTOM;
    let y = |v: f64| axis.place(v, bottom, TOP);
    let xs = x_positions(periods.len());
    let body = html! {
        (y_axis(unit, &axis, TOP, bottom))
        (x_labels(periods, &xs))
        @for (i, (name, values)) in series.iter().enumerate() {
            @for segment in segments(values, &xs, &y) {
                @if segment.len() > 1 {
                    path d=(path_of(&segment)) fill="none" stroke=(colour(i)) stroke-width="2.5" stroke-dasharray=(dash(i)) {}
                }
            }
            @for (j, value) in values.iter().enumerate() {
                @if let (Some(v), Some(x)) = (value.number(), xs.get(j)) {
                    (marker(i, *x, y(v), colour(i), &format!("{name}, {}: {}", periods[j].label(), display(*value, unit))))
                }
            }
        }
    };
    frame(id, title, H, axis.note(unit), body)
}

fn segments(values: &[CellValue], xs: &[f64], y: &impl Fn(f64) -> f64) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![vec![]];
    for (value, x) in values.iter().zip(xs) {
        match value.number() {
            Some(v) => {
                if let Some(last) = out.last_mut() {
                    last.push((*x, y(v)));
                }
            }
            None => out.push(vec![]),
        }
    }
    out
}

fn path_of(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{},{}", if i == 0 { "M" } else { "L" }, fmt(*x), fmt(*y)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lowest to highest as a bar per period, the middle value as a dot.
pub fn spread_chart(
    id: &str,
    title: &str,
    unit: Unit,
    scales: &Scales,
    periods: &[Period],
    spreads: &[Option<Spread>],
) -> Markup {
    let axis = scales.axis(unit);
    let bottom = H - BOTTOM;
    let y = |v: f64| axis.place(v, bottom, TOP);
    let xs = x_positions(periods.len());
    let show = |v: f64| display(CellValue::Value(v), unit);
    let body = html! {
        (y_axis(unit, &axis, TOP, bottom))
        (x_labels(periods, &xs))
        @for ((s, x), period) in spreads.iter().zip(&xs).zip(periods) {
            @if let Some(s) = s {
                @let tip = format!("{}: {} groups, lowest {}, middle {}, highest {}", period.label(), s.clinicians, show(s.lowest), show(s.median), show(s.highest));
                g {
                    title { (tip) }
                    line x1=(fmt(*x)) x2=(fmt(*x)) y1=(fmt(y(s.lowest))) y2=(fmt(y(s.highest))) stroke="#5b7a99" stroke-width="6" stroke-linecap="round" {}
                    circle cx=(fmt(*x)) cy=(fmt(y(s.median))) r="5" fill="#1f5f8b" stroke="#ffffff" stroke-width="1.5" {}
                }
            }
        }
    };
    frame(id, title, H, axis.note(unit), body)
}

/// Rules down the side, one bar per group.
pub fn bar_chart(
    id: &str,
    title: &str,
    unit: Unit,
    scales: &Scales,
    rules: &[String],
    series: &[(String, Vec<CellValue>)],
) -> Markup {
    const LABELS: f64 = 130.0;
    const BAR: f64 = 10.0;
    const GAP: f64 = 12.0;
    let groups = series.len().max(1) as f64;
    let band = groups * BAR + GAP;
    let height = TOP + band * rules.len().max(1) as f64 + BOTTOM;
    // Bars always start at 0.
    let axis = value_axis(unit, 0.0, scales.extent(unit).1);
    let x = |v: f64| axis.place(v, LABELS, W - RIGHT);
    let axis_y = height - BOTTOM;
    let body = html! {
        @for t in &axis.ticks {
            line x1=(fmt(x(*t))) x2=(fmt(x(*t))) y1=(fmt(TOP)) y2=(fmt(axis_y)) stroke="#dde3e8" stroke-width="1" {}
            text x=(fmt(x(*t))) y=(fmt(axis_y + 16.0)) text-anchor="middle" font-size="12" fill="#1b2733" { (tick_label(unit, *t)) }
        }
        line x1=(fmt(LABELS)) x2=(fmt(LABELS)) y1=(fmt(TOP)) y2=(fmt(axis_y)) stroke="#4a5866" {}
        @for (r, rule) in rules.iter().enumerate() {
            @let top = TOP + band * r as f64;
            text x=(fmt(LABELS - 8.0)) y=(fmt(top + (groups * BAR) / 2.0 + 4.0)) text-anchor="end" font-size="12" fill="#1b2733" { (rule) }
            @for (i, (name, values)) in series.iter().enumerate() {
                @if let Some(value) = values.get(r) {
                    @if let Some(v) = value.number() {
                        rect x=(fmt(LABELS)) y=(fmt(top + i as f64 * BAR)) width=(fmt((x(v) - LABELS).max(1.0))) height=(fmt(BAR - 1.0)) fill=(colour(i)) {
                            title { (name) ", " (rule) ": " (display(*value, unit)) }
                        }
                    }
                }
            }
        }
    };
    frame(id, title, height, None, body)
}

/// The key to a chart's lines (or bars), as a list beside it.
pub fn legend(names: &[String], bars: bool) -> Markup {
    html! {
        ul.legend {
            @for (i, name) in names.iter().enumerate() {
                li {
                    svg xmlns="http://www.w3.org/2000/svg" width="30" height="12" viewBox="0 0 30 12" aria-hidden="true" focusable="false" {
                        @if bars {
                            rect x="2" y="2" width="26" height="8" fill=(colour(i)) {}
                        } @else {
                            line x1="1" x2="29" y1="6" y2="6" stroke=(colour(i)) stroke-width="2.5" stroke-dasharray=(dash(i)) {}
                            (marker(i, 15.0, 6.0, colour(i), name))
                        }
                    }
                    (name)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_break_lines_and_points_say_what_they_are() {
        let first = Period::of_date(
            crate::domain::trends::Grouping::Month,
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        );
        let periods = [first, first.next(), first.next().next(), first.next().next().next()];
        let values = vec![
            CellValue::Value(0.5),
            CellValue::Value(0.6),
            CellValue::Suppressed,
            CellValue::Value(0.7),
        ];
        let mut scales = Scales::default();
        scales.include(Unit::Share, values.iter().filter_map(|v| v.number()));
        let svg = line_chart(
            "c",
            "Response rate",
            Unit::Share,
            &scales,
            &periods,
            &[("North".into(), values)],
        )
        .into_string();
        assert!(svg.contains("role=\"img\"") && svg.contains("<title id=\"c-title\">Response rate</title>"));
        assert_eq!(
            svg.matches("<path d=\"M").count(),
            1,
            "one segment before the gap; a single point has no line"
        );
        assert!(svg.contains("North, Feb 2026: 60.0%"));
        assert!(!svg.contains("Mar 2026: "), "no point for a suppressed cell");
        assert!(!svg.contains("style="), "no inline styles (CSP)");
    }

    #[test]
    fn axes_are_round() {
        let axis = |unit, lo, hi| value_axis(unit, lo, hi);
        assert_eq!(axis(Unit::Count, 3.0, 37.0).ticks, vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(axis(Unit::Hours, 0.0, 0.0).hi, 1.0);
        assert_eq!(axis(Unit::Share, 0.3, 0.4).hi, 1.0);
        // Alliance near the ceiling: the axis starts below the lowest value, and says so.
        let near_ceiling = axis(Unit::Score100, 87.0, 96.1);
        assert_eq!((near_ceiling.lo, near_ceiling.hi), (85.0, 100.0));
        assert_eq!(
            near_ceiling.note(Unit::Score100).as_deref(),
            Some("The value axis starts at 85, not 0.")
        );
        assert_eq!(axis(Unit::Score100, 20.0, 96.0).lo, 0.0);
        assert_eq!(axis(Unit::Points, 33.8, 38.0).lo, 32.0);
        assert_eq!(axis(Unit::Count, 50.0, 60.0).lo, 0.0, "counts always start at 0");
        assert_eq!(tick_label(Unit::Hours, 0.25), "0.25");
        assert_eq!(tick_label(Unit::Share, 0.25), "25%");
    }

    #[test]
    fn charts_of_one_unit_share_a_scale() {
        let mut scales = Scales::default();
        scales.include(Unit::Per100Sessions, [3.0, 7.0].into_iter());
        scales.include(Unit::Per100Sessions, [12.0].into_iter());
        scales.include(Unit::Score100, [88.0, 93.0].into_iter());
        scales.include(Unit::Score100, [80.0].into_iter());
        assert_eq!(
            scales.axis(Unit::Per100Sessions).hi,
            15.0,
            "the larger figure sets the top"
        );
        assert_eq!(scales.axis(Unit::Score100).lo, 80.0, "the lower figure sets the bottom");
        assert_eq!(
            scales.axis(Unit::Hours).hi,
            1.0,
            "a unit with no values still has an axis"
        );
    }
}
