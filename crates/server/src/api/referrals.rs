//! Referrals: from a case to a directory service, with the person's consent or a supervisor-confirmed
//! exception (DOMAIN.md §4); the partner's inbox, which shows only what consent covers; and the moves of
//! the lifecycle.

use super::ApiJson;
use crate::auth::Principal;
use crate::error::{AppError, AppResult, FieldError};
use crate::policy::{Action, RecordScope, authorize};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lantern_domain::account::Role;
use lantern_domain::codes::{Code as _, ReferralKind, ReferralStatus, ReportBasis};
use lantern_domain::referral::{self, ConsentMethod, Mover, SharedPart};
use lantern_store::{NewReferral, Referral, ReferralEvent, ReferralFilter, ReferralMove};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A referral to make from a case.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// `service`, `law_enforcement` or `warm_transfer`.
    pub kind: String,
    /// The directory service.
    pub service_id: String,
    /// The location, when a service at a location was chosen.
    #[serde(default)]
    pub location_id: Option<String>,
    /// `consent`, `third_party_tip`, `mandatory_minor` or `imminent_danger`.
    pub basis: String,
    /// Who gave consent.
    #[serde(default)]
    pub consent_by: Option<String>,
    /// `verbal`, `written` or `text`.
    #[serde(default)]
    pub consent_method: Option<String>,
    /// For an exception: why it applies.
    #[serde(default)]
    pub exception_reason: Option<String>,
    /// What may be shared, by part (`name`, `phone`, `email`, `language`, `age`, `location`, `needs`,
    /// `summary`), with the text to share.
    #[serde(default)]
    pub shared: BTreeMap<String, String>,
}

