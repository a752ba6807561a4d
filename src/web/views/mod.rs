//! maud layouts and shared components.

pub mod chart;
pub mod client_details;
pub mod layout;
pub mod password;
pub mod sign_in;

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

/// A score as staff read it: a whole number without decimals, any other
/// to one decimal.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        (v as i64).to_string()
    } else {
        format!("{v:.1}")
    }
}

/// A UTC time shown in the clinic's time zone, e.g. "Tue 3 Mar 2026, 14:05".
pub fn local_time(t: NaiveDateTime, tz: Tz) -> String {
    t.and_utc().with_timezone(&tz).format("%a %-d %b %Y, %H:%M").to_string()
}

pub fn local_date(t: NaiveDateTime, tz: Tz) -> String {
    t.and_utc().with_timezone(&tz).format("%-d %b %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn scores_read_as_whole_numbers_or_one_decimal() {
        assert_eq!(number(36.0), "36");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(35.25), "35.2");
        assert_eq!(number(7.5), "7.5");
        assert_eq!(number(1e20), "100000000000000000000.0");
    }
}
