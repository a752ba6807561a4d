//! Every integration test, in one test binary (one link of the app instead
//! of one per file): the real server over HTTP in-process, and `deployed`,
//! which starts the built binary as separate processes. Each module is one
//! area as a user meets it; `common` holds the harness (`TestApp`, the
//! SMTP listener, both backends).
//!
//! Run one area with `cargo test --test integration api::`.

#[macro_use]
mod common;

mod analyse_reference;
mod api;
mod browser;
mod cli;
mod delivery;
mod deployed;
mod foundation;
mod insights;
mod schema;
mod workspace;
