//! Rapport: client-feedback survey server for clinics.
//!
//! Dependencies point inward: `web`, `mail`, `jobs` → `store` → `domain`.
//! `domain` is pure (no I/O) and depends on nothing else of ours.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod security;
pub mod server_key;
pub mod store;
pub mod web;
