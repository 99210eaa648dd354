//! Gap analysis for analysts and supervisors: per state (and county where both the cases and the
//! directory know it), what survivors needed — the needs recorded on cases and the service types of
//! their referrals — against the vetted directory resources of that service type serving that
//! population, per case and per 100,000 residents; the largest gaps ranked, a US map of one service
//! and population's gaps (for one state, a map of its counties instead), with "view as table"; CSV
//! (`/insights/gaps.csv`) and JSON
//! (`/api/v1/insights/gaps`, in [`crate::api::gaps`]). Filters: service type, population, case form
//! and state; a bad value is a 400 naming the parameter.

use super::insights::bad_filter;
use super::{Chrome, PageResult, render};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::IntoResponse;
use lantern_domain::codes::{CaseForm, Code, Population, ServiceType, UsState};
use lantern_insights::cube::{Dim, Figures};
use lantern_insights::gap::{
    Gap, GapSelection, Need, NeedTotals, RankedGaps, Supply, county_gap_map, gap_map, gaps,
};
use lantern_insights::geo::STATE_AND_COUNTY_POPULATION_SOURCE;
use lantern_insights::svg::{self, Choropleth};
use lantern_store::rollups::METRIC_CASE_NEEDS;
use lantern_store::{RollupFilter, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// How many gaps each ranked list of the page shows (the CSV holds them all, the JSON the first
/// `limit`).
const SHOWN: usize = 25;

/// The filters as sent in the query string, every one optional.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GapQuery {
    /// A service type code (`emergency_shelter`, …).
    #[serde(default)]
    service: Option<String>,
    /// A population code (`men`, `minors`, `labor_trafficking_survivors`, …).
    #[serde(default)]
    population: Option<String>,
    /// A case form code (`sex`, `labor`, `sex_and_labor`, `not_specified`).
    #[serde(default)]
    form: Option<String>,
    /// A USPS state code: that state and its counties.
    #[serde(default)]
    state: Option<String>,
}

/// The filters once checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GapFilters {
    /// Only this service type.
    #[schema(value_type = Option<String>)]
    pub service: Option<ServiceType>,
    /// Only this population.
    #[schema(value_type = Option<String>)]
    pub population: Option<Population>,
    /// Only cases of this form (the supply side has no form).
    #[schema(value_type = Option<String>)]
    pub form: Option<CaseForm>,
    /// Only this state, with its counties.
    #[schema(value_type = Option<String>)]
    pub state: Option<UsState>,
}

/// A code parameter, or a 400 naming it and listing what is allowed.
fn parse_code<T: Code>(field: &str, v: &Option<String>) -> Result<Option<T>, AppError> {
    let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let parsed = if field == "state" {
        T::all()
            .iter()
            .copied()
            .find(|c| c.code().eq_ignore_ascii_case(v))
    } else {
        T::parse(v).ok()
    };
    parsed.map(Some).ok_or_else(|| {
        let allowed: Vec<&str> = T::all().iter().map(|c| c.code()).collect();
        bad_filter(
            field,
            format!(
                "`{v}` is not a {}; use one of {}",
                T::KIND,
                allowed.join(", ")
            ),
        )
    })
}

impl GapFilters {
    /// Checks a raw query string: an unknown parameter or a bad value is a 400 naming it.
    pub fn parse(raw: Option<&str>) -> Result<GapFilters, AppError> {
        let raw = raw.unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
        let q: GapQuery = serde_path_to_error::deserialize(de).map_err(|e| {
            let inner = e.inner().to_string();
            // An unknown parameter is named in the message (`unknown field `x``).
            match inner.split('`').nth(1) {
                Some(name) if inner.starts_with("unknown field") => bad_filter(
                    name,
                    "not a filter of the gap analysis; use service, population, form or state"
                        .into(),
                ),
                _ => bad_filter(&e.path().to_string(), inner),
            }
        })?;
        Ok(GapFilters {
            service: parse_code("service", &q.service)?,
            population: parse_code("population", &q.population)?,
            form: parse_code("form", &q.form)?,
            state: parse_code("state", &q.state)?,
        })
    }

    /// The ranked gaps these filters select (the form is chosen before ranking), at most `limit`.
    pub fn selection(&self, limit: usize) -> GapSelection {
        GapSelection {
            state: self.state,
            service: self.service,
            population: self.population,
            limit,
        }
    }

