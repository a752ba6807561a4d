//! HL7 FHIR R4: each instrument version as a `Questionnaire`, each response
//! as a `QuestionnaireResponse` (scores carried as read-only calculated
//! items), searched by client as a paged `searchset` Bundle, and each client
//! as a minimal `Patient` so the responses' `subject` resolves.

use crate::store::ClientId;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDateTime;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{ApiCaller, audit_read, query};
use crate::context::Context;
use crate::domain::instrument::{Answer, InstrumentDefinition, Item, ItemKind, ScaleSpec};
use crate::json::{Problem, utc_text};
use crate::store::api_keys::Scope;
use crate::store::audit::AuditAction;
use crate::store::clients::Client;
use crate::store::responses::Response;
use crate::store::schema::responses as responses_table;
use crate::store::{StoreError, clients, history, instruments, responses};
use crate::web::error::{ApiError, AppError};

pub const FHIR_JSON: &str = "application/fhir+json";

const MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
const MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
const SLIDER_STEP: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-sliderStepValue";

/// Where the resources live, for canonical URLs and `fullUrl`s.
#[derive(Debug, Clone)]
pub struct FhirBase(pub String);

impl FhirBase {
    pub fn questionnaire(&self, id: i64) -> String {
        format!("{}/api/v1/fhir/Questionnaire/{id}", self.0.trim_end_matches('/'))
    }

    pub fn response(&self, id: i64) -> String {
        format!(
            "{}/api/v1/fhir/QuestionnaireResponse/{id}",
            self.0.trim_end_matches('/')
        )
    }

    /// A page of the response search for one client.
    pub fn response_search(&self, client_id: ClientId, count: i64, page: i64) -> String {
        format!(
            "{}/api/v1/fhir/QuestionnaireResponse?subject=Patient/{client_id}&_count={count}&_page={page}",
            self.0.trim_end_matches('/')
        )
    }
}

/// The identifier system for a practice system's client ids.
fn identifier_system(source: &str) -> String {
    format!("urn:rapport:source:{}", utf8_percent_encode(source, NON_ALPHANUMERIC))
}

/// The published version row that a Questionnaire describes.
pub struct VersionFacts<'a> {
    pub id: i64,
    pub published_at: NaiveDateTime,
    pub definition: &'a InstrumentDefinition,
}

fn is_whole(x: f64) -> bool {
    x.fract() == 0.0 && x.abs() < 1e15
}

/// Scale items are integers when every point is; otherwise decimals.
fn integer_scale(scale: &ScaleSpec) -> bool {
    is_whole(scale.min) && is_whole(scale.max) && is_whole(scale.step)
}

fn number(value: f64, integer: bool) -> Value {
    if integer { json!(value as i64) } else { json!(value) }
}

/// A FHIR `name`: letters and digits, starting with a capital.
fn computable_name(slug: &str) -> String {
    let name: String = slug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_uppercase()) {
        name
    } else {
        format!("Q{name}")
    }
}

fn language(def: &InstrumentDefinition) -> String {
    def.languages().first().cloned().unwrap_or_else(|| "en".into())
}

/// The linkIds of the calculated items, clear of the instrument's own items.
fn total_link(def: &InstrumentDefinition) -> &'static str {
    if def.item("total").is_some() {
        "score-total"
    } else {
        "total"
    }
}

const COMMON_LINK: &str = "common-score";

fn subscale_link(id: &str) -> String {
    format!("subscale-{id}")
}

fn question(item: &Item, lang: &str) -> Value {
    let mut q = json!({
        "linkId": item.id,
        "text": item.text_in(lang, false).unwrap_or(&item.id),
        "required": item.required,
    });
    match &item.kind {
        ItemKind::Scale(scale) => {
            let integer = integer_scale(scale);
            q["type"] = json!(if integer { "integer" } else { "decimal" });
            let value_key = if integer { "valueInteger" } else { "valueDecimal" };
            let mut extensions = vec![
                json!({ "url": MIN_VALUE, value_key: number(scale.min, integer) }),
                json!({ "url": MAX_VALUE, value_key: number(scale.max, integer) }),
            ];
            if integer {
                extensions.push(json!({ "url": SLIDER_STEP, "valueInteger": scale.step as i64 }));
            }
            q["extension"] = json!(extensions);
        }
        ItemKind::YesNo => q["type"] = json!("boolean"),
        ItemKind::Choice { options } => {
            q["type"] = json!("choice");
            q["answerOption"] = json!(
                options
                    .iter()
                    .map(|o| json!({ "valueCoding": { "code": o.value, "display": o.text.get(lang).unwrap_or(&o.value) } }))
                    .collect::<Vec<_>>()
            );
        }
        ItemKind::Text { max_length } => {
            q["type"] = json!("text");
            q["maxLength"] = json!(max_length);
        }
    }
    q
}

