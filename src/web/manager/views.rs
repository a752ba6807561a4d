//! What managers see, from what their handlers read (no database here):
//! the service in a few numbers, then each figure as a small chart on one
//! scale per unit (its definition and table behind a disclosure), the
//! anonymous spread across clinicians, and the teams with their caseloads.

use crate::store::StaffId;
use maud::{Markup, html};

use super::charts::{self, MAX_LINES, Scales};
use super::figures::{self, FigureTable, RuleTable, SPREAD_DEFINITION, SpreadTable, Trends, display};
use crate::domain::trends::{Breakdown, CellValue, Figure, Grouping, Period, Selection, Spread, Unit, spread};
use crate::store::staff::{Role, StaffMember, Team};
use crate::web::auth::CurrentStaff;
use crate::web::views::layout::notice;
use crate::web::views::local_time;

/// The address of the same view (for CSV links and the form).
pub fn query_string(selection: &Selection) -> String {
    format!(
        "from={}&to={}&group={}&breakdown={}",
        selection.first_day(),
        selection.last_day(),
        selection.grouping.as_str(),
        selection.breakdown.as_str()
    )
}

/// Teams, staff and caseload counts: the manager's overview. Every count
/// comes from an index or the trend cells, so the page stays fast on a
/// large clinic.
pub struct Overview {
    pub teams: Vec<Team>,
    pub members: Vec<(StaffMember, Option<String>)>,
    pub per_clinician: Vec<(StaffId, i64)>,
    pub sessions: i64,
    /// The clinic's limit for acknowledging an alert, and the alerts past
    /// it per clinician (shown per team only).
    pub overdue_days: i64,
    pub overdue: Vec<(StaffId, i64)>,
}

impl Overview {
    fn overdue_of(&self, id: StaffId) -> i64 {
        self.overdue.iter().find(|(c, _)| *c == id).map_or(0, |(_, n)| *n)
    }

    /// Current clients (not erased).
    fn clients(&self) -> i64 {
        self.per_clinician.iter().map(|(_, n)| n).sum()
    }

    fn clinicians(&self) -> impl Iterator<Item = &StaffMember> {
        self.members
            .iter()
            .map(|(m, _)| m)
            .filter(|m| m.role() == Role::Clinician)
    }

    fn clients_of(&self, id: StaffId) -> i64 {
        self.per_clinician.iter().find(|(c, _)| *c == id).map_or(0, |(_, n)| *n)
    }
}

/// What the managers' page shows.
pub struct ManagerPage<'a> {
    pub overview: &'a Overview,
    pub trends: &'a Trends,
    /// Whether the clinic allows figures per clinician.
    pub allowed: bool,
    /// The setting for figures per clinician was just saved.
    pub saved: bool,
    /// Another request is bringing the figures up to date.
    pub refreshing: bool,
    pub now: chrono::NaiveDateTime,
    pub tz: chrono_tz::Tz,
    pub staff: &'a CurrentStaff,
}

/// The page's content: the service at a glance, the trends with their
/// filters, the spread across clinicians, the teams and the setting for
/// figures per clinician.
pub fn body(page: &ManagerPage) -> Markup {
    let ManagerPage {
        overview,
        trends,
        allowed,
        saved,
        refreshing,
        now,
        tz,
        staff,
    } = *page;
    let scales = scales(trends);
    html! {
        @if saved { (notice("Saved: the setting for figures per clinician.")) }
        (at_a_glance(overview))
        section.trends aria-labelledby="trends-heading" {
            (filters(&trends.selection, allowed))
            (freshness(refreshing, now, tz))
            (figure_grid(trends, &scales))
        }
        @if trends.selection.breakdown != Breakdown::Clinician { (spread_section(trends, &scales)) }
        div.side-by-side {
            (teams_section(overview))
            (clinician_setting(staff, allowed))
        }
    }
}

fn at_a_glance(o: &Overview) -> Markup {
    html! {
        dl.stats {
            div { dt { "Teams" } dd { (o.teams.len()) } }
            div { dt { "Clinicians" } dd { (o.clinicians().count()) } }
            div { dt { "Clients" } dd { (o.clients()) } }
            div { dt { "Attended sessions" } dd { (o.sessions) } }
            div {
                dt { "Alerts unacknowledged over " (o.overdue_days) " " (if o.overdue_days == 1 { "day" } else { "days" }) }
                dd { (o.overdue.iter().map(|(_, n)| n).sum::<i64>()) }
            }
        }
    }
}

