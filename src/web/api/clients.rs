//! Clients: created or updated by the practice system's id, opted out on
//! request, read with their answers and scores, and their full record for a
//! subject access request.

use crate::store::ClientId;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiCaller, audit_read, json_body, page_limit, query};
use crate::actions::{self, Actor};
use crate::context::Context;
use crate::json::{ClientRecordView, ClientView, Problem, ResponseView};
use crate::store::api_keys::Scope;
use crate::store::appointments::Upserted;
use crate::store::audit::AuditAction;
use crate::store::clients::{self, Client};
use crate::store::intake::ClientDetails;
use crate::store::listing::{self, ClientFilter};
use crate::store::{StoreError, record};
use crate::web::error::{ApiError, AppError};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientUpsert {
    /// A short name for the sending system, e.g. `pms`.
    #[schema(min_length = 1, max_length = 100, example = "pms")]
    pub source: String,
    /// The sending system's id for the client; with `source` it identifies them.
    #[schema(min_length = 1, max_length = 200, example = "C-2001")]
    pub external_id: String,
    /// The email of the client's clinician, as known to Rapport.
    #[schema(format = Email)]
    pub clinician_email: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Where questionnaires go; empty or absent for none.
    pub email: Option<String>,
    /// A language tag such as `en` (default `en`).
    #[schema(min_length = 1, max_length = 20, pattern = "^[A-Za-z0-9-]+$", example = "en")]
    pub language: Option<String>,
    /// An IANA time zone such as `Europe/London` (default: the clinic's).
    pub time_zone: Option<String>,
}

impl ClientUpsert {
    fn check(&self) -> Result<(), String> {
        if self.source.trim().is_empty() || self.source.len() > 100 {
            return Err("source must be a short non-empty name of the sending system".into());
        }
        if self.external_id.trim().is_empty() || self.external_id.len() > 200 {
            return Err("external_id must be non-empty (at most 200 characters)".into());
        }
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return Err("name must be non-empty (at most 200 characters)".into());
        }
        if let Some(email) = self.email.as_deref() {
            crate::domain::appointment::check_email(email).map_err(|e| format!("email {e}"))?;
        }
        if let Some(tz) = &self.time_zone
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            return Err(format!(
                "time_zone \"{tz}\" is not an IANA time zone such as Europe/London"
            ));
        }
        if let Some(lang) = &self.language
            && (lang.is_empty() || lang.len() > 20 || !lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(format!("language \"{lang}\" is not a language tag such as en"));
        }
        Ok(())
    }
}

/// What recording a client did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedClient {
    /// created, updated or unchanged.
    #[schema(example = "created")]
    pub outcome: &'static str,
    pub client: ClientView,
}

fn view(conn: &mut crate::store::DbConnection, client: &Client) -> Result<ClientView, StoreError> {
    let email = record::clinician_email(conn, client.clinician_id)?;
    Ok(ClientView::new(client, &email))
}

