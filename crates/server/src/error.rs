//! The application's one error type and how each failure reaches the client.
//!
//! Policy:
//! - A client's mistake is a [`AppError::Problem`]: an RFC 9457 `application/problem+json` body with a
//!   4xx status, a title, a detail, and for invalid input the list of fields and what was wrong with each.
//!   Pages render the same problem as HTML.
//! - A database too busy to take the request now (see [`StoreError::is_overloaded`]) is a 503 problem with
//!   `Retry-After`: the request was fine and may be made again.
//! - Anything else is [`AppError::Internal`]: logged once here, with its whole cause chain and no personal
//!   data, and answered with an opaque 500. A 500 always means a bug or an outage, never bad input.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lantern_store::StoreError;
use serde::Serialize;

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as a JSON path (`means[2]`, `username`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An RFC 9457 problem.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// The HTTP status.
    #[serde(serialize_with = "ser_status")]
    #[schema(value_type = u16)]
    pub status: StatusCode,
    /// A short, fixed summary of the kind of problem.
    pub title: &'static str,
    /// What happened this time.
    pub detail: String,
    /// Invalid fields, when the problem is invalid input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

fn ser_status<S: serde::Serializer>(s: &StatusCode, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_u16(s.as_u16())
}

/// Every way a request can fail.
#[derive(Debug)]
pub enum AppError {
    /// The client's mistake, or a refusal.
    Problem(Box<Problem>),
    /// Our failure.
    Internal(anyhow::Error),
}

impl AppError {
    /// A problem with a status, a title and a detail.
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        AppError::Problem(Box::new(Problem {
            status,
            title,
            detail: detail.into(),
            errors: vec![],
        }))
    }

    /// 422: the input was understood but a field is invalid.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid_fields(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// 422 naming several fields.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        AppError::Problem(Box::new(Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "Invalid input",
            detail,
            errors,
        }))
    }

    /// 400: the body could not be read as the expected format.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Malformed request", detail)
    }

    /// 401: no valid credentials.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Not signed in",
            "sign in, or send a valid bearer token",
        )
    }

    /// 403: signed in, but not allowed.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "your role does not allow this",
        )
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("{what} not found"),
        )
    }

    /// The problem this error shows the client.
    pub fn problem(&self) -> Problem {
        match self {
            AppError::Problem(p) => (**p).clone(),
            AppError::Internal(_) => Problem {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                title: "Internal error",
                detail: "something went wrong on our side; it has been logged".into(),
                errors: vec![],
            },
        }
    }

    /// Logs an internal error once, with its cause chain.
    pub fn log(&self) {
        if let AppError::Internal(e) = self {
            tracing::error!(error.chain = %format!("{e:#}"), "request failed");
        }
    }
}

/// How many seconds a client is asked to wait before trying a request again when the database is busy.
pub const RETRY_AFTER_SECONDS: u32 = 1;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if e.is_overloaded() {
            tracing::warn!(error = %format!("{:#}", anyhow::Error::new(e)), "the database is busy; answered 503");
            return AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                format!(
                    "the database is too busy to take this request now; nothing was changed, try again in \
                     {RETRY_AFTER_SECONDS} s"
                ),
            );
        }
        match e {
            StoreError::NotFound(what) => AppError::not_found(what),
            StoreError::Conflict { field } => AppError::Problem(Box::new(Problem {
                status: StatusCode::CONFLICT,
                title: "Conflict",
                detail: format!("{field} is already taken"),
                errors: vec![FieldError {
                    field: field.into(),
                    message: "already taken".into(),
                }],
            })),
            StoreError::Invalid(msg) => {
                AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid input", msg)
            }
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("rendering a template"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let p = self.problem();
        let body = serde_json::to_vec(&p).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = (p.status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        retry_after(&mut res);
        res
    }
}

/// Adds `Retry-After` to a 503.
pub fn retry_after(res: &mut Response) {
    if res.status() == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    }
}

/// Result of handlers.
pub type AppResult<T> = Result<T, AppError>;
