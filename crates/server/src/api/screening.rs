//! `POST /api/v1/screening/assess`: the screening rules as a service.

use super::ApiJson;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use axum::Json;
use lantern_domain::screening::{self, Answers, Determination};

/// Checks parsed answers beyond their types, naming the field.
pub fn checked(a: Answers) -> Result<Answers, AppError> {
    screening::validate(&a).map_err(|e| AppError::invalid(e.field, e.message))?;
    Ok(a)
}

/// `POST /api/v1/screening/assess`: answers in, the determination out. Unknown fields and codes are a
/// 422 naming the field and listing the allowed values. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/screening/assess", tag = "screening",
    request_body(content = serde_json::Value, description = "`subject_age`, `subject_minor`, `actions`, `means`, `purposes`, `compelled`, `smuggling_arrangement`, `labor_violations`; all optional"),
    responses((status = 200, description = "`outcome`, `forms`, `minor_rule_applied`, `missing`, `reasons`"), (status = 422, body = crate::error::Problem)))]
pub async fn assess(_p: Principal, ApiJson(a): ApiJson<Answers>) -> AppResult<Json<Determination>> {
    Ok(Json(screening::assess(&checked(a)?)))
}
