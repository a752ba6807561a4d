//! Survey delivery end to end: an appointment over the API, the email over
//! real SMTP, the link, the answers — on SQLite and PostgreSQL.

use crate::common::smtp::{Refusal, SmtpServer};
use crate::common::{Backend, Options, TestApp, spawn_app_with};
use chrono::Duration;
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::json;

async fn app_with_smtp(backend: Backend, smtp: &SmtpServer) -> Option<TestApp> {
    spawn_app_with(
        backend,
        Options {
            extra: vec![
                ("SMTP_URL", smtp.url()),
                ("QUIET_HOURS", "off".into()),
                ("SMTP_TIMEOUT_SECONDS", "5".into()),
            ],
        },
    )
    .await
}

async fn api_key(app: &TestApp) -> String {
    let now = app.clock_now();
    app.db(move |conn| {
        rapport::store::api_keys::create(
            conn,
            "Practice system",
            &[
                rapport::store::api_keys::Scope::Read,
                rapport::store::api_keys::Scope::Write,
            ],
            now,
        )
        .map(|(_, secret)| secret)
    })
    .await
}

fn appointment(external_id: &str, client: &str, end: chrono::NaiveDateTime, status: &str) -> serde_json::Value {
    let start = end - Duration::minutes(50);
    json!({
        "source": "pms",
        "external_id": external_id,
        "clinician_email": "clinician@example.org",
        "client": {"external_id": client, "name": format!("Client {client}"), "email": format!("{client}@example.net")},
        "start": start.and_utc().to_rfc3339(),
        "end": end.and_utc().to_rfc3339(),
        "status": status,
    })
}

async fn post_appointment(app: &TestApp, key: &str, body: &serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/v1/appointments"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The survey and unsubscribe paths in a received message's text part.
fn links(raw: &[u8]) -> (String, String) {
    let message = MessageParser::default().parse(raw).unwrap();
    let text = message.body_text(0).unwrap().to_string();
    let find = |marker: &str| {
        let start = text.find(marker).unwrap_or_else(|| panic!("{marker} in {text}"));
        text[start..].split_whitespace().next().unwrap().to_string()
    };
    let path = |url: String| url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
    (
        path(find("http://127.0.0.1")),
        path(find("/u/").replace("/u/", "http://x/u/")),
    )
}

async fn answer(app: &TestApp, path: &str, values: &[(&str, &str)]) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(path))
        .form(values)
        .send()
        .await
        .unwrap()
}

