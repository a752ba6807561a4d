//! Weeks and months in the clinic's time zone, and what a manager asked
//! the dashboard to show.
//!
//! A week starts on Monday (the UK convention the clinic uses: "week
//! commencing"); a month on its first day. Both start at local midnight, so a
//! period lasts 167, 168 or 169 hours across daylight-saving changes, and a
//! week can straddle the turn of the year.

use chrono::{Datelike, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// How figures are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grouping {
    Week,
    Month,
}

impl Grouping {
    pub const ALL: [Grouping; 2] = [Grouping::Week, Grouping::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Week => "week",
            Grouping::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Grouping> {
        Grouping::ALL
            .into_iter()
            .find(|g| g.as_str() == s.trim().to_ascii_lowercase())
    }

    pub fn label(self) -> &'static str {
        match self {
            Grouping::Week => "By week",
            Grouping::Month => "By month",
        }
    }
}

/// How figures are split: the whole clinic, or one line per team,
/// instrument or clinician.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Breakdown {
    Clinic,
    Team,
    Instrument,
    Clinician,
}

impl Breakdown {
    pub const ALL: [Breakdown; 4] = [
        Breakdown::Clinic,
        Breakdown::Team,
        Breakdown::Instrument,
        Breakdown::Clinician,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Breakdown::Clinic => "clinic",
            Breakdown::Team => "team",
            Breakdown::Instrument => "instrument",
            Breakdown::Clinician => "clinician",
        }
    }

    pub fn parse(s: &str) -> Option<Breakdown> {
        Breakdown::ALL
            .into_iter()
            .find(|b| b.as_str() == s.trim().to_ascii_lowercase())
    }

    pub fn label(self) -> &'static str {
        match self {
            Breakdown::Clinic => "Whole clinic",
            Breakdown::Team => "Per team",
            Breakdown::Instrument => "Per questionnaire",
            Breakdown::Clinician => "Per clinician",
        }
    }
}

/// One week or month, named by its first local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub grouping: Grouping,
    pub start: NaiveDate,
}

impl Period {
    /// The period a local date falls in.
    pub fn of_date(grouping: Grouping, date: NaiveDate) -> Period {
        let start = match grouping {
            Grouping::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
            Grouping::Month => date.with_day(1).unwrap_or(date),
        };
        Period { grouping, start }
    }

    /// The period a UTC instant falls in, in the clinic's time zone.
    pub fn containing(grouping: Grouping, at_utc: NaiveDateTime, tz: Tz) -> Period {
        Period::of_date(grouping, tz.from_utc_datetime(&at_utc).date_naive())
    }

    pub fn next(self) -> Period {
        let start = match self.grouping {
            Grouping::Week => self.start + Duration::days(7),
            Grouping::Month => self.start.checked_add_months(Months::new(1)).unwrap_or(self.start),
        };
        Period {
            grouping: self.grouping,
            start,
        }
    }

    /// The last local day of the period.
    pub fn last_day(self) -> NaiveDate {
        self.next().start - Duration::days(1)
    }

    /// The period as UTC instants: `start <= t < end`.
    pub fn utc_bounds(self, tz: Tz) -> (NaiveDateTime, NaiveDateTime) {
        (
            local_midnight_utc(self.start, tz),
            local_midnight_utc(self.next().start, tz),
        )
    }

    /// "Mar 2026", or "w/c 2 Mar 2026" (week commencing).
    pub fn label(self) -> String {
        match self.grouping {
            Grouping::Week => format!("w/c {}", self.start.format("%-d %b %Y")),
            Grouping::Month => self.start.format("%b %Y").to_string(),
        }
    }

    /// A label short enough for a chart axis: "Mar 2026" or "2 Mar".
    pub fn short_label(self) -> String {
        match self.grouping {
            Grouping::Week => self.start.format("%-d %b").to_string(),
            Grouping::Month => self.start.format("%b %Y").to_string(),
        }
    }
}