fn calculated(link_id: &str, text: &str) -> Value {
    json!({ "linkId": link_id, "text": text, "type": "decimal", "required": false, "readOnly": true })
}

/// An instrument version as a FHIR R4 Questionnaire.
pub fn questionnaire_resource(base: &FhirBase, version: &VersionFacts) -> Value {
    let def = version.definition;
    let lang = language(def);
    let mut items: Vec<Value> = def.items().iter().map(|i| question(i, &lang)).collect();
    items.push(calculated(total_link(def), "Total score (calculated by Rapport)"));
    items.push(calculated(
        COMMON_LINK,
        "Total on a common 0–100 scale, 100 best (calculated by Rapport)",
    ));
    for sub in def.subscales() {
        let title = sub.title.get(&lang).unwrap_or(&sub.id);
        items.push(calculated(
            &subscale_link(&sub.id),
            &format!("Subscale: {title} (calculated by Rapport)"),
        ));
    }
    json!({
        "resourceType": "Questionnaire",
        "id": version.id.to_string(),
        "url": base.questionnaire(version.id),
        "identifier": [{ "system": "urn:rapport:instrument", "value": def.id() }],
        "version": def.version().to_string(),
        "name": computable_name(def.id()),
        "title": def.title().get(&lang).unwrap_or(def.id()),
        "status": "active",
        "subjectType": ["Patient"],
        "date": utc_text(version.published_at),
        "language": lang,
        "item": items,
    })
}

fn answer_value(item: &Item, answer: &Answer) -> Option<Value> {
    Some(match (&item.kind, answer) {
        (ItemKind::Scale(scale), Answer::Number(n)) if integer_scale(scale) => json!({ "valueInteger": *n as i64 }),
        (ItemKind::Scale(_), Answer::Number(n)) => json!({ "valueDecimal": n }),
        (ItemKind::YesNo, Answer::Bool(b)) => json!({ "valueBoolean": b }),
        (ItemKind::Choice { options }, Answer::Choice(c)) => {
            let display = options
                .iter()
                .find(|o| o.value == *c)
                .and_then(|o| o.text.0.values().next().cloned());
            let mut coding = json!({ "code": c });
            if let Some(d) = display {
                coding["display"] = json!(d);
            }
            json!({ "valueCoding": coding })
        }
        (ItemKind::Text { .. }, Answer::Text(t)) if !t.trim().is_empty() => json!({ "valueString": t }),
        _ => return None,
    })
}

/// A response as a FHIR R4 QuestionnaireResponse. `amended` when the
/// client's data was erased after they answered (their free text is gone).
pub fn response_resource(base: &FhirBase, def: &InstrumentDefinition, response: &Response, erased: bool) -> Value {
    // The questions as the client read them.
    let lang = response
        .language
        .clone()
        .filter(|l| def.languages().contains(l))
        .unwrap_or_else(|| language(def));
    let mut answers = response.answers();
    if let (Some(item), Some(comment)) = (
        def.item_with_role(crate::domain::instrument::ItemRole::Comment),
        &response.comment,
    ) {
        answers.0.insert(item.id.clone(), Answer::Text(comment.clone()));
    }
    let mut items = vec![];
    for item in def.items() {
        let Some(value) = answers.get(&item.id).and_then(|a| answer_value(item, a)) else {
            continue;
        };
        items.push(json!({
            "linkId": item.id,
            "text": item.text_in(&lang, false).unwrap_or(&item.id),
            "answer": [value],
        }));
    }
    let scores = response.scores();
    let mut calculated = vec![
        (total_link(def).to_string(), response.total),
        (COMMON_LINK.to_string(), response.common_score),
    ];
    for sub in def.subscales() {
        calculated.push((subscale_link(&sub.id), scores.subscales.get(&sub.id).copied().flatten()));
    }
    for (link_id, value) in calculated {
        if let Some(v) = value {
            items.push(json!({ "linkId": link_id, "answer": [{ "valueDecimal": v }] }));
        }
    }
    json!({
        "resourceType": "QuestionnaireResponse",
        "id": response.id.to_string(),
        "questionnaire": format!("{}|{}", base.questionnaire(response.instrument_id), def.version()),
        "language": lang,
        "status": if erased { "amended" } else { "completed" },
        "subject": { "reference": format!("Patient/{}", response.client_id) },
        "authored": utc_text(response.submitted_at),
        "item": items,
    })
}

