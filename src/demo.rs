//! `rapport demo`: a believable clinic to try Rapport with. Two teams, six
//! clinicians, a manager, an admin, about 120 clients and twelve weeks of
//! appointments around today. Deterministic, so screenshots are stable.
//!
//! An outer layer: may import `actions` and everything below it.

use crate::store::StaffId;
use chrono::{Datelike, Duration, NaiveDateTime, Timelike, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::actions::Actor;
use crate::actions::staff::NewMember;
use crate::config::Settings;
use crate::domain::email::EmailAddress;
use crate::domain::instrument::{Answer, Answers, InstrumentDefinition};
use crate::domain::schedule::DeliveryRules;
use crate::security;
use crate::store::alerts::{self, RepairOutcome, RepairStep};
use crate::store::appointments::{self, AppointmentStatus, NewAppointment};
use crate::store::clients::{self, NewClient};
use crate::store::invitations::{self, Mailing};
use crate::store::staff::{self, Role};
use crate::store::{DbConnection, StoreError, history, instruments, responses};

/// Every demo account signs in with this password. Demo data only.
pub const DEMO_PASSWORD: &str = "rapport-demo";
/// The demo clinic's name, when `RAPPORT_CLINIC_NAME` does not give one.
pub const CLINIC_NAME: &str = "Riverside Clinic (demo)";

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
    pub alerts: usize,
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
pub fn load(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    settings: &Settings,
    mailing: &Mailing,
) -> Result<DemoSummary, StoreError> {
    if !database_is_empty(conn)? {
        return Err(StoreError::Conflict(
            "the database already has staff accounts; the demo clinic loads only into an empty database".into(),
        ));
    }
    let hash = security::hash_password(DEMO_PASSWORD).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let instrument_id = instruments::default_id(conn)?
        .ok_or_else(|| StoreError::Conflict("no questionnaire is published; start the server once first".into()))?;
    let instrument = history::instrument(conn, instrument_id)?;
    let rules = invitations::delivery_rules(conn, settings)?;
    let mut rng = StdRng::seed_from_u64(20_261_128);
    let mut summary = DemoSummary::default();
    let today = now.date().and_hms_opt(0, 0, 0).unwrap_or(now);
    let mut client_number = 0;
    for login in LOGINS {
        let email = EmailAddress::parse(login.email).map_err(StoreError::Conflict)?;
        let new = NewMember {
            email: &email,
            name: login.name,
            role: login.role,
            team: login.team,
            password_hash: &hash,
        };
        let member = crate::actions::staff::add_member(conn, Actor::CommandLine, &new, now)?;
        summary.staff += 1;
        if login.role != Role::Clinician {
            continue;
        }
        // Demo clinicians read alerts in the daily summary rather than one email each.
        staff::set_notifications(conn, member.id, staff::Notify::Digest, staff::Notify::Digest)?;
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
            let story = Story::for_slot(slot);
            let context = Context {
                instrument_id,
                instrument: &instrument,
                rules: &rules,
                mailing,
                now,
            };
            summary.appointments += load_sessions(conn, &mut rng, &context, member.id, &client, slot, story, today)?;
        }
        summary.alerts += record_repairs(conn, member.id, mailing, now)?;
    }
    Ok(summary)
}

/// The shape of a demo client's answers over their sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Story {
    Steady,
    /// A sudden fall of about 8 points, then recovery (the V-shape).
    SuddenFall,
    /// About one point lower every session.
    SlowSlide,
    /// A dip, then the last invitations go unanswered.
    GoingQuiet,
    /// One session where something felt wrong, said in words.
    SaidSo,
    /// Three perfect scores, then a slip.
    CeilingThenFall,
    /// The bond item low while the total looks fine.
    BondStrain,
    /// Scores at the ceiling, and words of risk in the comment box at the
    /// latest answered session: the alert comes from the words alone.
    WroteRisk,
}

impl Story {
    fn for_slot(slot: usize) -> Story {
        if slot == 6 {
            return Story::WroteRisk;
        }
        match slot % 10 {
            0 => Story::SuddenFall,
            1 => Story::SlowSlide,
            2 => Story::GoingQuiet,
            3 => Story::SaidSo,
            4 => Story::CeilingThenFall,
            5 => Story::BondStrain,
            _ => Story::Steady,
        }
    }

