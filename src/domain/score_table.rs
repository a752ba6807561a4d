//! Reading a table of scores (the input of `rapport analyse`) into client
//! histories. Pure: it takes the text, not a file.
//!
//! Two shapes are recognised from the header row:
//!
//! - **long**: one row per client and session, with columns `client` (or
//!   `id`), `session` and `score` (or `total`). Optional columns:
//!   `screener` (yes/no, true/false, 1/0), `comment` (any text counts as a
//!   comment given; the text itself is not kept), `status`
//!   (answered/unanswered/missed/pending); every other column is read as a
//!   keyed item value (e.g. `bond`). An empty score, or the words
//!   `unanswered`, `missed` or `pending` in it, record that outcome. A
//!   session number with no row counts as unanswered.
//! - **wide**: one row per client with an `id` (or `client`) column and one
//!   column per session. Session columns are those named `s<N>` or
//!   `<prefix>s<N>` (e.g. `s1`, `bdi_s1`) with N ≥ 1, in order of N;
//!   `s0` is taken to be a pre-treatment baseline and left out, and other
//!   columns (follow-ups such as `bdi_fu1`) are ignored. Or name them:
//!   `A..B` (the columns from A to B in header order) or `A,B,C`.
//!   Empty cells are unanswered sessions.
//!
//! Sessions are numbered 1, 2, … in order (for wide tables: by their place
//! among the session columns, so `bdi_s1`…`bdi_s12` are sessions 1–12).
//! Rows that cannot be read are reported with their line number and
//! skipped; the caller decides whether that is fatal.

use std::collections::BTreeMap;

use super::history::{ClientHistory, SessionOutcome, SessionRecord};

/// The shape a table was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableShape {
    Long,
    Wide,
}

/// One client's series from the table.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSeries {
    pub client: String,
    pub history: ClientHistory,
}

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    pub line: u64,
    pub message: String,
}

/// A table read into client histories.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreTable {
    pub shape: TableShape,
    pub clients: Vec<ClientSeries>,
    pub problems: Vec<RowProblem>,
    /// The columns used as sessions (wide tables).
    pub session_columns: Vec<String>,
}

/// Why a table could not be read at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("the input is empty: expected a header row and at least one row of scores")]
    Empty,
    #[error("the header row has no client column: name one `client` or `id`")]
    NoClientColumn,
    #[error("the long table has no score column: name one `score` or `total`")]
    NoScoreColumn,
    #[error("no session columns found: name them s1, s2, … (or bdi_s1, …), or choose them with --sessions")]
    NoSessionColumns,
    #[error("session columns with different prefixes ({0}); choose one set with --sessions, e.g. --sessions {1}")]
    AmbiguousSessions(String, String),
    #[error("--sessions names column {0:?}, which is not in the header")]
    UnknownColumn(String),
    #[error("--sessions range {0:?} runs backwards in the header")]
    BackwardsRange(String),
}

/// How to read a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableOptions {
    /// Wide tables: the session columns, `A..B` or `A,B,C`; None to detect.
    pub sessions: Option<String>,
}

/// The largest session number accepted (guards against a typo allocating a huge series).
pub const MAX_SESSION: u32 = 1000;