/// The first instant of a local day, as UTC: local midnight, or — where a
/// daylight-saving change skips midnight — the first local time that exists.
pub fn local_midnight_utc(date: NaiveDate, tz: Tz) -> NaiveDateTime {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => t.naive_utc(),
        LocalResult::Ambiguous(earliest, _) => earliest.naive_utc(),
        // Gaps last an hour or two (a whole day at most, as in Samoa in
        // 2011); the first minute that exists is the day's first instant.
        LocalResult::None => (1..=(26 * 60))
            .find_map(|m| tz.from_local_datetime(&(midnight + Duration::minutes(m))).earliest())
            .map(|t| t.naive_utc())
            .unwrap_or(midnight),
    }
}

/// Every period from the one holding `first` to the one holding `last`.
pub fn periods_between(grouping: Grouping, first: NaiveDate, last: NaiveDate) -> Vec<Period> {
    let mut out = vec![];
    let mut p = Period::of_date(grouping, first);
    while p.start <= last {
        out.push(p);
        p = p.next();
    }
    out
}

/// The longest range the dashboard draws, in periods (three years by week,
/// thirteen by month): enough for any trend, small enough to stay readable.
pub const MAX_PERIODS: usize = 160;

/// What the dashboard shows: whole periods from `first` to `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    pub grouping: Grouping,
    pub breakdown: Breakdown,
    pub first: Period,
    pub last: Period,
}

impl Selection {
    pub fn periods(&self) -> Vec<Period> {
        periods_between(self.grouping, self.first.start, self.last.start)
    }

    pub fn first_day(&self) -> NaiveDate {
        self.first.start
    }

    pub fn last_day(&self) -> NaiveDate {
        self.last.last_day()
    }
}

/// The raw request: each part may be missing or empty (a form sends
/// `from=` when the field is left blank).
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectionInput<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub group: Option<&'a str>,
    pub breakdown: Option<&'a str>,
}

/// Reads a selection, filling in defaults: by month, the whole clinic, the
/// twelve periods up to `today`. The range is widened to whole periods.
/// Errors are one sentence for the person who asked.
pub fn parse_selection(input: &SelectionInput, today: NaiveDate) -> Result<Selection, String> {
    let grouping = match given(input.group) {
        None => Grouping::Month,
        Some(g) => Grouping::parse(g).ok_or_else(|| format!("“Group by” must be week or month, not “{g}”."))?,
    };
    let breakdown = match given(input.breakdown) {
        None => Breakdown::Clinic,
        Some(b) => Breakdown::parse(b)
            .ok_or_else(|| format!("“Show” must be clinic, team, instrument or clinician, not “{b}”."))?,
    };
    let date = |label: &str, v: &str| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| format!("“{label}” must be a date written like 2026-03-31, not “{v}”."))
            .and_then(|d| crate::domain::dates::check_date(d).map_err(|e| format!("“{label}”: {e}.")))
    };
    let to = match given(input.to) {
        Some(v) => date("To", v)?,
        None => today,
    };
    let last = Period::of_date(grouping, to);
    let first = match given(input.from) {
        Some(v) => Period::of_date(grouping, date("From", v)?),
        None => {
            let mut p = last;
            for _ in 1..12 {
                p = previous(p);
            }
            p
        }
    };
    if first.start > last.start {
        return Err("“From” must be on or before “To”.".into());
    }
    let count = periods_between(grouping, first.start, last.start).len();
    if count > MAX_PERIODS {
        return Err(format!(
            "That range has {count} {}s; choose at most {MAX_PERIODS}.",
            grouping.as_str()
        ));
    }
    Ok(Selection {
        grouping,
        breakdown,
        first,
        last,
    })
}

/// A value that was given and is not blank.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

