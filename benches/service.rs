//! Service benchmarks, each against a ceiling measured in the same run
//! (this machine is shared and noisy: compare the ratios, not the figures).
//!
//!   cargo bench --bench service            (all four)
//!   cargo bench --bench service -- email   (one: email, answers, pages or store)
//!
//! 1. Email: the outbox dispatcher's throughput to a local SMTP listener,
//!    against the listener's own accept rate (a raw SMTP client).
//! 2. Answers: `POST /s/{token}` throughput and p99 latency under 16
//!    concurrent clients on SQLite, against `GET /healthz` on the same server.
//! 3. Pages: the clinician's inbox and a client page with 200 sessions,
//!    rendered from SQLite holding the demo clinic.
//! 4. Store: one indexed SQLite read through diesel's `MultiConnection`
//!    wrapper against the same read on the backend's own connection.

#[path = "../tests/integration/common/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rapport::clock::{Clock, ManualClock};
use rapport::config::{RawSettings, Settings};
use rapport::context::Context;
use rapport::domain::appointment::{AppointmentIn, AppointmentStatus, ClientDetails};
use rapport::domain::instrument::{Answer, Answers};
use rapport::store::invitations::Mailing;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const MESSAGES: usize = 1000;
const ANSWERS: usize = 1000;
const CONCURRENCY: usize = 16;

struct Bench {
    state: Context,
    clock: ManualClock,
    address: String,
    _dir: tempfile::TempDir,
}

async fn start(smtp_url: &str) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut raw = RawSettings::new();
    raw.insert(
        "DATABASE_URL".into(),
        format!("sqlite://{}", dir.path().join("bench.db").display()),
    );
    raw.insert("BASE_URL".into(), format!("http://127.0.0.1:{port}"));
    raw.insert("SMTP_URL".into(), smtp_url.into());
    raw.insert("QUIET_HOURS".into(), "off".into());
    raw.insert("TIME_ZONE".into(), "UTC".into());
    raw.insert("SECRET_KEY".into(), "b".repeat(64));
    let settings = Settings::from_raw(&raw).unwrap();
    let clock = ManualClock::new(
        NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap(),
    );
    let state = {
        let clock = clock.clone();
        tokio::task::spawn_blocking(move || rapport::app::prepare(settings, Arc::new(clock)))
            .await
            .unwrap()
            .unwrap()
    };
    let server = rapport::web::serve(state.clone(), listener, Some(2)).unwrap();
    tokio::spawn(server);
    Bench {
        state,
        clock,
        address: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

async fn db<T: Send + 'static>(
    state: &Context,
    f: impl FnOnce(&mut rapport::store::DbConnection, &Mailing) -> T + Send + 'static,
) -> T {
    let pool = state.pool.clone();
    let sealer = state.sealer.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let mailing = Mailing {
            sealer: &sealer,
            message_domain: "bench",
            clinic_tz: chrono_tz::UTC,
            default_language: "en",
        };
        f(&mut conn, &mailing)
    })
    .await
    .unwrap()
}