async fn end_to_end(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", Some("Team")).await;
    let key = api_key(&app).await;
    let ended = app.clock_now();
    let response = post_appointment(&app, &key, &appointment("A-1", "c1", ended, "attended")).await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["outcome"], "created");
    assert_eq!(body["invitation"]["status"], "scheduled");
    // Idempotent: the same call again creates nothing new.
    let again = post_appointment(&app, &key, &appointment("A-1", "c1", ended, "attended")).await;
    assert_eq!(again.status(), 200);
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(again["invitation"]["id"], body["invitation"]["id"]);

    // Nothing goes out before the delay (1 hour after the session).
    let pass = app.run_jobs().await;
    assert_eq!(pass.mail.sent, 0);
    app.clock.advance(Duration::minutes(61));
    let pass = app.run_jobs().await;
    assert_eq!(pass.mail.sent, 1);
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["c1@example.net".to_string()]);

    // The message: headers, structure, neutral content.
    let parsed = MessageParser::default().parse(&mails[0].data[..]).unwrap();
    assert!(parsed.message_id().is_some_and(|id| id.ends_with("@127.0.0.1")));
    let unsubscribe = parsed.header_raw("List-Unsubscribe").unwrap().trim().to_string();
    assert!(
        unsubscribe.starts_with(&format!("<{}/u/", app.address)),
        "{unsubscribe}"
    );
    assert_eq!(
        parsed.header_raw("List-Unsubscribe-Post").unwrap().trim(),
        "List-Unsubscribe=One-Click"
    );
    assert!(
        parsed
            .content_type()
            .is_some_and(|c| c.c_type == "multipart" && c.subtype() == Some("alternative"))
    );
    let parts: Vec<String> = parsed
        .parts
        .iter()
        .filter_map(|p| {
            p.content_type()
                .map(|c| format!("{}/{}", c.c_type, c.subtype().unwrap_or("")))
        })
        .collect();
    let text_at = parts.iter().position(|p| p == "text/plain").unwrap();
    let html_at = parts.iter().position(|p| p == "text/html").unwrap();
    assert!(text_at < html_at, "plain text first: {parts:?}");
    let text = parsed.body_text(0).unwrap();
    assert!(text.contains("Riverside Clinic"));
    assert!(!text.contains("Test clinician@example.org"), "no clinician name");
    let (survey_path, _) = links(&mails[0].data);
    assert!(survey_path.starts_with("/s/") && survey_path.len() > 40);

    // GET shows the questionnaire and changes nothing.
    let page = reqwest::get(app.url(&survey_path)).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains("listened to me"), "the bond question is shown");
    assert!(html.contains("<fieldset") && html.contains("<legend>"));
    let client_id = rapport::store::ClientId(body["client_id"].as_i64().unwrap());
    let stored = app
        .db(move |conn| rapport::store::responses::for_client(conn, client_id))
        .await;
    assert!(stored.is_empty(), "GET stores nothing");

    // A missing answer is refused kindly and nothing is stored.
    let partial = answer(&app, &survey_path, &[("bond", "9")]).await;
    assert_eq!(partial.status(), 400);
    assert!(partial.text().await.unwrap().contains("Please choose a number"));
    let out_of_range = answer(
        &app,
        &survey_path,
        &[("bond", "11"), ("goals", "9"), ("approach", "9"), ("overall", "9")],
    )
    .await;
    assert_eq!(out_of_range.status(), 400);

    // POST stores the scored response.
    let values = [
        ("bond", "10"),
        ("goals", "9"),
        ("approach", "9"),
        ("overall", "10"),
        ("uncomfortable", "no"),
        ("note", ""),
    ];
    let done = answer(&app, &survey_path, &values).await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Thank you"));
    let stored = app
        .db(move |conn| rapport::store::responses::for_client(conn, client_id))
        .await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].total, Some(38.0));
    assert_eq!(stored[0].common_score, Some(95.0));
    assert_eq!(stored[0].screener_uncomfortable, Some(false));

    // A second POST (double-click) stores nothing and says so kindly.
    let second = answer(&app, &survey_path, &values).await;
    assert_eq!(second.status(), 200);
    assert!(second.text().await.unwrap().contains("We already have your answers"));
    let stored = app
        .db(move |conn| rapport::store::responses::for_client(conn, client_id))
        .await;
    assert_eq!(stored.len(), 1);

    // The reminder is not sent once answered.
    app.clock.advance(Duration::hours(49));
    let pass = app.run_jobs().await;
    assert_eq!(pass.mail.sent, 0);
    assert_eq!(smtp.received().len(), 1);
}
on_both_backends!(appointment_to_scored_response_over_smtp, end_to_end);