    /// The filters as a query string (without `?`).
    fn query(&self) -> String {
        let q: Vec<(&str, &str)> = [
            ("service", self.service.map(|v| v.code())),
            ("population", self.population.map(|v| v.code())),
            ("form", self.form.map(|v| v.code())),
            ("state", self.state.map(|v| v.code())),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
        serde_urlencoded::to_string(q).unwrap_or_default()
    }
}

/// The gaps of the caller's hotline that pass the filters, ranked (states and counties together): the
/// needs from the hotline's `case_needs` rollup cells held in memory with the dashboard's figures, the
/// supply counted from the directory held in memory. Nothing here reads a case.
pub async fn analyse(
    state: &AppState,
    p: &Principal,
    f: &GapFilters,
) -> Result<Vec<Gap>, AppError> {
    Ok(ranked(state, p, f.form)
        .await?
        .gaps
        .select(&f.selection(usize::MAX))
        .0)
}

/// The caller's hotline's gaps of one case form (every form when `None`), ranked. From the gap cache
/// while the needs and the supply it was ranked from are the ones served. When a write or the
/// directory moved them, they are ranked again on a blocking thread (one ranking at a time per hotline
/// and form) and the question waits for that at most [`GapCache::FRESH_WAIT`]; past it, the ranking
/// held answers, marked stale (ranking a national hotline's gaps takes about 90 ms: see
/// BENCHMARKS.md). Only the first question about a hotline and form waits for a whole ranking.
pub async fn ranked(
    state: &AppState,
    p: &Principal,
    form: Option<CaseForm>,
) -> Result<Ranked, AppError> {
    let served = state
        .dashboard
        .figures(&state.store, &p.user.hotline_id)
        .await?;
    let loaded = crate::api::directory::loaded(state, p).await?;
    let supply = loaded.supply(crate::directory::today());
    let key = (p.user.hotline_id.clone(), form);
    let (held, kick) = state.gaps.get(&key, &served.figures, &supply);
    if let Some(gaps) = held.as_ref().filter(|_| !kick.stale) {
        return Ok(Ranked {
            gaps: gaps.clone(),
            stale: false,
        });
    }
    let (cache, figures, counted) = (state.gaps.clone(), served.figures.clone(), supply.clone());
    let work = kick.start.then(|| {
        tokio::spawn(async move {
            let (f, c) = (figures.clone(), counted.clone());
            let done = tokio::task::spawn_blocking(move || needs_of(&f, form).rank(&c)).await;
            match done {
                Ok(ranked) => {
                    let ranked = Arc::new(ranked);
                    cache.put(key, &figures, &counted, ranked.clone());
                    Some(ranked)
                }
                Err(e) => {
                    cache.ranking_failed(&key);
                    tracing::warn!(error = %e, "gaps not ranked");
                    None
                }
            }
        })
    });
    let Some(held) = held else {
        // Nothing to serve yet: the first question waits for the ranking; one asked while another's
        // first ranking runs ranks for itself rather than wait on it.
        let ranked = match work {
            Some(w) => w.await.ok().flatten(),
            None => {
                let (f, c) = (served.figures.clone(), supply.clone());
                tokio::task::spawn_blocking(move || needs_of(&f, form).rank(&c))
                    .await
                    .ok()
                    .map(Arc::new)
            }
        };
        return ranked
            .map(|gaps| Ranked { gaps, stale: false })
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the gaps could not be ranked")));
    };
    if let Some(w) = work
        && let Ok(Ok(Some(gaps))) = tokio::time::timeout(GapCache::FRESH_WAIT, w).await
    {
        return Ok(Ranked { gaps, stale: false });
    }
    Ok(Ranked {
        gaps: held,
        stale: true,
    })
}

/// Ranked gaps as served, and whether they are from before the latest needs or supply (a ranking is
/// under way).
#[derive(Debug, Clone)]
pub struct Ranked {
    /// The ranking.
    pub gaps: Arc<RankedGaps>,
    /// Whether it predates what the figures and the directory say now.
    pub stale: bool,
}

/// Each hotline's ranked gaps per case form, kept while the needs and the supply they were ranked
/// from are the ones served: the needs until a write changes a `case_needs` cell (other writes, a
/// contact, move the figures but not the needs), the supply until the directory or the day moves
/// (held weakly: a replaced one is freed).
#[derive(Debug, Default)]
pub struct GapCache {
    held: Mutex<HashMap<(String, Option<CaseForm>), HeldGaps>>,
}

#[derive(Debug, Default)]
struct HeldGaps {
    /// The figures' version of the `case_needs` cells ([`Figures::metric_version`]).
    needs: Option<i64>,
    supply: Weak<Vec<Supply>>,
    /// `None` until the first ranking is done.
    gaps: Option<Arc<RankedGaps>>,
    /// Whether a ranking is under way.
    ranking: bool,
}

/// What [`GapCache::get`] found besides the ranking held.
#[derive(Debug, Clone, Copy)]
struct Kick {
    /// The ranking held (if any) is not of the needs and supply served.
    stale: bool,
    /// The caller is to rank them (no one else is).
    start: bool,
}

impl GapCache {
    /// How long a question waits for a ranking under way before the one held answers.
    pub const FRESH_WAIT: std::time::Duration = std::time::Duration::from_millis(5);

