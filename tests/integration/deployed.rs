//! The shipped binary as a clinic runs it: separate `rapport serve`,
//! `serve --no-jobs` and `jobs` processes started from the environment the
//! README documents, sending over real SMTP to a listener in the test, on
//! SQLite and PostgreSQL. Nothing here builds the app in-process.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::smtp::{Refusal, SmtpServer};
use crate::common::{Backend, TestDb, page_text};
use diesel::prelude::*;
use mail_parser::MessageParser;
use serde_json::{Value, json};

const CLINICIAN: &str = "clinician@example.org";
const ADMIN: &str = "admin@example.org";
const PASSWORD: &str = "a long process-test password";

/// A clinic's deployment: one database, one SMTP server, a folder for logs.
struct Clinic {
    db: TestDb,
    smtp: SmtpServer,
    dir: tempfile::TempDir,
    api_key: String,
    /// The public address (RAPPORT_BASE_URL) every process is given, as a
    /// clinic behind one host name would: the first web process listens
    /// on it.
    public_port: u16,
}

/// One running `rapport` process; killed when dropped.
struct Process {
    child: Child,
    port: Option<u16>,
    log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port.expect("a web process"))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, as the kernel's OOM killer or a pulled plug would.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Clinic {
    /// A fresh database with a clinician, an admin and an API key, all
    /// made with the `rapport` commands an operator would use.
    async fn open(backend: Backend) -> Option<Clinic> {
        let db = TestDb::create(backend)?;
        let smtp = SmtpServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut clinic = Clinic {
            db,
            smtp,
            dir,
            api_key: String::new(),
            public_port: free_port(),
        };
        clinic.add_staff("clinician", CLINICIAN, "Dr Clinician");
        clinic.add_staff("admin", ADMIN, "Ada Admin");
        let output = clinic
            .command()
            .args(["apikey", "create", "--name", "Practice system"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        clinic.api_key = String::from_utf8(output.stdout).unwrap().trim().to_string();
        Some(clinic)
    }

    /// `rapport` with this clinic's settings in its environment and nothing
    /// else of ours (the test's own RAPPORT_* variables removed).
    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rapport"));
        cmd.current_dir(self.dir.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("RAPPORT_") || key == "DATABASE_URL" {
                cmd.env_remove(key);
            }
        }
        cmd.env("RAPPORT_DATABASE_URL", &self.db.url)
            .env("RAPPORT_SMTP_URL", self.smtp.url())
            .env("RAPPORT_MAIL_FROM", "Riverside Clinic <feedback@riverside.example>")
            .env("RAPPORT_CLINIC_NAME", "Riverside Clinic")
            .env("RAPPORT_TIME_ZONE", "UTC")
            .env("RAPPORT_QUIET_HOURS", "off")
            .env("RAPPORT_INVITE_DELAY_MINUTES", "0")
            .env("RAPPORT_JOB_INTERVAL_SECONDS", "1")
            .env("RAPPORT_DB_POOL_SIZE", "4")
            .env("RAPPORT_BASE_URL", format!("http://127.0.0.1:{}", self.public_port));
        cmd
    }

    fn add_staff(&self, role: &str, email: &str, name: &str) {
        let mut child = self
            .command()
            .args(["user", "add", "--role", role, "--email", email, "--name", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }

    /// Starts `rapport <args>`; a web process is waited for until ready.
    async fn start(&self, args: &[&str]) -> Process {
        let web = args.first() != Some(&"jobs");
        // The public port while it is free (the first web process, or a
        // restart after it was killed), else any.
        let port = web.then(|| {
            if TcpListener::bind(("127.0.0.1", self.public_port)).is_ok() {
                self.public_port
            } else {
                free_port()
            }
        });
        let log = self.dir.path().join(format!("rapport-{}.log", rand::random::<u32>()));
        let mut cmd = self.command();
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap());
        if let Some(port) = port {
            cmd.env("RAPPORT_BIND", format!("127.0.0.1:{port}"));
        }
        let mut process = Process {
            child: cmd.spawn().unwrap(),
            port,
            log,
        };
        if let Some(port) = port {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
                    && r.status() == 200
                {
                    break;
                }
                if let Ok(Some(status)) = process.child.try_wait() {
                    panic!("rapport {args:?} exited with {status}:\n{}", process.log());
                }
                assert!(Instant::now() < deadline, "not ready in 60 s:\n{}", process.log());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("rapport {args:?} exited with {status}:\n{}", process.log());
            }
        }
        process
    }

    /// Runs SQL against the clinic's database (to let time pass: the
    /// binary runs on the real clock).
    async fn sql(&self, statement: String) {
        let url = self.db.url.clone();
        tokio::task::spawn_blocking(move || {
            use diesel::connection::SimpleConnection;
            let mut conn = rapport::store::establish(&url).unwrap();
            conn.batch_execute(&statement).unwrap();
        })
        .await
        .unwrap();
    }

    async fn count(&self, query: impl Into<String>) -> i64 {
        let query: String = query.into();
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let url = self.db.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = rapport::store::establish(&url).unwrap();
            diesel::sql_query(&query).get_result::<N>(&mut conn).unwrap().n
        })
        .await
        .unwrap()
    }

    /// Waits until `address` has received `n` messages; returns them.
    async fn mail_for(&self, address: &str, n: usize, within: Duration) -> Vec<crate::common::smtp::ReceivedMail> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.smtp.received_by(address);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{address} received {} of {n} messages within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn post_appointment(&self, web: &Process, external_id: &str, client: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(web.url("/api/v1/appointments"))
            .bearer_auth(&self.api_key)
            .json(&appointment(external_id, client))
            .send()
            .await
            .unwrap()
    }
}

/// An attended appointment that ended five minutes ago.
fn appointment(external_id: &str, client: &str) -> Value {
    let end = chrono::Utc::now() - chrono::Duration::minutes(5);
    json!({
        "source": "pms",
        "external_id": external_id,
        "clinician_email": CLINICIAN,
        "client": {"external_id": client, "name": format!("Client {client}"), "email": email_of(client)},
        "start": (end - chrono::Duration::minutes(50)).to_rfc3339(),
        "end": end.to_rfc3339(),
        "status": "attended",
    })
}

fn email_of(client: &str) -> String {
    format!("{client}@example.net")
}

fn text_of(raw: &[u8]) -> String {
    MessageParser::default()
        .parse(raw)
        .unwrap()
        .body_text(0)
        .unwrap()
        .to_string()
}

fn header(raw: &[u8], name: &str) -> String {
    let message = MessageParser::default().parse(raw).unwrap();
    message
        .header_raw(name)
        .unwrap_or_else(|| panic!("a {name} header"))
        .trim()
        .to_string()
}

/// The survey link in an email, made absolute.
fn survey_link(raw: &[u8]) -> String {
    let text = text_of(raw);
    let start = text.find("http").unwrap_or_else(|| panic!("a link in {text}"));
    let link = text[start..].split_whitespace().next().unwrap().to_string();
    assert!(link.contains("/s/"), "a survey link: {link}");
    link
}

