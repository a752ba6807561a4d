//! Pages anyone may reach: health checks, sign-in and sign-out.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use super::auth::{self, CurrentStaff};
use super::error::AppError;
use crate::context::Context;
use crate::security;
use crate::store::{self, staff};
use crate::web::views::html_page;

/// The process is up.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database answers and every migration is applied.
#[get("/readyz")]
async fn readyz(state: web::Data<Context>) -> HttpResponse {
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

#[get("/sign-in")]
async fn sign_in_form(req: HttpRequest, state: web::Data<Context>) -> HttpResponse {
    if let Ok(staff) = CurrentStaff::extract(&req).await {
        return HttpResponse::SeeOther()
            .insert_header(("Location", staff.home()))
            .finish();
    }
    html_page(
        actix_web::http::StatusCode::OK,
        super::views::sign_in::page("", None, state.settings.demo),
    )
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
}

/// Failed attempts allowed for one account from one address within the
/// window. Counting per address means nobody can lock a colleague out by
/// guessing wrong from their own machine.
const MAX_FAILURES: i64 = 5;
/// Failed attempts allowed from one address for all accounts together.
const MAX_FAILURES_FROM_ADDRESS: i64 = 30;
const FAILURE_WINDOW_MINUTES: i64 = 15;

/// A sign-in form must come from this site: a cross-site page must not be
/// able to sign a browser in to an account of its choosing. Browsers say
/// where a request comes from in `Sec-Fetch-Site`; those that do not send
/// `Origin`, whose host must be the one the request was sent to (or the
/// public address). (With our `Referrer-Policy: no-referrer` a browser may
/// send `Origin: null`, so Sec-Fetch-Site is asked first.) Clients that
/// send neither (scripts) pass.
fn same_origin(req: &HttpRequest, base_url: &url::Url) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = header("origin") else {
        return true;
    };
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    let authority = |u: &url::Url| {
        format!(
            "{}:{}",
            u.host_str().unwrap_or(""),
            u.port_or_known_default().unwrap_or(0)
        )
    };
    if authority(&origin) == authority(base_url) {
        return true;
    }
    let host = req.connection_info().host().to_string();
    let origin_host = match origin.port() {
        Some(port) => format!("{}:{port}", origin.host_str().unwrap_or("")),
        None => origin.host_str().unwrap_or("").to_string(),
    };
    origin_host == host
}

#[post("/sign-in")]
async fn sign_in(
    req: HttpRequest,
    state: web::Data<Context>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, AppError> {
    let SignInForm { email, password } = form.into_inner();
    if !same_origin(&req, &state.settings.base_url) {
        return Err(AppError::Forbidden(
            "This sign-in form was sent from another site. Open Rapport's own sign-in page and try again.".into(),
        ));
    }
    let refuse = |message: &str, status: actix_web::http::StatusCode| {
        html_page(
            status,
            super::views::sign_in::page(&email, Some(message), state.settings.demo),
        )
    };
    if password.chars().count() > security::MAX_PASSWORD_LEN || email.len() > 320 {
        return Ok(refuse(
            "That email and password do not match an active account. Check them and try again.",
            actix_web::http::StatusCode::UNAUTHORIZED,
        ));
    }
    let address = if state.settings.trust_proxy {
        req.connection_info()
            .realip_remote_addr()
            .unwrap_or_default()
            .to_string()
    } else {
        req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()
    };
    let now = state.now();
    let since = now - chrono::Duration::minutes(FAILURE_WINDOW_MINUTES);
    // The attempt is written (and committed) before anything is counted:
    // of many guesses sent at once, at most the limit get to the check.
    let (lookup_email, lookup_address) = (email.clone(), address.clone());
    let (member, (for_account, from_address)) = state
        .db(move |conn| {
            staff::record_attempt(conn, &lookup_email, &lookup_address, now)?;
            Ok((
                staff::find_by_email(conn, &lookup_email)?,
                staff::recent_attempts(conn, &lookup_email, &lookup_address, since)?,
            ))
        })
        .await?;
    if for_account > MAX_FAILURES || from_address > MAX_FAILURES_FROM_ADDRESS {
        tracing::warn!("sign-in refused after repeated failures");
        let mut response = refuse(
            &format!(
                "Too many failed attempts. Please wait {FAILURE_WINDOW_MINUTES} minutes and try again, or ask an administrator to reset your password."
            ),
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        );
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(FAILURE_WINDOW_MINUTES * 60),
        );
        return Ok(response);
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
                    staff::clear_attempts(conn, &mail, &address)
                })
                .await?;
            tracing::info!(staff_id = member.id.get(), "signed in");
            Ok(HttpResponse::SeeOther()
                .cookie(auth::new_session_cookie(&state, &member, now))
                .insert_header(("Location", auth::home_for(member.role())))
                .finish())
        }
        None => Ok(refuse(
            "That email and password do not match an active account. Check them and try again.",
            actix_web::http::StatusCode::UNAUTHORIZED,
        )),
    }
}

#[derive(Deserialize)]
struct SignOutForm {
    csrf: String,
}

#[post("/sign-out")]
async fn sign_out(
    state: web::Data<Context>,
    staff: CurrentStaff,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, AppError> {
    if !auth::constant_time_eq(form.csrf.as_bytes(), staff.csrf.as_bytes()) {
        return Err(AppError::Forbidden(
            "This form has expired. Reload the page and try again.".into(),
        ));
    }
    // Ends this session and every copy of its cookie (and the person's
    // sessions on other devices): the cookie alone proves nothing after.
    let id = staff.id();
    state.db(move |conn| staff::end_sessions(conn, id)).await?;
    tracing::info!(staff_id = id.get(), "signed out");
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
