//! Page shells: staff pages, client pages and error pages.

use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use crate::store::staff::Role;
use crate::web::auth::CurrentStaff;

/// Navigation for each role: (path, label).
fn nav_for(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Clinician => &[
            ("/clinician", "Alerts"),
            ("/clinician/clients", "My clients"),
            ("/clinician/settings", "Alert emails"),
        ],
        Role::Manager => &[
            ("/manager", "Service overview"),
            ("/manager/exports", "Exports"),
            ("/manager/team-access", "Team access"),
        ],
        Role::Admin => &[
            ("/admin", "Staff"),
            ("/manager", "Trends"),
            ("/admin/appointments", "Appointments"),
            ("/admin/email", "Email"),
            ("/admin/webhooks", "Integrations"),
            ("/admin/safety", "Safety"),
            ("/admin/privacy", "Privacy"),
            ("/admin/audit", "Audit log"),
        ],
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Rapport" }
            link rel="stylesheet" href="/static/rapport.css";
            link rel="icon" href="/static/favicon.svg" type="image/svg+xml";
        }
    }
}

/// A page for a signed-in member of staff.
pub fn staff_page(staff: &CurrentStaff, clinic: &str, current_path: &str, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.staff {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    div.brand { span.logo aria-hidden="true" { "◐" } " Rapport " span.clinic { "· " (clinic) } }
                    nav aria-label="Main" {
                        ul {
                            @for (path, label) in nav_for(staff.role()) {
                                li {
                                    @if *path == current_path {
                                        a href=(path) aria-current="page" { (label) }
                                    } @else {
                                        a href=(path) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    div.who {
                        a href="/account/password" title="Change your password" { (staff.member.name) } " (" (staff.role().label()) ")"
                        form method="post" action="/sign-out" {
                            input type="hidden" name="csrf" value=(staff.csrf);
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
                footer.site {
                    p { "Rapport alerts support clinical judgement; they never replace it." }
                }
            }
        }
    }
}

/// A page with no signed-in user (sign-in, errors).
pub fn plain_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.plain {
                main #main {
                    (body)
                }
            }
        }
    }
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Markup {
    plain_page(
        title,
        html! {
            div.card {
                h1 { (title) }
                p { (message) }
                p.muted { "Error " (status.as_u16()) }
                p { a href="/" { "Go to the start page" } }
            }
        },
    )
}

/// A line of feedback after an action (shown once, from a query flag).
pub fn notice(text: &str) -> Markup {
    html! { p.notice role="status" { (text) } }
}

pub fn form_error(text: &str) -> Markup {
    html! { p.error role="alert" { (text) } }
}