fn filters(selection: &Selection, allowed: bool) -> Markup {
    let breakdowns: Vec<Breakdown> = Breakdown::ALL
        .into_iter()
        .filter(|b| *b != Breakdown::Clinician || allowed)
        .collect();
    html! {
        div.trends-filters {
            h2 #trends-heading { "Trends" }
            p.hint {
                "Figures are for groups of clients, never individuals. A figure behind fewer than 5 clients is not shown and is marked “" (figures::SUPPRESSED) "”."
            }
            form.row.filters method="get" action="/manager" {
                div.field {
                    label for="from" { "From" }
                    input #from type="date" name="from" value=(selection.first_day());
                }
                div.field {
                    label for="to" { "To" }
                    input #to type="date" name="to" value=(selection.last_day());
                }
                div.field {
                    label for="group" { "Group by" }
                    select #group name="group" {
                        @for g in Grouping::ALL {
                            option value=(g.as_str()) selected[g == selection.grouping] { (g.label()) }
                        }
                    }
                }
                div.field {
                    label for="breakdown" { "Show" }
                    select #breakdown name="breakdown" {
                        @for b in &breakdowns {
                            option value=(b.as_str()) selected[*b == selection.breakdown] { (b.label()) }
                        }
                    }
                }
                button.primary type="submit" { "Show trends" }
            }
            p {
                "Showing " strong { (selection.first.label()) " – " (selection.last.label()) } ", "
                (selection.grouping.label().to_lowercase()) ", " (selection.breakdown.label().to_lowercase()) ". "
                "Weeks start on Monday; ranges are widened to whole " (selection.grouping.as_str()) "s. "
                a.download href={ "/manager/export.csv?" (query_string(selection)) } { "Download all these tables for this range (one CSV file)" }
            }
        }
    }
}

fn freshness(refreshing: bool, now: chrono::NaiveDateTime, tz: chrono_tz::Tz) -> Markup {
    html! {
        @if refreshing {
            p.hint role="status" { "The figures are being brought up to date by another request; reload in a moment for the latest." }
        } @else {
            p.hint { "Figures include every change up to " (local_time(now, tz)) " (" (tz.name()) ")." }
        }
    }
}

fn periods(trends: &Trends) -> Vec<Period> {
    trends.selection.periods()
}

/// Every chart's scale, one per unit across the page (period values and
/// spreads; the whole-range totals are not drawn).
fn scales(trends: &Trends) -> Scales {
    let mut scales = Scales::default();
    for table in &trends.figures {
        let values = table.rows.iter().flat_map(|(_, v)| v.iter().filter_map(|c| c.number()));
        scales.include(table.figure.unit(), values);
    }
    for table in &trends.rules {
        let values = table
            .rows
            .iter()
            .flat_map(|(_, _, v)| v.iter().filter_map(|c| c.number()));
        scales.include(table.figure.unit(), values);
    }
    for table in &trends.spreads {
        let values = table
            .rows
            .iter()
            .flat_map(|(_, s)| s.iter().flat_map(|s| [s.lowest, s.highest]));
        scales.include(table.figure.unit(), values);
    }
    scales
}

fn value_cell(value: CellValue, unit: Unit) -> Markup {
    html! {
        @match value {
            CellValue::Value(_) => td.num { (display(value, unit)) },
            CellValue::Suppressed => td.suppressed { (display(value, unit)) },
            _ => td.nodata { (display(value, unit)) },
        }
    }
}

fn csv_link(trends: &Trends, slug: &str, title: &str) -> Markup {
    html! {
        p.download {
            a href={ "/manager/export.csv?" (query_string(&trends.selection)) "&figure=" (slug) } {
                "Download this table (CSV)" span.visually-hidden { ": " (title) }
            }
        }
    }
}

/// The small multiples: one card per figure, the chart in view and the
/// definition and table behind a disclosure.
fn figure_grid(trends: &Trends, scales: &Scales) -> Markup {
    html! {
        div #figures {
            @if trends.series.len() > 1 && trends.series.len() <= MAX_LINES {
                @let names: Vec<String> = trends.series.iter().map(|s| s.name.clone()).collect();
                div.key { "Lines: " (charts::legend(&names, false)) }
            }
            div.small-multiples {
                @for table in &trends.figures { (figure_card(trends, scales, table)) }
                @for table in &trends.rules { (rule_card(trends, scales, table)) }
            }
        }
    }
}

/// The whole-clinic figure over the whole range, in the card's heading line.
fn headline(trends: &Trends, figure: Figure) -> Markup {
    let value = trends.summary.value(figure);
    html! {
        @if figure == Figure::MedianHoursToAcknowledge {
            p.headline.muted { "A middle time per period; a median is not added up over the range." }
        } @else {
            p.headline { span.muted { "Whole clinic, whole range: " } strong { (display(value, figure.unit())) } }
        }
    }
}

