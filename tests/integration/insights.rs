//! Manager insights as a manager meets them: the trends page and its CSV
//! computed from a small hand-made clinic, small cells suppressed, no client
//! ever named, exports pseudonymised and audited — on SQLite and PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{Backend, Options, TestApp, csrf_from, spawn_app_with};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rapport::store::schema::{alert_events, alert_signals, alerts, appointments, invitations, responses};
use rapport::store::{ClientId, DbConnection, StaffId, StoreError};

fn at(month: u32, day: u32, hour: u32, minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, month, day)
        .unwrap()
        .and_hms_opt(hour, minute, 0)
        .unwrap()
}

/// How a session's questionnaire ended.
#[derive(Clone, Copy)]
enum Reply {
    Answered(f64),
    Expired,
    Open,
}

/// One attended session: its invitation is sent an hour after it starts
/// and, if answered, answered 2½ hours after it starts.
fn visit(
    conn: &mut DbConnection,
    instrument: i64,
    client: ClientId,
    clinician: StaffId,
    start: NaiveDateTime,
    reply: Reply,
) -> Result<(), StoreError> {
    let appointment: i64 = diesel::insert_into(appointments::table)
        .values((
            appointments::client_id.eq(client),
            appointments::clinician_id.eq(clinician),
            appointments::starts_at.eq(start),
            appointments::ends_at.eq(start + Duration::minutes(50)),
            appointments::status.eq("attended"),
            appointments::source.eq("test"),
            appointments::external_id.eq(format!("{client}-{start}")),
            appointments::created_at.eq(start),
            appointments::updated_at.eq(start),
        ))
        .returning(appointments::id)
        .get_result(conn)?;
    let sent = start + Duration::hours(1);
    let submitted = start + Duration::minutes(150);
    let status = match reply {
        Reply::Answered(_) => "answered",
        Reply::Expired => "expired",
        Reply::Open => "sent",
    };
    let invitation: i64 = diesel::insert_into(invitations::table)
        .values((
            invitations::appointment_id.eq(appointment),
            invitations::client_id.eq(client),
            invitations::instrument_id.eq(instrument),
            invitations::status.eq(status),
            invitations::send_at.eq(sent),
            invitations::sent_at.eq(Some(sent)),
            invitations::reminder_at.eq(sent + Duration::hours(48)),
            invitations::expires_at.eq(sent + Duration::days(4)),
            invitations::answered_at.eq(matches!(reply, Reply::Answered(_)).then_some(submitted)),
            invitations::created_at.eq(start),
        ))
        .returning(invitations::id)
        .get_result(conn)?;
    if let Reply::Answered(total) = reply {
        let per_item = total / 4.0;
        let item = |i: f64| (per_item.floor() + if total - per_item.floor() * 4.0 > i { 1.0 } else { 0.0 }).min(10.0);
        let answers = serde_json::json!({
            "bond": {"number": item(0.0)}, "goals": {"number": item(1.0)},
            "approach": {"number": item(2.0)}, "overall": {"number": item(3.0)},
            "uncomfortable": {"bool": false},
        });
        diesel::insert_into(responses::table)
            .values((
                responses::invitation_id.eq(invitation),
                responses::client_id.eq(client),
                responses::instrument_id.eq(instrument),
                responses::answers.eq(answers.to_string()),
                responses::total.eq(Some(total)),
                responses::common_score.eq(Some(total / 40.0 * 100.0)),
                responses::scores.eq("{}"),
                responses::screener_uncomfortable.eq(Some(false)),
                responses::comment.eq(Some(format!("Secret note {client}: please call me at home"))),
                responses::submitted_at.eq(submitted),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// An alert opened at `opened`, with its signals' rules, the hours after
/// which the clinician acknowledged it, its outcome and measured recovery.
struct Alert {
    client: ClientId,
    clinician: StaffId,
    opened: NaiveDateTime,
    rules: &'static [&'static str],
    acknowledged_after: Option<i64>,
    outcome: Option<&'static str>,
    recovered: bool,
}

fn alert(conn: &mut DbConnection, a: &Alert) -> Result<(), StoreError> {
    let id: i64 = diesel::insert_into(alerts::table)
        .values((
            alerts::client_id.eq(a.client),
            alerts::clinician_id.eq(a.clinician),
            alerts::opened_at_session.eq(1),
            alerts::severity.eq("medium"),
            alerts::status.eq(if a.outcome.is_some() { "closed" } else { "open" }),
            alerts::outcome.eq(a.outcome),
            alerts::recovered_at_session.eq(a.recovered.then_some(3)),
            alerts::opened_at.eq(a.opened),
            alerts::updated_at.eq(a.opened),
        ))
        .returning(alerts::id)
        .get_result(conn)?;
    for rule in a.rules {
        diesel::insert_into(alert_signals::table)
            .values((
                alert_signals::alert_id.eq(id),
                alert_signals::rule.eq(*rule),
                alert_signals::rule_version.eq(1),
                alert_signals::session.eq(1),
                alert_signals::known_at_session.eq(1),
                alert_signals::severity.eq("medium"),
                alert_signals::explanation.eq("test"),
                alert_signals::inputs.eq("{}"),
                alert_signals::created_at.eq(a.opened),
            ))
            .execute(conn)?;
    }
    if let Some(hours) = a.acknowledged_after {
        // Only the first acknowledgement counts.
        for later in [0, 24] {
            diesel::insert_into(alert_events::table)
                .values((
                    alert_events::alert_id.eq(id),
                    alert_events::kind.eq("acknowledged"),
                    alert_events::staff_id.eq(Some(a.clinician)),
                    alert_events::created_at.eq(a.opened + Duration::hours(hours + later)),
                ))
                .execute(conn)?;
        }
    }
    if let Some(outcome) = a.outcome {
        diesel::insert_into(alert_events::table)
            .values((
                alert_events::alert_id.eq(id),
                alert_events::kind.eq("outcome"),
                alert_events::outcome.eq(Some(outcome)),
                alert_events::staff_id.eq(Some(a.clinician)),
                alert_events::created_at.eq(a.opened + Duration::days(7)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

struct Clinic {
    instrument: i64,
    /// Clinicians A and B are in North, C in South.
    a: StaffId,
    c: StaffId,
    north: Vec<ClientId>,
    south: Vec<ClientId>,
    manager: reqwest::Client,
}

const NAMES: [&str; 10] = [
    "Zelda Quill",
    "Yannick Oberstein",
    "Xavier Pellegrini",
    "Wilhelmina Jaxon",
    "Ulrike Vandermeer",
    "Theodora Brisk",
    "Sebastian Quartermaine",
    "Rosalind Featherstone",
    "Quentin Marchbanks",
    "Persephone Ashgrove",
];

fn email_of(name: &str) -> String {
    format!("{}@example.net", name.to_lowercase().replace(' ', "."))
}

/// The hand-made clinic. February: North (clinicians A, B) has seven
/// clients, South (C) three; March: five North clients come back.
async fn clinic(app: &TestApp) -> Clinic {
    let (a, _) = app.staff("clinician", "a@example.org", Some("North")).await;
    let (b, _) = app.staff("clinician", "b@example.org", Some("North")).await;
    let (c, _) = app.staff("clinician", "c@example.org", Some("South")).await;
    let (_, manager) = app.staff("manager", "manager@example.org", None).await;
    let now = app.clock_now();
    let (instrument, north, south) = app
        .db(move |conn| {
            let instrument = rapport::store::instruments::default_id(conn)?.unwrap();
            let mut ids = vec![];
            for (i, name) in NAMES.iter().enumerate() {
                let clinician = match i {
                    0..=3 => a,
                    4..=6 => b,
                    _ => c,
                };
                let client = rapport::store::clients::create(
                    conn,
                    &rapport::store::clients::NewClient {
                        clinician_id: clinician,
                        name: name.to_string(),
                        email: Some(email_of(name)),
                        language: "en".into(),
                        ..Default::default()
                    },
                    now,
                )?;
                ids.push(client.id);
            }
            let (north, south) = (ids[..7].to_vec(), ids[7..].to_vec());
            let who = |i: usize| if i < 4 { a } else { b };
            // February, North: n1 twice (38, 36), then 30, 40, 34, 39, one expired, one still open.
            let feb: [(usize, u32, Reply); 8] = [
                (0, 3, Reply::Answered(38.0)),
                (0, 17, Reply::Answered(36.0)),
                (1, 4, Reply::Answered(30.0)),
                (2, 5, Reply::Answered(40.0)),
                (3, 6, Reply::Answered(34.0)),
                (4, 9, Reply::Answered(39.0)),
                (5, 10, Reply::Expired),
                (6, 11, Reply::Open),
            ];
            for (i, day, reply) in feb {
                visit(conn, instrument, north[i], who(i), at(2, day, 10, 0), reply)?;
            }
            // February, South: 20, 28, 39.
            for (i, total) in [20.0, 28.0, 39.0].into_iter().enumerate() {
                visit(
                    conn,
                    instrument,
                    south[i],
                    c,
                    at(2, 12 + i as u32, 10, 0),
                    Reply::Answered(total),
                )?;
            }
            // March: n1–n5 answer 38 on Tuesday 3 March.
            for (i, client) in north.iter().enumerate().take(5) {
                visit(
                    conn,
                    instrument,
                    *client,
                    who(i),
                    at(3, 3, 9 + i as u32, 0),
                    Reply::Answered(38.0),
                )?;
            }
            let alerts = [
                Alert {
                    client: north[1],
                    clinician: a,
                    opened: at(2, 10, 9, 0),
                    rules: &["low_score", "reliable_drop"],
                    acknowledged_after: Some(2),
                    outcome: Some("repaired"),
                    recovered: true,
                },
                Alert {
                    client: north[3],
                    clinician: a,
                    opened: at(2, 11, 9, 0),
                    rules: &["low_score"],
                    acknowledged_after: Some(5),
                    outcome: Some("not_a_rupture"),
                    recovered: false,
                },
                Alert {
                    client: north[0],
                    clinician: a,
                    opened: at(2, 12, 9, 0),
                    rules: &["drop_from_last", "low_score"],
                    acknowledged_after: Some(10),
                    outcome: Some("not_a_rupture"),
                    recovered: false,
                },
                Alert {
                    client: north[2],
                    clinician: a,
                    opened: at(2, 13, 9, 0),
                    rules: &["low_score"],
                    acknowledged_after: None,
                    outcome: None,
                    recovered: true,
                },
                Alert {
                    client: south[0],
                    clinician: c,
                    opened: at(2, 14, 9, 0),
                    rules: &["low_score", "client_said_so"],
                    acknowledged_after: Some(1),
                    outcome: Some("repaired"),
                    recovered: false,
                },
                Alert {
                    client: south[1],
                    clinician: c,
                    opened: at(2, 15, 9, 0),
                    rules: &["going_quiet", "low_score"],
                    acknowledged_after: Some(30),
                    outcome: Some("not_repaired"),
                    recovered: false,
                },
            ];
            for a in &alerts {
                alert(conn, a)?;
            }
            Ok((instrument, north, south))
        })
        .await;
    Clinic {
        instrument,
        a,
        c,
        north,
        south,
        manager,
    }
}

const FEB_MAR: &str = "from=2026-02-01&to=2026-03-31&group=month";

async fn get(browser: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let response = browser.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The trends CSV as (figure, rule, period, group) → (value, note).
fn read_trends(csv_text: &str) -> BTreeMap<(String, String, String, String), (String, String)> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "figure",
            "rule",
            "period",
            "period_start",
            "period_end",
            "breakdown",
            "group",
            "value",
            "unit",
            "note"
        ]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                (r[0].to_string(), r[1].to_string(), r[2].to_string(), r[6].to_string()),
                (r[7].to_string(), r[9].to_string()),
            )
        })
        .collect()
}

fn value(
    table: &BTreeMap<(String, String, String, String), (String, String)>,
    figure: &str,
    period: &str,
    group: &str,
) -> String {
    rule_value(table, figure, "", period, group)
}

fn rule_value(
    table: &BTreeMap<(String, String, String, String), (String, String)>,
    figure: &str,
    rule: &str,
    period: &str,
    group: &str,
) -> String {
    let (value, note) = table
        .get(&(figure.into(), rule.into(), period.into(), group.into()))
        .unwrap_or_else(|| panic!("no row for {figure} {rule} {period} {group}"));
    if value.is_empty() { note.clone() } else { value.clone() }
}

db_test!(whole_clinic_figures_match_the_hand_computed_values, |app| {
    let clinic = clinic(&app).await;
    let (status, html) = get(&clinic.manager, &app, &format!("/manager?{FEB_MAR}&breakdown=clinic")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Service overview</h1>"));
    for definition in [
        "Questionnaire links emailed to clients, counted in the period they were sent.",
        "Of the links sent in the period that have closed, the share answered",
        "on a 0–100 scale where 100 is the best possible total",
        "below the questionnaire's cutoff",
        "Alerts opened in the period for every 100 attended sessions in the period.",
        "the middle time from opening to the clinician's first acknowledgement",
        "the share the clinician recorded as repaired",
        "came back within the reliable-change band",
        "the share recorded as not a rupture",
    ] {
        assert!(html.contains(definition), "the page defines: {definition}");
    }
    // The page shows the figures in its tables.
    assert!(html.contains("<td class=\"num\">90.0%</td>"), "February response rate");
    assert!(
        html.contains("<td class=\"num\">84.4</td>"),
        "February mean alliance 0–100"
    );
    assert!(
        html.contains("<td class=\"num\">5.0 h</td>"),
        "February median time to acknowledge"
    );
    assert!(html.contains("role=\"img\""));

    let (status, csv_text) = get(
        &clinic.manager,
        &app,
        &format!("/manager/export.csv?{FEB_MAR}&breakdown=clinic"),
    )
    .await;
    assert_eq!(status, 200);
    let t = read_trends(&csv_text);
    let g = "Whole clinic";
    let feb = "Feb 2026";
    let mar = "Mar 2026";
    let all = "whole range";
    // February: 11 invitations; 9 answered of 10 closed (one still open).
    assert_eq!(value(&t, "invitations_sent", feb, g), "11");
    assert_eq!(value(&t, "response_rate", feb, g), "90");
    // Totals 38 36 30 40 34 39 20 28 39: mean 304/9; on 0–100, 760/9.
    assert_eq!(value(&t, "mean_alliance_native", feb, g), "33.78");
    assert_eq!(value(&t, "mean_alliance_0_100", feb, g), "84.44");
    // Below 36: 30, 34, 20, 28.
    assert_eq!(value(&t, "low_score_share", feb, g), "44.44");
    // 6 alerts over 11 sessions.
    assert_eq!(value(&t, "alerts_per_100_sessions", feb, g), "54.55");
    // First acknowledgements after 2, 5, 10, 1 and 30 hours: the middle is 5.
    assert_eq!(value(&t, "median_hours_to_acknowledge", feb, g), "5");
    // Outcomes: repaired, not a rupture, not a rupture, repaired, not repaired.
    assert_eq!(value(&t, "repair_rate_recorded", feb, g), "40");
    // Recovered: 2 of 6.
    assert_eq!(value(&t, "repair_rate_measured", feb, g), "33.33");
    // March: five answers of 38, no alerts.
    assert_eq!(value(&t, "invitations_sent", mar, g), "5");
    assert_eq!(value(&t, "response_rate", mar, g), "100");
    assert_eq!(value(&t, "mean_alliance_native", mar, g), "38");
    assert_eq!(value(&t, "mean_alliance_0_100", mar, g), "95");
    assert_eq!(value(&t, "low_score_share", mar, g), "0");
    assert_eq!(value(&t, "alerts_per_100_sessions", mar, g), "0");
    assert_eq!(value(&t, "median_hours_to_acknowledge", mar, g), "no data");
    assert_eq!(value(&t, "repair_rate_recorded", mar, g), "no data");
    // The whole range adds up counts: 16 invitations, 14 of 15 answered,
    // (304 + 190) / 14, 4 low of 14, 6 alerts over 16 sessions.
    assert_eq!(value(&t, "invitations_sent", all, g), "16");
    assert_eq!(value(&t, "response_rate", all, g), "93.33");
    assert_eq!(value(&t, "mean_alliance_native", all, g), "35.29");
    assert_eq!(value(&t, "mean_alliance_0_100", all, g), "88.21");
    assert_eq!(value(&t, "low_score_share", all, g), "28.57");
    assert_eq!(value(&t, "alerts_per_100_sessions", all, g), "37.5");
    // By rule, over the range: low score is in all six alerts.
    let per100 = "alerts_per_100_sessions_by_rule";
    assert_eq!(rule_value(&t, per100, "low_score", all, g), "37.5");
    assert_eq!(rule_value(&t, per100, "reliable_drop", all, g), "6.25");
    assert_eq!(rule_value(&t, per100, "going_quiet", all, g), "6.25");
    // Of five low-score alerts with an outcome (five clients), two were not a rupture.
    let false_alarms = "false_alarm_rate_by_rule";
    assert_eq!(rule_value(&t, false_alarms, "low_score", all, g), "40");
    assert_eq!(
        rule_value(&t, false_alarms, "drop_from_last", all, g),
        "fewer than 5 clients"
    );
    assert!(
        !t.keys().any(|(_, rule, _, _)| rule == "sudden_loss"),
        "rules without alerts are not listed"
    );

    // By week: the five March answers all fall in the week commencing 2 March.
    let (_, weekly) = get(
        &clinic.manager,
        &app,
        "/manager/export.csv?from=2026-03-02&to=2026-03-08&group=week&figure=invitations_sent",
    )
    .await;
    let w = read_trends(&weekly);
    assert_eq!(value(&w, "invitations_sent", "w/c 2 Mar 2026", g), "5");
    assert_eq!(w.len(), 2, "one week and its range total: {w:?}");
});

db_test!(team_figures_suppress_cells_with_fewer_than_five_clients, |app| {
    let clinic = clinic(&app).await;
    let (status, csv_text) = get(
        &clinic.manager,
        &app,
        &format!("/manager/export.csv?{FEB_MAR}&breakdown=team"),
    )
    .await;
    assert_eq!(status, 200);
    let t = read_trends(&csv_text);
    let feb = "Feb 2026";
    // North, February: 8 invitations to 7 clients; 6 answered of 7 closed.
    assert_eq!(value(&t, "invitations_sent", feb, "North"), "8");
    assert_eq!(value(&t, "response_rate", feb, "North"), "85.71");
    // 38 36 30 40 34 39 from five clients.
    assert_eq!(value(&t, "mean_alliance_native", feb, "North"), "36.17");
    assert_eq!(value(&t, "mean_alliance_0_100", feb, "North"), "90.42");
    assert_eq!(value(&t, "low_score_share", feb, "North"), "33.33");
    // Four alerts over 8 sessions (7 clients) can be shown as a rate…
    assert_eq!(value(&t, "alerts_per_100_sessions", feb, "North"), "50");
    // …but what happened to them concerns only three or four clients.
    assert_eq!(
        value(&t, "median_hours_to_acknowledge", feb, "North"),
        "fewer than 5 clients"
    );
    assert_eq!(value(&t, "repair_rate_recorded", feb, "North"), "fewer than 5 clients");
    assert_eq!(value(&t, "repair_rate_measured", feb, "North"), "fewer than 5 clients");
    // South has three clients: nothing is shown.
    for figure in [
        "invitations_sent",
        "response_rate",
        "mean_alliance_0_100",
        "low_score_share",
        "alerts_per_100_sessions",
    ] {
        assert_eq!(value(&t, figure, feb, "South"), "fewer than 5 clients", "{figure}");
    }
    assert_eq!(value(&t, "invitations_sent", "Mar 2026", "South"), "no data");
    assert_eq!(value(&t, "invitations_sent", "Mar 2026", "North"), "5");

    // The page marks the suppressed cells in words, and lists teams by name.
    let (_, html) = get(&clinic.manager, &app, &format!("/manager?{FEB_MAR}&breakdown=team")).await;
    assert!(html.contains("<td class=\"suppressed\">fewer than 5 clients</td>"));
    let north = html.find("<th scope=\"col\">North</th>").unwrap();
    let south = html.find("<th scope=\"col\">South</th>").unwrap();
    assert!(north < south, "alphabetical");
    // No per-clinician figures unless the clinic allows them.
    assert!(!html.contains("Test a@example.org"));
    let _ = (clinic.a, clinic.c, clinic.instrument, &clinic.south);
});

db_test!(new_answers_appear_the_next_time_the_page_opens, |app| {
    let clinic = clinic(&app).await;
    let path = format!("/manager/export.csv?{FEB_MAR}&breakdown=clinic&figure=mean_alliance_native");
    let (_, before) = get(&clinic.manager, &app, &path).await;
    assert_eq!(
        value(
            &read_trends(&before),
            "mean_alliance_native",
            "Mar 2026",
            "Whole clinic"
        ),
        "38"
    );
    // n6 answers 28 in March.
    let (instrument, client, a) = (clinic.instrument, clinic.north[5], clinic.a);
    app.db(move |conn| visit(conn, instrument, client, a, at(3, 20, 10, 0), Reply::Answered(28.0)))
        .await;
    let (_, after) = get(&clinic.manager, &app, &path).await;
    // (5 × 38 + 28) / 6
    assert_eq!(
        value(&read_trends(&after), "mean_alliance_native", "Mar 2026", "Whole clinic"),
        "36.33"
    );
    assert_eq!(
        value(&read_trends(&after), "mean_alliance_native", "Feb 2026", "Whole clinic"),
        "33.78"
    );
    // Moving a clinician to another team moves their figures.
    let c = clinic.c;
    app.db(move |conn| {
        let north = rapport::store::staff::ensure_team(conn, "North", start())?;
        diesel::update(rapport::store::schema::staff::table.find(c))
            .set(rapport::store::schema::staff::team_id.eq(Some(north.id)))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let (_, moved) = get(
        &clinic.manager,
        &app,
        &format!("/manager/export.csv?{FEB_MAR}&breakdown=team&figure=invitations_sent"),
    )
    .await;
    assert_eq!(
        value(&read_trends(&moved), "invitations_sent", "Feb 2026", "North"),
        "11"
    );
});

fn start() -> NaiveDateTime {
    crate::common::start_time()
}

async fn periods_in_clinic_time(backend: Backend) {
    let Some(app) = spawn_app_with(
        backend,
        Options {
            extra: vec![("TIME_ZONE", "Europe/London".into())],
        },
    )
    .await
    else {
        return crate::common::skipped(backend);
    };
    let (clinician, _) = app.staff("clinician", "a@example.org", Some("North")).await;
    let (_, manager) = app.staff("manager", "m@example.org", None).await;
    let now = app.clock_now();
    app.db(move |conn| {
        let instrument = rapport::store::instruments::default_id(conn)?.unwrap();
        for i in 0..5 {
            let client = rapport::store::clients::create(
                conn,
                &rapport::store::clients::NewClient {
                    clinician_id: clinician,
                    name: format!("Client {i}"),
                    language: "en".into(),
                    ..Default::default()
                },
                now,
            )?;
            // Starts 22:00 and sent 23:00 on 31 March in London (21:00 and
            // 22:00 UTC); answered 00:30 on 1 April London time (23:30 UTC).
            visit(
                conn,
                instrument,
                client.id,
                clinician,
                at(3, 31, 21, 0),
                Reply::Answered(36.0),
            )?;
        }
        Ok(())
    })
    .await;
    let (_, csv_text) = get(
        &manager,
        &app,
        "/manager/export.csv?from=2026-03-01&to=2026-04-30&group=month",
    )
    .await;
    let t = read_trends(&csv_text);
    assert_eq!(value(&t, "invitations_sent", "Mar 2026", "Whole clinic"), "5");
    assert_eq!(value(&t, "invitations_sent", "Apr 2026", "Whole clinic"), "no data");
    assert_eq!(value(&t, "mean_alliance_native", "Mar 2026", "Whole clinic"), "no data");
    assert_eq!(value(&t, "mean_alliance_native", "Apr 2026", "Whole clinic"), "36");
}
on_both_backends!(periods_follow_the_clinic_time_zone, periods_in_clinic_time);

db_test!(managers_see_no_client_names_on_the_page_or_in_exports, |app| {
    let clinic = clinic(&app).await;
    let mut seen = vec![];
    for path in [
        format!("/manager?{FEB_MAR}&breakdown=clinic"),
        format!("/manager?{FEB_MAR}&breakdown=team"),
        format!("/manager?{FEB_MAR}&breakdown=instrument"),
        "/manager".to_string(),
        "/manager/exports".to_string(),
        format!("/manager/export.csv?{FEB_MAR}&breakdown=team"),
        "/manager/export/responses.csv".to_string(),
        "/manager/export/responses.csv?shift_dates=1".to_string(),
    ] {
        let (status, body) = get(&clinic.manager, &app, &path).await;
        assert_eq!(status, 200, "{path}");
        seen.push((path, body));
    }
    for (path, body) in &seen {
        for name in NAMES {
            assert!(!body.contains(name), "{path} names {name}");
            assert!(!body.contains(&email_of(name)), "{path} shows an email address");
            assert!(
                !body.contains(name.split(' ').next_back().unwrap()),
                "{path} shows a surname of {name}"
            );
        }
        assert!(!body.contains("Secret note"), "{path} shows free text");
    }
});

/// The research CSV as rows of (column → value).
fn read_research(csv_text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            headers
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

db_test!(research_export_is_pseudonymised_and_audited, |app| {
    let clinic = clinic(&app).await;
    let (status, first) = get(&clinic.manager, &app, "/manager/export/responses.csv").await;
    assert_eq!(status, 200);
    let (_, second) = get(&clinic.manager, &app, "/manager/export/responses.csv").await;
    let (one, two) = (read_research(&first), read_research(&second));
    assert_eq!(one.len(), 14, "every answer");
    assert_eq!(
        one[0].keys().cloned().collect::<BTreeSet<_>>(),
        [
            "pseudonym",
            "questionnaire",
            "questionnaire_version",
            "session_number",
            "date",
            "days_since_first_answer",
            "bond",
            "goals",
            "approach",
            "overall",
            "uncomfortable",
            "total",
            "score_0_100",
        ]
        .map(String::from)
        .into_iter()
        .collect(),
        "no name, email or free-text column"
    );
    // Within one export a client keeps one pseudonym; across exports none repeats.
    let pseudonyms =
        |rows: &[BTreeMap<String, String>]| rows.iter().map(|r| r["pseudonym"].clone()).collect::<BTreeSet<_>>();
    assert_eq!(pseudonyms(&one).len(), 8, "eight clients answered");
    assert!(
        pseudonyms(&one).is_disjoint(&pseudonyms(&two)),
        "two exports cannot be linked"
    );
    for id in clinic.north.iter().chain(&clinic.south) {
        assert!(
            !pseudonyms(&one)
                .iter()
                .any(|p| p.contains(&id.to_string()) && p.len() < 5)
        );
    }
    // n1 answered three times: sessions 1, 2, 3 on 3 Feb, 17 Feb and 3 Mar.
    let n1_pseudonym = one.iter().find(|r| r["date"] == "2026-02-03").unwrap()["pseudonym"].clone();
    let n1: Vec<&BTreeMap<String, String>> = one.iter().filter(|r| r["pseudonym"] == n1_pseudonym).collect();
    assert_eq!(
        n1.iter().map(|r| r["session_number"].as_str()).collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    assert_eq!(
        n1.iter()
            .map(|r| r["days_since_first_answer"].as_str())
            .collect::<Vec<_>>(),
        ["0", "14", "28"]
    );
    assert_eq!(
        n1.iter().map(|r| r["total"].as_str()).collect::<Vec<_>>(),
        ["38", "36", "38"]
    );
    assert_eq!(n1[0]["score_0_100"], "95");
    assert_eq!((n1[0]["bond"].as_str(), n1[0]["uncomfortable"].as_str()), ("10", "no"));
    assert_eq!(n1[0]["questionnaire"], "rapport-alliance");

    // Shifted dates move each client by 1–365 days and keep their intervals.
    let (_, shifted) = get(&clinic.manager, &app, "/manager/export/responses.csv?shift_dates=1").await;
    let shifted = read_research(&shifted);
    let date = |r: &BTreeMap<String, String>| NaiveDate::parse_from_str(&r["date"], "%Y-%m-%d").unwrap();
    for (real, moved) in one.iter().zip(&shifted) {
        let days = (date(moved) - date(real)).num_days().abs();
        assert!((1..=365).contains(&days), "shifted by {days} days");
        assert_eq!(real["days_since_first_answer"], moved["days_since_first_answer"]);
        assert_eq!(real["total"], moved["total"]);
    }
    // A date range limits the rows.
    let (_, march) = get(
        &clinic.manager,
        &app,
        "/manager/export/responses.csv?from=2026-03-01&to=2026-03-31",
    )
    .await;
    assert_eq!(read_research(&march).len(), 5);

    // An erased client leaves the research rows but stays in the figures.
    let (n1, now) = (clinic.north[0], app.clock_now());
    app.db(move |conn| {
        rapport::actions::clients::erase(conn, rapport::actions::Actor::CommandLine, n1, "test", now).map(|_| ())
    })
    .await;
    let (_, after_erasure) = get(&clinic.manager, &app, "/manager/export/responses.csv").await;
    assert_eq!(read_research(&after_erasure).len(), 11, "n1's three answers are gone");
    let (_, figures) = get(
        &clinic.manager,
        &app,
        &format!("/manager/export.csv?{FEB_MAR}&figure=mean_alliance_native"),
    )
    .await;
    assert_eq!(
        value(
            &read_trends(&figures),
            "mean_alliance_native",
            "Feb 2026",
            "Whole clinic"
        ),
        "33.78"
    );

    // Every export is in the audit log, with who made it.
    let _ = get(&clinic.manager, &app, &format!("/manager/export.csv?{FEB_MAR}")).await;
    let log = app.db(|conn| rapport::store::audit::recent(conn, 20)).await;
    let research: Vec<_> = log.iter().filter(|e| e.action == "export_research_csv").collect();
    assert_eq!(research.len(), 5);
    assert!(
        research
            .iter()
            .all(|e| e.staff_name.as_deref() == Some("Test manager@example.org"))
    );
    assert!(
        research
            .iter()
            .any(|e| e.detail.as_deref().unwrap_or("").contains("shifted per client"))
    );
    let trend_exports: Vec<_> = log.iter().filter(|e| e.action == "export_trends_csv").collect();
    assert_eq!(trend_exports.len(), 2);
    assert!(
        trend_exports
            .iter()
            .all(|e| e.detail.as_deref().unwrap().contains("2026-02-01 to 2026-03-31"))
    );
});

db_test!(clinicians_and_admins_are_kept_to_their_parts, |app| {
    let (_, clinician) = app.staff("clinician", "c@example.org", Some("North")).await;
    let (_, admin) = app.staff("admin", "admin@example.org", None).await;
    for path in [
        "/manager",
        "/manager/exports",
        "/manager/export.csv",
        "/manager/export/responses.csv",
        "/manager?group=week&breakdown=team",
    ] {
        let (status, _) = get(&clinician, &app, path).await;
        assert_eq!(status, 403, "clinician on {path}");
    }
    // Admins may read the trends but not export.
    assert_eq!(get(&admin, &app, "/manager").await.0, 200);
    for path in [
        "/manager/exports",
        "/manager/export.csv",
        "/manager/export/responses.csv",
    ] {
        assert_eq!(get(&admin, &app, path).await.0, 403, "admin on {path}");
    }
});

db_test!(figures_per_clinician_need_the_clinic_setting, |app| {
    let clinic = clinic(&app).await;
    let path = format!("/manager?{FEB_MAR}&breakdown=clinician");
    let (status, html) = get(&clinic.manager, &app, &path).await;
    assert_eq!(status, 403);
    assert!(html.contains("Figures per clinician are not turned on"));
    let (_, html) = get(&clinic.manager, &app, "/manager").await;
    assert!(!html.contains("value=\"clinician\""), "not offered");
    assert!(html.contains("Spread across clinicians"));

    // An admin allows them (the form needs the CSRF token).
    let (_, admin) = app.staff("admin", "admin@example.org", None).await;
    let (_, admin_page) = get(&admin, &app, "/manager").await;
    let forged = admin
        .post(app.url("/manager/clinician-figures"))
        .form(&[("allowed", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let csrf = csrf_from(&admin_page[admin_page.find("/manager/clinician-figures").unwrap()..]);
    let saved = admin
        .post(app.url("/manager/clinician-figures"))
        .form(&[("csrf", csrf.as_str()), ("allowed", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let log = app.db(|conn| rapport::store::audit::recent(conn, 5)).await;
    assert_eq!(log[0].action, "clinic_setting_changed");

    // Clinicians are listed alphabetically, never ranked.
    let (status, html) = get(&clinic.manager, &app, &path).await;
    assert_eq!(status, 200);
    let a = html.find("<th scope=\"col\">Test a@example.org</th>").unwrap();
    let b = html.find("<th scope=\"col\">Test b@example.org</th>").unwrap();
    let c = html.find("<th scope=\"col\">Test c@example.org</th>").unwrap();
    assert!(a < b && b < c);
    let (_, csv_text) = get(
        &clinic.manager,
        &app,
        &format!("/manager/export.csv?{FEB_MAR}&breakdown=clinician"),
    )
    .await;
    let t = read_trends(&csv_text);
    // Clinician A saw four North clients in February; B three.
    assert_eq!(
        value(&t, "invitations_sent", "Feb 2026", "Test a@example.org"),
        "fewer than 5 clients"
    );
});

db_test!(bad_filters_are_refused_with_a_clear_message, |app| {
    let (_, manager) = app.staff("manager", "m@example.org", None).await;
    for (path, message) in [
        (
            "/manager?from=31/01/2026",
            "“From” must be a date written like 2026-03-31",
        ),
        ("/manager?to=2026-02-30", "“To” must be a date"),
        ("/manager?group=fortnight", "week or month"),
        ("/manager?breakdown=client", "clinic, team, instrument or clinician"),
        ("/manager?from=2026-03-01&to=2026-01-01", "on or before"),
        (
            "/manager?from=1990-01-01&to=2026-01-01&group=week",
            "choose at most 160",
        ),
        ("/manager/export.csv?figure=league_table", "There is no table called"),
        (
            "/manager/export/responses.csv?shift_dates=maybe",
            "“shift_dates” must be 1 or 0",
        ),
        (
            "/manager/export/responses.csv?from=2026-02-01&to=2026-01-01",
            "on or before",
        ),
    ] {
        let (status, html) = get(&manager, &app, path).await;
        assert_eq!(status, 400, "{path}");
        let expected = message.replace('\'', "&#39;").replace('"', "&quot;");
        assert!(html.contains(&expected), "{path}: {html}");
    }
    // An empty clinic is not an error.
    let (status, html) = get(&manager, &app, "/manager").await;
    assert_eq!(status, 200);
    assert!(html.contains("No alerts were opened in this range."));
});
