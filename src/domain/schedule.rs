//! When a client's questionnaire goes out: a delay after the session,
//! never in quiet hours of the client's own time zone, one reminder, and
//! an expiry. Pure: the caller supplies times and settings.

use chrono::{Duration, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Hours during which no client email is sent, in the client's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRules {
    pub delay: Duration,
    pub quiet_hours: Option<QuietHours>,
    pub reminder_after: Duration,
    pub expires_after: Duration,
}

/// The moments of one invitation, all UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationTimes {
    pub send_at: NaiveDateTime,
    pub reminder_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Moves a UTC moment to the end of the quiet hours when it falls inside
/// them (in `tz`); leaves it alone otherwise.
pub fn out_of_quiet_hours(at: NaiveDateTime, quiet: Option<QuietHours>, tz: Tz) -> NaiveDateTime {
    let Some(quiet) = quiet else { return at };
    let local = tz.from_utc_datetime(&at);
    if !quiet.contains(local.time()) {
        return at;
    }
    // The quiet period ends at `quiet.end` today, or tomorrow when we are
    // in its evening part.
    let mut day = local.date_naive();
    if quiet.start > quiet.end && local.time() >= quiet.start {
        day = day.succ_opt().unwrap_or(day);
    }
    let wanted = day.and_time(quiet.end);
    // Around a DST change the local time may not exist: take the first
    // valid instant at or after it.
    let mut candidate = wanted;
    for _ in 0..4 {
        if let Some(t) = tz.from_local_datetime(&candidate).earliest() {
            return t.naive_utc();
        }
        candidate += Duration::minutes(30);
    }
    at
}

/// Why a queued email has not gone yet, for the admin's delivery page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    /// Due: it goes with the next pass of the job loop.
    DueNow,
    /// An earlier attempt failed; tried again at the given time.
    Retrying,
    /// Moved out of quiet hours: it waits until they end (local time).
    QuietHours { until: NaiveTime },
    /// Sent this many minutes after the session, as the clinic set.
    AfterSession { minutes: i64 },
    /// The one reminder, this many hours after the invitation.
    Reminder { hours: i64 },
    /// Staff email, sent at its time (the daily summary).
    Scheduled,
}

impl Waiting {
    pub fn describe(&self) -> String {
        match self {
            Waiting::DueNow => "due now: it goes with the next pass of the job loop".into(),
            Waiting::Retrying => "an earlier attempt failed; it is tried again then".into(),
            Waiting::QuietHours { until } => {
                format!(
                    "quiet hours: no client email before {} (client's time zone)",
                    until.format("%H:%M")
                )
            }
            Waiting::AfterSession { minutes } => {
                format!("{minutes} minutes after the session ends, the clinic's setting")
            }
            Waiting::Reminder { hours } => {
                format!("the reminder, {hours} hours after the questionnaire, if still unanswered")
            }
            Waiting::Scheduled => "staff email at its time".into(),
        }
    }
}

/// Why a message of `kind` due at `send_at` (UTC) is still waiting at `now`.
pub fn why_waiting(
    kind: &str,
    send_at: NaiveDateTime,
    attempts: i32,
    now: NaiveDateTime,
    rules: &DeliveryRules,
    tz: Tz,
) -> Waiting {
    if attempts > 0 {
        return Waiting::Retrying;
    }
    if send_at <= now {
        return Waiting::DueNow;
    }
    let local = tz.from_utc_datetime(&send_at).time();
    match (kind, rules.quiet_hours) {
        ("invitation" | "reminder", Some(quiet)) if local == quiet.end => Waiting::QuietHours { until: quiet.end },
        ("reminder", _) => Waiting::Reminder {
            hours: rules.reminder_after.num_hours(),
        },
        ("invitation", _) => Waiting::AfterSession {
            minutes: rules.delay.num_minutes(),
        },
        _ => Waiting::Scheduled,
    }
}

/// Schedules the invitation for a session that ended at `session_end`.
/// The first send is never before `now` (an appointment recorded late
/// still gets its questionnaire promptly, unless it is already too late).
pub fn invitation_times(
    session_end: NaiveDateTime,
    now: NaiveDateTime,
    rules: &DeliveryRules,
    tz: Tz,
) -> InvitationTimes {
    let planned = (session_end + rules.delay).max(now);
    let send_at = out_of_quiet_hours(planned, rules.quiet_hours, tz);
    let reminder_at = out_of_quiet_hours(send_at + rules.reminder_after, rules.quiet_hours, tz);
    let expires_at = send_at + rules.expires_after;
    InvitationTimes {
        send_at,
        reminder_at,
        expires_at,
    }
}