    fn get(
        &self,
        key: &(String, Option<CaseForm>),
        figures: &Figures,
        supply: &Arc<Vec<Supply>>,
    ) -> (Option<Arc<RankedGaps>>, Kick) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let h = held.entry(key.clone()).or_default();
        // A Weak keeps its allocation, so a live Arc at the same address is the same one.
        let current = h.gaps.is_some()
            && h.needs == figures.metric_version(METRIC_CASE_NEEDS)
            && std::ptr::eq(h.supply.as_ptr(), Arc::as_ptr(supply));
        let start = !current && !h.ranking;
        if start {
            h.ranking = true;
        }
        (
            h.gaps.clone(),
            Kick {
                stale: !current,
                start,
            },
        )
    }

    fn put(
        &self,
        key: (String, Option<CaseForm>),
        figures: &Figures,
        supply: &Arc<Vec<Supply>>,
        gaps: Arc<RankedGaps>,
    ) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.insert(
            key,
            HeldGaps {
                needs: figures.metric_version(METRIC_CASE_NEEDS),
                supply: Arc::downgrade(supply),
                gaps: Some(gaps),
                ranking: false,
            },
        );
    }

    /// A ranking ended without a result: the next question starts another.
    fn ranking_failed(&self, key: &(String, Option<CaseForm>)) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = held.get_mut(key) {
            h.ranking = false;
        }
    }
}

/// The needs among the figures' `case_needs` cells of one case form (every form summed when `None`),
/// summed per place, service type and population. Each value of the cells' dictionaries is read
/// once, not once per cell; cells whose codes do not read are left out.
pub fn needs_of(figures: &Figures, form: Option<CaseForm>) -> NeedTotals {
    let mut totals = NeedTotals::default();
    for cells in figures.coded_cells(METRIC_CASE_NEEDS) {
        let dict = |d: Dim| cells.dict(d).iter().map(String::as_str);
        let states: Vec<Option<UsState>> = dict(Dim::State)
            .map(|v| UsState::parse_usps(v).ok())
            .collect();
        let services: Vec<Option<ServiceType>> = dict(Dim::Service)
            .map(|v| ServiceType::parse(v).ok())
            .collect();
        let populations: Vec<Option<Population>> = dict(Dim::Population)
            .map(|v| Population::parse(v).ok())
            .collect();
        let forms: Vec<bool> = dict(Dim::Form)
            .map(|v| form.is_none_or(|f| f.code() == v))
            .collect();
        let counties = cells.dict(Dim::County);
        let (state_col, county_col) = (cells.codes(Dim::State), cells.codes(Dim::County));
        let (service_col, population_col) =
            (cells.codes(Dim::Service), cells.codes(Dim::Population));
        let form_col = cells.codes(Dim::Form);
        // Cells come sorted by state and county within a form: the place changes seldom.
        let mut last: Option<(u16, u16, u32)> = None;
        for (i, &n) in cells.counts().iter().enumerate() {
            let (s, c) = (state_col[i], county_col[i]);
            let (Some(state), Some(service), Some(population), true) = (
                states[s as usize],
                services[service_col[i] as usize],
                populations[population_col[i] as usize],
                forms[form_col[i] as usize],
            ) else {
                continue;
            };
            let place = match last {
                Some((ls, lc, place)) if (ls, lc) == (s, c) => place,
                _ => {
                    let county = counties[c as usize].as_str();
                    let place = totals.place(state, (!county.is_empty()).then_some(county));
                    last = Some((s, c, place));
                    place
                }
            };
            totals.add(place, service, population, n);
        }
    }
    totals
}

