//! Admin → Audit log: the filters and the entries found, from what the
//! handler read.

use crate::store::StaffId;
use maud::{Markup, html};

use crate::store::audit::{AuditRow, action_label};
use crate::store::staff::StaffMember;
use crate::web::views::local_time;

/// Rows shown on the page (the CSV export holds up to 100,000).
pub const PAGE_LIMIT: i64 = 200;

/// Kinds of action to filter by: (prefix, label).
pub const KINDS: [(&str, &str); 8] = [
    ("client.", "Client data (views, records, changes, erasure)"),
    ("alert.", "Alerts"),
    ("access.denied", "Refused attempts"),
    ("appointment", "Appointments and imports"),
    ("staff.", "Staff accounts"),
    ("settings.", "Settings"),
    ("apikey.", "API keys"),
    ("email.", "Email (tests, retries)"),
];

/// What the audit page shows.
pub struct AuditPage<'a> {
    /// Everyone who could have acted, for the "who" filter.
    pub people: &'a [(StaffMember, Option<String>)],
    /// The filters as chosen.
    pub chosen: Option<StaffId>,
    pub client: &'a str,
    pub kind: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub rows: &'a [AuditRow],
    /// The same filters, asking for CSV.
    pub csv_query: &'a str,
    pub tz: chrono_tz::Tz,
}

/// The page's content.
pub fn body(page: &AuditPage) -> Markup {
    let AuditPage {
        people,
        chosen,
        client,
        kind,
        from,
        to,
        rows,
        csv_query,
        tz,
    } = *page;
    html! {
        p.muted { "Every read and change of client data by staff or by an API key, most recent first." }
        form.filters method="get" action="/admin/audit" {
            div.field {
                label for="who" { "Who" }
                select #who name="who" {
                    option value="" { "Anyone" }
                    @for (m, _) in people {
                        option value=(m.id) selected[chosen == Some(m.id)] { (m.name) }
                    }
                }
            }
            div.field {
                label for="client" { "Client number" }
                input #client name="client" inputmode="numeric" value=(client) size="8";
            }
            div.field {
                label for="kind" { "What" }
                select #kind name="kind" {
                    option value="" { "Everything" }
                    @for (key, label) in KINDS {
                        option value=(key) selected[kind == key] { (label) }
                    }
                }
            }
            div.field { label for="from" { "From" } input #from type="date" name="from" value=(from); }
            div.field { label for="to" { "To" } input #to type="date" name="to" value=(to); }
            button type="submit" { "Show" }
        }
        p {
            (rows.len()) @if rows.len() as i64 == PAGE_LIMIT { "+ (the latest " (PAGE_LIMIT) " shown)" } " entries. "
            a href={ "/admin/audit?" (csv_query) } download { "Download these as CSV" }
        }
        table.cards {
            thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Client" } th scope="col" { "Detail" } } }
            tbody {
                @for r in rows {
                    tr {
                        td data-label="When" { (local_time(r.at, tz)) }
                        td data-label="Who" { (r.staff_name.as_deref().unwrap_or("API / system")) }
                        td data-label="What" { (action_label(&r.action)) }
                        td data-label="Client" { (r.client_id.map(|c| format!("#{c}")).unwrap_or_default()) }
                        td data-label="Detail" { (r.detail.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}
