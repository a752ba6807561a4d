//! Admin → Appointments: the CSV import's upload form, its preview with
//! the columns to choose, and its result; the date format. From what the
//! handler read or parsed.

use base64::Engine;
use maud::{Markup, html};

use crate::actions::appointments::{Report, RowOutcome};
use crate::domain::import::{DateOrder, Field, Mapping};
use crate::web::views::layout::notice;
use crate::web::views::local_time;

fn date_order_form(csrf: &str, order: DateOrder) -> Markup {
    html! {
        form.stack method="post" action="/admin/appointments/date-order" {
            input type="hidden" name="csrf" value=(csrf);
            fieldset {
                legend { "Dates in your files" }
                @for o in DateOrder::ALL {
                    @let id = if o == DateOrder::YearFirst { "order-year-first" } else { "order-day-first" };
                    div.check {
                        input #(id) type="radio" name="order" value=(o.as_str()) checked[o == order];
                        label for=(id) { (o.as_str()) " (such as " (o.example()) ")" }
                    }
                }
                p.hint { "Dates written 2026-03-02 are always understood. Choose dd/mm/yyyy if your practice system writes 02/03/2026 for 2 March." }
            }
            button type="submit" { "Save date format" }
        }
    }
}

pub fn upload_form(csrf: &str, source: &str) -> Markup {
    html! {
        section aria-labelledby="h-upload" {
            h2 #h-upload { "Import appointments from a CSV file" }
            p {
                "Start from the " a href="/admin/appointments/template.csv" download { "template (CSV)" }
                ", or upload your practice system's export: the next page lets you say which column holds what, and shows what the import would do before anything is saved."
            }
            form method="post" action="/admin/appointments/import" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="source" { "Sending system" }
                    p.hint #source-hint { "The practice system the file comes from, such as SystmOne. The columns you choose are remembered for it." }
                    input #source type="text" name="source" value=(source) maxlength="60" aria-describedby="source-hint" required;
                }
                div.field {
                    label for="file" { "CSV file" }
                    input #file type="file" name="file" accept=".csv,text/csv" required;
                }
                button.primary type="submit" { "Preview the import" }
            }
        }
    }
}

fn totals(report: &Report, preview: bool) -> Markup {
    html! {
        dl.stats {
            div { dt { "New" } dd { (report.created) } }
            div { dt { "Updated" } dd { (report.updated) } }
            div { dt { "Already there" } dd { (report.unchanged) } }
            div { dt { @if preview { "Questionnaires to schedule" } @else { "Questionnaires scheduled" } } dd { (report.invited) } }
            div { dt { @if preview { "Rows to refuse" } @else { "Rows refused" } } dd { (report.errors.len()) } }
        }
    }
}

fn refused_rows(report: &Report) -> Markup {
    html! {
        @if !report.errors.is_empty() {
            h3 { "Rows that were not imported" }
            p.hint { "Correct these lines and import the file again: rows already imported will not be duplicated." }
            div.table-wrap tabindex="0" role="region" aria-label="Rows that were not imported" {
                table {
                    thead { tr { th scope="col" { "Line" } th scope="col" { "Problem" } } }
                    tbody { @for (line, message) in &report.errors { tr { td.num { (line) } td { (message) } } } }
                }
            }
        }
    }
}

/// The preview page: the columns, then what the import would do.
pub struct Preview<'a> {
    pub csrf: &'a str,
    pub source: &'a str,
    pub text: &'a str,
    pub headers: &'a [String],
    pub mapping: &'a Mapping,
    /// The columns come from the mapping saved for this system.
    pub saved: bool,
    pub order: DateOrder,
    pub tz: chrono_tz::Tz,
}

