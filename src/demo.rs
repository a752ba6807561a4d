//! `rapport demo`: a believable clinic to try Rapport with. Two teams, six
//! clinicians, a manager, an admin, about 120 clients and twelve weeks of
//! appointments around today. Deterministic, so screenshots are stable.

use chrono::{Datelike, Duration, NaiveDateTime, Timelike, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::security;
use crate::store::appointments::{self, AppointmentStatus, NewAppointment};
use crate::store::clients::{self, NewClient};
use crate::store::staff::{self, NewStaff, Role};
use crate::store::{DbConnection, StoreError};

/// Every demo account signs in with this password. Demo data only.
pub const DEMO_PASSWORD: &str = "rapport-demo";

pub struct DemoLogin {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub team: Option<&'static str>,
}

pub const LOGINS: &[DemoLogin] = &[
    DemoLogin {
        email: "admin@demo.rapport.test",
        name: "Ada Admin",
        role: Role::Admin,
        team: None,
    },
    DemoLogin {
        email: "manager@demo.rapport.test",
        name: "Morgan Price",
        role: Role::Manager,
        team: None,
    },
    DemoLogin {
        email: "clinician1@demo.rapport.test",
        name: "Dr Nadia Rahman",
        role: Role::Clinician,
        team: Some("Neuropsychology"),
    },
    DemoLogin {
        email: "clinician2@demo.rapport.test",
        name: "Dr Tom Achebe",
        role: Role::Clinician,
        team: Some("Neuropsychology"),
    },
    DemoLogin {
        email: "clinician3@demo.rapport.test",
        name: "Priya Sharma",
        role: Role::Clinician,
        team: Some("Neuropsychology"),
    },
    DemoLogin {
        email: "clinician4@demo.rapport.test",
        name: "Liam O'Connor",
        role: Role::Clinician,
        team: Some("Counselling"),
    },
    DemoLogin {
        email: "clinician5@demo.rapport.test",
        name: "Grace Mensah",
        role: Role::Clinician,
        team: Some("Counselling"),
    },
    DemoLogin {
        email: "clinician6@demo.rapport.test",
        name: "Jonas Weber",
        role: Role::Clinician,
        team: Some("Counselling"),
    },
];

pub const CLIENTS_PER_CLINICIAN: usize = 20;
pub const WEEKS_OF_HISTORY: i64 = 12;

const FIRST: &[&str] = &[
    "Alex", "Sam", "Jordan", "Taylor", "Chris", "Jamie", "Robin", "Morgan", "Casey", "Riley", "Elena", "Omar", "Mei",
    "Tariq", "Hannah", "Lucas", "Amara", "Ben", "Chloe", "Dev", "Ines", "Kofi", "Lena", "Marek", "Noor", "Pavel",
    "Rosa", "Sofia", "Theo", "Yusuf",
];
const LAST: &[&str] = &[
    "Adams", "Baker", "Carter", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ibrahim", "Jensen", "Kowalski",
    "Lewis", "Murphy", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Turner", "Usman", "Varga", "Walsh",
    "Young", "Zhang",
];

/// What was loaded, for the log.
#[derive(Debug, Default)]
pub struct DemoSummary {
    pub staff: usize,
    pub clients: usize,
    pub appointments: usize,
}

/// True when the database already holds staff (the demo loads only into
/// an empty database, never over real data).
pub fn database_is_empty(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let n: i64 = Role::ALL
        .iter()
        .map(|r| staff::count_by_role(conn, *r))
        .sum::<Result<i64, _>>()?;
    Ok(n == 0)
}

/// Loads the demo clinic. `now` anchors the twelve weeks of history.
pub fn load(conn: &mut DbConnection, now: NaiveDateTime) -> Result<DemoSummary, StoreError> {
    if !database_is_empty(conn)? {
        return Err(StoreError::Conflict(
            "the database already has staff accounts; the demo clinic loads only into an empty database".into(),
        ));
    }
    let hash = security::hash_password(DEMO_PASSWORD).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let mut rng = StdRng::seed_from_u64(20_261_128);
    let mut summary = DemoSummary::default();
    let today = now.date().and_hms_opt(0, 0, 0).unwrap_or(now);
    let mut client_number = 0;
    for login in LOGINS {
        let team_id = match login.team {
            Some(t) => Some(staff::ensure_team(conn, t, now)?.id),
            None => None,
        };
        let member = staff::create_staff(
            conn,
            &NewStaff {
                email: login.email,
                name: login.name,
                role: login.role,
                team_id,
                password_hash: &hash,
            },
            now,
        )?;
        summary.staff += 1;
        if login.role != Role::Clinician {
            continue;
        }
        for slot in 0..CLIENTS_PER_CLINICIAN {
            client_number += 1;
            let name = format!(
                "{} {}",
                FIRST[rng.random_range(0..FIRST.len())],
                LAST[rng.random_range(0..LAST.len())]
            );
            let client = clients::create(
                conn,
                &NewClient {
                    clinician_id: member.id,
                    name,
                    email: Some(format!("client{client_number:03}@example.org")),
                    language: "en".into(),
                    time_zone: None,
                    source: Some("demo".into()),
                    external_id: Some(format!("client-{client_number:03}")),
                },
                now,
            )?;
            summary.clients += 1;
            summary.appointments += load_appointments(conn, &mut rng, member.id, client.id, slot, today, now)?;
        }
    }
    Ok(summary)
}

/// Weekly sessions at a fixed weekday and hour per client: past ones mostly
/// attended, a few cancelled or missed; the next two weeks booked.
fn load_appointments(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    clinician_id: i64,
    client_id: i64,
    slot: usize,
    today: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    let weekday = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri][slot % 5];
    let hour = 9 + (slot / 5) as i64 * 2;
    let days_back =
        (today.weekday().num_days_from_monday() as i64 - weekday.num_days_from_monday() as i64).rem_euclid(7);
    let last_slot = today - Duration::days(days_back) + Duration::hours(hour);
    // Clients started at different times: between 4 and 12 weeks ago.
    let weeks = rng.random_range(4..=WEEKS_OF_HISTORY);
    let mut count = 0;
    for week in -weeks..=2 {
        let starts_at = last_slot + Duration::weeks(week);
        let ends_at = starts_at + Duration::minutes(50);
        let status = if ends_at > now {
            AppointmentStatus::Booked
        } else {
            match rng.random_range(0..100) {
                0..=5 => AppointmentStatus::Cancelled,
                6..=9 => AppointmentStatus::NoShow,
                _ => AppointmentStatus::Attended,
            }
        };
        appointments::upsert(
            conn,
            &NewAppointment {
                client_id,
                clinician_id,
                starts_at: starts_at.with_second(0).unwrap_or(starts_at),
                ends_at,
                status,
                source: "demo".into(),
                external_id: format!("appt-{client_id}-{}", week + weeks),
            },
            now,
        )?;
        count += 1;
    }
    Ok(count)
}