/// One `case_needs` cell (state, county, service, population and form codes, and its count) as a need,
/// when it passes the filters; `None` too when its codes do not read.
fn need_of(
    [state, county, service, population, form]: [&str; 5],
    n: i64,
    f: &GapFilters,
) -> Option<Need> {
    let want = |asked: Option<&'static str>, v: &str| asked.is_none_or(|a| a == v);
    if !(want(f.state.map(|s| s.code()), state)
        && want(f.form.map(|v| v.code()), form)
        && want(f.service.map(|s| s.code()), service)
        && want(f.population.map(|v| v.code()), population))
    {
        return None;
    }
    Some(Need {
        state: UsState::parse_usps(state).ok()?,
        county: (!county.is_empty()).then(|| county.to_owned()),
        service: ServiceType::parse(service).ok()?,
        population: Population::parse(population).ok()?,
        cases: u64::try_from(n).ok()?,
    })
}

/// The same analysis read from the store rather than from figures held in memory (the cells, and the
/// directory to count its supply on `today`): for the command line and tests.
pub async fn analyse_in_store(
    store: &dyn Store,
    hotline_id: &str,
    f: &GapFilters,
    today: jiff::civil::Date,
) -> anyhow::Result<Vec<Gap>> {
    let filter = RollupFilter {
        metric: Some(METRIC_CASE_NEEDS.into()),
        ..RollupFilter::default()
    };
    let needs: Vec<Need> = store
        .rollups(hotline_id, &filter)
        .await?
        .iter()
        .filter_map(|c| {
            let k = &c.key;
            need_of(
                [&k.state, &k.county, &k.service, &k.population, &k.form].map(String::as_str),
                c.count,
                f,
            )
        })
        .collect();
    let dir = crate::directory::from_records(&store.directory_records(hotline_id).await?)?;
    Ok(gaps(&needs, &crate::directory::count_supply(&dir, today)))
}

/// The service and population the map shows: the filters', else the largest state gap's.
pub fn mapped(f: &GapFilters, ranked: &[Gap]) -> (ServiceType, Population) {
    let top = ranked.iter().find(|g| g.county.is_none());
    (
        f.service
            .or(top.map(|g| g.service))
            .unwrap_or(ServiceType::EmergencyShelter),
        f.population
            .or(top.map(|g| g.population))
            .unwrap_or(Population::Men),
    )
}

/// One row of a ranked list.
#[derive(Debug)]
struct Row {
    rank: usize,
    state: &'static str,
    state_code: &'static str,
    county: String,
    service: &'static str,
    population: &'static str,
    cases: u64,
    resources: u64,
    per_resource: String,
    cases_per_100k: String,
    resources_per_100k: String,
}

fn two(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.2}"))
}

fn rows<'a>(gaps: impl Iterator<Item = &'a Gap>) -> Vec<Row> {
    gaps.take(SHOWN)
        .enumerate()
        .map(|(i, g)| Row {
            rank: i + 1,
            state: g.state.label(),
            state_code: g.state.code(),
            county: g.county.clone().unwrap_or_default(),
            service: g.service.label(),
            population: g.population.label(),
            cases: g.cases,
            resources: g.resources,
            per_resource: g
                .cases_per_resource
                .map_or_else(|| "no resource".into(), |v| format!("{v:.2}")),
            cases_per_100k: two(g.cases_per_100k),
            resources_per_100k: two(g.resources_per_100k),
        })
        .collect()
}

/// A choice of a select box.
#[derive(Debug)]
struct Choice {
    code: &'static str,
    label: &'static str,
    selected: bool,
}

