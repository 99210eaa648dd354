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

/// Joins needs and supply per (place, service, population) and ranks the gaps: first those with no
/// resource at all (most cases first), then by cases per resource (highest first); ties by place,
/// service and population. Rows with no case are left out (no need, no gap).
pub fn gaps(needs: &[Need], supply: &[Supply]) -> Vec<Gap> {
    let mut totals = NeedTotals::default();
    for n in needs {
        let place = totals.place(n.state, n.county.as_deref());
        totals.add(
            place,
            n.service,
            n.population,
            i64::try_from(n.cases).unwrap_or(i64::MAX),
        );
    }
    totals.rank(supply).select(&GapSelection::default()).0
}

/// How many service types and populations there are: the width of a place's needs in [`NeedTotals`].
const SERVICES: usize = ServiceType::ALL.len();
const POPULATIONS: usize = Population::ALL.len();

/// Needs summed per place, service type and population, before they meet the supply: a place is
/// numbered once ([`NeedTotals::place`]), so a caller reading many cells of few places looks each
/// place up once, and its cases are one row of counts per service type and population.
#[derive(Debug, Default)]
pub struct NeedTotals {
    /// Each state's whole-state place and county places, by number.
    numbers: HashMap<UsState, (Option<u32>, HashMap<String, u32>)>,
    /// Each place by its number.
    places: Vec<(UsState, Option<String>)>,
    /// Cases per place, service type and population, [`SERVICES`] × [`POPULATIONS`] per place.
    cases: Vec<i64>,
}

impl NeedTotals {
    /// The number of a place (`None`: the whole state), given on first sight.
    pub fn place(&mut self, state: UsState, county: Option<&str>) -> u32 {
        let (whole, counties) = self.numbers.entry(state).or_default();
        let known = match county {
            None => *whole,
            Some(c) => counties.get(c).copied(),
        };
        if let Some(n) = known {
            return n;
        }
        let n = u32::try_from(self.places.len()).expect("fewer than 4 billion places");
        match county {
            None => *whole = Some(n),
            Some(c) => {
                counties.insert(c.to_owned(), n);
            }
        }
        self.places.push((state, county.map(str::to_owned)));
        self.cases
            .resize(self.cases.len() + SERVICES * POPULATIONS, 0);
        n
    }

    /// The place's number, if it has one.
    fn number(&self, state: UsState, county: Option<&str>) -> Option<u32> {
        let (whole, counties) = self.numbers.get(&state)?;
        match county {
            None => *whole,
            Some(c) => counties.get(c).copied(),
        }
    }

    fn slot(place: u32, service: ServiceType, population: Population) -> usize {
        (place as usize * SERVICES + service as usize) * POPULATIONS + population as usize
    }

    /// Adds `cases` (which may be negative: a change to counts added before) to a place, service type
    /// and population; `place` is a number [`NeedTotals::place`] gave.
    pub fn add(&mut self, place: u32, service: ServiceType, population: Population, cases: i64) {
        self.cases[Self::slot(place, service, population)] += cases;
    }

    /// Joins the supply and ranks the gaps, as [`gaps`] does.
    pub fn rank(self, supply: &[Supply]) -> RankedGaps {
        let mut resources = vec![0_u64; self.cases.len()];
        for s in supply {
            // Supply where nothing was needed makes no gap.
            if let Some(place) = self.number(s.state, s.county.as_deref()) {
                resources[Self::slot(place, s.service, s.population)] += s.resources;
            }
        }
        let pop = population_2020();
        let places: Vec<PlaceFigures> = self
            .places
            .into_iter()
            .map(|(state, county)| {
                let residents = match &county {
                    None => pop.get(&state).copied(),
                    Some(name) => county_population(state, name),
                }
                .filter(|p| *p > 0);
                PlaceFigures {
                    state,
                    county,
                    residents,
                }
            })
            .collect();
        let mut rows: Vec<RankedRow> = Vec::new();
        for (i, &cases) in self.cases.iter().enumerate() {
            let Ok(cases @ 1..) = u64::try_from(cases) else {
                continue;
            };
            let place = (i / (SERVICES * POPULATIONS)) as u32;
            let rest = i % (SERVICES * POPULATIONS);
            rows.push(RankedRow {
                place,
                service: ServiceType::ALL[rest / POPULATIONS],
                population: Population::ALL[rest % POPULATIONS],
                cases,
                resources: resources[i],
            });
        }
        rows.sort_unstable_by(|a, b| {
            let rank = |g: &RankedRow| {
                (
                    g.resources == 0,
                    if g.resources > 0 {
                        g.cases as f64 / g.resources as f64
                    } else {
                        g.cases as f64
                    },
                )
            };
            let (ra, rb) = (rank(a), rank(b));
            let (pa, pb) = (&places[a.place as usize], &places[b.place as usize]);
            rb.0.cmp(&ra.0)
                .then(rb.1.total_cmp(&ra.1))
                .then(b.cases.cmp(&a.cases))
                .then(pa.state.cmp(&pb.state))
                .then(pa.county.cmp(&pb.county))
                .then(a.service.cmp(&b.service))
                .then(a.population.cmp(&b.population))
        });
        RankedGaps { places, rows }
    }
}

/// A place of [`RankedGaps`] with its residents (per 100,000 figures).
#[derive(Debug, Clone)]
struct PlaceFigures {
    state: UsState,
    county: Option<String>,
    residents: Option<u64>,
}

/// One ranked gap, small: its place by number.
#[derive(Debug, Clone, Copy)]
struct RankedRow {
    place: u32,
    service: ServiceType,
    population: Population,
    cases: u64,
    resources: u64,
}