fn previous(p: Period) -> Period {
    Period::of_date(p.grouping, p.start - Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
        d(y, m, day).and_hms_opt(h, min, 0).unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_cross_the_year() {
        // Thursday 1 January 2026 is in the week commencing Monday 29 December 2025.
        let p = Period::of_date(Grouping::Week, d(2026, 1, 1));
        assert_eq!(p.start, d(2025, 12, 29));
        assert_eq!(p.last_day(), d(2026, 1, 4));
        assert_eq!(p.label(), "w/c 29 Dec 2025");
        assert_eq!(p.next().start, d(2026, 1, 5));
    }

    #[test]
    fn months_roll_over_the_year() {
        let p = Period::of_date(Grouping::Month, d(2025, 12, 31));
        assert_eq!(p.start, d(2025, 12, 1));
        assert_eq!(p.next().start, d(2026, 1, 1));
        assert_eq!(p.label(), "Dec 2025");
        assert_eq!(
            Period::of_date(Grouping::Month, d(2024, 2, 29)).last_day(),
            d(2024, 2, 29)
        );
    }

    #[test]
    fn the_clinic_time_zone_decides_the_period() {
        let london: Tz = "Europe/London".parse().unwrap();
        // 23:30 UTC on 31 March 2026 is 00:30 on 1 April in London (summer time).
        let p = Period::containing(Grouping::Month, utc(2026, 3, 31, 23, 30), london);
        assert_eq!(p.start, d(2026, 4, 1));
        // In winter London is on UTC: 23:30 on 31 January stays in January.
        let p = Period::containing(Grouping::Month, utc(2026, 1, 31, 23, 30), london);
        assert_eq!(p.start, d(2026, 1, 1));
        // Sydney is ahead: Sunday 22:00 UTC is already Monday there.
        let sydney: Tz = "Australia/Sydney".parse().unwrap();
        let p = Period::containing(Grouping::Week, utc(2026, 3, 1, 22, 0), sydney);
        assert_eq!(p.start, d(2026, 3, 2));
    }

    #[test]
    fn weeks_across_daylight_saving_changes_last_167_or_169_hours() {
        let london: Tz = "Europe/London".parse().unwrap();
        // Clocks go forward on Sunday 29 March 2026.
        let (start, end) = Period::of_date(Grouping::Week, d(2026, 3, 23)).utc_bounds(london);
        assert_eq!(start, utc(2026, 3, 23, 0, 0));
        assert_eq!(end, utc(2026, 3, 29, 23, 0));
        assert_eq!((end - start).num_hours(), 167);
        // And back on Sunday 25 October 2026.
        let (start, end) = Period::of_date(Grouping::Week, d(2026, 10, 19)).utc_bounds(london);
        assert_eq!((end - start).num_hours(), 169);
        assert_eq!(start, utc(2026, 10, 18, 23, 0));
    }

    #[test]
    fn a_day_that_starts_after_a_midnight_gap_starts_when_the_gap_ends() {
        // São Paulo skipped from 00:00 to 01:00 on 4 November 2018.
        let sao_paulo: Tz = "America/Sao_Paulo".parse().unwrap();
        assert_eq!(local_midnight_utc(d(2018, 11, 4), sao_paulo), utc(2018, 11, 4, 3, 0));
        // Samoa skipped 30 December 2011 entirely.
        let apia: Tz = "Pacific/Apia".parse().unwrap();
        assert_eq!(
            local_midnight_utc(d(2011, 12, 30), apia),
            local_midnight_utc(d(2011, 12, 31), apia)
        );
    }

    #[test]
    fn default_selection_is_the_last_twelve_months_for_the_whole_clinic() {
        let s = parse_selection(&SelectionInput::default(), d(2026, 3, 15)).unwrap();
        assert_eq!(s.grouping, Grouping::Month);
        assert_eq!(s.breakdown, Breakdown::Clinic);
        assert_eq!(s.first_day(), d(2025, 4, 1));
        assert_eq!(s.last_day(), d(2026, 3, 31));
        assert_eq!(s.periods().len(), 12);
        let weeks = parse_selection(
            &SelectionInput {
                group: Some("week"),
                ..Default::default()
            },
            d(2026, 3, 15),
        )
        .unwrap();
        assert_eq!(weeks.periods().len(), 12);
        assert_eq!(weeks.last.start, d(2026, 3, 9));
    }

    #[test]
    fn ranges_widen_to_whole_periods() {
        let input = SelectionInput {
            from: Some("2026-01-15"),
            to: Some("2026-02-03"),
            group: Some("month"),
            breakdown: Some("team"),
        };
        let s = parse_selection(&input, d(2026, 3, 15)).unwrap();
        assert_eq!((s.first_day(), s.last_day()), (d(2026, 1, 1), d(2026, 2, 28)));
        assert_eq!(s.breakdown, Breakdown::Team);
    }

    #[test]
    fn bad_input_is_named_in_one_sentence() {
        let today = d(2026, 3, 15);
        let bad = |from, to, group, breakdown| {
            parse_selection(
                &SelectionInput {
                    from,
                    to,
                    group,
                    breakdown,
                },
                today,
            )
            .unwrap_err()
        };
        assert!(bad(Some("15/01/2026"), None, None, None).contains("“From” must be a date"));
        assert!(bad(None, Some("2026-02-30"), None, None).contains("“To” must be a date"));
        assert!(bad(None, None, Some("fortnight"), None).contains("week or month"));
        assert!(bad(None, None, None, Some("client")).contains("clinic, team, instrument or clinician"));
        assert!(bad(Some("2026-03-01"), Some("2026-01-01"), None, None).contains("on or before"));
        assert!(bad(Some("2000-01-01"), Some("2026-01-01"), Some("week"), None).contains("at most 160"));
        // Blank fields are the defaults, not errors.
        assert!(
            parse_selection(
                &SelectionInput {
                    from: Some(""),
                    to: Some(" "),
                    ..Default::default()
                },
                today
            )
            .is_ok()
        );
    }

    const ZONES: [&str; 6] = [
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "America/Sao_Paulo",
        "UTC",
    ];

    proptest! {
        #[test]
        fn every_instant_lies_inside_the_bounds_of_its_period(
            secs in 946_684_800i64..2_208_988_800i64,
            zone in 0usize..ZONES.len(),
            week in any::<bool>(),
        ) {
            let tz: Tz = ZONES[zone].parse().unwrap();
            let grouping = if week { Grouping::Week } else { Grouping::Month };
            let at = chrono::DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
            let p = Period::containing(grouping, at, tz);
            let (start, end) = p.utc_bounds(tz);
            prop_assert!(start <= at && at < end, "{at} in {p:?} = [{start}, {end})");
            // Periods tile time: this one ends where the next begins.
            prop_assert_eq!(p.next().utc_bounds(tz).0, end);
            let hours = (end - start).num_hours();
            match grouping {
                Grouping::Week => prop_assert!((166..=170).contains(&hours), "{hours}"),
                Grouping::Month => prop_assert!((27 * 24..=31 * 24 + 1).contains(&hours), "{hours}"),
            }
        }

        #[test]
        fn a_selection_covers_its_dates_with_contiguous_periods(
            from in 0i64..4000, len in 0i64..700, week in any::<bool>(),
        ) {
            let first = d(2020, 1, 1) + Duration::days(from);
            let last = first + Duration::days(len);
            let grouping = if week { Grouping::Week } else { Grouping::Month };
            let input = SelectionInput {
                from: Some(&first.to_string()),
                to: Some(&last.to_string()),
                group: Some(grouping.as_str()),
                breakdown: None,
            };
            let s = parse_selection(&input, last).unwrap();
            prop_assert!(s.first_day() <= first && last <= s.last_day());
            let periods = s.periods();
            for pair in periods.windows(2) {
                prop_assert_eq!(pair[0].next(), pair[1]);
            }
            prop_assert_eq!(periods.first().copied(), Some(s.first));
            prop_assert_eq!(periods.last().copied(), Some(s.last));
        }
    }
}
