//! `GET /api/v1/insights/gaps`: the gap analysis as JSON, for analysts and supervisors (counts only,
//! never a record), filtered and ranked as on the page (`/insights/gaps`), the first `limit` gaps
//! with how many there are in all.

use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::pages::gaps::{GapFilters, Ranked, mapped, ranked};
use crate::pages::insights::bad_filter;
use crate::state::AppState;
use axum::Json;
use axum::extract::{RawQuery, State};
use lantern_insights::gap::Gap;
use lantern_insights::geo::STATE_AND_COUNTY_POPULATION_SOURCE;
use serde::Serialize;

/// How many gaps an answer holds when the query does not say.
pub const DEFAULT_LIMIT: usize = 1000;
/// The most gaps an answer may hold.
pub const MAX_LIMIT: usize = 100_000;

/// The API's own parameter beside the filters of the page ([`crate::pages::gaps::GapQuery`]).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapLimit {
    /// How many gaps at most, the largest first (default 1,000, at most 100,000; 0 for the
    /// total alone).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 100000)]
    pub limit: Option<usize>,
}

/// The gap analysis.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GapReport {
    /// The filters applied.
    filters: GapFilters,
    /// How many gaps at most `gaps` holds (the query's `limit`, else 1,000).
    limit: usize,
    /// How many gaps pass the filters (`gaps` holds the first `limit` of them).
    total: usize,
    /// Whether the ranking answered is from before the latest writes or directory change: ranking
    /// again is under way (a question waits for it at most 5 ms).
    stale: bool,
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

/// Takes `limit` out of a raw query string: the limit asked (or the default) and the rest of the
/// query, for [`GapFilters::parse`]. A bad limit is a 400 naming it.
fn split_limit(raw: Option<&str>) -> Result<(usize, String), AppError> {
    let mut limit = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if k != "limit" {
            rest.append_pair(&k, &v);
            continue;
        }
        if limit.is_some() {
            return Err(bad_filter("limit", "given more than once".into()));
        }
        let n = v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_LIMIT)
            .ok_or_else(|| {
                bad_filter(
                    "limit",
                    format!("`{v}` is not a whole number from 0 to {MAX_LIMIT}"),
                )
            })?;
        limit = Some(n);
    }
    Ok((limit.unwrap_or(DEFAULT_LIMIT), rest.finish()))
}

/// The caller's hotline's gaps between needs and vetted resources.
#[utoipa::path(get, path = "/api/v1/insights/gaps", tag = "insights",
    params(crate::pages::gaps::GapQuery, GapLimit),
    responses((status = 200, body = GapReport), (status = 400, body = crate::error::Problem)))]
pub async fn gaps(
    State(state): State<AppState>,
    p: Principal,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<GapReport>> {
    let (limit, rest) = split_limit(raw.as_deref())?;
    let filters = GapFilters::parse(Some(&rest))?;
    let Ranked {
        gaps: ranked,
        stale,
    } = ranked(&state, &p, filters.form).await?;
    let selection = filters.selection(limit);
    let (gaps, total) = ranked.select(&selection);
    // The map's, as on the page: of the largest state gap however many gaps are shown.
    let top = ranked.top_state_gap(&selection);
    let (service, population) = mapped(&filters, top.as_slice());
    Ok(Json(GapReport {
        filters,
        limit,
        total,
        stale,
        population_source: STATE_AND_COUNTY_POPULATION_SOURCE,
        map_service: service.code().to_owned(),
        map_population: population.code().to_owned(),
        gaps,
    }))
}