async fn transient_refusals(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", None).await;
    let key = api_key(&app).await;
    let ended = app.clock_now();
    for n in 1..=3 {
        let r = post_appointment(
            &app,
            &key,
            &appointment(&format!("B-{n}"), &format!("c{n}"), ended, "attended"),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    app.clock.advance(Duration::minutes(61));
    // The server refuses the first four messages with 451.
    smtp.refuse(4, Refusal::Transient);
    let pass = app.run_jobs().await;
    assert_eq!((pass.mail.sent, pass.mail.retrying), (0, 3));
    assert!(smtp.received().is_empty());
    // Backoff: nothing is retried at once.
    assert_eq!(app.run_jobs().await.mail.total(), 0);
    for _ in 0..6 {
        app.clock.advance(Duration::minutes(10));
        app.run_jobs().await;
    }
    let received = smtp.received();
    assert_eq!(smtp.refused(), 4);
    assert_eq!(received.len(), 3, "every invitation arrives");
    let mut recipients: Vec<String> = received.iter().map(|m| m.to[0].clone()).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        ["c1@example.net", "c2@example.net", "c3@example.net"],
        "none twice"
    );
    let ids: std::collections::BTreeSet<String> = received
        .iter()
        .map(|m| {
            MessageParser::default()
                .parse(&m.data[..])
                .unwrap()
                .message_id()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 3);
}
on_both_backends!(smtp_451_is_retried_until_delivered, transient_refusals);

async fn permanent_refusal(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", None).await;
    let (_, admin) = app.staff("admin", "admin@example.org", None).await;
    let key = api_key(&app).await;
    let ended = app.clock_now();
    post_appointment(&app, &key, &appointment("C-1", "gone", ended, "attended")).await;
    app.clock.advance(Duration::minutes(61));
    smtp.refuse(1, Refusal::Permanent);
    let pass = app.run_jobs().await;
    assert_eq!(pass.mail.failed, 1);
    // Never retried.
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.run_jobs().await.mail.total(), 0);
    assert!(smtp.received().is_empty());
    // The admin sees it with the server's reason.
    let page = admin.get(app.url("/admin/email")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("(550)") && html.contains("Mailbox unavailable: no such user here"),
        "{html}"
    );
    assert!(html.contains("gone@example.net"));

    // The admin corrects the address from the failed email and retries it.
    let at = html.find("Correct the address").expect("a link to correct the address");
    let href_start = html[..at].rfind("href=\"").unwrap() + 6;
    let details = html[href_start..href_start + html[href_start..].find('"').unwrap()].to_string();
    let form = admin.get(app.url(&details)).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("gone@example.net"));
    let csrf = crate::common::csrf_from(&form);
    let bad = admin
        .post(app.url(&details))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Client gone"),
            ("email", "not an address"),
            ("language", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("is not a valid email address"));
    let saved = admin
        .post(app.url(&details))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Client gone"),
            ("email", "found@example.net"),
            ("time_zone", "Europe/London"),
            ("language", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let html = admin
        .get(app.url("/admin/email"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let retry = html.find("/retry").unwrap();
    let retry_path = html[html[..retry].rfind('"').unwrap() + 1..retry + 6].to_string();
    let retried = admin
        .post(app.url(&retry_path))
        .form(&[("csrf", crate::common::csrf_from(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 303);
    app.run_jobs().await;
    assert_eq!(
        smtp.received_by("found@example.net").len(),
        1,
        "sent to the corrected address"
    );
    let changes: Vec<Option<String>> = app
        .db(|conn| {
            use diesel::prelude::*;
            use rapport::store::schema::audit_log;
            Ok(audit_log::table
                .filter(audit_log::action.eq("client.change"))
                .select(audit_log::detail)
                .load(conn)?)
        })
        .await;
    assert_eq!(
        changes,
        vec![Some("changed: email, time zone".to_string())],
        "fields, never values"
    );
}
on_both_backends!(smtp_550_marks_the_message_failed_for_admins, permanent_refusal);

/// The same outcomes whether or not the server pipelines: the refused
/// recipient fails once with the server's reason, the others arrive once.
async fn recipient_refused_at_rcpt(backend: Backend) {
    for pipelining in [true, false] {
        let smtp = SmtpServer::start().await;
        if !pipelining {
            smtp.without_pipelining();
        }
        let Some(app) = app_with_smtp(backend, &smtp).await else {
            return crate::common::skipped(backend);
        };
        app.staff("clinician", "clinician@example.org", None).await;
        let key = api_key(&app).await;
        let ended = app.clock_now();
        for (n, name) in ["r1", "gone", "r2"].iter().enumerate() {
            let r = post_appointment(&app, &key, &appointment(&format!("R-{n}"), name, ended, "attended")).await;
            assert_eq!(r.status(), 201);
        }
        smtp.refuse_recipient("gone@example.net");
        app.clock.advance(Duration::minutes(61));
        let pass = app.run_jobs().await;
        assert_eq!(
            (pass.mail.sent, pass.mail.failed, pass.mail.retrying),
            (2, 1, 0),
            "pipelining {pipelining}"
        );
        let mut recipients: Vec<String> = smtp.received().iter().map(|m| m.to[0].clone()).collect();
        recipients.sort();
        assert_eq!(recipients, ["r1@example.net", "r2@example.net"]);
        let reason: String = app
            .db(|conn| {
                use diesel::prelude::*;
                use rapport::store::schema::outbox;
                Ok(outbox::table
                    .filter(outbox::status.eq("failed"))
                    .select(outbox::last_error)
                    .first::<Option<String>>(conn)?
                    .unwrap_or_default())
            })
            .await;
        assert!(reason.contains("no such user here"), "{reason}");
        if pipelining {
            assert_eq!(smtp.pipelined(), 3, "MAIL, RCPT and DATA written together");
        } else {
            assert_eq!(smtp.pipelined(), 0);
        }
        app.clock.advance(Duration::hours(1));
        assert_eq!(app.run_jobs().await.mail.total(), 0);
    }
}
on_both_backends!(
    a_recipient_refused_at_rcpt_fails_once_with_or_without_pipelining,
    recipient_refused_at_rcpt
);

/// Admin → Email delivery says why each email waits, and a test email
/// goes to the admin at once with the server's answer on the page.
async fn email_page_says_why_and_sends_a_test(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = spawn_app_with(
        backend,
        Options {
            extra: vec![("SMTP_URL", smtp.url()), ("SMTP_TIMEOUT_SECONDS", "5".into())],
        },
    )
    .await
    else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", None).await;
    let (_, admin) = app.staff("admin", "admin@example.org", None).await;
    let key = api_key(&app).await;
    // 10:00: a session that just ended waits its hour.
    let r = post_appointment(&app, &key, &appointment("W-1", "morning", app.clock_now(), "attended")).await;
    assert_eq!(r.status(), 201);
    // 20:00: one hour later is in quiet hours, so it waits for 08:00.
    app.clock.advance(Duration::hours(10));
    let r = post_appointment(&app, &key, &appointment("W-2", "evening", app.clock_now(), "attended")).await;
    assert_eq!(r.status(), 201);
    let page = admin
        .get(app.url("/admin/email"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = |who: &str| {
        let at = page
            .find(&format!("{who}@example.net"))
            .unwrap_or_else(|| panic!("{who} waiting"));
        let start = page[..at].rfind("<tr>").unwrap();
        page[start..at + page[at..].find("</tr>").unwrap()].to_string()
    };
    assert!(
        row("evening").contains("quiet hours: no client email before 08:00"),
        "{}",
        row("evening")
    );
    assert!(row("morning").contains("due now"), "{}", row("morning"));

    let csrf = crate::common::csrf_from(&page);
    let send_test = || {
        admin
            .post(app.url("/admin/email/test"))
            .form(&[("csrf", csrf.as_str())])
            .send()
    };
    let sent = send_test().await.unwrap();
    assert_eq!(sent.status(), 200);
    assert!(sent.text().await.unwrap().contains("the mail server accepted it"));
    let received = smtp.received_by("admin@example.org");
    assert_eq!(received.len(), 1);
    let parsed = MessageParser::default().parse(&received[0].data[..]).unwrap();
    assert_eq!(parsed.subject(), Some("Rapport test email"));
    smtp.refuse_recipient("admin@example.org");
    let refused = send_test().await.unwrap().text().await.unwrap();
    assert!(
        refused.contains("was not sent") && refused.contains("no such user here"),
        "the server's reason on the page"
    );
    let audited = app
        .db(|conn| {
            use diesel::prelude::*;
            use rapport::store::schema::audit_log;
            Ok(audit_log::table
                .filter(audit_log::action.eq("email.test"))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await;
    assert_eq!(audited, 2);
}
on_both_backends!(
    email_delivery_page_says_why_and_sends_a_test,
    email_page_says_why_and_sends_a_test
);

async fn cancellation_and_unsubscribe(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", None).await;
    let key = api_key(&app).await;
    let ended = app.clock_now();
    // Recorded as attended, then corrected to a no-show: no email.
    post_appointment(&app, &key, &appointment("D-1", "d1", ended, "attended")).await;
    let changed = post_appointment(&app, &key, &appointment("D-1", "d1", ended, "no_show")).await;
    let changed: serde_json::Value = changed.json().await.unwrap();
    assert_eq!(changed["outcome"], "updated");
    assert_eq!(changed["invitation"]["status"], "cancelled");
    // A second client unsubscribes with one click from their first email.
    post_appointment(&app, &key, &appointment("D-2", "d2", ended, "attended")).await;
    app.clock.advance(Duration::minutes(61));
    app.run_jobs().await;
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["d2@example.net".to_string()]);
    let message = MessageParser::default().parse(&mails[0].data[..]).unwrap();
    let header = message
        .header_raw("List-Unsubscribe")
        .unwrap()
        .trim()
        .trim_matches(['<', '>'])
        .to_string();
    // GET only asks for confirmation.
    let confirm = reqwest::get(&header).await.unwrap().text().await.unwrap();
    assert!(confirm.contains("Stop feedback emails?"));
    // The RFC 8058 one-click POST: no cookie, no login.
    let one_click = || {
        reqwest::Client::new()
            .post(&header)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    assert_eq!(one_click().await.unwrap().status(), 200);
    // The audit log keeps the client's own request, once (a second click
    // changes nothing).
    assert_eq!(one_click().await.unwrap().status(), 200);
    let audit = app.db(|conn| rapport::store::audit::recent(conn, 100)).await;
    let opted: Vec<_> = audit.iter().filter(|a| a.action == "client.opt_out").collect();
    assert_eq!(opted.len(), 1, "{opted:?}");
    assert_eq!(
        opted[0].detail.as_deref(),
        Some("by the client, from the link in an email")
    );
    assert!(opted[0].client_id.is_some() && opted[0].staff_name.is_none());
    // The reminder is not sent; a new session does not invite; the old link says why.
    app.clock.advance(Duration::hours(48));
    app.run_jobs().await;
    let later = app.clock_now();
    let r = post_appointment(&app, &key, &appointment("D-3", "d2", later, "attended")).await;
    let r: serde_json::Value = r.json().await.unwrap();
    assert!(r["invitation"].is_null(), "no invitation after opting out: {r}");
    app.clock.advance(Duration::hours(2));
    app.run_jobs().await;
    assert_eq!(smtp.received().len(), 1);
    let (survey_path, _) = links(&mails[0].data);
    let page = reqwest::get(app.url(&survey_path)).await.unwrap().text().await.unwrap();
    assert!(page.contains("You have stopped these emails"));
}
on_both_backends!(
    cancelled_sessions_and_one_click_unsubscribe,
    cancellation_and_unsubscribe
);

async fn expiry(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", None).await;
    let key = api_key(&app).await;
    post_appointment(&app, &key, &appointment("E-1", "e1", app.clock_now(), "attended")).await;
    app.clock.advance(Duration::minutes(61));
    app.run_jobs().await;
    // The reminder after 48 hours, then expiry after 4 days.
    app.clock.advance(Duration::hours(48));
    assert_eq!(app.run_jobs().await.mail.sent, 1);
    let mails = smtp.received();
    assert_eq!(mails.len(), 2);
    let reminder = MessageParser::default().parse(&mails[1].data[..]).unwrap();
    assert!(reminder.subject().unwrap().starts_with("Reminder"));
    app.clock.advance(Duration::hours(49));
    assert_eq!(app.run_jobs().await.expired, 1);
    let (survey_path, _) = links(&mails[0].data);
    let late = reqwest::Client::new()
        .post(app.url(&survey_path))
        .form(&[("bond", "9"), ("goals", "9"), ("approach", "9"), ("overall", "9")])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 410);
    assert!(late.text().await.unwrap().contains("This questionnaire has closed"));
    // Unknown links get their own calm page.
    let unknown = reqwest::get(app.url("/s/not-a-real-token")).await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("We could not find this questionnaire")
    );
}
on_both_backends!(reminder_then_expiry, expiry);

async fn api_rejects_bad_input(backend: Backend) {
    let Some(app) = spawn_app_with(backend, Options::default()).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", None).await;
    let key = api_key(&app).await;
    let now = app.clock_now();
    let no_key = reqwest::Client::new()
        .post(app.url("/api/v1/appointments"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 401);
    assert_eq!(no_key.headers()["content-type"], "application/problem+json");
    let cases = [
        (json!({"nonsense": true}), "not valid"),
        (
            {
                let mut a = appointment("X", "x", now, "attended");
                a["status"] = json!("maybe");
                a
            },
            "unknown status",
        ),
        (
            {
                let mut a = appointment("X", "x", now, "attended");
                a["start"] = json!("yesterday");
                a
            },
            "RFC 3339",
        ),
        (
            {
                let mut a = appointment("X", "x", now, "attended");
                a["clinician_email"] = json!("nobody@example.org");
                a
            },
            "no active clinician",
        ),
        (
            {
                let mut a = appointment("X", "x", now, "attended");
                a["client"]["email"] = json!("not-an-email");
                a
            },
            "not a valid email",
        ),
        (
            {
                let mut a = appointment("X", "x", now, "attended");
                a["client"]["time_zone"] = json!("Mars/Base");
                a
            },
            "time zone",
        ),
    ];
    for (body, expect) in cases {
        let r = post_appointment(&app, &key, &body).await;
        assert_eq!(r.status(), 400, "{body}");
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["status"], 400);
        assert!(
            problem["detail"].as_str().unwrap().contains(expect),
            "{problem} should mention {expect}"
        );
    }
    let count = app.db(rapport::store::appointments::count).await;
    assert_eq!(count, 0, "nothing stored from bad requests");
}
on_both_backends!(api_refuses_bad_appointments_with_problem_json, api_rejects_bad_input);

async fn clinician_notices(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "dr@example.org", None).await;
    let (other, _) = app.staff("clinician", "other@example.org", None).await;
    // The second clinician prefers the daily summary for high alerts too.
    app.db(move |conn| {
        use rapport::store::staff::{Notify, set_notifications};
        set_notifications(conn, other, Notify::Digest, Notify::Digest)
    })
    .await;
    for items in [[10, 10, 9, 9], [10, 9, 10, 9], [9, 10, 10, 9], [7, 8, 8, 8]] {
        crate::common::answered_session(&app, "dr@example.org", "ann", items).await;
        crate::common::answered_session(&app, "other@example.org", "bea", items).await;
    }
    let pass = app.run_jobs().await;
    assert_eq!(pass.digests, 1, "one daily summary, for the clinician who chose it");
    let to = |who: &str| -> Vec<mail_parser::Message<'static>> {
        smtp.received()
            .into_iter()
            .filter(|m| m.to == vec![who.to_string()])
            .map(|m| MessageParser::default().parse(&m.data[..]).unwrap().into_owned())
            .collect()
    };
    let dr_mail = to("dr@example.org");
    assert_eq!(dr_mail.len(), 1, "an immediate notice for the high alert");
    let subject = dr_mail[0].subject().unwrap().to_string();
    assert_eq!(subject, "Rapport: 1 new high alert");
    let text = dr_mail[0].body_text(0).unwrap().to_string();
    assert!(text.contains(&format!("{}/sign-in", app.address)));
    for private in ["ann", "Client", "total", "cutoff", "Reliable", "fell"] {
        assert!(
            !text.contains(private),
            "no client name or clinical detail: {private} in {text}"
        );
    }
    let other_mail = to("other@example.org");
    assert_eq!(other_mail.len(), 1);
    assert!(other_mail[0].subject().unwrap().starts_with("Rapport daily summary"));
    // Nothing new, nothing sent again.
    app.clock.advance(Duration::days(1));
    app.run_jobs().await;
    assert_eq!(to("dr@example.org").len(), 1);
    assert_eq!(to("other@example.org").len(), 1);
    // A comment with good scores opens no alert, but the next daily
    // summary counts it (without saying whose or what).
    let invitation = crate::common::attended_session(&app, "other@example.org", "bea").await;
    let token = crate::common::survey_token(&app, invitation).await;
    let answered = reqwest::Client::new()
        .post(app.url(&format!("/s/{token}")))
        .form(&[
            ("bond", "10"),
            ("goals", "10"),
            ("approach", "10"),
            ("overall", "10"),
            ("uncomfortable", "no"),
            ("note", "The last session really helped with my sleep"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    app.clock.advance(Duration::days(1));
    let pass = app.run_jobs().await;
    assert_eq!(pass.digests, 1, "a summary for the comment alone");
    let other_mail = to("other@example.org");
    assert_eq!(other_mail.len(), 2);
    assert_eq!(
        other_mail[1].subject().unwrap(),
        "Rapport daily summary: 1 comment from a client to read"
    );
    let text = other_mail[1].body_text(0).unwrap().to_string();
    assert!(!text.contains("sleep") && !text.contains("bea"), "{text}");
    assert_eq!(to("dr@example.org").len(), 1, "dr's clients wrote nothing");
}
on_both_backends!(clinicians_are_told_without_client_detail, clinician_notices);

async fn crash_mid_send(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = app_with_smtp(backend, &smtp).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", None).await;
    crate::common::attended_session(&app, "clinician@example.org", "f1").await;
    crate::common::attended_session(&app, "clinician@example.org", "f2").await;
    app.clock.advance(Duration::minutes(61));
    // Runner A claims the due emails and dies before sending.
    let now = app.clock_now();
    let claimed = app
        .db(move |conn| rapport::store::outbox::claim_due(conn, now, 10))
        .await;
    assert_eq!(claimed.len(), 2);
    // Runner B sees nothing to do while A's lease holds: no double send.
    let again = app
        .db(move |conn| rapport::store::outbox::claim_due(conn, now, 10))
        .await;
    assert!(again.is_empty());
    assert_eq!(app.run_jobs().await.mail.sent, 0);
    // Once the lease runs out, the emails go: nothing was lost.
    app.clock.advance(Duration::minutes(3));
    assert_eq!(app.run_jobs().await.mail.sent, 2);
    assert_eq!(smtp.received().len(), 2);
}
on_both_backends!(a_runner_dying_mid_send_loses_nothing, crash_mid_send);

async fn smtp_server_down(backend: Backend) {
    // Nothing listens on this port: a network failure, retried later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(app) = spawn_app_with(
        backend,
        Options {
            extra: vec![
                ("SMTP_URL", format!("smtp://127.0.0.1:{port}")),
                ("QUIET_HOURS", "off".into()),
            ],
        },
    )
    .await
    else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", None).await;
    crate::common::attended_session(&app, "clinician@example.org", "g1").await;
    app.clock.advance(Duration::minutes(61));
    let pass = app.run_jobs().await;
    assert_eq!((pass.mail.sent, pass.mail.retrying, pass.mail.failed), (0, 1, 0));
    let problems = app.db(|conn| rapport::store::outbox::problems(conn, 10)).await;
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].status, "pending");
    assert!(
        problems[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .contains("connect"),
        "{:?}",
        problems[0].last_error
    );
}
on_both_backends!(an_unreachable_smtp_server_is_retried, smtp_server_down);

async fn dkim_signed(backend: Backend) {
    let smtp = SmtpServer::start().await;
    // A key made for this test only (tests/fixtures/dkim-test-only.pem).
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dkim-test-only.pem");
    let Some(app) = spawn_app_with(
        backend,
        Options {
            extra: vec![
                ("SMTP_URL", smtp.url()),
                ("QUIET_HOURS", "off".into()),
                ("DKIM_KEY_FILE", key.display().to_string()),
                ("DKIM_SELECTOR", "rapport2026".into()),
                ("DKIM_DOMAIN", "clinic.example".into()),
                ("MAIL_FROM", "Riverside Clinic <feedback@clinic.example>".into()),
            ],
        },
    )
    .await
    else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", None).await;
    crate::common::attended_session(&app, "clinician@example.org", "h1").await;
    app.clock.advance(Duration::minutes(61));
    app.run_jobs().await;
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    let message = MessageParser::default().parse(&mails[0].data[..]).unwrap();
    let signature = message
        .header_raw("DKIM-Signature")
        .expect("the message is DKIM-signed");
    assert!(
        signature.contains("d=clinic.example") && signature.contains("s=rapport2026"),
        "{signature}"
    );
    let unfolded: String = signature.split_whitespace().collect();
    let signed: Vec<&str> = unfolded
        .split(';')
        .find_map(|t| t.strip_prefix("h="))
        .expect("an h= tag")
        .split(':')
        .collect();
    for header in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ] {
        assert!(signed.contains(&header), "{header} is signed: {signed:?}");
    }
    // An independent verifier (dkimpy) accepts the message as received…
    let raw = &mails[0].data[..];
    let Some((verified, said)) = crate::common::dkimpy_verifies(raw) else {
        return;
    };
    assert!(verified, "dkimpy does not verify the signature:\n{said}");
    assert!(said.contains("list-unsubscribe-post"), "{said}");
    // …and refuses it once a signed header is changed on the way.
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let unsubscribe = text
        .lines()
        .find(|l| l.starts_with("List-Unsubscribe:"))
        .expect("a List-Unsubscribe header")
        .to_string();
    let tampered = text.replacen(&unsubscribe, "List-Unsubscribe: <https://attacker.example/u>", 1);
    let (verified, said) = crate::common::dkimpy_verifies(tampered.as_bytes()).unwrap();
    assert!(!verified, "a changed List-Unsubscribe must not verify:\n{said}");
}
on_both_backends!(outgoing_mail_is_dkim_signed_when_a_key_is_configured, dkim_signed);