fn choices<T: Code + PartialEq>(chosen: Option<T>) -> Vec<Choice> {
    T::all()
        .iter()
        .map(|c| Choice {
            code: c.code(),
            label: c.label(),
            selected: chosen == Some(*c),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "insights_gaps.html")]
struct GapsPage {
    chrome: Option<Chrome>,
    services: Vec<Choice>,
    populations: Vec<Choice>,
    forms: Vec<Choice>,
    states: Vec<Choice>,
    state_name: Option<&'static str>,
    query: String,
    state_rows: Vec<Row>,
    state_total: usize,
    county_rows: Vec<Row>,
    county_total: usize,
    map_title: String,
    map_svg: String,
    map_table: String,
    county_map: Option<CountyMap>,
    population_source: &'static str,
}

/// The map of one state's counties, shown when the state filter is set.
#[derive(Debug)]
struct CountyMap {
    title: String,
    state: &'static str,
    /// `None` when Lantern has no county outlines for the state (Puerto Rico).
    svg: Option<String>,
    /// "View as table": every county of the state with its figure.
    table: String,
}

/// The filtered state's county map of the mapped service and population (cases per resource, as
/// the ranked lists rank them); `None` without a state filter.
fn draw_county_map(f: &GapFilters, ranked: &[Gap]) -> Option<CountyMap> {
    let state = f.state?;
    let (service, population) = mapped(f, ranked);
    let map = county_gap_map(ranked, state, service, population);
    Some(CountyMap {
        title: map.title.clone(),
        state: state.label(),
        svg: svg::county_choropleth(&map),
        table: svg::html_table(&map.as_chart()),
    })
}

/// The map of one service and population's gaps, each state linking to its counties.
fn draw_map(f: &GapFilters, ranked: &[Gap]) -> (Choropleth, String) {
    let (service, population) = mapped(f, ranked);
    let map = gap_map(ranked, service, population);
    let link = GapFilters {
        service: Some(service),
        population: Some(population),
        ..*f
    };
    let drawn = svg::choropleth_linked(&map, &|s| {
        let q = GapFilters {
            state: Some(s),
            ..link
        }
        .query();
        format!("/insights/gaps?{q}")
    });
    (map, drawn)
}

/// `GET /insights/gaps`: the page.
pub async fn show(
    State(state): State<AppState>,
    p: Principal,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/insights").await?;
    let f = GapFilters::parse(raw.as_deref())?;
    let ranked = analyse(&state, &p, &f).await?;
    let (map, map_svg) = draw_map(&f, &ranked);
    let states = ranked.iter().filter(|g| g.county.is_none());
    let counties = ranked.iter().filter(|g| g.county.is_some());
    render(&GapsPage {
        chrome: Some(chrome),
        services: choices(f.service),
        populations: choices(f.population),
        forms: choices(f.form),
        states: choices(f.state),
        state_name: f.state.map(|s| s.label()),
        query: f.query(),
        state_total: states.clone().count(),
        state_rows: rows(states),
        county_total: counties.clone().count(),
        county_rows: rows(counties),
        map_title: map.title.clone(),
        map_table: svg::html_table(&map.as_chart()),
        map_svg,
        county_map: draw_county_map(&f, &ranked),
        population_source: STATE_AND_COUNTY_POPULATION_SOURCE,
    })
}

/// `GET /insights/gaps.csv`: every gap passing the filters, ranked, as CSV.
pub async fn csv(
    State(state): State<AppState>,
    p: Principal,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let f = GapFilters::parse(raw.as_deref())?;
    let ranked = analyse(&state, &p, &f).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gaps.csv\"",
            ),
        ],
        lantern_insights::gap::csv(&ranked),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_insights::cube::{Cube, DIMS};

    /// Figures whose needs last changed at `version`.
    fn figures(version: i64, cases: i64) -> Figures {
        let base = Figures::new(Cube::new(crate::dashboard::SCHEMA), 1);
        let mut v = [""; DIMS];
        v[Dim::State as usize] = "TX";
        v[Dim::Service as usize] = "emergency_shelter";
        v[Dim::Population as usize] = "men";
        v[Dim::Form as usize] = "labor";
        base.updated(version, [(METRIC_CASE_NEEDS, v, cases)])
            .unwrap()
    }

    #[test]
    fn a_ranking_is_kept_while_its_needs_and_supply_hold_and_one_ranking_runs_at_a_time() {
        let cache = GapCache::default();
        let key = ("h".to_owned(), None);
        let supply = Arc::new(Vec::new());
        let two = figures(2, 1);
        let (held, kick) = cache.get(&key, &two, &supply);
        assert!(held.is_none() && kick.stale && kick.start);
        assert!(
            !cache.get(&key, &two, &supply).1.start,
            "one ranking at a time"
        );
        let ranked = Arc::new(needs_of(&two, None).rank(&supply));
        assert_eq!(ranked.select(&GapFilters::default().selection(10)).1, 1);
        cache.put(key.clone(), &two, &supply, ranked.clone());
        let (held, kick) = cache.get(&key, &two, &supply);
        assert!(held.is_some() && !kick.stale && !kick.start);

        // A write moved the needs: the ranking held is served as stale and one ranking starts.
        let three = figures(3, 2);
        let (held, kick) = cache.get(&key, &three, &supply);
        assert!(held.is_some() && kick.stale && kick.start);
        assert!(!cache.get(&key, &three, &supply).1.start);
        cache.ranking_failed(&key);
        assert!(
            cache.get(&key, &three, &supply).1.start,
            "after a failed ranking the next question starts another"
        );
        // The directory moved: another supply is another ranking.
        cache.put(key.clone(), &three, &supply, ranked);
        assert!(!cache.get(&key, &three, &supply).1.stale);
        assert!(cache.get(&key, &three, &Arc::new(Vec::new())).1.stale);
    }
}
