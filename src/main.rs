//! Minimal command line until the server's CLI lands: it only wires the
//! engine's subcommands to their `run` functions.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rapport::cli::{analyse, evaluate};

#[derive(Parser)]
#[command(
    name = "rapport",
    version,
    about = "Client-feedback survey server for clinics"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
// Parsed once at start-up; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Command {
    Analyse(analyse::AnalyseArgs),
    Evaluate(evaluate::EvaluateArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Analyse(args) => analyse::run(args),
        Command::Evaluate(args) => evaluate::run(args),
    }
}
