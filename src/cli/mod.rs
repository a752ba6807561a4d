//! The subcommands of the `rapport` binary.
//!
//! The outermost layer: may import everything; nothing imports it.

pub mod analyse;
pub mod apikey;
pub mod evaluate;
pub mod instrument;
pub mod privacy;
pub mod serve;
pub mod staff;
pub mod webhook;

use std::path::Path;
use std::process::ExitCode;

use crate::config::Settings;

/// Prints one clear sentence and returns a failing exit code.
pub fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("rapport: {message}");
    ExitCode::FAILURE
}

/// Loads and checks the settings, or says which one is wrong.
pub fn load_settings(config: Option<&Path>) -> Result<Settings, ExitCode> {
    Settings::load(config).map_err(|e| fail(format!("bad setting: {e}")))
}
