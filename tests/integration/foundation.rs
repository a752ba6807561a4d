//! The foundation as a user meets it: health checks, sign-in, roles,
//! CSRF, rate limiting and least privilege — on SQLite and PostgreSQL.

use crate::common::{PASSWORD, csrf_from};

db_test!(health_and_readiness, |app| {
    let http = reqwest::Client::new();
    let health = http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
});

db_test!(each_role_lands_on_its_page, |app| {
    let (_, clinician) = app.staff("clinician", "cli@example.org", Some("Neuro")).await;
    let (_, manager) = app.staff("manager", "man@example.org", None).await;
    let (_, admin) = app.staff("admin", "adm@example.org", None).await;
    for (browser, home, heading) in [
        (&clinician, "/clinician", "Alerts"),
        (&manager, "/manager", "Service overview"),
        (&admin, "/admin", "Staff"),
    ] {
        let root = browser.get(app.url("/")).send().await.unwrap();
        assert_eq!(root.status(), 303);
        assert_eq!(root.headers()["location"], home);
        let page = browser.get(app.url(home)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("<h1>{heading}</h1>")), "{home} shows {heading}");
    }
    // The admin page lists staff and offers the form to add staff.
    let html = admin.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("cli@example.org") && html.contains("Add a member of staff"));
    // The manager sees the team with its clinician.
    let html = manager
        .get(app.url("/manager"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Neuro"));
});

