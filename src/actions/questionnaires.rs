//! A client's questionnaire behind the private link in their email: what
//! the link stands for now, and the client answering it (stored, scored
//! once, integrations told and the client's alerts brought up to date, in
//! one transaction).

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::domain::instrument::{Answers, InstrumentDefinition};
use crate::store::clients::Client;
use crate::store::invitations::{self, Invitation, InvitationStatus, Mailing};
use crate::store::{DbConnection, StoreError, history, responses, webhooks};

/// One client's questionnaire: the invitation, its client, the
/// questionnaire's definition and the clinic's help line, each read once.
pub struct Questionnaire {
    pub invitation: Invitation,
    pub client: Client,
    pub instrument: Arc<InstrumentDefinition>,
    /// The clinic's line beside the comment box on where to get help now
    /// (none until the clinic sets it: pages then show the default, in the
    /// client's language).
    pub help_line: Option<String>,
}

/// What a questionnaire link is, now.
pub enum Link {
    Unknown,
    Open(Box<Questionnaire>),
    Answered(Box<Questionnaire>),
    Expired(Box<Questionnaire>),
    NoLongerNeeded(Box<Questionnaire>),
    /// The client stopped their questionnaires.
    Unsubscribed(Box<Questionnaire>),
}

impl Link {
    /// The questionnaire, unless the link is unknown.
    pub fn questionnaire(&self) -> Option<&Questionnaire> {
        match self {
            Link::Unknown => None,
            Link::Open(q) | Link::Answered(q) | Link::Expired(q) | Link::NoLongerNeeded(q) | Link::Unsubscribed(q) => {
                Some(q)
            }
        }
    }
}

/// Reads the link with `token` (one statement; the questionnaire is
/// parsed once per process). Changes nothing: mail scanners open every
/// link.
pub fn link(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<Link, StoreError> {
    let Some(found) = invitations::find_survey(conn, token)? else {
        return Ok(Link::Unknown);
    };
    let status = found.invitation.status;
    let expired = found.invitation.expires_at <= now;
    let questionnaire = Box::new(Questionnaire {
        instrument: history::parsed(&found.instrument)?,
        invitation: found.invitation,
        client: found.client,
        help_line: found.help_line,
    });
    Ok(match status {
        InvitationStatus::Answered => Link::Answered(questionnaire),
        _ if questionnaire.client.opted_out => Link::Unsubscribed(questionnaire),
        InvitationStatus::Cancelled => Link::NoLongerNeeded(questionnaire),
        InvitationStatus::Expired => Link::Expired(questionnaire),
        _ if expired => Link::Expired(questionnaire),
        InvitationStatus::Scheduled | InvitationStatus::Sent => Link::Open(questionnaire),
    })
}

/// The client's answers (already checked against the questionnaire) in
/// `language`: in one write transaction the invitation closes (and its
/// reminder is cancelled), the answers are stored with their scores,
/// integrations are told, and the client's alerts follow their history,
/// with the clinician notified when that cannot wait. Returns false when
/// the link was no longer open by the time of the write (answered in
/// another tab, expired, cancelled): nothing is stored twice.
pub fn answer(
    conn: &mut DbConnection,
    mailing: &Mailing,
    questionnaire: &Questionnaire,
    answers: &Answers,
    language: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let Questionnaire {
        invitation,
        client,
        instrument,
        ..
    } = questionnaire;
    conn.idempotent_write(|conn| {
        if !invitations::mark_answered(conn, invitation.id, now)? {
            return Ok(false);
        }
        let response = responses::insert(conn, invitation, instrument, answers, language, now)?;
        webhooks::response_received(conn, mailing, &response, invitation, instrument, now)?;
        super::alerts::evaluate_client(conn, client, mailing, now)?;
        Ok(true)
    })
}
