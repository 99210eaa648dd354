//! The gap analysis's counts: per state (and county, where both sides know it), service type,
//! population and case form, how many cases needed the service; and per state (and county), service
//! type and population, how many vetted directory services offer it. Counts only, of one hotline:
//! no personal data leaves, and nothing is read across hotlines.
//!
//! A case's needs are what the advocate recorded (`details.needs`) together with the service types
//! of the directory services it was referred to (any referral not withdrawn). Its populations follow
//! from its potential victims, form and risk factors ([`lantern_domain::population`]). It is counted
//! in its main state, and in a county when one of its places in that state names the county or has a
//! ZIP code the gazetteer knows. Supply is every vetted, active service
//! ([`lantern_directory::supply`]), once per state and once per county it serves.
//!
//! The backends read the coded columns (cases, potential victims, referrals) and the directory; the
//! tally is [`tally`], here, the same for both.

use crate::error::{Result, StoreError};
use async_trait::async_trait;
use jiff::civil::Date;
use lantern_directory::gazetteer::Gazetteer;
use lantern_directory::model::Directory;
use lantern_directory::supply::vetted_offers;
use lantern_directory::taxonomy::classify;
use lantern_domain::case::{CaseDetails, county_name};
use lantern_domain::codes::{AgeBand, CaseForm, Gender, Population, ServiceType, UsState};
use lantern_domain::population::{Victim, populations_of};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Cases that needed a service, for a population, in a case form, in a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeedCount {
    /// The state.
    pub state: UsState,
    /// `None`: the whole state; otherwise only the cases known to be in this county.
    pub county: Option<String>,
    /// The service type needed.
    pub service: ServiceType,
    /// A population the case's people belong to.
    pub population: Population,
    /// The case's form.
    pub form: CaseForm,
    /// How many cases.
    pub cases: u64,
}

/// Vetted directory services offering a service type to a population in a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplyCount {
    /// The state.
    pub state: UsState,
    /// `None`: the whole state (each service once); otherwise the services serving this county.
    pub county: Option<String>,
    /// The service type offered.
    pub service: ServiceType,
    /// The population served.
    pub population: Population,
    /// How many vetted services.
    pub resources: u64,
}

/// Both sides of the gap analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GapCounts {
    /// What cases needed, ordered by place, service, population and form.
    pub needs: Vec<NeedCount>,
    /// What the vetted directory offers, ordered by place, service and population.
    pub supply: Vec<SupplyCount>,
}

/// A case as the backends read it: its id, main state, form and coded details (JSON).
#[derive(Debug, Clone)]
pub(crate) struct CaseRow {
    pub id: String,
    pub state: Option<String>,
    pub form: String,
    pub details: String,
}

/// A potential victim's coded facts, with its case.
#[derive(Debug, Clone)]
pub(crate) struct VictimRow {
    pub case_id: String,
    pub gender: Option<String>,
    pub age: Option<i64>,
    pub age_band: Option<String>,
    pub nationality: Option<String>,
}

/// The gap analysis's reads.
#[async_trait]
pub trait GapStore {
    /// The needs of a hotline's cases and the supply of its vetted directory on `today` (the day
    /// vetting is judged on).
    async fn gap_counts(&self, hotline_id: &str, today: Date) -> Result<GapCounts>;
}

/// A stored code that does not parse is a corrupt row, named.
fn code<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T> {
    raw.parse()
        .map_err(|_| StoreError::Invalid(format!("stored {what} `{raw}` is unknown")))
}

/// The state and county a case is counted in.
fn place_of(row: &CaseRow, details: &CaseDetails) -> Option<(UsState, Option<String>)> {
    let main = row
        .state
        .as_deref()
        .or_else(|| details.locations.first().map(|l| l.state.as_str()))?;
    let state = UsState::parse_usps(main).ok()?;
    let county = details
        .locations
        .iter()
        .filter(|l| l.state == state.code())
        .find_map(|l| {
            l.county.as_deref().and_then(county_name).or_else(|| {
                let z = Gazetteer::get().zip(l.zip.as_deref()?)?;
                (z.state == state.code())
                    .then(|| county_name(&z.county))
                    .flatten()
            })
        });
    Some((state, county))
}

