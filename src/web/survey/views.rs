//! What clients see: calm, short, plain pages that work without
//! JavaScript, at 320 px, by keyboard and with a screen reader, in the
//! client's language (right to left where it is written so).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::domain::instrument::{Answer, Answers, InstrumentDefinition, Item, ItemKind};
use crate::i18n::{self, Lang, Numerals};

/// How the page frames itself.
pub struct Frame<'a> {
    pub lang: &'a Lang,
    pub clinic: &'a str,
    pub easy: bool,
    /// The survey token, when the page may offer the easy-read and
    /// language switches.
    pub switch_token: Option<&'a str>,
    /// The languages the questionnaire can be read in.
    pub languages: &'a [String],
}

pub fn page(frame: &Frame, title: &str, body: Markup) -> Markup {
    let lang = frame.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) dir=(lang.dir()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                // A title holds text only: the clinic name is isolated with
                // Unicode isolates instead of <bdi>.
                title { (title) " · " (lang.isolate(frame.clinic)) }
                link rel="stylesheet" href="/static/rapport.css";
            }
            body.client.easy[frame.easy] {
                header.client-header {
                    bdi.clinic { (frame.clinic) }
                    @if let Some(token) = frame.switch_token {
                        form method="post" action={ "/s/" (token) "/easy-read" } {
                            input type="hidden" name="easy" value=(if frame.easy { "off" } else { "on" });
                            button.link type="submit" {
                                @if frame.easy { (lang.t("switch-to-full")) } @else { (lang.t("switch-to-easy")) }
                            }
                        }
                        @if frame.languages.len() > 1 {
                            form.language method="post" action={ "/s/" (token) "/language" } {
                                label for="language" { (lang.t("language-label")) }
                                select #language name="language" {
                                    @for tag in frame.languages {
                                        option value=(tag) lang=(tag) selected[tag == lang.tag()] { (i18n::name_of(tag).unwrap_or(tag)) }
                                    }
                                }
                                button type="submit" { (lang.t("language-change")) }
                            }
                        }
                    }
                }
                main #main {
                    (body)
                }
            }
        }
    }
}

/// A page with one message and nothing to do.
pub fn message(frame: &Frame, title: &str, lines: &[String]) -> Markup {
    page(
        frame,
        title,
        html! {
            h1 { (title) }
            @for line in lines { p { (line) } }
        },
    )
}

/// The message (its key) for a problem with one answer.
pub fn problem_key(item: &Item) -> &'static str {
    match item.kind {
        ItemKind::Scale(_) => "problem-scale",
        ItemKind::YesNo => "problem-yes-no",
        ItemKind::Choice { .. } => "problem-choice",
        ItemKind::Text { .. } => "problem-text",
    }
}

fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        // A whole number as an integer: exact float formatting with a
        // precision ("{v:.0}") is slow, and a page holds dozens of these.
        (v as i64).to_string()
    } else {
        format!("{v}")
    }
}

fn current_value(answers: &Answers, item: &Item) -> Option<String> {
    answers.get(&item.id).map(|a| match a {
        Answer::Number(n) => number_text(*n),
        Answer::Bool(true) => "yes".into(),
        Answer::Bool(false) => "no".into(),
        Answer::Choice(c) | Answer::Text(c) => c.clone(),
    })
}

/// How the questions are worded for this client.
pub struct Wording<'a> {
    pub lang: &'a Lang,
    /// Easy-read texts, one question per screen (the question is the heading).
    pub easy: bool,
    /// The clinic's line beside the comment box on where to get help now.
    pub help_line: &'a str,
}

/// Every question of a questionnaire, unanswered: what nearly every
/// request for a link renders, and the same for every client who reads the
/// same version in the same language and digits beside the same help line.
/// So it is rendered once per process and kept (a clinic has a handful of
/// versions and languages; the store is emptied past 256 entries). An entry
/// holds its questionnaire, so the address in its key stays that one's.
pub fn blank_questions(instrument: &Arc<InstrumentDefinition>, wording: &Wording) -> Markup {
    type Key = (usize, String, Numerals, bool, String);
    type Rendered = (Arc<InstrumentDefinition>, String);
    static RENDERED: OnceLock<Mutex<HashMap<Key, Rendered>>> = OnceLock::new();
    let key: Key = (
        Arc::as_ptr(instrument) as usize,
        wording.lang.tag().to_string(),
        wording.lang.numerals(),
        wording.easy,
        wording.help_line.to_string(),
    );
    let rendered = RENDERED.get_or_init(Default::default);
    if let Some((_, html)) = rendered.lock().ok().as_ref().and_then(|r| r.get(&key)) {
        return PreEscaped(html.clone());
    }
    let none = Answers::new();
    let html = html! {
        @for item in instrument.items() {
            (question(instrument, item, wording, &none, None))
        }
    }
    .into_string();
    if let Ok(mut r) = rendered.lock() {
        if r.len() >= 256 {
            r.clear();
        }
        r.insert(key, (instrument.clone(), html.clone()));
    }
    PreEscaped(html)
}

