//! Admin → Integrations: API keys, webhook endpoints and their deliveries,
//! from what the handlers read (no database here).

use maud::{Markup, html};
use serde::Deserialize;

use crate::actions::integrations::KEY_NAME_MAX;
use crate::store::api_keys::ApiKey;
use crate::store::outbox;
use crate::store::webhooks::{Endpoint, EventType};
use crate::web::views::layout::{form_error, notice};
use crate::web::views::local_time;

pub const PATH: &str = "/admin/webhooks";
pub const DELIVERIES_PATH: &str = "/admin/webhooks/deliveries";

/// What the webhook form sends, and shows again with a problem.
#[derive(Deserialize, Default)]
pub struct NewEndpointForm {
    #[serde(default)]
    pub url: String,
    alert_opened: Option<String>,
    alert_changed: Option<String>,
    response_received: Option<String>,
}

impl NewEndpointForm {
    pub fn events(&self) -> Vec<EventType> {
        [
            (EventType::AlertOpened, &self.alert_opened),
            (EventType::AlertChanged, &self.alert_changed),
            (EventType::ResponseReceived, &self.response_received),
        ]
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(e, _)| e)
        .collect()
    }

    fn checked(&self, event: EventType) -> bool {
        self.events().contains(&event) || (self.url.is_empty() && self.events().is_empty())
    }
}

fn field_name(event: EventType) -> &'static str {
    match event {
        EventType::AlertOpened => "alert_opened",
        EventType::AlertChanged => "alert_changed",
        EventType::ResponseReceived => "response_received",
    }
}

fn event_meaning(event: EventType) -> &'static str {
    match event {
        EventType::AlertOpened => "the engine opened an alert",
        EventType::AlertChanged => {
            "an alert's severity rose, or it was acknowledged, discussed or closed with an outcome"
        }
        EventType::ResponseReceived => "a client answered a questionnaire",
    }
}

fn add_form(csrf: &str, form: &NewEndpointForm, error: Option<&str>) -> Markup {
    html! {
        section {
            h2 #add { "Add an endpoint" }
            @if let Some(e) = error { (form_error(e)) }
            form.stack method="post" action=(PATH) {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="url" { "Address (https)" }
                    input #url type="url" name="url" value=(form.url) required autocomplete="off" aria-describedby="url-hint";
                    p.hint #url-hint { "Rapport POSTs signed JSON here. Bodies hold ids and figures only, never names, email addresses or free text." }
                }
                fieldset {
                    legend { "Events" }
                    @for event in EventType::ALL {
                        div.check {
                            input type="checkbox" id=(field_name(event)) name=(field_name(event)) checked[form.checked(event)];
                            label for=(field_name(event)) { code { (event.as_str()) } " — " (event_meaning(event)) }
                        }
                    }
                }
                button.primary type="submit" { "Add endpoint" }
            }
        }
    }
}

fn private_networks_form(csrf: &str, allowed: bool) -> Markup {
    html! {
        section {
            h2 #private-networks { "Receivers on the clinic's own network" }
            p { "Webhooks go to internet addresses only, so a mistyped or hostile address cannot make Rapport reach \
                 inside its own network. Link-local and cloud metadata addresses are always refused. "
                @if allowed { strong { "Private networks are allowed now." } } @else { "Private networks are not allowed now." } }
            form method="post" action={ (PATH) "/private-networks" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="allow" value=(if allowed { "off" } else { "on" });
                button type="submit" {
                    @if allowed { "Refuse private-network receivers" } @else { "Allow private-network receivers (on-premises)" }
                }
            }
        }
    }
}

