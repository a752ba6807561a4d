//! The published instrument versions (each is a FHIR Questionnaire).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiCaller;
use crate::context::Context;
use crate::json::{Problem, utc_text};
use crate::store::api_keys::Scope;
use crate::store::instruments;
use crate::web::error::ApiError;

/// A published version of a questionnaire. Versions never change once published.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstrumentView {
    /// The version's id: `instrument_id` on invitations and responses, and the FHIR Questionnaire id.
    pub id: i64,
    #[schema(example = "rapport-alliance")]
    pub slug: String,
    pub version: i32,
    pub title: String,
    /// New invitations use this version.
    pub is_default: bool,
    pub published_at: String,
    /// The FHIR Questionnaire for this version.
    pub fhir_questionnaire: String,
}

/// List instrument versions
#[utoipa::path(
    get,
    path = "/api/v1/instruments",
    operation_id = "listInstruments",
    tag = "fhir",
    responses(
        (status = 200, description = "Every published version", body = Vec<InstrumentView>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/instruments")]
async fn list(state: web::Data<Context>, caller: ApiCaller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let rows = state.db(instruments::list).await?;
    let base = super::fhir::FhirBase(state.settings.base_url.to_string());
    let views: Vec<InstrumentView> = rows
        .into_iter()
        .map(|r| InstrumentView {
            fhir_questionnaire: base.questionnaire(r.id),
            id: r.id,
            slug: r.slug,
            version: r.version,
            title: r.title,
            is_default: r.is_default,
            published_at: utc_text(r.published_at),
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list);
}
