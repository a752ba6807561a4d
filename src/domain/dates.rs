//! The range of dates Rapport accepts from outside. chrono can hold years
//! from -262,143 to 262,142, but a clinic's appointments and filters do
//! not, and extreme years overflow the date arithmetic of trends and
//! schedules further on. Every date that comes in is checked here.

use chrono::{Datelike, NaiveDate, NaiveDateTime};

pub const EARLIEST_YEAR: i32 = 1900;
pub const LATEST_YEAR: i32 = 2200;

/// The date itself, or why it is refused.
pub fn check_date(date: NaiveDate) -> Result<NaiveDate, String> {
    if (EARLIEST_YEAR..=LATEST_YEAR).contains(&date.year()) {
        Ok(date)
    } else {
        Err(format!(
            "{date} is outside the dates Rapport accepts ({EARLIEST_YEAR}-01-01 to {LATEST_YEAR}-12-31)"
        ))
    }
}

/// A date typed as YYYY-MM-DD (as a date field sends it), in range.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("“{}” is not a date written as YYYY-MM-DD", text.trim()))?;
    check_date(date)
}

pub fn check_time(time: NaiveDateTime) -> Result<NaiveDateTime, String> {
    check_date(time.date()).map(|_| time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_ends_of_the_range() {
        let day = |y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap();
        assert!(check_date(day(1900)).is_ok());
        assert!(check_date(NaiveDate::from_ymd_opt(2200, 12, 31).unwrap()).is_ok());
        assert!(check_date(day(1899)).is_err());
        assert!(check_date(day(2201)).is_err());
        assert!(check_date(NaiveDate::MIN).unwrap_err().contains("outside"));
        assert!(check_date(NaiveDate::MAX).is_err());
    }

    proptest! {
        #[test]
        fn accepted_dates_survive_a_year_of_arithmetic(days in -100_000i64..200_000) {
            let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days);
            if let Ok(d) = check_date(date) {
                prop_assert!(d.checked_add_signed(chrono::Duration::days(400)).is_some());
                prop_assert!(d.checked_sub_signed(chrono::Duration::days(400)).is_some());
            }
        }
    }
}
