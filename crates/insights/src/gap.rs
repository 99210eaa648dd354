//! Gap analysis: per state and county, what survivors needed (cases needing a service type, for a
//! population) against the vetted directory resources of that service type serving that
//! population, per case and per 100,000 residents, ranked with the largest gaps first.

use crate::geo::{county, county_population, population_2020};
use crate::svg::{Choropleth, CountyChoropleth, Datum};
use lantern_domain::codes::{Population, ServiceType, UsState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Cases in a place that needed a service type, for a population (from referrals and needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    /// The state.
    pub state: UsState,
    /// `None`: the whole state; otherwise a county of it.
    pub county: Option<String>,
    /// The service type needed.
    pub service: ServiceType,
    /// The population the people belong to (men, minors, labor trafficking survivors, …).
    pub population: Population,
    /// How many cases needed it.
    pub cases: u64,
}

/// Vetted directory resources in a place offering a service type to a population (a resource
/// serving several populations is counted under each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supply {
    /// The state.
    pub state: UsState,
    /// `None`: the whole state; otherwise a county of it.
    pub county: Option<String>,
    /// The service type offered.
    pub service: ServiceType,
    /// The population served.
    pub population: Population,
    /// How many vetted resources.
    pub resources: u64,
}

/// One gap: a place, service type and population with its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// The state.
    pub state: UsState,
    /// `None`: the whole state; otherwise a county of it.
    pub county: Option<String>,
    /// The service type.
    pub service: ServiceType,
    /// The population.
    pub population: Population,
    /// Cases that needed it.
    pub cases: u64,
    /// Vetted resources offering it.
    pub resources: u64,
    /// Cases per resource (`None` when there is no resource at all: the largest gap).
    pub cases_per_resource: Option<f64>,
    /// Cases needing it per 100,000 residents of the state (2020 Census) or county (Census
    /// Vintage 2019 estimates); `None` for a county name that matches no county of the Census
    /// file ([`crate::geo::county`]), and for Puerto Rico's municipios, which it lacks.
    pub cases_per_100k: Option<f64>,
    /// Resources per 100,000 residents, with the same populations (`None` where that is).
    pub resources_per_100k: Option<f64>,
}

type Key = (UsState, Option<String>, ServiceType, Population);

