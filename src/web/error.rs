//! The one web error type, mapped to status codes and a calm HTML page
//! (pages) or an RFC 9457 problem+json body (the API).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("please sign in")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("the service is not ready: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Invalid(m) => AppError::BadRequest(m),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Unreachable(m) | StoreError::Pool(m) => AppError::Unavailable(m),
            other if other.is_temporary() => AppError::Unavailable(other.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECONDS: &str = "5";

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl AppError {
    pub fn title(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "Something in the request was not right",
            AppError::Unauthenticated => "Please sign in",
            AppError::Forbidden(_) => "This page is not available to you",
            AppError::NotFound => "Page not found",
            AppError::Conflict(_) => "That could not be saved",
            AppError::TooManyRequests(_) => "Please wait a moment",
            AppError::PayloadTooLarge(_) => "That is too much to send at once",
            AppError::MethodNotAllowed(_) => "This address does not take that kind of request",
            AppError::Unavailable(_) => "The service is not ready",
            AppError::Internal(_) => "Something went wrong on our side",
        }
    }

    /// What the person reading the page should know. Internal details stay
    /// in the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::BadRequest(m)
            | AppError::Forbidden(m)
            | AppError::Conflict(m)
            | AppError::TooManyRequests(m)
            | AppError::PayloadTooLarge(m)
            | AppError::MethodNotAllowed(m) => m.clone(),
            AppError::Unauthenticated => "Your session has ended or you are not signed in.".into(),
            AppError::NotFound => "There is nothing at this address, or it is not yours to see.".into(),
            AppError::Unavailable(_) => {
                "The database is busy or cannot be reached just now. Please try again shortly.".into()
            }
            AppError::Internal(_) => {
                "The problem has been logged. Please try again, and tell your administrator if it happens again.".into()
            }
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(detail) | AppError::Unavailable(detail) = self {
            tracing::error!(error = %detail, "request failed");
        }
        if let AppError::Unauthenticated = self {
            return HttpResponse::SeeOther()
                .insert_header(("Location", "/sign-in"))
                .finish();
        }
        let body = super::views::layout::error_page(self.status_code(), self.title(), &self.public_message());
        let mut response = super::views::html_page(self.status_code(), body);
        if let AppError::Unavailable(_) = self {
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// API errors: the same kinds, as `application/problem+json` (RFC 9457).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ref other => other.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(detail) | AppError::Unavailable(detail) = &self.0 {
            tracing::error!(error = %detail, "API request failed");
        }
        let status = self.status_code();
        let detail = match &self.0 {
            AppError::Unauthenticated => "Send an API key as 'Authorization: Bearer KEY'.".to_string(),
            other => other.public_message(),
        };
        let mut response = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(("Retry-After", RETRY_AFTER_SECONDS));
        }
        response
            .content_type("application/problem+json")
            .json(serde_json::json!({
                "type": "about:blank",
                "title": status.canonical_reason().unwrap_or("Error"),
                "status": status.as_u16(),
                "detail": detail,
            }))
    }
}
