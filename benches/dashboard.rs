//! How fast the managers' trends page is on a large clinic: loads 100,000
//! clients and 1,000,000 answers (with their appointments, invitations,
//! alerts, signals and repair logs) into SQLite and into PostgreSQL, then
//! times the real page — over HTTP, through the real server — for a
//! 12-month, team-by-month view.
//!
//! Run (PostgreSQL is included when the URL is set):
//!
//! ```sh
//! RAPPORT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench dashboard
//! ```
//!
//! `RAPPORT_BENCH_CLIENTS` (default 100000; ten answers each) makes a
//! smaller clinic for a quick look; `RAPPORT_BENCH_BACKENDS` (default
//! `sqlite,postgres`) picks the databases. Not part of `cargo test`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration as Elapsed, Instant};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport::clock::ManualClock;
use rapport::config::{RawSettings, Settings};
use rapport::context::Context;
use rapport::domain::instrument::{Answer, Answers, InstrumentDefinition, shipped_instruments};
use rapport::domain::signals::RuleId;
use rapport::domain::trends::{SelectionInput, parse_selection};
use rapport::store::DbConnection;

const TEAMS: usize = 10;
const CLINICIANS: usize = 200;
const ANSWERS_PER_CLIENT: usize = 10;
const VIEWS: usize = 20;
const PASSWORD: &str = "benchmark password";
const VIEW: &str = "/manager?from=2025-12-01&to=2026-11-30&group=month&breakdown=team";

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 27)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
}

fn ts(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S"))
}

/// Multi-row INSERTs, many rows per statement and many statements per
/// transaction: the fast way into both databases without special tools.
struct Loader<'a> {
    conn: &'a mut DbConnection,
    postgres: bool,
    table: &'static str,
    columns: &'static str,
    rows: Vec<String>,
    statements: Vec<String>,
    total: usize,
}

impl<'a> Loader<'a> {
    fn new(conn: &'a mut DbConnection, table: &'static str, columns: &'static str) -> Loader<'a> {
        let postgres = matches!(conn, DbConnection::Postgres(_));
        Loader {
            conn,
            postgres,
            table,
            columns,
            rows: vec![],
            statements: vec![],
            total: 0,
        }
    }

    fn row(&mut self, values: String) {
        self.rows.push(values);
        self.total += 1;
        if self.rows.len() == 1000 {
            self.statement();
        }
    }

    fn statement(&mut self) {
        if self.rows.is_empty() {
            return;
        }
        let overriding = if self.postgres { " OVERRIDING SYSTEM VALUE" } else { "" };
        let values = self
            .rows
            .drain(..)
            .map(|r| format!("({r})"))
            .collect::<Vec<_>>()
            .join(",");
        self.statements.push(format!(
            "INSERT INTO {} ({}){overriding} VALUES {values};",
            self.table, self.columns
        ));
        if self.statements.len() == 50 {
            self.commit();
        }
    }

    fn commit(&mut self) {
        if self.statements.is_empty() {
            return;
        }
        let sql = format!("BEGIN; {} COMMIT;", self.statements.join("\n"));
        self.statements.clear();
        self.conn
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("loading {}: {e}", self.table));
    }

    fn finish(mut self) -> usize {
        self.statement();
        self.commit();
        if self.postgres {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {0}));",
                self.table
            );
            self.conn.batch_execute(&sql).expect("identity follows the loaded ids");
        }
        self.total
    }
}

#[derive(Default)]
struct Loaded {
    clients: usize,
    appointments: usize,
    invitations: usize,
    answers: usize,
    alerts: usize,
    signals: usize,
    events: usize,
}

/// One client's attended session, as loaded.
struct Session {
    appointment: i64,
    start: NaiveDateTime,
    answered: Option<(NaiveDateTime, f64)>,
}

fn answers_for(rng: &mut StdRng, level: f64) -> Answers {
    let mut item = |shift: f64| {
        let v: f64 = (level / 4.0 + shift + rng.random_range(-1.0..1.0)).round();
        Answer::Number(v.clamp(0.0, 10.0))
    };
    Answers::new()
        .with("bond", item(0.3))
        .with("goals", item(-0.2))
        .with("approach", item(0.0))
        .with("overall", item(-0.1))
        .with("uncomfortable", Answer::Bool(false))
}