/// Joins needs and supply per (place, service, population) and ranks the gaps: first those with no
/// resource at all (most cases first), then by cases per resource (highest first); ties by place,
/// service and population. Rows with no case are left out (no need, no gap).
pub fn gaps(needs: &[Need], supply: &[Supply]) -> Vec<Gap> {
    let mut cases: HashMap<Key, u64> = HashMap::new();
    for n in needs {
        *cases
            .entry((n.state, n.county.clone(), n.service, n.population))
            .or_default() += n.cases;
    }
    let mut res: HashMap<Key, u64> = HashMap::new();
    for s in supply {
        *res.entry((s.state, s.county.clone(), s.service, s.population))
            .or_default() += s.resources;
    }
    let pop = population_2020();
    let mut out: Vec<Gap> = cases
        .into_iter()
        .filter(|(_, c)| *c > 0)
        .map(|(k, cases)| {
            let resources = res.get(&k).copied().unwrap_or(0);
            let (state, county, service, population) = k;
            let residents = match &county {
                None => pop.get(&state).copied(),
                Some(name) => county_population(state, name),
            }
            .filter(|p| *p > 0);
            let per = |n: u64| residents.map(|p| n as f64 * 100_000.0 / p as f64);
            Gap {
                cases_per_resource: (resources > 0).then(|| cases as f64 / resources as f64),
                cases_per_100k: per(cases),
                resources_per_100k: per(resources),
                state,
                county,
                service,
                population,
                cases,
                resources,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let rank = |g: &Gap| {
            (
                g.resources == 0,
                g.cases_per_resource.unwrap_or(g.cases as f64),
            )
        };
        let (ra, rb) = (rank(a), rank(b));
        rb.0.cmp(&ra.0)
            .then(rb.1.total_cmp(&ra.1))
            .then(b.cases.cmp(&a.cases))
            .then(a.state.cmp(&b.state))
            .then(a.county.cmp(&b.county))
            .then(a.service.cmp(&b.service))
            .then(a.population.cmp(&b.population))
    });
    out
}

/// A map of one service type and population's state gaps: cases per resource by state (states with
/// cases but no resource show "no resource").
pub fn gap_map(gaps: &[Gap], service: ServiceType, population: Population) -> Choropleth {
    let values: BTreeMap<UsState, Datum> = gaps
        .iter()
        .filter(|g| g.county.is_none() && g.service == service && g.population == population)
        .map(|g| {
            (
                g.state,
                g.cases_per_resource
                    .map_or_else(|| Datum::Hidden("no resource".into()), Datum::Number),
            )
        })
        .collect();
    Choropleth {
        id: format!("gap-{}-{}", service.code(), population.code()),
        title: format!(
            "{} for {}: cases per resource",
            service.label(),
            population.label()
        ),
        description: format!(
            "Cases needing {} for {}, per vetted resource, by state; grey states have cases but no resource.",
            service.label().to_lowercase(),
            population.label().to_lowercase()
        ),
        value_label: "Cases per resource".into(),
        hidden_label: "no resource".into(),
        values,
    }
}

/// A map of one service type and population's gaps in the counties of `state`: cases per resource
/// by county, as the ranked list ranks them (counties with cases but no resource show "no
/// resource"; county names that match no Census county are left off the map, not the lists).
pub fn county_gap_map(
    gaps: &[Gap],
    state: UsState,
    service: ServiceType,
    population: Population,
) -> CountyChoropleth {
    let values: BTreeMap<String, Datum> = gaps
        .iter()
        .filter(|g| g.state == state && g.service == service && g.population == population)
        .filter_map(|g| {
            let c = county(state, g.county.as_deref()?)?;
            let v = g
                .cases_per_resource
                .map_or_else(|| Datum::Hidden("no resource".into()), Datum::Number);
            Some((c.fips.to_owned(), v))
        })
        .collect();
    CountyChoropleth {
        id: format!(
            "gap-{}-{}-{}",
            state.code(),
            service.code(),
            population.code()
        ),
        title: format!(
            "{} for {} in {}: cases per resource by county",
            service.label(),
            population.label(),
            state.label()
        ),
        description: format!(
            "Cases needing {} for {}, per vetted resource, by county of {}; grey counties have cases but no resource, white ones no case with a known county.",
            service.label().to_lowercase(),
            population.label().to_lowercase(),
            state.label()
        ),
        value_label: "Cases per resource".into(),
        hidden_label: "no resource".into(),
        state,
        values,
    }
}

/// Two decimals, or empty for a figure that does not apply.
fn figure(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

/// The gaps as CSV (RFC 4180), in rank order: codes and figures, an empty county for a whole state,
/// empty figures where they do not apply (no resource; per 100,000 for a county of unknown population).
pub fn csv(gaps: &[Gap]) -> String {
    let mut out = String::from(
        "rank,state,county,service_type,population,cases,resources,cases_per_resource,cases_per_100k,resources_per_100k\r\n",
    );
    for (i, g) in gaps.iter().enumerate() {
        let fields = [
            (i + 1).to_string(),
            g.state.code().to_owned(),
            g.county.clone().unwrap_or_default(),
            g.service.code().to_owned(),
            g.population.code().to_owned(),
            g.cases.to_string(),
            g.resources.to_string(),
            figure(g.cases_per_resource),
            figure(g.cases_per_100k),
            figure(g.resources_per_100k),
        ];
        let f: Vec<String> = fields.iter().map(|s| crate::svg::csv_field(s)).collect();
        out.push_str(&f.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_without_any_resource_rank_first_then_by_cases_per_resource() {
        use Population::Men;
        use ServiceType::EmergencyShelter as S;
        let needs = [
            Need {
                state: UsState::Tx,
                county: None,
                service: S,
                population: Men,
                cases: 12,
            },
            Need {
                state: UsState::Ca,
                county: None,
                service: S,
                population: Men,
                cases: 30,
            },
            Need {
                state: UsState::Wy,
                county: None,
                service: S,
                population: Men,
                cases: 2,
            },
            Need {
                state: UsState::Ny,
                county: None,
                service: S,
                population: Men,
                cases: 0,
            },
        ];
        let supply = [
            Supply {
                state: UsState::Tx,
                county: None,
                service: S,
                population: Men,
                resources: 2,
            },
            Supply {
                state: UsState::Ca,
                county: None,
                service: S,
                population: Men,
                resources: 10,
            },
            Supply {
                state: UsState::Ny,
                county: None,
                service: S,
                population: Men,
                resources: 4,
            },
        ];
        let g = gaps(&needs, &supply);
        let order: Vec<UsState> = g.iter().map(|g| g.state).collect();
        assert_eq!(order, [UsState::Wy, UsState::Tx, UsState::Ca]);
        assert_eq!(g[0].cases_per_resource, None);
        assert_eq!(g[1].cases_per_resource, Some(6.0));
        // Wyoming: 2 cases among 576,851 residents.
        assert!((g[0].cases_per_100k.unwrap() - 0.3467).abs() < 1e-3);
        let m = gap_map(&g, S, Men);
        assert_eq!(m.values[&UsState::Wy], Datum::Hidden("no resource".into()));
        assert_eq!(m.values[&UsState::Tx], Datum::Number(6.0));
    }

    #[test]
    fn a_county_gap_has_a_rate_per_county_resident_and_the_csv_lists_every_gap_in_rank_order() {
        use Population::Men;
        use ServiceType::EmergencyShelter as S;
        let need = |county: Option<&str>, cases| Need {
            state: UsState::Tx,
            county: county.map(str::to_owned),
            service: S,
            population: Men,
            cases,
        };
        let needs = [
            need(None, 3),
            need(Some("Harris County"), 2),
            need(Some("Nowhere"), 1),
        ];
        let supply = [Supply {
            state: UsState::Tx,
            county: None,
            service: S,
            population: Men,
            resources: 2,
        }];
        let g = gaps(&needs, &supply);
        assert_eq!(g[0].county.as_deref(), Some("Harris County"));
        assert_eq!(g[0].resources, 0);
        // Harris County: 4,713,325 residents (Vintage 2019 estimate).
        let per = g[0].cases_per_100k.unwrap();
        assert!((per - 2.0 * 100_000.0 / 4_713_325.0).abs() < 1e-9, "{per}");
        assert_eq!(g[0].resources_per_100k, Some(0.0));
        assert_eq!(g[1].county.as_deref(), Some("Nowhere"));
        assert_eq!((g[1].cases_per_100k, g[1].resources_per_100k), (None, None));
        assert_eq!(g[2].cases_per_resource, Some(1.5));
        assert!(g[2].cases_per_100k.is_some());
        let text = csv(&g);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1],
            "1,TX,Harris County,emergency_shelter,men,2,0,,0.04,0.00"
        );
        assert_eq!(lines[2], "2,TX,Nowhere,emergency_shelter,men,1,0,,,");
        assert!(
            lines[3].starts_with("3,TX,,emergency_shelter,men,3,2,1.50,0.01,0.01"),
            "{}",
            lines[3]
        );
        // The US map has whole states only; the county map the counties it can place.
        assert_eq!(gap_map(&g, S, Men).values.len(), 1);
        let m = county_gap_map(&g, UsState::Tx, S, Men);
        assert_eq!(m.values.len(), 1);
        assert_eq!(m.values["48201"], Datum::Hidden("no resource".into()));
        assert!(m.title.contains("cases per resource by county"));
    }
}
