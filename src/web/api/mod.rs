//! The JSON API for practice systems and integrations. API-key auth
//! (`Authorization: Bearer KEY`, scopes read and write), errors as RFC 9457
//! problem+json, every read of client data in the audit log. The OpenAPI
//! document is generated from the handlers' annotations ([`ApiDoc`]).

mod alerts;
mod appointments;
mod clients;
mod docs;
pub mod fhir;
mod instruments;
mod invitations;

use crate::store::AlertId;
use crate::store::ClientId;
use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, NaiveDateTime};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};

use super::error::{ApiError, AppError};
use crate::context::Context;
use crate::store::api_keys::{self, ApiKey, Scope};
use crate::store::audit::AuditAction;
use crate::store::audit::{self, AuditEntry};
use crate::store::{DbConnection, StoreError};

/// The integration calling, authenticated by its key.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub key: ApiKey,
}

impl ApiCaller {
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.key.allows(scope) {
            Ok(())
        } else {
            Err(ApiError(AppError::Forbidden(format!(
                "this API key lacks the \"{}\" scope",
                scope.as_str()
            ))))
        }
    }
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<Context>>()
                .ok_or_else(|| ApiError(AppError::Internal("no app state".into())))?;
            let secret = req
                .headers()
                .get("Authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty() && s.len() < 200)
                .ok_or(ApiError(AppError::Unauthenticated))?;
            let now = state.now();
            let key = state.db(move |conn| api_keys::authenticate(conn, &secret, now)).await?;
            match key {
                Some(key) => Ok(ApiCaller { key }),
                None => Err(ApiError(AppError::Unauthenticated)),
            }
        })
    }
}

/// Writes one audit entry per client whose data an API key read.
pub(crate) fn audit_read(
    conn: &mut DbConnection,
    key_id: i64,
    action: AuditAction,
    client_ids: impl IntoIterator<Item = ClientId>,
    alert_id: Option<AlertId>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let mut ids: Vec<ClientId> = client_ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    conn.write_transaction(|conn| {
        for client_id in ids {
            audit::record(
                conn,
                &AuditEntry {
                    api_key_id: Some(key_id),
                    client_id: Some(client_id),
                    alert_id,
                    ..AuditEntry::new(action)
                },
                now,
            )?;
        }
        Ok(())
    })
}

/// Largest JSON body accepted (the input guard answers 413 beyond it).
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// Parses a JSON body. Handlers read the body as bytes and parse it after
/// checking the key and its scope, so a key without the scope is told so
/// (403) whatever it sent.
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError(AppError::BadRequest(format!("the JSON body is not valid: {e}"))))
}

/// Parses the query string (after the key and scope are checked).
pub(crate) fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ApiError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ApiError(AppError::BadRequest(format!("a query parameter is not valid: {e}"))))
}

/// Parses an RFC 3339 time from a body or query field.
pub(crate) fn parse_time(field: &str, text: &str) -> Result<NaiveDateTime, ApiError> {
    let time = DateTime::parse_from_rfc3339(text.trim())
        .map(|t| crate::store::truncate(t.naive_utc()))
        .map_err(|_| {
            ApiError(AppError::BadRequest(format!(
                "{field} \"{text}\" is not an RFC 3339 time such as 2026-03-02T14:00:00Z"
            )))
        })?;
    crate::domain::dates::check_time(time).map_err(|e| ApiError(AppError::BadRequest(format!("{field}: {e}"))))
}

/// The page size asked for, checked.
pub(crate) fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=crate::store::listing::MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError(AppError::BadRequest(format!(
            "limit must be between 1 and {}, got {n}",
            crate::store::listing::MAX_LIMIT
        )))),
    }
}

/// The OpenAPI 3.1 document, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rapport integration API",
        description = "Practice systems push appointments and clients; integrations read responses, scores and alerts, \
acknowledge alerts, and receive signed webhooks. Authenticate with `Authorization: Bearer KEY` \
(`rapport apikey create --name NAME --scopes read,write`). Every error is an RFC 9457 \
`application/problem+json` body. Every read of client data is written to the audit log with the key's id. \
Lists are paged by id: pass the returned `next_after` as `after`.",
        version = "1"
    ),
    paths(
        appointments::create_or_update,
        appointments::list,
        appointments::read,
        invitations::read,
        clients::upsert,
        clients::list,
        clients::read,
        clients::opt_out,
        clients::responses,
        clients::client_record,
        alerts::list,
        alerts::read,
        alerts::acknowledge,
        instruments::list,
        fhir::questionnaire,
        fhir::questionnaire_responses,
        fhir::questionnaire_response,
        fhir::patient,
        docs::openapi_json,
        docs::reference_page,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "appointments", description = "Appointments from the practice system, and the questionnaire each attended one brings."),
        (name = "clients", description = "Clients, their answers and scores, opting out, and their full record."),
        (name = "alerts", description = "Possible ruptures the engine found, with reasons and the repair log."),
        (name = "fhir", description = "HL7 FHIR R4 Questionnaire, QuestionnaireResponse and Patient resources (application/fhir+json)."),
        (name = "reference", description = "This document and its readable page.")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from `rapport apikey create`, with the read and/or write scope.",
                    ))
                    .build(),
            ),
        );
        // An API key by default; every operation states its own need, and
        // the public reference routes say `security: []` (none).
        openapi.security = Some(vec![SecurityRequirement::new("api_key", Vec::<String>::new())]);
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.options,
                &mut item.head,
            ];
            for operation in operations.into_iter().flatten() {
                operation.security.get_or_insert_with(Vec::new);
            }
        }
    }
}

/// The document as served: with this server's address.
pub fn openapi(base_url: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.servers = Some(vec![utoipa::openapi::Server::new(base_url.trim_end_matches('/'))]);
    doc
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(web::PayloadConfig::new(4 * BODY_LIMIT))
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError(AppError::NotFound).into()))
            .configure(appointments::routes)
            .configure(invitations::routes)
            .configure(clients::routes)
            .configure(alerts::routes)
            .configure(instruments::routes)
            .configure(fhir::routes)
            .default_service(web::to(super::not_found_or_wrong_method)),
    )
    .service(
        web::scope("/api")
            .configure(docs::routes)
            .default_service(web::to(super::not_found_or_wrong_method)),
    );
}
