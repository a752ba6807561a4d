//! The integration API as a practice system and an integration meet it:
//! the whole walk from a new client to an acknowledged alert with signed
//! webhooks, scopes, unknown ids, the OpenAPI document and FHIR resources —
//! on SQLite and PostgreSQL.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::smtp::SmtpServer;
use crate::common::{Backend, Options, TestApp, spawn_app, spawn_app_with};
use chrono::Duration;
use hmac::{Hmac, Mac};
use mail_parser::MessageParser;
use rapport::store::api_keys::Scope;
use serde_json::{Value, json};
use sha2::Sha256;

// ---------- helpers ----------

async fn read_write_key(app: &TestApp) -> String {
    app.api_key(&[Scope::Read, Scope::Write]).await.1
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"))
}

fn appointment(external_id: &str, client: &str, end: chrono::NaiveDateTime, status: &str) -> Value {
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

/// Answers of the shipped alliance instrument adding up to `total` (items 0–10).
fn answers(total: u32) -> Vec<(&'static str, String)> {
    let items = ["bond", "goals", "approach", "overall"];
    let mut values = vec![];
    for (i, item) in items.iter().enumerate() {
        let share = total / 4 + u32::from((i as u32) < total % 4);
        values.push((*item, share.to_string()));
    }
    values.push(("uncomfortable", "no".into()));
    values.push(("note", "It felt a bit rushed".into()));
    values
}

async fn submit(app: &TestApp, survey_path: &str, total: u32) {
    let response = reqwest::Client::new()
        .post(app.url(survey_path))
        .form(&answers(total))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Thank you"));
}

/// The survey link of an invitation, read from its queued email (sealed in
/// the outbox) as the dispatcher would.
async fn survey_path_from_outbox(app: &TestApp, invitation_id: i64) -> String {
    use diesel::prelude::*;
    use rapport::store::outbox::Payload;
    use rapport::store::schema::outbox;
    let sealed: String = app
        .db(move |conn| {
            Ok(outbox::table
                .filter(outbox::invitation_id.eq(invitation_id))
                .filter(outbox::kind.eq("invitation"))
                .select(outbox::payload)
                .first(conn)?)
        })
        .await;
    match serde_json::from_str(&app.state.sealer.open(&sealed).unwrap()).unwrap() {
        Payload::Survey { survey_token, .. } => format!("/s/{survey_token}"),
        other => panic!("not a survey email: {other:?}"),
    }
}

/// Records an attended session ending now, lets the questionnaire go out
/// and answers it with `total`. Returns (client id, invitation id, link).
async fn answered_session(app: &TestApp, key: &str, external_id: &str, client: &str, total: u32) -> (i64, i64, String) {
    let recorded = json_of(
        app.api_post(
            key,
            "/api/v1/appointments",
            &appointment(external_id, client, app.clock_now(), "attended"),
        )
        .await,
        201,
    )
    .await;
    let invitation_id = recorded["invitation"]["id"].as_i64().unwrap();
    // Read before sending: a sent email's sealed copy is dropped.
    let survey_path = survey_path_from_outbox(app, invitation_id).await;
    app.clock.advance(Duration::minutes(61));
    app.run_jobs().await;
    submit(app, &survey_path, total).await;
    (recorded["client_id"].as_i64().unwrap(), invitation_id, survey_path)
}

/// The survey path in a received message's text part.
fn survey_link(raw: &[u8]) -> String {
    let message = MessageParser::default().parse(raw).unwrap();
    let text = message.body_text(0).unwrap().to_string();
    let start = text.find("/s/").unwrap_or_else(|| panic!("a survey link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

fn assert_problem(body: &Value, status: u16) {
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], "about:blank");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
}

async fn expect_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_problem(&body, status);
    body
}

// ---------- a webhook receiver ----------

#[derive(Debug, Clone)]
struct Received {
    event: String,
    delivery: String,
    signature: String,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    /// Answer this many requests with 503 before accepting.
    fail_next: Arc<AtomicUsize>,
    /// The status to answer with once failures are used up.
    status: Arc<Mutex<u16>>,
    attempts: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        let receiver = Receiver {
            status: Arc::new(Mutex::new(204)),
            ..Default::default()
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://127.0.0.1:{}/hooks/rapport",
            listener.local_addr().unwrap().port()
        );
        let shared = receiver.clone();
        let server = HttpServer::new(move || {
            let shared = shared.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let shared = shared.clone();
                async move {
                    shared.attempts.fetch_add(1, Ordering::SeqCst);
                    if shared
                        .fail_next
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        return HttpResponse::ServiceUnavailable().finish();
                    }
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    shared.received.lock().unwrap().push(Received {
                        event: header("Rapport-Event"),
                        delivery: header("Rapport-Delivery"),
                        signature: header("Rapport-Signature"),
                        body: String::from_utf8_lossy(&body).to_string(),
                    });
                    let status = *shared.status.lock().unwrap();
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        (receiver, url)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Checks `Rapport-Signature: t=…,v1=…` as a receiver would.
fn signature_valid(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_string()),
            Some(("v1", value)) => v1 = Some(value.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let Ok(given) = hex::decode(v1) else { return false };
    mac.verify_slice(&given).is_ok()
}

/// Registers an endpoint through the admin page, returning its secret.
async fn add_endpoint_as_admin(app: &TestApp, admin: &reqwest::Client, url: &str) -> String {
    let page = admin
        .get(app.url("/admin/webhooks"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::common::csrf_from(&page);
    let form = [
        ("csrf", csrf.as_str()),
        ("url", url),
        ("alert_opened", "on"),
        ("alert_changed", "on"),
        ("response_received", "on"),
    ];
    // The test's receiver is on this machine: refused until the clinic
    // allows receivers on private networks.
    let response = admin.post(app.url("/admin/webhooks")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("allow private networks"));
    let allowed = admin
        .post(app.url("/admin/webhooks/private-networks"))
        .form(&[("csrf", csrf.as_str()), ("allow", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 303);
    let response = admin.post(app.url("/admin/webhooks")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let start = html.find("whsec_").expect("the secret is shown once");
    html[start..].split('<').next().unwrap().to_string()
}

// ---------- the whole walk ----------

async fn integration_walk(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let Some(app) = spawn_app_with(
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
    else {
        return crate::common::skipped(backend);
    };
    app.staff("clinician", "clinician@example.org", Some("North")).await;
    let (_, admin) = app.staff("admin", "admin@example.org", None).await;
    let (key_id, key) = app.api_key(&[Scope::Read, Scope::Write]).await;
    let (receiver, hook_url) = Receiver::start().await;
    let secret = add_endpoint_as_admin(&app, &admin, &hook_url).await;
    // The first delivery attempt meets a 503 and is retried.
    receiver.fail_next.store(1, Ordering::SeqCst);

    // A client, created by the practice system.
    let client_body = json!({
        "source": "pms", "external_id": "walk-1", "clinician_email": "clinician@example.org",
        "name": "Robin Walker", "email": "robin@example.net", "time_zone": "Europe/London"
    });
    let created = json_of(app.api_post(&key, "/api/v1/clients", &client_body).await, 201).await;
    assert_eq!(created["outcome"], "created");
    let client_id = created["client"]["id"].as_i64().unwrap();
    // Idempotent on (source, external id).
    let again = json_of(app.api_post(&key, "/api/v1/clients", &client_body).await, 200).await;
    assert_eq!(
        (again["outcome"].as_str(), again["client"]["id"].as_i64()),
        (Some("unchanged"), Some(client_id))
    );

    let mut totals = vec![];
    for (session, total) in [(1, 38), (2, 30)] {
        // An attended appointment, reported as it ends.
        let body = json!({
            "source": "pms", "external_id": format!("walk-appt-{session}"), "clinician_email": "clinician@example.org",
            "client": {"external_id": "walk-1", "name": "Robin Walker", "email": "robin@example.net"},
            "start": (app.clock_now() - Duration::minutes(50)).and_utc().to_rfc3339(),
            "end": app.clock_now().and_utc().to_rfc3339(),
            "status": "attended",
        });
        let recorded = json_of(app.api_post(&key, "/api/v1/appointments", &body).await, 201).await;
        assert_eq!(recorded["client_id"], client_id);
        let appointment_id = recorded["appointment_id"].as_i64().unwrap();
        let invitation_id = recorded["invitation"]["id"].as_i64().unwrap();
        let invitation = json_of(
            app.api_get(&key, &format!("/api/v1/invitations/{invitation_id}")).await,
            200,
        )
        .await;
        assert_eq!(invitation["status"], "scheduled");

        // Time passes; the questionnaire goes out.
        app.clock.advance(Duration::minutes(61));
        app.run_jobs().await;
        let invitation = json_of(
            app.api_get(&key, &format!("/api/v1/invitations/{invitation_id}")).await,
            200,
        )
        .await;
        assert_eq!(invitation["status"], "sent");
        assert!(invitation["sent_at"].is_string());
        let read = json_of(
            app.api_get(&key, &format!("/api/v1/appointments/{appointment_id}"))
                .await,
            200,
        )
        .await;
        assert_eq!(read["invitation"]["status"], "sent");

        // The client answers through the emailed link.
        let mail = smtp
            .received()
            .into_iter()
            .rfind(|m| m.to == vec!["robin@example.net".to_string()])
            .unwrap();
        submit(&app, &survey_link(&mail.data), total).await;
        let invitation = json_of(
            app.api_get(&key, &format!("/api/v1/invitations/{invitation_id}")).await,
            200,
        )
        .await;
        assert_eq!(invitation["status"], "answered");
        assert!(invitation["response_id"].is_i64());
        totals.push(total as f64);
        app.run_jobs().await;
        app.clock.advance(Duration::days(7));
    }

    // The scores.
    let scores = json_of(
        app.api_get(&key, &format!("/api/v1/clients/{client_id}/responses"))
            .await,
        200,
    )
    .await;
    let got: Vec<f64> = scores["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["total"].as_f64().unwrap())
        .collect();
    assert_eq!(got, totals);
    assert_eq!(scores["responses"][0]["common_score"], 95.0);
    assert_eq!(scores["responses"][1]["answers"]["bond"], 8.0);

    // The fall from 38 to 30 opened an alert.
    let alerts = json_of(
        app.api_get(&key, &format!("/api/v1/alerts?client={client_id}&status=open"))
            .await,
        200,
    )
    .await;
    let list = alerts["alerts"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{alerts}");
    let alert_id = list[0]["id"].as_i64().unwrap();
    let alert = json_of(app.api_get(&key, &format!("/api/v1/alerts/{alert_id}")).await, 200).await;
    assert_eq!(alert["status"], "open");
    let rules: Vec<&str> = alert["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"low_score") && rules.contains(&"drop_from_last"),
        "{rules:?}"
    );
    assert!(
        alert["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["explanation"].as_str().unwrap().contains("30"))
    );

    // Acknowledged by the integration: logged with no member of staff, audited with the key.
    let acked = json_of(
        app.api_post(&key, &format!("/api/v1/alerts/{alert_id}/acknowledge"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(acked["status"], "acknowledged");
    let step = acked["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "acknowledged")
        .unwrap()
        .clone();
    assert!(step["staff_id"].is_null());
    // Again: nothing new is logged.
    let again = json_of(
        app.api_post(&key, &format!("/api/v1/alerts/{alert_id}/acknowledge"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(
        again["events"].as_array().unwrap().len(),
        acked["events"].as_array().unwrap().len()
    );
    let audit = app.db(|conn| rapport::store::audit::recent(conn, 500)).await;
    let acknowledged: Vec<_> = audit.iter().filter(|a| a.action == "alert.acknowledge").collect();
    assert_eq!(acknowledged.len(), 1);
    assert_eq!(acknowledged[0].alert_id, Some(rapport::store::AlertId(alert_id)));
    let record = json_of(
        app.api_get(&key, &format!("/api/v1/clients/{client_id}/record")).await,
        200,
    )
    .await;
    let api_entries: Vec<&Value> = record["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["api_key_id"] == key_id)
        .collect();
    for action in [
        "api.alert.read",
        "api.responses.read",
        "alert.acknowledge",
        "client.record.export",
        "api.invitation.read",
    ] {
        assert!(
            api_entries.iter().any(|a| a["action"] == action),
            "audit has {action}: {api_entries:?}"
        );
    }

    // Webhooks: every event arrives signed, the failed first attempt is retried.
    for _ in 0..4 {
        app.clock.advance(Duration::minutes(10));
        app.run_jobs().await;
    }
    let received = receiver.received();
    let kinds: Vec<&str> = received.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "response.received").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|k| **k == "alert.opened").count(), 1, "{kinds:?}");
    assert!(kinds.contains(&"alert.changed"), "{kinds:?}");
    assert!(
        receiver.attempts.load(Ordering::SeqCst) > received.len(),
        "the 503 was retried"
    );
    let mut deliveries = std::collections::BTreeSet::new();
    for r in &received {
        assert!(
            signature_valid(&secret, &r.signature, &r.body),
            "signature of {} verifies",
            r.event
        );
        assert!(!signature_valid("whsec_wrong", &r.signature, &r.body));
        assert!(deliveries.insert(r.delivery.clone()), "no event delivered twice");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["type"], r.event.as_str());
        assert!(body["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(body["data"]["client_id"], client_id);
        for private in ["Robin", "Walker", "robin@example.net", "rushed"] {
            assert!(!r.body.contains(private), "no {private} in {}", r.body);
        }
    }
    let opened: Value =
        serde_json::from_str(&received.iter().find(|r| r.event == "alert.opened").unwrap().body).unwrap();
    assert_eq!(opened["data"]["alert_id"], alert_id);
    assert!(
        opened["data"]["rules"]
            .as_array()
            .unwrap()
            .contains(&json!("low_score"))
    );
    let changed: Value =
        serde_json::from_str(&received.iter().find(|r| r.event == "alert.changed").unwrap().body).unwrap();
    assert_eq!(
        (changed["data"]["change"].as_str(), changed["data"]["status"].as_str()),
        (Some("acknowledged"), Some("acknowledged"))
    );
    let response_event: Value =
        serde_json::from_str(&received.iter().find(|r| r.event == "response.received").unwrap().body).unwrap();
    assert_eq!(response_event["data"]["total"], 38.0);

    // Nothing more to send.
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.run_jobs().await.mail.total(), 0);
}
on_both_backends!(the_whole_integration_walk, integration_walk);

// ---------- webhooks that fail for good, or are disabled ----------

db_test!(
    webhook_4xx_fails_without_retry_and_disabled_endpoints_get_nothing,
    |app| {
        app.staff("clinician", "clinician@example.org", None).await;
        let key = read_write_key(&app).await;
        let (receiver, hook_url) = Receiver::start().await;
        *receiver.status.lock().unwrap() = 410;
        let (gone, sealer) = (hook_url.clone(), app.state.sealer.clone());
        let now = app.clock_now();
        let events = vec![rapport::store::webhooks::EventType::ResponseReceived];
        app.db(move |conn| {
            rapport::store::kv::set_flag(conn, rapport::store::webhooks::ALLOW_PRIVATE_NETWORKS, true, now)?;
            rapport::store::webhooks::create(conn, &gone, &events, &sealer, now)
        })
        .await;
        answered_session(&app, &key, "W-1", "w1", 36).await;
        let pass = app.run_jobs().await;
        assert_eq!(pass.mail.failed, 1, "410 Gone stops the delivery");
        app.clock.advance(Duration::hours(6));
        assert_eq!(app.run_jobs().await.mail.total(), 0, "not retried");
        assert_eq!(receiver.received().len(), 1);
        let failed = app
            .db(|conn| rapport::store::webhooks::recent_deliveries(conn, 10))
            .await;
        assert_eq!(failed[0].status, "failed");
        assert!(
            failed[0].last_error.as_deref().unwrap().contains("410 Gone"),
            "{:?}",
            failed[0].last_error
        );

        // Disabled: an event already queued is cancelled, later ones are not queued.
        *receiver.status.lock().unwrap() = 204;
        app.clock.advance(Duration::days(7));
        answered_session(&app, &key, "W-2", "w1", 36).await;
        let first_delivery = failed[0].id;
        let now = app.clock_now();
        let endpoint = app.db(rapport::store::webhooks::list).await[0].id;
        assert!(
            app.db(move |conn| rapport::store::webhooks::disable(conn, endpoint, now))
                .await
        );
        let pass = app.run_jobs().await;
        assert_eq!(pass.mail.cancelled, 1);
        app.clock.advance(Duration::days(7));
        answered_session(&app, &key, "W-3", "w1", 36).await;
        app.run_jobs().await;
        assert_eq!(receiver.received().len(), 1, "nothing reaches a disabled endpoint");
        let deliveries = app
            .db(|conn| rapport::store::webhooks::recent_deliveries(conn, 10))
            .await;
        assert_eq!(deliveries.len(), 2);
        assert_eq!(deliveries[0].status, "cancelled");
        assert_eq!(deliveries[1].id, first_delivery);
        // Admins see the failed delivery on the webhook deliveries page (not among email
        // problems), with the answer and a Retry that comes back there.
        let (_, admin) = app.staff("admin", "admin@example.org", None).await;
        let summary = crate::common::page_text(&admin, app.url("/admin/webhooks")).await;
        assert!(summary.contains("1 failed"), "{summary}");
        let page = crate::common::page_text(&admin, app.url("/admin/webhooks/deliveries")).await;
        assert!(page.contains("<span class=\"badge high\">failed</span>") && page.contains("410 Gone"));
        let retried = admin
            .post(app.url(&format!("/admin/email/{}/retry", failed[0].id)))
            .form(&[("csrf", crate::common::csrf_from(&page))])
            .send()
            .await
            .unwrap();
        assert_eq!(retried.status(), 303);
        assert!(
            retried.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/admin/webhooks/deliveries")
        );
        let email_page = crate::common::page_text(&admin, app.url("/admin/email")).await;
        assert!(
            !email_page.contains("410 Gone"),
            "webhook deliveries are not email problems"
        );
    }
);

// ---------- scopes, unknown ids, bad input ----------

db_test!(scopes_are_enforced_with_problem_json, |app| {
    app.staff("clinician", "clinician@example.org", None).await;
    let (_, read_only) = app.api_key(&[Scope::Read]).await;
    let (_, write_only) = app.api_key(&[Scope::Write]).await;
    let body = appointment("S-1", "s1", app.clock_now(), "attended");
    let refused = expect_problem(app.api_post(&read_only, "/api/v1/appointments", &body).await, 403).await;
    assert!(refused["detail"].as_str().unwrap().contains("\"write\" scope"));
    expect_problem(app.api_post(&read_only, "/api/v1/clients", &json!({})).await, 403).await;
    let created = json_of(app.api_post(&write_only, "/api/v1/appointments", &body).await, 201).await;
    let client_id = created["client_id"].as_i64().unwrap();
    for path in [
        "/api/v1/clients".to_string(),
        format!("/api/v1/clients/{client_id}"),
        format!("/api/v1/clients/{client_id}/record"),
        "/api/v1/alerts".to_string(),
        "/api/v1/appointments".to_string(),
        format!("/api/v1/fhir/QuestionnaireResponse?subject={client_id}"),
    ] {
        let refused = expect_problem(app.api_get(&write_only, &path).await, 403).await;
        assert!(refused["detail"].as_str().unwrap().contains("\"read\" scope"), "{path}");
    }
    expect_problem(
        app.api_post(&read_only, &format!("/api/v1/clients/{client_id}/opt-out"), &json!({}))
            .await,
        403,
    )
    .await;
    // No key, or a revoked one.
    let anonymous = reqwest::Client::new()
        .get(app.url("/api/v1/clients"))
        .send()
        .await
        .unwrap();
    expect_problem(anonymous, 401).await;
    let (revoked_id, revoked) = app.api_key(&[Scope::Read]).await;
    let now = app.clock_now();
    app.db(move |conn| rapport::store::api_keys::revoke(conn, revoked_id, now))
        .await;
    expect_problem(app.api_get(&revoked, "/api/v1/clients").await, 401).await;
    // Reading with the read key works.
    let page = json_of(
        app.api_get(&read_only, "/api/v1/clients?source=pms&external_id=s1")
            .await,
        200,
    )
    .await;
    assert_eq!(page["clients"][0]["id"], client_id);
});

db_test!(unknown_ids_and_bad_queries_are_problem_json, |app| {
    let key = read_write_key(&app).await;
    for path in [
        "/api/v1/appointments/999",
        "/api/v1/invitations/999",
        "/api/v1/clients/999",
        "/api/v1/clients/999/responses",
        "/api/v1/clients/999/record",
        "/api/v1/alerts/999",
        "/api/v1/fhir/Questionnaire/999",
        "/api/v1/fhir/QuestionnaireResponse/999",
        "/api/v1/fhir/QuestionnaireResponse?subject=Patient/999",
        "/api/v1/clients/not-a-number",
        "/api/v1/no-such-thing",
        "/api/no-such-thing",
    ] {
        let body = expect_problem(app.api_get(&key, path).await, 404).await;
        assert!(
            body["detail"].as_str().unwrap().contains("nothing at this address"),
            "{path}: {body}"
        );
    }
    for path in ["/api/v1/alerts/999/acknowledge", "/api/v1/clients/999/opt-out"] {
        expect_problem(app.api_post(&key, path, &json!({})).await, 404).await;
    }
    for (path, expect) in [
        ("/api/v1/appointments?since=yesterday", "RFC 3339"),
        ("/api/v1/appointments?limit=0", "limit"),
        ("/api/v1/appointments?client=abc", "not valid"),
        ("/api/v1/alerts?status=sleeping", "sleeping"),
        ("/api/v1/clients?colour=blue", "not valid"),
        ("/api/v1/fhir/QuestionnaireResponse", "subject"),
        ("/api/v1/fhir/QuestionnaireResponse?subject=Group/1", "Group/1"),
    ] {
        let body = expect_problem(app.api_get(&key, path).await, 400).await;
        assert!(body["detail"].as_str().unwrap().contains(expect), "{path}: {body}");
    }
    let bad_client = json!({"source": "pms", "external_id": "x", "clinician_email": "nobody@example.org", "name": "X"});
    let body = expect_problem(app.api_post(&key, "/api/v1/clients", &bad_client).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("no active clinician"));
    // One rule for addresses everywhere: the staff form's (a dot in the
    // domain) holds for clients over the API too.
    for email in ["nope", "sam@localhost"] {
        let bad_email = json!({"source": "pms", "external_id": "x", "clinician_email": "c@example.org", "name": "X", "email": email});
        let body = expect_problem(app.api_post(&key, "/api/v1/clients", &bad_email).await, 400).await;
        assert!(
            body["detail"].as_str().unwrap().contains("not a valid email"),
            "{email}: {body}"
        );
    }
    assert_eq!(
        app.db(rapport::store::clients::count).await,
        0,
        "nothing stored from bad requests"
    );
});

db_test!(lists_page_by_id_and_opt_out_cancels_questionnaires, |app| {
    app.staff("clinician", "clinician@example.org", None).await;
    let key = read_write_key(&app).await;
    let now = app.clock_now();
    for n in 1..=3 {
        json_of(
            app.api_post(
                &key,
                "/api/v1/appointments",
                &appointment(&format!("P-{n}"), "p1", now - Duration::days(3 - n), "attended"),
            )
            .await,
            201,
        )
        .await;
    }
    let first = json_of(app.api_get(&key, "/api/v1/appointments?limit=2").await, 200).await;
    assert_eq!(first["appointments"].as_array().unwrap().len(), 2);
    let after = first["next_after"].as_i64().unwrap();
    let second = json_of(
        app.api_get(&key, &format!("/api/v1/appointments?limit=2&after={after}"))
            .await,
        200,
    )
    .await;
    assert_eq!(second["appointments"].as_array().unwrap().len(), 1);
    assert!(second["next_after"].is_null());
    let since = (now - Duration::hours(12)).and_utc().to_rfc3339();
    let recent = json_of(
        app.api_get(
            &key,
            &format!("/api/v1/appointments?since={}", since.replace('+', "%2B")),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(recent["appointments"].as_array().unwrap().len(), 1);
    let by_external = json_of(
        app.api_get(&key, "/api/v1/appointments?source=pms&external_id=P-2")
            .await,
        200,
    )
    .await;
    assert_eq!(by_external["appointments"][0]["external_id"], "P-2");
    let client_id = first["appointments"][0]["client_id"].as_i64().unwrap();
    let opted = json_of(
        app.api_post(&key, &format!("/api/v1/clients/{client_id}/opt-out"), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(opted["opted_out"], true);
    let listed = json_of(
        app.api_get(&key, &format!("/api/v1/appointments?client={client_id}"))
            .await,
        200,
    )
    .await;
    for a in listed["appointments"].as_array().unwrap() {
        let status = a["invitation"]["status"].as_str().unwrap_or("none");
        assert!(status == "cancelled" || status == "none", "{a}");
    }
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.run_jobs().await.mail.sent, 0, "no questionnaire after opting out");
});

// ---------- FHIR ----------

/// Structural checks a FHIR validator makes on a QuestionnaireResponse.
fn assert_valid_response(r: &Value) {
    assert_eq!(r["resourceType"], "QuestionnaireResponse");
    assert!(r["id"].is_string());
    assert!(matches!(r["status"].as_str(), Some("completed" | "amended")));
    assert!(
        r["questionnaire"]
            .as_str()
            .unwrap()
            .contains("/api/v1/fhir/Questionnaire/")
    );
    assert!(r["subject"]["reference"].as_str().unwrap().starts_with("Patient/"));
    assert!(chrono::DateTime::parse_from_rfc3339(r["authored"].as_str().unwrap()).is_ok());
    for item in r["item"].as_array().unwrap() {
        assert!(item["linkId"].is_string());
        let answers = item["answer"].as_array().unwrap();
        assert!(!answers.is_empty(), "no empty answer arrays: {item}");
        for a in answers {
            let keys: Vec<&String> = a.as_object().unwrap().keys().collect();
            assert_eq!(keys.len(), 1, "one value[x] per answer: {a}");
            match keys[0].as_str() {
                "valueInteger" => assert!(a["valueInteger"].is_i64(), "{a}"),
                "valueDecimal" => assert!(a["valueDecimal"].is_number(), "{a}"),
                "valueBoolean" => assert!(a["valueBoolean"].is_boolean(), "{a}"),
                "valueString" => assert!(a["valueString"].is_string(), "{a}"),
                "valueCoding" => assert!(a["valueCoding"]["code"].is_string(), "{a}"),
                other => panic!("unexpected {other}"),
            }
        }
    }
}

db_test!(fhir_questionnaire_and_response_bundle, |app| {
    app.staff("clinician", "clinician@example.org", None).await;
    let key = read_write_key(&app).await;
    let (client_id, invitation_id, _) = answered_session(&app, &key, "F-1", "f1", 38).await;
    app.clock.advance(Duration::days(7));
    answered_session(&app, &key, "F-2", "f1", 35).await;
    let invitation = json_of(
        app.api_get(&key, &format!("/api/v1/invitations/{invitation_id}")).await,
        200,
    )
    .await;
    let instrument_id = invitation["instrument_id"].as_i64().unwrap();

    let response = app
        .api_get(&key, &format!("/api/v1/fhir/Questionnaire/{instrument_id}"))
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json")
    );
    let q: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(q["resourceType"], "Questionnaire");
    assert_eq!(q["id"], instrument_id.to_string());
    assert_eq!(q["status"], "active");
    assert_eq!(
        q["url"],
        app.url(&format!("/api/v1/fhir/Questionnaire/{instrument_id}"))
    );
    let items = q["item"].as_array().unwrap();
    let types: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["linkId"].as_str().unwrap(), i["type"].as_str().unwrap()))
        .collect();
    for expected in [
        ("bond", "integer"),
        ("uncomfortable", "boolean"),
        ("note", "text"),
        ("total", "decimal"),
        ("common-score", "decimal"),
    ] {
        assert!(types.contains(&expected), "{expected:?} in {types:?}");
    }
    for item in items {
        assert!(matches!(
            item["type"].as_str(),
            Some("integer" | "decimal" | "boolean" | "choice" | "text")
        ));
    }
    let version = q["version"].as_str().unwrap().to_string();

    let response = app
        .api_get(&key, &format!("/api/v1/fhir/QuestionnaireResponse?subject={client_id}"))
        .await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json")
    );
    let bundle: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(bundle["total"], 2);
    let entries = bundle["entry"].as_array().unwrap();
    for entry in entries {
        assert_eq!(entry["search"]["mode"], "match");
        let r = &entry["resource"];
        assert_valid_response(r);
        assert_eq!(r["subject"]["reference"], format!("Patient/{client_id}"));
        assert_eq!(r["questionnaire"], format!("{}|{version}", q["url"].as_str().unwrap()));
        assert_eq!(r["status"], "completed");
        // The fullUrl resolves to the same resource.
        let path = entry["fullUrl"].as_str().unwrap().replace(&app.address, "");
        let one: Value = serde_json::from_str(&app.api_get(&key, &path).await.text().await.unwrap()).unwrap();
        assert_eq!(&one, r);
    }
    let total = |r: &Value| {
        r["item"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["linkId"] == "total")
            .unwrap()["answer"][0]["valueDecimal"]
            .as_f64()
    };
    let totals: Vec<Option<f64>> = entries.iter().map(|e| total(&e["resource"])).collect();
    assert_eq!(totals, [Some(38.0), Some(35.0)]);
    // "Patient/ID" works as the subject too.
    let same: Value = serde_json::from_str(
        &app.api_get(
            &key,
            &format!("/api/v1/fhir/QuestionnaireResponse?subject=Patient/{client_id}"),
        )
        .await
        .text()
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(same["total"], 2);
    let instruments = json_of(app.api_get(&key, "/api/v1/instruments").await, 200).await;
    assert!(
        instruments
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == instrument_id && i["fhir_questionnaire"] == q["url"])
    );
});

// ---------- the OpenAPI document covers every route ----------

/// Every route pattern the application registers under /api/, read from
/// actix's own resource map: candidate patterns are harvested from the
/// map's Debug output and each is confirmed with `match_pattern`.
async fn registered_api_patterns() -> Vec<String> {
    use actix_web::{App, HttpRequest, test, web};
    let app = test::init_service(App::new().configure(rapport::web::configure).route(
        "/__routes",
        web::get().to(|req: HttpRequest| async move {
            let rmap = req.resource_map();
            let dump = format!("{rmap:?}");
            let mut patterns: Vec<String> = vec![];
            let mut rest = dump.as_str();
            while let Some(at) = rest.find("Single(\"") {
                rest = &rest[at + 8..];
                let end = rest.find('"').unwrap();
                patterns.push(rest[..end].to_string());
            }
            let prefixes: Vec<&String> = patterns.iter().filter(|p| p.starts_with("/api")).collect();
            let mut found = std::collections::BTreeSet::new();
            for prefix in &prefixes {
                for tail in std::iter::once(&String::new()).chain(patterns.iter()) {
                    let candidate = format!("{prefix}{tail}");
                    let concrete: String = {
                        let mut out = String::new();
                        let mut depth = 0;
                        for c in candidate.chars() {
                            match c {
                                '{' => {
                                    depth += 1;
                                    if depth == 1 {
                                        out.push('1');
                                    }
                                }
                                '}' => depth -= 1,
                                _ if depth > 0 => {}
                                _ => out.push(c),
                            }
                        }
                        out
                    };
                    if let Some(pattern) = rmap.match_pattern(&concrete)
                        && pattern.starts_with("/api")
                    {
                        found.insert(pattern);
                    }
                }
            }
            web::Json(found.into_iter().collect::<Vec<_>>())
        }),
    ))
    .await;
    let request = test::TestRequest::get().uri("/__routes").to_request();
    test::call_and_read_body_json(&app, request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_registered_api_route() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let patterns = registered_api_patterns().await;
    assert!(patterns.len() >= 15, "routes found: {patterns:?}");
    let mut registered = vec![];
    for pattern in &patterns {
        let concrete = pattern
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let status = reqwest::Client::new()
                .request(m, app.url(&concrete))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            if status != 404 && status != 405 {
                registered.push((method.to_lowercase(), pattern.clone()));
            }
        }
    }
    for (method, pattern) in &registered {
        let op = &doc["paths"][pattern][method];
        assert!(
            op.is_object(),
            "{} {pattern} is served but not in /api/openapi.json",
            method.to_uppercase()
        );
        assert!(op["summary"].is_string(), "{method} {pattern} has a summary");
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {pattern} has responses"
        );
        if method == "post" && op["requestBody"].is_object() {
            assert!(op["requestBody"]["content"]["application/json"]["schema"].is_object());
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('2') {
                assert!(
                    response["content"].is_object(),
                    "{method} {pattern} {status} has a response schema"
                );
            }
        }
    }
    // And the document describes nothing that is not served.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                registered.iter().any(|(m, p)| m == method && p == path),
                "{method} {path} is documented but not served"
            );
        }
    }
    // Every named schema a route refers to is defined.
    let text = doc.to_string();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("#/components/schemas/") {
        rest = &rest[at + 21..];
        let name = &rest[..rest.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name} is defined"
        );
    }
    // The readable page needs no CDN and lists every route.
    let page = reqwest::get(app.url("/api/docs")).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script"), "no script");
    assert!(!html.contains("https://"), "no third-party asset");
    for (method, pattern) in &registered {
        assert!(
            html.contains(&format!("{} {pattern}", method.to_uppercase())),
            "{method} {pattern} on /api/docs"
        );
    }
    assert!(html.contains("Rapport-Signature"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_passes_an_openapi_3_1_validator() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let text = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    // What the validator does not check: unique operation ids, and every
    // operation saying what it needs (the public ones: nothing).
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has an operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} states its security"));
            if path.starts_with("/api/v1/") {
                assert!(!security.is_empty(), "{method} {path} needs a key");
            } else {
                assert!(security.is_empty(), "{method} {path} is public: security []");
            }
        }
    }
    let limit = doc["paths"]["/api/v1/clients"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()
        .clone();
    assert_eq!(
        (limit["schema"]["minimum"].as_i64(), limit["schema"]["maximum"].as_i64()),
        (Some(1), Some(500))
    );
    let status = &doc["components"]["schemas"]["AppointmentBody"]["properties"]["status"];
    assert!(status.to_string().contains("no_show"), "{status}");
    const SCRIPT: &str = r#"
import json, sys
from openapi_spec_validator import OpenAPIV31SpecValidator
doc = json.load(sys.stdin)
errors = list(OpenAPIV31SpecValidator(doc).iter_errors())
for error in errors:
    print("-", str(error)[:2000])
print(len(errors), "error(s) from openapi-spec-validator (OpenAPI", doc.get("openapi"), ")")
sys.exit(1 if errors else 0)
"#;
    let Some(output) = crate::common::outside_tool(
        "openapi_spec_validator",
        "openapi-spec-validator",
        SCRIPT,
        &[],
        text.as_bytes(),
    ) else {
        return;
    };
    assert!(
        output.status.success(),
        "/api/openapi.json is not a valid OpenAPI 3.1 document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---------- FHIR: the subject resolves, and the search is paged ----------

db_test!(fhir_subject_resolves_to_a_patient_and_the_search_pages, |app| {
    app.staff("clinician", "clinician@example.org", None).await;
    let (key_id, key) = app.api_key(&[Scope::Read, Scope::Write]).await;
    let (client_id, _, _) = answered_session(&app, &key, "P-1", "p1", 38).await;
    for (n, total) in [(2, 35), (3, 30)] {
        app.clock.advance(Duration::days(7));
        answered_session(&app, &key, &format!("P-{n}"), "p1", total).await;
    }
    // Someone else's response is never on these pages.
    answered_session(&app, &key, "Q-1", "q1", 20).await;

    // Two a page: the first, with a link to the next.
    let search = |query: String| {
        let app = &app;
        let key = key.clone();
        async move {
            let response = app
                .api_get(&key, &format!("/api/v1/fhir/QuestionnaireResponse?{query}"))
                .await;
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/fhir+json")
            );
            json_of(response, 200).await
        }
    };
    let link = |bundle: &Value, relation: &str| {
        bundle["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == relation)
            .map(|l| l["url"].as_str().unwrap().to_string())
    };
    let first = search(format!("subject=Patient/{client_id}&_count=2")).await;
    assert_eq!(first["total"], 3);
    assert_eq!(first["entry"].as_array().unwrap().len(), 2);
    let next = link(&first, "next").expect("a next link");
    assert!(next.starts_with(&app.address), "{next}");
    let second = json_of(app.api_get(&key, &next.replace(&app.address, "")).await, 200).await;
    assert_eq!(second["total"], 3);
    assert_eq!(second["entry"].as_array().unwrap().len(), 1);
    assert!(link(&second, "next").is_none(), "the last page has no next link");
    assert!(link(&second, "previous").is_some());
    let ids: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|b| {
            b["entry"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["resource"]["id"].clone())
        })
        .collect();
    let distinct: std::collections::BTreeSet<String> = ids.iter().map(Value::to_string).collect();
    assert_eq!((ids.len(), distinct.len()), (3, 3), "every response once");
    let totals: Vec<f64> = [&first, &second]
        .iter()
        .flat_map(|b| b["entry"].as_array().unwrap().clone())
        .map(|e| {
            e["resource"]["item"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["linkId"] == "total")
                .unwrap()["answer"][0]["valueDecimal"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert_eq!(totals, [38.0, 35.0, 30.0], "oldest first");
    // Without _count everything fits on one page.
    let all = search(format!("subject={client_id}")).await;
    assert_eq!(all["entry"].as_array().unwrap().len(), 3);
    assert!(link(&all, "next").is_none());
    // A page past the end is empty, not an error.
    let past = search(format!("subject={client_id}&_count=2&_page=5")).await;
    assert_eq!(past["total"], 3);
    assert!(past["entry"].as_array().unwrap().is_empty());
    for (bad, expect) in [
        ("_count=0", "_count"),
        ("_count=101", "_count"),
        ("_count=-3", "_count"),
        ("_count=ten", "not valid"),
        ("_page=0", "_page"),
        ("_page=x", "not valid"),
    ] {
        let body = expect_problem(
            app.api_get(
                &key,
                &format!("/api/v1/fhir/QuestionnaireResponse?subject={client_id}&{bad}"),
            )
            .await,
            400,
        )
        .await;
        assert!(body["detail"].as_str().unwrap().contains(expect), "{bad}: {body}");
    }

    // The subject reference resolves to a Patient (relative to the FHIR base).
    let reference = first["entry"][0]["resource"]["subject"]["reference"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(reference, format!("Patient/{client_id}"));
    let response = app.api_get(&key, &format!("/api/v1/fhir/{reference}")).await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json")
    );
    let patient = json_of(response, 200).await;
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(patient["id"], client_id.to_string());
    assert_eq!(patient["active"], true);
    assert_eq!(patient["name"][0]["text"], "Client p1");
    assert_eq!(patient["identifier"][0]["value"], "p1");
    assert_eq!(patient["identifier"][0]["system"], "urn:rapport:source:pms");
    assert!(!patient.to_string().contains("p1@example.net"), "no email: {patient}");
    // The read is audited with the key, like every read of client data.
    let audited = app
        .db(move |conn| {
            use diesel::prelude::*;
            use rapport::store::schema::audit_log;
            Ok(audit_log::table
                .filter(audit_log::action.eq("api.fhir.patient"))
                .filter(audit_log::client_id.eq(client_id))
                .filter(audit_log::api_key_id.eq(key_id))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await;
    assert_eq!(audited, 1);
    // Unknown ids are problem+json 404s; the read scope is needed.
    let body = expect_problem(app.api_get(&key, "/api/v1/fhir/Patient/99999").await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("nothing at this address"));
    expect_problem(app.api_get(&key, "/api/v1/fhir/Patient/abc").await, 404).await;
    let (_, write_only) = app.api_key(&[Scope::Write]).await;
    let refused = expect_problem(
        app.api_get(&write_only, &format!("/api/v1/fhir/{reference}")).await,
        403,
    )
    .await;
    assert!(refused["detail"].as_str().unwrap().contains("\"read\" scope"));
});

// ---------- the subject access record and erasure ----------

fn rapport_cli(db_url: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"));
    for (key, _) in std::env::vars() {
        if key.starts_with("RAPPORT_") || key == "DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    cmd.env("RAPPORT_DATABASE_URL", db_url);
    cmd
}

db_test!(record_then_erasure_keeps_scores_and_removes_identity, |app| {
    app.staff("clinician", "clinician@example.org", None).await;
    let (_, admin) = app.staff("admin", "admin@example.org", None).await;
    let key = read_write_key(&app).await;
    let (client_id, _, survey_path) = answered_session(&app, &key, "E-1", "e1", 38).await;
    // A second session whose questionnaire is still waiting to be sent.
    json_of(
        app.api_post(
            &key,
            "/api/v1/appointments",
            &appointment("E-2", "e1", app.clock_now(), "attended"),
        )
        .await,
        201,
    )
    .await;

    // The full record over the API and as an admin download.
    let record = json_of(
        app.api_get(&key, &format!("/api/v1/clients/{client_id}/record")).await,
        200,
    )
    .await;
    assert_eq!(record["client"]["name"], "Client e1");
    assert_eq!(record["appointments"].as_array().unwrap().len(), 2);
    assert_eq!(record["invitations"].as_array().unwrap().len(), 2);
    // The clinic has not let anyone but the clinician read free text.
    assert_eq!(record["responses"][0]["comment"], Value::Null);
    assert!(record["withheld"].as_str().unwrap().contains("left out"));
    assert_eq!(record["responses"][0]["answers"]["bond"], 10.0);
    assert!(
        record["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "client.record.export")
    );
    let page = admin
        .get(app.url(&format!("/admin/privacy?client={client_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(&format!("/admin/clients/{client_id}/record.json"))
    );
    let download = admin
        .get(app.url(&format!("/admin/clients/{client_id}/record.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let downloaded: Value = download.json().await.unwrap();
    assert_eq!(downloaded["responses"][0]["total"], 38.0);

    // Erasure from the command line.
    let unknown = rapport_cli(&app.db.url)
        .args(["client", "erase", "99999"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("there is no client #99999"));
    let erased = rapport_cli(&app.db.url)
        .args(["client", "erase", &client_id.to_string()])
        .output()
        .unwrap();
    assert!(erased.status.success(), "{}", String::from_utf8_lossy(&erased.stderr));
    let said = String::from_utf8_lossy(&erased.stdout);
    assert!(
        said.contains(&format!("Client #{client_id} erased")) && said.contains("1 response score(s) kept"),
        "{said}"
    );

    let after = json_of(
        app.api_get(&key, &format!("/api/v1/clients/{client_id}/record")).await,
        200,
    )
    .await;
    let client = &after["client"];
    assert_eq!(client["name"], format!("Erased client #{client_id}"));
    assert!(client["email"].is_null() && client["external_id"].is_null() && client["source"].is_null());
    assert_eq!(client["erased"], true);
    for a in after["appointments"].as_array().unwrap() {
        assert!(a["external_id"].as_str().unwrap().starts_with("erased-"));
    }
    let response = &after["responses"][0];
    assert!(response["comment"].is_null());
    assert_eq!(response["total"], 38.0, "anonymous scores are kept");
    assert_eq!(response["answers"]["bond"], 10.0);
    assert!(
        after["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "client.erase")
    );
    assert!(!after.to_string().contains("Client e1") && !after.to_string().contains("e1@example.net"));
    assert!(!after.to_string().contains("rushed"));
    // Pending email is cancelled and no longer holds the address.
    let pending = app
        .db(move |conn| {
            use diesel::prelude::*;
            use rapport::store::schema::outbox;
            Ok(outbox::table
                .filter(outbox::recipient.eq("e1@example.net"))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await;
    assert_eq!(pending, 0);
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.run_jobs().await.mail.sent, 0);
    // The old link no longer works.
    assert_eq!(reqwest::get(app.url(&survey_path)).await.unwrap().status(), 404);
    // FHIR marks the response amended.
    let bundle: Value = serde_json::from_str(
        &app.api_get(&key, &format!("/api/v1/fhir/QuestionnaireResponse?subject={client_id}"))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(bundle["entry"][0]["resource"]["status"], "amended");
    // The practice system sending the same client again makes a new record, not a link to the erased one.
    let again = json_of(
        app.api_post(
            &key,
            "/api/v1/appointments",
            &appointment("E-3", "e1", app.clock_now(), "booked"),
        )
        .await,
        201,
    )
    .await;
    assert_ne!(again["client_id"], client_id);
});

// ---------- retention ----------

async fn retention_run(backend: Backend) {
    let options = Options {
        extra: vec![("RETENTION_DAYS", "365".into()), ("QUIET_HOURS", "off".into())],
    };
    let Some(app) = spawn_app_with(backend, options).await else {
        return crate::common::skipped(backend);
    };
    // The command line uses the real clock: put the story in the real past.
    let today = chrono::Utc::now().naive_utc();
    app.clock.set(today - Duration::days(400));
    app.staff("clinician", "clinician@example.org", None).await;
    let key = read_write_key(&app).await;
    let (old_client, _, _) = answered_session(&app, &key, "R-1", "old", 37).await;
    // Thirteen months later another client starts.
    app.clock.set(today - Duration::hours(3));
    let recent = json_of(
        app.api_post(
            &key,
            "/api/v1/appointments",
            &appointment("R-2", "recent", app.clock_now(), "attended"),
        )
        .await,
        201,
    )
    .await;
    let recent_client = recent["client_id"].as_i64().unwrap();

    // The dry run lists the old client and changes nothing.
    let dry = rapport_cli(&app.db.url)
        .args(["retention", "--dry-run", "--days", "365"])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let listed = String::from_utf8_lossy(&dry.stdout);
    assert!(
        listed.contains(&format!("#{old_client} ")) && !listed.contains(&format!("#{recent_client} ")),
        "{listed}"
    );
    assert!(listed.contains("1 client(s) would be erased"), "{listed}");
    assert_eq!(
        app_name(&app, old_client).await,
        "Client old",
        "the dry run changed nothing"
    );
    let needs_flag = rapport_cli(&app.db.url)
        .args(["retention", "--days", "365"])
        .output()
        .unwrap();
    assert!(!needs_flag.status.success());
    assert!(String::from_utf8_lossy(&needs_flag.stderr).contains("--dry-run"));

    // The job loop applies it once a day.
    app.clock.set(today);
    let pass = app.run_jobs().await;
    assert_eq!(pass.erased, 1);
    assert_eq!(app_name(&app, old_client).await, format!("Erased client #{old_client}"));
    assert_eq!(app_name(&app, recent_client).await, "Client recent");
    let kept = app
        .db(move |conn| rapport::store::responses::for_client(conn, rapport::store::ClientId(old_client)))
        .await;
    assert_eq!(kept[0].total, Some(37.0));
    assert_eq!(app.run_jobs().await.erased, 0, "once a day");
}

async fn app_name(app: &TestApp, id: i64) -> String {
    app.db(move |conn| rapport::store::clients::find(conn, rapport::store::ClientId(id)))
        .await
        .name
}

on_both_backends!(
    retention_dry_run_changes_nothing_then_the_job_loop_erases,
    retention_run
);

// ---------- webhook targets inside the network ----------

db_test!(webhook_targets_inside_the_network_are_refused, |app| {
    app.staff("clinician", "clinician@example.org", None).await;
    let (_, admin) = app.staff("admin", "admin@example.org", None).await;
    let key = read_write_key(&app).await;
    let page = admin
        .get(app.url("/admin/webhooks"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::common::csrf_from(&page);
    let add = |url: &'static str| {
        let csrf = csrf.clone();
        let admin = admin.clone();
        let address = app.url("/admin/webhooks");
        async move {
            let response = admin
                .post(address)
                .form(&[("csrf", csrf.as_str()), ("url", url), ("response_received", "on")])
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, page) = add("http://169.254.169.254/latest/meta-data").await;
    assert_eq!(status, 400);
    assert!(page.contains("may never use"), "metadata refused");
    let (status, page) = add("http://127.0.0.1:9/hook").await;
    assert_eq!(status, 400);
    assert!(page.contains("allow private networks"), "loopback refused by default");
    let (status, _) = add("http://[::ffff:10.0.0.1]/hook").await;
    assert_eq!(status, 400, "a mapped private address too");
    let toggle = |allow: &'static str| {
        admin
            .post(app.url("/admin/webhooks/private-networks"))
            .form(&[("csrf", csrf.clone()), ("allow", allow.to_string())])
            .send()
    };
    assert_eq!(toggle("on").await.unwrap().status(), 303);
    let (status, _) = add("http://169.254.169.254/latest/meta-data").await;
    assert_eq!(status, 400, "metadata stays refused");

    // Allowed when added; refused again before delivery: checked each time.
    let (receiver, hook_url) = Receiver::start().await;
    let hook: &'static str = Box::leak(hook_url.into_boxed_str());
    let (status, _) = add(hook).await;
    assert_eq!(status, 200);
    assert_eq!(toggle("off").await.unwrap().status(), 303);
    answered_session(&app, &key, "P-1", "p1", 36).await;
    let pass = app.run_jobs().await;
    assert_eq!(pass.mail.failed, 1);
    assert!(receiver.received().is_empty(), "nothing reached the private address");
    let failed = app
        .db(|conn| rapport::store::webhooks::recent_deliveries(conn, 10))
        .await;
    assert!(failed[0].last_error.as_deref().unwrap().contains("private network"));
    let audit = app
        .db(|conn| {
            use diesel::prelude::*;
            use rapport::store::schema::audit_log;
            Ok(audit_log::table
                .filter(audit_log::action.eq("webhook.private_networks"))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await;
    assert_eq!(audit, 2, "each change of the setting is audited");
});
