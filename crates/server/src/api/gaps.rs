//! `GET /api/v1/insights/gaps`: the gap analysis as JSON, for analysts and supervisors (counts only,
//! never a record), filtered and ranked as on the page (`/insights/gaps`).

use crate::auth::Principal;
use crate::error::AppResult;
use crate::pages::gaps::{GapFilters, analyse, mapped};
use crate::state::AppState;
use axum::Json;
use axum::extract::{RawQuery, State};
use lantern_insights::gap::Gap;
use lantern_insights::geo::STATE_AND_COUNTY_POPULATION_SOURCE;
use serde::Serialize;

/// The gap analysis.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GapReport {
    /// The filters applied.
    filters: GapFilters,
    /// Where the residents per state (2020 Census) and per county (Census Vintage 2019 estimates)
    /// come from.
    population_source: &'static str,
    /// The service type and population the page's map shows.
    map_service: String,
    /// See `map_service`.
    map_population: String,
    /// The gaps, largest first: whole states (`county` null) and counties. Per 100,000 figures use
    /// the state's or the county's residents; they are null for a county whose name matches no
    /// county of the Census file (and for Puerto Rico's municipios, which it lacks).
    #[schema(value_type = Vec<Object>)]
    gaps: Vec<Gap>,
}

/// The caller's hotline's gaps between needs and vetted resources.
#[utoipa::path(get, path = "/api/v1/insights/gaps", tag = "insights", params(crate::pages::gaps::GapQuery),
    responses((status = 200, body = GapReport), (status = 400, body = crate::error::Problem)))]
pub async fn gaps(
    State(state): State<AppState>,
    p: Principal,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<GapReport>> {
    let filters = GapFilters::parse(raw.as_deref())?;
    let gaps = analyse(&state, &p, &filters).await?;
    let (service, population) = mapped(&filters, &gaps);
    Ok(Json(GapReport {
        filters,
        population_source: STATE_AND_COUNTY_POPULATION_SOURCE,
        map_service: service.code().to_owned(),
        map_population: population.code().to_owned(),
        gaps,
    }))
}
