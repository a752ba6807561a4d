//! The binary as an operator meets it: start-up, bad settings, commands.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn rapport(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rapport"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("RAPPORT_") || key == "DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn assert_one_clear_failure(output: &Output, expect: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "exits non-zero; stderr: {stderr}");
    assert!(stderr.contains(expect), "stderr names {expect}: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "no panic: {stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one sentence: {stderr}");
}

async fn wait_ready(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
            && r.status() == 200
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn bad_settings_exit_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value, expect) in [
        ("RAPPORT_BIND", "nonsense", "RAPPORT_BIND"),
        ("RAPPORT_QUIET_HOURS", "sometimes", "RAPPORT_QUIET_HOURS"),
        ("RAPPORT_DATABASE_URL", "mysql://db/x", "RAPPORT_DATABASE_URL"),
    ] {
        for sub in ["check-config", "serve"] {
            let output = rapport(dir.path()).arg(sub).env(key, value).output().unwrap();
            assert_one_clear_failure(&output, expect);
        }
    }
}

#[test]
fn unreachable_postgres_names_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let output = rapport(dir.path())
        .arg("serve")
        .env("RAPPORT_BIND", format!("127.0.0.1:{}", free_port()))
        .env(
            "RAPPORT_DATABASE_URL",
            format!("postgres://rapport@127.0.0.1:{port}/rapport"),
        )
        .output()
        .unwrap();
    assert_one_clear_failure(&output, &format!("127.0.0.1:{port}"));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("invalid connection url"));
}

#[test]
fn unwritable_sqlite_path_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let output = rapport(dir.path())
        .arg("migrate")
        .env("RAPPORT_DATABASE_URL", "sqlite:///nonexistent-folder/rapport.db")
        .output()
        .unwrap();
    assert_one_clear_failure(&output, "/nonexistent-folder");
}

#[test]
fn check_config_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let output = rapport(dir.path())
        .arg("check-config")
        .env(
            "RAPPORT_SMTP_URL",
            "smtp://mailer:hunter2secret@mail.example.org:587?tls=required",
        )
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("RAPPORT_SMTP_URL = smtp://mailer:********@mail.example.org:587"));
    assert!(!stdout.contains("hunter2secret"));
    assert!(stdout.contains("RAPPORT_DATABASE_URL = sqlite://rapport.db"));
}