fn load(conn: &mut DbConnection, clients: usize, instrument_id: i64, instrument: &InstrumentDefinition) -> Loaded {
    let mut rng = StdRng::seed_from_u64(20_261_129);
    let mut loaded = Loaded::default();
    let created = ts(now() - Duration::days(800));
    let hash = rapport::security::hash_password(PASSWORD).unwrap();

    let mut teams = Loader::new(conn, "teams", "id, name, created_at");
    for t in 1..=TEAMS {
        teams.row(format!("{t}, 'Team {t:02}', {created}"));
    }
    teams.finish();
    let mut staff = Loader::new(
        conn,
        "staff",
        "id, email, name, role, team_id, password_hash, created_at",
    );
    for c in 1..=CLINICIANS {
        let team = (c - 1) / (CLINICIANS / TEAMS) + 1;
        staff.row(format!(
            "{c}, 'clinician{c}@bench.test', 'Clinician {c:03}', 'clinician', {team}, '{hash}', {created}"
        ));
    }
    staff.row(format!(
        "{}, 'manager@bench.test', 'Bench Manager', 'manager', NULL, '{hash}', {created}",
        CLINICIANS + 1
    ));
    staff.finish();

    let mut people = Loader::new(
        conn,
        "clients",
        "id, clinician_id, name, email, language, created_at, updated_at",
    );
    for c in 1..=clients {
        let clinician = c % CLINICIANS + 1;
        people.row(format!(
            "{c}, {clinician}, 'Bench client {c}', 'c{c}@bench.test', 'en', {created}, {created}"
        ));
    }
    loaded.clients = people.finish();

    // Sessions, invitations and answers, client by client.
    let mut sessions_by_client: Vec<(i64, i64, Vec<Session>)> = Vec::with_capacity(clients);
    let mut appointment_id = 0i64;
    let mut appointments = vec![];
    for c in 1..=clients as i64 {
        let clinician = (c as usize % CLINICIANS + 1) as i64;
        let count = ANSWERS_PER_CLIENT + 1;
        let gaps: Vec<i64> = (0..count).map(|_| rng.random_range(7..=28)).collect();
        let span: i64 = gaps.iter().sum();
        let latest_start = 730 - span - 5;
        let first = now() - Duration::days(730) + Duration::days(rng.random_range(0..=latest_start.max(1)));
        let mut start = first.date().and_hms_opt(rng.random_range(8..=17), 0, 0).unwrap();
        let mut sessions = vec![];
        for gap in gaps {
            appointment_id += 1;
            appointments.push((appointment_id, c, clinician, start, "attended"));
            sessions.push(Session {
                appointment: appointment_id,
                start,
                answered: None,
            });
            start += Duration::days(gap);
        }
        if c % 4 == 0 {
            appointment_id += 1;
            appointments.push((appointment_id, c, clinician, start, "no_show"));
        }
        sessions_by_client.push((c, clinician, sessions));
    }
    let mut loader = Loader::new(
        conn,
        "appointments",
        "id, client_id, clinician_id, starts_at, ends_at, status, source, external_id, created_at, updated_at",
    );
    for (id, client, clinician, start, status) in &appointments {
        let end = *start + Duration::minutes(50);
        loader.row(format!(
            "{id}, {client}, {clinician}, {}, {}, '{status}', 'bench', 'b{id}', {}, {}",
            ts(*start),
            ts(end),
            ts(*start),
            ts(end)
        ));
    }
    loaded.appointments = loader.finish();
    drop(appointments);

    let mut invitation_rows = vec![];
    let mut answer_rows = vec![];
    let mut invitation_id = 0i64;
    for (client, _, sessions) in &mut sessions_by_client {
        let level: f64 = rng.random_range(30.0..40.0);
        let unanswered = rng.random_range(0..sessions.len());
        for (i, session) in sessions.iter_mut().enumerate() {
            invitation_id += 1;
            let sent = session.start + Duration::minutes(110);
            let expires = sent + Duration::days(4);
            let answered_at = (i != unanswered).then(|| sent + Duration::minutes(rng.random_range(20..2400)));
            let status = if answered_at.is_some() { "answered" } else { "expired" };
            invitation_rows.push(format!(
                "{invitation_id}, {}, {client}, {instrument_id}, '{status}', {}, {}, {}, {}, {}, {}",
                session.appointment,
                ts(sent),
                ts(sent),
                ts(sent + Duration::hours(48)),
                ts(expires),
                answered_at.map_or("NULL".to_string(), ts),
                ts(session.start)
            ));
            if let Some(at) = answered_at {
                let dip = if rng.random_bool(0.1) { 6.0 } else { 0.0 };
                let answers = answers_for(&mut rng, level - dip);
                let scores = instrument.score(&answers);
                let total = scores.total.unwrap_or(0.0);
                session.answered = Some((at, total));
                answer_rows.push(format!(
                    "{invitation_id}, {invitation_id}, {client}, {instrument_id}, '{}', {total}, {}, '{}', FALSE, NULL, {}",
                    serde_json::to_string(&answers).unwrap(),
                    scores.common_0_100.unwrap_or(0.0),
                    serde_json::to_string(&scores).unwrap(),
                    ts(at)
                ));
            }
        }
    }
    let mut loader = Loader::new(
        conn,
        "invitations",
        "id, appointment_id, client_id, instrument_id, status, send_at, sent_at, reminder_at, expires_at, answered_at, created_at",
    );
    for row in invitation_rows.drain(..) {
        loader.row(row);
    }
    loaded.invitations = loader.finish();
    let mut loader = Loader::new(
        conn,
        "responses",
        "id, invitation_id, client_id, instrument_id, answers, total, common_score, scores, screener_uncomfortable, comment, submitted_at",
    );
    for row in answer_rows.drain(..) {
        loader.row(row);
    }
    loaded.answers = loader.finish();

    // Alerts for two clients in five, at one of their answered sessions.
    let mut alert_rows = vec![];
    let mut signal_rows = vec![];
    let mut event_rows = vec![];
    let (mut alert_id, mut signal_id, mut event_id) = (0i64, 0i64, 0i64);
    for (client, clinician, sessions) in &sessions_by_client {
        if !rng.random_bool(0.4) {
            continue;
        }
        let answered: Vec<(usize, NaiveDateTime)> = sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.answered.map(|(at, _)| (i, at)))
            .collect();
        let (index, at) = answered[rng.random_range(0..answered.len())];
        alert_id += 1;
        let opened = at + Duration::minutes(1);
        let outcome = rng
            .random_bool(0.6)
            .then(|| ["repaired", "repaired", "not_repaired", "not_a_rupture"][rng.random_range(0..4)]);
        let acknowledged =
            (outcome.is_some() || rng.random_bool(0.5)).then(|| opened + Duration::hours(rng.random_range(1..96)));
        let status = match (outcome, acknowledged) {
            (Some(_), _) => "closed",
            (None, Some(_)) => "acknowledged",
            _ => "open",
        };
        alert_rows.push(format!(
            "{alert_id}, {client}, {clinician}, {}, 'medium', '{status}', {}, {}, {}, {}",
            index + 1,
            outcome.map_or("NULL".into(), |o| format!("'{o}'")),
            if rng.random_bool(0.3) {
                (index + 3).to_string()
            } else {
                "NULL".into()
            },
            ts(opened),
            ts(opened)
        ));
        let mut rules: Vec<RuleId> = (0..rng.random_range(1..=3))
            .map(|_| RuleId::ALL[rng.random_range(0..RuleId::ALL.len())])
            .collect();
        rules.sort_by_key(|r| r.as_str());
        rules.dedup();
        for rule in rules {
            signal_id += 1;
            signal_rows.push(format!(
                "{signal_id}, {alert_id}, '{}', 1, {}, {}, 'medium', 'Benchmark signal.', '{{}}', {}",
                rule.as_str(),
                index + 1,
                index + 1,
                ts(opened)
            ));
        }
        event_id += 1;
        event_rows.push(format!(
            "{event_id}, {alert_id}, 'opened', NULL, NULL, NULL, {}",
            ts(opened)
        ));
        if let Some(ack) = acknowledged {
            event_id += 1;
            event_rows.push(format!(
                "{event_id}, {alert_id}, 'acknowledged', NULL, NULL, {clinician}, {}",
                ts(ack)
            ));
        }
        if let (Some(o), Some(ack)) = (outcome, acknowledged) {
            event_id += 1;
            event_rows.push(format!(
                "{event_id}, {alert_id}, 'outcome', '{o}', NULL, {clinician}, {}",
                ts(ack + Duration::days(7))
            ));
        }
    }
    let mut loader = Loader::new(
        conn,
        "alerts",
        "id, client_id, clinician_id, opened_at_session, severity, status, outcome, recovered_at_session, opened_at, updated_at",
    );
    for row in alert_rows {
        loader.row(row);
    }
    loaded.alerts = loader.finish();
    let mut loader = Loader::new(
        conn,
        "alert_signals",
        "id, alert_id, rule, rule_version, session, known_at_session, severity, explanation, inputs, created_at",
    );
    for row in signal_rows {
        loader.row(row);
    }
    loaded.signals = loader.finish();
    let mut loader = Loader::new(
        conn,
        "alert_events",
        "id, alert_id, kind, outcome, note, staff_id, created_at",
    );
    for row in event_rows {
        loader.row(row);
    }
    loaded.events = loader.finish();
    // Both planners need statistics after a bulk load.
    conn.batch_execute("ANALYZE").expect("analyse");
    loaded
}

