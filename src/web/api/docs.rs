//! The OpenAPI document and a readable reference page rendered from it on
//! the server (no script, no third-party assets).

use actix_web::{HttpResponse, get, web};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use super::openapi;
use crate::context::Context;
use crate::web::views::html_page;

/// The OpenAPI 3.1 document
///
/// Generated from the server's own handlers; it describes every route under `/api/`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "getOpenApiDocument",
    tag = "reference",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object, content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn openapi_json(state: web::Data<Context>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(openapi(state.settings.base_url.as_str()))
}

/// The API reference
///
/// This document as a readable page.
#[utoipa::path(
    get,
    path = "/api/docs",
    operation_id = "getApiReference",
    tag = "reference",
    responses((status = 200, description = "The reference page", body = String, content_type = "text/html"))
)]
#[get("/docs")]
pub async fn reference_page(state: web::Data<Context>) -> HttpResponse {
    let doc = serde_json::to_value(openapi(state.settings.base_url.as_str())).unwrap_or(Value::Null);
    html_page(actix_web::http::StatusCode::OK, page(&doc))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json).service(reference_page);
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Text with `code` spans.
fn prose(text: &str) -> Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

fn anchor(method: &str, path: &str) -> String {
    let cleaned: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{method}{cleaned}")
}

fn schema_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// A short description of a schema's type, with links to named schemas.
fn type_label(schema: &Value) -> Markup {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = schema_name(r);
        return html! { a href={ "#schema-" (name) } { (name) } };
    }
    if let Some(variants) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        return html! {
            @for (i, v) in variants.iter().enumerate() {
                @if i > 0 { " or " }
                (type_label(v))
            }
        };
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.is_empty() {
        return html! { "any" };
    }
    html! {
        @for (i, t) in types.iter().enumerate() {
            @if i > 0 { " or " }
            @match *t {
                "array" => { "array of " (schema.get("items").map(type_label).unwrap_or_else(|| html! { "any" })) }
                "object" if schema.get("additionalProperties").is_some_and(Value::is_object) => {
                    "map of " (type_label(&schema["additionalProperties"]))
                }
                other => {
                    (other)
                    @if let Some(f) = schema.get("format").and_then(Value::as_str) { " (" (f) ")" }
                }
            }
        }
    }
}

