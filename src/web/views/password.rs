//! One's own password: the form to change it.

use maud::{Markup, html};

use super::layout::{form_error, notice};
use crate::security;

/// The form, with `done` or `error` above it; `email` lets a password
/// manager file the new password under the right account.
pub fn body(csrf: &str, email: &str, done: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        @if let Some(d) = done { (notice(d)) }
        @if let Some(e) = error { (form_error(e)) }
        form.stack method="post" action="/account/password" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="username" value=(email) autocomplete="username";
            div.field {
                label for="current" { "Current password" }
                input #current type="password" name="current" required maxlength=(security::MAX_PASSWORD_LEN) autocomplete="current-password";
            }
            div.field {
                label for="new" { "New password" }
                input #new type="password" name="new" required minlength=(security::MIN_PASSWORD_LEN) maxlength=(security::MAX_PASSWORD_LEN) autocomplete="new-password" aria-describedby="new-hint";
                p.hint #new-hint { "At least " (security::MIN_PASSWORD_LEN) " characters. A few unrelated words are easy to remember and hard to guess; common passwords are refused. You stay signed in here and are signed out everywhere else." }
            }
            button.primary type="submit" { "Change my password" }
        }
    }
}
