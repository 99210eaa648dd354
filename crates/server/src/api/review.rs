//! The supervisors' review queue: every `likely_trafficking` or `possible_trafficking` determination
//! waits here until a supervisor confirms it or sends it back with a comment.

use super::{ApiJson, ApiQuery};
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use lantern_store::{Determination, ReviewItem};
use serde::{Deserialize, Serialize};

/// Which part of the queue to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `pending` (default), `confirmed` or `returned`.
    #[serde(default)]
    status: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    #[serde(default)]
    limit: Option<i64>,
}

/// One determination in the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    id: String,
    contact_id: String,
    case_id: Option<String>,
    case_number: Option<i64>,
    channel: String,
    state: Option<String>,
    outcome: String,
    forms: Vec<String>,
    minor_rule_applied: bool,
    missing: Vec<String>,
    reasons: Vec<String>,
    rules_version: String,
    created_by: Option<String>,
    created_at_us: i64,
    review_status: Option<String>,
    reviewed_by: Option<String>,
    review_comment: Option<String>,
}

impl From<&ReviewItem> for ReviewView {
    fn from(r: &ReviewItem) -> Self {
        let mut v = ReviewView::from(&r.determination);
        v.channel = r.channel.clone();
        v.state = r.state.clone();
        v.case_number = r.case_number;
        v
    }
}

impl From<&Determination> for ReviewView {
    fn from(d: &Determination) -> Self {
        ReviewView {
            id: d.id.clone(),
            contact_id: d.contact_id.clone(),
            case_id: d.case_id.clone(),
            case_number: None,
            channel: String::new(),
            state: None,
            outcome: d.outcome.clone(),
            forms: d.forms.clone(),
            minor_rule_applied: d.minor_rule_applied,
            missing: d.missing.clone(),
            reasons: d.reasons.clone(),
            rules_version: d.rules_version.clone(),
            created_by: d.created_by.clone(),
            created_at_us: d.created_at_us,
            review_status: d.review_status.clone(),
            reviewed_by: d.reviewed_by.clone(),
            review_comment: d.review_comment.clone(),
        }
    }
}

/// Parses a queue status, naming the field when it is not one of the three.
pub fn queue_status(s: Option<&str>) -> Result<&str, AppError> {
    match s.unwrap_or("pending") {
        s @ ("pending" | "confirmed" | "returned") => Ok(s),
        other => Err(AppError::invalid(
            "status",
            format!("`{other}` is not one of: pending, confirmed, returned"),
        )),
    }
}

/// `GET /api/v1/reviews`.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "review", params(QueueQuery),
    responses((status = 200, body = [ReviewView]), (status = 422, body = crate::error::Problem)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> AppResult<Json<Vec<ReviewView>>> {
    let status = queue_status(q.status.as_deref())?;
    let items = state
        .store
        .review_queue(&p.user.hotline_id, status, q.limit.unwrap_or(100))
        .await?;
    state
        .store
        .audit(
            &p.ctx(),
            "review.list",
            "determination",
            None,
            serde_json::json!({"count": items.len()}),
        )
        .await?;
    Ok(Json(items.iter().map(ReviewView::from).collect()))
}

/// A supervisor's decision.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `confirm` or `return`.
    decision: String,
    /// Required when sending back: what the advocate should establish.
    #[serde(default)]
    comment: Option<String>,
}

/// Applies a decision; shared by the page and the API.
pub async fn decide(
    state: &AppState,
    p: &Principal,
    id: &str,
    decision: &str,
    comment: Option<&str>,
) -> AppResult<Determination> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    let status = match decision {
        "confirm" => "confirmed",
        "return" if comment.is_none() => {
            return Err(AppError::invalid(
                "comment",
                "say what the advocate should establish when sending a determination back",
            ));
        }
        "return" => "returned",
        other => {
            return Err(AppError::invalid(
                "decision",
                format!("`{other}` is not one of: confirm, return"),
            ));
        }
    };
    if comment.is_some_and(|c| c.chars().count() > 4000) {
        return Err(AppError::invalid("comment", "at most 4000 characters"));
    }
    Ok(state
        .store
        .decide_review(&p.ctx(), &p.user.hotline_id, id, status, comment)
        .await?)
}

/// `POST /api/v1/reviews/{id}`.
#[utoipa::path(post, path = "/api/v1/reviews/{id}", tag = "review", params(("id" = String, Path, description = "Determination id")),
    request_body = Decision, responses((status = 200, body = ReviewView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn decide_api(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(d): ApiJson<Decision>,
) -> AppResult<Json<ReviewView>> {
    let det = decide(&state, &p, &id, &d.decision, d.comment.as_deref()).await?;
    Ok(Json(ReviewView::from(&det)))
}