/// An invitation is worth sending only while the session is recent: a
/// questionnaire about a session more than this long ago is not sent.
pub fn too_late_to_ask(session_end: NaiveDateTime, now: NaiveDateTime, rules: &DeliveryRules) -> bool {
    now > session_end + rules.delay + rules.expires_after
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn quiet() -> Option<QuietHours> {
        Some(QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        })
    }

    fn rules() -> DeliveryRules {
        DeliveryRules {
            delay: Duration::hours(1),
            quiet_hours: quiet(),
            reminder_after: Duration::hours(48),
            expires_after: Duration::days(4),
        }
    }

    #[test]
    fn why_an_email_is_waiting() {
        let tz = chrono_tz::Europe::London;
        let now = t(2, 22, 0);
        // Held by quiet hours: 08:00 local (GMT in March).
        let held = why_waiting("invitation", t(3, 8, 0), 0, now, &rules(), tz);
        assert_eq!(
            held,
            Waiting::QuietHours {
                until: NaiveTime::from_hms_opt(8, 0, 0).unwrap()
            }
        );
        assert!(held.describe().contains("before 08:00"));
        assert_eq!(
            why_waiting("invitation", t(3, 11, 0), 0, now, &rules(), tz),
            Waiting::AfterSession { minutes: 60 }
        );
        assert!(matches!(
            why_waiting("reminder", t(4, 11, 0), 0, now, &rules(), tz),
            Waiting::Reminder { .. }
        ));
        assert_eq!(
            why_waiting("invitation", t(2, 21, 0), 0, now, &rules(), tz),
            Waiting::DueNow
        );
        assert_eq!(
            why_waiting("invitation", t(3, 11, 0), 2, now, &rules(), tz),
            Waiting::Retrying
        );
        assert_eq!(
            why_waiting("alert_digest", t(3, 8, 0), 0, now, &rules(), tz),
            Waiting::Scheduled
        );
    }

    #[test]
    fn daytime_session_is_sent_an_hour_later() {
        let times = invitation_times(t(2, 14, 0), t(2, 14, 0), &rules(), chrono_tz::UTC);
        assert_eq!(times.send_at, t(2, 15, 0));
        assert_eq!(times.reminder_at, t(4, 15, 0));
        assert_eq!(times.expires_at, t(6, 15, 0));
    }

    #[test]
    fn evening_session_waits_for_the_morning() {
        let times = invitation_times(t(2, 20, 30), t(2, 20, 30), &rules(), chrono_tz::UTC);
        assert_eq!(times.send_at, t(3, 8, 0));
        // After midnight but before eight: the same morning.
        assert_eq!(out_of_quiet_hours(t(3, 2, 0), quiet(), chrono_tz::UTC), t(3, 8, 0));
    }

    #[test]
    fn quiet_hours_are_in_the_clients_time_zone() {
        // 18:00 UTC is 05:00 next day in Sydney (UTC+11 in March): quiet there.
        let sydney: Tz = "Australia/Sydney".parse().unwrap();
        let send = out_of_quiet_hours(t(2, 18, 0), quiet(), sydney);
        // 08:00 Sydney on 3 March = 21:00 UTC on 2 March.
        assert_eq!(send, t(2, 21, 0));
    }

    #[test]
    fn no_quiet_hours_means_no_move() {
        assert_eq!(out_of_quiet_hours(t(2, 23, 0), None, chrono_tz::UTC), t(2, 23, 0));
    }

    #[test]
    fn late_entries_send_now_or_not_at_all() {
        let r = rules();
        let times = invitation_times(t(2, 9, 0), t(2, 13, 0), &r, chrono_tz::UTC);
        assert_eq!(times.send_at, t(2, 13, 0));
        assert!(!too_late_to_ask(t(2, 9, 0), t(5, 9, 0), &r));
        assert!(too_late_to_ask(t(2, 9, 0), t(7, 9, 0), &r));
    }

    #[test]
    fn daylight_saving_gap_is_skipped() {
        // Europe/London springs forward 29 March 2026 at 01:00 → 02:00; with
        // quiet hours ending at 01:30 the local end time does not exist.
        let london: Tz = "Europe/London".parse().unwrap();
        let q = Some(QuietHours {
            start: NaiveTime::from_hms_opt(23, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(1, 30, 0).unwrap(),
        });
        let send = out_of_quiet_hours(t(29, 0, 30), q, london);
        assert!(send >= t(29, 1, 0), "{send}");
    }
}
