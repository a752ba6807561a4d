//! The pseudonymised answer-level export for research: one row per
//! answered questionnaire, clients named by a pseudonym that holds only
//! for this file, dates optionally shifted per client, every export in the
//! audit log with what it held. The manager's trend tables, exported as
//! CSV, are audited here too.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

use super::Actor;
use crate::domain::instrument::{Answers, InstrumentDefinition};
use crate::domain::spreadsheet::spreadsheet_text;
use crate::domain::trends::local_midnight_utc;
use crate::domain::trends::research::{PseudonymKey, answer_cell, item_columns, number};
use crate::store::audit::AuditAction;
use crate::store::{DbConnection, StoreError, history, instruments, trends};

/// Which answers to export.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// First local day, or from the start.
    pub from: Option<NaiveDate>,
    /// Last local day, or until today.
    pub to: Option<NaiveDate>,
    /// Shift each client's dates by a per-file offset of their own.
    pub shift_dates: bool,
}

impl Request {
    fn dates(&self) -> String {
        match (self.from, self.to) {
            (None, None) => "all dates".to_string(),
            (f, t) => format!(
                "{} to {}",
                f.map_or("the start".to_string(), |d| d.to_string()),
                t.map_or("today".to_string(), |d| d.to_string())
            ),
        }
    }
}

/// The CSV file of answers (UTF-8), written to the audit log under `by`
/// with its row and client counts.
pub fn export_answers(
    conn: &mut DbConnection,
    by: Actor,
    request: &Request,
    tz: Tz,
    now: NaiveDateTime,
) -> Result<Vec<u8>, StoreError> {
    if let (Some(f), Some(t)) = (request.from, request.to)
        && f > t
    {
        return Err(StoreError::Invalid("“From” must be on or before “To”.".into()));
    }
    let since = request.from.map(|d| local_midnight_utc(d, tz));
    let until = request
        .to
        .map(|d| local_midnight_utc(d + chrono::Duration::days(1), tz));
    let rows = trends::research_rows(conn, since, until)?;
    let mut definitions: BTreeMap<i64, (String, i32, Arc<InstrumentDefinition>)> = BTreeMap::new();
    for row in instruments::list(conn)? {
        let definition = history::instrument(conn, row.id)?;
        definitions.insert(row.id, (row.slug, row.version, definition));
    }
    let key = PseudonymKey::from_bytes(rand::random());
    let used: Vec<&InstrumentDefinition> = definitions
        .iter()
        .filter(|(id, _)| rows.iter().any(|r| r.instrument_id == **id))
        .map(|(_, (_, _, d))| &**d)
        .collect();
    let items = item_columns(used);
    let mut first_answer: HashMap<i64, NaiveDate> = HashMap::new();
    let local_date = |t: NaiveDateTime| t.and_utc().with_timezone(&tz).date_naive();
    for row in &rows {
        first_answer
            .entry(row.client_id)
            .or_insert_with(|| local_date(row.submitted_at));
    }
    let mut out = csv::Writer::from_writer(vec![]);
    let mut header: Vec<String> = [
        "pseudonym",
        "questionnaire",
        "questionnaire_version",
        "session_number",
        "date",
        "days_since_first_answer",
    ]
    .map(String::from)
    .to_vec();
    header.extend(items.iter().cloned());
    header.extend(["total".to_string(), "score_0_100".to_string()]);
    out.write_record(&header).map_err(csv_error)?;
    for row in &rows {
        let (slug, version) = definitions
            .get(&row.instrument_id)
            .map_or(("unknown".to_string(), 0), |(slug, version, _)| {
                (slug.clone(), *version)
            });
        let date = local_date(row.submitted_at);
        let shown = if request.shift_dates {
            key.shifted(row.client_id, date)
        } else {
            date
        };
        let since = first_answer
            .get(&row.client_id)
            .map_or(0, |first| (date - *first).num_days());
        let answers: Answers = serde_json::from_str(&row.answers).unwrap_or_default();
        let mut record = vec![
            key.pseudonym(row.client_id),
            slug,
            version.to_string(),
            row.session.map(|s| s.to_string()).unwrap_or_default(),
            shown.to_string(),
            since.to_string(),
        ];
        record.extend(items.iter().map(|item| {
            answers
                .get(item)
                .and_then(answer_cell)
                .map(|c| spreadsheet_text(&c))
                .unwrap_or_default()
        }));
        record.push(row.total.map(number).unwrap_or_default());
        record.push(row.common_score.map(number).unwrap_or_default());
        out.write_record(&record).map_err(csv_error)?;
    }
    let bytes = out.into_inner().map_err(csv_error)?;
    let detail = format!(
        "research answers: {} rows from {} clients; {}; dates {}",
        rows.len(),
        first_answer.len(),
        request.dates(),
        if request.shift_dates {
            "shifted per client"
        } else {
            "not shifted"
        }
    );
    by.record(conn, AuditAction::ExportResearch, None, Some(&by.detail(detail)), now)?;
    Ok(bytes)
}

fn csv_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::TaskFailed(format!("writing CSV: {e}"))
}

/// The manager's trend tables, exported as CSV: what they held goes to
/// the audit log (the tables themselves are built from the dashboard).
pub fn record_trends_export(
    conn: &mut DbConnection,
    by: Actor,
    held: String,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    by.record(conn, AuditAction::ExportTrends, None, Some(&by.detail(held)), now)
}
