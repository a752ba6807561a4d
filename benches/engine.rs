//! How long the engine takes for one client: scoring one response, every
//! rule over a 50-session history, and the online alert combination over it.
//!
//! Run: `cargo bench --bench engine`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rapport::domain::engine::{alerts, evaluate};
use rapport::domain::history::ClientHistory;
use rapport::domain::instrument::{Answer, Answers, shipped_instruments};
use rapport::domain::signals::{EngineSettings, find_signals};
use rapport::domain::simulation::{SimulationModel, simulate};

/// A 50-session history with a planted rupture, from the seeded simulation.
fn fifty_sessions(settings: &EngineSettings) -> ClientHistory {
    let model = SimulationModel {
        min_sessions: 50,
        max_sessions: 50,
        rupture_share: 1.0,
        ..SimulationModel::default()
    };
    let client = simulate(&model, settings, 42, 1).remove(0);
    assert_eq!(client.history.sessions.len(), 50);
    client.history
}

fn engine(c: &mut Criterion) {
    let instrument = shipped_instruments().remove(0);
    let settings = EngineSettings::for_instrument(&instrument);
    let answers = Answers::new()
        .with("bond", Answer::Number(9.0))
        .with("goals", Answer::Number(8.0))
        .with("approach", Answer::Number(10.0))
        .with("overall", Answer::Number(9.0))
        .with("uncomfortable", Answer::Bool(false))
        .with("note", Answer::Text("Thank you".into()));
    let history = fifty_sessions(&settings);

    c.bench_function("score one response", |b| {
        b.iter(|| instrument.score(black_box(&answers)))
    });
    c.bench_function("validate and score one response", |b| {
        b.iter(|| {
            let a = black_box(&answers);
            instrument.validate_answers(a).expect("valid");
            instrument.score(a)
        })
    });
    c.bench_function("all signals, 50 sessions", |b| {
        b.iter(|| find_signals(black_box(&history), &settings))
    });
    c.bench_function("online alerts, 50 sessions", |b| {
        b.iter(|| alerts(black_box(&history), &settings, &[]))
    });
    c.bench_function("full evaluation (signals + alerts), 50 sessions", |b| {
        b.iter(|| evaluate(black_box(&history), &settings, &[]))
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
