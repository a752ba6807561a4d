//! Test harness: the real server on a random port against a fresh
//! database — a SQLite file in a temporary folder, or a new PostgreSQL
//! database when `RAPPORT_TEST_POSTGRES_URL` is set.
#![allow(dead_code)]

pub mod smtp;

use std::net::TcpListener;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use rapport::clock::ManualClock;
use rapport::config::{RawSettings, Settings};
use rapport::context::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test and is removed after it.
pub struct TestDb {
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// None when PostgreSQL is asked for but not configured.
    pub fn create(backend: Backend) -> Option<TestDb> {
        let name = format!("rapport_t_{}", hex::encode(rand::random::<[u8; 6]>()));
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("rapport.db").display());
                Some(TestDb {
                    url,
                    admin_url: None,
                    name,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let admin_url = std::env::var("RAPPORT_TEST_POSTGRES_URL")
                    .ok()
                    .filter(|s| !s.is_empty())?;
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("RAPPORT_TEST_POSTGRES_URL is set but unreachable: {e}"));
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("RAPPORT_TEST_POSTGRES_URL is a URL");
                url.set_path(&format!("/{name}"));
                Some(TestDb {
                    url: url.to_string(),
                    admin_url: Some(admin_url),
                    name,
                    _dir: None,
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(admin) = &self.admin_url
            && let Ok(mut conn) = diesel::PgConnection::establish(admin)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

pub fn skipped(backend: Backend) {
    eprintln!("skipped on {backend:?}: set RAPPORT_TEST_POSTGRES_URL to run it on PostgreSQL");
}

/// The moment every test starts at (a Monday, 10:00 UTC).
pub fn start_time() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

pub struct TestApp {
    pub address: String,
    pub clock: ManualClock,
    pub state: Context,
    pub db: TestDb,
    pub handle: actix_web::dev::ServerHandle,
    pub backend: Backend,
}

#[derive(Default)]
pub struct Options {
    pub extra: Vec<(&'static str, String)>,
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> Option<TestApp> {
    let db = TestDb::create(backend)?;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a random port");
    let port = listener.local_addr().unwrap().port();
    let address = format!("http://127.0.0.1:{port}");
    let outbox = tempfile::tempdir().expect("outbox dir").keep();
    let mut raw = RawSettings::new();
    raw.insert("DATABASE_URL".into(), db.url.clone());
    raw.insert("DB_POOL_SIZE".into(), "4".into());
    raw.insert("BIND".into(), format!("127.0.0.1:{port}"));
    raw.insert("BASE_URL".into(), address.clone());
    raw.insert("CLINIC_NAME".into(), "Riverside Clinic".into());
    raw.insert("OUTBOX_DIR".into(), outbox.display().to_string());
    raw.insert("TIME_ZONE".into(), "UTC".into());
    // Each app its own key (the default key file would land in the
    // working folder for PostgreSQL); the process tests cover the file.
    raw.insert("SECRET_KEY".into(), hex::encode(rand::random::<[u8; 64]>()));
    for (k, v) in options.extra {
        raw.insert(k.to_string(), v);
    }
    let settings = Settings::from_raw(&raw).expect("test settings are valid");
    let clock = ManualClock::new(start_time());
    let state = tokio::task::spawn_blocking({
        let clock = clock.clone();
        move || rapport::app::prepare(settings, Arc::new(clock))
    })
    .await
    .unwrap()
    .expect("the app starts");
    let server = rapport::web::serve(state.clone(), listener, Some(2)).expect("server starts");
    let handle = server.handle();
    tokio::spawn(server);
    Some(TestApp {
        address,
        clock,
        state,
        db,
        handle,
        backend,
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// An HTTP client with its own cookie jar that does not follow redirects.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Runs diesel work against the app's database.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rapport::store::DbConnection) -> Result<T, rapport::store::StoreError> + Send + 'static,
    ) -> T {
        let pool = self.state.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            f(&mut conn).unwrap()
        })
        .await
        .unwrap()
    }

    /// Creates a member of staff and returns a client signed in as them.
    pub async fn staff(
        &self,
        role: &str,
        email: &str,
        team: Option<&str>,
    ) -> (rapport::store::StaffId, reqwest::Client) {
        let role: rapport::store::staff::Role = role.parse().unwrap();
        let (email_owned, team) = (email.to_string(), team.map(str::to_string));
        let now = self.clock_now();
        let hash = password_hash();
        let id = self
            .db(move |conn| {
                let team_id = match team {
                    Some(t) => Some(rapport::store::staff::ensure_team(conn, &t, now)?.id),
                    None => None,
                };
                rapport::store::staff::create_staff(
                    conn,
                    &rapport::store::staff::NewStaff {
                        email: &email_owned,
                        name: &format!("Test {email_owned}"),
                        role,
                        team_id,
                        password_hash: &hash,
                    },
                    now,
                )
                .map(|m| m.id)
            })
            .await;
        let browser = self.browser();
        let response = self.sign_in(&browser, email, PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in as {email} succeeds");
        (id, browser)
    }

    /// A new browser signed in as an existing member of staff (sessions
    /// last a working day; tests that move the clock need a fresh one).
    pub async fn signed_in(&self, email: &str) -> reqwest::Client {
        let browser = self.browser();
        let response = self.sign_in(&browser, email, PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in as {email} succeeds");
        browser
    }

    pub async fn sign_in(&self, browser: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        browser
            .post(self.url("/sign-in"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    pub fn clock_now(&self) -> NaiveDateTime {
        use rapport::clock::Clock;
        self.clock.now()
    }

    /// One pass of the job loop, as `rapport serve` runs it (expiry,
    /// summaries, retention, email, rules, trends).
    pub async fn run_jobs(&self) -> rapport::jobs::Pass {
        rapport::jobs::run_once(&self.state).await.unwrap()
    }

    /// A new API key with `scopes`: its id and the secret to send.
    pub async fn api_key(&self, scopes: &[rapport::store::api_keys::Scope]) -> (i64, String) {
        let now = self.clock_now();
        let scopes = scopes.to_vec();
        self.db(move |conn| {
            rapport::store::api_keys::create(conn, "Practice system", &scopes, now).map(|(k, s)| (k.id, s))
        })
        .await
    }

    /// `GET` on the API with `key`.
    pub async fn api_get(&self, key: &str, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    /// `POST` of a JSON body on the API with `key`.
    pub async fn api_post(&self, key: &str, path: &str, body: &serde_json::Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A page as `browser` sees it: its status and its text.
    pub async fn get_html(&self, browser: &reqwest::Client, path: &str) -> (reqwest::StatusCode, String) {
        let response = browser.get(self.url(path)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Sends a form as a browser would: the CSRF token read from `page`
    /// (the page that holds the form) first, then `fields` to `action`.
    pub async fn post_form(
        &self,
        browser: &reqwest::Client,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.get_html(browser, page).await;
        let csrf = csrf_from(&html);
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &csrf));
        browser.post(self.url(action)).form(&form).send().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stop the server without waiting: the runtime is going away.
        drop(handle.stop(false));
    }
}

pub const PASSWORD: &str = "a long test password";

/// One hash for every test account (argon2 is deliberately slow).
pub fn password_hash() -> String {
    use std::sync::OnceLock;
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| rapport::security::hash_password(PASSWORD).unwrap())
        .clone()
}

/// The text of a page, fetched with a client (its cookies).
pub async fn page_text(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// The CSRF token from a page's first form.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Declares one test that runs on SQLite and, when configured, PostgreSQL:
/// `db_test!(name, |app| { … })` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::common::spawn_app($crate::common::Backend::Sqlite).await.unwrap();
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                rapport_no_postgres,
                ignore = "PostgreSQL: set RAPPORT_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) and run cargo test again"
            )]
            async fn postgres() {
                let Some($app) = $crate::common::spawn_app($crate::common::Backend::Postgres).await else {
                    $crate::common::skipped($crate::common::Backend::Postgres);
                    return;
                };
                $body
            }
        }
    };
}

/// Declares one test that runs on SQLite and PostgreSQL, for tests that
/// start their app themselves: `on_both_backends!(name, run)` calls
/// `run(Backend::Sqlite)` and `run(Backend::Postgres)`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $run:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$run($crate::common::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                rapport_no_postgres,
                ignore = "PostgreSQL: set RAPPORT_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) and run cargo test again"
            )]
            async fn postgres() {
                super::$run($crate::common::Backend::Postgres).await
            }
        }
    };
}

/// The survey token of an invitation's first email, read back from the
/// sealed outbox row (as the dispatcher would).
pub async fn survey_token(app: &TestApp, invitation_id: rapport::store::InvitationId) -> String {
    use diesel::prelude::*;
    use rapport::store::schema::outbox;
    let sealer = app.state.sealer.clone();
    app.db(move |conn| {
        let payload: String = outbox::table
            .filter(outbox::invitation_id.eq(invitation_id))
            .filter(outbox::kind.eq("invitation"))
            .select(outbox::payload)
            .first(conn)?;
        let payload: rapport::store::outbox::Payload = serde_json::from_str(&sealer.open(&payload).unwrap()).unwrap();
        match payload {
            rapport::store::outbox::Payload::Survey { survey_token, .. } => Ok(survey_token),
            other => panic!("not a survey payload: {other:?}"),
        }
    })
    .await
}

/// Records an attended session for a client (creating them on first use)
/// and answers its questionnaire through the survey page with the four
/// item values; then moves the clock on a week.
pub async fn answered_session(
    app: &TestApp,
    clinician_email: &str,
    client: &str,
    items: [u8; 4],
) -> rapport::store::InvitationId {
    let invitation_id = attended_session(app, clinician_email, client).await;
    let token = survey_token(app, invitation_id).await;
    let values: Vec<(&str, String)> = ["bond", "goals", "approach", "overall"]
        .iter()
        .zip(items)
        .map(|(k, v)| (*k, v.to_string()))
        .chain([("uncomfortable", "no".to_string())])
        .collect();
    let response = reqwest::Client::new()
        .post(app.url(&format!("/s/{token}")))
        .form(&values)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the survey accepts the answers");
    app.clock.advance(chrono::Duration::days(7));
    invitation_id
}

/// Records an attended session ending now; returns its invitation.
pub async fn attended_session(app: &TestApp, clinician_email: &str, client: &str) -> rapport::store::InvitationId {
    attended_session_in(app, clinician_email, client, None).await
}

/// [`attended_session`] for a client who reads `language`.
pub async fn attended_session_in(
    app: &TestApp,
    clinician_email: &str,
    client: &str,
    language: Option<&str>,
) -> rapport::store::InvitationId {
    use rapport::domain::appointment::{AppointmentIn, AppointmentStatus, ClientDetails};
    let language = language.map(str::to_string);
    let now = app.clock_now();
    let (clinician, client) = (clinician_email.to_string(), client.to_string());
    let settings = app.state.settings.clone();
    let sealer = app.state.sealer.clone();
    app.db(move |conn| {
        let rules = rapport::store::invitations::delivery_rules(conn, &settings)?;
        let mailing = rapport::store::invitations::Mailing {
            sealer: &sealer,
            message_domain: "test",
            clinic_tz: chrono_tz::UTC,
            default_language: "en",
        };
        let input = AppointmentIn {
            source: "test".into(),
            external_id: format!("{client}-{}", now.and_utc().timestamp()),
            clinician_email: clinician,
            client: ClientDetails {
                external_id: client.clone(),
                name: format!("Client {client}"),
                email: Some(format!("{client}@example.net")),
                language,
                time_zone: None,
            },
            starts_at: now - chrono::Duration::minutes(50),
            ends_at: now,
            status: AppointmentStatus::Attended,
        };
        let recorded = conn
            .write_transaction(|conn| rapport::store::intake::record(conn, &input, &rules, &mailing, now))
            .map_err(|e| rapport::store::StoreError::Conflict(e.to_string()))?;
        Ok(recorded.invitation.expect("an invitation").id)
    })
    .await
}

/// The client id behind an external id used by the helpers above.
pub async fn client_id(app: &TestApp, external_id: &str) -> rapport::store::ClientId {
    use diesel::prelude::*;
    use rapport::store::schema::clients;
    let external = external_id.to_string();
    app.db(move |conn| {
        Ok(clients::table
            .filter(clients::external_id.eq(external))
            .select(clients::id)
            .first(conn)?)
    })
    .await
}

/// Runs `script` with `python3 -c` (extra `args`, `input` on stdin) to check
/// something with an outside tool — dkimpy, openapi-spec-validator. When
/// python3 or `module` is missing the test says it was skipped and this
/// returns `None`; with `RAPPORT_TEST_REQUIRE_TOOLS` set (as in CI) that
/// fails the test instead.
pub fn outside_tool(
    module: &str,
    pip_package: &str,
    script: &str,
    args: &[&str],
    input: &[u8],
) -> Option<std::process::Output> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let why = format!("python3 with {module} is not installed (pip install {pip_package})");
        if std::env::var_os("RAPPORT_TEST_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty() && v != "0") {
            panic!("{why}, and RAPPORT_TEST_REQUIRE_TOOLS is set");
        }
        eprintln!("SKIPPED the outside check: {why}; set RAPPORT_TEST_REQUIRE_TOOLS=1 to make this a failure");
        return None;
    }
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child.stdin.take().unwrap().write_all(input).unwrap();
    Some(child.wait_with_output().unwrap())
}

