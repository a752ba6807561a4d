//! Use cases: one function per thing a user does, shared by the web pages,
//! the API, the CLI and the jobs. Each owns its transaction, its audit
//! entry and the rows it queues, so a rule lives in one place whichever
//! door the request came in by.
//!
//! May import `domain` and `store`; never `web`, `cli`, `mail` or `jobs`.
//! Here: answering a questionnaire; evaluating a client's alerts and the
//! repair steps; recording an appointment and importing a file of them;
//! a client's contact details, record, answers, questionnaires and
//! erasure; staff accounts and alert emails; API keys and webhooks; the
//! clinic's settings; the research export. Reads that only show a page
//! (and the audit entry of such a read) stay with the page.

pub mod alerts;
pub mod appointments;
pub mod clients;
pub mod integrations;
pub mod questionnaires;
pub mod research;
pub mod settings;
pub mod staff;

use crate::store::{ClientId, StaffId};
use chrono::NaiveDateTime;

use crate::store::audit::{self, AuditAction, AuditEntry};
use crate::store::{DbConnection, StoreError};

/// Who did it, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in member of staff.
    Staff(StaffId),
    /// An integration, by its API key.
    ApiKey(i64),
    /// Someone at the server's shell, by a `rapport` command.
    CommandLine,
    /// The client, by a link in an email (no account, no key).
    Client,
    /// The clinic's own rule, applied by the job loop (the retention
    /// period).
    ClinicRule,
}

impl Actor {
    /// The audit entry for `action` by this actor.
    pub fn audit<'a>(self, action: AuditAction) -> AuditEntry<'a> {
        match self {
            Actor::Staff(id) => AuditEntry {
                staff_id: Some(id),
                ..AuditEntry::new(action)
            },
            Actor::ApiKey(id) => AuditEntry {
                api_key_id: Some(id),
                ..AuditEntry::new(action)
            },
            Actor::CommandLine => AuditEntry {
                detail: Some("by a rapport command"),
                ..AuditEntry::new(action)
            },
            Actor::ClinicRule => AuditEntry {
                detail: Some("by the clinic's rule, applied by the job loop"),
                ..AuditEntry::new(action)
            },
            Actor::Client => AuditEntry {
                detail: Some("by the client, from the link in an email"),
                ..AuditEntry::new(action)
            },
        }
    }

    /// Writes the audit entry for `action` by this actor, about `client_id`
    /// if any; `detail` replaces the actor's own words when given (build it
    /// with [`Actor::detail`] to keep "by a rapport command").
    pub fn record(
        self,
        conn: &mut DbConnection,
        action: AuditAction,
        client_id: Option<ClientId>,
        detail: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<(), StoreError> {
        let entry = self.audit(action);
        audit::record(
            conn,
            &AuditEntry {
                client_id,
                detail: detail.or(entry.detail),
                ..entry
            },
            now,
        )
    }

    /// An audit entry's detail, saying so when a command did it (the entry
    /// then names no member of staff).
    pub fn detail(self, what: String) -> String {
        match self {
            Actor::CommandLine => format!("{what} (by a rapport command)"),
            Actor::Staff(_) | Actor::ApiKey(_) | Actor::Client | Actor::ClinicRule => what,
        }
    }

    /// The member of staff, if a person did it.
    pub fn staff_id(self) -> Option<StaffId> {
        match self {
            Actor::Staff(id) => Some(id),
            Actor::ApiKey(_) | Actor::CommandLine | Actor::Client | Actor::ClinicRule => None,
        }
    }
}