/// A client as a minimal FHIR R4 Patient, so a response's `subject`
/// resolves: the practice system's identifier, the name and the language —
/// less than the API's client object shows (no email, no time zone). An
/// erased client has the placeholder name, no identifier and `active` false.
pub fn patient_resource(client: &Client) -> Value {
    let mut resource = json!({
        "resourceType": "Patient",
        "id": client.id.to_string(),
        "meta": { "lastUpdated": utc_text(client.updated_at) },
        "active": client.erased_at.is_none(),
        "name": [{ "text": client.name }],
        "communication": [{
            "language": { "coding": [{ "system": "urn:ietf:bcp:47", "code": client.language }] }
        }],
    });
    if let (Some(source), Some(external_id)) = (&client.source, &client.external_id) {
        resource["identifier"] = json!([{ "system": identifier_system(source), "value": external_id }]);
    }
    resource
}

fn fhir(body: &Value) -> HttpResponse {
    HttpResponse::Ok().content_type(FHIR_JSON).body(body.to_string())
}

/// Questionnaire for an instrument version
///
/// The id is the instrument version's id (see `GET /api/v1/instruments`, or `instrument_id` on invitations and
/// responses). Items carry linkId, type (integer, decimal, boolean, choice, text), required, and min/max
/// extensions; the scores appear as read-only calculated items `total`, `common-score` and `subscale-ID`.
#[utoipa::path(
    get,
    path = "/api/v1/fhir/Questionnaire/{id}",
    operation_id = "fhirReadQuestionnaire",
    tag = "fhir",
    params(("id" = i64, Path, description = "The instrument version's id")),
    responses(
        (status = 200, description = "A FHIR R4 Questionnaire", body = Object, content_type = "application/fhir+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such instrument version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/fhir/Questionnaire/{id}")]
pub async fn questionnaire(
    state: web::Data<Context>,
    caller: ApiCaller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let id = id.into_inner();
    let base = FhirBase(state.settings.base_url.to_string());
    let (row, def) = state
        .db(move |conn| Ok((instruments::find(conn, id)?, history::instrument(conn, id)?)))
        .await?;
    Ok(fhir(&questionnaire_resource(
        &base,
        &VersionFacts {
            id: row.id,
            published_at: row.published_at,
            definition: &def,
        },
    )))
}

/// The most responses one page of the search holds, and the default.
pub const MAX_COUNT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResponseSearch {
    /// The client: `12` or `Patient/12`.
    #[param(min_length = 1, example = "Patient/12")]
    subject: Option<String>,
    /// Responses per page, 1–100 (default 100).
    #[serde(rename = "_count")]
    #[param(minimum = 1, maximum = 100)]
    count: Option<i64>,
    /// The page, from 1 (default 1). The Bundle's `next` link gives the following page.
    #[serde(rename = "_page")]
    #[param(minimum = 1)]
    page: Option<i64>,
}

/// `_count` and `_page`, checked.
fn page_of(search: &ResponseSearch) -> Result<(i64, i64), ApiError> {
    let count = search.count.unwrap_or(MAX_COUNT);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(ApiError(AppError::BadRequest(format!(
            "_count must be between 1 and {MAX_COUNT}, got {count}"
        ))));
    }
    let page = search.page.unwrap_or(1);
    if page < 1 {
        return Err(ApiError(AppError::BadRequest(format!(
            "_page must be 1 or more, got {page}"
        ))));
    }
    Ok((count, page))
}

