//! The clinical core: instruments, scoring, rupture signals and alerts.
//! Pure code: no I/O, no database, no HTTP.
//!
//! Imports nothing else of ours (the layer rules test in `lib.rs` checks).
//!
//! - [`instrument`]: definitions (TOML/JSON), validation, scoring.
//! - [`history`]: one client's series of sessions.
//! - [`signals`]: the rules of CLINICAL.md §2, one file each, and their settings.
//! - [`engine`]: the combiner that turns signals into alert episodes, trend and baseline.
//! - [`score_table`]: reading a CSV of scores into histories (for `rapport analyse`).
//! - [`simulation`]: the seeded model behind `rapport evaluate`.
//! - [`schedule`]: when a questionnaire is sent, reminded and expires.
//! - [`import`]: the appointments CSV practice systems export.
//! - [`email`]: the one rule for an email address.
//! - [`spreadsheet`]: CSV text a spreadsheet will not run as a formula.

pub mod appointment;
pub mod dates;
pub mod email;
pub mod engine;
pub mod history;
pub mod import;
pub mod instrument;
pub mod network;
pub mod repair;
pub mod schedule;
pub mod score_table;
pub mod signals;
pub mod simulation;
pub mod spreadsheet;
pub mod trends;

pub use engine::{
    AlertEpisode, ClosedEpisode, EpisodeEnd, Evaluation, Trend, alerts, baseline, evaluate, reliable_change_band, trend,
};
pub use history::{ClientHistory, SessionOutcome, SessionRecord};
pub use instrument::{
    Answer, AnswerError, Answers, Direction, InstrumentDefinition, InstrumentError, Scores, shipped_instruments,
};
pub use signals::{EngineSettings, RuleId, Severity, Signal, find_signals, reliable_change_threshold};