#[test]
fn user_add_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let add = |password: &str| {
        let mut child = rapport(dir.path())
            .args([
                "user",
                "add",
                "--role",
                "admin",
                "--email",
                "boss@example.org",
                "--name",
                "The Boss",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let short = add("short");
    assert_one_clear_failure(&short, "at least 10 characters");
    let ok = add("a sufficiently long password");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Added The Boss <boss@example.org> as administrator"));
    let again = add("a sufficiently long password");
    assert_one_clear_failure(&again, "already exists");
    let bad_role = rapport(dir.path())
        .args([
            "user",
            "add",
            "--role",
            "wizard",
            "--email",
            "x@example.org",
            "--name",
            "X",
        ])
        .output()
        .unwrap();
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role"));
}

#[tokio::test]
async fn serve_with_defaults_creates_sqlite_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = rapport(dir.path())
        .env("RAPPORT_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    assert!(wait_ready(port).await, "the default server becomes ready");
    assert!(dir.path().join("rapport.db").exists(), "SQLite file created on the fly");
    let status = Command::new("kill")
        .args(["-TERM", &running.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            assert!(status.success(), "graceful exit on SIGTERM");
            break;
        }
        assert!(Instant::now() < deadline, "stops within 15 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `serve --demo`, as the README's first line starts it: the demo clinic
/// has a name and the sign-in page lists the demo logins; a plain `serve`
/// lists none.
#[tokio::test]
async fn serve_demo_lists_its_logins_on_the_sign_in_page() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = rapport(dir.path())
        .args(["serve", "--demo"])
        .env("RAPPORT_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    assert!(wait_ready(port).await, "the demo server becomes ready");
    let page = reqwest::get(format!("http://127.0.0.1:{port}/sign-in"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Demo logins"), "{page}");
    assert!(page.contains("clinician1@demo.rapport.test") && page.contains("rapport-demo"));
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let signed_in = client
        .post(format!("http://127.0.0.1:{port}/sign-in"))
        .form(&[("email", "clinician1@demo.rapport.test"), ("password", "rapport-demo")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(signed_in.contains("Riverside Clinic (demo)"), "the demo clinic's name");
    drop(running);

    let port = free_port();
    let child = rapport(dir.path())
        .arg("serve")
        .env("RAPPORT_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);
    assert!(wait_ready(port).await);
    let page = reqwest::get(format!("http://127.0.0.1:{port}/sign-in"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Demo logins"), "only with --demo");
}

/// The first hour, scripted from the README: a fresh database, `serve
/// --demo`, sign in with the admin login read from the sign-in page, create
/// an API key in the browser (Admin → Integrations), post the README's own
/// example appointment (its times made relative to now as the README's
/// `date` commands do), and find the questionnaire in ./outbox within one
/// job interval. Quiet hours are off so the result does not depend on the
/// hour CI runs at (the README says what they do).
#[tokio::test]
async fn first_hour_from_the_readme() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = rapport(dir.path())
        .args(["serve", "--demo"])
        .env("RAPPORT_BIND", format!("127.0.0.1:{port}"))
        .env("RAPPORT_QUIET_HOURS", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);
    assert!(wait_ready(port).await);
    let base = format!("http://127.0.0.1:{port}");
    let between = |text: &str, before: &str, after: &str| -> String {
        let start = text.find(before).unwrap_or_else(|| panic!("{before} in {text}")) + before.len();
        text[start..start + text[start..].find(after).unwrap()].to_string()
    };
    // The admin login, as a new user reads it off the sign-in page.
    let sign_in = reqwest::get(format!("{base}/sign-in"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let admin_line = sign_in
        .lines()
        .find(|l| l.contains("Administrator"))
        .unwrap_or(&sign_in);
    let at = admin_line.find(" — Administrator").expect("an admin login is listed");
    let email = admin_line[..at]
        .rsplit("<code>")
        .next()
        .unwrap()
        .trim_end_matches("</code>")
        .to_string();
    let password = between(&sign_in, "password is <strong><code>", "</code>");
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let landed = browser
        .post(format!("{base}/sign-in"))
        .form(&[("email", email.as_str()), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        landed.url().path().starts_with("/admin"),
        "{email} lands on the admin pages"
    );
    // An API key from Admin → Integrations, shown once.
    let page = browser
        .get(format!("{base}/admin/webhooks"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
    let created = browser
        .post(format!("{base}/admin/api-keys"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Practice system"),
            ("read", "on"),
            ("write", "on"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = between(&created, "<code class=\"secret\">", "</code>");
    assert!(key.starts_with("rpk_"));
    // The README's example, with its times as its `date` commands make them.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let example = &readme[readme.find("### Practice-system API").unwrap()..];
    let minutes = |var: &str| -> i64 {
        between(example, &format!("{var}=$(date -u -d '"), " minutes'")
            .parse()
            .unwrap()
    };
    let time = |var: &str| {
        (chrono::Utc::now() + chrono::Duration::minutes(minutes(var)))
            .format("%Y-%m-%dT%H:%M:00Z")
            .to_string()
    };
    let body = format!("{{{}", between(example, "/appointments -d '{", "'\n```"))
        .replace("'\"$START\"'", &time("START"))
        .replace("'\"$END\"'", &time("END"));
    let url = between(example, "  http://localhost:8080", " -d '{");
    let posted = reqwest::Client::new()
        .post(format!("{base}{url}"))
        .bearer_auth(&key)
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201, "{body}: {}", posted.text().await.unwrap());
    // Within one job interval (15 s by default), plus a margin for a busy
    // machine.
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let arrived = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .any(|eml| eml.contains("To: sam@example.org") || eml.contains("To: <sam@example.org>"));
        if arrived {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the questionnaire reached ./outbox within one job interval"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
#[cfg_attr(
    rapport_no_postgres,
    ignore = "PostgreSQL: set RAPPORT_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) and run cargo test again"
)]
async fn two_instances_start_together_on_one_empty_postgres() {
    let Some(db) = crate::common::TestDb::create(crate::common::Backend::Postgres) else {
        crate::common::skipped(crate::common::Backend::Postgres);
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let instances: Vec<Running> = ports
        .iter()
        .map(|port| {
            Running(
                rapport(dir.path())
                    .args(["serve", "--no-jobs"])
                    .env("RAPPORT_BIND", format!("127.0.0.1:{port}"))
                    .env("RAPPORT_DATABASE_URL", &db.url)
                    .env("RAPPORT_SECRET_KEY", "k".repeat(64))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    for port in ports {
        assert!(wait_ready(port).await, "instance on {port} comes up");
    }
    drop(instances);
}

#[test]
fn instrument_import_publishes_once_and_never_changes_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/instruments/twelve-item-three-subscales.toml");
    let import = |path: &std::path::Path| {
        rapport(dir.path())
            .args(["instrument", "import"])
            .arg(path)
            .output()
            .unwrap()
    };
    let first = import(&fixture);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("published"));
    let again = import(&fixture);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));
    // The same version with other content is refused.
    let changed = dir.path().join("changed.toml");
    let text = std::fs::read_to_string(&fixture)
        .unwrap()
        .replacen("Placeholder item 1", "Placeholder item one", 1);
    std::fs::write(&changed, text).unwrap();
    assert_one_clear_failure(&import(&changed), "new version number");
    // An invalid file is refused before anything is stored.
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "id = \"x\"\nversion = 0\n").unwrap();
    assert_one_clear_failure(&import(&broken), "is not a valid instrument");
    let list = rapport(dir.path()).args(["instrument", "list"]).output().unwrap();
    let listing = String::from_utf8_lossy(&list.stdout);
    assert!(listing.contains("rapport-alliance") && listing.contains("(default)"));
    assert_eq!(listing.lines().count(), 2, "{listing}");
}

/// `rapport apikey` and `rapport webhook` refuse what the admin page
/// refuses and leave the same audit entries (the webhook commands left
/// none before they shared the page's actions).
#[test]
fn integration_commands_are_checked_and_audited_like_the_admin_page() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| rapport(dir.path()).args(args).output().unwrap();
    let long_name = "x".repeat(101);
    assert_one_clear_failure(
        &run(&["apikey", "create", "--name", &long_name]),
        "longer than 100 characters",
    );
    assert_one_clear_failure(&run(&["apikey", "create", "--name", "  "]), "Say who uses the key");
    let created = run(&["apikey", "create", "--name", "Practice system"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).starts_with("rpk_"));
    assert!(run(&["apikey", "revoke", "1"]).status.success());
    assert_one_clear_failure(&run(&["apikey", "revoke", "1"]), "no active API key #1");

    assert_one_clear_failure(&run(&["webhook", "add", "--url", "ftp://1.1.1.1/hook"]), "--url");
    let added = run(&["webhook", "add", "--url", "https://1.1.1.1/hook"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stdout).starts_with("whsec_"));
    assert!(run(&["webhook", "disable", "1"]).status.success());
    assert_one_clear_failure(&run(&["webhook", "disable", "1"]), "already disabled");
    assert_one_clear_failure(&run(&["webhook", "disable", "9"]), "no webhook endpoint #9");

    #[derive(diesel::QueryableByName)]
    struct Entry {
        #[diesel(sql_type = diesel::sql_types::Text)]
        action: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        detail: Option<String>,
    }
    use diesel::RunQueryDsl;
    let url = format!("sqlite://{}", dir.path().join("rapport.db").display());
    let mut conn = rapport::store::establish(&url).unwrap();
    let entries: Vec<(String, String)> = diesel::sql_query("SELECT action, detail FROM audit_log ORDER BY id")
        .load::<Entry>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail.unwrap_or_default()))
        .collect();
    let wanted = [
        (
            "apikey.create",
            "key #1 \"Practice system\" (read,write) (by a rapport command)",
        ),
        ("apikey.revoke", "key #1 (by a rapport command)"),
        ("webhook.add", "endpoint #1 (by a rapport command)"),
        ("webhook.disable", "endpoint #1 (by a rapport command)"),
    ];
    let found: Vec<(&str, &str)> = entries
        .iter()
        .filter(|(action, _)| action.starts_with("apikey.") || action.starts_with("webhook."))
        .map(|(a, d)| (a.as_str(), d.as_str()))
        .collect();
    assert_eq!(found, wanted);
}