    /// Item answers (bond, goals, approach, overall) for the n-th of `count`
    /// answered sessions, or None for no answer.
    fn answers(self, n: usize, count: usize, rng: &mut StdRng) -> Option<[f64; 4]> {
        let noise = |rng: &mut StdRng| rng.random_range(-1..=0) as f64;
        let even = |total: f64, rng: &mut StdRng| {
            let base = (total / 4.0).floor();
            let mut items = [base; 4];
            let mut rest = (total - base * 4.0) as usize;
            for item in items.iter_mut() {
                if rest > 0 {
                    *item += 1.0;
                    rest -= 1;
                }
            }
            let i = rng.random_range(0..4);
            items[i] = (items[i] + noise(rng)).clamp(0.0, 10.0);
            items
        };
        let late = n + 3 >= count;
        let total = match self {
            Story::Steady => 38.0 + rng.random_range(0..=2) as f64,
            Story::SuddenFall if n + 2 == count => 30.0,
            Story::SuddenFall if n + 1 == count => 37.0,
            Story::SuddenFall => 38.0 + rng.random_range(0..=1) as f64,
            Story::SlowSlide => (39.0 - n as f64 * 1.2).max(28.0),
            Story::GoingQuiet if n + 2 >= count => return None,
            Story::GoingQuiet if n + 3 == count => 33.0,
            Story::GoingQuiet => 38.0,
            Story::CeilingThenFall if n < 3 => return Some([10.0; 4]),
            Story::CeilingThenFall => 37.0,
            Story::BondStrain if late => return Some([6.0, 10.0, 10.0, 10.0]),
            Story::WroteRisk => return Some([10.0; 4]),
            Story::SaidSo | Story::BondStrain => 38.0 + rng.random_range(0..=1) as f64,
        };
        Some(even(total, rng))
    }
}

struct Context<'a> {
    instrument_id: i64,
    instrument: &'a InstrumentDefinition,
    rules: &'a DeliveryRules,
    mailing: &'a Mailing<'a>,
    now: NaiveDateTime,
}

