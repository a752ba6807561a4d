//! `serve`, `migrate`, `demo` and `check-config`.

use std::net::TcpListener;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::{LogFormat, MailTransport, Settings};
use crate::store::connection::describe_url;
use crate::{app, demo, store};

use super::{fail, load_settings};

#[derive(clap::Args, Default)]
pub struct ServeArgs {
    /// Load the demo clinic first if the database is empty.
    #[arg(long)]
    pub demo: bool,
    /// Serve web requests only; run the job loop elsewhere (`rapport jobs`).
    #[arg(long)]
    pub no_jobs: bool,
    /// Web worker threads (default: one per CPU core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

pub fn init_logging(settings: &Settings) {
    // Checked when the settings were read.
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let format = settings.log_format;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    log_panics_once();
}

/// Panics go to the log as one line, the first time each happens: a step
/// that panics on every job pass must not fill the log with backtraces.
/// (The job loop and the web server carry on either way.)
fn log_panics_once() {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = crate::jobs::panic_text(info.payload());
        let key = format!("{place} {message}");
        let first = SEEN
            .lock()
            .map(|mut seen| seen.get_or_insert_with(HashSet::new).insert(key))
            .unwrap_or(true);
        if first {
            tracing::error!(at = %place, "a task panicked: {message} (logged once; later repeats are not)");
        }
    }));
}

fn describe_mail(settings: &Settings) -> String {
    match &settings.mail {
        MailTransport::Folder(dir) => format!("writing .eml files into {}", dir.display()),
        MailTransport::Smtp(url) => format!("SMTP via {}", crate::config::mask_url(url)),
    }
}

pub fn run(config: Option<&Path>, args: ServeArgs) -> ExitCode {
    let mut settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.demo {
        // The sign-in page lists the demo logins, and the demo clinic has a
        // name unless the clinic set one.
        settings.demo = true;
        if settings.clinic_name == crate::config::DEFAULT_CLINIC_NAME {
            settings.clinic_name = demo::CLINIC_NAME.to_string();
        }
    }
    init_logging(&settings);
    // Bind first: a taken or invalid address is the most common start-up error.
    let listener = match TcpListener::bind(settings.bind) {
        Ok(l) => l,
        Err(e) => {
            return fail(format!("cannot listen on {} (RAPPORT_BIND): {e}", settings.bind));
        }
    };
    // The runtime comes first: the pooled SMTP transport spawns its
    // connection keeper on it while the application state is built.
    let runtime = match build_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = match runtime_prepare(&runtime, &settings, clock) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.demo {
        let loaded = state.pool.get().map_err(store::StoreError::from).and_then(|mut conn| {
            if demo::database_is_empty(&mut conn)? {
                load_demo(&state, &mut conn).map(Some)
            } else {
                Ok(None)
            }
        });
        match loaded {
            Ok(Some(summary)) => tracing::info!(
                staff = summary.staff,
                clients = summary.clients,
                appointments = summary.appointments,
                alerts = summary.alerts,
                "loaded the demo clinic"
            ),
            Ok(None) => tracing::info!("the database already has data; the demo clinic was not loaded again"),
            Err(e) => return fail(format!("could not load the demo clinic: {e}")),
        }
        print_demo_logins();
    }
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(
        "Rapport listening on http://{address} (public address {})",
        settings.base_url
    );
    tracing::info!("database: {}", describe_url(&settings.database_url));
    tracing::info!("mail: {}", describe_mail(&settings));
    if !args.demo {
        tracing::info!(
            "to try Rapport with a demo clinic: `rapport serve --demo` (into an empty database) or `rapport demo`"
        );
    }
    let interval = std::time::Duration::from_secs(settings.job_interval_seconds);
    let result = runtime.block_on(async move {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let jobs = (!args.no_jobs).then(|| tokio::spawn(crate::jobs::run_forever(state.clone(), interval, stopped)));
        let server = crate::web::serve(state, listener, args.workers)?;
        // actix-web stops gracefully on SIGTERM/SIGINT; then the job loop
        // finishes its current pass and stops too.
        let result = server.await;
        let _ = stop.send(true);
        if let Some(jobs) = jobs {
            let _ = jobs.await;
        }
        result
    });
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("the web server stopped: {e}")),
    }
}

/// `rapport jobs`: the job loop without the web server, for deployments
/// that run web instances and job runners separately.
pub fn jobs(config: Option<&Path>) -> ExitCode {
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    init_logging(&settings);
    let runtime = match build_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let state = match runtime_prepare(&runtime, &settings, Arc::new(SystemClock)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    tracing::info!(
        "job runner on {}; mail: {}",
        describe_url(&settings.database_url),
        describe_mail(&settings)
    );
    runtime.block_on(async move {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let interval = std::time::Duration::from_secs(settings.job_interval_seconds);
        let loop_handle = tokio::spawn(crate::jobs::run_forever(state, interval, stopped));
        wait_for_shutdown_signal().await;
        let _ = stop.send(true);
        let _ = loop_handle.await;
    });
    ExitCode::SUCCESS
}

fn build_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the async runtime: {e}")))
}

/// Builds the application state with the runtime entered (lettre's SMTP
/// pool needs a reactor the moment it is built), outside any async task
/// (opening the database and migrating block).
fn runtime_prepare(
    runtime: &tokio::runtime::Runtime,
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<crate::context::Context, ExitCode> {
    let _entered = runtime.enter();
    app::prepare(settings.clone(), clock).map_err(fail)
}

async fn wait_for_shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Loads the demo clinic in one transaction.
fn load_demo(
    state: &crate::context::Context,
    conn: &mut store::DbConnection,
) -> Result<demo::DemoSummary, store::StoreError> {
    let domain = state.message_domain();
    let mailing = store::invitations::Mailing {
        sealer: &state.sealer,
        message_domain: &domain,
        clinic_tz: state.settings.time_zone,
        default_language: &state.settings.default_language,
    };
    conn.write_transaction(|conn| demo::load(conn, state.now(), &state.settings, &mailing))
}

pub fn print_demo_logins() {
    println!("Demo logins (password for all: {}):", demo::DEMO_PASSWORD);
    for login in demo::LOGINS {
        println!(
            "  {:<10} {:<32} {}{}",
            login.role.as_str(),
            login.email,
            login.name,
            login.team.map(|t| format!(" ({t})")).unwrap_or_default()
        );
    }
}

pub fn migrate(config: Option<&Path>) -> ExitCode {
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let applied = store::establish(&settings.database_url).and_then(|mut conn| store::run_migrations(&mut conn));
    match applied {
        Ok(n) => {
            println!(
                "{}: {n} migration(s) applied, schema up to date",
                describe_url(&settings.database_url)
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn demo(config: Option<&Path>) -> ExitCode {
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let runtime = match build_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let state = match runtime_prepare(&runtime, &settings, Arc::new(SystemClock)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let loaded = state
        .pool
        .get()
        .map_err(store::StoreError::from)
        .and_then(|mut conn| load_demo(&state, &mut conn));
    match loaded {
        Ok(summary) => {
            println!(
                "Loaded the demo clinic into {}: {} staff, {} clients, {} appointments, {} alerts.",
                describe_url(&settings.database_url),
                summary.staff,
                summary.clients,
                summary.appointments,
                summary.alerts
            );
            print_demo_logins();
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("could not load the demo clinic: {e}")),
    }
}

pub fn check_config(config: Option<&Path>) -> ExitCode {
    let settings = match load_settings(config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for (name, value) in settings.describe() {
        println!("{name} = {value}");
    }
    ExitCode::SUCCESS
}