/// Counts both sides from what the backend read: the hotline's cases, their potential victims, the
/// (case, directory service) of their referrals that were not withdrawn, and the directory.
pub(crate) fn tally(
    cases: &[CaseRow],
    victims: &[VictimRow],
    referrals: &[(String, String)],
    dir: &Directory,
    today: Date,
) -> Result<GapCounts> {
    let classes = classify(dir);
    let mut victims_of: HashMap<&str, Vec<Victim<'_>>> = HashMap::new();
    for v in victims {
        victims_of
            .entry(v.case_id.as_str())
            .or_default()
            .push(Victim {
                gender: v
                    .gender
                    .as_deref()
                    .map(|g| code::<Gender>("gender", g))
                    .transpose()?,
                age: v.age.and_then(|a| u32::try_from(a).ok()),
                age_band: v
                    .age_band
                    .as_deref()
                    .map(|b| code::<AgeBand>("age band", b))
                    .transpose()?,
                nationality: v.nationality.as_deref(),
            });
    }
    let mut referred: HashMap<&str, BTreeSet<ServiceType>> = HashMap::new();
    for (case_id, service_id) in referrals {
        if let Some((types, _)) = classes.get(service_id) {
            referred
                .entry(case_id.as_str())
                .or_default()
                .extend(types.iter().copied());
        }
    }
    type NeedKey = (UsState, Option<String>, ServiceType, Population, CaseForm);
    let mut needs: BTreeMap<NeedKey, u64> = BTreeMap::new();
    for row in cases {
        let details: CaseDetails = serde_json::from_str(&row.details).map_err(|e| {
            StoreError::Invalid(format!(
                "stored details of case {} do not read: {e}",
                row.id
            ))
        })?;
        let mut wanted: BTreeSet<ServiceType> = details.needs.iter().copied().collect();
        if let Some(r) = referred.get(row.id.as_str()) {
            wanted.extend(r.iter().copied());
        }
        if wanted.is_empty() {
            continue;
        }
        let Some((state, county)) = place_of(row, &details) else {
            continue;
        };
        let form = code::<CaseForm>("form", &row.form)?;
        let pops = populations_of(
            form,
            victims_of
                .get(row.id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default(),
            &details.risk_factors,
        );
        for &service in &wanted {
            for &population in &pops {
                *needs
                    .entry((state, None, service, population, form))
                    .or_default() += 1;
                if let Some(c) = &county {
                    *needs
                        .entry((state, Some(c.clone()), service, population, form))
                        .or_default() += 1;
                }
            }
        }
    }
    type SupplyKey = (UsState, Option<String>, ServiceType, Population);
    let mut supply: BTreeMap<SupplyKey, u64> = BTreeMap::new();
    for offer in vetted_offers(dir, today) {
        let states: BTreeSet<UsState> = offer.places.iter().map(|p| p.0).collect();
        let counties = offer.places.iter().filter(|p| p.1.is_some());
        let places = states
            .into_iter()
            .map(|s| (s, None))
            .chain(counties.cloned());
        for (state, county) in places {
            for &service in &offer.types {
                for &population in &offer.populations {
                    *supply
                        .entry((state, county.clone(), service, population))
                        .or_default() += 1;
                }
            }
        }
    }
    Ok(GapCounts {
        needs: needs
            .into_iter()
            .map(
                |((state, county, service, population, form), cases)| NeedCount {
                    state,
                    county,
                    service,
                    population,
                    form,
                    cases,
                },
            )
            .collect(),
        supply: supply
            .into_iter()
            .map(
                |((state, county, service, population), resources)| SupplyCount {
                    state,
                    county,
                    service,
                    population,
                    resources,
                },
            )
            .collect(),
    })
}