/// One question as a fieldset (or a labelled text area).
pub fn question(
    instrument: &InstrumentDefinition,
    item: &Item,
    wording: &Wording,
    answers: &Answers,
    problem: Option<&str>,
) -> Markup {
    let (ui, easy, heading, help_line) = (wording.lang, wording.easy, wording.easy, wording.help_line);
    let lang = ui.tag();
    let problem = problem.map(|key| ui.t(key));
    let problem = problem.as_deref();
    let text = item
        .text_in(lang, easy)
        .or_else(|| item.text_in(&instrument.languages()[0], easy))
        .unwrap_or(&item.id);
    let current = current_value(answers, item);
    let error_id = format!("q-{}-error", item.id);
    let hint_id = format!("q-{}-hint", item.id);
    let optional = !item.required;
    html! {
        @match &item.kind {
            ItemKind::Text { max_length } => {
                div.field.question #{ "q-" (item.id) } {
                    @if heading {
                        h1 { label for={ "a-" (item.id) } { (text) } }
                    } @else {
                        label for={ "a-" (item.id) } { (text) @if optional { " " span.muted { (ui.t("survey-optional")) } } }
                    }
                    @if let Some(p) = problem { p.error #(error_id) { (p) } }
                    p.hint.help-line #(hint_id) { (help_line) }
                    textarea #{ "a-" (item.id) } name=(item.id) maxlength=(max_length) rows="4"
                        aria-describedby=(match problem { Some(_) => format!("{error_id} {hint_id}"), None => hint_id.clone() }) { (current.clone().unwrap_or_default()) }
                }
            }
            kind => {
                fieldset.question #{ "q-" (item.id) }
                    aria-describedby=[problem.map(|_| error_id.clone()).or_else(|| item.scale().and_then(|s| s.anchors.as_ref()).map(|_| hint_id.clone()))] {
                    legend {
                        @if heading { h1 { (text) } } @else { (text) }
                        @if optional && !heading { " " span.muted { (ui.t("survey-optional")) } }
                    }
                    @if let Some(p) = problem { p.error #(error_id) { (p) } }
                    @match kind {
                        ItemKind::Scale(scale) => {
                            @if let Some(anchors) = &scale.anchors {
                                p.anchors #(hint_id) {
                                    span { (ui.digits(&number_text(scale.min))) " = " (anchors.min.get(lang).or_else(|| anchors.min.get("en")).unwrap_or("")) }
                                    span { (ui.digits(&number_text(scale.max))) " = " (anchors.max.get(lang).or_else(|| anchors.max.get("en")).unwrap_or("")) }
                                }
                            }
                            ul.scale {
                                @for point in scale.points() {
                                    @let value = number_text(point);
                                    @let id = format!("a-{}-{}", item.id, value);
                                    li {
                                        input type="radio" id=(id) name=(item.id) value=(value)
                                            checked[current.as_deref() == Some(value.as_str())]
                                            required[item.required];
                                        label for=(id) { (ui.digits(&value)) }
                                    }
                                }
                            }
                        }
                        ItemKind::YesNo => {
                            ul.choices {
                                @for (value, label) in [("yes", ui.t("survey-yes")), ("no", ui.t("survey-no"))] {
                                    @let id = format!("a-{}-{}", item.id, value);
                                    li {
                                        label for=(id) {
                                            input type="radio" id=(id) name=(item.id) value=(value)
                                                checked[current.as_deref() == Some(value)] required[item.required];
                                            (label)
                                        }
                                    }
                                }
                            }
                        }
                        ItemKind::Choice { options } => {
                            ul.choices {
                                @for option in options {
                                    @let id = format!("a-{}-{}", item.id, option.value);
                                    li {
                                        label for=(id) {
                                            input type="radio" id=(id) name=(item.id) value=(option.value)
                                                checked[current.as_deref() == Some(option.value.as_str())] required[item.required];
                                            (option.text.get(lang).or_else(|| option.text.get("en")).unwrap_or(&option.value))
                                        }
                                    }
                                }
                            }
                        }
                        ItemKind::Text { .. } => {}
                    }
                }
            }
        }
    }
}

/// Hidden fields carrying answers from earlier easy-read screens.
pub fn carried(answers: &Answers, except: &str) -> Markup {
    html! {
        @for (id, answer) in &answers.0 {
            @if id != except {
                @let value = match answer {
                    Answer::Number(n) => number_text(*n),
                    Answer::Bool(b) => if *b { "yes".to_string() } else { "no".to_string() },
                    Answer::Choice(c) | Answer::Text(c) => c.clone(),
                };
                input type="hidden" name=(id) value=(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Wording, blank_questions, number_text, question};
    use crate::domain::instrument::{Answers, shipped_instruments};
    use crate::i18n::{Lang, Numerals};

    /// The kept rendering of the unanswered questions is the rendering
    /// itself, and another help line, language or version is its own.
    #[test]
    fn blank_questions_are_the_questions_rendered_for_that_reader() {
        let instrument = Arc::new(shipped_instruments().remove(0));
        let (en, es) = (Lang::new("en", Numerals::Western), Lang::new("es", Numerals::Western));
        let wording = |lang, help_line| Wording {
            lang,
            easy: false,
            help_line,
        };
        let direct: String = instrument
            .items()
            .iter()
            .map(|item| question(&instrument, item, &wording(&en, "Call 111"), &Answers::new(), None).into_string())
            .collect();
        let first = blank_questions(&instrument, &wording(&en, "Call 111")).into_string();
        assert_eq!(first, direct);
        assert_eq!(
            blank_questions(&instrument, &wording(&en, "Call 111")).into_string(),
            direct
        );
        let other_line = blank_questions(&instrument, &wording(&en, "Ring the desk")).into_string();
        assert!(other_line.contains("Ring the desk") && !other_line.contains("Call 111"));
        assert_ne!(
            blank_questions(&instrument, &wording(&es, "Call 111")).into_string(),
            direct
        );
        let copy = Arc::new(shipped_instruments().remove(0));
        assert_eq!(blank_questions(&copy, &wording(&en, "Call 111")).into_string(), direct);
    }

    /// A scale point's value is written exactly (the form sends it back).
    #[test]
    fn scale_points_are_written_exactly() {
        assert_eq!(number_text(10.0), "10");
        assert_eq!(number_text(0.0), "0");
        assert_eq!(number_text(0.25), "0.25");
        assert_eq!(number_text(-1.0), "-1");
    }
}
