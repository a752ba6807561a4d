//! The `rapport` binary: the server and its administrative commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rapport::cli;

#[derive(Parser)]
#[command(name = "rapport", version, about = "Client-feedback survey server for clinics")]
struct Cli {
    /// Optional TOML settings file (environment variables override it).
    #[arg(long, global = true, env = "RAPPORT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
// Parsed once at start-up; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Run the web server and the job loop (the default).
    Serve(cli::serve::ServeArgs),
    /// Run only the job loop (invitations, reminders, expiry, email).
    Jobs,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(cli::staff::UserCommand),
    /// Manage API keys for practice systems.
    #[command(subcommand)]
    Apikey(cli::apikey::ApikeyCommand),
    /// Manage questionnaire definitions.
    #[command(subcommand)]
    Instrument(cli::instrument::InstrumentCommand),
    /// Manage webhook endpoints for integrations.
    #[command(subcommand)]
    Webhook(cli::webhook::WebhookCommand),
    /// A client's full record, or erasure of their identifying data.
    #[command(subcommand)]
    Client(cli::privacy::ClientCommand),
    /// Erase clients past the retention period (--dry-run lists them first).
    Retention(cli::privacy::RetentionArgs),
    /// Load the demo clinic into an empty database.
    Demo,
    /// Print the effective settings (secrets masked) and check them.
    CheckConfig,
    /// Find rupture signals and alerts in a CSV of scores.
    Analyse(cli::analyse::AnalyseArgs),
    /// Compare the rules on simulated clients (sensitivity, false alerts, delay).
    Evaluate(cli::evaluate::EvaluateArgs),
}

fn main() -> ExitCode {
    let args = Cli::parse();
    let config = args.config.as_deref();
    match args.command.unwrap_or(Command::Serve(cli::serve::ServeArgs::default())) {
        Command::Serve(serve) => cli::serve::run(config, serve),
        Command::Jobs => cli::serve::jobs(config),
        Command::Migrate => cli::serve::migrate(config),
        Command::Apikey(command) => cli::apikey::run(config, command),
        Command::User(command) => cli::staff::run(config, command),
        Command::Webhook(command) => cli::webhook::run(config, command),
        Command::Client(command) => cli::privacy::client(config, command),
        Command::Retention(args) => cli::privacy::retention(config, args),
        Command::Demo => cli::serve::demo(config),
        Command::Instrument(command) => cli::instrument::run(config, command),
        Command::CheckConfig => cli::serve::check_config(config),
        Command::Analyse(args) => cli::analyse::run(args),
        Command::Evaluate(args) => cli::evaluate::run(args),
    }
}