/// A new answer in the current month, as a client would leave one.
fn one_more_answer(conn: &mut DbConnection, n: i64, instrument_id: i64) {
    let start = now() - Duration::hours(3) + Duration::minutes(n);
    let id = 10_000_000 + n;
    let overriding = if matches!(conn, DbConnection::Postgres(_)) {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    conn.batch_execute(&format!(
        "INSERT INTO appointments (id, client_id, clinician_id, starts_at, ends_at, status, source, external_id, created_at, updated_at){overriding} \
         VALUES ({id}, 1, 2, {s}, {s}, 'attended', 'bench', 'new{id}', {s}, {s});
         INSERT INTO invitations (id, appointment_id, client_id, instrument_id, status, send_at, sent_at, reminder_at, expires_at, answered_at, created_at){overriding} \
         VALUES ({id}, {id}, 1, {instrument_id}, 'answered', {s}, {s}, {s}, {e}, {s}, {s});
         INSERT INTO responses (id, invitation_id, client_id, instrument_id, answers, total, common_score, scores, submitted_at){overriding} \
         VALUES ({id}, {id}, 1, {instrument_id}, '{{}}', 31, 77.5, '{{}}', {s});",
        s = ts(start),
        e = ts(start + Duration::days(4)),
    ))
    .expect("one more answer");
}

struct Figures {
    name: &'static str,
    load: Elapsed,
    loaded: Loaded,
    first_view: Elapsed,
    views: Vec<Elapsed>,
    store_calls: Vec<Elapsed>,
    after_new_answer: Vec<Elapsed>,
    page_bytes: usize,
}

fn median(v: &[Elapsed]) -> Elapsed {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

fn p95(v: &[Elapsed]) -> Elapsed {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)]
}

