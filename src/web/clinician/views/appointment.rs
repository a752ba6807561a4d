//! The clinician's form to record an appointment by hand.

use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::appointment::AppointmentStatus;
use crate::store::clients::Client;

/// What the form sends, and shows again with a problem.
#[derive(Deserialize, Default, Clone)]
pub struct AppointmentForm {
    #[serde(default)]
    pub client: String,
    #[serde(default)]
    pub new_name: String,
    #[serde(default)]
    pub new_email: String,
    /// The new client's language (empty: the clinic's default).
    #[serde(default)]
    pub new_language: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub minutes: String,
    #[serde(default)]
    pub status: String,
}

/// The form to record an appointment: for one of the clinician's own
/// `clients` or a new one; `form` holds what was typed (empty at first).
pub fn form_page(csrf: &str, clients: &[Client], form: &AppointmentForm) -> Markup {
    let status = if form.status.is_empty() {
        "attended"
    } else {
        form.status.as_str()
    };
    html! {
        form.stack method="post" action="/clinician/appointments" {
            input type="hidden" name="csrf" value=(csrf);
            div.field {
                label for="client" { "Client" }
                select #client name="client" {
                    option value="new" selected[form.client == "new" || form.client.is_empty()] { "A new client (enter below)" }
                    @for c in clients { option value=(c.id) selected[form.client == c.id.to_string()] { (c.name) } }
                }
            }
            fieldset.new-client {
                legend { "New client" }
                div.field { label for="new_name" { "Name" } input #new_name name="new_name" value=(form.new_name) autocomplete="off"; }
                div.field {
                    label for="new_email" { "Email (for the questionnaire)" }
                    input #new_email type="email" name="new_email" value=(form.new_email) autocomplete="off";
                }
                div.field {
                    label for="new_language" { "Language for the questionnaire and its emails" }
                    select #new_language name="new_language" {
                        option value="" selected[form.new_language.is_empty()] { "The clinic's default" }
                        @for (tag, own) in crate::i18n::SHIPPED {
                            option value=(tag) selected[form.new_language == tag] { (crate::i18n::english_name(tag)) " (" (own) ")" }
                        }
                    }
                }
            }
            div.field { label for="date" { "Date" } input #date type="date" name="date" value=(form.date) required; }
            div.field { label for="time" { "Start time" } input #time type="time" name="time" value=(form.time) required; }
            div.field {
                label for="minutes" { "Length in minutes" }
                input #minutes type="number" name="minutes" min="5" max="480" value=(if form.minutes.is_empty() { "50" } else { form.minutes.as_str() }) required;
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    @for s in [AppointmentStatus::Attended, AppointmentStatus::Booked, AppointmentStatus::NoShow, AppointmentStatus::Cancelled] {
                        option value=(s.as_str()) selected[status == s.as_str()] { (s.label()) }
                    }
                }
            }
            button.primary type="submit" { "Save the appointment" }
            p.hint { "For an attended session the client is sent the questionnaire after the usual delay, unless they opted out." }
        }
    }
}
