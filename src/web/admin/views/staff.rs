//! Admin → Staff: everyone with their role and team, and the form to add
//! a member of staff, from what the handler read.

use maud::{Markup, html};
use serde::Deserialize;

use crate::security;
use crate::store::staff::{Role, StaffMember, Team};
use crate::web::views::layout::{form_error, notice};
use crate::web::views::local_time;

/// What the form to add a member of staff sends, and shows again with a
/// problem.
#[derive(Deserialize, Default)]
pub struct NewStaffForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub team: String,
    #[serde(default)]
    pub password: String,
}

/// What the Staff page shows.
pub struct StaffPage<'a> {
    pub csrf: &'a str,
    pub message: Option<&'a str>,
    pub error: Option<&'a str>,
    /// Everyone, each with their team's name.
    pub members: &'a [(StaffMember, Option<String>)],
    pub teams: &'a [Team],
    /// Whether the clinic has set its own help line (a reminder until then).
    pub help_line_set: bool,
    pub form: &'a NewStaffForm,
    pub tz: chrono_tz::Tz,
}

/// The page's content.
pub fn body(page: &StaffPage) -> Markup {
    let StaffPage {
        csrf,
        message,
        error,
        members,
        teams,
        help_line_set,
        form,
        tz,
    } = *page;
    html! {
        @if let Some(m) = message { (notice(m)) }
        @if !help_line_set {
            p.warning role="status" {
                "Clients still see a general help line beside the survey's comment box. "
                a href="/admin/safety#help-line" { "Set your clinic's own line" } "."
            }
        }
        section {
            h2 { "Staff (" (members.len()) ")" }
            table.cards {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Team" } th scope="col" { "Last signed in" } } }
                tbody {
                    @for (m, team) in members {
                        tr {
                            td data-label="Name" { a href={ "/admin/staff/" (m.id) } { (m.name) } @if !m.active { " " span.badge { "inactive" } } }
                            td data-label="Email" { (m.email) }
                            td data-label="Role" { (m.role().label()) }
                            td data-label="Team" { (team.as_deref().unwrap_or("—")) }
                            td data-label="Last signed in" { (m.last_sign_in_at.map(|t| local_time(t, tz)).unwrap_or_else(|| "never".into())) }
                        }
                    }
                }
            }
        }
        section {
            h2 #add { "Add a member of staff" }
            @if let Some(e) = error { (form_error(e)) }
            (new_staff_form(csrf, teams, form))
        }
    }
}

fn new_staff_form(csrf: &str, teams: &[Team], form: &NewStaffForm) -> Markup {
    html! {
        form.stack method="post" action="/admin/staff" {
            input type="hidden" name="csrf" value=(csrf);
            div.field { label for="name" { "Full name" } input #name name="name" value=(form.name) required autocomplete="off"; }
            div.field { label for="email" { "Email" } input #email type="email" name="email" value=(form.email) required autocomplete="off"; }
            div.field {
                label for="role" { "Role" }
                select #role name="role" {
                    @for role in Role::ALL {
                        option value=(role.as_str()) selected[form.role == role.as_str()] { (role.label()) }
                    }
                }
            }
            div.field {
                label for="team" { "Team (optional)" }
                input #team name="team" list="teams" value=(form.team) autocomplete="off";
                datalist #teams { @for t in teams { option value=(t.name) {} } }
            }
            div.field {
                label for="password" { "Initial password" }
                input #password type="password" name="password" required minlength=(security::MIN_PASSWORD_LEN) autocomplete="new-password" aria-describedby="password-hint";
                p.hint #password-hint { "At least " (security::MIN_PASSWORD_LEN) " characters. Give it to the person privately." }
            }
            button.primary type="submit" { "Add" }
        }
    }
}