impl Preview<'_> {
    pub fn render(&self, problems: Option<&[String]>, report: Option<&Report>) -> Markup {
        let carried = base64::engine::general_purpose::STANDARD.encode(self.text);
        let rows = report.map_or(0, |r| r.created + r.updated + r.unchanged + r.errors.len());
        html! {
            h2 { "Preview: nothing is saved yet" }
            p {
                "From " strong { (self.source) } ". Dates are read as " (self.order.as_str()) " ("
                a href="/admin/appointments#h-dates" { "change" } "), times in " (self.tz.name()) " unless a row gives its time zone."
            }
            @if let Some(problems) = problems {
                div.error role="alert" {
                    h3 { "Choose the columns" }
                    ul { @for p in problems { li { (p) } } }
                }
            }
            @if let Some(report) = report {
                section aria-labelledby="h-would" {
                    h3 #h-would { "What the import would do (" (rows) " rows)" }
                    (totals(report, true))
                    (first_rows(report, self.tz))
                    @if report.errors.len() > report.first.iter().filter(|r| matches!(r.2, RowOutcome::Refused(_))).count() {
                        details {
                            summary { "Every row that would be refused (" (report.errors.len()) ")" }
                            (refused_rows(report))
                        }
                    }
                }
            }
            form method="post" action="/admin/appointments/import" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(self.csrf);
                input type="hidden" name="source" value=(self.source);
                input type="hidden" name="carried" value=(carried);
                fieldset {
                    legend { "Which column holds what" }
                    @if self.saved { p.hint { "As last used for " (self.source) "." } }
                    div.columns {
                        @for field in Field::ALL {
                            div.field {
                                label for={ "column-" (field.name()) } {
                                    (field.label())
                                    @if !field.required() { span.muted { " (optional)" } }
                                }
                                select #{ "column-" (field.name()) } name={ "column_" (field.name()) } {
                                    option value="" selected[self.mapping.column(field).is_none()] { "— not in this file —" }
                                    @for header in self.headers {
                                        option value=(header) selected[self.mapping.column(field) == Some(header.as_str())] { (header) }
                                    }
                                }
                            }
                        }
                    }
                }
                div.actions {
                    @if report.is_some() {
                        button.primary type="submit" name="action" value="import" { "Import " (rows) " rows" }
                    }
                    button type="submit" name="action" value="preview" {
                        @if report.is_some() { "Update the preview" } @else { "Preview with these columns" }
                    }
                    a href="/admin/appointments" { "Choose another file" }
                }
            }
        }
    }
}

fn first_rows(report: &Report, tz: chrono_tz::Tz) -> Markup {
    html! {
        @if !report.first.is_empty() {
            div.table-wrap tabindex="0" role="region" aria-label="The first rows" {
                table.cards {
                    caption { "The first " (report.first.len()) " rows" }
                    thead { tr {
                        th scope="col" { "Line" } th scope="col" { "Client" } th scope="col" { "Clinician" }
                        th scope="col" { "Start" } th scope="col" { "Status" } th scope="col" { "Would be" }
                    } }
                    tbody {
                        @for (line, appointment, outcome) in &report.first {
                            tr {
                                td.num data-label="Line" { (line) }
                                @if let Some(a) = appointment {
                                    td data-label="Client" { (a.client.name) " (" (a.client.external_id) ")" }
                                    td data-label="Clinician" { (a.clinician_email) }
                                    td data-label="Start" { (local_time(a.starts_at, tz)) }
                                    td data-label="Status" { (a.status.label()) }
                                } @else {
                                    td data-label="Client" { "—" } td data-label="Clinician" { "—" }
                                    td data-label="Start" { "—" } td data-label="Status" { "—" }
                                }
                                td data-label="Would be" {
                                    @match outcome {
                                        RowOutcome::Created { new_client: true } => "New appointment, new client",
                                        RowOutcome::Created { new_client: false } => "New appointment",
                                        RowOutcome::Updated => "Updated",
                                        RowOutcome::Unchanged => "Already there: skipped",
                                        RowOutcome::Refused(message) => { strong { "Refused: " } (message) },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The page before a file: the upload form and the date format.
pub fn start(csrf: &str, source: &str, order: DateOrder, saved: bool) -> Markup {
    html! {
        @if saved { (notice(&format!("Saved: dates in your files are {}.", order.as_str()))) }
        (upload_form(csrf, source))
        section aria-labelledby="h-dates" {
            h2 #h-dates { "Date format" }
            (date_order_form(csrf, order))
        }
    }
}

/// What an import did, then the form for the next file.
pub fn result(csrf: &str, source: &str, report: &Report) -> Markup {
    html! {
        section aria-labelledby="h-result" {
            h2 #h-result { "Import result" }
            (totals(report, false))
            (refused_rows(report))
        }
        (upload_form(csrf, source))
    }
}
