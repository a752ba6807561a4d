//! `rapport evaluate`: compares the rules on simulated client series.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::domain::signals::{EngineSettings, fmt_2dp};
use crate::domain::simulation::{DetectorResult, ModelKind, RuptureShape, compare, simulate_with, standard_detectors};

const LONG_ABOUT: &str = "\
Simulates client series and reports, for each rule alone, for the combined \
engine and for the plain 'total below cutoff' rule that most products use: \
sensitivity (share of planted ruptures noticed in time), false alerts per \
100 sessions, and the median number of sessions from rupture onset to the \
first alert. The same seed always gives the same table.

THE MODEL. Each client answers the shipped alliance instrument (4 items \
0–10, total 0–40) after each of 6–20 sessions. Personal baseline near the \
ceiling: a latent total of 44 − |N(0, 5.5)| that may exceed 40, since \
answers stop at 10 per item (observed totals: median 38, about a fifth at \
40, a fifth below the cutoff of 36), rising up to 1.5 points over the first \
sessions. Measurement noise from the instrument: each item gets normal noise \
with SD SEM/2, SEM = SD·√(1 − r) (2.5 points of total for r .70, SD 4.5); \
answers are rounded and clipped to 0–10, so totals crowd the ceiling. Half \
the clients have one planted rupture, from session 3 to two before the end, \
of four equally likely shapes: sudden V (a fall of 4–12 points, repaired \
over 1–2 sessions in 60%, otherwise staying down), slow slide (4–10 points \
over 3–6 sessions), going quiet (a dip of 0–4 points, then 2–4 invitations \
answered only 10% of the time; 40% never answer again) and bond strain (the \
bond item alone falls 2–5 points for 3–5 sessions). Falls are spread over \
the items, the bond item taking 40%. Ruptures are mostly unspoken: the \
screener is ticked with probability .25 and a comment written with \
probability .3 during one. Everyone: an invitation goes unanswered with \
probability .10 (.25 in a rupture), an appointment is missed with \
probability .03 (.08), the screener is ticked by chance with probability .02 \
and a comment written with probability .08.

HANDLING. With --handled-after N a clinician records an outcome N sessions \
after each alert opens: \"not a rupture\" when the alert opened outside \
every planted rupture's window (the client's level then becomes the \
reference for the level rules until it falls reliably or suddenly), \
\"repaired\" otherwise; later signals open new alerts, as on the server.

WHAT COUNTS. A rupture's window runs from its onset to one session after its \
effect ends; it is detected when, in the window, an alert opens or an open \
alert gains a new rule or a higher severity. A false alert is an alert opened outside every rupture window. \
Single rules run alone and any of their signals may open an alert; the \
engine runs with its settings (--settings FILE to try others).";

/// Output format of `rapport evaluate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvaluateFormat {
    Table,
    Json,
}

/// Arguments of `rapport evaluate`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Compare the rupture rules on simulated client series", long_about = LONG_ABOUT)]
pub struct EvaluateArgs {
    /// Seed of the simulation; the same seed gives the same table.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of simulated clients.
    #[arg(long, default_value_t = 2000)]
    pub clients: usize,
    /// Engine settings to change, as a JSON file merged into the defaults, e.g. {"gradual_decline": {"h": 4}}.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Assume a clinician records an outcome N sessions after each alert
    /// opens ("not a rupture" when it opened outside every planted rupture,
    /// "repaired" otherwise), as they would on the server; without it an
    /// alert is never handled. The plain cutoff rule then keeps one alert
    /// open at a time for N sessions.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub handled_after: Option<u32>,
    /// The model that generates the clients: `ceiling` (the default: steady
    /// levels near the ceiling with independent noise) or `drift` (an
    /// independent model: a drifting alliance, skipping that depends on it,
    /// ruptures at random times).
    #[arg(long, value_enum, default_value = "ceiling")]
    pub model: SimulationKind,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: EvaluateFormat,
}

/// `--model` of `rapport evaluate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimulationKind {
    Ceiling,
    Drift,
}

