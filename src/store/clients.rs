//! Clients, and who among staff may see them.

use crate::store::{ClientId, StaffId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{clients, staff};
use super::staff::Role;
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clients)]
pub struct Client {
    pub id: ClientId,
    pub clinician_id: StaffId,
    pub name: String,
    pub email: Option<String>,
    pub language: String,
    pub time_zone: Option<String>,
    pub opted_out: bool,
    pub opted_out_at: Option<NaiveDateTime>,
    pub invitations_paused: bool,
    pub pause_reason: Option<String>,
    pub easy_read: bool,
    pub source: Option<String>,
    pub external_id: Option<String>,
    pub erased_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub clinician_id: StaffId,
    pub name: String,
    pub email: Option<String>,
    pub language: String,
    pub time_zone: Option<String>,
    pub source: Option<String>,
    pub external_id: Option<String>,
}

/// The member of staff asking, as far as access to client data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub staff_id: StaffId,
    pub role: Role,
    pub team_id: Option<i64>,
    /// A manager may let a clinician see their whole team's clients.
    pub sees_team: bool,
}

/// The one place that decides which clients a member of staff may read.
/// Clinicians: their own (and their team's when granted). Managers and
/// admins do not browse individual clients.
fn visible(viewer: &Viewer) -> clients::BoxedQuery<'static, super::connection::MultiBackend> {
    let base = clients::table.into_boxed();
    match (viewer.role, viewer.sees_team, viewer.team_id) {
        (Role::Clinician, true, Some(team)) => {
            base.filter(clients::clinician_id.eq_any(staff::table.filter(staff::team_id.eq(team)).select(staff::id)))
        }
        (Role::Clinician, _, _) => base.filter(clients::clinician_id.eq(viewer.staff_id)),
        (Role::Manager | Role::Admin, _, _) => base.filter(clients::id.eq(-1)),
    }
}

/// A client the viewer may see, or `NotFound` (never "forbidden": a
/// clinician must not learn that another's client exists).
pub fn find_visible(conn: &mut DbConnection, viewer: &Viewer, id: ClientId) -> Result<Client, StoreError> {
    visible(viewer)
        .filter(clients::id.eq(id))
        .select(Client::as_select())
        .first(conn)
        .map_err(StoreError::or_not_found)
}

pub fn list_visible(conn: &mut DbConnection, viewer: &Viewer, search: Option<&str>) -> Result<Vec<Client>, StoreError> {
    let mut q = visible(viewer).filter(clients::erased_at.is_null());
    if let Some(term) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        q = q.filter(clients::name.like(format!("%{escaped}%")).escape('\\'));
    }
    Ok(q.order(clients::name).select(Client::as_select()).load(conn)?)
}

/// For jobs and the survey pages, which act for the client, not for staff.
pub fn find(conn: &mut DbConnection, id: ClientId) -> Result<Client, StoreError> {
    clients::table
        .find(id)
        .select(Client::as_select())
        .first(conn)
        .map_err(StoreError::or_not_found)
}

/// Several clients at once (the dispatcher's batch), by id.
pub fn find_many(conn: &mut DbConnection, ids: &[ClientId]) -> Result<Vec<Client>, StoreError> {
    Ok(clients::table
        .filter(clients::id.eq_any(ids))
        .select(Client::as_select())
        .load(conn)?)
}

pub fn create(conn: &mut DbConnection, new: &NewClient, now: NaiveDateTime) -> Result<Client, StoreError> {
    let id: ClientId = diesel::insert_into(clients::table)
        .values((
            clients::clinician_id.eq(new.clinician_id),
            clients::name.eq(new.name.trim()),
            clients::email.eq(new.email.as_deref().map(str::trim)),
            clients::language.eq(&new.language),
            clients::time_zone.eq(&new.time_zone),
            clients::source.eq(&new.source),
            clients::external_id.eq(&new.external_id),
            clients::created_at.eq(now),
            clients::updated_at.eq(now),
        ))
        .returning(clients::id)
        .get_result(conn)?;
    find(conn, id)
}

/// A client's contact details as staff edit them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub name: String,
    pub email: Option<String>,
    pub time_zone: Option<String>,
    pub language: String,
}

