//! What Rapport's emails say. Neutral on purpose: no clinician name, no
//! diagnosis, nothing clinical — an email can be read by anyone who sees
//! the recipient's inbox.

use fluent_templates::fluent_bundle::FluentValue;
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use maud::{DOCTYPE, Markup, html};

use crate::i18n::Lang;

/// A message's content before it becomes MIME.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// One-click unsubscribe address (RFC 8058), for client emails.
    pub unsubscribe: Option<String>,
    /// The language of a client email (`Content-Language`); staff emails
    /// are in the clinic's language and say none.
    pub language: Option<String>,
}

fn html_shell(lang: &str, dir: &str, title: &str, body: Markup) -> String {
    let align = if dir == "rtl" { "right" } else { "left" };
    html! {
        (DOCTYPE)
        html lang=(lang) dir=(dir) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
            }
            body style={ "margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:17px;line-height:1.5;color:#1b2733;background:#ffffff;direction:" (dir) ";text-align:" (align) } {
                div style="max-width:560px;margin:0 auto" { (body) }
            }
        }
    }
    .into_string()
}

/// The questionnaire link after a session, or its reminder, in the
/// client's language. The clinic name and the date are isolated (Unicode
/// isolates in text, `<bdi>` in HTML) so a left-to-right name cannot
/// reorder a right-to-left sentence.
pub fn survey(
    lang: &Lang,
    clinic: &str,
    survey_link: &str,
    unsubscribe_link: &str,
    open_until: &str,
    reminder: bool,
) -> Rendered {
    let with =
        |key: &str, name: &'static str, value: &str| lang.t_with(key, &[(name, FluentValue::from(value.to_string()))]);
    let isolated_clinic = lang.isolate(clinic);
    let subject = with(
        if reminder {
            "email-subject-reminder"
        } else {
            "email-subject"
        },
        "clinic",
        &isolated_clinic,
    );
    let opening_key = if reminder {
        "email-opening-reminder"
    } else {
        "email-opening"
    };
    let opening = with(opening_key, "clinic", &isolated_clinic);
    let why = lang.t("email-why");
    let text = format!(
        "{}\n\n{opening}\n{why}\n\n{}\n{survey_link}\n\n{}\n\n{}\n{unsubscribe_link}\n\n{isolated_clinic}\n",
        lang.t("email-greeting"),
        lang.t("email-answer-here"),
        with("email-works-until", "until", &lang.isolate(open_until)),
        lang.t("email-stop-text"),
    );
    // The HTML wraps the clinic name and the date in <bdi>: the message is
    // built with a marker for each, then split round it.
    const MARK: &str = "\u{E000}";
    let opening_html = with(opening_key, "clinic", MARK);
    let until_html = with("email-private", "until", MARK);
    let around = |text: &str, inner: &str| -> Markup {
        match text.split_once(MARK) {
            Some((before, after)) => html! { (before) bdi { (inner) } (after) },
            None => html! { (text) },
        }
    };
    let html = html_shell(
        lang.tag(),
        lang.dir(),
        &subject,
        html! {
            p { (lang.t("email-greeting")) }
            p { (around(&opening_html, clinic)) " " (why) }
            p {
                a href=(survey_link) style="display:inline-block;padding:12px 22px;background:#1f5f8b;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold" {
                    (lang.t("email-button"))
                }
            }
            p style="color:#4a5866;font-size:15px" { (around(&until_html, open_until)) }
            p style="color:#4a5866;font-size:15px" {
                (lang.t("email-not-now")) " "
                a href=(unsubscribe_link) style="color:#174a6c" { (lang.t("email-stop-link")) } "."
            }
            p { bdi { (clinic) } }
        },
    );
    Rendered {
        subject,
        text,
        html,
        unsubscribe: Some(unsubscribe_link.to_string()),
        language: Some(lang.tag().to_string()),
    }
}

/// What a clinician is told about: alerts at once or in the daily summary,
/// and (in the summary) how many comments clients wrote. Never whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// `alerts` in all, of which `new_high` new high alerts and `new_other`
    /// other new ones; the rest were raised to a higher severity.
    Immediate {
        alerts: u32,
        new_high: u32,
        new_other: u32,
    },
    DailySummary {
        alerts: u32,
        comments: u32,
    },
}