/// What a table of figures says about them (a figure or a figure by rule).
#[derive(Clone, Copy)]
struct About {
    slug: &'static str,
    title: &'static str,
    definition: &'static str,
    unit: Unit,
}

/// A figure's definition and its numbers as a table (one row per period
/// or rule, one column per group), folded under its chart, with the CSV.
/// `total`: `None` for a table without a whole-range row; `Some(None)` for
/// one whose figure cannot be added up over the range (a median).
fn definition_and_table<'a>(
    trends: &Trends,
    f: About,
    first_column: &str,
    rows: impl Iterator<Item = (String, &'a [CellValue])>,
    total: Option<Option<&[CellValue]>>,
) -> Markup {
    html! {
        details {
            summary { "Definition and table" span.visually-hidden { ": " (f.title) } }
            p.definition { (f.definition) }
            div.table-wrap tabindex="0" role="region" aria-label={ (f.title) ", table" } {
                table.figures {
                    caption.visually-hidden { (f.title) ", table" }
                    thead { tr {
                        th scope="col" { (first_column) }
                        @for s in &trends.series { th scope="col" { (s.name) } }
                    } }
                    tbody {
                        @for (label, values) in rows {
                            tr {
                                th scope="row" { (label) }
                                @for v in values { (value_cell(*v, f.unit)) }
                            }
                        }
                    }
                    @if let Some(Some(total)) = total {
                        tfoot { tr {
                            th scope="row" { "Whole range" }
                            @for v in total { (value_cell(*v, f.unit)) }
                        } }
                    }
                }
            }
            @if total == Some(None) {
                p.hint { "A median is not added up over the range; each period has its own." }
            }
            (csv_link(trends, f.slug, f.title))
        }
    }
}

fn figure_card(trends: &Trends, scales: &Scales, table: &FigureTable) -> Markup {
    let f = table.figure;
    let slug = f.slug();
    let periods = periods(trends);
    let columns: Vec<(String, Vec<CellValue>)> = trends
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), table.rows.iter().map(|(_, values)| values[i]).collect()))
        .collect();
    let chart_title = format!("{} {}", f.title(), trends.selection.grouping.label().to_lowercase());
    html! {
        section.figure-card #{ "fig-" (slug) } aria-labelledby={ "h-" (slug) } {
            h3 #{ "h-" (slug) } { (f.title()) }
            (headline(trends, f))
            figure.chart {
                @if columns.len() <= MAX_LINES {
                    (charts::line_chart(&format!("chart-{slug}"), &chart_title, f.unit(), scales, &periods, &columns))
                } @else {
                    @let spreads: Vec<Option<Spread>> = table.rows.iter()
                        .map(|(_, values)| spread(&values.iter().filter_map(|v| v.number()).collect::<Vec<_>>()))
                        .collect();
                    (charts::spread_chart(&format!("chart-{slug}"), &chart_title, f.unit(), scales, &periods, &spreads))
                    figcaption { "Spread across the " (columns.len()) " groups: lowest to highest, the dot the middle." }
                }
            }
            (definition_and_table(
                trends,
                About { slug, title: f.title(), definition: f.definition(), unit: f.unit() },
                "Period",
                table.rows.iter().map(|(period, values)| (period.label(), values.as_slice())),
                Some(table.total.as_deref()),
            ))
        }
    }
}

fn rule_card(trends: &Trends, scales: &Scales, table: &RuleTable) -> Markup {
    let f = table.figure;
    let slug = f.slug();
    let rules: Vec<String> = table.rows.iter().map(|(_, title, _)| title.clone()).collect();
    let columns: Vec<(String, Vec<CellValue>)> = trends
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                s.name.clone(),
                table.rows.iter().map(|(_, _, values)| values[i]).collect(),
            )
        })
        .collect();
    html! {
        section.figure-card #{ "fig-" (slug) } aria-labelledby={ "h-" (slug) } {
            h3 #{ "h-" (slug) } { (f.title()) }
            @if table.rows.is_empty() {
                p { "No alerts were opened in this range." }
                p.definition { (f.definition()) }
            } @else {
                figure.chart {
                    @if columns.len() <= MAX_LINES {
                        (charts::bar_chart(&format!("chart-{slug}"), f.title(), f.unit(), scales, &rules, &columns))
                    } @else {
                        figcaption { "With " (columns.len()) " groups the table says it more clearly than a chart." }
                    }
                }
                (definition_and_table(
                    trends,
                    About { slug, title: f.title(), definition: f.definition(), unit: f.unit() },
                    "Rule",
                    table.rows.iter().map(|(_, title, values)| (title.clone(), values.as_slice())),
                    None,
                ))
            }
        }
    }
}