/// Reads a table of scores.
pub fn parse_score_table(text: &str, options: &TableOptions) -> Result<ScoreTable, TableError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect(),
        Err(_) => return Err(TableError::Empty),
    };
    if header.iter().all(|h| h.is_empty()) {
        return Err(TableError::Empty);
    }
    let lower: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let find = |names: &[&str]| lower.iter().position(|h| names.contains(&h.as_str()));
    let client_col = find(&["client", "id", "client_id"]).ok_or(TableError::NoClientColumn)?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let fields: Vec<String> = record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).trim().to_string())
                    .collect();
                if fields.iter().all(|f| f.is_empty()) {
                    continue;
                }
                if fields.len() != header.len() {
                    problems.push(RowProblem {
                        line,
                        message: format!("has {} fields but the header has {}", fields.len(), header.len()),
                    });
                    continue;
                }
                rows.push((line, fields));
            }
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(RowProblem {
                    line,
                    message: format!("could not be read as CSV ({e})"),
                });
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                ) {
                    break;
                }
            }
        }
    }
    if find(&["session"]).is_some() {
        let score_col = find(&["score", "total"]).ok_or(TableError::NoScoreColumn)?;
        let session_col = find(&["session"]).expect("checked");
        let table = read_long(&header, &lower, client_col, session_col, score_col, rows, &mut problems);
        problems.sort_by_key(|p| p.line);
        return Ok(ScoreTable {
            shape: TableShape::Long,
            clients: table,
            problems,
            session_columns: Vec::new(),
        });
    }
    let columns = session_columns(&header, client_col, options.sessions.as_deref())?;
    let clients = read_wide(&header, client_col, &columns, rows, &mut problems);
    problems.sort_by_key(|p| p.line);
    Ok(ScoreTable {
        shape: TableShape::Wide,
        clients,
        problems,
        session_columns: columns.iter().map(|&c| header[c].clone()).collect(),
    })
}

/// Parses a number cell; None for empty.
fn number(cell: &str) -> Result<Option<f64>, String> {
    if cell.is_empty() || cell.eq_ignore_ascii_case("na") {
        return Ok(None);
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(format!("{cell:?} is not a number")),
    }
}

/// `s<N>` or `<prefix>s<N>` with N ≥ 0: (prefix, N).
fn session_name(name: &str) -> Option<(String, u32)> {
    let lower = name.to_ascii_lowercase();
    let (last, ch) = lower.char_indices().rev().find(|(_, c)| !c.is_ascii_digit())?;
    let digits_start = last + ch.len_utf8();
    if digits_start >= lower.len() || !lower[..digits_start].ends_with('s') {
        return None;
    }
    let n: u32 = lower[digits_start..].parse().ok()?;
    let prefix = &lower[..digits_start - 1];
    if !(prefix.is_empty() || prefix.ends_with('_') || prefix.ends_with('.')) {
        return None;
    }
    Some((prefix.to_string(), n))
}

fn session_columns(header: &[String], client_col: usize, chosen: Option<&str>) -> Result<Vec<usize>, TableError> {
    let index = |name: &str| {
        header
            .iter()
            .position(|h| h == name.trim())
            .ok_or_else(|| TableError::UnknownColumn(name.trim().to_string()))
    };
    if let Some(spec) = chosen {
        if let Some((a, b)) = spec.split_once("..") {
            let (i, j) = (index(a)?, index(b)?);
            if i > j {
                return Err(TableError::BackwardsRange(spec.to_string()));
            }
            return Ok((i..=j).filter(|&c| c != client_col).collect());
        }
        let cols = spec
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(index)
            .collect::<Result<Vec<_>, _>>()?;
        if cols.is_empty() {
            return Err(TableError::NoSessionColumns);
        }
        return Ok(cols);
    }
    let mut by_prefix: BTreeMap<String, Vec<(u32, usize)>> = BTreeMap::new();
    for (c, name) in header.iter().enumerate() {
        if c == client_col {
            continue;
        }
        if let Some((prefix, n)) = session_name(name)
            && n >= 1
        {
            by_prefix.entry(prefix).or_default().push((n, c));
        }
    }
    match by_prefix.len() {
        0 => Err(TableError::NoSessionColumns),
        1 => {
            let mut cols = by_prefix.into_values().next().expect("one");
            cols.sort();
            Ok(cols.into_iter().map(|(_, c)| c).collect())
        }
        _ => {
            let names: Vec<String> = by_prefix.keys().map(|p| format!("{p}s…")).collect();
            let (_, first) = by_prefix.iter().next().expect("two or more");
            let lo = first.iter().min().expect("non-empty").1;
            let hi = first.iter().max().expect("non-empty").1;
            Err(TableError::AmbiguousSessions(
                names.join(", "),
                format!("{}..{}", header[lo], header[hi]),
            ))
        }
    }
}