fn endpoints_table(csrf: &str, endpoints: &[Endpoint], tz: chrono_tz::Tz) -> Markup {
    html! {
        section {
            h2 { "Endpoints (" (endpoints.len()) ")" }
            @if endpoints.is_empty() {
                p.muted { "No endpoint yet: integrations are not told about anything." }
            } @else {
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "Address" } th scope="col" { "Events" }
                        th scope="col" { "Added" } th scope="col" { "State" } th scope="col" { span.visually-hidden { "Action" } }
                    } }
                    tbody {
                        @for e in endpoints {
                            tr {
                                td.num { (e.id) }
                                td.webhook-url { (e.url) }
                                td { @for ev in e.event_types() { code { (ev.as_str()) } " " } }
                                td { (local_time(e.created_at, tz)) }
                                td { @if e.active { "active" } @else { span.badge { "disabled" } } }
                                td {
                                    @if e.active {
                                        form method="post" action={ (PATH) "/" (e.id) "/disable" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" { "Disable" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
    }
}

/// Where the deliveries stand, in one line, with the way to the page.
fn deliveries_summary(rows: &[outbox::OutboxRow]) -> Markup {
    let count = |status: &str| rows.iter().filter(|r| r.status == status).count();
    let retrying = rows
        .iter()
        .filter(|r| r.status == "pending" && r.last_error.is_some())
        .count();
    html! {
        section aria-labelledby="h-deliveries" {
            h2 #h-deliveries { "Deliveries" }
            @if rows.is_empty() {
                p.muted { "No event has been sent yet." }
            } @else {
                p {
                    "Of the last " (rows.len()) " events sent: " (count("sent")) " delivered, " (retrying) " retrying, " (count("failed")) " failed. "
                    a href=(DELIVERIES_PATH) { "See the deliveries" }
                }
            }
        }
    }
}

fn deliveries_table(rows: &[outbox::OutboxRow], tz: chrono_tz::Tz, csrf: &str) -> Markup {
    html! {
        @if rows.is_empty() {
            p.muted { "Nothing sent yet." }
        } @else {
            p.hint { "Failed deliveries are not retried by themselves: fix the endpoint, then retry. Email problems are on " a href="/admin/email" { "Email" } "." }
            div.table-wrap tabindex="0" role="region" aria-label="Webhook deliveries" { table.cards {
                thead { tr {
                    th scope="col" { "Queued" } th scope="col" { "To" } th scope="col" { "State" }
                    th scope="col" { "Attempts" } th scope="col" { "Last answer" } th scope="col" { span.visually-hidden { "Action" } }
                } }
                tbody {
                    @for r in rows {
                        tr {
                            td data-label="Queued" { (local_time(r.created_at, tz)) }
                            td.webhook-url data-label="To" { (r.recipient) }
                            td data-label="State" {
                                @match r.status.as_str() {
                                    "failed" => span.badge.high { "failed" },
                                    "sent" => "delivered",
                                    "pending" if r.last_error.is_some() => span.badge.medium { "retrying " (local_time(r.next_attempt_at, tz)) },
                                    other => (other),
                                }
                            }
                            td.num data-label="Attempts" { (r.attempts) }
                            td data-label="Last answer" { (r.last_error.as_deref().unwrap_or("")) }
                            td {
                                @if r.status == "failed" {
                                    form method="post" action={ "/admin/email/" (r.id) "/retry" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" { "Retry" span.visually-hidden { " the delivery to " (r.recipient) } }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// The keys and the form to create one; `error` above the form.
fn api_keys_section(csrf: &str, keys: &[ApiKey], tz: chrono_tz::Tz, error: Option<&str>) -> Markup {
    html! {
        section #api-keys {
            h2 { "API keys" }
            p { "A practice system sends appointments with a key (" code { "Authorization: Bearer …" } "). See the " a href="/api/docs" { "API reference" } "." }
            @if keys.is_empty() {
                p.muted { "No keys yet." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="API keys" { table {
                    thead { tr {
                        th scope="col" { "Key" } th scope="col" { "May" } th scope="col" { "Created" }
                        th scope="col" { "Last used" } th scope="col" { span.visually-hidden { "Action" } }
                    } }
                    tbody {
                        @for k in keys {
                            tr {
                                td { "#" (k.id) " " (k.name) @if k.revoked_at.is_some() { " " span.badge { "revoked" } } }
                                td { (scopes_label(&k.scopes)) }
                                td { (local_time(k.created_at, tz)) }
                                td { (k.last_used_at.map(|t| local_time(t, tz)).unwrap_or_else(|| "never".into())) }
                                td {
                                    @if k.revoked_at.is_none() {
                                        form method="post" action={ "/admin/api-keys/" (k.id) "/revoke" } {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" { "Revoke" span.visually-hidden { " key #" (k.id) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
            h3 #new-key { "Create a key" }
            @if let Some(e) = error { (form_error(e)) }
            form.stack method="post" action="/admin/api-keys" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="key-name" { "Who uses it" }
                    input #key-name name="name" required maxlength=(KEY_NAME_MAX) autocomplete="off" aria-describedby="key-name-hint";
                    p.hint #key-name-hint { "For example the practice system's name." }
                }
                fieldset {
                    legend { "It may" }
                    ul.choices {
                        li { label { input type="checkbox" name="read" value="on" checked; " read (clients, alerts, answers)" } }
                        li { label { input type="checkbox" name="write" value="on" checked; " write (appointments, clients)" } }
                    }
                }
                button.primary type="submit" { "Create the key" }
            }
        }
    }
}

fn scopes_label(scopes: &str) -> &'static str {
    match (scopes.contains("read"), scopes.contains("write")) {
        (true, true) => "read and write",
        (true, false) => "read",
        (false, true) => "write",
        (false, false) => "nothing",
    }
}

/// What the Integrations page shows.
pub struct IntegrationsPage<'a> {
    pub csrf: &'a str,
    /// A notice or a just-created secret, above everything.
    pub top: Option<Markup>,
    pub keys: &'a [ApiKey],
    pub endpoints: &'a [Endpoint],
    pub deliveries: &'a [outbox::OutboxRow],
    pub allow_private: bool,
    pub form: &'a NewEndpointForm,
    /// A problem with the webhook form, above it.
    pub error: Option<&'a str>,
    /// A problem with the API key form, above it.
    pub key_error: Option<&'a str>,
    pub tz: chrono_tz::Tz,
}

/// The Integrations page's content.
pub fn body(page: &IntegrationsPage) -> Markup {
    let IntegrationsPage {
        csrf,
        ref top,
        keys,
        endpoints,
        deliveries,
        allow_private,
        form,
        error,
        key_error,
        tz,
    } = *page;
    html! {
        @if let Some(t) = top { (t) }
        (api_keys_section(csrf, keys, tz, key_error))
        h2 #webhooks { "Webhooks" }
        p { "Endpoints receive signed events as they happen, with retries. How to check the signature: "
            a href="/api/docs#webhooks" { "API reference" } "." }
        (endpoints_table(csrf, endpoints, tz))
        (add_form(csrf, form, error))
        (private_networks_form(csrf, allow_private))
        (deliveries_summary(deliveries))
    }
}

/// The webhook deliveries page's content.
pub fn deliveries_body(csrf: &str, done: Option<&str>, rows: &[outbox::OutboxRow], tz: chrono_tz::Tz) -> Markup {
    html! {
        @if let Some(done) = done { (notice(done)) }
        p { a href=(PATH) { "Back to Integrations" } }
        (deliveries_table(rows, tz, csrf))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn scopes_in_words() {
        assert_eq!(super::scopes_label("read,write"), "read and write");
        assert_eq!(super::scopes_label("read"), "read");
    }
}