/// Tells a clinician there is something to look at. Nothing about whom.
pub fn alert_notice(clinic: &str, sign_in_link: &str, notice: Notice) -> Rendered {
    let alerts_need = |alerts: u32| match alerts {
        1 => "1 alert needs".to_string(),
        n => format!("{n} alerts need"),
    };
    let comments_wrote = |comments: u32| match comments {
        1 => "1 comment from a client".to_string(),
        n => format!("{n} comments from clients"),
    };
    let (subject, line) = match notice {
        Notice::Immediate {
            alerts,
            new_high,
            new_other,
        } => {
            let plural = |n: u32, one: &str, many: &str| {
                if n == 1 {
                    format!("1 {one}")
                } else {
                    format!("{n} {many}")
                }
            };
            let raised = alerts.saturating_sub(new_high + new_other);
            let mut parts = vec![];
            if new_high > 0 {
                parts.push(plural(new_high, "new high alert", "new high alerts"));
            }
            if new_other > 0 {
                let (one, many) = if new_high > 0 {
                    ("other new alert", "other new alerts")
                } else {
                    ("new alert", "new alerts")
                };
                parts.push(plural(new_other, one, many));
            }
            if raised > 0 {
                parts.push(plural(
                    raised,
                    "alert raised to a higher severity",
                    "alerts raised to a higher severity",
                ));
            }
            let what = match parts.as_slice() {
                [] => alerts_need(alerts) + " your attention",
                [one] => one.clone(),
                [init @ .., last] => format!("{} and {last}", init.join(", ")),
            };
            (format!("Rapport: {what}"), format!("In Rapport: {what}."))
        }
        Notice::DailySummary { alerts, comments } => {
            let what = match (alerts, comments) {
                (a, 0) => format!("{} a look", alerts_need(a)),
                (0, c) => format!("{} to read", comments_wrote(c)),
                (a, c) => format!("{} a look; {} to read", alerts_need(a), comments_wrote(c)),
            };
            (
                format!("Rapport daily summary: {what}"),
                format!("Your daily Rapport summary: {what}."),
            )
        }
    };
    let text = format!(
        "Hello,\n\n{line}\nSign in to see the details:\n{sign_in_link}\n\n\
         For privacy, this email does not say which client.\n\n{clinic} · Rapport\n"
    );
    let html = html_shell(
        "en",
        "ltr",
        &subject,
        html! {
            p { "Hello," }
            p { (line) }
            p { a href=(sign_in_link) style="color:#174a6c;font-weight:bold" { "Sign in to see the details" } }
            p style="color:#4a5866;font-size:15px" { "For privacy, this email does not say which client." }
            p { (clinic) " · Rapport" }
        },
    );
    Rendered {
        subject,
        text,
        html,
        unsubscribe: None,
        language: None,
    }
}

/// A test email an admin sends to themselves from Email delivery.
pub fn test_email(clinic: &str) -> Rendered {
    let subject = "Rapport test email".to_string();
    let line = "This is a test email from Rapport. If you can read it, the clinic's email settings work.";
    let text = format!("Hello,\n\n{line}\n\n{clinic} · Rapport\n");
    let html = html_shell(
        "en",
        "ltr",
        &subject,
        html! {
            p { "Hello," }
            p { (line) }
            p { (clinic) " · Rapport" }
        },
    );
    Rendered {
        subject,
        text,
        html,
        unsubscribe: None,
        language: None,
    }
}

/// The envelope and the bytes to send: the built message, DKIM-signed when
/// the clinic has a key. One place for the dispatcher and the admin's test
/// email.
pub fn compose(
    from: &Mailbox,
    to: &str,
    message_id: &str,
    rendered: &Rendered,
    dkim: Option<&super::Dkim>,
) -> Result<(lettre::address::Envelope, Vec<u8>), String> {
    let message = build(from, to, message_id, rendered)?;
    let formatted = message.formatted();
    let bytes = match dkim {
        Some(dkim) => dkim.sign(&formatted)?,
        None => formatted,
    };
    Ok((message.envelope().clone(), bytes))
}