/// `n` attended sessions for `n` clients of one clinician; returns the
/// invitation ids.
async fn sessions(bench: &Bench, n: usize, prefix: &'static str) -> Vec<rapport::store::InvitationId> {
    let now = bench.clock.now();
    let settings = bench.state.settings.clone();
    db(&bench.state, move |conn, mailing| {
        if rapport::store::staff::find_by_email(conn, "bench@example.org")
            .unwrap()
            .is_none()
        {
            rapport::store::staff::create_staff(
                conn,
                &rapport::store::staff::NewStaff {
                    email: "bench@example.org",
                    name: "Bench Clinician",
                    role: rapport::store::staff::Role::Clinician,
                    team_id: None,
                    password_hash: "x",
                },
                now,
            )
            .unwrap();
        }
        let rules = rapport::store::invitations::delivery_rules(conn, &settings).unwrap();
        conn.write_transaction(|conn| {
            (0..n)
                .map(|i| {
                    let input = AppointmentIn {
                        source: "bench".into(),
                        external_id: format!("{prefix}-{i}"),
                        clinician_email: "bench@example.org".into(),
                        client: ClientDetails {
                            external_id: format!("{prefix}-client-{i}"),
                            name: format!("Client {i}"),
                            email: Some(format!("c{i}@example.net")),
                            language: None,
                            time_zone: None,
                        },
                        starts_at: now - chrono::Duration::minutes(50),
                        ends_at: now,
                        status: AppointmentStatus::Attended,
                    };
                    rapport::store::intake::record(conn, &input, &rules, mailing, now).map(|r| r.invitation.unwrap().id)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
    })
    .await
}

/// The smtp listener's own accept rate: a raw client sending over 4
/// connections, as the dispatcher's pool does.
/// The listener's own accept rate for `message` (the bytes the dispatcher
/// sent, so the listener does the same work per message): a raw client on
/// four connections with `TCP_NODELAY` that pipelines `MAIL`/`RCPT`/`DATA`
/// and writes the body in one go, doing nothing else.
async fn smtp_ceiling(port: u16, messages: usize, message: &[u8]) -> f64 {
    // Dot-stuffed once, as on the wire.
    let mut body = Vec::with_capacity(message.len() + 64);
    let mut line_start = true;
    for &b in message {
        if line_start && b == b'.' {
            body.push(b'.');
        }
        body.push(b);
        line_start = b == b'\n';
    }
    if !body.ends_with(b"\r\n") {
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b".\r\n");
    let body = Arc::new(body);
    let started = Instant::now();
    let per = messages / 4;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let body = body.clone();
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                lines.next_line().await.unwrap();
                write.write_all(b"EHLO bench\r\n").await.unwrap();
                while !lines.next_line().await.unwrap().unwrap().starts_with("250 ") {}
                for _ in 0..per {
                    write
                        .write_all(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
                        .await
                        .unwrap();
                    for _ in 0..3 {
                        lines.next_line().await.unwrap();
                    }
                    write.write_all(&body).await.unwrap();
                    lines.next_line().await.unwrap();
                }
                write.write_all(b"QUIT\r\n").await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (per * 4) as f64 / started.elapsed().as_secs_f64()
}

struct Load {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Runs `requests` with CONCURRENCY clients; each request is made by `make(i)`.
async fn load<F, Fut>(requests: usize, make: F) -> Load
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = reqwest::StatusCode> + Send,
{
    let make = Arc::new(make);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (make, next) = (make.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = vec![];
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= requests {
                        return latencies;
                    }
                    let t = Instant::now();
                    let status = make(i).await;
                    assert!(status.is_success(), "request {i} answered {status}");
                    latencies.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut all = vec![];
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    Load {
        per_second: requests as f64 / elapsed.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

/// The dispatcher against the listener's own rate, once with a listener
/// that does not advertise PIPELINING (lettre's one command per round
/// trip) and once with one that does.
/// CPU time this process has used, in milliseconds (user + system, from
/// `/proc/self/stat`, 10 ms ticks): both ends share the process, so the
/// CPU a run takes per message says where the time goes.
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (tick(11) + tick(12)) * 10
}

async fn email() {
    for pipelining in [false, true] {
        let smtp = smtp::SmtpServer::start().await;
        if !pipelining {
            smtp.without_pipelining();
        }
        let bench = start(&smtp.url()).await;
        sessions(&bench, MESSAGES, "mail").await;
        bench.clock.advance(chrono::Duration::minutes(61));
        let (started, cpu) = (Instant::now(), cpu_ms());
        let round = rapport::mail::dispatcher::dispatch_due(&bench.state.outbound())
            .await
            .unwrap();
        let dispatched = round.sent as f64 / started.elapsed().as_secs_f64();
        let dispatch_cpu = cpu_ms() - cpu;
        assert_eq!(round.sent, MESSAGES);
        let sent = smtp.received();
        let cpu = cpu_ms();
        let ceiling = smtp_ceiling(smtp.port, MESSAGES, &sent[0].data).await;
        let ceiling_cpu = cpu_ms() - cpu;
        println!(
            "email ({}): dispatcher {dispatched:.0} messages/s; the listener's own accept rate {ceiling:.0} messages/s \
             (same {}-byte message); ratio {:.2}",
            if pipelining {
                "server pipelines"
            } else {
                "server does not pipeline"
            },
            sent[0].data.len(),
            dispatched / ceiling
        );
        println!(
            "  CPU per message (both ends, this process): dispatcher and listener {} µs; raw client and listener {} µs",
            dispatch_cpu * 1000 / MESSAGES as u64,
            ceiling_cpu * 1000 / MESSAGES as u64
        );
    }
}

async fn answers() {
    let smtp = smtp::SmtpServer::start().await;
    let bench = start(&smtp.url()).await;
    let invitations = sessions(&bench, ANSWERS, "answer").await;
    let sealer = bench.state.sealer.clone();
    let tokens: Vec<String> = db(&bench.state, move |conn, _| {
        use diesel::prelude::*;
        use rapport::store::schema::outbox;
        outbox::table
            .filter(outbox::invitation_id.eq_any(&invitations))
            .filter(outbox::kind.eq("invitation"))
            .select(outbox::payload)
            .load::<String>(conn)
            .unwrap()
            .into_iter()
            .map(|p| match serde_json::from_str(&sealer.open(&p).unwrap()).unwrap() {
                rapport::store::outbox::Payload::Survey { survey_token, .. } => survey_token,
                _ => unreachable!(),
            })
            .collect()
    })
    .await;
    let http = reqwest::Client::new();
    let base = bench.address.clone();
    let (h, b) = (http.clone(), base.clone());
    let health = load(ANSWERS * 3, move |_| {
        let (h, url) = (h.clone(), format!("{b}/healthz"));
        async move { h.get(url).send().await.unwrap().status() }
    })
    .await;
    let tokens = Arc::new(tokens);
    let answers = load(ANSWERS, move |i| {
        let (h, url) = (http.clone(), format!("{base}/s/{}", tokens[i]));
        async move {
            h.post(url)
                .form(&[
                    ("bond", "9"),
                    ("goals", "8"),
                    ("approach", "9"),
                    ("overall", "9"),
                    ("uncomfortable", "no"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    })
    .await;
    println!(
        "answers: POST /s/{{token}} {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms; GET /healthz {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms; throughput ratio {:.2} ({CONCURRENCY} concurrent clients, SQLite)",
        answers.per_second,
        answers.p50_ms,
        answers.p99_ms,
        health.per_second,
        health.p50_ms,
        health.p99_ms,
        answers.per_second / health.per_second
    );
}

async fn pages() {
    let smtp = smtp::SmtpServer::start().await;
    let bench = start(&smtp.url()).await;
    let now = bench.clock.now();
    let settings = bench.state.settings.clone();
    // The demo clinic, and one of its clinicians' clients with 200 answered sessions.
    let client_id = db(&bench.state, move |conn, mailing| {
        conn.write_transaction(|conn| rapport::demo::load(conn, now, &settings, mailing))
            .unwrap();
        let clinician = rapport::store::staff::find_by_email(conn, "clinician1@demo.rapport.test")
            .unwrap()
            .unwrap();
        let instrument_id = rapport::store::instruments::default_id(conn).unwrap().unwrap();
        let instrument = rapport::store::history::instrument(conn, instrument_id).unwrap();
        let client = rapport::store::clients::create(
            conn,
            &rapport::store::clients::NewClient {
                clinician_id: clinician.id,
                name: "Long Term Client".into(),
                email: Some("long@example.org".into()),
                language: "en".into(),
                ..Default::default()
            },
            now,
        )
        .unwrap();
        conn.write_transaction(|conn| {
            for s in 0..200i64 {
                let start = now - chrono::Duration::weeks(200 - s);
                let (appointment, _) = rapport::store::appointments::upsert(
                    conn,
                    &rapport::store::appointments::NewAppointment {
                        client_id: client.id,
                        clinician_id: clinician.id,
                        starts_at: start,
                        ends_at: start + chrono::Duration::minutes(50),
                        status: AppointmentStatus::Attended,
                        source: "bench".into(),
                        external_id: format!("long-{s}"),
                    },
                    now,
                )?;
                let sent = start + chrono::Duration::hours(2);
                let answered = (s % 9 != 4).then_some(sent + chrono::Duration::hours(3));
                let invitation = rapport::store::invitations::insert_settled(
                    conn,
                    &appointment,
                    instrument_id,
                    sent,
                    answered,
                    sent + chrono::Duration::days(4),
                )?;
                if let Some(at) = answered {
                    let v = [10.0, 9.0, 8.0, 9.0, 10.0, 7.0][(s % 6) as usize];
                    let answers = Answers::new()
                        .with("bond", Answer::Number(v))
                        .with("goals", Answer::Number(9.0))
                        .with("approach", Answer::Number(9.0))
                        .with("overall", Answer::Number(9.0))
                        .with("uncomfortable", Answer::Bool(false));
                    rapport::store::responses::insert(conn, &invitation, &instrument, &answers, "en", at)?;
                }
                rapport::actions::alerts::evaluate_client(conn, &client, mailing, sent + chrono::Duration::days(4))?;
            }
            Ok::<_, rapport::store::StoreError>(())
        })
        .unwrap();
        client.id
    })
    .await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed = browser
        .post(format!("{}/sign-in", bench.address))
        .form(&[
            ("email", "clinician1@demo.rapport.test"),
            ("password", rapport::demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    for (name, path) in [
        ("GET /healthz (ceiling)", "/healthz".to_string()),
        ("inbox", "/clinician".to_string()),
        ("client page, 200 sessions", format!("/clinician/clients/{client_id}")),
    ] {
        let mut times = vec![];
        for _ in 0..60 {
            let t = Instant::now();
            let response = browser.get(format!("{}{path}", bench.address)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let _ = response.bytes().await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "pages: {name}: median {:.1} ms, p95 {:.1} ms (60 sequential requests)",
            ms(times[30]),
            ms(times[57])
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run only under bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // `cargo bench --bench service -- email` runs one part (email, answers, pages, store).
        let wanted = |part: &str| {
            let parts: Vec<String> = std::env::args()
                .skip(1)
                .filter(|a| ["email", "answers", "pages", "store"].contains(&a.as_str()))
                .collect();
            parts.is_empty() || parts.iter().any(|p| p == part)
        };
        if wanted("email") {
            email().await;
        }
        if wanted("answers") {
            answers().await;
        }
        if wanted("pages") {
            pages().await;
        }
        if wanted("store") {
            store_paths();
        }
    });
}

/// One indexed read (a clinic setting) through the `MultiConnection`
/// wrapper and on the backend's own connection (`store::kv::get`, written
/// with `on_backend!`), on SQLite: the wrapper writes the query's SQL out on
/// every run to find its prepared statement.
fn store_paths() {
    use diesel::prelude::*;
    use rapport::store::schema::settings;
    let path = std::env::temp_dir().join("rapport-store-paths.db");
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let pool = rapport::store::build_pool(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    rapport::store::run_migrations(&mut conn).unwrap();
    rapport::store::kv::set(&mut conn, "k", "v", chrono::Utc::now().naive_utc()).unwrap();
    let n = 200_000;
    for round in 0..3 {
        let t = std::time::Instant::now();
        for _ in 0..n {
            let v: Option<String> = settings::table
                .find("k")
                .select(settings::value)
                .first(&mut *conn)
                .optional()
                .unwrap();
            assert!(v.is_some());
        }
        let wrapped = t.elapsed().as_nanos() as f64 / n as f64;
        let t = std::time::Instant::now();
        for _ in 0..n {
            let v = rapport::store::kv::get(&mut conn, "k").unwrap();
            assert!(v.is_some());
        }
        let direct = t.elapsed().as_nanos() as f64 / n as f64;
        println!(
            "store (round {round}): one read through MultiConnection {wrapped:.0} ns, on the backend's connection {direct:.0} ns ({:.2})",
            direct / wrapped
        );
    }
}
