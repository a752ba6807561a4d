//! How a clinician hears about alerts: the form with their two choices.

use maud::{Markup, html};

use crate::store::staff::Notify;
use crate::web::views::layout::notice;

/// The alert-email choices for high and for other alerts, with "Saved."
/// after a save.
pub fn body(csrf: &str, saved: bool, high: Notify, other: Notify) -> Markup {
    let choice = |name: &str, current: Notify| {
        html! {
            ul.choices {
                @for choice in Notify::ALL {
                    li { label { input type="radio" name=(name) value=(choice.as_str()) checked[current == choice]; " " (choice.label()) } }
                }
            }
        }
    };
    html! {
        @if saved { (notice("Saved.")) }
        section {
            p { "Alert emails never name the client or say anything clinical: they only say there is something to look at." }
            form method="post" action="/clinician/settings" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset { legend { "High alerts" } (choice("notify_high", high)) }
                fieldset { legend { "Other alerts" } (choice("notify_other", other)) }
                button.primary type="submit" { "Save" }
            }
        }
    }
}
