//! The clinician workspace: alerts that say why, idempotent evaluation,
//! the repair log, and least privilege — on SQLite and PostgreSQL.

use crate::common::{answered_session, client_id, csrf_from};

db_test!(a_fall_from_38_to_31_opens_one_alert_that_explains_itself, |app| {
    app.staff("clinician", "dr@example.org", None).await;
    for items in [[10, 9, 9, 10], [9, 10, 9, 10], [10, 9, 10, 9]] {
        answered_session(&app, "dr@example.org", "ann", items).await;
    }
    // 38 → 31.
    answered_session(&app, "dr@example.org", "ann", [8, 8, 7, 8]).await;
    let client = client_id(&app, "ann").await;
    let clinician = app.signed_in("dr@example.org").await;
    let alerts = app
        .db(move |conn| rapport::store::alerts::for_client(conn, client))
        .await;
    assert_eq!(alerts.len(), 1, "one alert");
    assert_eq!(alerts[0].status.as_str(), "open");
    assert_eq!(alerts[0].severity.as_str(), "high");

    // The inbox lists it with the first line of its reason.
    let inbox = clinician
        .get(app.url("/clinician"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(inbox.contains("Client ann"));
    assert!(inbox.contains(&format!("/clinician/alerts/{}", alerts[0].id)));

    // The alert page states the reliable-change reasoning in numbers.
    let page = clinician
        .get(app.url(&format!("/clinician/alerts/{}", alerts[0].id)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Reliable drop"), "{html}");
    assert!(html.contains("38") && html.contains("31"), "the totals");
    assert!(
        html.contains("6.8"),
        "the reliable-change threshold for r = .70, SD = 4.5"
    );
    assert!(
        html.contains("r = .70") && html.contains("SD = 4.5"),
        "the figures it used"
    );
    assert!(html.contains("<svg") && html.contains("Recent totals"));
    assert!(html.contains("What to consider next"));

    // Evaluating the same history again changes nothing.
    let now = app.clock_now();
    let sealer = app.state.sealer.clone();
    let changes = app
        .db(move |conn| {
            let mailing = rapport::store::invitations::Mailing {
                sealer: &sealer,
                message_domain: "test",
                clinic_tz: chrono_tz::UTC,
                default_language: "en",
            };
            rapport::actions::alerts::evaluate_client_by_id(conn, client, &mailing, now)
        })
        .await;
    assert!(changes.is_empty(), "{changes:?}");
    let again = app
        .db(move |conn| rapport::store::alerts::for_client(conn, client))
        .await;
    assert_eq!(again.len(), 1);
    let signals_before = app
        .db({
            let id = alerts[0].id;
            move |conn| rapport::store::alerts::signals(conn, id)
        })
        .await;
    assert!(!signals_before.is_empty());
});

db_test!(repair_log_records_each_step_in_order, |app| {
    app.staff("clinician", "dr@example.org", None).await;
    for items in [[10, 10, 9, 9], [10, 9, 10, 9], [9, 10, 10, 9], [7, 7, 8, 8]] {
        answered_session(&app, "dr@example.org", "bo", items).await;
    }
    let client = client_id(&app, "bo").await;
    let clinician = app.signed_in("dr@example.org").await;
    let alert = app
        .db(move |conn| rapport::store::alerts::for_client(conn, client))
        .await
        .remove(0);
    let path = format!("/clinician/alerts/{}", alert.id);
    let html = clinician
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_from(&html);
    let post = |step: &str, form: Vec<(&str, &str)>| {
        let mut form: Vec<(String, String)> = form.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        form.push(("csrf".into(), csrf.clone()));
        clinician.post(app.url(&format!("{path}/{step}"))).form(&form).send()
    };
    assert_eq!(post("acknowledge", vec![]).await.unwrap().status(), 303);
    // A discussion needs a note.
    assert_eq!(post("discussed", vec![("note", "  ")]).await.unwrap().status(), 400);
    assert_eq!(
        post(
            "discussed",
            vec![("note", "We talked about the homework feeling rushed.")]
        )
        .await
        .unwrap()
        .status(),
        303
    );
    assert_eq!(post("outcome", vec![("outcome", "maybe")]).await.unwrap().status(), 400);
    assert_eq!(
        post(
            "outcome",
            vec![("outcome", "repaired"), ("note", "Agreed a slower pace.")]
        )
        .await
        .unwrap()
        .status(),
        303
    );
    let html = clinician
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let order: Vec<usize> = [
        "Alert opened by Rapport",
        "Acknowledged",
        "Discussed with the client",
        "Outcome: Repaired",
    ]
    .iter()
    .map(|label| html.find(label).unwrap_or_else(|| panic!("{label} in the log")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in order: {order:?}");
    assert!(html.contains("We talked about the homework feeling rushed."));
    assert!(html.contains("Your judgement: <strong>Repaired</strong>"));
    // Closed: the log cannot change any more.
    assert_eq!(post("acknowledge", vec![]).await.unwrap().status(), 409);
    let events = app
        .db({
            let id = alert.id;
            move |conn| rapport::store::alerts::events(conn, id)
        })
        .await;
    let kinds: Vec<&str> = events.iter().map(|(e, _)| e.kind.as_str()).collect();
    assert_eq!(kinds, ["opened", "acknowledged", "discussed", "outcome"]);
    assert!(
        events[1..]
            .iter()
            .all(|(_, who)| who.as_deref() == Some("Test dr@example.org"))
    );
});

db_test!(
    the_alert_page_tells_the_story_first_and_not_repaired_stays_under_watch,
    |app| {
        app.staff("clinician", "dr@example.org", None).await;
        for items in [
            [10, 10, 9, 9],
            [10, 9, 10, 9],
            [9, 10, 10, 9],
            [7, 7, 8, 8],
            [6, 7, 7, 7],
        ] {
            answered_session(&app, "dr@example.org", "di", items).await;
        }
        let client = client_id(&app, "di").await;
        let clinician = app.signed_in("dr@example.org").await;
        let alert = app
            .db(move |conn| rapport::store::alerts::for_client(conn, client))
            .await
            .remove(0);
        let path = format!("/clinician/alerts/{}", alert.id);
        let get = |url: String| {
            let c = clinician.clone();
            async move { c.get(url).send().await.unwrap().text().await.unwrap() }
        };
        let html = get(app.url(&path)).await;
        let at = |text: &str| html.find(text).unwrap_or_else(|| panic!("{text} on the page"));
        assert!(at("In short") < at("id=\"repair-title\""));
        assert!(at("id=\"repair-title\"") < at("Why Rapport raised this"));
        assert!(at("Why Rapport raised this") < at("Every signal with its numbers"));
        assert!(at("Every signal with its numbers") < at(">Log<"));
        assert!(
            html.contains("Latest total: </strong>27 at session 5"),
            "the latest total in the summary"
        );
        assert!(html.contains("cutoff"));
        // One line per rule: no rule title twice in the grouped list.
        let grouped = &html[at("<ul class=\"signals\">")..at("Every signal with its numbers")];
        let lines = grouped.matches("<li>").count();
        let signals = app
            .db({
                let id = alert.id;
                move |conn| rapport::store::alerts::signals(conn, id)
            })
            .await;
        let mut rules: Vec<&str> = signals.iter().map(|s| s.rule.as_str()).collect();
        rules.sort();
        rules.dedup();
        assert_eq!(lines, rules.len(), "{grouped}");

        // "Not repaired" closes the alert but keeps the client under watch.
        let recorded = app
            .post_form(
                &clinician,
                &path,
                &format!("{path}/outcome"),
                &[("outcome", "not_repaired")],
            )
            .await;
        assert_eq!(recorded.status(), 303);
        assert!(get(app.url(&path)).await.contains("stays under watch"));
        let inbox = get(app.url("/clinician")).await;
        assert!(inbox.contains("Follow up at the next session"));
        assert!(inbox.contains("Client di"));
        // The next answer ends the watch (the engine looks again).
        answered_session(&app, "dr@example.org", "di", [9, 9, 9, 9]).await;
        let inbox = get(app.url("/clinician")).await;
        assert!(!inbox.contains("Follow up at the next session"), "{inbox}");
    }
);

db_test!(
    not_a_rupture_stops_an_alert_every_session_until_the_client_falls_again,
    |app| {
        app.staff("clinician", "dr@example.org", None).await;
        for items in [[10, 10, 9, 9], [10, 9, 10, 9], [9, 10, 10, 9], [7, 8, 7, 8]] {
            answered_session(&app, "dr@example.org", "ed", items).await;
        }
        let client = client_id(&app, "ed").await;
        let alerts = || app.db(move |conn| rapport::store::alerts::for_client(conn, client));
        let first = alerts().await;
        assert_eq!(first.len(), 1, "the fall to 30 opens an alert");
        let clinician = app.signed_in("dr@example.org").await;
        let path = format!("/clinician/alerts/{}", first[0].id);
        let judged = app
            .post_form(
                &clinician,
                &path,
                &format!("{path}/outcome"),
                &[("outcome", "not_a_rupture")],
            )
            .await;
        assert_eq!(judged.status(), 303);
        // Staying at that level: no new alert, session after session.
        for items in [[8, 7, 8, 7], [7, 8, 8, 8], [8, 7, 7, 8]] {
            answered_session(&app, "dr@example.org", "ed", items).await;
        }
        assert_eq!(alerts().await.len(), 1, "30 is this client's level now");
        // A reliable fall from that level opens a new one.
        answered_session(&app, "dr@example.org", "ed", [5, 5, 6, 5]).await;
        assert_eq!(alerts().await.len(), 2);
    }
);

db_test!(the_inbox_is_a_table_to_triage_by, |app| {
    app.staff("clinician", "dr@example.org", None).await;
    for items in [[10, 10, 9, 9], [10, 9, 10, 9], [9, 10, 10, 9], [7, 7, 8, 8]] {
        answered_session(&app, "dr@example.org", "zoe", items).await;
    }
    // A second client falls later, with a comment.
    for items in [[10, 10, 10, 10], [10, 10, 10, 9], [10, 10, 9, 10]] {
        answered_session(&app, "dr@example.org", "amy", items).await;
    }
    let invitation = crate::common::attended_session(&app, "dr@example.org", "amy").await;
    let token = crate::common::survey_token(&app, invitation).await;
    let answered = reqwest::Client::new()
        .post(app.url(&format!("/s/{token}")))
        .form(&[
            ("bond", "6"),
            ("goals", "6"),
            ("approach", "7"),
            ("overall", "6"),
            ("uncomfortable", "yes"),
            ("note", "I felt rushed and not listened to"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    // One client with two answers: no trend yet.
    for items in [[10, 10, 10, 10], [9, 9, 9, 9]] {
        answered_session(&app, "dr@example.org", "new", items).await;
    }
    let clinician = app.signed_in("dr@example.org").await;
    let get = |url: String| {
        let c = clinician.clone();
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (_, inbox) = get(app.url("/clinician")).await;
    // zoe's alert opened days ago (the clock moved a week per session): overdue.
    assert!(inbox.contains("overdue"), "{inbox}");
    assert!(inbox.contains("without being acknowledged"));
    assert!(inbox.contains("wrote something"), "amy's comment marker");
    assert!(inbox.contains("<td class=\"num\">30</td>"), "zoe's latest total");
    assert!(inbox.contains("none booked"));
    // Sorting by client puts amy before zoe; an unknown sort is a 400.
    let (_, by_client) = get(app.url("/clinician?sort=client")).await;
    let table = &by_client[by_client.find("<table").unwrap()..];
    assert!(table.find("Client amy").unwrap() < table.find("Client zoe").unwrap());
    let (_, by_opened) = get(app.url("/clinician?sort=opened")).await;
    let table = &by_opened[by_opened.find("<table").unwrap()..];
    assert!(
        table.find("Client zoe").unwrap() < table.find("Client amy").unwrap(),
        "zoe's alert is older"
    );
    assert!(by_client.contains("aria-sort=\"ascending\""));
    let (status, _) = get(app.url("/clinician?sort=shoe-size")).await;
    assert_eq!(status, 400);
    // Acknowledged alerts are not overdue.
    let zoe = client_id(&app, "zoe").await;
    let alert = app
        .db(move |conn| rapport::store::alerts::for_client(conn, zoe))
        .await
        .remove(0);
    let path = format!("/clinician/alerts/{}", alert.id);
    let (_, page) = get(app.url(&path)).await;
    let acknowledged = clinician
        .post(app.url(&format!("{path}/acknowledge")))
        .form(&[("csrf", csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(acknowledged.status(), 303);
    // The same audit entry as the API's acknowledge (one action for both),
    // by this clinician; acknowledging again logs nothing more.
    let again = clinician
        .post(app.url(&format!("{path}/acknowledge")))
        .form(&[("csrf", csrf_from(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    let alert_id = alert.id;
    let audit = app.db(|conn| rapport::store::audit::recent(conn, 500)).await;
    let steps: Vec<_> = audit.iter().filter(|a| a.alert_id == Some(alert_id)).collect();
    assert_eq!(
        steps.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["alert.acknowledge", "alert.view"],
        "{steps:?}"
    );
    assert!(steps[0].staff_name.is_some() && steps[0].client_id == Some(zoe));
    let (_, inbox) = get(app.url("/clinician?sort=client")).await;
    let zoe_row = &inbox[inbox.find("Client zoe").unwrap()..];
    let zoe_row = &zoe_row[..zoe_row.find("</tr>").unwrap()];
    assert!(!zoe_row.contains("overdue"), "{zoe_row}");
    // The clients list says "—", not "steady", with two answers.
    let (_, clients) = get(app.url("/clinician/clients")).await;
    let new_row = &clients[clients.find("Client new").unwrap()..];
    let new_row = &new_row[..new_row.find("</tr>").unwrap()];
    assert!(!new_row.contains("steady") && new_row.contains("—"), "{new_row}");
});

db_test!(the_audit_log_filters_in_words_and_exports_csv, |app| {
    let (dr, _) = app.staff("clinician", "dr@example.org", None).await;
    app.staff("admin", "admin@example.org", None).await;
    answered_session(&app, "dr@example.org", "fay", [9, 9, 9, 9]).await;
    answered_session(&app, "dr@example.org", "gil", [9, 9, 9, 9]).await;
    // Signed in after the sessions (each moves the clock a week on).
    let admin = app.signed_in("admin@example.org").await;
    let (fay, gil) = (client_id(&app, "fay").await, client_id(&app, "gil").await);
    let clinician = app.signed_in("dr@example.org").await;
    for id in [fay, gil, fay] {
        let r = clinician
            .get(app.url(&format!("/clinician/clients/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let page = |query: String| {
        let admin = admin.clone();
        let url = app.url(&format!("/admin/audit?{query}"));
        async move {
            let r = admin.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = page(format!("who={dr}&client={fay}&kind=client.")).await;
    assert_eq!(status, 200);
    assert_eq!(
        html.matches("Viewed a client&#39;s page").count() + html.matches("Viewed a client's page").count(),
        2,
        "{html}"
    );
    assert!(!html.contains(&format!("#{gil}<")), "only fay's entries");
    let (status, csv) = page(format!("client={fay}&kind=client.&format=csv")).await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "when,who,action,what,client,alert,detail");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].contains("client.view") && lines[1].contains("Viewed a client's page"));
    for bad in [
        "from=yesterday",
        "from=2026-03-05&to=2026-03-01",
        "client=abc",
        "kind=everything",
        "from=9999-01-01",
    ] {
        let (status, html) = page(bad.to_string()).await;
        assert_eq!(status, 400, "{bad}: {html}");
    }
    // Dates are the clinic's days: nothing happened before the tests' start.
    let (_, html) = page("to=2026-03-01".to_string()).await;
    assert!(html.contains(">0 entries") || html.contains("0 entries."), "{html}");
});

db_test!(an_admin_erases_a_client_after_typing_their_number, |app| {
    app.staff("clinician", "dr@example.org", None).await;
    answered_session(&app, "dr@example.org", "hal", [9, 9, 9, 9]).await;
    let id = client_id(&app, "hal").await;
    let (_, admin) = app.staff("admin", "admin@example.org", None).await;
    let page = admin
        .get(app.url(&format!("/admin/privacy?client={id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("type the client's number, {id}")));
    let csrf = csrf_from(&page);
    let erase = |confirm: String| {
        admin
            .post(app.url(&format!("/admin/clients/{id}/erase")))
            .form(&[("csrf", csrf.clone()), ("confirm", confirm)])
            .send()
    };
    let refused = erase("yes".into()).await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("Nothing was erased"));
    let client = app.db(move |conn| rapport::store::clients::find(conn, id)).await;
    assert!(client.erased_at.is_none() && client.name == "Client hal");
    assert_eq!(erase(id.to_string()).await.unwrap().status(), 303);
    let client = app.db(move |conn| rapport::store::clients::find(conn, id)).await;
    assert!(client.erased_at.is_some());
    assert_ne!(client.name, "Client hal");
    assert!(client.email.is_none());
    let log = app.db(|conn| rapport::store::audit::recent(conn, 20)).await;
    assert!(
        log.iter()
            .any(|e| e.action == "client.erase" && e.client_id == Some(id))
    );
});

db_test!(
    retention_is_set_in_the_browser_and_confirmed_when_it_would_erase,
    |app| {
        app.staff("clinician", "dr@example.org", None).await;
        answered_session(&app, "dr@example.org", "ivy", [9, 9, 9, 9]).await;
        let ivy = client_id(&app, "ivy").await;
        // Forty days after ivy's last appointment.
        app.clock.advance(chrono::Duration::days(33));
        let (_, admin) = app.staff("admin", "admin@example.org", None).await;
        let page = admin
            .get(app.url("/admin/privacy"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Retention is off"));
        let csrf = csrf_from(&page);
        let set = |days: &str, confirmed: bool| {
            let mut form = vec![("csrf", csrf.clone()), ("days", days.to_string())];
            if confirmed {
                form.push(("confirmed", "yes".to_string()));
            }
            admin.post(app.url("/admin/privacy/retention")).form(&form).send()
        };
        let bad = set("7", false).await.unwrap();
        assert_eq!(bad.status(), 400);
        assert!(bad.text().await.unwrap().contains("between 30 and 36500"));
        // 30 days would erase ivy: the page asks first and saves nothing.
        let ask = set("30", false).await.unwrap();
        assert_eq!(ask.status(), 200);
        assert!(ask.text().await.unwrap().contains("1 client(s)"));
        let kept = app.db(|conn| rapport::store::erasure::retention_days(conn, None)).await;
        assert_eq!(kept, None, "not saved before confirming");
        assert_eq!(set("30", true).await.unwrap().status(), 303);
        let now = app.db(|conn| rapport::store::erasure::retention_days(conn, None)).await;
        assert_eq!(now, Some(30));
        // The next daily run erases her.
        app.run_jobs().await;
        let client = app.db(move |conn| rapport::store::clients::find(conn, ivy)).await;
        assert!(client.erased_at.is_some());
        // Off again, audited both times.
        assert_eq!(set("off", false).await.unwrap().status(), 303);
        let log = app.db(|conn| rapport::store::audit::recent(conn, 50)).await;
        assert_eq!(log.iter().filter(|e| e.action == "settings.retention").count(), 2);
    }
);

db_test!(
    the_appointment_form_starts_on_today_and_says_when_the_questionnaire_goes,
    |app| {
        app.staff("clinician", "dr@example.org", None).await;
        let clinician = app.signed_in("dr@example.org").await;
        let page = clinician
            .get(app.url("/clinician/appointments/new"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("value=\"2026-03-02\""),
            "today's date, in the clinic's zone"
        );
        // A session this morning: the questionnaire goes an hour after it ends.
        let saved = clinician
            .post(app.url("/clinician/appointments"))
            .form(&[
                ("csrf", csrf_from(&page).as_str()),
                ("client", "new"),
                ("new_name", "Jo Late"),
                ("new_email", "jo@example.net"),
                ("date", "2026-03-02"),
                ("time", "09:00"),
                ("minutes", "50"),
                ("status", "attended"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), 303);
        let location = saved.headers()["location"].to_str().unwrap().to_string();
        let client_page = clinician
            .get(app.url(&location))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            client_page.contains("Appointment saved. The questionnaire goes Mon 2 Mar 2026, 10:50"),
            "{client_page}"
        );
        assert!(client_page.contains("60 minutes after the session ends"));
        // Recorded as the API and a CSV import record one: in the audit
        // log under the clinician who saved it.
        let log = app.db(|conn| rapport::store::audit::recent(conn, 50)).await;
        let recorded: Vec<_> = log.iter().filter(|e| e.action == "appointment.record").collect();
        assert_eq!(recorded.len(), 1, "{log:?}");
        assert_eq!(recorded[0].staff_name.as_deref(), Some("Test dr@example.org"));
        assert!(recorded[0].client_id.is_some());
    }
);

db_test!(
    the_manager_sees_alerts_waiting_past_the_limit_per_team_without_names,
    |app| {
        app.staff("clinician", "dr@example.org", Some("Team A")).await;
        for items in [[10, 10, 9, 9], [10, 9, 10, 9], [9, 10, 10, 9], [7, 7, 8, 8]] {
            answered_session(&app, "dr@example.org", "kit", items).await;
        }
        // The alert opened at the last session, a week ago: past the 2-day limit.
        let (_, manager) = app.staff("manager", "boss@example.org", None).await;
        let page = manager
            .get(app.url("/manager"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Alerts unacknowledged over 2 days"), "{page}");
        let teams = &page[page.find("id=\"teams\"").unwrap()..];
        let row = &teams[teams.find("Team A").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.ends_with(">1</td>"), "{row}");
        assert!(!page.contains("Client kit"), "no client names on the manager page");
    }
);

db_test!(another_clinician_gets_404_and_the_attempt_is_audited, |app| {
    app.staff("clinician", "dr@example.org", Some("Team A")).await;
    let (other_id, _) = app.staff("clinician", "other@example.org", Some("Team A")).await;
    for items in [[10, 10, 10, 9], [10, 9, 10, 10], [9, 10, 10, 10], [6, 7, 7, 7]] {
        answered_session(&app, "dr@example.org", "cy", items).await;
    }
    let client = client_id(&app, "cy").await;
    let other = app.signed_in("other@example.org").await;
    let alert = app
        .db(move |conn| rapport::store::alerts::for_client(conn, client))
        .await
        .remove(0);
    for path in [
        format!("/clinician/clients/{client}"),
        format!("/clinician/alerts/{}", alert.id),
        "/clinician/clients/999999".into(),
        format!("/clients/{client}/details"),
    ] {
        let response = other.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    // Nor can they act on it.
    let html = other
        .get(app.url("/clinician"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Client cy"));
    let csrf = csrf_from(&html);
    let response = other
        .post(app.url(&format!("/clinician/alerts/{}/acknowledge", alert.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let log = app.db(|conn| rapport::store::audit::recent(conn, 50)).await;
    let denied: Vec<_> = log
        .iter()
        .filter(|r| r.action == "access.denied" && r.staff_name.as_deref() == Some("Test other@example.org"))
        .collect();
    assert!(denied.len() >= 3, "every refused attempt is audited: {log:?}");
    assert!(
        denied
            .iter()
            .any(|r| r.detail.as_deref() == Some(&format!("alert.view #{}", alert.id)[..]))
    );
    // A manager's grant lets the team see it.
    app.db(move |conn| rapport::store::staff::set_sees_team(conn, other_id, true))
        .await;
    let response = other
        .get(app.url(&format!("/clinician/clients/{client}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let log = app.db(|conn| rapport::store::audit::recent(conn, 5)).await;
    assert_eq!(log[0].action, "client.view");
    assert_eq!(log[0].client_id, Some(client));
});

db_test!(client_page_shows_trajectory_and_pausing_stops_invitations, |app| {
    app.staff("clinician", "dr@example.org", None).await;
    for items in [[10, 10, 9, 9], [9, 9, 9, 9], [10, 10, 10, 10]] {
        answered_session(&app, "dr@example.org", "di", items).await;
    }
    let client = client_id(&app, "di").await;
    let clinician = app.signed_in("dr@example.org").await;
    let path = format!("/clinician/clients/{client}");
    let html = clinician
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Totals over sessions") && html.contains("<svg"));
    assert!(html.contains("The figures as a table"));
    assert!(html.contains("Answers by question"));
    assert!(html.contains("100%"), "response rate");
    let csrf = csrf_from(&html);
    let no_reason = clinician
        .post(app.url(&format!("{path}/invitations")))
        .form(&[("csrf", csrf.as_str()), ("choice", "paused"), ("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_reason.status(), 400);
    let paused = clinician
        .post(app.url(&format!("{path}/invitations")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("choice", "paused"),
            ("reason", "In hospital for two weeks"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 303);
    // A new attended session creates no invitation while paused.
    let now = app.clock_now();
    let settings = app.state.settings.clone();
    let sealer = app.state.sealer.clone();
    let invited = app
        .db(move |conn| {
            use rapport::domain::appointment::{AppointmentIn, AppointmentStatus, ClientDetails};
            let rules = rapport::store::invitations::delivery_rules(conn, &settings)?;
            let mailing = rapport::store::invitations::Mailing {
                sealer: &sealer,
                message_domain: "t",
                clinic_tz: chrono_tz::UTC,
                default_language: "en",
            };
            let input = AppointmentIn {
                source: "test".into(),
                external_id: "paused-1".into(),
                clinician_email: "dr@example.org".into(),
                client: ClientDetails {
                    external_id: "di".into(),
                    name: "Client di".into(),
                    email: Some("di@example.net".into()),
                    language: None,
                    time_zone: None,
                },
                starts_at: now - chrono::Duration::minutes(50),
                ends_at: now,
                status: AppointmentStatus::Attended,
            };
            let r = conn
                .write_transaction(|conn| rapport::store::intake::record(conn, &input, &rules, &mailing, now))
                .unwrap();
            Ok(r.invitation.is_some())
        })
        .await;
    assert!(!invited);
    let html = clinician
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("In hospital for two weeks"));
});

db_test!(clients_list_shows_figures_and_searches_by_name, |app| {
    app.staff("clinician", "dr@example.org", None).await;
    for items in [[10, 10, 10, 10], [9, 9, 9, 9], [8, 8, 8, 8], [7, 7, 7, 7]] {
        answered_session(&app, "dr@example.org", "eve", items).await;
    }
    answered_session(&app, "dr@example.org", "fay", [10, 10, 10, 10]).await;
    let clinician = app.signed_in("dr@example.org").await;
    let html = clinician
        .get(app.url("/clinician/clients"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Client eve") && html.contains("Client fay"));
    assert!(html.contains("↓ falling"), "eve's trend");
    assert!(html.contains("open"), "open alert badge");
    let html = clinician
        .get(app.url("/clinician/clients?q=fa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Client fay") && !html.contains("Client eve"));
});

db_test!(
    free_text_reaches_managers_and_admins_only_when_the_clinic_allows,
    |app| {
        app.staff("clinician", "dr@example.org", None).await;
        let invitation = crate::common::attended_session(&app, "dr@example.org", "gil").await;
        let token = crate::common::survey_token(&app, invitation).await;
        let words = "I did not feel listened to about my sleep.";
        let response = reqwest::Client::new()
            .post(app.url(&format!("/s/{token}")))
            .form(&[
                ("bond", "6"),
                ("goals", "7"),
                ("approach", "7"),
                ("overall", "7"),
                ("uncomfortable", "yes"),
                ("note", words),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let client = client_id(&app, "gil").await;
        // The clinician reads the words on the alert.
        let clinician = app.signed_in("dr@example.org").await;
        let alert = app
            .db(move |conn| rapport::store::alerts::for_client(conn, client))
            .await
            .remove(0);
        let html = clinician
            .get(app.url(&format!("/clinician/alerts/{}", alert.id)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(words));
        // The admin's record download leaves them out by default…
        let (_, admin) = app.staff("admin", "admin@example.org", None).await;
        let record = admin
            .get(app.url(&format!("/admin/clients/{client}/record.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(record.status(), 200);
        let text = record.text().await.unwrap();
        assert!(!text.contains(words), "free text withheld");
        assert!(text.contains("left out"));
        // The same rule for an integration: the record and the answers.
        let (_, key) = app.api_key(&[rapport::store::api_keys::Scope::Read]).await;
        let over_api = |path: String| {
            let key = key.clone();
            let app = &app;
            async move {
                let response = app.api_get(&key, &path).await;
                assert_eq!(response.status(), 200);
                response.text().await.unwrap()
            }
        };
        let record_path = format!("/api/v1/clients/{client}/record");
        let responses_path = format!("/api/v1/clients/{client}/responses");
        let api_record = over_api(record_path.clone()).await;
        assert!(
            !api_record.contains(words) && api_record.contains("left out"),
            "{api_record}"
        );
        assert!(!over_api(responses_path.clone()).await.contains(words));
        // …until the clinic allows it.
        let set = app
            .post_form(&admin, "/admin/privacy", "/admin/privacy/free-text", &[("allow", "on")])
            .await;
        assert_eq!(set.status(), 303);
        let (_, text) = app
            .get_html(&admin, &format!("/admin/clients/{client}/record.json"))
            .await;
        assert!(text.contains(words));
        assert!(over_api(record_path).await.contains(words));
        assert!(over_api(responses_path).await.contains(words));
        // Clinicians cannot change the setting.
        let refused = app
            .post_form(
                &clinician,
                "/clinician",
                "/admin/privacy/free-text",
                &[("allow", "off")],
            )
            .await;
        assert_eq!(refused.status(), 403);
    }
);

// Measured recovery in the stored alert follows CLINICAL.md §3: set at the
// rebound of a V, cleared again by a later fall; and after a change of the
// rules' version the job loop brings every stored alert up to date.
db_test!(measured_recovery_is_set_cleared_and_brought_up_to_date, |app| {
    use diesel::prelude::*;
    use rapport::store::schema::alerts;
    app.staff("clinician", "clinician@example.org", None).await;
    for items in [[10, 9, 9, 10], [10, 10, 10, 9], [10, 9, 9, 10], [8, 8, 7, 7]] {
        crate::common::answered_session(&app, "clinician@example.org", "v1", items).await;
    }
    let recovered = || {
        app.db(|conn| {
            Ok(alerts::table
                .select(alerts::recovered_at_session)
                .order(alerts::id)
                .first::<Option<i32>>(conn)?)
        })
    };
    assert_eq!(recovered().await, None, "the lowest point is not a recovery");
    crate::common::answered_session(&app, "clinician@example.org", "v1", [10, 9, 9, 9]).await;
    assert_eq!(recovered().await, Some(5), "the rebound to 37 is");
    crate::common::answered_session(&app, "clinician@example.org", "v1", [8, 8, 8, 9]).await;
    assert_eq!(recovered().await, None, "a fall to 33 clears it");

    // A stored value from older rules is corrected by the job loop.
    let now = app.clock_now();
    app.db(move |conn| {
        diesel::update(alerts::table)
            .set(alerts::recovered_at_session.eq(Some(4)))
            .execute(conn)?;
        rapport::store::kv::set(conn, "engine.rules_version", "1", now)
    })
    .await;
    app.run_jobs().await;
    assert_eq!(recovered().await, None);
    let version = app
        .db(|conn| rapport::store::kv::get(conn, "engine.rules_version"))
        .await;
    assert_eq!(version.as_deref(), Some(rapport::store::alerts::RULES_VERSION));
});

db_test!(choosing_immediate_alert_emails_sends_the_alerts_waiting_untold, |app| {
    let (dr, _) = app.staff("clinician", "dr@example.org", None).await;
    app.db(move |conn| {
        use rapport::store::staff::{Notify, set_notifications};
        set_notifications(conn, dr, Notify::Off, Notify::Off)
    })
    .await;
    for items in [[10, 10, 9, 9], [10, 9, 10, 9], [9, 10, 10, 9], [6, 7, 6, 7]] {
        answered_session(&app, "dr@example.org", "ola", items).await;
    }
    let notices = || {
        app.db(move |conn| {
            use diesel::prelude::*;
            use rapport::store::schema::outbox;
            Ok(outbox::table
                .filter(outbox::kind.eq("alert_notice"))
                .filter(outbox::staff_id.eq(dr))
                .count()
                .get_result::<i64>(conn)?)
        })
    };
    assert_eq!(notices().await, 0, "emails off: the alert opened untold");
    let clinician = app.signed_in("dr@example.org").await;
    let saved = app
        .post_form(
            &clinician,
            "/clinician/settings",
            "/clinician/settings",
            &[("notify_high", "immediate"), ("notify_other", "immediate")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(notices().await, 1, "the waiting alert, told at once");
    // Saving again tells nothing twice.
    app.post_form(
        &clinician,
        "/clinician/settings",
        "/clinician/settings",
        &[("notify_high", "immediate"), ("notify_other", "immediate")],
    )
    .await;
    assert_eq!(notices().await, 1);
});
