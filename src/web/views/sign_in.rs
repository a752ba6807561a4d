//! The staff sign-in page.

use maud::{Markup, html};

use super::layout::{form_error, plain_page};

/// The sign-in page; with the demo clinic, its logins above the form.
pub fn page(email: &str, error: Option<&str>, demo: bool) -> Markup {
    plain_page(
        "Sign in",
        html! {
            div.card.narrow {
                h1 { "Sign in to Rapport" }
                p.muted { "For clinic staff. Clients answer through the link in their email and never need to sign in." }
                @if demo {
                    section.demo-logins aria-labelledby="demo-logins" {
                        h2 #demo-logins { "Demo logins" }
                        p { "This server was started with the demo clinic. Every demo account's password is " strong { code { (crate::demo::DEMO_PASSWORD) } } "." }
                        ul {
                            @for login in crate::demo::LOGINS {
                                li { code { (login.email) } " — " (login.role.label()) @if let Some(t) = login.team { " (" (t) ")" } }
                            }
                        }
                    }
                }
                @if let Some(e) = error { (form_error(e)) }
                form method="post" action="/sign-in" {
                    div.field {
                        label for="email" { "Email" }
                        input #email type="email" name="email" value=(email) autocomplete="username" required;
                    }
                    div.field {
                        label for="password" { "Password" }
                        input #password type="password" name="password" autocomplete="current-password" required;
                    }
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    )
}
