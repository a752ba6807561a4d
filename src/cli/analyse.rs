//! `rapport analyse`: every rupture signal and alert for a CSV of scores.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use crate::domain::engine::{AlertEpisode, EpisodeEnd, alerts, alerts_handled};
use crate::domain::instrument::{Direction, InstrumentDefinition};
use crate::domain::score_table::{ScoreTable, TableOptions, TableShape, parse_score_table};
use crate::domain::signals::sudden_loss;
use crate::domain::signals::{EngineSettings, RuleId, Signal, find_signals, fmt_2dp};

const LONG_ABOUT: &str = "\
Reads a CSV of session scores and writes every rupture signal per client and \
session (rule, severity, explanation) and the alerts the engine would have \
opened, as CSV or JSON.

INPUT. Long format: columns client (or id), session, score (or total), and \
optionally screener (yes/no), comment (any text = a comment was given), \
status (answered/unanswered/missed/pending) and item columns (e.g. bond). \
Wide format: an id column and one column per session, named s1, s2, … or \
<prefix>s1, … (e.g. bdi_s1); s0 (a pre-treatment baseline) and other columns \
(e.g. follow-ups bdi_fu1) are left out unless --sessions names them. Empty \
cells are unanswered sessions. The shape is detected from the header. Rows \
that cannot be read are reported on stderr with their line number and \
skipped (with --strict the run fails instead).

SIGNALS AND ALERTS. `signals` are the retrospective determination over each \
whole history. `alerts` are online, as in the server: at each session only \
the history up to that session is used, so an alert opens at the first \
session at which the engine could have known. For a sudden loss, `session` \
is the first session after the change and `from_session` the one before it.

DIRECTION. --direction says which way is good for the scores \
(higher-is-better for alliance measures, the default). Every rule looks for \
change in the bad direction: sudden_loss flags sudden falls of a \
higher-is-better score and sudden rises of a lower-is-better one. The \
reference data set of the R package suddengains (sgdata: BDI, \
lower-is-better) publishes 24 sudden *gains*, which are sudden falls: the \
same arithmetic as a sudden loss of a higher-is-better score. So

  rapport analyse sgdata_bdi.csv --rules sudden_loss --sudden-cutoff 7 \\
      --sudden-proportion 0.25 --alpha 0.05 --format json

reports those 24 falls (analysed as higher-is-better, the default), and \
adding --direction lower-is-better reports the 3 sudden rises (the \
package's sudden losses) instead.

DEFAULTS come from the shipped alliance instrument (0–40, cutoff 36, \
r .70, SD 4.5) or from --instrument FILE; the flags below override them.";

/// Output format of `rapport analyse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Json,
}

/// Which way is good for the scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DirectionArg {
    HigherIsBetter,
    LowerIsBetter,
}

impl From<DirectionArg> for Direction {
    fn from(d: DirectionArg) -> Self {
        match d {
            DirectionArg::HigherIsBetter => Direction::HigherIsBetter,
            DirectionArg::LowerIsBetter => Direction::LowerIsBetter,
        }
    }
}