/// Checks and records a referral; shared by the page and the API.
pub async fn create(
    state: &AppState,
    p: &Principal,
    case_id: &str,
    input: &ReferralInput,
) -> AppResult<Referral> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut err = |field: String, message: String| errors.push(FieldError { field, message });
    let kind = ReferralKind::parse(&input.kind)
        .map_err(|e| err("kind".into(), e.to_string()))
        .ok();
    let basis = ReportBasis::parse(&input.basis)
        .map_err(|e| err("basis".into(), e.to_string()))
        .ok();
    let consent_method = match input.consent_method.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(m) => ConsentMethod::parse(m)
            .map_err(|e| err("consent_method".into(), e))
            .ok(),
    };
    let mut shared = BTreeMap::new();
    for (k, v) in &input.shared {
        match SharedPart::parse(k) {
            Ok(part) => {
                shared.insert(part, v.trim().to_owned());
            }
            Err(e) => err(format!("shared.{k}"), e),
        }
    }
    let l = super::directory::loaded(state, p).await?;
    let dir = &l.internal.dir;
    let service = dir.service.get(&input.service_id);
    match service {
        None => err(
            "service_id".into(),
            "no such service in the directory".into(),
        ),
        Some(s) => {
            let (types, _) = l.classes.get(&s.id).cloned().unwrap_or_default();
            let vetted = s
                .lantern
                .as_ref()
                .and_then(|e| e.vetting.as_ref())
                .is_some_and(|v| v.is_vetted_on(jiff::Zoned::now().date()));
            if types.iter().any(|t| t.is_law_enforcement()) && !vetted {
                err(
                    "service_id".into(),
                    "law-enforcement entries are referred to only when vetted".into(),
                );
            }
        }
    }
    if let Some(loc) = &input.location_id {
        let at = dir.service_at_location.values().any(|sal| {
            sal.service_id.as_deref() == Some(input.service_id.as_str())
                && sal.location_id.as_deref() == Some(loc.as_str())
        });
        if !at {
            err(
                "location_id".into(),
                "the service is not offered at this location".into(),
            );
        }
    }
    let request = referral::Request {
        kind,
        basis,
        consent_by: input.consent_by.clone(),
        consent_method,
        exception_reason: input.exception_reason.clone(),
        shared: shared.clone(),
    };
    let plan = referral::plan(&request);
    if let Err(list) = &plan {
        for (f, m) in list {
            // Codes that failed to parse are already named above.
            if !((f == "kind" && kind.is_none() && !input.kind.is_empty())
                || (f == "basis" && basis.is_none() && !input.basis.is_empty())
                || (f == "consent_method" && input.consent_method.is_some()))
            {
                err(f.clone(), m.clone());
            }
        }
    }
    for (field, v) in [
        ("consent_by", &input.consent_by),
        ("exception_reason", &input.exception_reason),
    ] {
        if v.as_deref().is_some_and(|s| s.chars().count() > 2000) {
            err(field.into(), "at most 2000 characters".into());
        }
    }
    if !errors.is_empty() {
        return Err(AppError::invalid_fields(errors));
    }
    let (Ok(plan), Some(kind), Some(basis), Some(service)) = (plan, kind, basis, service) else {
        return Err(AppError::bad_request("the referral could not be checked"));
    };
    let organization_id = service.organization_id.clone();
    let org_name = organization_id
        .as_deref()
        .and_then(|o| dir.organization.get(o))
        .and_then(|o| o.name.clone());
    let target_name = match org_name {
        Some(o) => format!("{} — {o}", service.name.clone().unwrap_or_default()),
        None => service.name.clone().unwrap_or_default(),
    };
    let partner_org_id = match &organization_id {
        None => None,
        Some(o) => state
            .store
            .list_partner_orgs(&p.user.hotline_id)
            .await?
            .into_iter()
            .find(|po| po.directory_organization_id.as_deref() == Some(o.as_str()))
            .map(|po| po.id),
    };
    let consented = !basis.needs_supervisor();
    let new = NewReferral {
        hotline_id: p.user.hotline_id.clone(),
        case_id: case_id.to_owned(),
        kind: kind.code().to_owned(),
        status: plan.status.code().to_owned(),
        service_id: Some(service.id.clone()),
        location_id: input.location_id.clone(),
        organization_id,
        target_name,
        partner_org_id,
        basis: basis.code().to_owned(),
        consent_by: consented
            .then(|| input.consent_by.clone().map(|s| s.trim().to_owned()))
            .flatten(),
        consent_method: consented
            .then(|| consent_method.map(|m| m.code().to_owned()))
            .flatten(),
        consent_at_us: consented.then(now_us),
        shares: shared.keys().map(|k| k.code().to_owned()).collect(),
        shared_json: serde_json::to_string(
            &shared
                .iter()
                .map(|(k, v)| (k.code(), v))
                .collect::<BTreeMap<_, _>>(),
        )
        .unwrap_or_else(|_| "{}".into()),
        exception_reason: (!consented)
            .then(|| input.exception_reason.clone().map(|s| s.trim().to_owned()))
            .flatten(),
        created_by: Some(p.user.id.clone()),
        service_types: l
            .classes
            .get(&service.id)
            .map(|(types, _)| types.iter().map(|t| t.code().to_owned()).collect())
            .unwrap_or_default(),
    };
    Ok(state.store.create_referral(&p.ctx(), &new).await?)
}

fn now_us() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

/// A referral as hotline staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReferralView {
    #[serde(flatten)]
    #[schema(inline, value_type = Object)]
    referral: Referral,
    /// What is shared, by part.
    shared: BTreeMap<String, String>,
}

impl From<Referral> for ReferralView {
    fn from(r: Referral) -> Self {
        ReferralView {
            shared: serde_json::from_str(&r.shared_json).unwrap_or_default(),
            referral: r,
        }
    }
}