/// dkimpy's verdict on a message, with the public key of
/// tests/fixtures/dkim-test-only.pem published (to dkimpy only) as
/// `rapport2026._domainkey.clinic.example`. `None` when dkimpy is missing
/// (see [`outside_tool`]); otherwise whether it verified, and what dkimpy said.
pub fn dkimpy_verifies(message: &[u8]) -> Option<(bool, String)> {
    use base64::Engine;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::EncodePublicKey;
    let pem = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dkim-test-only.pem"),
    )
    .unwrap();
    let private = rsa::RsaPrivateKey::from_pkcs1_pem(&pem).unwrap();
    let public = rsa::RsaPublicKey::from(&private).to_public_key_der().unwrap();
    let record = format!(
        "v=DKIM1; k=rsa; p={}",
        base64::engine::general_purpose::STANDARD.encode(public.as_bytes())
    );
    const SCRIPT: &str = r#"
import logging, sys
import dkim
record = sys.argv[1].encode()
def dnsfunc(name, timeout=5):
    return record if name.rstrip(b".") == b"rapport2026._domainkey.clinic.example" else None
logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="dkimpy: %(message)s")
verifier = dkim.DKIM(sys.stdin.buffer.read(), logger=logging.getLogger("dkimpy"))
ok = verifier.verify(dnsfunc=dnsfunc)
print("verified" if ok else "NOT verified", b":".join(getattr(verifier, "include_headers", None) or ()).decode())
sys.exit(0 if ok else 1)
"#;
    let output = outside_tool("dkim", "dkimpy", SCRIPT, &[&record], message)?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((output.status.success(), said))
}