/// Create or update a client
///
/// Identified by `(source, external_id)`: an unknown client is created, a known one updated. Sending the same
/// body again changes nothing. Erased clients are never matched.
#[utoipa::path(
    post,
    path = "/api/v1/clients",
    operation_id = "upsertClient",
    tag = "clients",
    request_body = ClientUpsert,
    responses(
        (status = 201, description = "Created", body = RecordedClient),
        (status = 200, description = "Updated, or unchanged", body = RecordedClient),
        (status = 400, description = "The body is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the write scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["write"]))
)]
#[post("/clients")]
async fn upsert(state: web::Data<Context>, caller: ApiCaller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Write)?;
    let body: ClientUpsert = json_body(&body)?;
    body.check().map_err(|m| ApiError(AppError::BadRequest(m)))?;
    let (now, by) = (state.now(), Actor::ApiKey(caller.key.id));
    let default_language = state.settings.default_language.clone();
    let recorded = state
        .db(move |conn| {
            let details = ClientDetails {
                external_id: body.external_id.clone(),
                name: body.name.clone(),
                email: body.email.clone(),
                language: body.language.clone(),
                time_zone: body.time_zone.clone(),
            };
            let (client, upserted) = actions::clients::record_client(
                conn,
                by,
                &body.source,
                &details,
                &body.clinician_email,
                &default_language,
                now,
            )?;
            let outcome = match upserted {
                Upserted::Created => "created",
                Upserted::Updated => "updated",
                Upserted::Unchanged => "unchanged",
            };
            Ok(RecordedClient {
                outcome,
                client: view(conn, &client)?,
            })
        })
        .await?;
    Ok(if recorded.outcome == "created" {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(recorded))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClientQuery {
    /// Only clients from this sending system.
    source: Option<String>,
    /// With `source`: the client the sending system knows by this id.
    external_id: Option<String>,
    /// Return clients with an id greater than this (the previous page's `next_after`).
    #[param(value_type = Option<i64>)]
    after: Option<ClientId>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientPage {
    pub clients: Vec<ClientView>,
    /// Pass as `after` for the next page; null when this is the last.
    pub next_after: Option<ClientId>,
}

/// List clients
///
/// In id order; filter by `source` and `external_id` to find one client.
#[utoipa::path(
    get,
    path = "/api/v1/clients",
    operation_id = "listClients",
    tag = "clients",
    params(ClientQuery),
    responses(
        (status = 200, description = "A page of clients", body = ClientPage),
        (status = 400, description = "A query parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/clients")]
async fn list(state: web::Data<Context>, caller: ApiCaller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let q: ClientQuery = query(&req)?;
    let filter = ClientFilter {
        source: q.source,
        external_id: q.external_id,
        after: q.after,
        limit: page_limit(q.limit)?,
    };
    let (now, key_id, limit) = (state.now(), caller.key.id, filter.limit);
    let clients = state
        .db(move |conn| {
            let rows = listing::clients(conn, &filter)?;
            audit_read(
                conn,
                key_id,
                AuditAction::ApiClientsList,
                rows.iter().map(|c| c.id),
                None,
                now,
            )?;
            rows.iter().map(|c| view(conn, c)).collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let next_after = (clients.len() as i64 == limit)
        .then(|| clients.last().map(|c| c.id))
        .flatten();
    Ok(HttpResponse::Ok().json(ClientPage { clients, next_after }))
}

/// Read a client
#[utoipa::path(
    get,
    path = "/api/v1/clients/{id}",
    operation_id = "getClient",
    tag = "clients",
    params(("id" = i64, Path, description = "Rapport's client id")),
    responses(
        (status = 200, description = "The client", body = ClientView),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/clients/{id}")]
async fn read(state: web::Data<Context>, caller: ApiCaller, id: web::Path<ClientId>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let (id, now, key_id) = (id.into_inner(), state.now(), caller.key.id);
    let client = state
        .db(move |conn| {
            let client = clients::find(conn, id)?;
            audit_read(conn, key_id, AuditAction::ApiClientRead, [id], None, now)?;
            view(conn, &client)
        })
        .await?;
    Ok(HttpResponse::Ok().json(client))
}

/// Opt a client out
///
/// The client asked (through the practice) not to receive questionnaires: honoured at once, and every queued
/// questionnaire email is cancelled. Opting out twice changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/clients/{id}/opt-out",
    operation_id = "optOutClient",
    tag = "clients",
    params(("id" = i64, Path, description = "Rapport's client id")),
    responses(
        (status = 200, description = "The client, now opted out", body = ClientView),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["write"]))
)]
#[post("/clients/{id}/opt-out")]
async fn opt_out(
    state: web::Data<Context>,
    caller: ApiCaller,
    id: web::Path<ClientId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Write)?;
    let (id, now, key_id) = (id.into_inner(), state.now(), caller.key.id);
    let client = state
        .db(move |conn| {
            actions::clients::opt_out(conn, Actor::ApiKey(key_id), id, now)?;
            let client = clients::find(conn, id)?;
            view(conn, &client)
        })
        .await?;
    Ok(HttpResponse::Ok().json(client))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientResponses {
    pub client_id: ClientId,
    /// Oldest first.
    pub responses: Vec<ResponseView>,
}

/// A client's responses and scores
///
/// Every answered questionnaire, oldest first, with totals, the common 0–100 score and subscales (the client's
/// free text only when the clinic lets others than the clinician read it).
#[utoipa::path(
    get,
    path = "/api/v1/clients/{id}/responses",
    operation_id = "listClientResponses",
    tag = "clients",
    params(("id" = i64, Path, description = "Rapport's client id")),
    responses(
        (status = 200, description = "The client's responses", body = ClientResponses),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/clients/{id}/responses")]
async fn responses(
    state: web::Data<Context>,
    caller: ApiCaller,
    id: web::Path<ClientId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let (id, now, key_id) = (id.into_inner(), state.now(), caller.key.id);
    let body = state
        .db(move |conn| {
            let rows = actions::clients::read_responses(conn, Actor::ApiKey(key_id), id, now)?;
            Ok(ClientResponses {
                client_id: id,
                responses: rows.iter().map(|(r, slug, v)| ResponseView::new(r, slug, *v)).collect(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// A client's full record
///
/// Everything Rapport holds about the client, for a subject access request: details, appointments,
/// invitations, responses with answers (and free text when the clinic allows others than the clinician to read it;
/// `withheld` says when it was left out), alerts with their signals and repair log, and the
/// audit entries about them.
#[utoipa::path(
    get,
    path = "/api/v1/clients/{id}/record",
    operation_id = "getClientRecord",
    tag = "clients",
    params(("id" = i64, Path, description = "Rapport's client id")),
    responses(
        (status = 200, description = "The full record", body = ClientRecordView),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/clients/{id}/record")]
async fn client_record(
    state: web::Data<Context>,
    caller: ApiCaller,
    id: web::Path<ClientId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let (id, now, key_id) = (id.into_inner(), state.now(), caller.key.id);
    let body = state
        .db(move |conn| {
            let record = actions::clients::read_record(conn, Actor::ApiKey(key_id), id, now)?;
            Ok(ClientRecordView::new(&record, now))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(upsert)
        .service(list)
        .service(read)
        .service(opt_out)
        .service(responses)
        .service(client_record);
}