fn subject_id(text: Option<&str>) -> Result<ClientId, ApiError> {
    let text = text.map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError(AppError::BadRequest(
            "give the client as subject, e.g. ?subject=12 or ?subject=Patient/12".into(),
        ))
    })?;
    text.strip_prefix("Patient/")
        .unwrap_or(text)
        .parse::<ClientId>()
        .map_err(|_| {
            ApiError(AppError::BadRequest(format!(
                "subject \"{text}\" is not a client id such as 12 or Patient/12"
            )))
        })
}

/// Search QuestionnaireResponses by client
///
/// A `searchset` Bundle of the client's responses, oldest first: each with linkId per item, `status` completed
/// (or amended once the client's data was erased), `subject` `Patient/ID` (see `GET /api/v1/fhir/Patient/{id}`),
/// the `questionnaire` canonical with its version, and the scores as calculated items. Paged by `_count` and
/// `_page`: `total` counts every match, and a `link` with relation `next` gives the following page while there is one.
#[utoipa::path(
    get,
    path = "/api/v1/fhir/QuestionnaireResponse",
    operation_id = "fhirSearchQuestionnaireResponses",
    tag = "fhir",
    params(ResponseSearch),
    responses(
        (status = 200, description = "A FHIR R4 Bundle (searchset)", body = Object, content_type = "application/fhir+json"),
        (status = 400, description = "subject is missing or not a client id, or _count or _page is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/fhir/QuestionnaireResponse")]
pub async fn questionnaire_responses(
    state: web::Data<Context>,
    caller: ApiCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let search: ResponseSearch = query(&req)?;
    let client_id = subject_id(search.subject.as_deref())?;
    let (count, page) = page_of(&search)?;
    let skip = usize::try_from((page - 1).saturating_mul(count)).unwrap_or(usize::MAX);
    let base = FhirBase(state.settings.base_url.to_string());
    let (now, key_id) = (state.now(), caller.key.id);
    let search_base = base.clone();
    let (total, entries) = state
        .db(move |conn| {
            let client = clients::find(conn, client_id)?;
            audit_read(conn, key_id, AuditAction::ApiFhirResponses, [client_id], None, now)?;
            let all = responses::for_client(conn, client_id)?;
            let total = all.len();
            let mut entries = vec![];
            for response in all.into_iter().skip(skip).take(count as usize) {
                let def = history::instrument(conn, response.instrument_id)?;
                let resource = response_resource(&search_base, &def, &response, client.erased_at.is_some());
                entries.push(json!({
                    "fullUrl": search_base.response(response.id),
                    "resource": resource,
                    "search": { "mode": "match" },
                }));
            }
            Ok((total, entries))
        })
        .await?;
    let mut links = vec![json!({ "relation": "self", "url": base.response_search(client_id, count, page) })];
    if page > 1 {
        links.push(json!({ "relation": "previous", "url": base.response_search(client_id, count, page - 1) }));
    }
    if skip.saturating_add(entries.len()) < total {
        links.push(json!({ "relation": "next", "url": base.response_search(client_id, count, page + 1) }));
    }
    Ok(fhir(&json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    })))
}