/// Arguments of `rapport analyse`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Find rupture signals and alerts in a CSV of session scores", long_about = LONG_ABOUT)]
pub struct AnalyseArgs {
    /// CSV file of scores; "-" reads standard input.
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: OutputFormat,
    /// Write the output to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Wide tables: the session columns, as FIRST..LAST (header order) or A,B,C.
    #[arg(long, value_name = "COLUMNS")]
    pub sessions: Option<String>,
    /// Assume a clinician records an outcome N sessions after each alert
    /// opens. The data hold no planted ruptures, so each outcome is "not a
    /// rupture": the client's level then becomes the reference for the
    /// level rules, as on the server. Without it no alert is ever handled.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub handled_after: Option<u32>,
    /// Take defaults (direction, range, cutoff, r, SD, item floors) from an instrument definition (TOML).
    #[arg(long, value_name = "FILE")]
    pub instrument: Option<PathBuf>,
    /// Which way is good for the scores.
    #[arg(long, value_enum)]
    pub direction: Option<DirectionArg>,
    /// Reliability r for reliable change.
    #[arg(long)]
    pub reliability: Option<f64>,
    /// SD for reliable change.
    #[arg(long)]
    pub sd: Option<f64>,
    /// Cutoff of the low-score rule.
    #[arg(long)]
    pub cutoff: Option<f64>,
    /// Switch the low-score rule's cutoff off.
    #[arg(long, conflicts_with = "cutoff")]
    pub no_cutoff: bool,
    /// Lowest possible total (ceiling then fall uses the range).
    #[arg(long)]
    pub min_total: Option<f64>,
    /// Highest possible total.
    #[arg(long)]
    pub max_total: Option<f64>,
    /// Sudden loss, criterion 1: size of the change in points (default: the reliable-change threshold).
    #[arg(long)]
    pub sudden_cutoff: Option<f64>,
    /// Sudden loss, criterion 2: share of the earlier score the change must reach.
    #[arg(long)]
    pub sudden_proportion: Option<f64>,
    /// Sudden loss, criterion 3: two-sided significance level of the t test.
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Sudden loss, criterion 3: always use the 3+3 critical value (df 4).
    #[arg(long)]
    pub no_missing_adjust: bool,
    /// Gradual decline: CUSUM allowance k.
    #[arg(long)]
    pub cusum_k: Option<f64>,
    /// Gradual decline: CUSUM alarm level h.
    #[arg(long)]
    pub cusum_h: Option<f64>,
    /// Only these rules, comma separated (e.g. sudden_loss,low_score).
    #[arg(long, value_delimiter = ',')]
    pub rules: Vec<String>,
    /// Fail on the first unreadable row instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

/// Runs `rapport analyse`.
pub fn run(args: AnalyseArgs) -> ExitCode {
    match analyse(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rapport analyse: {message}");
            ExitCode::FAILURE
        }
    }
}

fn settings_from(args: &AnalyseArgs) -> Result<EngineSettings, String> {
    let mut s = match &args.instrument {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("could not read the instrument file {}: {e}.", path.display()))?;
            let def = InstrumentDefinition::from_toml_str(&text)
                .map_err(|e| format!("the instrument file {} is not valid: {e}.", path.display()))?;
            EngineSettings::for_instrument(&def)
        }
        None => EngineSettings::default(),
    };
    if let Some(d) = args.direction {
        s.direction = d.into();
    }
    if let Some(r) = args.reliability {
        s.reliability = r;
    }
    if let Some(sd) = args.sd {
        s.sd = sd;
    }
    if let Some(c) = args.cutoff {
        s.low_score.cutoff = Some(c);
    }
    if args.no_cutoff {
        s.low_score.cutoff = None;
    }
    if let Some(v) = args.min_total {
        s.total_min = v;
    }
    if let Some(v) = args.max_total {
        s.total_max = v;
    }
    if let Some(v) = args.sudden_cutoff {
        s.sudden_loss.cutoff = Some(v);
    }
    if let Some(v) = args.sudden_proportion {
        s.sudden_loss.proportion = v;
    }
    if let Some(v) = args.alpha {
        s.sudden_loss.alpha = v;
    }
    if args.no_missing_adjust {
        s.sudden_loss.missing_adjust = false;
    }
    if let Some(v) = args.cusum_k {
        s.gradual_decline.k = v;
    }
    if let Some(v) = args.cusum_h {
        s.gradual_decline.h = v;
    }
    if !args.rules.is_empty() {
        let mut rules = BTreeSet::new();
        for name in args.rules.iter().filter(|r| !r.trim().is_empty()) {
            rules.insert(name.parse::<RuleId>().map_err(|e| format!("{e}."))?);
        }
        s.rules = rules;
    }
    s.validate().map_err(|e| format!("{e}."))?;
    Ok(s)
}

