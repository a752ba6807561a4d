//! A client's questionnaires: stopping them (the client's own unsubscribe
//! link, or the practice system over the API) and pausing or resuming them
//! (their clinician); and a client's record handed out whole (the API, the
//! admin's download, `rapport client record`) or their answers (the API),
//! with the clinic's free-text rule applied the same at every door; and
//! erasing a client (the admin's page, `rapport client erase`, or the
//! clinic's retention period in the job loop). A client's contact details
//! changed by their clinician or an admin, and a client recorded by the
//! practice system.

use crate::store::ClientId;
use chrono::NaiveDateTime;

use super::Actor;
use crate::store::appointments::Upserted;
use crate::store::audit::AuditAction;
use crate::store::clients::{self, Client, Details, InvitationChoice};
use crate::store::erasure::{self, Erasure};
use crate::store::intake::{self, ClientDetails};
use crate::store::record::{self, ClientRecord};
use crate::store::responses::Response;
use crate::store::staff::{self, Role};
use crate::store::{DbConnection, StoreError, invitations, kv};

/// Whether people other than the client's clinician (managers, admins, an
/// integration) may read the client's free-text answers: the clinic's
/// choice on Admin → Privacy, off until an admin turns it on.
fn others_read_free_text(conn: &mut DbConnection) -> Result<bool, StoreError> {
    kv::flag(conn, kv::STAFF_READ_FREE_TEXT)
}

/// The read of a client's data in the audit log, before it is read (so a
/// record shows its own reading). `NotFound` for an unknown client.
fn audit_read(
    conn: &mut DbConnection,
    by: Actor,
    client_id: ClientId,
    action: AuditAction,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    clients::find(conn, client_id)?;
    by.record(conn, action, Some(client_id), None, now)
}

/// A client's whole record (a subject access request), for `by`: the read
/// is in the audit log first, so the record shows it too; the client's
/// free-text answers are left out unless the clinic lets others than the
/// clinician read them. `NotFound` for an unknown client.
pub fn read_record(
    conn: &mut DbConnection,
    by: Actor,
    client_id: ClientId,
    now: NaiveDateTime,
) -> Result<ClientRecord, StoreError> {
    conn.write_transaction(|conn| {
        audit_read(conn, by, client_id, AuditAction::ClientRecordExport, now)?;
        let mut record = record::load(conn, client_id)?;
        if !others_read_free_text(conn)? && record.responses.iter().any(|(r, _, _)| r.comment.is_some()) {
            record.withhold_free_text();
        }
        Ok(record)
    })
}

/// A client's answers with their questionnaire (slug, version), for an
/// integration: audited, and the free-text rule as in [`read_record`].
pub fn read_responses(
    conn: &mut DbConnection,
    by: Actor,
    client_id: ClientId,
    now: NaiveDateTime,
) -> Result<Vec<(Response, String, i32)>, StoreError> {
    conn.write_transaction(|conn| {
        audit_read(conn, by, client_id, AuditAction::ApiResponsesRead, now)?;
        let mut responses = record::responses_with_instrument(conn, client_id)?;
        if !others_read_free_text(conn)? {
            record::withhold_free_text(&mut responses);
        }
        Ok(responses)
    })
}

/// The client asked to stop receiving questionnaires: honoured at once,
/// every queued invitation email cancelled, and the audit log says who
/// asked. Returns false when they had already opted out (nothing changes,
/// nothing is logged).
pub fn opt_out(
    conn: &mut DbConnection,
    by: Actor,
    client_id: ClientId,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    conn.write_transaction(|conn| {
        clients::find(conn, client_id)?;
        if !clients::mark_opted_out(conn, client_id, now)? {
            return Ok(false);
        }
        invitations::cancel_open_for_client(conn, client_id, "the client unsubscribed")?;
        by.record(conn, AuditAction::ClientOptOut, Some(client_id), None, now)?;
        Ok(true)
    })
}

/// Whether a client gets questionnaires; pausing or stopping cancels what
/// is queued. (The clinician's page records its own access entry.)
pub fn set_invitation_choice(
    conn: &mut DbConnection,
    client_id: ClientId,
    choice: InvitationChoice,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    conn.write_transaction(|conn| {
        clients::set_invitation_flags(conn, client_id, choice, reason, now)?;
        if choice != InvitationChoice::Active {
            invitations::cancel_open_for_client(conn, client_id, "invitations paused or stopped by the clinician")?;
        }
        Ok(())
    })
}

/// Erases one client's identifying data (see `store::erasure` for what goes
/// and what stays) and writes the audit entry, in one transaction: `why`
/// says in a few words how it was asked for. Running it again on an erased
/// client scrubs anything added since. Unknown id: `NotFound`.
pub fn erase(
    conn: &mut DbConnection,
    by: Actor,
    client_id: ClientId,
    why: &str,
    now: NaiveDateTime,
) -> Result<Erasure, StoreError> {
    conn.write_transaction(|conn| {
        let report = erasure::erase_client(conn, client_id, now)?;
        let detail = format!(
            "{why}; {} comment(s) and {} note(s) removed, {} response score(s) kept",
            report.comments_removed, report.notes_removed, report.responses_kept
        );
        by.record(conn, AuditAction::ClientErase, Some(client_id), Some(&detail), now)?;
        Ok(report)
    })
}

/// Erases every client the retention period has run out for, each in its
/// own transaction, as the clinic's rule. Returns how many were erased.
pub fn apply_retention(conn: &mut DbConnection, days: i64, now: NaiveDateTime) -> Result<usize, StoreError> {
    let due = erasure::retention_due(conn, days, now)?;
    let why = format!("retention: last appointment more than {days} days ago");
    for client in &due {
        erase(conn, Actor::ClinicRule, client.client_id, &why, now)?;
    }
    Ok(due.len())
}

/// Changes a client's contact details (name, email, time zone, language)
/// and audits which ones changed; nothing is written when nothing
/// changed. Who may do it is the caller's check (their clinician, or an
/// admin).
pub fn change_details(
    conn: &mut DbConnection,
    by: Actor,
    client_id: ClientId,
    details: &Details,
    now: NaiveDateTime,
) -> Result<Vec<&'static str>, StoreError> {
    conn.write_transaction(|conn| {
        let changed = clients::update_details(conn, client_id, details, now)?;
        if !changed.is_empty() {
            by.record(
                conn,
                AuditAction::ClientChange,
                Some(client_id),
                Some(&by.detail(format!("changed: {}", changed.join(", ")))),
                now,
            )?;
        }
        Ok(changed)
    })
}

/// A client as the practice system knows them, recorded under the active
/// clinician with `clinician_email`: created, updated or left as it was
/// (idempotent on the system's own id, and safe when two identical
/// requests race). `Invalid` when no active clinician has that email.
pub fn record_client(
    conn: &mut DbConnection,
    by: Actor,
    source: &str,
    details: &ClientDetails,
    clinician_email: &str,
    default_language: &str,
    now: NaiveDateTime,
) -> Result<(Client, Upserted), StoreError> {
    conn.idempotent_write(|conn| {
        let Some(clinician) =
            staff::find_by_email(conn, clinician_email)?.filter(|m| m.role() == Role::Clinician && m.active)
        else {
            return Err(StoreError::Invalid(format!(
                "no active clinician has the email {}",
                clinician_email.trim()
            )));
        };
        let (client, upserted) = intake::upsert_client(conn, source, details, clinician.id, default_language, now)?;
        if upserted != Upserted::Unchanged {
            by.record(conn, AuditAction::ClientRecorded, Some(client.id), None, now)?;
        }
        Ok((client, upserted))
    })
}