impl From<SimulationKind> for ModelKind {
    fn from(kind: SimulationKind) -> ModelKind {
        match kind {
            SimulationKind::Ceiling => ModelKind::Ceiling,
            SimulationKind::Drift => ModelKind::Drift,
        }
    }
}

/// The most clients `evaluate` will simulate.
pub const MAX_CLIENTS: usize = 1_000_000;

/// Runs `rapport evaluate`.
pub fn run(args: EvaluateArgs) -> ExitCode {
    match evaluate(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rapport evaluate: {message}");
            ExitCode::FAILURE
        }
    }
}

fn evaluate(args: &EvaluateArgs) -> Result<(), String> {
    if args.clients == 0 || args.clients > MAX_CLIENTS {
        return Err(format!("--clients must be between 1 and {MAX_CLIENTS}."));
    }
    let settings = match &args.settings {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("could not read the settings file {}: {e}.", path.display()))?;
            let overrides: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("the settings file {} is not valid JSON: {e}.", path.display()))?;
            EngineSettings::default()
                .with_overrides(&overrides)
                .map_err(|e| format!("the settings file {} does not work: {e}.", path.display()))?
        }
        None => EngineSettings::default(),
    };
    settings.validate().map_err(|e| format!("{e}."))?;
    let model = ModelKind::from(args.model);
    let clients = simulate_with(model, &settings, args.seed, args.clients);
    let results = compare(&clients, &settings, &standard_detectors(&settings), args.handled_after);
    let text = match args.format {
        EvaluateFormat::Json => {
            let mut t = serde_json::to_string_pretty(&results).map_err(|e| format!("could not write JSON: {e}."))?;
            t.push('\n');
            t
        }
        EvaluateFormat::Table => table(args, &results),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("could not write the output: {e}."))?;
    if let Some(first) = results.first() {
        eprintln!(
            "simulated {} clients, {} sessions, {} planted ruptures (seed {})",
            args.clients, first.sessions, first.ruptures, args.seed
        );
    }
    Ok(())
}

fn table(args: &EvaluateArgs, results: &[DetectorResult]) -> String {
    let mut t = String::new();
    if let Some(first) = results.first() {
        t.push_str(&format!(
            "rapport evaluate: model {}, seed {}, {} clients, {} sessions, {} planted ruptures\n",
            ModelKind::from(args.model).as_str(),
            args.seed,
            args.clients,
            first.sessions,
            first.ruptures
        ));
        t.push_str(&match args.handled_after {
            Some(n) => {
                format!("alerts handled {n} session(s) after they open (not a rupture outside a planted rupture)\n\n")
            }
            None => "alerts never handled (--handled-after N to model a clinician)\n\n".to_string(),
        });
    }
    t.push_str(&format!(
        "{:<28} {:>11} {:>14} {:>13}\n",
        "detector", "sensitivity", "false alerts", "median delay"
    ));
    t.push_str(&format!(
        "{:<28} {:>11} {:>14} {:>13}\n",
        "", "", "/100 sessions", "(sessions)"
    ));
    for r in results {
        t.push_str(&format!(
            "{:<28} {:>11} {:>14} {:>13}\n",
            r.detector,
            format!("{:.2}", r.sensitivity),
            format!("{:.2}", r.false_alerts_per_100_sessions),
            r.median_delay.map_or("–".to_string(), fmt_2dp),
        ));
    }
    t.push_str("\nsensitivity by rupture shape\n");
    t.push_str(&format!("{:<28}", "detector"));
    for shape in RuptureShape::ALL {
        t.push_str(&format!(" {:>12}", shape.as_str()));
    }
    t.push('\n');
    for r in results {
        t.push_str(&format!("{:<28}", r.detector));
        for shape in RuptureShape::ALL {
            let (found, planted) = r.by_shape.get(&shape).copied().unwrap_or((0, 0));
            let share = if planted > 0 {
                found as f64 / planted as f64
            } else {
                0.0
            };
            t.push_str(&format!(" {:>12}", format!("{share:.2}")));
        }
        t.push('\n');
    }
    t
}