async fn signed_in(web: &Process, email: &str) -> reqwest::Client {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser
        .post(web.url("/sign-in"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{email} signs in");
    browser
}

/// An appointment sent over the API by the clinic's practice system.
async fn post_appointment(server: &Process, clinic: &Clinic, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/api/v1/appointments"))
        .bearer_auth(&clinic.api_key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The clinician chooses how they hear about high and other alerts.
async fn set_alert_emails(web: &Process, clinician: &reqwest::Client, high: &str, other: &str) {
    let page = page_text(clinician, web.url("/clinician/settings")).await;
    let saved = clinician
        .post(web.url("/clinician/settings"))
        .form(&[
            ("csrf", csrf_from(&page).as_str()),
            ("notify_high", high),
            ("notify_other", other),
        ])
        .send()
        .await
        .unwrap();
    assert!(saved.status().is_redirection(), "{}", saved.status());
}

fn csrf_from(html: &str) -> String {
    crate::common::csrf_from(html)
}

/// Answers the shipped alliance questionnaire with these four items.
async fn answer(link: &str, items: [u8; 4]) -> reqwest::Response {
    let mut form: Vec<(&str, String)> = ["bond", "goals", "approach", "overall"]
        .iter()
        .zip(items)
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    form.push(("uncomfortable", "no".into()));
    reqwest::Client::new().post(link).form(&form).send().await.unwrap()
}

fn assert_no_panic(process: &Process) {
    let log = process.log();
    assert!(!log.contains("panicked"), "no panic in the log:\n{log}");
}

// ---------------------------------------------------------------------------

/// The whole loop across three processes: appointment over the API on a
/// web-only instance → the job runner emails the link over SMTP → the
/// client answers → an alert opens → the clinician's notice goes out over
/// SMTP → an unanswered invitation gets its reminder.
async fn whole_loop_across_processes(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    let web = clinic.start(&["serve", "--no-jobs"]).await;
    let jobs = clinic.start(&["jobs"]).await;

    // The clinician asks for an immediate email about every alert.
    let clinician = signed_in(&web, CLINICIAN).await;
    set_alert_emails(&web, &clinician, "immediate", "immediate").await;

    let recorded = clinic.post_appointment(&web, "A-1", "amira").await;
    assert_eq!(recorded.status(), 201, "{}", recorded.text().await.unwrap());
    let invitation = clinic.mail_for(&email_of("amira"), 1, Duration::from_secs(30)).await;
    let raw = &invitation[0].data;
    assert!(header(raw, "From").contains("feedback@riverside.example"));
    assert!(
        header(raw, "List-Unsubscribe").contains("http"),
        "one-click unsubscribe"
    );
    let link = survey_link(raw);
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("fieldset"), "the questionnaire");

    // 2/2/2/2 is far below the cutoff: an alert opens and the clinician
    // is told at once, without the client's name.
    let thanks = answer(&link, [2, 2, 2, 2]).await;
    assert_eq!(thanks.status(), 200);
    assert!(thanks.text().await.unwrap().contains("Thank you"));
    let notice = clinic.mail_for(CLINICIAN, 1, Duration::from_secs(30)).await;
    let notice_text = text_of(&notice[0].data);
    assert!(
        !notice_text.contains("amira") && !notice_text.contains("Client amira"),
        "{notice_text}"
    );
    let inbox = clinician.get(web.url("/clinician")).send().await.unwrap();
    let inbox = if inbox.status().is_redirection() {
        let to = inbox.headers()["location"].to_str().unwrap().to_string();
        clinician.get(web.url(&to)).send().await.unwrap()
    } else {
        inbox
    };
    assert!(
        inbox.text().await.unwrap().contains("Client amira"),
        "the alert in the inbox"
    );

    // A second client does not answer: the reminder goes out when due
    // (48 hours later; the test moves the reminder's time instead).
    assert_eq!(clinic.post_appointment(&web, "B-1", "bilal").await.status(), 201);
    let first = clinic.mail_for(&email_of("bilal"), 1, Duration::from_secs(30)).await;
    clinic
        .sql("UPDATE outbox SET next_attempt_at = next_attempt_at - INTERVAL '3 days' WHERE kind = 'reminder' AND status = 'pending'".replace(
            "next_attempt_at - INTERVAL '3 days'",
            if backend == Backend::Sqlite { "datetime(next_attempt_at, '-3 days')" } else { "next_attempt_at - INTERVAL '3 days'" },
        ))
        .await;
    let both = clinic.mail_for(&email_of("bilal"), 2, Duration::from_secs(30)).await;
    let (first_link, reminder_link) = (survey_link(&first[0].data), survey_link(&both[1].data));
    assert_ne!(first_link, reminder_link, "the reminder carries its own link");
    assert_eq!(reqwest::get(&reminder_link).await.unwrap().status(), 200);
    // Amira answered, so her reminder was never sent.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(clinic.smtp.received_by(&email_of("amira")).len(), 1);

    // Every message went exactly once.
    let ids: Vec<String> = clinic
        .smtp
        .received()
        .iter()
        .map(|m| header(&m.data, "Message-ID"))
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "no message sent twice: {ids:?}");
    assert_no_panic(&web);
    assert_no_panic(&jobs);
}
on_both_backends!(whole_loop_across_processes, whole_loop_across_processes);

/// SMTP refusals as a real server gives them: 451 (greylisting, a full
/// queue) is retried after a backoff, without hammering the server; 550
/// for an unknown mailbox stops and shows on Admin → Email delivery.
async fn smtp_refusals(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    clinic.smtp.refuse(1, Refusal::Transient);
    clinic.smtp.refuse_recipient(&email_of("nobody"));
    let server = clinic.start(&["serve"]).await;
    assert_eq!(clinic.post_appointment(&server, "G-1", "greta").await.status(), 201);
    assert_eq!(clinic.post_appointment(&server, "N-1", "nobody").await.status(), 201);

    // Both were tried once; neither got through.
    let deadline = Instant::now() + Duration::from_secs(30);
    while clinic.smtp.attempts_for(&email_of("greta")) + clinic.smtp.attempts_for(&email_of("nobody")) < 2 {
        assert!(Instant::now() < deadline, "both messages tried");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Several job passes later: no retry before the backoff, no busy loop.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        clinic.smtp.attempts_for(&email_of("greta")),
        1,
        "451 waits for its backoff"
    );
    assert_eq!(clinic.smtp.attempts_for(&email_of("nobody")), 1, "550 is not retried");
    assert!(clinic.smtp.received().is_empty());

    let admin = signed_in(&server, ADMIN).await;
    let page = page_text(&admin, server.url("/admin/email")).await;
    assert!(page.contains(&email_of("nobody")) && page.contains("failed"), "{page}");
    assert!(page.contains("550"), "the server's reason is shown");
    assert!(page.contains("retrying"), "the 451'd message waits to retry");

    // The backoff runs out (moved forward here): the message goes, once.
    clinic
        .sql(if backend == Backend::Sqlite {
            "UPDATE outbox SET next_attempt_at = datetime('now', '-1 minute') WHERE status = 'pending' AND last_error IS NOT NULL".to_string()
        } else {
            "UPDATE outbox SET next_attempt_at = now() AT TIME ZONE 'UTC' - INTERVAL '1 minute' WHERE status = 'pending' AND last_error IS NOT NULL".to_string()
        })
        .await;
    let got = clinic.mail_for(&email_of("greta"), 1, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(clinic.smtp.received_by(&email_of("greta")).len(), 1, "delivered once");
    assert!(survey_link(&got[0].data).contains("/s/"));
    assert_eq!(clinic.smtp.attempts_for(&email_of("nobody")), 1);
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed'")
            .await,
        1
    );
    assert_no_panic(&server);
}
on_both_backends!(smtp_refusals, smtp_refusals);

/// The server is killed (SIGKILL) while a message is in the middle of its
/// SMTP conversation. Restarted, it sends that message at once — not after
/// the two-minute lease — and exactly once.
async fn killed_during_dispatch(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    clinic.smtp.hold(1, Duration::from_secs(120));
    let first = clinic.start(&["serve"]).await;
    assert_eq!(clinic.post_appointment(&first, "K-1", "kai").await.status(), 201);
    let deadline = Instant::now() + Duration::from_secs(30);
    while clinic.smtp.holding() == 0 {
        assert!(Instant::now() < deadline, "the message reached the SMTP server");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill();
    while clinic.smtp.holding() > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        clinic.smtp.received().is_empty(),
        "the unacknowledged message was dropped"
    );

    let restarted = Instant::now();
    let second = clinic.start(&["serve"]).await;
    clinic.mail_for(&email_of("kai"), 1, Duration::from_secs(30)).await;
    let took = restarted.elapsed();
    assert!(took < Duration::from_secs(30), "sent {took:?} after the restart");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(clinic.smtp.received_by(&email_of("kai")).len(), 1, "sent once");
    assert!(second.log().contains("no longer running"), "{}", second.log());
    assert_no_panic(&second);
}
on_both_backends!(killed_during_dispatch, killed_during_dispatch);

/// A practice system retries: the same appointment reaches two web
/// instances at the same moment, 100 times over. Every answer is 200 or
/// 201, and each appointment and client is stored once.
async fn identical_requests_race_two_instances(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    let (one, two) = (
        clinic.start(&["serve", "--no-jobs"]).await,
        clinic.start(&["serve", "--no-jobs"]).await,
    );
    let http = reqwest::Client::new();
    let mut pairs = vec![];
    for i in 0..100 {
        let body = appointment(&format!("R-{i}"), &format!("race{i}"));
        for web in [&one, &two] {
            let request = http
                .post(web.url("/api/v1/appointments"))
                .bearer_auth(&clinic.api_key)
                .json(&body)
                .send();
            pairs.push(tokio::spawn(async move {
                let response = request.await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            }));
        }
    }
    let mut statuses = std::collections::BTreeMap::new();
    for pair in pairs {
        let (status, body) = pair.await.unwrap();
        assert!(status < 500, "{status}: {body}");
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert_eq!(statuses.values().sum::<i32>(), 200, "{statuses:?}");
    assert_eq!(
        statuses.get(&201),
        Some(&100),
        "one of each pair created it: {statuses:?}"
    );
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM appointments WHERE external_id LIKE 'R-%'")
            .await,
        100
    );
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM clients WHERE external_id LIKE 'race%'")
            .await,
        100
    );
    assert_eq!(clinic.count("SELECT COUNT(*) AS n FROM invitations").await, 100);
    assert_no_panic(&one);
    assert_no_panic(&two);
}
on_both_backends!(
    identical_requests_race_two_instances,
    identical_requests_race_two_instances
);

/// Hostile and careless input from outside, against the running binary:
/// NUL characters in every kind of field, dates outside any clinic's
/// range, an oversized API body and a wrong method. Each gets a clear 4xx;
/// nothing reaches the database as a 500, and the job loop and the
/// manager's page keep working afterwards.
async fn hostile_input_gets_a_clear_refusal(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    clinic.add_staff("manager", "manager@example.org", "Mo Manager");
    let server = clinic.start(&["serve"]).await;
    let http = reqwest::Client::new();
    let api_post = |path: &str, body: String| {
        http.post(server.url(path))
            .bearer_auth(&clinic.api_key)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };

    // NUL in a JSON field.
    let mut body = appointment("N-1", "nul");
    body["client"]["name"] = json!("Ann\u{0}Lee");
    let response = api_post("/api/v1/appointments", body.to_string()).await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert!(response.text().await.unwrap().contains("NUL"));

    // NUL in the sign-in form and in a survey comment.
    let response = http
        .post(server.url("/sign-in"))
        .form(&[("email", "x\u{0}@example.org"), ("password", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("NUL"));
    assert_eq!(clinic.post_appointment(&server, "C-1", "carla").await.status(), 201);
    let link = survey_link(&clinic.mail_for(&email_of("carla"), 1, Duration::from_secs(30)).await[0].data);
    let response = http
        .post(&link)
        .form(&[
            ("bond", "8"),
            ("goals", "8"),
            ("approach", "8"),
            ("overall", "8"),
            ("uncomfortable", "no"),
            ("note", "fine\u{0}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // The link is still open: nothing was stored.
    assert_eq!(http.get(&link).send().await.unwrap().status(), 200);

    // NUL in a CSV upload.
    let admin = signed_in(&server, ADMIN).await;
    let page = page_text(&admin, server.url("/admin/appointments")).await;
    let csv = "client_id,client_name,client_email,clinician_email,start,end,status\n\
               c1,Ann\0Lee,ann@example.org,clinician@example.org,2026-03-02 10:00,2026-03-02 10:50,attended\n";
    let form = reqwest::multipart::Form::new().text("csrf", csrf_from(&page)).part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("a.csv"),
    );
    let response = admin
        .post(server.url("/admin/appointments/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // Dates no clinic has: year -262143 from the clinician's form and a
    // CSV, 9999-12-31 from the API, and as a manager's filter.
    let clinician = signed_in(&server, CLINICIAN).await;
    let page = page_text(&clinician, server.url("/clinician/appointments/new")).await;
    let response = clinician
        .post(server.url("/clinician/appointments"))
        .form(&[
            ("csrf", csrf_from(&page).as_str()),
            ("client", "new"),
            ("new_name", "Old Timer"),
            ("new_email", "old@example.net"),
            ("date", "-262143-01-01"),
            ("time", "10:00"),
            ("minutes", "50"),
            ("status", "attended"),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_client_error() || status == 200, "{status}");
    assert!(
        text.contains("outside the dates") || text.contains("is not a time"),
        "{text}"
    );
    let csv = "client_id,client_name,client_email,clinician_email,start,end,status\n\
               c9,Far Future,far@example.org,clinician@example.org,9999-12-31 23:00,9999-12-31 23:59,attended\n";
    let page = page_text(&admin, server.url("/admin/appointments")).await;
    let form = reqwest::multipart::Form::new().text("csrf", csrf_from(&page)).part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("a.csv"),
    );
    let response = admin
        .post(server.url("/admin/appointments/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(response.status().as_u16() < 500);
    assert!(response.text().await.unwrap().contains("outside the dates"));
    let mut far = appointment("F-1", "far");
    far["start"] = json!("9999-12-31T23:00:00Z");
    far["end"] = json!("9999-12-31T23:59:00Z");
    let response = api_post("/api/v1/appointments", far.to_string()).await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("outside the dates"));
    let manager = signed_in(&server, "manager@example.org").await;
    let response = manager
        .get(server.url("/manager?from=-262143-01-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // An API body over the limit, and a method no route takes.
    let response = api_post(
        "/api/v1/appointments",
        format!("{{\"pad\":\"{}\"}}", "x".repeat(200_000)),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let response = http
        .put(server.url("/api/v1/appointments"))
        .bearer_auth(&clinic.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let response = http.delete(server.url("/sign-in")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        http.get(server.url("/no-such-page")).send().await.unwrap().status(),
        404
    );

    // Nothing bad was stored; the job loop and the manager's page work.
    assert_eq!(clinic.count("SELECT COUNT(*) AS n FROM appointments").await, 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(manager.get(server.url("/manager")).send().await.unwrap().status(), 200);
    let log = server.log();
    assert!(!log.contains("job step failed"), "{log}");
    assert_no_panic(&server);
}
on_both_backends!(hostile_input_gets_a_clear_refusal, hostile_input_gets_a_clear_refusal);

/// `RAPPORT_LOG`, as the README documents it, is a setting the binary
/// takes; a filter it cannot read is refused in one sentence.
#[test]
fn rapport_log_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let run = |filter: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rapport"));
        for (key, _) in std::env::vars() {
            if key.starts_with("RAPPORT_") {
                cmd.env_remove(key);
            }
        }
        cmd.current_dir(dir.path())
            .arg("check-config")
            .env("RAPPORT_LOG", filter)
            .output()
            .unwrap()
    };
    let output = run("rapport=debug,actix_web=warn");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("RAPPORT_LOG = rapport=debug,actix_web=warn"));
    let output = run("rapport=[[[");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("RAPPORT_LOG"));
}

/// The server key stays out of the database: it is written to a file
/// beside it (mode 0600, named in the log), the database keeps only a
/// check value, and a copy of the database without the key file starts
/// nothing (so it can neither sign an admin's cookie nor open a queued
/// link).
async fn server_key_lives_beside_the_database(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    let server = clinic.start(&["serve"]).await;
    assert_eq!(clinic.post_appointment(&server, "S-1", "sara").await.status(), 201);
    clinic.mail_for(&email_of("sara"), 1, Duration::from_secs(30)).await;
    assert_eq!(clinic.post_appointment(&server, "S-2", "sara").await.status(), 201);
    let key_path = if backend == Backend::Sqlite {
        std::path::Path::new(rapport::config::sqlite_path(&clinic.db.url)).with_extension("key")
    } else {
        clinic.dir.path().join("rapport.key")
    };
    let key = std::fs::read_to_string(&key_path).expect("the key file exists");
    let key = key.trim();
    assert!(key.len() >= 64);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only the server's user can read it");
    assert!(
        server.log().contains(&key_path.display().to_string()),
        "{}",
        server.log()
    );
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM settings WHERE key = 'secret_key'")
            .await,
        0
    );
    drop(server);
    if backend == Backend::Sqlite {
        let bytes = std::fs::read(rapport::config::sqlite_path(&clinic.db.url)).unwrap();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "the key is nowhere in the database file"
        );
    }

    // The database without its key: the binary refuses, in one sentence.
    std::fs::rename(&key_path, key_path.with_extension("key.away")).unwrap();
    let output = clinic
        .command()
        .arg("serve")
        .env("RAPPORT_BIND", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("server key") && stderr.contains("restore"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    // Nor with another key.
    let output = clinic
        .command()
        .arg("serve")
        .env("RAPPORT_BIND", format!("127.0.0.1:{}", free_port()))
        .env("RAPPORT_SECRET_KEY", "z".repeat(64))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not the one this database was set up with"));
    // With the key back, the queued reminder still opens and goes out.
    std::fs::rename(key_path.with_extension("key.away"), &key_path).unwrap();
    let server = clinic.start(&["serve"]).await;
    clinic.mail_for(&email_of("sara"), 2, Duration::from_secs(30)).await;
    assert_no_panic(&server);
}
on_both_backends!(
    server_key_lives_beside_the_database,
    server_key_lives_beside_the_database
);

/// Storage faults on SQLite: a database file the process cannot write
/// stops start-up with one sentence; a database locked by another program
/// beyond the busy timeout answers 503 with Retry-After, not 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_storage_faults() {
    let clinic = Clinic::open(Backend::Sqlite).await.unwrap();
    let path = rapport::config::sqlite_path(&clinic.db.url).to_string();

    // Locked by another program for longer than the busy timeout.
    let server = clinic.start(&["serve", "--no-jobs"]).await;
    let locker = {
        let path = path.clone();
        std::thread::spawn(move || {
            use diesel::connection::SimpleConnection;
            let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
            conn.batch_execute("BEGIN EXCLUSIVE").unwrap();
            std::thread::sleep(Duration::from_secs(8));
            conn.batch_execute("ROLLBACK").unwrap();
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response = clinic.post_appointment(&server, "L-1", "lena").await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    locker.join().unwrap();
    assert_eq!(
        clinic.post_appointment(&server, "L-1", "lena").await.status(),
        201,
        "fine once unlocked"
    );
    drop(server);

    // A file that cannot be written (immutable even to root).
    let locked = Command::new("chattr").args(["+i", &path]).status();
    if !matches!(locked, Ok(s) if s.success()) {
        eprintln!("skipped the read-only part: chattr +i is not available here");
        return;
    }
    let _ = std::fs::remove_file(format!("{path}-wal"));
    let output = clinic
        .command()
        .arg("serve")
        .env("RAPPORT_BIND", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    let _ = Command::new("chattr").args(["-i", &path]).status();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&path) || stderr.contains("cannot be written"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr.trim().lines().filter(|l| l.starts_with("rapport:")).count(),
        1,
        "{stderr}"
    );
}

/// A practice system corrects what it sent: the appointment belonged to
/// another client, or only the client's name changed. The questionnaire
/// moves with the appointment (the first client's link stops working, the
/// second gets their own), and a name-only correction is an audited update.
async fn corrections_from_the_practice_system(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    let server = clinic.start(&["serve"]).await;
    assert_eq!(clinic.post_appointment(&server, "M-1", "mia").await.status(), 201);
    let first = clinic.mail_for(&email_of("mia"), 1, Duration::from_secs(30)).await;
    let mia_link = survey_link(&first[0].data);
    assert_eq!(reqwest::get(&mia_link).await.unwrap().status(), 200);

    // The same appointment, now for Noor.
    let moved = clinic.post_appointment(&server, "M-1", "noor").await;
    assert_eq!(moved.status(), 200);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["outcome"], "updated");
    let noor = clinic.mail_for(&email_of("noor"), 1, Duration::from_secs(30)).await;
    let noor_link = survey_link(&noor[0].data);
    assert_ne!(noor_link, mia_link);
    assert_eq!(
        reqwest::get(&noor_link).await.unwrap().status(),
        200,
        "Noor's link opens"
    );
    let old = reqwest::get(&mia_link).await.unwrap();
    assert_eq!(old.status(), 404, "Mia's link no longer opens the questionnaire");
    assert_eq!(answer(&noor_link, [9, 9, 9, 9]).await.status(), 200);
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM responses r JOIN clients c ON c.id = r.client_id WHERE c.external_id = 'noor'")
            .await,
        1,
        "the answer is Noor's"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(clinic.smtp.received_by(&email_of("mia")).len(), 1, "no reminder to Mia");

    // Only the client's name is corrected: an update, audited.
    let audits = clinic
        .count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'appointment.record'")
        .await;
    let body = {
        // The same times as before, so only the name differs.
        let stored = reqwest::Client::new()
            .get(server.url(&format!("/api/v1/appointments/{}", moved["appointment_id"])))
            .bearer_auth(&clinic.api_key)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let mut body = appointment("M-1", "noor");
        body["client"]["name"] = json!("Noor Haddad");
        body["start"] = stored["start"].clone();
        body["end"] = stored["end"].clone();
        body
    };
    let response = post_appointment(&server, &clinic, &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["outcome"], "updated");
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'appointment.record'")
            .await,
        audits + 1
    );
    // Sent again unchanged: nothing to audit.
    let again = post_appointment(&server, &clinic, &body).await;
    assert_eq!(again.json::<Value>().await.unwrap()["outcome"], "unchanged");
    assert_no_panic(&server);
}
on_both_backends!(
    corrections_from_the_practice_system,
    corrections_from_the_practice_system
);

/// A copy of a signed-in cookie, as someone who took it from a shared
/// computer would use it.
fn cookie_client(cookie: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("Cookie", cookie.parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_in_cookie(web: &Process, email: &str, password: &str) -> Option<String> {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(web.url("/sign-in"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    (response.status() == 303).then(|| {
        let set = response.headers()["set-cookie"].to_str().unwrap();
        set.split(';').next().unwrap().to_string()
    })
}

async fn status_of(client: &reqwest::Client, url: String) -> u16 {
    client.get(url).send().await.unwrap().status().as_u16()
}

/// Staff sessions end everywhere at once: sign-out, a password change and
/// deactivation each make every copy of the cookie worthless. Accounts are
/// managed from the admin page and the `rapport user` commands, both
/// audited; passwords follow NIST 800-63B; sign-in refuses cross-site forms
/// and limits guesses per account and address without a race.
async fn staff_sessions_and_accounts(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    let server = clinic.start(&["serve", "--no-jobs"]).await;
    let inbox = server.url("/clinician");

    // Sign-out ends a copied cookie.
    let cookie = sign_in_cookie(&server, CLINICIAN, PASSWORD).await.unwrap();
    let (mine, copy) = (cookie_client(&cookie), cookie_client(&cookie));
    assert_eq!(status_of(&copy, inbox.clone()).await, 200);
    let page = page_text(&mine, &inbox).await;
    let out = mine
        .post(server.url("/sign-out"))
        .form(&[("csrf", csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(status_of(&copy, inbox.clone()).await, 303, "the copy is signed out too");

    // A password change ends other sessions, keeps this one.
    let old = cookie_client(&sign_in_cookie(&server, CLINICIAN, PASSWORD).await.unwrap());
    let me = signed_in(&server, CLINICIAN).await;
    let page = page_text(&me, server.url("/account/password")).await;
    let csrf = csrf_from(&page);
    let change = |new: &'static str| {
        me.post(server.url("/account/password"))
            .form(&[("csrf", csrf.as_str()), ("current", PASSWORD), ("new", new)])
            .send()
    };
    let refused = change("password1234").await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("most common"));
    let refused = change("clinician@example.org").await.unwrap();
    assert!(refused.text().await.unwrap().contains("email address or name"));
    assert_eq!(change("violet kettle under nine moons").await.unwrap().status(), 303);
    assert_eq!(status_of(&me, inbox.clone()).await, 200, "this browser stays signed in");
    assert_eq!(status_of(&old, inbox.clone()).await, 303, "the other session has ended");
    assert!(sign_in_cookie(&server, CLINICIAN, PASSWORD).await.is_none());
    assert!(
        sign_in_cookie(&server, CLINICIAN, "violet kettle under nine moons")
            .await
            .is_some()
    );

    // The admin deactivates the account: its session ends at once.
    let admin = signed_in(&server, ADMIN).await;
    let id = clinic
        .count(format!("SELECT id AS n FROM staff WHERE email = '{CLINICIAN}'"))
        .await;
    let page = page_text(&admin, server.url(&format!("/admin/staff/{id}"))).await;
    assert!(page.contains("Deactivate the account"));
    let done = admin
        .post(server.url(&format!("/admin/staff/{id}")))
        .form(&[("csrf", csrf_from(&page).as_str()), ("change", "deactivate")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(status_of(&me, inbox.clone()).await, 303);
    assert!(
        sign_in_cookie(&server, CLINICIAN, "violet kettle under nine moons")
            .await
            .is_none()
    );
    // The last admin cannot deactivate themselves.
    let admin_id = clinic
        .count(format!("SELECT id AS n FROM staff WHERE email = '{ADMIN}'"))
        .await;
    let page = page_text(&admin, server.url(&format!("/admin/staff/{admin_id}"))).await;
    let refused = admin
        .post(server.url(&format!("/admin/staff/{admin_id}")))
        .form(&[("csrf", csrf_from(&page).as_str()), ("change", "deactivate")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("last active admin"));

    // The same from the server's command line, audited as the command.
    let run = |args: &[&str], stdin: &str| {
        let mut child = clinic
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{stdin}").unwrap();
        child.wait_with_output().unwrap()
    };
    let output = run(&["user", "reactivate", "--email", CLINICIAN], "");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let output = run(&["user", "reset-password", "--email", CLINICIAN], "qwertyuiop");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("most common"));
    let longest = "x".repeat(255) + "y";
    let output = run(
        &["user", "reset-password", "--email", CLINICIAN],
        &(longest.clone() + "z"),
    );
    assert!(!output.status.success(), "longer than the maximum");
    let output = run(&["user", "reset-password", "--email", CLINICIAN], &longest);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        sign_in_cookie(&server, CLINICIAN, &longest).await.is_some(),
        "the longest password signs in"
    );
    let output = run(&["user", "set-role", "--email", CLINICIAN, "--role", "manager"], "");
    assert!(output.status.success());
    let output = run(&["user", "set-team", "--email", CLINICIAN, "--team", "North"], "");
    assert!(output.status.success());
    let output = run(&["user", "deactivate", "--email", "nobody@example.org"], "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no member of staff"));
    for action in [
        "staff.deactivate",
        "staff.reactivate",
        "staff.password",
        "staff.role",
        "staff.team",
        "staff.create",
    ] {
        assert!(
            clinic
                .count(format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"))
                .await
                >= 1,
            "{action} is audited"
        );
    }
    assert!(
        clinic
            .count("SELECT COUNT(*) AS n FROM audit_log WHERE detail LIKE '%by a rapport command%'")
            .await
            >= 5
    );

    // A sign-in form posted from another site is refused.
    let response = reqwest::Client::new()
        .post(server.url("/sign-in"))
        .header("Origin", "https://evil.example")
        .form(&[("email", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = reqwest::Client::new()
        .post(server.url("/sign-in"))
        .header("Sec-Fetch-Site", "cross-site")
        .header("Origin", "null")
        .form(&[("email", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // As a browser sends its own form: accepted.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(server.url("/sign-in"))
        .header("Sec-Fetch-Site", "same-origin")
        .header("Origin", "null")
        .form(&[("email", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);

    // Twenty guesses at once: at most five reach the password check.
    let guesses: Vec<_> = (0..20)
        .map(|_| {
            let url = server.url("/sign-in");
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .form(&[("email", ADMIN), ("password", "a wrong guess here")])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            401 => checked += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(checked <= 5, "{checked} guesses were checked");
    assert_no_panic(&server);
}
on_both_backends!(staff_sessions_and_accounts, staff_sessions_and_accounts);

/// Two web instances and two job runners on one database: appointments
/// arrive at both web instances at once, both runners dispatch, and every
/// client gets exactly one invitation; answers through either instance are
/// each stored once.
async fn two_web_instances_and_two_job_runners(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    let webs = [
        clinic.start(&["serve", "--no-jobs"]).await,
        clinic.start(&["serve", "--no-jobs"]).await,
    ];
    let runners = [clinic.start(&["jobs"]).await, clinic.start(&["jobs"]).await];
    const CLIENTS: usize = 60;
    let posts: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let url = webs[i % 2].url("/api/v1/appointments");
            let key = clinic.api_key.clone();
            let body = appointment(&format!("T-{i}"), &format!("two{i}"));
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for post in posts {
        assert_eq!(post.await.unwrap(), 201);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while clinic.smtp.received().len() < CLIENTS {
        assert!(
            Instant::now() < deadline,
            "{} of {CLIENTS} sent",
            clinic.smtp.received().len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut links = vec![];
    for i in 0..CLIENTS {
        let got = clinic.smtp.received_by(&email_of(&format!("two{i}")));
        assert_eq!(got.len(), 1, "client two{i} got exactly one invitation");
        links.push(survey_link(&got[0].data));
    }
    let answers: Vec<_> = links
        .iter()
        .enumerate()
        .map(|(i, link)| {
            let port = webs[i % 2].port.unwrap();
            let link = link.replace(&format!(":{}/", clinic.public_port), &format!(":{port}/"));
            tokio::spawn(async move { answer(&link, [8, 8, 8, 8]).await.status().as_u16() })
        })
        .collect();
    for a in answers {
        assert_eq!(a.await.unwrap(), 200);
    }
    assert_eq!(
        clinic.count("SELECT COUNT(*) AS n FROM responses").await,
        CLIENTS as i64
    );
    for process in webs.iter().chain(runners.iter()) {
        assert_no_panic(process);
    }
}
on_both_backends!(
    two_web_instances_and_two_job_runners,
    two_web_instances_and_two_job_runners
);

/// The server is killed (SIGKILL) while forty clients are submitting their
/// answers. After a restart every answer is stored exactly once: those
/// that got their thank-you page are there, and the rest go through when
/// the client sends again (or are found already stored).
async fn killed_during_answers(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    const CLIENTS: usize = 40;
    let first = clinic.start(&["serve"]).await;
    for i in 0..CLIENTS {
        assert_eq!(
            clinic
                .post_appointment(&first, &format!("K-{i}"), &format!("kill{i}"))
                .await
                .status(),
            201
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while clinic.smtp.received().len() < CLIENTS {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let links: Vec<String> = (0..CLIENTS)
        .map(|i| survey_link(&clinic.smtp.received_by(&email_of(&format!("kill{i}")))[0].data))
        .collect();
    let submits: Vec<_> = links
        .iter()
        .cloned()
        .map(|link| {
            tokio::spawn(async move {
                let mut form: Vec<(&str, String)> = ["bond", "goals", "approach", "overall"]
                    .iter()
                    .map(|k| (*k, "7".to_string()))
                    .collect();
                form.push(("uncomfortable", "no".into()));
                reqwest::Client::new()
                    .post(&link)
                    .form(&form)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .ok()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    first.kill();
    let mut thanked = 0;
    let mut outcomes = vec![];
    for s in submits {
        let outcome = s.await.unwrap();
        thanked += usize::from(outcome == Some(200));
        outcomes.push(outcome);
    }
    let stored_before = clinic.count("SELECT COUNT(*) AS n FROM responses").await;
    assert!(
        stored_before as usize >= thanked,
        "every thank-you page stands for a stored answer"
    );

    let second = clinic.start(&["serve"]).await;
    for (link, outcome) in links.iter().zip(&outcomes) {
        let again = answer(link, [7, 7, 7, 7]).await;
        let status = again.status().as_u16();
        let text = again.text().await.unwrap();
        if *outcome == Some(200) {
            assert!(
                text.contains("already"),
                "a thanked answer is not stored twice: {status}"
            );
        } else {
            assert!(status == 200, "a lost submission goes through again: {status}");
        }
    }
    assert_eq!(
        clinic.count("SELECT COUNT(*) AS n FROM responses").await,
        CLIENTS as i64,
        "each answer stored exactly once"
    );
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM (SELECT invitation_id FROM responses GROUP BY invitation_id HAVING COUNT(*) > 1) d")
            .await,
        0
    );
    eprintln!("killed during answers: {thanked} of {CLIENTS} thanked before the kill, {stored_before} stored");
    assert_no_panic(&second);
}
on_both_backends!(killed_during_answers, killed_during_answers);

/// PostgreSQL restarts while a practice system is posting appointments and
/// the job loop is sending. Run on its own (it cuts every PostgreSQL
/// connection on the machine): `.ci/run` runs it after the other tests with
/// `RAPPORT_TEST_PG_RESTART` set to the command that restarts the server.
/// Requests during the outage get 503 with Retry-After, never 500; the
/// sender retries them; every appointment is stored once and every client
/// gets exactly one email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts PostgreSQL; run alone with RAPPORT_TEST_PG_RESTART set"]
async fn postgres_restart_under_load() {
    let restart = std::env::var("RAPPORT_TEST_PG_RESTART")
        .expect("RAPPORT_TEST_PG_RESTART: the command that restarts PostgreSQL");
    let clinic = Clinic::open(Backend::Postgres)
        .await
        .expect("RAPPORT_TEST_POSTGRES_URL is set");
    let server = clinic.start(&["serve"]).await;
    let started = "SELECT CAST(EXTRACT(EPOCH FROM pg_postmaster_start_time()) * 1000 AS BIGINT) AS n";
    let before = clinic.count(started).await;
    let mut slowest = Duration::ZERO;
    const CLIENTS: usize = 150;
    let restarting = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(200));
        let status = Command::new("sh").args(["-c", &restart]).status().unwrap();
        assert!(status.success(), "the restart command failed");
    });
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..CLIENTS {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let asked = Instant::now();
            let sent = reqwest::Client::new()
                .post(server.url("/api/v1/appointments"))
                .bearer_auth(&clinic.api_key)
                .json(&appointment(&format!("PG-{i}"), &format!("pg{i}")))
                .send()
                .await;
            slowest = slowest.max(asked.elapsed());
            let status = sent.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
            *statuses.entry(status).or_insert(0) += 1;
            assert!(status != 500, "no 500 during the restart");
            if status == 503 {
                assert!(sent.unwrap().headers().contains_key("retry-after"));
            }
            if status == 201 || status == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "appointment {i} never went through: {statuses:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    restarting.await.unwrap();
    assert_ne!(
        clinic.count(started).await,
        before,
        "PostgreSQL restarted during the test"
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    while clinic.smtp.received().len() < CLIENTS {
        assert!(
            Instant::now() < deadline,
            "{} of {CLIENTS} emails sent",
            clinic.smtp.received().len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for i in 0..CLIENTS {
        assert_eq!(
            clinic.smtp.received_by(&email_of(&format!("pg{i}"))).len(),
            1,
            "pg{i} got one email"
        );
    }
    assert_eq!(
        clinic.count("SELECT COUNT(*) AS n FROM appointments").await,
        CLIENTS as i64
    );
    assert_eq!(
        reqwest::get(server.url("/readyz")).await.unwrap().status(),
        200,
        "ready again"
    );
    eprintln!("postgres restart: answers by status {statuses:?}; slowest answer {slowest:?}");
    assert_no_panic(&server);
}

/// A client scores 10/10/10/10, says no on the screener, and writes that
/// they have been thinking about ending it all: a high alert opens at once,
/// quoting their words, and the clinician is emailed immediately although
/// they chose the daily digest (the email names no client). A comment that
/// only mentions ending therapy opens nothing.
async fn words_of_risk_reach_the_clinician_at_once(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    let server = clinic.start(&["serve"]).await;
    let clinician = signed_in(&server, CLINICIAN).await;
    set_alert_emails(&server, &clinician, "digest", "off").await;

    let with_comment = |link: String, comment: &'static str| async move {
        let mut form: Vec<(&str, String)> = ["bond", "goals", "approach", "overall"]
            .iter()
            .map(|k| (*k, "10".to_string()))
            .collect();
        form.push(("uncomfortable", "no".into()));
        form.push(("note", comment.into()));
        reqwest::Client::new()
            .post(link)
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(clinic.post_appointment(&server, "R-1", "rosa").await.status(), 201);
    assert_eq!(clinic.post_appointment(&server, "R-2", "sam").await.status(), 201);
    let rosa = survey_link(&clinic.mail_for(&email_of("rosa"), 1, Duration::from_secs(30)).await[0].data);
    let sam = survey_link(&clinic.mail_for(&email_of("sam"), 1, Duration::from_secs(30)).await[0].data);

    // Beside the comment box: a general help line until the clinic sets its
    // own on the admin page, then the clinic's.
    let page = reqwest::get(&sam).await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Your comment is not read straight away"),
        "the general line"
    );
    let admin = signed_in(&server, ADMIN).await;
    assert!(
        page_text(&admin, server.url("/admin"))
            .await
            .contains("Set your clinic's own line")
    );
    let admin_page = page_text(&admin, server.url("/admin/safety")).await;
    assert!(admin_page.contains("Set your clinic's own line"));
    let set = |line: &'static str| {
        admin
            .post(server.url("/admin/help-line"))
            .form(&[("csrf", csrf_from(&admin_page)), ("help_line", line.to_string())])
            .send()
    };
    let refused = set("If you need help now, call [your clinic's number].").await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("Replace the part in brackets"));
    let saved = set(
        "We read comments within two working days. If you need help now, call 01632 960 000, or 999 in an emergency.",
    )
    .await
    .unwrap();
    assert_eq!(saved.status(), 303);
    let page = reqwest::get(&rosa).await.unwrap().text().await.unwrap();
    assert!(page.contains("call 01632 960 000"), "the clinic's own line");
    assert_eq!(
        with_comment(sam, "I'm not thinking of ending therapy, just moving it to Tuesdays.").await,
        200
    );
    assert_eq!(
        with_comment(rosa, "I have been thinking about ending it all.").await,
        200
    );

    let notice = clinic.mail_for(CLINICIAN, 1, Duration::from_secs(30)).await;
    let text = text_of(&notice[0].data);
    assert!(
        !text.contains("rosa") && !text.contains("ending it all"),
        "no client detail: {text}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        clinic.smtp.received_by(CLINICIAN).len(),
        1,
        "one notice, for the risk alert only"
    );
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM alerts a JOIN clients c ON c.id = a.client_id WHERE c.external_id = 'rosa' AND a.severity = 'high'")
            .await,
        1
    );
    assert_eq!(
        clinic
            .count(
                "SELECT COUNT(*) AS n FROM alerts a JOIN clients c ON c.id = a.client_id WHERE c.external_id = 'sam'"
            )
            .await,
        0,
        "ending therapy is not a risk"
    );
    let alert_id = clinic
        .count("SELECT a.id AS n FROM alerts a JOIN clients c ON c.id = a.client_id WHERE c.external_id = 'rosa'")
        .await;
    let alert = page_text(&clinician, server.url(&format!("/clinician/alerts/{alert_id}"))).await;
    assert!(
        alert.contains("I have been thinking about ending it all."),
        "the client's words on the alert page"
    );
    assert!(alert.contains("Words of risk"));

    // The clinic adds a Welsh list on Admin → Client safety; a Welsh
    // comment then opens an alert too. A malformed tag is refused.
    let safety = page_text(&admin, server.url("/admin/safety")).await;
    let add = |language: &'static str| {
        admin
            .post(server.url("/admin/risk-words"))
            .form(&[
                ("csrf", csrf_from(&safety)),
                ("language", language.to_string()),
                ("phrases", "eisiau marw\nlladd fy hun\n".to_string()),
            ])
            .send()
    };
    let refused = add("Welsh").await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("not a language tag"));
    assert_eq!(add("cy").await.unwrap().status(), 303);
    let tried = page_text(&admin, server.url("/admin/safety?try=Dw%20i%20eisiau%20marw")).await;
    assert!(tried.contains("Would open a high alert"), "{tried}");
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'settings.risk_words'")
            .await,
        1
    );
    assert_eq!(clinic.post_appointment(&server, "R-3", "gwen").await.status(), 201);
    let gwen = survey_link(&clinic.mail_for(&email_of("gwen"), 1, Duration::from_secs(30)).await[0].data);
    assert_eq!(with_comment(gwen, "Weithiau dw i eisiau marw.").await, 200);
    clinic.mail_for(CLINICIAN, 2, Duration::from_secs(30)).await;
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM alerts a JOIN clients c ON c.id = a.client_id WHERE c.external_id = 'gwen' AND a.severity = 'high'")
            .await,
        1,
        "the clinic's Welsh phrase opened an alert"
    );
    assert_no_panic(&server);
}
on_both_backends!(
    words_of_risk_reach_the_clinician_at_once,
    words_of_risk_reach_the_clinician_at_once
);

/// The hidden value of a form field on a page.
fn hidden_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// A practice system's CSV, as an admin imports it in the browser: dates
/// day-first (the clinic's setting), columns with the system's own names
/// (chosen once, then remembered for that system), a preview that writes
/// nothing, then the import, whose questionnaire goes out over SMTP.
async fn csv_import_from_a_practice_system(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    let server = clinic.start(&["serve"]).await;
    let admin = signed_in(&server, ADMIN).await;
    let page = page_text(&admin, server.url("/admin/appointments")).await;
    let csrf = csrf_from(&page);
    let saved = admin
        .post(server.url("/admin/appointments/date-order"))
        .form(&[("csrf", csrf.as_str()), ("order", "dd/mm/yyyy")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let template = page_text(&admin, server.url("/admin/appointments/template.csv")).await;
    assert!(template.starts_with("client_id,client_name") && template.contains("02/03/2026 14:00"));

    // Ended ten minutes ago, written day-first.
    let now = chrono::Utc::now();
    let at = |minutes: i64| (now - chrono::Duration::minutes(minutes)).format("%d/%m/%Y %H:%M");
    let csv = format!(
        "Ref,Who,Mail,Seen by,From,To,State\n\
         R-1,Imogen Ward,imogen@example.net,{CLINICIAN},{},{},Attended\n\
         R-2,Nobody Known,nobody@example.net,stranger@example.org,{},{},Attended\n",
        at(60),
        at(10),
        at(60),
        at(10)
    );
    let upload = |csv: String| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("source", "PAS")
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("export.csv"),
            )
    };
    let send = |form: reqwest::multipart::Form| {
        admin
            .post(server.url("/admin/appointments/import"))
            .multipart(form)
            .send()
    };
    let first = send(upload(csv.clone())).await.unwrap();
    assert_eq!(first.status(), 200);
    let first = first.text().await.unwrap();
    assert!(first.contains("Choose the columns"), "the columns are unknown");
    let with_columns = |action: &'static str| {
        let mut form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("source", "PAS")
            .text("carried", hidden_value(&first, "carried"))
            .text("action", action);
        for (field, column) in [
            ("client_id", "ref"),
            ("client_name", "who"),
            ("client_email", "mail"),
            ("clinician_email", "seen_by"),
            ("start", "from"),
            ("end", "to"),
            ("status", "state"),
        ] {
            form = form.text(format!("column_{field}"), column);
        }
        form
    };
    let preview = send(with_columns("preview")).await.unwrap();
    assert_eq!(preview.status(), 200);
    let preview = preview.text().await.unwrap();
    assert!(preview.contains("New appointment, new client"), "{preview}");
    assert!(preview.contains("no active clinician has the email stranger@example.org"));
    assert!(preview.contains("Import 2 rows"));
    assert_eq!(
        clinic.count("SELECT COUNT(*) AS n FROM appointments").await,
        0,
        "the preview writes nothing"
    );
    assert_eq!(clinic.count("SELECT COUNT(*) AS n FROM clients").await, 0);

    let imported = send(with_columns("import")).await.unwrap();
    assert_eq!(imported.status(), 200);
    assert!(imported.text().await.unwrap().contains("Import result"));
    assert_eq!(clinic.count("SELECT COUNT(*) AS n FROM appointments").await, 1);
    let mail = clinic.mail_for("imogen@example.net", 1, Duration::from_secs(30)).await;
    assert!(survey_link(&mail[0].data).contains("/s/"), "the questionnaire goes out");

    // The same file from the same system again: the columns are
    // remembered and nothing is imported twice.
    let again = send(upload(csv)).await.unwrap().text().await.unwrap();
    assert!(
        !again.contains("Choose the columns"),
        "the columns are remembered for PAS"
    );
    assert!(again.contains("Already there: skipped"));
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'appointments.import'")
            .await,
        1
    );
    assert_no_panic(&server);
}
on_both_backends!(csv_import_from_a_practice_system, csv_import_from_a_practice_system);

/// A client who reads Arabic, as a practice system sends them: the
/// invitation arrives over SMTP in Arabic (Content-Language, a right-to-left
/// HTML part, the clinic name isolated), its link opens the Arabic page,
/// and the answer is stored with its language.
async fn a_client_reads_arabic_from_email_to_thanks(backend: Backend) {
    let Some(clinic) = Clinic::open(backend).await else {
        return crate::common::skipped(backend);
    };
    let server = clinic.start(&["serve"]).await;
    let mut body = appointment("AR-1", "amira");
    body["client"]["language"] = json!("ar");
    let created = post_appointment(&server, &clinic, &body).await;
    assert_eq!(created.status(), 201);
    let mail = clinic.mail_for(&email_of("amira"), 1, Duration::from_secs(30)).await;
    let raw = &mail[0].data;
    assert_eq!(header(raw, "Content-Language"), "ar");
    let message = MessageParser::default().parse(raw.as_slice()).unwrap();
    let subject = message.subject().unwrap().to_string();
    assert!(
        subject.contains("دقيقتان") && subject.contains("\u{2068}Riverside Clinic\u{2069}"),
        "{subject}"
    );
    let html = message.body_html(0).unwrap().to_string();
    assert!(html.contains("lang=\"ar\" dir=\"rtl\""), "{html}");
    assert!(html.contains("<bdi>Riverside Clinic</bdi>") && html.contains("أجب عن الأسئلة"));
    assert!(text_of(raw).contains("أجب هنا"));

    let link = survey_link(raw);
    let page = reqwest::get(&link).await.unwrap().text().await.unwrap();
    assert!(page.contains("lang=\"ar\" dir=\"rtl\""), "{page}");
    assert!(page.contains("أرسل إجاباتي") && page.contains("كيف كانت جلسة اليوم بالنسبة لك؟"));
    let thanks = answer(&link, [9, 9, 8, 9]).await;
    assert_eq!(thanks.status(), 200);
    assert!(thanks.text().await.unwrap().contains("أُرسلت إجاباتك إلى عيادتك"));
    assert_eq!(
        clinic
            .count("SELECT COUNT(*) AS n FROM responses WHERE language = 'ar'")
            .await,
        1
    );
    // The clinician reads in English that the client answered in Arabic,
    // a translation not yet validated.
    let clinician = signed_in(&server, CLINICIAN).await;
    let id = clinic
        .count("SELECT id AS n FROM clients WHERE external_id = 'amira'")
        .await;
    let client_page = page_text(&clinician, server.url(&format!("/clinician/clients/{id}"))).await;
    assert!(client_page.contains("Answered in: ") && client_page.contains("Arabic (1)"));
    assert!(client_page.contains("unvalidated translation"));
    // 35 of 40 is below the cutoff: the alert says the answer was in an
    // unvalidated translation.
    let alert = clinic.count("SELECT id AS n FROM alerts").await;
    let alert_page = page_text(&clinician, server.url(&format!("/clinician/alerts/{alert}"))).await;
    assert!(alert_page.contains("Arabic (1)") && alert_page.contains("has not been validated"));
    assert_no_panic(&server);
}
on_both_backends!(
    a_client_reads_arabic_from_email_to_thanks,
    a_client_reads_arabic_from_email_to_thanks
);
