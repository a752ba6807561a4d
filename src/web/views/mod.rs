//! maud layouts and shared components.

pub mod chart;
pub mod layout;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use maud::Markup;

/// The response for a whole HTML page (staff, sign-in or error page):
/// the one place a page becomes a response.
pub fn html_page(status: StatusCode, page: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.into_string())
}

/// A UTC time shown in the clinic's time zone, e.g. "Tue 3 Mar 2026, 14:05".
pub fn local_time(t: NaiveDateTime, tz: Tz) -> String {
    t.and_utc().with_timezone(&tz).format("%a %-d %b %Y, %H:%M").to_string()
}

pub fn local_date(t: NaiveDateTime, tz: Tz) -> String {
    t.and_utc().with_timezone(&tz).format("%-d %b %Y").to_string()
}

/// A CSV cell a spreadsheet must never read as a formula.
pub fn spreadsheet_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}