/// Saves the details; returns the names of the fields that changed (for
/// the audit entry, which holds no values).
pub fn update_details(
    conn: &mut DbConnection,
    id: ClientId,
    details: &Details,
    now: NaiveDateTime,
) -> Result<Vec<&'static str>, StoreError> {
    let before = find(conn, id)?;
    let mut changed = vec![];
    if before.name != details.name {
        changed.push("name");
    }
    if before.email != details.email {
        changed.push("email");
    }
    if before.time_zone != details.time_zone {
        changed.push("time zone");
    }
    if before.language != details.language {
        changed.push("language");
    }
    if !changed.is_empty() {
        diesel::update(clients::table.find(id))
            .set((
                clients::name.eq(&details.name),
                clients::email.eq(&details.email),
                clients::time_zone.eq(&details.time_zone),
                clients::language.eq(&details.language),
                clients::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(changed)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(clients::table.count().get_result(conn)?)
}

/// Number of clients per clinician, for the manager's overview.
pub fn count_by_clinician(conn: &mut DbConnection) -> Result<Vec<(StaffId, i64)>, StoreError> {
    Ok(clients::table
        .filter(clients::erased_at.is_null())
        .group_by(clients::clinician_id)
        .select((clients::clinician_id, diesel::dsl::count_star()))
        .load(conn)?)
}

/// Marks the client as having asked to stop receiving questionnaires
/// (`actions::clients::opt_out` also cancels what is queued). Returns false
/// when they had already opted out.
pub fn mark_opted_out(conn: &mut DbConnection, id: ClientId, now: NaiveDateTime) -> Result<bool, StoreError> {
    let updated = diesel::update(clients::table.find(id).filter(clients::opted_out.eq(false)))
        .set((
            clients::opted_out.eq(true),
            clients::opted_out_at.eq(now),
            clients::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Remembers whether the client prefers the easy-read questionnaire.
pub fn set_easy_read(conn: &mut DbConnection, id: ClientId, easy: bool, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(clients::table.find(id))
        .set((clients::easy_read.eq(easy), clients::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// The language the client chose on their questionnaire page.
pub fn set_language(
    conn: &mut DbConnection,
    id: ClientId,
    language: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(clients::table.find(id))
        .set((clients::language.eq(language), clients::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Whether a client gets questionnaires, as a clinician sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationChoice {
    /// Invitations go out after each attended session.
    Active,
    /// Temporarily not (for example during a crisis), with a reason.
    Paused,
    /// Not at all: the client asked to stop (same as unsubscribing).
    Stopped,
}

/// Why a client is not sent a questionnaire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotEmailed {
    /// They asked to stop, or their details were erased.
    OptedOut,
    /// Paused by their clinician or an admin.
    Paused,
    NoEmail,
}

impl NotEmailed {
    pub fn reason(self) -> &'static str {
        match self {
            NotEmailed::OptedOut => "the client asked not to receive these emails",
            NotEmailed::Paused => "invitations are paused for this client",
            NotEmailed::NoEmail => "the client has no email address",
        }
    }
}

impl Client {
    /// Where this client's questionnaires go, or why none does: the one
    /// rule at invitation time, when an appointment moves to them, and
    /// again when the email leaves (an admin may have changed it since).
    pub fn questionnaire_address(&self) -> Result<&str, NotEmailed> {
        if self.opted_out || self.erased_at.is_some() {
            return Err(NotEmailed::OptedOut);
        }
        if self.invitations_paused {
            return Err(NotEmailed::Paused);
        }
        self.email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .ok_or(NotEmailed::NoEmail)
    }

    pub fn invitation_choice(&self) -> InvitationChoice {
        if self.opted_out {
            InvitationChoice::Stopped
        } else if self.invitations_paused {
            InvitationChoice::Paused
        } else {
            InvitationChoice::Active
        }
    }
}

/// Records whether a client gets questionnaires (use
/// `actions::clients::set_invitation_choice`, which also cancels what is
/// queued when they are paused or stopped).
pub fn set_invitation_flags(
    conn: &mut DbConnection,
    id: ClientId,
    choice: InvitationChoice,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let (paused, opted_out) = match choice {
        InvitationChoice::Active => (false, false),
        InvitationChoice::Paused => (true, false),
        InvitationChoice::Stopped => (false, true),
    };
    diesel::update(clients::table.find(id))
        .set((
            clients::invitations_paused.eq(paused),
            clients::pause_reason.eq(reason),
            clients::opted_out.eq(opted_out),
            clients::opted_out_at.eq(opted_out.then_some(now)),
            clients::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A client by number (`12` or `#12`), or by exact email address: an
/// admin's lookup on the privacy page.
pub fn find_by_number_or_email(conn: &mut DbConnection, term: &str) -> Result<Option<Client>, StoreError> {
    let term = term.trim().trim_start_matches('#');
    if let Ok(id) = term.parse::<ClientId>() {
        return match find(conn, id) {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
    }
    Ok(clients::table
        .filter(clients::email.eq(term))
        .order(clients::id)
        .select(Client::as_select())
        .first(conn)
        .optional()?)
}