fn spread_section(trends: &Trends, scales: &Scales) -> Markup {
    let periods = periods(trends);
    html! {
        section #spread aria-labelledby="h-spread" {
            h2 #h-spread { "Spread across clinicians" }
            p.definition { (SPREAD_DEFINITION) " Bars run from the lowest to the highest; the dot is the middle." }
            div.small-multiples {
                @for table in &trends.spreads { (spread_card(trends, scales, table, &periods)) }
            }
        }
    }
}

fn spread_card(trends: &Trends, scales: &Scales, table: &SpreadTable, periods: &[Period]) -> Markup {
    let unit = table.figure.unit();
    let slug = table.slug();
    let spreads: Vec<Option<Spread>> = table.rows.iter().map(|(_, s)| *s).collect();
    let show = |v: f64| display(CellValue::Value(v), unit);
    html! {
        section.figure-card #{ "fig-" (slug) } aria-labelledby={ "h-" (slug) } {
            h3 #{ "h-" (slug) } { (table.figure.title()) }
            figure.chart {
                (charts::spread_chart(&format!("chart-{slug}"), &table.title(), unit, scales, periods, &spreads))
            }
            details {
                summary { "Table" span.visually-hidden { ": " (table.title()) } }
                div.table-wrap tabindex="0" role="region" aria-label={ (table.title()) ", table" } {
                    table.figures {
                        caption.visually-hidden { (table.title()) ", table" }
                        thead { tr {
                            th scope="col" { "Period" }
                            th scope="col" { "Clinicians" }
                            th scope="col" { "Lowest" }
                            th scope="col" { "Middle" }
                            th scope="col" { "Highest" }
                        } }
                        tbody {
                            @for (period, s) in &table.rows {
                                tr {
                                    th scope="row" { (period.label()) }
                                    @match s {
                                        Some(s) => {
                                            td.num { (s.clinicians) }
                                            td.num { (show(s.lowest)) }
                                            td.num { (show(s.median)) }
                                            td.num { (show(s.highest)) }
                                        },
                                        None => td.suppressed colspan="4" { "fewer than " (figures::spread_minimum()) " clinicians with 5 or more clients" },
                                    }
                                }
                            }
                        }
                    }
                }
                (csv_link(trends, &slug, &table.title()))
            }
        }
    }
}

fn clinician_setting(staff: &CurrentStaff, allowed: bool) -> Markup {
    html! {
        section #clinician-figures aria-labelledby="h-clinician-figures" {
            h2 #h-clinician-figures { "Figures per clinician" }
            @if staff.role() == Role::Admin {
                form.stack method="post" action="/manager/clinician-figures" {
                    input type="hidden" name="csrf" value=(staff.csrf);
                    fieldset {
                        legend { "May managers show the trends per clinician?" }
                        div.field {
                            label {
                                input type="radio" name="allowed" value="off" checked[!allowed];
                                " No: managers see the anonymous spread across clinicians only (the default)"
                            }
                        }
                        div.field {
                            label {
                                input type="radio" name="allowed" value="on" checked[allowed];
                                " Yes: managers may show a column per clinician, in alphabetical order, never ranked"
                            }
                        }
                    }
                    button.primary type="submit" { "Save" }
                }
            } @else if allowed {
                p { "The clinic allows figures per clinician (choose “Per clinician” above). Clinicians are listed alphabetically, never ranked." }
            } @else {
                p { "The clinic shows no figures per clinician; the spread across clinicians above names nobody. An administrator can change this." }
            }
        }
    }
}

fn teams_section(o: &Overview) -> Markup {
    html! {
        section #teams aria-labelledby="h-teams" {
            h2 #h-teams { "Teams" }
            table.cards {
                thead { tr {
                    th scope="col" { "Team" } th scope="col" { "Clinicians" } th scope="col" { "Clients" }
                    th scope="col" { "Alerts unacknowledged over " (o.overdue_days) " days" }
                } }
                tbody {
                    @for team in &o.teams {
                        @let clinicians: Vec<&StaffMember> = o.clinicians().filter(|m| m.team_id == Some(team.id)).collect();
                        tr {
                            td data-label="Team" { (team.name) }
                            td.num data-label="Clinicians" { (clinicians.len()) }
                            td.num data-label="Clients" { (clinicians.iter().map(|m| o.clients_of(m.id)).sum::<i64>()) }
                            td.num data-label={ "Alerts unacknowledged over " (o.overdue_days) " days" } { (clinicians.iter().map(|m| o.overdue_of(m.id)).sum::<i64>()) }
                        }
                    }
                }
            }
        }
    }
}