fn read_wide(
    header: &[String],
    client_col: usize,
    columns: &[usize],
    rows: Vec<(u64, Vec<String>)>,
    problems: &mut Vec<RowProblem>,
) -> Vec<ClientSeries> {
    let mut clients: Vec<ClientSeries> = Vec::new();
    'rows: for (line, fields) in rows {
        let client = fields[client_col].clone();
        if client.is_empty() {
            problems.push(RowProblem {
                line,
                message: "has no client id".into(),
            });
            continue;
        }
        if clients.iter().any(|c| c.client == client) {
            problems.push(RowProblem {
                line,
                message: format!("repeats client {client:?}; a wide table has one row per client"),
            });
            continue;
        }
        let mut history = ClientHistory::default();
        for &c in columns {
            match number(&fields[c]) {
                Ok(Some(v)) => history.push(SessionOutcome::total_only(v)),
                Ok(None) => history.push(SessionOutcome::Unanswered),
                Err(e) => {
                    problems.push(RowProblem {
                        line,
                        message: format!("column {}: {e}", header[c]),
                    });
                    continue 'rows;
                }
            }
        }
        clients.push(ClientSeries { client, history });
    }
    clients
}

fn parse_flag(cell: &str) -> Result<Option<bool>, String> {
    match cell.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "yes" | "y" | "true" | "1" => Ok(Some(true)),
        "no" | "n" | "false" | "0" => Ok(Some(false)),
        _ => Err(format!("screener {cell:?} is not yes or no")),
    }
}