/// Which ranked gaps to read: those of a state, service type and population (each optional), the
/// first `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapSelection {
    /// Only this state (and its counties).
    pub state: Option<UsState>,
    /// Only this service type.
    pub service: Option<ServiceType>,
    /// Only this population.
    pub population: Option<Population>,
    /// At most this many.
    pub limit: usize,
}

impl Default for GapSelection {
    fn default() -> Self {
        GapSelection {
            state: None,
            service: None,
            population: None,
            limit: usize::MAX,
        }
    }
}

/// Gaps ranked once and read many times: a selection of them keeps their rank order, so filtering
/// by place, service type or population needs no new ranking (a case form does: it changes the
/// counts). Small rows; a [`Gap`] with its figures is made only for the rows read.
#[derive(Debug, Clone, Default)]
pub struct RankedGaps {
    places: Vec<PlaceFigures>,
    rows: Vec<RankedRow>,
}

impl RankedGaps {
    /// How many gaps, unfiltered.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no gap.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The selected gaps in rank order, at most `limit`, and how many there are in all.
    pub fn select(&self, s: &GapSelection) -> (Vec<Gap>, usize) {
        let mut out = Vec::new();
        let mut total = 0;
        for r in self.matching(s) {
            total += 1;
            if out.len() < s.limit {
                out.push(self.gap(r));
            }
        }
        (out, total)
    }

    /// The largest gap of a whole state among the selected (whatever their limit).
    pub fn top_state_gap(&self, s: &GapSelection) -> Option<Gap> {
        self.matching(s)
            .find(|r| self.places[r.place as usize].county.is_none())
            .map(|r| self.gap(r))
    }

    fn matching<'a>(&'a self, s: &'a GapSelection) -> impl Iterator<Item = &'a RankedRow> + 'a {
        self.rows.iter().filter(move |r| {
            s.state
                .is_none_or(|v| v == self.places[r.place as usize].state)
                && s.service.is_none_or(|v| v == r.service)
                && s.population.is_none_or(|v| v == r.population)
        })
    }

    fn gap(&self, r: &RankedRow) -> Gap {
        let place = &self.places[r.place as usize];
        let per = |n: u64| place.residents.map(|p| n as f64 * 100_000.0 / p as f64);
        Gap {
            state: place.state,
            county: place.county.clone(),
            service: r.service,
            population: r.population,
            cases: r.cases,
            resources: r.resources,
            cases_per_resource: (r.resources > 0).then(|| r.cases as f64 / r.resources as f64),
            cases_per_100k: per(r.cases),
            resources_per_100k: per(r.resources),
        }
    }
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

    #[test]
    fn a_selection_of_ranked_gaps_is_the_ranked_list_filtered_and_cut_with_its_total() {
        use Population::{Men, Minors, Women};
        use ServiceType::{EmergencyShelter, LegalServices};
        let mut needs = Vec::new();
        let mut supply = Vec::new();
        for (i, state) in [UsState::Tx, UsState::Ca, UsState::Wy, UsState::Pr]
            .into_iter()
            .enumerate()
        {
            for (j, county) in [None, Some("Harris County"), Some("Kings County")]
                .into_iter()
                .enumerate()
            {
                for (k, (service, population)) in [
                    (EmergencyShelter, Men),
                    (EmergencyShelter, Women),
                    (LegalServices, Minors),
                ]
                .into_iter()
                .enumerate()
                {
                    let place = (state, county.map(str::to_owned));
                    // Some needs split in two, some places without supply, ties in cases per resource.
                    let cases = ((i * 7 + j * 3 + k * 5) % 6) as u64;
                    for part in [cases / 2, cases - cases / 2] {
                        needs.push(Need {
                            state: place.0,
                            county: place.1.clone(),
                            service,
                            population,
                            cases: part,
                        });
                    }
                    if (i + j + k) % 3 != 0 {
                        supply.push(Supply {
                            state: place.0,
                            county: place.1,
                            service,
                            population,
                            resources: ((i + k) % 3 + 1) as u64,
                        });
                    }
                }
            }
        }
        let all = gaps(&needs, &supply);
        assert!(all.len() > 20 && all.iter().all(|g| g.cases > 0));
        let mut totals = NeedTotals::default();
        for n in &needs {
            let place = totals.place(n.state, n.county.as_deref());
            totals.add(place, n.service, n.population, n.cases as i64);
        }
        let ranked = totals.rank(&supply);
        assert_eq!(ranked.len(), all.len());
        for state in [None, Some(UsState::Tx), Some(UsState::Ny)] {
            for service in [None, Some(LegalServices)] {
                for population in [None, Some(Men)] {
                    for limit in [0, 3, usize::MAX] {
                        let s = GapSelection {
                            state,
                            service,
                            population,
                            limit,
                        };
                        let want: Vec<Gap> = all
                            .iter()
                            .filter(|g| state.is_none_or(|v| v == g.state))
                            .filter(|g| service.is_none_or(|v| v == g.service))
                            .filter(|g| population.is_none_or(|v| v == g.population))
                            .cloned()
                            .collect();
                        let (got, total) = ranked.select(&s);
                        assert_eq!(total, want.len(), "{s:?}");
                        assert_eq!(got, want[..want.len().min(limit)], "{s:?}");
                        let top = want.iter().find(|g| g.county.is_none());
                        assert_eq!(ranked.top_state_gap(&s).as_ref(), top, "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn service_types_and_populations_are_numbered_in_their_code_order() {
        for (i, s) in ServiceType::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
        for (i, p) in Population::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i);
        }
    }
}