fn ms(d: Elapsed) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn run(name: &'static str, url: String, clients: usize) -> Figures {
    eprintln!("[{name}] preparing {url}");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut raw = RawSettings::new();
    raw.insert("DATABASE_URL".into(), url.clone());
    raw.insert("DB_POOL_SIZE".into(), "4".into());
    raw.insert("BIND".into(), format!("127.0.0.1:{port}"));
    raw.insert("BASE_URL".into(), format!("http://127.0.0.1:{port}"));
    raw.insert("TIME_ZONE".into(), "Europe/London".into());
    raw.insert("SECRET_KEY".into(), "b".repeat(64));
    raw.insert(
        "OUTBOX_DIR".into(),
        std::env::temp_dir().join("rapport-bench-outbox").display().to_string(),
    );
    let settings = Settings::from_raw(&raw).expect("settings");
    let state: Context =
        tokio::task::spawn_blocking(move || rapport::app::prepare(settings, Arc::new(ManualClock::new(now()))))
            .await
            .unwrap()
            .expect("the app starts");
    let pool = state.pool.clone();
    let (load_time, loaded, instrument_id) = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let instrument_id = rapport::store::instruments::default_id(&mut conn).unwrap().unwrap();
        let instrument = shipped_instruments().remove(0);
        let started = Instant::now();
        let loaded = load(&mut conn, clients, instrument_id, &instrument);
        (started.elapsed(), loaded, instrument_id)
    })
    .await
    .unwrap();
    eprintln!("[{name}] loaded in {:.1} s", load_time.as_secs_f64());

    let server = rapport::web::serve(state.clone(), listener, Some(2)).unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    let base = format!("http://127.0.0.1:{port}");
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = browser
        .post(format!("{base}/sign-in"))
        .form(&[("email", "manager@bench.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "the manager signs in");
    let view = |browser: reqwest::Client| {
        let url = format!("{base}{VIEW}");
        async move {
            let started = Instant::now();
            let response = browser.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let body = response.text().await.unwrap();
            (started.elapsed(), body.len())
        }
    };
    let (first_view, _) = view(browser.clone()).await;
    eprintln!("[{name}] first view (cells computed from scratch): {}", ms(first_view));
    let mut views = vec![];
    let mut page_bytes = 0;
    for _ in 0..VIEWS {
        let (t, bytes) = view(browser.clone()).await;
        views.push(t);
        page_bytes = bytes;
    }
    let selection = parse_selection(
        &SelectionInput {
            from: Some("2025-12-01"),
            to: Some("2026-11-30"),
            group: Some("month"),
            breakdown: Some("team"),
        },
        now().date(),
    )
    .unwrap();
    let pool = state.pool.clone();
    let store_calls = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let tz: chrono_tz::Tz = "Europe/London".parse().unwrap();
        (0..VIEWS)
            .map(|_| {
                let started = Instant::now();
                let dashboard = rapport::store::trends::dashboard(&mut conn, tz, &selection, now()).unwrap();
                assert!(!dashboard.cells.is_empty());
                started.elapsed()
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let mut after_new_answer = vec![];
    for n in 0..5 {
        let pool = state.pool.clone();
        tokio::task::spawn_blocking(move || one_more_answer(&mut pool.get().unwrap(), n, instrument_id))
            .await
            .unwrap();
        after_new_answer.push(view(browser.clone()).await.0);
    }
    handle.stop(true).await;
    Figures {
        name,
        load: load_time,
        loaded,
        first_view,
        views,
        store_calls,
        after_new_answer,
        page_bytes,
    }
}

fn report(clients: usize, figures: &[Figures]) {
    println!();
    println!("Rapport dashboard benchmark: 12 months, team by month ({VIEW})");
    println!(
        "{clients} clients, {} teams, {} clinicians; time zone Europe/London",
        TEAMS, CLINICIANS
    );
    for f in figures {
        let l = &f.loaded;
        println!();
        println!("{}", f.name);
        println!(
            "  loaded       {} clients, {} appointments, {} invitations, {} answers, {} alerts, {} signals, {} repair-log events",
            l.clients, l.appointments, l.invitations, l.answers, l.alerts, l.signals, l.events
        );
        println!(
            "  load time    {:.1} s (multi-row INSERTs in transactions, through the insights triggers)",
            f.load.as_secs_f64()
        );
        println!(
            "  first view   {} (every week and month computed from the loaded rows)",
            ms(f.first_view)
        );
        println!(
            "  page view    median {}, p95 {}, fastest {} over {} views (HTTP through the real server, {} KB of HTML)",
            ms(median(&f.views)),
            ms(p95(&f.views)),
            ms(*f.views.iter().min().unwrap()),
            f.views.len(),
            f.page_bytes / 1024
        );
        println!(
            "  store call   median {} (store::trends::dashboard alone)",
            ms(median(&f.store_calls))
        );
        println!(
            "  after a new answer   median {} over {} views (recomputes the current week and month first)",
            ms(median(&f.after_new_answer)),
            f.after_new_answer.len()
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; this benchmark has no options of its own.
    let clients: usize = std::env::var("RAPPORT_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let backends = std::env::var("RAPPORT_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut figures = vec![];
    if backends.contains("sqlite") {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        figures.push(runtime.block_on(run("SQLite", url, clients)));
    }
    if backends.contains("postgres") {
        match std::env::var("RAPPORT_TEST_POSTGRES_URL")
            .ok()
            .filter(|s| !s.is_empty())
        {
            None => eprintln!("PostgreSQL skipped: set RAPPORT_TEST_POSTGRES_URL"),
            Some(admin) => {
                let name = format!("rapport_bench_{}", hex::encode(rand::random::<[u8; 4]>()));
                let mut admin_conn = diesel::PgConnection::establish(&admin).expect("PostgreSQL is reachable");
                admin_conn.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&format!("/{name}"));
                figures.push(runtime.block_on(run("PostgreSQL", url.to_string(), clients)));
                let _ = admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
    report(clients, &figures);
}
