//! Responses: a client's answers to one invitation, with their scores.

use crate::store::InvitationId;
use crate::store::{ClientId, StaffId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::responses;
use super::{DbConnection, StoreError};
use crate::domain::instrument::{Answer, Answers, InstrumentDefinition, ItemRole, Scores};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = responses)]
pub struct Response {
    pub id: i64,
    pub invitation_id: InvitationId,
    pub client_id: ClientId,
    pub instrument_id: i64,
    /// Every answer but the free text (which is in `comment`), as JSON.
    pub answers: String,
    pub total: Option<f64>,
    pub common_score: Option<f64>,
    /// The full [`Scores`] as JSON.
    pub scores: String,
    pub screener_uncomfortable: Option<bool>,
    pub comment: Option<String>,
    pub submitted_at: NaiveDateTime,
    /// The language the client answered in (none for answers stored
    /// before languages were recorded, which were English).
    pub language: Option<String>,
}

impl Response {
    pub fn answers(&self) -> Answers {
        serde_json::from_str(&self.answers).unwrap_or_default()
    }

    pub fn scores(&self) -> Scores {
        serde_json::from_str(&self.scores).unwrap_or_default()
    }
}

/// Stores a scored response. Call in the transaction that closes the
/// invitation. The free-text answer is kept apart from the other answers so
/// views that must not show it (managers, exports) never load it.
pub fn insert(
    conn: &mut DbConnection,
    invitation: &super::invitations::Invitation,
    instrument: &InstrumentDefinition,
    answers: &Answers,
    language: &str,
    now: NaiveDateTime,
) -> Result<Response, StoreError> {
    let mut kept = instrument.snapped(answers);
    let scores = instrument.score(&kept);
    let comment_item = instrument.item_with_role(ItemRole::Comment).map(|i| i.id.clone());
    let comment = comment_item.and_then(|id| kept.0.remove(&id)).and_then(|a| match a {
        Answer::Text(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ => None,
    });
    let answers = serde_json::to_string(&kept).unwrap_or_default();
    let scores_text = serde_json::to_string(&scores).unwrap_or_default();
    let id: i64 = diesel::insert_into(responses::table)
        .values((
            responses::invitation_id.eq(invitation.id),
            responses::client_id.eq(invitation.client_id),
            responses::instrument_id.eq(invitation.instrument_id),
            responses::answers.eq(&answers),
            responses::total.eq(scores.total),
            responses::common_score.eq(scores.common_0_100),
            responses::scores.eq(&scores_text),
            responses::screener_uncomfortable.eq(scores.screener_flagged),
            responses::comment.eq(&comment),
            responses::submitted_at.eq(now),
            responses::language.eq(language),
        ))
        .returning(responses::id)
        .get_result(conn)?;
    Ok(Response {
        id,
        invitation_id: invitation.id,
        client_id: invitation.client_id,
        instrument_id: invitation.instrument_id,
        answers,
        total: scores.total,
        common_score: scores.common_0_100,
        scores: scores_text,
        screener_uncomfortable: scores.screener_flagged,
        comment,
        submitted_at: now,
        language: Some(language.to_string()),
    })
}

pub fn for_client(conn: &mut DbConnection, client_id: ClientId) -> Result<Vec<Response>, StoreError> {
    Ok(responses::table
        .filter(responses::client_id.eq(client_id))
        .order((responses::submitted_at, responses::id))
        .select(Response::as_select())
        .load(conn)?)
}

/// Comments written since a moment by the clients a viewer may see, newest
/// first (at most `limit`): the client and when, and the words (for the
/// risk check; the inbox shows only that there is something to read).
pub fn recent_comments(
    conn: &mut DbConnection,
    visible: &[super::clients::Client],
    since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(super::clients::Client, NaiveDateTime, String)>, StoreError> {
    let ids: Vec<ClientId> = visible.iter().map(|c| c.id).collect();
    let rows: Vec<(ClientId, NaiveDateTime, Option<String>)> = responses::table
        .filter(responses::client_id.eq_any(&ids))
        .filter(responses::comment.is_not_null())
        .filter(responses::submitted_at.ge(since))
        .order((responses::submitted_at.desc(), responses::id.desc()))
        .limit(limit)
        .select((responses::client_id, responses::submitted_at, responses::comment))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(client_id, at, comment)| {
            let client = visible.iter().find(|c| c.id == client_id)?.clone();
            Some((client, at, comment?))
        })
        .collect())
}

/// Each client's latest scored total, by client id.
pub fn latest_totals(
    conn: &mut DbConnection,
    client_ids: &[ClientId],
) -> Result<std::collections::HashMap<ClientId, f64>, StoreError> {
    let rows: Vec<(ClientId, Option<f64>)> = responses::table
        .filter(responses::client_id.eq_any(client_ids))
        .filter(responses::total.is_not_null())
        .order((responses::submitted_at, responses::id))
        .select((responses::client_id, responses::total))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(client, total)| Some((client, total?)))
        .collect())
}

/// How many comments the clinician's clients wrote since `since`.
pub fn comments_for_clinician_since(
    conn: &mut DbConnection,
    clinician_id: StaffId,
    since: NaiveDateTime,
) -> Result<i64, StoreError> {
    use super::schema::clients;
    Ok(responses::table
        .inner_join(clients::table.on(clients::id.eq(responses::client_id)))
        .filter(clients::clinician_id.eq(clinician_id))
        .filter(responses::comment.is_not_null())
        .filter(responses::submitted_at.ge(since))
        .count()
        .get_result(conn)?)
}

pub fn for_invitation(conn: &mut DbConnection, invitation_id: InvitationId) -> Result<Option<Response>, StoreError> {
    Ok(responses::table
        .filter(responses::invitation_id.eq(invitation_id))
        .select(Response::as_select())
        .first(conn)
        .optional()?)
}
