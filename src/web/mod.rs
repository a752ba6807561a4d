//! The HTTP side: routes per audience, auth, errors and views.
//!
//! An outer layer: may import everything below it (`context`, `actions`,
//! `json`, `store`, `domain`, …); only `cli` imports it, to start the server.

pub mod account;
pub mod admin;
pub mod api;
pub mod auth;
pub mod client_details;
pub mod clinician;
pub mod error;
pub mod input_guard;
pub mod manager;
pub mod public;
pub mod survey;
pub mod views;

use std::net::TcpListener;

use crate::context::Context;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, NormalizePath, TrailingSlash};
use actix_web::{App, HttpServer, web};
use tracing::Span;
use tracing_actix_web::{RootSpanBuilder, TracingLogger};

/// Request spans carry the route pattern (`/s/{token}`), never the path
/// itself, so no token or client identifier reaches the logs.
pub struct RedactedSpan;

impl RootSpanBuilder for RedactedSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            route = tracing::field::Empty,
            status = tracing::field::Empty
        );
        // Finding the pattern walks the route table: only when it is logged.
        if !span.is_disabled() {
            let route = request.match_pattern().unwrap_or_else(|| "(unmatched)".to_string());
            span.record("route", route.as_str());
        }
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
    }
}

/// Security headers on every response. The CSP allows no inline script and
/// no third-party origin; `no-referrer` keeps survey tokens from leaking.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=()"))
        // Pages show health data: no copy in a shared or back-button cache.
        // (Static files set their own, public, caching.)
        .add(("Cache-Control", "no-store"))
}

/// Every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(public::routes)
        .configure(account::routes)
        .configure(clinician::routes)
        .configure(client_details::routes)
        .configure(manager::routes)
        .configure(admin::routes)
        .configure(api::routes)
        .configure(survey::routes)
        .service(static_file);
}

/// The files of `static/`, built into the binary so it runs from anywhere.
const STATIC_FILES: &[(&str, &str, &[u8])] = &[
    (
        "rapport.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/rapport.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
];

#[actix_web::get("/static/{name}")]
async fn static_file(name: web::Path<String>) -> Result<actix_web::HttpResponse, error::AppError> {
    let (_, content_type, bytes) = STATIC_FILES
        .iter()
        .find(|(n, _, _)| *n == name.as_str())
        .ok_or(error::AppError::NotFound)?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(*bytes))
}

/// The answer when no route took the request: 405 when the address exists
/// but not for this method (a form posted to a page that only shows), else
/// 404.
pub async fn not_found_or_wrong_method(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    let error = if req.resource_map().has_resource(req.path()) {
        error::AppError::MethodNotAllowed(format!("{} is not accepted at this address.", req.method()))
    } else {
        error::AppError::NotFound
    };
    if req.path().starts_with("/api/") {
        error::ApiError(error).error_response()
    } else {
        error.error_response()
    }
}

/// Starts the HTTP server on an already-bound listener.
pub fn serve(state: Context, listener: TcpListener, workers: Option<usize>) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::FormConfig::default().error_handler(|err, _| {
                error::AppError::BadRequest(format!("the form could not be read: {err}")).into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                error::AppError::BadRequest(format!("the address has a wrong value: {err}")).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| error::AppError::NotFound.into()))
            .wrap(actix_web::middleware::from_fn(input_guard::guard))
            .wrap(security_headers())
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .wrap(TracingLogger::<RedactedSpan>::new())
            .configure(configure)
            .default_service(web::to(not_found_or_wrong_method))
    })
    .shutdown_timeout(10)
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}
