//! The clinical core: instruments, scoring, rupture signals and alerts.
//! Pure code: no I/O, no database, no HTTP.

pub mod engine;
pub mod history;
pub mod instrument;
pub mod signals;
