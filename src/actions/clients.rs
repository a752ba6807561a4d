//! A client's questionnaires: stopping them (the client's own unsubscribe
//! link, or the practice system over the API) and pausing or resuming them
//! (their clinician).

use chrono::NaiveDateTime;

use super::Actor;
use crate::store::clients::{self, InvitationChoice};
use crate::store::{DbConnection, StoreError, audit, invitations};

/// The client asked to stop receiving questionnaires: honoured at once,
/// every queued invitation email cancelled, and the audit log says who
/// asked. Returns false when they had already opted out (nothing changes,
/// nothing is logged).
pub fn opt_out(conn: &mut DbConnection, by: Actor, client_id: i64, now: NaiveDateTime) -> Result<bool, StoreError> {
    conn.write_transaction(|conn| {
        clients::find(conn, client_id)?;
        if !clients::mark_opted_out(conn, client_id, now)? {
            return Ok(false);
        }
        invitations::cancel_open_for_client(conn, client_id, "the client unsubscribed")?;
        audit::record(
            conn,
            &audit::AuditEntry {
                client_id: Some(client_id),
                ..by.audit("client.opt_out")
            },
            now,
        )?;
        Ok(true)
    })
}

/// Whether a client gets questionnaires; pausing or stopping cancels what
/// is queued. (The clinician's page records its own access entry.)
pub fn set_invitation_choice(
    conn: &mut DbConnection,
    client_id: i64,
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
