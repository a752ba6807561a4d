//! Pages anyone may reach: health checks, sign-in and sign-out.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use maud::html;
use serde::Deserialize;

use super::auth::{self, CurrentStaff, Session};
use super::error::AppError;
use super::state::AppState;
use super::views::layout::{form_error, plain_page};
use crate::security;
use crate::store::{self, staff};

/// The process is up.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database answers and every migration is applied.
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let result = state
        .db(|conn| {
            let applied = store::connection::migrations_applied(conn)?;
            store::connection::check_writable(conn)?;
            Ok(applied)
        })
        .await;
    match result {
        Ok(true) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Ok(false) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("migrations pending"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unreachable or not writable")
        }
    }
}

#[get("/")]
async fn root(req: HttpRequest) -> HttpResponse {
    let target = match CurrentStaff::extract(&req).await {
        Ok(staff) => staff.home(),
        Err(_) => "/sign-in",
    };
    HttpResponse::SeeOther().insert_header(("Location", target)).finish()
}

use actix_web::FromRequest;

fn sign_in_page(email: &str, error: Option<&str>) -> maud::Markup {
    plain_page(
        "Sign in",
        html! {
            div.card.narrow {
                h1 { "Sign in to Rapport" }
                p.muted { "For clinic staff. Clients answer through the link in their email and never need to sign in." }
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

#[get("/sign-in")]
async fn sign_in_form(req: HttpRequest) -> HttpResponse {
    if let Ok(staff) = CurrentStaff::extract(&req).await {
        return HttpResponse::SeeOther()
            .insert_header(("Location", staff.home()))
            .finish();
    }
    html_ok(sign_in_page("", None))
}

fn html_ok(markup: maud::Markup) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
}

/// Failed attempts allowed for one email within the window before the
/// next is refused.
const MAX_FAILURES: i64 = 4;
const FAILURE_WINDOW_MINUTES: i64 = 15;

#[post("/sign-in")]
async fn sign_in(state: web::Data<AppState>, form: web::Form<SignInForm>) -> Result<HttpResponse, AppError> {
    let SignInForm { email, password } = form.into_inner();
    let now = state.now();
    let since = now - chrono::Duration::minutes(FAILURE_WINDOW_MINUTES);
    let lookup_email = email.clone();
    let (member, failures) = state
        .db(move |conn| {
            Ok((
                staff::find_by_email(conn, &lookup_email)?,
                staff::recent_failures(conn, &lookup_email, since)?,
            ))
        })
        .await?;
    if failures >= MAX_FAILURES {
        tracing::warn!("sign-in refused after repeated failures");
        let page = sign_in_page(
            &email,
            Some(&format!(
                "Too many failed attempts for this account. Please wait {FAILURE_WINDOW_MINUTES} minutes and try again, or ask an administrator to reset your password."
            )),
        );
        return Ok(HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", (FAILURE_WINDOW_MINUTES * 60).to_string()))
            .content_type("text/html; charset=utf-8")
            .body(page.into_string()));
    }
    let hash = member.as_ref().filter(|m| m.active).map(|m| m.password_hash.clone());
    let ok =
        web::block(move || security::verify_password(&password, hash.as_deref().unwrap_or(security::decoy_hash())))
            .await?;
    match member.filter(|m| m.active && ok) {
        Some(member) => {
            let (id, mail) = (member.id, member.email.clone());
            state
                .db(move |conn| {
                    staff::record_sign_in(conn, id, now)?;
                    staff::clear_failures(conn, &mail)
                })
                .await?;
            let session = Session {
                staff_id: member.id,
                csrf: auth::new_csrf_token(),
                issued_at: now.and_utc().timestamp(),
            };
            tracing::info!(staff_id = member.id, "signed in");
            Ok(HttpResponse::SeeOther()
                .cookie(auth::session_cookie(
                    &session,
                    &state.cookie_key,
                    state.settings.secure_cookies(),
                ))
                .insert_header(("Location", auth::home_for(member.role())))
                .finish())
        }
        None => {
            let failed_email = email.clone();
            state
                .db(move |conn| staff::record_failure(conn, &failed_email, now))
                .await?;
            let page = sign_in_page(
                &email,
                Some("That email and password do not match an active account. Check them and try again."),
            );
            Ok(HttpResponse::Unauthorized()
                .content_type("text/html; charset=utf-8")
                .body(page.into_string()))
        }
    }
}

#[derive(Deserialize)]
struct SignOutForm {
    csrf: String,
}

#[post("/sign-out")]
async fn sign_out(
    state: web::Data<AppState>,
    staff: CurrentStaff,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, AppError> {
    if !auth::constant_time_eq(form.csrf.as_bytes(), staff.csrf.as_bytes()) {
        return Err(AppError::Forbidden(
            "This form has expired. Reload the page and try again.".into(),
        ));
    }
    Ok(HttpResponse::SeeOther()
        .cookie(auth::removal_cookie(state.settings.secure_cookies()))
        .insert_header(("Location", "/sign-in"))
        .finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(root)
        .service(sign_in_form)
        .service(sign_in)
        .service(sign_out);
}