/// `POST /api/v1/cases/{id}/referrals`: refers the case with consent (sent at once) or under an
/// exception (proposed until a supervisor confirms it).
#[utoipa::path(post, path = "/api/v1/cases/{id}/referrals", tag = "referrals", params(("id" = String, Path, description = "Case id")),
    request_body = ReferralInput, responses((status = 201, body = ReferralView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_api(
    State(state): State<AppState>,
    p: Principal,
    Path(case_id): Path<String>,
    ApiJson(input): ApiJson<ReferralInput>,
) -> AppResult<(StatusCode, Json<ReferralView>)> {
    let r = create(&state, &p, &case_id, &input).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// `GET /api/v1/cases/{id}/referrals`: the case's referrals, newest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/referrals", tag = "referrals", params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = [ReferralView])))]
pub async fn of_case(
    State(state): State<AppState>,
    p: Principal,
    Path(case_id): Path<String>,
) -> AppResult<Json<Vec<ReferralView>>> {
    let list = state
        .store
        .list_referrals(
            &p.ctx(),
            &p.user.hotline_id,
            &ReferralFilter {
                case_id: Some(case_id),
                ..Default::default()
            },
        )
        .await?;
    Ok(Json(list.into_iter().map(ReferralView::from).collect()))
}

/// A move of a referral.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    /// The new status.
    pub to: String,
    /// The status the caller last saw (default: the current one).
    #[serde(default)]
    pub from: Option<String>,
    /// A comment.
    #[serde(default)]
    pub note: Option<String>,
}

/// Moves a referral, checking who may; shared by the pages and the API.
pub async fn move_referral(
    state: &AppState,
    p: &Principal,
    id: &str,
    input: &MoveInput,
) -> AppResult<Referral> {
    let to =
        ReferralStatus::parse(&input.to).map_err(|e| AppError::invalid("to", e.to_string()))?;
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if note.is_some_and(|n| n.chars().count() > 4000) {
        return Err(AppError::invalid("note", "at most 4000 characters"));
    }
    let current = state
        .store
        .referral(&p.ctx(), &p.user.hotline_id, id)
        .await?;
    let scope = RecordScope {
        hotline_id: &current.hotline_id,
        partner_org_id: current.partner_org_id.as_deref(),
    };
    let who = match p.user.role {
        Role::Partner => {
            if !authorize(&p.user, Action::PartnerInbox, scope) {
                return Err(AppError::not_found("referral"));
            }
            Mover::Partner
        }
        Role::Supervisor => Mover::Supervisor,
        _ => Mover::Advocate,
    };
    let from_code = input.from.clone().unwrap_or_else(|| current.status.clone());
    let from = ReferralStatus::parse(&current.status)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored referral status: {e}")))?;
    if from_code != current.status {
        return Err(AppError::invalid(
            "from",
            format!(
                "the referral is now `{}`; reload and try again",
                current.status
            ),
        ));
    }
    referral::may_move(from, to, who, current.partner_org_id.is_some())
        .map_err(|m| AppError::new(StatusCode::FORBIDDEN, "Forbidden", m))?;
    if from == ReferralStatus::Proposed && to == ReferralStatus::Withdrawn && note.is_none() {
        return Err(AppError::invalid(
            "note",
            "say why the referral is not sent",
        ));
    }
    let confirming = from == ReferralStatus::Proposed && to == ReferralStatus::Sent;
    Ok(state
        .store
        .move_referral(
            &p.ctx(),
            &p.user.hotline_id,
            id,
            &ReferralMove {
                from: from_code,
                to: to.code().to_owned(),
                note: note.map(str::to_owned),
                confirmed_by: confirming.then(|| p.user.id.clone()),
            },
        )
        .await?)
}

/// `POST /api/v1/referrals/{id}/move`: staff move a referral (a supervisor sends a proposed one; staff
/// withdraw; staff record a partner's answer when the partner has no account here).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/move", tag = "referrals", params(("id" = String, Path, description = "Referral id")),
    request_body = MoveInput, responses((status = 200, body = ReferralView), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn move_api(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MoveInput>,
) -> AppResult<Json<ReferralView>> {
    Ok(Json(move_referral(&state, &p, &id, &input).await?.into()))
}

/// `GET /api/v1/referrals/proposed`: referrals under an exception awaiting a supervisor.
#[utoipa::path(get, path = "/api/v1/referrals/proposed", tag = "referrals", responses((status = 200, body = [ReferralView])))]
pub async fn proposed(
    State(state): State<AppState>,
    p: Principal,
) -> AppResult<Json<Vec<ReferralView>>> {
    let list = state
        .store
        .list_referrals(
            &p.ctx(),
            &p.user.hotline_id,
            &ReferralFilter {
                status: Some("proposed".into()),
                ..Default::default()
            },
        )
        .await?;
    Ok(Json(list.into_iter().map(ReferralView::from).collect()))
}

/// A referral as the receiving partner sees it: only what consent covers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    /// Its id.
    pub id: String,
    /// Kind code.
    pub kind: String,
    /// Status code.
    pub status: String,
    /// The service referred to.
    pub target_name: String,
    /// The directory service.
    pub service_id: Option<String>,
    /// On what basis it was shared.
    pub basis: String,
    /// When consent was given, Unix microseconds.
    pub consent_at_us: Option<i64>,
    /// What the person agreed to share, by part.
    pub shared: BTreeMap<String, String>,
    /// When it was made.
    pub created_at_us: i64,
    /// Its steps (status and time).
    pub history: Vec<InboxStep>,
}

/// One step as the partner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxStep {
    /// The status.
    pub status: String,
    /// When.
    pub at_us: i64,
}

impl InboxItem {
    /// The partner's view of a referral.
    pub fn of(r: &Referral) -> InboxItem {
        InboxItem {
            id: r.id.clone(),
            kind: r.kind.clone(),
            status: r.status.clone(),
            target_name: r.target_name.clone(),
            service_id: r.service_id.clone(),
            basis: r.basis.clone(),
            consent_at_us: r.consent_at_us,
            shared: serde_json::from_str(&r.shared_json).unwrap_or_default(),
            created_at_us: r.created_at_us,
            history: r
                .events
                .iter()
                .map(|e: &ReferralEvent| InboxStep {
                    status: e.status.clone(),
                    at_us: e.at_us,
                })
                .collect(),
        }
    }
}

/// The partner's inbox: referrals addressed to its organisation that have been sent (never one still
/// awaiting a supervisor).
pub async fn inbox_items(state: &AppState, p: &Principal) -> AppResult<Vec<InboxItem>> {
    let Some(org) = p.user.partner_org_id.clone() else {
        return Err(AppError::forbidden());
    };
    let list = state
        .store
        .list_referrals(
            &p.ctx(),
            &p.user.hotline_id,
            &ReferralFilter {
                partner_org_id: Some(org),
                ..Default::default()
            },
        )
        .await?;
    Ok(list
        .iter()
        .filter(|r| r.status != "proposed" && r.events.iter().any(|e| e.status == "sent"))
        .map(InboxItem::of)
        .collect())
}

/// `GET /api/v1/inbox`: the partner's referrals.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "referrals", responses((status = 200, body = [InboxItem])))]
pub async fn inbox(State(state): State<AppState>, p: Principal) -> AppResult<Json<Vec<InboxItem>>> {
    Ok(Json(inbox_items(&state, &p).await?))
}

/// `POST /api/v1/inbox/{id}`: the partner answers (`accepted`, `declined`) or reports `completed`.
#[utoipa::path(post, path = "/api/v1/inbox/{id}", tag = "referrals", params(("id" = String, Path, description = "Referral id")),
    request_body = MoveInput, responses((status = 200, body = InboxItem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn inbox_move(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MoveInput>,
) -> AppResult<Json<InboxItem>> {
    let r = move_referral(&state, &p, &id, &input).await?;
    Ok(Json(InboxItem::of(&r)))
}
