//! The JSON API for practice systems and integrations. API-key auth
//! (`Authorization: Bearer KEY`), errors as RFC 9457 problem+json.

mod appointments;

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, web};

use super::error::{ApiError, AppError};
use super::state::AppState;
use crate::store::api_keys::{self, ApiKey, Scope};

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
                .app_data::<web::Data<AppState>>()
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

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(|err, _| {
                ApiError(AppError::BadRequest(format!("the JSON body is not valid: {err}"))).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError(AppError::NotFound).into()))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError(AppError::BadRequest(format!("a query parameter is not valid: {err}"))).into()
            }))
            .configure(appointments::routes)
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError(AppError::NotFound))
            })),
    );
}
