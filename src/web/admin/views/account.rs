//! One staff account for an admin (role, team, new password, access),
//! from what the handler read.

use maud::{Markup, html};

use crate::security;
use crate::store::staff::{Role, StaffMember, Team};
use crate::web::views::layout::{form_error, notice};
use crate::web::views::local_time;

/// What an account's page shows.
pub struct AccountPage<'a> {
    pub csrf: &'a str,
    pub member: &'a StaffMember,
    pub teams: &'a [Team],
    pub done: Option<&'a str>,
    pub error: Option<&'a str>,
    pub tz: chrono_tz::Tz,
}

/// The page's content: the account's facts and a form per change.
pub fn body(page: &AccountPage) -> Markup {
    let AccountPage {
        csrf,
        member,
        teams,
        done,
        error,
        tz,
    } = *page;
    let id = member.id;
    let team = teams
        .iter()
        .find(|t| Some(t.id) == member.team_id)
        .map(|t| t.name.clone());
    let action = format!("/admin/staff/{id}");
    html! {
        p { a href="/admin" { "← All staff" } }
        @if let Some(d) = done { (notice(d)) }
        @if let Some(e) = error { (form_error(e)) }
        dl.facts {
            div { dt { "Email" } dd { (member.email) } }
            div { dt { "Role" } dd { (member.role().label()) } }
            div { dt { "Team" } dd { (team.as_deref().unwrap_or("—")) } }
            div { dt { "State" } dd { @if member.active { "active" } @else { span.badge { "deactivated" } } } }
            div { dt { "Last signed in" } dd { (member.last_sign_in_at.map(|t| local_time(t, tz)).unwrap_or_else(|| "never".into())) } }
        }
        section {
            h2 { "Role" }
            form.stack method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="change" value="role";
                div.field {
                    label for="role" { "Role" }
                    select #role name="role" {
                        @for role in Role::ALL {
                            option value=(role.as_str()) selected[member.role() == role] { (role.label()) }
                        }
                    }
                }
                button type="submit" { "Save the role" }
            }
        }
        section {
            h2 { "Team" }
            form.stack method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="change" value="team";
                div.field {
                    label for="team" { "Team (leave empty for none)" }
                    input #team name="team" list="teams" value=(team.as_deref().unwrap_or("")) autocomplete="off";
                    datalist #teams { @for t in teams { option value=(t.name) {} } }
                }
                button type="submit" { "Save the team" }
            }
        }
        section {
            h2 { "New password" }
            form.stack method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="change" value="password";
                div.field {
                    label for="password" { "New password" }
                    input #password type="password" name="password" required minlength=(security::MIN_PASSWORD_LEN) maxlength=(security::MAX_PASSWORD_LEN) autocomplete="new-password" aria-describedby="password-hint";
                    p.hint #password-hint { "At least " (security::MIN_PASSWORD_LEN) " characters, not a common password. The person is signed out everywhere; give them the new password privately." }
                }
                button type="submit" { "Set the password" }
            }
        }
        section {
            h2 { "Access" }
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                @if member.active {
                    input type="hidden" name="change" value="deactivate";
                    p { "Deactivating ends the person's sessions at once and stops them signing in. Their clients, alerts and history stay." }
                    button type="submit" { "Deactivate the account" }
                } @else {
                    input type="hidden" name="change" value="reactivate";
                    button type="submit" { "Reactivate the account" }
                }
            }
        }
    }
}