db_test!(session_cookie_is_protected, |app| {
    app.staff("clinician", "c@example.org", None).await;
    let response = app.sign_in(&app.browser(), "c@example.org", PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("rapport_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain http base URL: no Secure flag");
    assert!(!cookie.contains("c@example.org"), "the cookie is encrypted");
});

db_test!(wrong_password_is_refused_and_sixth_failure_is_blocked, |app| {
    app.staff("clinician", "c@example.org", None).await;
    let browser = app.browser();
    for attempt in 1..=5 {
        let response = app.sign_in(&browser, "c@example.org", "wrong password").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
        let html = response.text().await.unwrap();
        assert!(html.contains("do not match"), "a clear message");
    }
    let sixth = app.sign_in(&browser, "c@example.org", "wrong password").await;
    assert_eq!(sixth.status(), 429);
    assert!(sixth.text().await.unwrap().contains("Too many failed attempts"));
    // Even the right password waits until the window has passed…
    assert_eq!(app.sign_in(&browser, "c@example.org", PASSWORD).await.status(), 429);
    // …from that address: the colleague at their own machine is not locked out.
    let colleague = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    assert_eq!(app.sign_in(&colleague, "c@example.org", PASSWORD).await.status(), 303);
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(app.sign_in(&browser, "c@example.org", PASSWORD).await.status(), 303);
});

db_test!(role_guard_and_sign_out, |app| {
    let (_, clinician) = app.staff("clinician", "c@example.org", None).await;
    let anonymous = app.browser();
    let response = anonymous.get(app.url("/clinician")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/sign-in");
    for path in ["/admin", "/manager", "/admin/audit"] {
        let response = clinician.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }
    let html = clinician
        .get(app.url("/clinician"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_from(&html);
    let out = clinician
        .post(app.url("/sign-out"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = clinician.get(app.url("/clinician")).send().await.unwrap();
    assert_eq!(after.status(), 303, "signed out");
});

db_test!(admin_adds_staff_with_csrf_protection, |app| {
    let (_, admin) = app.staff("admin", "a@example.org", None).await;
    let form = [
        ("name", "Dr New Person"),
        ("email", "new@example.org"),
        ("role", "clinician"),
        ("team", "Rehab"),
        ("password", "another long password"),
    ];
    // Without the token: refused, nothing created.
    let response = admin.post(app.url("/admin/staff")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let html = admin.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("new@example.org"));
    // With it: created, and the new person can sign in.
    let csrf = csrf_from(&html);
    let mut with_token = form.to_vec();
    with_token.push(("csrf", &csrf));
    let response = admin
        .post(app.url("/admin/staff"))
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let html = admin.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("new@example.org") && html.contains("Rehab"));
    let fresh = app.browser();
    assert_eq!(
        app.sign_in(&fresh, "new@example.org", "another long password")
            .await
            .status(),
        303
    );
    // A duplicate email and a bad email get clear messages and a 4xx.
    let response = admin
        .post(app.url("/admin/staff"))
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("already exists"));
    let mut bad = with_token.clone();
    bad[1] = ("email", "not-an-email");
    let response = admin.post(app.url("/admin/staff")).form(&bad).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("valid email"));
});

db_test!(clinician_sees_only_own_clients, |app| {
    let (mine, me) = app.staff("clinician", "me@example.org", Some("A")).await;
    let (theirs, _) = app.staff("clinician", "other@example.org", Some("A")).await;
    let now = app.clock_now();
    app.db(move |conn| {
        use rapport::store::clients::{NewClient, create};
        let new = |clinician_id, name: &str| NewClient {
            clinician_id,
            name: name.into(),
            language: "en".into(),
            ..Default::default()
        };
        create(conn, &new(mine, "Mine Client"), now)?;
        create(conn, &new(theirs, "Theirs Client"), now)
    })
    .await;
    let html = me
        .get(app.url("/clinician/clients"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Mine Client"));
    assert!(!html.contains("Theirs Client"));
});

db_test!(unknown_pages_and_bad_forms_are_4xx, |app| {
    let http = app.browser();
    let response = http.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
    let response = http.post(app.url("/sign-in")).body("garbage").send().await.unwrap();
    assert_eq!(response.status(), 400);
    let response = http.get(app.url("/static/rapport.css")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
});

db_test!(demo_clinic_loads_once, |app| {
    let now = app.clock_now();
    let (settings, sealer) = (app.state.settings.clone(), app.state.sealer.clone());
    let summary = app
        .db(move |conn| {
            let mailing = rapport::store::invitations::Mailing {
                sealer: &sealer,
                message_domain: "t",
                clinic_tz: chrono_tz::UTC,
                default_language: "en",
            };
            conn.write_transaction(|conn| rapport::demo::load(conn, now, &settings, &mailing))
        })
        .await;
    assert_eq!(summary.staff, 8);
    assert_eq!(summary.clients, 120);
    assert!(summary.appointments > 120 * 4);
    assert!(
        summary.alerts >= 6 * 4,
        "each clinician has several alerts: {}",
        summary.alerts
    );
    let (settings, sealer) = (app.state.settings.clone(), app.state.sealer.clone());
    let again = app
        .db(move |conn| {
            let mailing = rapport::store::invitations::Mailing {
                sealer: &sealer,
                message_domain: "t",
                clinic_tz: chrono_tz::UTC,
                default_language: "en",
            };
            Ok(rapport::demo::load(conn, now, &settings, &mailing).is_err())
        })
        .await;
    assert!(again, "the demo never loads over existing data");
    let browser = app.browser();
    let response = app
        .sign_in(&browser, "clinician1@demo.rapport.test", rapport::demo::DEMO_PASSWORD)
        .await;
    assert_eq!(response.status(), 303);
    let html = browser
        .get(app.url("/clinician/clients"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        html.matches("href=\"/clinician/clients/").count(),
        20,
        "the clinician's 20 clients"
    );
    let html = browser
        .get(app.url("/clinician"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Upcoming appointments"));
});

/// Behind a reverse proxy (RAPPORT_TRUST_PROXY=on) the sign-in limit
/// counts per client address from X-Forwarded-For, not per proxy.
async fn sign_in_limits_behind_a_proxy(backend: crate::common::Backend) {
    let options = crate::common::Options {
        extra: vec![("TRUST_PROXY", "on".to_string())],
    };
    let Some(app) = crate::common::spawn_app_with(backend, options).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "c@example.org", None).await;
    let attempt = |from: &'static str, password: &'static str| {
        app.browser()
            .post(app.url("/sign-in"))
            .header("X-Forwarded-For", from)
            .form(&[("email", "c@example.org"), ("password", password)])
            .send()
    };
    for _ in 0..5 {
        assert_eq!(attempt("203.0.113.7", "wrong password").await.unwrap().status(), 401);
    }
    assert_eq!(attempt("203.0.113.7", "wrong password").await.unwrap().status(), 429);
    assert_eq!(attempt("198.51.100.20", PASSWORD).await.unwrap().status(), 303);
}
on_both_backends!(sign_in_limits_behind_a_proxy, sign_in_limits_behind_a_proxy);

/// States are typed: a staff row whose role the server does not know (a
/// hand-edited or corrupt database) is an error naming the value, and its
/// owner cannot sign in — never read as a clinician, as it once was.
async fn an_unknown_role_is_an_error_not_a_clinician(backend: crate::common::Backend) {
    let Some(app) = crate::common::spawn_app(backend).await else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "c@example.org", None).await;
    // The schema's CHECK refuses such a value; a hand edit gets past it.
    app.db(|conn| {
        use diesel::RunQueryDsl;
        let bypass = match conn.kind() {
            rapport::store::DbKind::Sqlite => "PRAGMA ignore_check_constraints = ON",
            rapport::store::DbKind::Postgres => "ALTER TABLE staff DROP CONSTRAINT staff_role_check",
        };
        diesel::sql_query(bypass).execute(conn)?;
        diesel::sql_query("UPDATE staff SET role = 'superuser' WHERE email = 'c@example.org'").execute(conn)?;
        if conn.kind() == rapport::store::DbKind::Sqlite {
            diesel::sql_query("PRAGMA ignore_check_constraints = OFF").execute(conn)?;
        }
        Ok(())
    })
    .await;
    let found = app
        .db(|conn| Ok(rapport::store::staff::find_by_email(conn, "c@example.org").map(|s| s.is_some())))
        .await;
    let error = found.expect_err("an unknown role must not load");
    assert!(
        matches!(error, rapport::store::StoreError::Corrupt(_)),
        "stored data that cannot be read is corrupt, not a query error: {error:?}"
    );
    let error = error.to_string();
    assert!(error.contains("unknown staff role \"superuser\""), "{error}");
    let signed_in = app
        .browser()
        .post(app.url("/sign-in"))
        .form(&[("email", "c@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_ne!(signed_in.status(), 303, "no session for an unknown role");
    assert!(!signed_in.status().is_success());
}
on_both_backends!(
    an_unknown_role_is_an_error_not_a_clinician,
    an_unknown_role_is_an_error_not_a_clinician
);
