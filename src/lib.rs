//! Rapport: client-feedback survey server for clinics.
//!
//! Dependencies point inward: `web`, `mail`, `jobs` → `store` → `domain`.
//! `domain` is pure (no I/O) and depends on nothing else of ours.

pub mod cli;
pub mod domain;
