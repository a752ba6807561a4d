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

/// How the clinic's files write a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// 2026-03-02 (always understood).
    #[default]
    YearFirst,
    /// 02/03/2026 is 2 March, as UK systems write it.
    DayFirst,
}

impl DateOrder {
    pub const ALL: [DateOrder; 2] = [DateOrder::YearFirst, DateOrder::DayFirst];

    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::YearFirst => "yyyy-mm-dd",
            DateOrder::DayFirst => "dd/mm/yyyy",
        }
    }

    pub fn parse(text: &str) -> Option<DateOrder> {
        DateOrder::ALL.into_iter().find(|d| d.as_str() == text.trim())
    }

    /// A start time written this way (for the template and hints).
    pub fn example(self) -> &'static str {
        match self {
            DateOrder::YearFirst => "2026-03-02 14:00",
            DateOrder::DayFirst => "02/03/2026 14:00",
        }
    }
}

/// RFC 3339, or a local time in `tz`: `YYYY-MM-DD HH:MM` always, and
/// `DD/MM/YYYY HH:MM` (also with `-` or `.`) when the clinic's files are
/// day-first.
pub fn parse_local_time(text: &str, tz: chrono_tz::Tz, order: DateOrder) -> Result<NaiveDateTime, String> {
    use chrono::TimeZone;
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return check_time(t.naive_utc());
    }
    let year_first = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ];
    let day_first = [
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d-%m-%Y %H:%M",
        "%d.%m.%Y %H:%M",
    ];
    let formats: &[&str] = match order {
        DateOrder::YearFirst => &year_first,
        DateOrder::DayFirst => &[year_first.as_slice(), day_first.as_slice()].concat(),
    };
    for format in formats {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            check_time(local)?;
            return tz
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.naive_utc())
                .ok_or_else(|| format!("“{text}” does not exist in {tz} (a daylight-saving change)"));
        }
    }
    let looks_day_first = day_first.iter().any(|f| NaiveDateTime::parse_from_str(text, f).is_ok());
    if order == DateOrder::YearFirst && looks_day_first {
        return Err(format!(
            "“{text}” is written day-first; if your files write dates as dd/mm/yyyy, choose that under “Dates in your files”"
        ));
    }
    Err(format!(
        "“{text}” is not a time such as {} or 2026-03-02T14:00:00Z",
        order.example()
    ))
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

    #[test]
    fn local_times_in_either_order() {
        let utc = chrono_tz::UTC;
        // Year-first is understood either way; day-first only when chosen.
        assert!(parse_local_time("2026-03-02 10:00", utc, DateOrder::DayFirst).is_ok());
        assert!(parse_local_time("2026-03-02T10:00:00Z", utc, DateOrder::YearFirst).is_ok());
        let day_first = parse_local_time("13/02/2026 09:00", utc, DateOrder::DayFirst).unwrap();
        assert_eq!(day_first.to_string(), "2026-02-13 09:00:00");
        assert!(parse_local_time("31/04/2026 09:00", utc, DateOrder::DayFirst).is_err());
        assert!(
            parse_local_time("13/02/2026 09:00", utc, DateOrder::YearFirst)
                .unwrap_err()
                .contains("day-first")
        );
        assert!(
            parse_local_time("0001-01-01 09:00", utc, DateOrder::YearFirst)
                .unwrap_err()
                .contains("outside")
        );
        // A clock change: 01:30 on the last Sunday of March does not exist in London.
        let gap = parse_local_time("2026-03-29 01:30", chrono_tz::Europe::London, DateOrder::YearFirst);
        assert!(gap.unwrap_err().contains("daylight-saving"));
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
