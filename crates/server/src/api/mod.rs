//! The JSON API under `/api/v1`.

pub mod calls;
pub mod cases;
pub mod chats;
pub mod contacts;
pub mod dashboard;
pub mod directory;
pub mod gaps;
pub mod insights;
pub mod linkage;
pub mod openapi;
pub mod referrals;
pub mod review;
pub mod screening;
pub mod sms;
pub mod users;

use crate::error::AppError;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

/// The largest JSON body the API reads.
pub const MAX_JSON: usize = 1 << 20;

/// A JSON body parsed into `T`, strictly: wrong content type is a 415, unreadable JSON a 400, and a
/// missing, unknown or invalid field a 422 naming it by its path.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim() == "application/json" || m.trim().ends_with("+json"))
            });
        if !json {
            return Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "send Content-Type: application/json",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON)
            .await
            .map_err(|_| {
                AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Too large",
                    format!("the body exceeds {MAX_JSON} bytes"),
                )
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON strictly into `T`, naming the field of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            AppError::bad_request(format!("the body is not valid JSON: {inner}"))
        } else {
            AppError::invalid(
                if path == "." { "body".to_owned() } else { path },
                strip_position(&inner.to_string()),
            )
        }
    })
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// A query string parsed into `T`; an unknown or invalid parameter is a 422 naming it.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                AppError::invalid(
                    if field == "." { "query".into() } else { field },
                    e.inner().to_string(),
                )
            })
    }
}
