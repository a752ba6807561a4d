//! An appointment coming in — from the practice system's API, a CSV import
//! or a clinician's form — recorded the same way whichever door it came
//! by: idempotent on (source, external id), the client created or updated,
//! the invitation kept in step, and each change in the audit log under
//! whoever made it. A CSV file of them is imported here too, with its
//! preview.

use chrono::NaiveDateTime;

use super::Actor;
use crate::config::Settings;
use crate::domain::appointment::AppointmentIn;
use crate::domain::import::{CsvRow, Mapping};
use crate::domain::schedule::DeliveryRules;
use crate::store::appointments::Upserted;
use crate::store::audit::AuditAction;
use crate::store::intake::{self, IntakeError, Recorded};
use crate::store::invitations::{self, Mailing};
use crate::store::{DbConnection, StoreError};

/// Records one appointment in its own write transaction (run again if it
/// lost a race with an identical request), with an `appointment.record`
/// audit entry when anything changed.
pub fn record(
    conn: &mut DbConnection,
    by: Actor,
    input: &AppointmentIn,
    rules: &DeliveryRules,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Recorded, IntakeError> {
    conn.idempotent_write(|conn| {
        let recorded = intake::record(conn, input, rules, mailing, now)?;
        if recorded.outcome != Upserted::Unchanged {
            by.record(
                conn,
                AuditAction::AppointmentRecord,
                Some(recorded.client.id),
                Some(&by.detail(format!("appointment #{}", recorded.appointment.id))),
                now,
            )?;
        }
        Ok(recorded)
    })
}

/// Rows shown in the preview.
pub const PREVIEW_ROWS: usize = 10;

/// What happens to one row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    Created { new_client: bool },
    Updated,
    Unchanged,
    Refused(String),
}

/// What an import did, or would do.
#[derive(Default)]
pub struct Report {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub invited: usize,
    pub errors: Vec<(u64, String)>,
    /// The first rows, for the preview.
    pub first: Vec<(u64, Option<AppointmentIn>, RowOutcome)>,
}

/// Records each row in its own transaction (a bad row never undoes a good
/// one).
fn record_rows(
    conn: &mut DbConnection,
    by: Actor,
    rows: Vec<CsvRow>,
    settings: &crate::config::Settings,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Report, StoreError> {
    let rules = invitations::delivery_rules(conn, settings)?;
    let mut report = Report::default();
    for row in rows {
        let (outcome, appointment) = match row.appointment {
            Err(message) => (RowOutcome::Refused(message), None),
            Ok(appointment) => {
                let recorded = record(conn, by, &appointment, &rules, mailing, now);
                let outcome = match recorded {
                    Ok(r) => {
                        report.invited += usize::from(r.invitation.is_some() && r.outcome != Upserted::Unchanged);
                        match r.outcome {
                            Upserted::Created => RowOutcome::Created {
                                new_client: r.client_created,
                            },
                            Upserted::Updated => RowOutcome::Updated,
                            Upserted::Unchanged => RowOutcome::Unchanged,
                        }
                    }
                    Err(IntakeError::Invalid(message)) => RowOutcome::Refused(message),
                    Err(IntakeError::Store(e)) => return Err(e),
                };
                (outcome, Some(appointment))
            }
        };
        match &outcome {
            RowOutcome::Created { .. } => report.created += 1,
            RowOutcome::Updated => report.updated += 1,
            RowOutcome::Unchanged => report.unchanged += 1,
            RowOutcome::Refused(message) => report.errors.push((row.line, message.clone())),
        }
        if report.first.len() < PREVIEW_ROWS {
            report.first.push((row.line, appointment, outcome));
        }
    }
    Ok(report)
}

/// An appointments CSV file to import: the practice system it came from
/// and the columns chosen for it (remembered for the next file from that
/// system).
pub struct Import<'a> {
    pub source: &'a str,
    pub mapping: &'a Mapping,
    pub settings: &'a Settings,
}

/// What importing `rows` would do, written in a transaction that is rolled
/// back (nothing is kept, nothing queued, nothing audited).
pub fn preview_import(
    conn: &mut DbConnection,
    by: Actor,
    rows: Vec<CsvRow>,
    settings: &Settings,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Report, StoreError> {
    conn.dry_run(|conn| record_rows(conn, by, rows, settings, mailing, now))
}

/// Imports the rows of an appointments file (each row recorded as by
/// `record`, with its own audit entry), remembers the columns chosen for
/// the sending system, and writes one summary entry for the file.
pub fn import(
    conn: &mut DbConnection,
    by: Actor,
    rows: Vec<CsvRow>,
    file: &Import,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Report, StoreError> {
    let report = record_rows(conn, by, rows, file.settings, mailing, now)?;
    intake::save_mapping(conn, file.source, file.mapping, now)?;
    let detail = by.detail(format!(
        "{} created, {} updated, {} unchanged, {} rows refused (from {})",
        report.created,
        report.updated,
        report.unchanged,
        report.errors.len(),
        file.source
    ));
    by.record(conn, AuditAction::AppointmentsImport, None, Some(&detail), now)?;
    Ok(report)
}