/// Builds the MIME message: multipart/alternative, plain text first, then
/// HTML; a stable Message-ID; RFC 8058 one-click unsubscribe headers.
pub fn build(from: &Mailbox, to: &str, message_id: &str, rendered: &Rendered) -> Result<Message, String> {
    let to: Mailbox = to
        .parse()
        .map_err(|e| format!("the recipient address \"{to}\" is not valid ({e})"))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject.clone())
        .message_id(Some(message_id.to_string()));
    if let Some(language) = &rendered.language {
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            language.clone(),
        ));
    }
    if let Some(link) = &rendered.unsubscribe {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{link}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ));
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(rendered.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(rendered.html.clone()),
                ),
        )
        .map_err(|e| format!("the message could not be built: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survey_email_is_neutral_and_carries_both_links() {
        let r = survey(
            &Lang::new("en", crate::i18n::Numerals::Western),
            "Riverside Clinic",
            "https://x/s/TOK",
            "https://x/u/UNSUB",
            "Friday 6 March",
            false,
        );
        assert!(r.text.contains("https://x/s/TOK") && r.html.contains("https://x/s/TOK"));
        assert!(r.text.contains("https://x/u/UNSUB"));
        assert_eq!(r.unsubscribe.as_deref(), Some("https://x/u/UNSUB"));
        for word in ["clinician name", "diagnosis", "Dr "] {
            assert!(!r.text.contains(word));
        }
    }

    #[test]
    fn message_is_multipart_alternative_text_first() {
        let r = survey(
            &Lang::new("en", crate::i18n::Numerals::Western),
            "Clinic",
            "https://x/s/T",
            "https://x/u/U",
            "Friday",
            true,
        );
        let from: Mailbox = "Clinic <no-reply@example.org>".parse().unwrap();
        let message = build(&from, "client@example.org", "<abc.rapport@example.org>", &r).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains("Message-ID: <abc.rapport@example.org>"));
        assert!(raw.contains("List-Unsubscribe: <https://x/u/U>"));
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("Content-Language: en"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.find("text/plain").unwrap() < raw.find("text/html").unwrap());
        assert!(build(&from, "not an address", "<x@y>", &r).is_err());
    }

    #[test]
    fn clinician_notice_names_no_client() {
        let r = alert_notice(
            "Clinic",
            "https://x/sign-in",
            Notice::Immediate {
                alerts: 2,
                new_high: 1,
                new_other: 0,
            },
        );
        assert_eq!(
            r.subject,
            "Rapport: 1 new high alert and 1 alert raised to a higher severity"
        );
        let r = alert_notice(
            "Clinic",
            "https://x/sign-in",
            Notice::Immediate {
                alerts: 1,
                new_high: 1,
                new_other: 0,
            },
        );
        assert_eq!(r.subject, "Rapport: 1 new high alert");
        // A row queued before the counts existed.
        let r = alert_notice(
            "Clinic",
            "https://x/sign-in",
            Notice::Immediate {
                alerts: 2,
                new_high: 0,
                new_other: 0,
            },
        );
        assert!(r.subject.contains("2 alerts"));
        assert!(r.text.contains("does not say which client"));
        assert!(r.unsubscribe.is_none());
        let r = alert_notice(
            "Clinic",
            "https://x/sign-in",
            Notice::DailySummary { alerts: 0, comments: 3 },
        );
        assert_eq!(r.subject, "Rapport daily summary: 3 comments from clients to read");
        let r = alert_notice(
            "Clinic",
            "https://x/sign-in",
            Notice::DailySummary { alerts: 1, comments: 1 },
        );
        assert!(
            r.text
                .contains("1 alert needs a look; 1 comment from a client to read.")
        );
    }

    #[test]
    fn the_survey_email_speaks_the_clients_language() {
        let ar = Lang::new("ar", crate::i18n::Numerals::Western);
        let r = survey(
            &ar,
            "Riverside Clinic",
            "https://x/s/T",
            "https://x/u/U",
            "الجمعة 6 مارس",
            false,
        );
        assert!(r.subject.contains("دقيقتان") && r.subject.contains("\u{2068}Riverside Clinic\u{2069}"));
        assert!(r.html.contains("lang=\"ar\" dir=\"rtl\"") && r.html.contains("direction:rtl"));
        assert!(r.html.contains("<bdi>Riverside Clinic</bdi>"));
        assert!(r.text.contains("https://x/s/T") && r.text.contains("لإيقاف هذه الرسائل"));
        assert!(r.html.contains("أوقف هذه الرسائل") && r.html.contains("<bdi>الجمعة 6 مارس</bdi>"));
        assert_eq!(r.language.as_deref(), Some("ar"));
        let cy = survey(
            &Lang::new("cy", crate::i18n::Numerals::Western),
            "Clinig",
            "https://x/s/T",
            "https://x/u/U",
            "dydd Gwener",
            true,
        );
        assert!(cy.subject.starts_with("Nodyn atgoffa"));
        assert!(cy.html.contains("lang=\"cy\" dir=\"ltr\""));
    }
}