fn read_input(path: &PathBuf) -> Result<String, String> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("could not read standard input: {e}."))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| format!("could not read {}: {e}.", path.display()))?;
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One signal row of the output.
#[derive(Debug, Serialize)]
struct SignalOut<'a> {
    client: &'a str,
    session: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_session: Option<u32>,
    known_at_session: u32,
    rule: RuleId,
    rule_version: u32,
    severity: crate::domain::signals::Severity,
    explanation: &'a str,
    inputs: &'a BTreeMap<String, f64>,
}

/// One alert of the output.
#[derive(Debug, Serialize)]
struct AlertOut<'a> {
    client: &'a str,
    opened_at_session: u32,
    severity: crate::domain::signals::Severity,
    rules: Vec<RuleId>,
    signals: Vec<SignalKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lowest_session: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recovered_at_session: Option<u32>,
    closed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_after_session: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_by: Option<EpisodeEnd>,
}

#[derive(Debug, Serialize)]
struct SignalKey {
    rule: RuleId,
    session: u32,
    known_at_session: u32,
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    signals: Vec<SignalOut<'a>>,
    alerts: Vec<AlertOut<'a>>,
}

struct ClientResult {
    client: String,
    signals: Vec<Signal>,
    alerts: Vec<AlertEpisode>,
}

fn analyse(args: &AnalyseArgs) -> Result<(), String> {
    let settings = settings_from(args)?;
    let text = read_input(&args.input)?;
    let table = parse_score_table(
        &text,
        &TableOptions {
            sessions: args.sessions.clone(),
        },
    )
    .map_err(|e| format!("{}: {e}.", args.input.display()))?;
    report_problems(&table, args)?;

    let results: Vec<ClientResult> = table
        .clients
        .iter()
        .map(|c| ClientResult {
            client: c.client.clone(),
            signals: find_signals(&c.history, &settings),
            alerts: match args.handled_after {
                None => alerts(&c.history, &settings, &[]),
                Some(after) => alerts_handled(&c.history, &settings, after, |_| true),
            },
        })
        .collect();

    let rendered = match args.format {
        OutputFormat::Json => render_json(&results)?,
        OutputFormat::Csv => render_csv(&results)?,
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, rendered).map_err(|e| format!("could not write {}: {e}.", path.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(rendered.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("could not write the output: {e}."))?;
        }
    }
    summarise(&table, &results, &settings);
    Ok(())
}

fn report_problems(table: &ScoreTable, args: &AnalyseArgs) -> Result<(), String> {
    if args.strict
        && let Some(p) = table.problems.first()
    {
        return Err(format!("line {} {}.", p.line, p.message));
    }
    for p in &table.problems {
        eprintln!("line {}: {}; skipped.", p.line, p.message);
    }
    Ok(())
}

fn render_json(results: &[ClientResult]) -> Result<String, String> {
    let mut output = Output {
        signals: Vec::new(),
        alerts: Vec::new(),
    };
    for r in results {
        for s in &r.signals {
            output.signals.push(SignalOut {
                client: &r.client,
                session: s.session,
                from_session: s.from_session,
                known_at_session: s.known_at_session,
                rule: s.rule,
                rule_version: s.rule_version,
                severity: s.severity,
                explanation: &s.explanation,
                inputs: &s.inputs,
            });
        }
        for a in &r.alerts {
            output.alerts.push(AlertOut {
                client: &r.client,
                opened_at_session: a.opened_at_session,
                severity: a.severity,
                rules: a.rules(),
                signals: a
                    .signals
                    .iter()
                    .map(|s| SignalKey {
                        rule: s.rule,
                        session: s.session,
                        known_at_session: s.known_at_session,
                    })
                    .collect(),
                lowest_session: a.lowest_session,
                recovered_at_session: a.recovered_at_session,
                closed: a.closed,
                closed_after_session: a.closed_after_session,
                ended_by: a.ended_by,
            });
        }
    }
    let mut text = serde_json::to_string_pretty(&output).map_err(|e| format!("could not write JSON: {e}."))?;
    text.push('\n');
    Ok(text)
}

