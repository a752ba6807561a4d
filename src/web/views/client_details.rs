//! A client's contact details, for their clinician or an admin: the form.

use maud::{Markup, html};

use super::layout::{form_error, notice};
use crate::store::clients::Client;

/// What the form shows: the stored details, or what was typed.
pub struct Fields<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub time_zone: &'a str,
    pub language: &'a str,
}

/// The form, with "Saved." or a problem above it and a way back: to Email
/// delivery for an admin, to the client's page for their clinician.
pub fn body(csrf: &str, client: &Client, fields: &Fields, admin: bool, saved: bool, error: Option<&str>) -> Markup {
    let back: Markup = if admin {
        html! { a href="/admin/email" { "Back to Email delivery" } }
    } else {
        html! { a href={ "/clinician/clients/" (client.id) } { "Back to " (client.name) "'s page" } }
    };
    html! {
        @if saved { (notice("Saved. Emails still waiting for this client go to the address above; a failed one can be retried on Email delivery.")) }
        @if let Some(e) = error { (form_error(e)) }
        form.stack method="post" action={ "/clients/" (client.id) "/details" } {
            input type="hidden" name="csrf" value=(csrf);
            div.field { label for="name" { "Name" } input #name name="name" value=(fields.name) required maxlength="200" autocomplete="off"; }
            div.field {
                label for="email" { "Email" }
                input #email type="email" name="email" value=(fields.email) autocomplete="off" aria-describedby="email-hint";
                p.hint #email-hint { "Where questionnaires go. Leave empty for no emails." }
            }
            div.field {
                label for="time_zone" { "Time zone" }
                input #time_zone name="time_zone" value=(fields.time_zone) autocomplete="off" aria-describedby="tz-hint";
                p.hint #tz-hint { "For example Europe/London. Empty: the clinic's. Quiet hours follow it." }
            }
            div.field {
                label for="language" { "Language" }
                input #language name="language" value=(fields.language) required maxlength="20" autocomplete="off" aria-describedby="lang-hint";
                p.hint #lang-hint { "A language tag such as en, cy, pl or ar." }
            }
            button.primary type="submit" { "Save the details" }
        }
        p { (back) }
    }
}