#[allow(clippy::too_many_arguments)]
fn read_long(
    header: &[String],
    lower: &[String],
    client_col: usize,
    session_col: usize,
    score_col: usize,
    rows: Vec<(u64, Vec<String>)>,
    problems: &mut Vec<RowProblem>,
) -> Vec<ClientSeries> {
    let screener_col = lower.iter().position(|h| h == "screener");
    let comment_col = lower.iter().position(|h| h == "comment");
    let status_col = lower.iter().position(|h| h == "status");
    let special = [
        Some(client_col),
        Some(session_col),
        Some(score_col),
        screener_col,
        comment_col,
        status_col,
    ];
    let item_cols: Vec<usize> = (0..header.len()).filter(|c| !special.contains(&Some(*c))).collect();

    let mut order: Vec<String> = Vec::new();
    let mut by_client: BTreeMap<String, BTreeMap<u32, (u64, SessionOutcome)>> = BTreeMap::new();
    for (line, fields) in rows {
        let row = (|| -> Result<(String, u32, SessionOutcome), String> {
            let client = fields[client_col].clone();
            if client.is_empty() {
                return Err("has no client id".into());
            }
            let session: u32 = fields[session_col]
                .parse()
                .map_err(|_| format!("session {:?} is not a whole number", fields[session_col]))?;
            if session == 0 || session > MAX_SESSION {
                return Err(format!("session {session} is outside 1–{MAX_SESSION}"));
            }
            let score_cell = fields[score_col].to_ascii_lowercase();
            let status = status_col.map(|c| fields[c].to_ascii_lowercase()).unwrap_or_default();
            let word = if status.is_empty() || status == "answered" {
                score_cell.as_str()
            } else {
                status.as_str()
            };
            let outcome = match word {
                "unanswered" | "expired" => SessionOutcome::Unanswered,
                "missed" | "no-show" | "no_show" => SessionOutcome::Missed,
                "pending" => SessionOutcome::Pending,
                _ => {
                    if !status.is_empty() && status != "answered" {
                        return Err(format!(
                            "status {status:?} is not answered, unanswered, missed or pending"
                        ));
                    }
                    match number(&fields[score_col])? {
                        None => SessionOutcome::Unanswered,
                        Some(total) => {
                            let mut items = BTreeMap::new();
                            for &c in &item_cols {
                                if let Some(v) = number(&fields[c]).map_err(|e| format!("column {}: {e}", header[c]))? {
                                    items.insert(header[c].clone(), v);
                                }
                            }
                            let screener = match screener_col {
                                Some(c) => parse_flag(&fields[c])?,
                                None => None,
                            };
                            let comment_given = comment_col.is_some_and(|c| !fields[c].is_empty());
                            SessionOutcome::Answered {
                                total: Some(total),
                                items,
                                screener_uncomfortable: screener,
                                comment_given,
                                comment: comment_col
                                    .map(|c| fields[c].trim().to_string())
                                    .filter(|t| !t.is_empty()),
                            }
                        }
                    }
                }
            };
            Ok((client, session, outcome))
        })();
        match row {
            Ok((client, session, outcome)) => {
                let sessions = by_client.entry(client.clone()).or_default();
                if sessions.is_empty() {
                    order.push(client.clone());
                }
                if let Some((first, _)) = sessions.get(&session) {
                    problems.push(RowProblem {
                        line,
                        message: format!("repeats session {session} of client {client:?} (first on line {first})"),
                    });
                } else {
                    sessions.insert(session, (line, outcome));
                }
            }
            Err(message) => problems.push(RowProblem { line, message }),
        }
    }
    order
        .into_iter()
        .map(|client| {
            let sessions = by_client.remove(&client).unwrap_or_default();
            let last = sessions.keys().next_back().copied().unwrap_or(0);
            let mut records = Vec::with_capacity(last as usize);
            let mut given = sessions.into_iter().peekable();
            for session in 1..=last {
                let outcome = match given.peek() {
                    Some((s, _)) if *s == session => given.next().expect("peeked").1.1,
                    _ => SessionOutcome::Unanswered,
                };
                records.push(SessionRecord { session, outcome });
            }
            ClientSeries {
                client,
                history: ClientHistory { sessions: records },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn totals(h: &ClientHistory) -> Vec<Option<f64>> {
        h.sessions.iter().map(|s| s.outcome.total()).collect()
    }

    #[test]
    fn wide_table_detects_session_columns_and_skips_s0_and_follow_ups() {
        let text = "id,bdi_s0,bdi_s1,bdi_s2,bdi_s3,bdi_fu1\n1,33,35,,34,10\n2,26,26,27,,8\n";
        let t = parse_score_table(text, &TableOptions::default()).unwrap();
        assert_eq!(t.shape, TableShape::Wide);
        assert_eq!(t.session_columns, vec!["bdi_s1", "bdi_s2", "bdi_s3"]);
        assert_eq!(totals(&t.clients[0].history), vec![Some(35.0), None, Some(34.0)]);
        assert_eq!(t.clients[1].client, "2");
        assert!(t.problems.is_empty());
    }

    #[test]
    fn wide_sessions_can_be_chosen() {
        let text = "id,bdi_s0,bdi_s1,bdi_s2,rq_s1\n1,33,35,36,9\n";
        let err = parse_score_table(text, &TableOptions::default()).unwrap_err();
        assert!(err.to_string().contains("--sessions bdi_s1..bdi_s2"), "{err}");
        let t = parse_score_table(
            text,
            &TableOptions {
                sessions: Some("bdi_s0..bdi_s2".into()),
            },
        )
        .unwrap();
        assert_eq!(totals(&t.clients[0].history), vec![Some(33.0), Some(35.0), Some(36.0)]);
        let t = parse_score_table(
            text,
            &TableOptions {
                sessions: Some("rq_s1".into()),
            },
        )
        .unwrap();
        assert_eq!(totals(&t.clients[0].history), vec![Some(9.0)]);
        let err = parse_score_table(
            text,
            &TableOptions {
                sessions: Some("x..bdi_s2".into()),
            },
        )
        .unwrap_err();
        assert_eq!(err, TableError::UnknownColumn("x".into()));
    }

    #[test]
    fn long_table_with_items_outcomes_and_gaps() {
        let text = "client,session,score,bond,screener,comment\n\
a,1,38,10,no,\n\
a,2,35,7,yes,felt rushed\n\
a,4,missed,,,\n\
b,2,,,,\n\
b,1,40,10,,\n";
        let t = parse_score_table(text, &TableOptions::default()).unwrap();
        assert_eq!(t.shape, TableShape::Long);
        let a = &t.clients[0];
        assert_eq!(a.client, "a");
        assert_eq!(a.history.sessions.len(), 4);
        match &a.history.sessions[1].outcome {
            SessionOutcome::Answered {
                total,
                items,
                screener_uncomfortable,
                comment_given,
                ..
            } => {
                assert_eq!(*total, Some(35.0));
                assert_eq!(items["bond"], 7.0);
                assert_eq!(*screener_uncomfortable, Some(true));
                assert!(*comment_given);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(a.history.sessions[2].outcome, SessionOutcome::Unanswered);
        assert_eq!(a.history.sessions[3].outcome, SessionOutcome::Missed);
        assert_eq!(totals(&t.clients[1].history), vec![Some(40.0), None]);
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_and_skipped() {
        let text = "client,session,score\na,1,38\na,x,37\na,2,thirty\na,2,36\na,2,35\nb,1,39,extra\n";
        let t = parse_score_table(text, &TableOptions::default()).unwrap();
        let lines: Vec<u64> = t.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 6, 7]);
        assert!(t.problems[0].message.contains("\"x\" is not a whole number"));
        assert!(t.problems[1].message.contains("\"thirty\" is not a number"));
        assert!(t.problems[2].message.contains("repeats session 2"));
        assert!(t.problems[3].message.contains("has 4 fields but the header has 3"));
        assert_eq!(totals(&t.clients[0].history), vec![Some(38.0), Some(36.0)]);
    }

    #[test]
    fn unusable_tables_say_why() {
        assert_eq!(parse_score_table("", &TableOptions::default()), Err(TableError::Empty));
        assert_eq!(
            parse_score_table("name,score\n", &TableOptions::default()),
            Err(TableError::NoClientColumn)
        );
        assert_eq!(
            parse_score_table("id,week1\n1,3\n", &TableOptions::default()),
            Err(TableError::NoSessionColumns)
        );
    }

    #[test]
    fn headers_with_non_ascii_names_are_handled() {
        let text = "id,é,bdi_ś1,s1\n1,2,3,4\n";
        let t = parse_score_table(text, &TableOptions::default()).unwrap();
        assert_eq!(t.session_columns, vec!["s1"]);
        assert_eq!(session_name("é"), None);
        assert_eq!(session_name("wöchs12"), None);
        assert_eq!(session_name("ö_s12"), Some(("ö_".into(), 12)));
    }

    proptest! {
        #[test]
        fn parsing_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
            let _ = parse_score_table(&text, &TableOptions::default());
        }

        #[test]
        fn session_column_names_never_panic(name in "\\PC{0,12}", n in 0u32..30) {
            let _ = session_name(&name);
            let _ = session_name(&format!("{name}s{n}"));
        }

        #[test]
        fn parsing_never_panics_on_csv_like_text(
            header in proptest::sample::select(vec!["client,session,score", "id,s1,s2,s3", "id,bdi_s1,bdi_s2", "client,session,score,bond,screener,status"]),
            rows in proptest::collection::vec(proptest::collection::vec("[a-z0-9 .,\"-]{0,6}", 0..7), 0..20),
        ) {
            let mut text = String::from(header);
            for r in rows {
                text.push('\n');
                text.push_str(&r.join(","));
            }
            if let Ok(t) = parse_score_table(&text, &TableOptions::default()) {
                for c in &t.clients {
                    for (i, s) in c.history.sessions.iter().enumerate() {
                        prop_assert_eq!(s.session as usize, i + 1);
                    }
                }
            }
        }
    }
}