fn operation(method: &str, path: &str, op: &Value) -> Markup {
    let scopes: Vec<String> = op
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_object())
        .flat_map(|o| o.values())
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    html! {
        section.api-op id=(anchor(method, path)) {
            h3 { span.api-method { (method.to_uppercase()) } " " code { (path) } }
            @if let Some(s) = op.get("summary").and_then(Value::as_str) { p.api-summary { (s) } }
            @if let Some(d) = op.get("description").and_then(Value::as_str) { p { (prose(d)) } }
            p.muted {
                @if scopes.is_empty() { "No API key needed." } @else { "API key with the " (scopes.join(", ")) " scope." }
            }
            @if let Some(params) = op.get("parameters").and_then(Value::as_array).filter(|p| !p.is_empty()) {
                h4 { "Parameters" }
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "In" } th scope="col" { "Type" } th scope="col" { "Required" } th scope="col" { "Meaning" } } }
                    tbody {
                        @for p in params {
                            tr {
                                td { code { (p["name"].as_str().unwrap_or("")) } }
                                td { (p["in"].as_str().unwrap_or("")) }
                                td { (p.get("schema").map(type_label).unwrap_or_else(|| html! { "any" })) }
                                td { @if p["required"].as_bool().unwrap_or(false) { "yes" } @else { "no" } }
                                td { (prose(p.get("description").and_then(Value::as_str).unwrap_or(""))) }
                            }
                        }
                    }
                } }
            }
            @if let Some(body) = op.get("requestBody") {
                h4 { "Request body" }
                @for (content_type, media) in body.get("content").and_then(Value::as_object).into_iter().flatten() {
                    p { code { (content_type) } ": " (media.get("schema").map(type_label).unwrap_or_else(|| html! { "any" })) }
                }
            }
            h4 { "Responses" }
            div.table-wrap { table {
                thead { tr { th scope="col" { "Status" } th scope="col" { "Meaning" } th scope="col" { "Body" } } }
                tbody {
                    @for (status, response) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
                        tr {
                            td { (status) }
                            td { (prose(response.get("description").and_then(Value::as_str).unwrap_or(""))) }
                            td {
                                @for (content_type, media) in response.get("content").and_then(Value::as_object).into_iter().flatten() {
                                    code { (content_type) } " " (media.get("schema").map(type_label).unwrap_or_else(|| html! { "" }))
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

fn schema_section(name: &str, schema: &Value) -> Markup {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    html! {
        section.api-schema id={ "schema-" (name) } {
            h3 { (name) }
            @if let Some(d) = schema.get("description").and_then(Value::as_str) { p { (prose(d)) } }
            @if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Field" } th scope="col" { "Type" } th scope="col" { "Required" } th scope="col" { "Meaning" } } }
                    tbody {
                        @for (field, prop) in props {
                            tr {
                                td { code { (field) } }
                                td { (type_label(prop)) }
                                td { @if required.contains(&field.as_str()) { "yes" } @else { "no" } }
                                td { (prose(prop.get("description").and_then(Value::as_str).unwrap_or(""))) }
                            }
                        }
                    }
                } }
            }
        }
    }
}

const WEBHOOKS: &str = "An admin registers endpoints (Admin → Webhooks, or `rapport webhook add --url URL --events alert.opened,alert.changed,response.received`) \
and receives a signing secret once. Each event is POSTed as JSON `{\"id\", \"type\", \"created_at\", \"data\"}` with the headers `Rapport-Event`, \
`Rapport-Delivery` (stable across retries) and `Rapport-Signature: t=UNIX_SECONDS,v1=HEX`, where HEX is the lowercase hex HMAC-SHA256 of \
`UNIX_SECONDS.BODY` under the secret. Recompute it over the raw body, compare in constant time and refuse timestamps older than five minutes. \
Bodies carry ids and figures only, never names, email addresses or free text. Answer 2xx to accept; 408, 429, 5xx or no answer within \
10 seconds are retried with exponential backoff for about two days; any other status stops delivery of that event (shown to admins). \
Events: `alert.opened` (alert id, client id, clinician id, severity, status, rules), `alert.changed` (the same with `change`: \
severity_raised, acknowledged, discussed or outcome), `response.received` (response, client, invitation, appointment and instrument ids, \
total, common score, subscales). Delivery is at least once: drop repeated `id`s.";

fn page(doc: &Value) -> Markup {
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    let tags: Vec<(String, String)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or("").to_string(),
                t["description"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let ops_of = |tag: &str| -> Vec<(String, String, Value)> {
        let mut ops = vec![];
        for (path, item) in &paths {
            for method in METHODS {
                if let Some(op) = item.get(method)
                    && op["tags"].as_array().is_some_and(|ts| ts.iter().any(|t| t == tag))
                {
                    ops.push((method.to_string(), path.clone(), op.clone()));
                }
            }
        }
        ops
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Rapport" }
                link rel="stylesheet" href="/static/rapport.css";
                link rel="icon" href="/static/favicon.svg" type="image/svg+xml";
            }
            body.api-docs {
                a.skip href="#main" { "Skip to content" }
                main #main {
                    h1 { (title) " " span.muted { "v" (doc["info"]["version"].as_str().unwrap_or("")) } }
                    @if let Some(d) = doc["info"]["description"].as_str() { p { (prose(d)) } }
                    p { "Machine-readable: " a href="/api/openapi.json" { "/api/openapi.json" } " (OpenAPI " (doc["openapi"].as_str().unwrap_or("")) ")." }
                    nav aria-label="Contents" {
                        h2 { "Contents" }
                        ul {
                            @for (tag, _) in &tags {
                                li {
                                    (tag)
                                    ul {
                                        @for (method, path, op) in ops_of(tag) {
                                            li { a href={ "#" (anchor(&method, &path)) } { (method.to_uppercase()) " " (path) } " — " (op["summary"].as_str().unwrap_or("")) }
                                        }
                                    }
                                }
                            }
                            li { a href="#webhooks" { "Webhooks" } }
                            li { a href="#schemas" { "Schemas" } }
                        }
                    }
                    @for (tag, description) in &tags {
                        section {
                            h2 { (tag) }
                            p { (prose(description)) }
                            @for (method, path, op) in ops_of(tag) { (operation(&method, &path, &op)) }
                        }
                    }
                    section #webhooks {
                        h2 { "Webhooks" }
                        p { (prose(WEBHOOKS)) }
                    }
                    section #schemas {
                        h2 { "Schemas" }
                        @for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
                            (schema_section(name, schema))
                        }
                    }
                }
            }
        }
    }
}