/// Read a QuestionnaireResponse
///
/// One response, as listed in the search Bundle (its `fullUrl`).
#[utoipa::path(
    get,
    path = "/api/v1/fhir/QuestionnaireResponse/{id}",
    operation_id = "fhirReadQuestionnaireResponse",
    tag = "fhir",
    params(("id" = i64, Path, description = "Rapport's response id")),
    responses(
        (status = 200, description = "A FHIR R4 QuestionnaireResponse", body = Object, content_type = "application/fhir+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such response", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/fhir/QuestionnaireResponse/{id}")]
pub async fn questionnaire_response(
    state: web::Data<Context>,
    caller: ApiCaller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    use diesel::prelude::*;
    caller.require(Scope::Read)?;
    let id = id.into_inner();
    let base = FhirBase(state.settings.base_url.to_string());
    let (now, key_id) = (state.now(), caller.key.id);
    let resource = state
        .db(move |conn| {
            let response: Response = responses_table::table
                .find(id)
                .select(Response::as_select())
                .first(conn)
                .map_err(StoreError::or_not_found)?;
            let client = clients::find(conn, response.client_id)?;
            audit_read(conn, key_id, AuditAction::ApiFhirResponse, [client.id], None, now)?;
            let def = history::instrument(conn, response.instrument_id)?;
            Ok(response_resource(&base, &def, &response, client.erased_at.is_some()))
        })
        .await?;
    Ok(fhir(&resource))
}

/// Read a Patient
///
/// The client a QuestionnaireResponse's `subject` (`Patient/ID`) refers to, as a minimal FHIR R4 Patient:
/// `identifier` (the practice system's id for them, system `urn:rapport:source:SOURCE`), `name` as text and the
/// `communication` language. After erasure: the placeholder name, no identifier, `active` false.
#[utoipa::path(
    get,
    path = "/api/v1/fhir/Patient/{id}",
    operation_id = "fhirReadPatient",
    tag = "fhir",
    params(("id" = i64, Path, description = "Rapport's client id")),
    responses(
        (status = 200, description = "A FHIR R4 Patient", body = Object, content_type = "application/fhir+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["read"]))
)]
#[get("/fhir/Patient/{id}")]
pub async fn patient(
    state: web::Data<Context>,
    caller: ApiCaller,
    id: web::Path<ClientId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Read)?;
    let id = id.into_inner();
    let (now, key_id) = (state.now(), caller.key.id);
    let client = state
        .db(move |conn| {
            let client = clients::find(conn, id)?;
            audit_read(conn, key_id, AuditAction::ApiFhirPatient, [client.id], None, now)?;
            Ok(client)
        })
        .await?;
    Ok(fhir(&patient_resource(&client)))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(questionnaire)
        .service(questionnaire_responses)
        .service(questionnaire_response)
        .service(patient);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instrument::{Answers, shipped_instruments};
    use crate::store::{InvitationId, StaffId};

    fn alliance() -> InstrumentDefinition {
        shipped_instruments()
            .into_iter()
            .find(|i| i.id() == "rapport-alliance")
            .unwrap()
    }

    fn base() -> FhirBase {
        FhirBase("https://clinic.example/".into())
    }

    #[test]
    fn questionnaire_items_have_fhir_types_and_constraints() {
        let def = alliance();
        let published = chrono::NaiveDate::from_ymd_opt(2026, 1, 5)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let q = questionnaire_resource(
            &base(),
            &VersionFacts {
                id: 3,
                published_at: published,
                definition: &def,
            },
        );
        assert_eq!(q["resourceType"], "Questionnaire");
        assert_eq!(q["status"], "active");
        assert_eq!(q["url"], "https://clinic.example/api/v1/fhir/Questionnaire/3");
        assert_eq!(q["name"], "RapportAlliance");
        assert_eq!(q["date"], "2026-01-05T09:00:00Z");
        let item = |id: &str| {
            q["item"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["linkId"] == id)
                .unwrap()
                .clone()
        };
        let bond = item("bond");
        assert_eq!(bond["type"], "integer");
        assert_eq!(bond["required"], true);
        assert_eq!(bond["extension"][0], json!({ "url": MIN_VALUE, "valueInteger": 0 }));
        assert_eq!(bond["extension"][1], json!({ "url": MAX_VALUE, "valueInteger": 10 }));
        assert_eq!(item("uncomfortable")["type"], "boolean");
        assert_eq!(item("note")["type"], "text");
        assert_eq!(item("note")["maxLength"], 2000);
        assert_eq!(item("total")["readOnly"], true);
        assert_eq!(item("common-score")["type"], "decimal");
        assert_eq!(item("subscale-bond")["readOnly"], true);
    }

    #[test]
    fn responses_carry_typed_answers_and_calculated_totals() {
        let def = alliance();
        let answers = Answers::new()
            .with("bond", Answer::Number(10.0))
            .with("goals", Answer::Number(9.0))
            .with("approach", Answer::Number(9.0))
            .with("overall", Answer::Number(10.0))
            .with("uncomfortable", Answer::Bool(false));
        let scores = def.score(&answers);
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(11, 5, 0)
            .unwrap();
        let response = Response {
            id: 7,
            invitation_id: InvitationId(4),
            client_id: ClientId(12),
            instrument_id: 3,
            answers: serde_json::to_string(&answers).unwrap(),
            total: scores.total,
            common_score: scores.common_0_100,
            scores: serde_json::to_string(&scores).unwrap(),
            screener_uncomfortable: Some(false),
            comment: Some("Thank you".into()),
            submitted_at: at,
            language: Some("en".into()),
        };
        let r = response_resource(&base(), &def, &response, false);
        assert_eq!(r["resourceType"], "QuestionnaireResponse");
        assert_eq!(r["status"], "completed");
        assert_eq!(r["subject"]["reference"], "Patient/12");
        assert_eq!(
            r["questionnaire"],
            "https://clinic.example/api/v1/fhir/Questionnaire/3|1"
        );
        assert_eq!(r["authored"], "2026-03-02T11:05:00Z");
        let answer = |id: &str| {
            r["item"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["linkId"] == id)
                .map(|i| i["answer"][0].clone())
        };
        assert_eq!(answer("bond"), Some(json!({ "valueInteger": 10 })));
        assert_eq!(answer("uncomfortable"), Some(json!({ "valueBoolean": false })));
        assert_eq!(answer("note"), Some(json!({ "valueString": "Thank you" })));
        assert_eq!(answer("total"), Some(json!({ "valueDecimal": 38.0 })));
        assert_eq!(answer("common-score"), Some(json!({ "valueDecimal": 95.0 })));
        assert_eq!(answer("subscale-bond"), Some(json!({ "valueDecimal": 10.0 })));
        // Every item has an answer: no empty answer arrays.
        assert!(
            r["item"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| !i["answer"].as_array().unwrap().is_empty())
        );
        let erased = response_resource(
            &base(),
            &def,
            &Response {
                comment: None,
                ..response
            },
            true,
        );
        assert_eq!(erased["status"], "amended");
        assert!(erased["item"].as_array().unwrap().iter().all(|i| i["linkId"] != "note"));
    }

    #[test]
    fn patients_show_little_and_nothing_after_erasure() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(11, 5, 0)
            .unwrap();
        let client = Client {
            id: ClientId(12),
            clinician_id: StaffId(1),
            name: "Ann Example".into(),
            email: Some("ann@example.org".into()),
            language: "en".into(),
            time_zone: Some("Europe/London".into()),
            opted_out: false,
            opted_out_at: None,
            invitations_paused: false,
            pause_reason: Some("private".into()),
            easy_read: false,
            source: Some("pms one".into()),
            external_id: Some("C-1".into()),
            erased_at: None,
            created_at: at,
            updated_at: at,
        };
        let p = patient_resource(&client);
        assert_eq!(p["resourceType"], "Patient");
        assert_eq!(p["id"], "12");
        assert_eq!(p["active"], true);
        assert_eq!(p["name"][0]["text"], "Ann Example");
        assert_eq!(
            p["identifier"][0],
            json!({ "system": "urn:rapport:source:pms%20one", "value": "C-1" })
        );
        let text = p.to_string();
        for private in ["ann@example.org", "Europe/London", "private"] {
            assert!(!text.contains(private), "{private} in {text}");
        }
        let erased = patient_resource(&Client {
            name: "Erased client #12".into(),
            email: None,
            source: None,
            external_id: None,
            erased_at: Some(at),
            ..client
        });
        assert_eq!(erased["active"], false);
        assert!(erased.get("identifier").is_none());
    }

    #[test]
    fn the_page_size_is_bounded() {
        let search = |count, page| ResponseSearch {
            subject: Some("12".into()),
            count,
            page,
        };
        assert_eq!(page_of(&search(None, None)).unwrap(), (MAX_COUNT, 1));
        assert_eq!(page_of(&search(Some(1), Some(3))).unwrap(), (1, 3));
        for (count, page) in [(Some(0), None), (Some(101), None), (Some(-1), None), (None, Some(0))] {
            assert!(page_of(&search(count, page)).is_err(), "{count:?} {page:?}");
        }
    }

    #[test]
    fn names_are_computable() {
        assert_eq!(computable_name("rapport-alliance"), "RapportAlliance");
        assert_eq!(computable_name("12-items"), "Q12Items");
    }
}