/// Weekly sessions at a fixed weekday and hour per client: past ones mostly
/// attended (each with its questionnaire, answered or not, and the engine
/// run as the server would have run it then); the next two weeks booked.
#[allow(clippy::too_many_arguments)]
fn load_sessions(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    context: &Context,
    clinician_id: StaffId,
    client: &clients::Client,
    slot: usize,
    story: Story,
    today: NaiveDateTime,
) -> Result<usize, StoreError> {
    let now = context.now;
    let weekday = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri][slot % 5];
    let hour = 9 + (slot / 5) as i64 * 2;
    let days_back =
        (today.weekday().num_days_from_monday() as i64 - weekday.num_days_from_monday() as i64).rem_euclid(7);
    let last_slot = today - Duration::days(days_back) + Duration::hours(hour);
    // Clients started at different times: between 5 and 12 weeks ago.
    let weeks = rng.random_range(5..=WEEKS_OF_HISTORY);
    let attended_weeks = (0..=weeks).count();
    let mut count = 0;
    let mut answered_index = 0;
    for week in -weeks..=2 {
        let starts_at = last_slot + Duration::weeks(week);
        let starts_at = starts_at.with_second(0).unwrap_or(starts_at);
        let ends_at = starts_at + Duration::minutes(50);
        let status = if ends_at > now {
            AppointmentStatus::Booked
        } else if story == Story::Steady && rng.random_range(0..100) < 8 {
            AppointmentStatus::Cancelled
        } else {
            AppointmentStatus::Attended
        };
        let (appointment, _) = appointments::upsert(
            conn,
            &NewAppointment {
                client_id: client.id,
                clinician_id,
                starts_at,
                ends_at,
                status,
                source: "demo".into(),
                external_id: format!("appt-{}-{}", client.id, week + weeks),
            },
            now,
        )?;
        count += 1;
        if status != AppointmentStatus::Attended {
            continue;
        }
        let sent_at = ends_at + context.rules.delay;
        if sent_at + context.rules.expires_after > now {
            // Recent: the real path, with its email queued.
            invitations::follow_appointment(conn, &appointment, client, context.rules, context.mailing, now)?;
            continue;
        }
        let answers = story.answers(answered_index, attended_weeks, rng);
        answered_index += 1;
        let answered_at = answers.map(|_| sent_at + Duration::hours(rng.random_range(1..30)));
        let invitation = invitations::insert_settled(
            conn,
            &appointment,
            context.instrument_id,
            sent_at,
            answered_at,
            sent_at + context.rules.expires_after,
        )?;
        let evaluated_at = match (answers, answered_at) {
            (Some(items), Some(at)) => {
                let mut given = Answers::new();
                for (id, value) in ["bond", "goals", "approach", "overall"].iter().zip(items) {
                    given = given.with(id, Answer::Number(value));
                }
                // The latest answered session is within the last two weeks:
                // its comment shows on the clinician's inbox.
                let latest = sent_at + Duration::weeks(1) + context.rules.expires_after > now;
                let said_so = story == Story::SaidSo && latest;
                given = given.with("uncomfortable", Answer::Bool(said_so));
                if said_so {
                    given = given.with(
                        "note",
                        Answer::Text("I felt rushed at the end and didn't get to say what I wanted.".into()),
                    );
                }
                if story == Story::WroteRisk && latest {
                    given = given.with(
                        "note",
                        Answer::Text(
                            "Sessions are fine. But some days I think everyone would be better off without me, and I have been thinking about ending it all."
                                .into(),
                        ),
                    );
                }
                responses::insert(conn, &invitation, context.instrument, &given, &client.language, at)?;
                at
            }
            _ => invitation.expires_at,
        };
        crate::actions::alerts::evaluate_client(conn, client, context.mailing, evaluated_at)?;
    }
    Ok(count)
}

/// Gives each demo clinician's alerts a realistic mix of repair: a few still
/// open, some acknowledged or discussed, and one closed with each outcome.
fn record_repairs(
    conn: &mut DbConnection,
    clinician_id: StaffId,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    let mut mine: Vec<alerts::Alert> = alerts::list_for_clinician(conn, clinician_id)?;
    mine.sort_by_key(|a| (a.opened_at, a.id));
    let count = mine.len();
    for (i, alert) in mine.iter().enumerate() {
        // Words of risk wait for the clinician: the demo shows one unread.
        let words_of_risk = alerts::signals(conn, alert.id)?
            .iter()
            .any(|s| s.rule == crate::domain::signals::RuleId::RiskWords.as_str());
        if words_of_risk {
            continue;
        }
        let at = |days: i64| (alert.opened_at + Duration::days(days)).min(now);
        let steps: Vec<RepairStep> = match i % 7 {
            0 => vec![],
            1 => vec![RepairStep::Acknowledge],
            2 => vec![
                RepairStep::Acknowledge,
                RepairStep::Discussed {
                    note: "Talked it through at the start of the session.".into(),
                },
            ],
            3 => vec![
                RepairStep::Acknowledge,
                RepairStep::Discussed {
                    note: "We slowed the pace and agreed the goals again.".into(),
                },
                RepairStep::Outcome {
                    outcome: RepairOutcome::Repaired,
                    note: Some("Back on track.".into()),
                },
            ],
            4 => vec![
                RepairStep::Acknowledge,
                RepairStep::Outcome {
                    outcome: RepairOutcome::NotRepaired,
                    note: None,
                },
            ],
            5 => vec![RepairStep::Outcome {
                outcome: RepairOutcome::NotARupture,
                note: Some("A hard week at home, not about our work.".into()),
            }],
            _ => vec![],
        };
        for (day, step) in steps.iter().enumerate() {
            let by = crate::actions::Actor::Staff(clinician_id);
            crate::actions::alerts::record_repair_step(conn, by, alert.id, step, mailing, at(day as i64 + 1))?;
        }
    }
    Ok(count)
}