fn opt(v: Option<u32>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// One CSV with a `record` column: a row per signal, then a row per alert.
fn render_csv(results: &[ClientResult]) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| format!("could not write CSV: {e}.");
    w.write_record([
        "record",
        "client",
        "session",
        "from_session",
        "known_at_session",
        "opened_at_session",
        "rule",
        "severity",
        "explanation",
        "recovered_at_session",
        "closed",
    ])
    .map_err(fail)?;
    for r in results {
        for s in &r.signals {
            w.write_record([
                "signal",
                &r.client,
                &s.session.to_string(),
                &opt(s.from_session),
                &s.known_at_session.to_string(),
                "",
                s.rule.as_str(),
                s.severity.as_str(),
                &s.explanation,
                "",
                "",
            ])
            .map_err(fail)?;
        }
    }
    for r in results {
        for a in &r.alerts {
            let rules: Vec<&str> = a.rules().into_iter().map(RuleId::as_str).collect();
            let sentences: Vec<&str> = a.signals.iter().map(|s| s.explanation.as_str()).collect();
            w.write_record([
                "alert",
                &r.client,
                "",
                "",
                "",
                &a.opened_at_session.to_string(),
                &rules.join(";"),
                a.severity.as_str(),
                &sentences.join(" | "),
                &opt(a.recovered_at_session),
                if a.closed { "true" } else { "false" },
            ])
            .map_err(fail)?;
        }
    }
    let bytes = w.into_inner().map_err(|e| format!("could not write CSV: {e}."))?;
    String::from_utf8(bytes).map_err(|e| format!("could not write CSV: {e}."))
}

fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some((mean, sd))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn summarise(table: &ScoreTable, results: &[ClientResult], settings: &EngineSettings) {
    let shape = match table.shape {
        TableShape::Long => "long table".to_string(),
        TableShape::Wide => format!(
            "wide table, sessions {}",
            match table.session_columns.as_slice() {
                [] => String::new(),
                [one] => one.clone(),
                cols => format!("{}..{}", cols[0], cols[cols.len() - 1]),
            }
        ),
    };
    let sessions: usize = table.clients.iter().map(|c| c.history.sessions.len()).sum();
    eprintln!(
        "read {}, {} ({shape}); {} skipped; scores treated as {}",
        plural(table.clients.len(), "client"),
        plural(sessions, "session"),
        plural(table.problems.len(), "row"),
        settings.direction.as_str().replace('_', "-"),
    );
    for rule in RuleId::ALL.into_iter().filter(|r| settings.is_enabled(*r)) {
        let signals: Vec<&Signal> = results
            .iter()
            .flat_map(|r| r.signals.iter())
            .filter(|s| s.rule == rule)
            .collect();
        let clients = results
            .iter()
            .filter(|r| r.signals.iter().any(|s| s.rule == rule))
            .count();
        let mut line = format!(
            "{}: {} in {} of {} clients",
            rule.as_str(),
            plural(signals.len(), "signal"),
            clients,
            results.len()
        );
        if rule == RuleId::SuddenLoss {
            let sizes: Vec<f64> = signals.iter().filter_map(|s| s.inputs.get("size").copied()).collect();
            if let Some((mean, sd)) = mean_sd(&sizes) {
                line.push_str(&format!(
                    ", sudden {}s of mean size {} (SD {})",
                    settings.direction.worse_noun(),
                    fmt_2dp(mean),
                    fmt_2dp(sd)
                ));
            }
            let (mut examined, mut undetermined) = (0usize, 0usize);
            for c in &table.clients {
                for i in sudden_loss::intervals(&c.history, settings) {
                    examined += 1;
                    if i.check.stable.is_none() {
                        undetermined += 1;
                    }
                }
            }
            line.push_str(&format!(
                "; {examined} intervals examined, {undetermined} undetermined (fewer than 2 values on a side)"
            ));
        }
        eprintln!("{line}");
    }
    let alert_count: usize = results.iter().map(|r| r.alerts.len()).sum();
    let alert_clients = results.iter().filter(|r| !r.alerts.is_empty()).count();
    eprintln!(
        "alerts: {} in {alert_clients} of {} clients",
        plural(alert_count, "alert"),
        results.len()
    );
}
