//! Checks every request before any handler sees it: text containing the
//! NUL character (which PostgreSQL cannot store and no person types) is
//! refused with a 400, and an API body over the limit with a 413. One
//! place, so no form, API field, CSV upload or filter can forget it.

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, HttpResponse, ResponseError};
use futures_util::StreamExt;

use super::api::BODY_LIMIT;
use super::error::{ApiError, AppError};

/// Largest body read at all (the CSV import's limit, with room for the
/// multipart framing).
const MAX_BODY: usize = 6 * 1024 * 1024;

const NUL_MESSAGE: &str = "Text must not contain the NUL character (U+0000). Please remove it and send again.";

fn is_api(req: &ServiceRequest) -> bool {
    req.path().starts_with("/api/")
}

fn refuse(req: ServiceRequest, error: AppError) -> ServiceResponse<BoxBody> {
    let response: HttpResponse = if is_api(&req) {
        ApiError(error).error_response()
    } else {
        error.error_response()
    };
    req.into_response(response)
}

/// A raw NUL byte, or NUL escaped for JSON (`\u0000`).
pub fn contains_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

/// NUL in URL encoding (`%00`), as in addresses and form bodies, or raw.
pub fn contains_encoded_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(3).any(|w| w == b"%00")
}

pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if contains_encoded_nul(req.uri().to_string().as_bytes()) {
        return Ok(refuse(req, AppError::BadRequest(NUL_MESSAGE.into())));
    }
    let limit = if is_api(&req) { BODY_LIMIT } else { MAX_BODY };
    let too_large = || AppError::PayloadTooLarge(format!("The request body is larger than {} KiB.", limit / 1024));
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(refuse(req, too_large()));
    }
    let has_body =
        declared.is_some_and(|n| n > 0) || req.headers().contains_key(actix_web::http::header::TRANSFER_ENCODING);
    if has_body {
        let mut payload = req.take_payload();
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    return Ok(refuse(
                        req,
                        AppError::BadRequest(format!("The request body could not be read: {e}")),
                    ));
                }
            };
            if body.len() + chunk.len() > limit {
                return Ok(refuse(req, too_large()));
            }
            body.extend_from_slice(&chunk);
        }
        let form = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if contains_nul(&body) || (form && contains_encoded_nul(&body)) {
            return Ok(refuse(req, AppError::BadRequest(NUL_MESSAGE.into())));
        }
        req.set_payload(Payload::from(Bytes::from(body)));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::{contains_encoded_nul, contains_nul};

    #[test]
    fn finds_nul_in_every_encoding() {
        assert!(contains_encoded_nul(b"comment=a%00b"));
        assert!(contains_nul(br#"{"name":"a\u0000b"}"#));
        assert!(contains_nul(br#"{"name":"a\U0000b"}"#));
        assert!(contains_nul(b"a,b\0,c"));
        assert!(!contains_encoded_nul(b"comment=100%25+fine&x=%2000"));
        assert!(!contains_nul(br#"{"name":"caf\u00e9 100%00"}"#));
    }
}
