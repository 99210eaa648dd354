//! Statistics rollups: what each record contributes to the counts dashboards read, and the store API
//! over them.
//!
//! The rules are pure functions from a record's coded facts (never personal data) to a multiset of cells.
//! Every write computes the cells of the records it touches before and after, and applies the difference
//! in the same transaction ([`delta`]); `rebuild_rollups` recomputes every cell from the records with the
//! same functions, so the two agree by construction and the contract tests check that they do.
//!
//! What is counted (metric → key columns set; every other column is `''`):
//! - `contacts`: month the contact happened, its state, channel, signaler type, and the outcome of its
//!   latest screening determination.
//! - `substantive_contacts`: the same, for contacts whose category is set and not `non_substantive`.
//! - `cases`: month opened, state, form, case status, and the first (primary) typology.
//! - `case_typologies`: one per typology a case names (a case may name several), with its state, form and
//!   status.
//! - `potential_victims`: the number of potential-victim parties of a case, keyed like `cases`.
//! - `referrals`: month the referral was made, its status, and its case's state and form.
//! - `case_needs` (the gap analysis's, not a dashboard metric: see [`METRICS`]): one per case, service type
//!   it needed (recorded in `details.needs`, or the service types of a referral not withdrawn) and
//!   population its people belong to ([`lantern_domain::population`]), with its state and form; county `''`
//!   counts every such case of the state, and a county's cells again the cases known to be in that county
//!   (so a state's cells are not the sum of its counties'). No month: a gap is over all of a hotline's cases.

use crate::audit::AuditCtx;
use crate::error::Result;
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;

/// Contacts, keyed by month, state, channel, signaler type and screening outcome.
pub const METRIC_CONTACTS: &str = "contacts";
/// Contacts whose category is substantive (set and not `non_substantive`).
pub const METRIC_SUBSTANTIVE: &str = "substantive_contacts";
/// Cases, keyed by month opened, state, form, status and primary typology.
pub const METRIC_CASES: &str = "cases";
/// Typology mentions: one per typology of each case.
pub const METRIC_CASE_TYPOLOGIES: &str = "case_typologies";
/// Potential victims (parties in that role) of cases.
pub const METRIC_POTENTIAL_VICTIMS: &str = "potential_victims";
/// Referrals, keyed by month made, status, and their case's state and form.
pub const METRIC_REFERRALS: &str = "referrals";

/// Cases that needed a service type, for a population, per state (and county), form.
pub const METRIC_CASE_NEEDS: &str = "case_needs";

/// Every dashboard metric, in the order reports list them: the ones counted per month that dashboards,
/// `lantern stats` and public statistics sum. [`METRIC_CASE_NEEDS`] is kept beside them in the same
/// cells but is not one of them (its cells count a case once per service and population).
pub const METRICS: &[&str] = &[
    METRIC_CONTACTS,
    METRIC_SUBSTANTIVE,
    METRIC_CASES,
    METRIC_CASE_TYPOLOGIES,
    METRIC_POTENTIAL_VICTIMS,
    METRIC_REFERRALS,
];

/// The key of one rollup cell; `''` in a column means "not applicable".
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CellKey {
    /// One of [`METRICS`].
    pub metric: String,
    /// `YYYY-MM`, UTC.
    pub month: String,
    /// USPS state code.
    pub state: String,
    /// Case form code.
    pub form: String,
    /// Typology code.
    pub typology: String,
    /// Contact channel code.
    pub channel: String,
    /// Signaler type code.
    pub signaler_type: String,
    /// Screening outcome code.
    pub outcome: String,
    /// Referral status code.
    pub referral_status: String,
    /// Case status code.
    pub case_status: String,
    /// County name (`county_name` form), for [`METRIC_CASE_NEEDS`].
    pub county: String,
    /// Service type code, for [`METRIC_CASE_NEEDS`].
    pub service: String,
    /// Population code, for [`METRIC_CASE_NEEDS`].
    pub population: String,
}

/// One rollup cell: a key and its count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RollupCell {
    /// The key.
    #[serde(flatten)]
    pub key: CellKey,
    /// How many.
    pub count: i64,
}

/// The coded facts of a contact that the rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFacts {
    /// When it happened, Unix microseconds.
    pub occurred_at_us: i64,
    /// State.
    pub state: Option<String>,
    /// Channel.
    pub channel: String,
    /// Signaler type.
    pub signaler_type: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// The outcome of its latest determination.
    pub outcome: Option<String>,
}

/// The coded facts of a case that the rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFacts {
    /// When it was opened, Unix microseconds.
    pub opened_at_us: i64,
    /// Status.
    pub status: String,
    /// Form.
    pub form: String,
    /// Main state.
    pub state: Option<String>,
    /// Typologies from the coded details, in order.
    pub typologies: Vec<String>,
    /// How many potential-victim parties it has.
    pub potential_victims: i64,
    /// The county of its main state it is known to be in (from its places' county or ZIP code).
    pub county: Option<String>,
    /// Service type codes recorded as needed (`details.needs`).
    pub needs: Vec<String>,
    /// Population codes its people belong to, from its potential victims, form and risk factors.
    pub populations: Vec<String>,
}

/// The coded facts of a referral that the rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferralFacts {
    /// When it was made, Unix microseconds.
    pub created_at_us: i64,
    /// Status.
    pub status: String,
    /// Service type codes of the directory service referred to, as recorded when it was made.
    pub service_types: Vec<String>,
}

/// A multiset of cells: key → count (never zero).
pub type Cells = BTreeMap<CellKey, i64>;

/// `YYYY-MM` of a Unix-microsecond instant, UTC (out-of-range instants clamp to the nearest year).
pub fn month_of(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(if secs < 0 {
        time::OffsetDateTime::UNIX_EPOCH
    } else {
        time::macros::datetime!(9999-12-31 0:00 UTC)
    });
    format!("{:04}-{:02}", t.year(), u8::from(t.month()))
}

fn add(cells: &mut Cells, key: CellKey, n: i64) {
    if n == 0 {
        return;
    }
    let e = cells.entry(key.clone()).or_insert(0);
    *e += n;
    if *e == 0 {
        cells.remove(&key);
    }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

/// Whether a contact category counts as a substantive signal.
pub fn is_substantive(category: Option<&str>) -> bool {
    matches!(category, Some(c) if !c.is_empty() && c != "non_substantive")
}

/// What a contact contributes.
pub fn contact_cells(c: &ContactFacts) -> Cells {
    let mut cells = Cells::new();
    let key = CellKey {
        metric: METRIC_CONTACTS.into(),
        month: month_of(c.occurred_at_us),
        state: opt(&c.state),
        channel: c.channel.clone(),
        signaler_type: opt(&c.signaler_type),
        outcome: opt(&c.outcome),
        ..CellKey::default()
    };
    if is_substantive(c.category.as_deref()) {
        add(
            &mut cells,
            CellKey {
                metric: METRIC_SUBSTANTIVE.into(),
                ..key.clone()
            },
            1,
        );
    }
    add(&mut cells, key, 1);
    cells
}

fn case_key(c: &CaseFacts, metric: &str, typology: &str) -> CellKey {
    CellKey {
        metric: metric.into(),
        month: month_of(c.opened_at_us),
        state: opt(&c.state),
        form: c.form.clone(),
        typology: typology.into(),
        case_status: c.status.clone(),
        ..CellKey::default()
    }
}

/// What a case contributes (without its referrals).
pub fn case_cells(c: &CaseFacts) -> Cells {
    let mut cells = Cells::new();
    let primary = c.typologies.first().map(String::as_str).unwrap_or("");
    add(&mut cells, case_key(c, METRIC_CASES, primary), 1);
    add(
        &mut cells,
        case_key(c, METRIC_POTENTIAL_VICTIMS, primary),
        c.potential_victims,
    );
    for t in &c.typologies {
        add(&mut cells, case_key(c, METRIC_CASE_TYPOLOGIES, t), 1);
    }
    cells
}

/// What a referral contributes; it is counted under its case's state and form.
pub fn referral_cells(r: &ReferralFacts, case: &CaseFacts) -> Cells {
    let mut cells = Cells::new();
    add(
        &mut cells,
        CellKey {
            metric: METRIC_REFERRALS.into(),
            month: month_of(r.created_at_us),
            state: opt(&case.state),
            form: case.form.clone(),
            referral_status: r.status.clone(),
            ..CellKey::default()
        },
        1,
    );
    cells
}

/// What a case needed ([`METRIC_CASE_NEEDS`]): once per service type, from its recorded needs and its
/// referrals not withdrawn, and population, in its main state and again in its county when known. A
/// case without a main state, need or population adds nothing.
pub fn case_need_cells(case: &CaseFacts, referrals: &[ReferralFacts]) -> Cells {
    let mut cells = Cells::new();
    let Some(state) = case.state.as_deref().filter(|s| !s.is_empty()) else {
        return cells;
    };
    let mut wanted: std::collections::BTreeSet<&str> =
        case.needs.iter().map(String::as_str).collect();
    for r in referrals.iter().filter(|r| r.status != "withdrawn") {
        wanted.extend(r.service_types.iter().map(String::as_str));
    }
    let counties = std::iter::once("").chain(case.county.as_deref());
    for county in counties {
        for service in &wanted {
            for population in &case.populations {
                let key = CellKey {
                    metric: METRIC_CASE_NEEDS.into(),
                    state: state.into(),
                    form: case.form.clone(),
                    county: county.into(),
                    service: (*service).into(),
                    population: population.clone(),
                    ..CellKey::default()
                };
                add(&mut cells, key, 1);
            }
        }
    }
    cells
}

/// What a case and its referrals contribute together (a change to the case moves its referrals' cells).
pub fn case_bundle_cells(case: &CaseFacts, referrals: &[ReferralFacts]) -> Cells {
    let mut cells = case_cells(case);
    for r in referrals {
        for (k, n) in referral_cells(r, case) {
            add(&mut cells, k, n);
        }
    }
    merge(&mut cells, case_need_cells(case, referrals));
    cells
}

/// Adds every cell of `more` into `cells`.
pub fn merge(cells: &mut Cells, more: Cells) {
    for (k, n) in more {
        add(cells, k, n);
    }
}

/// The change that turns `before` into `after`: cells with a non-zero difference.
pub fn delta(before: &Cells, after: &Cells) -> Cells {
    let mut d = after.clone();
    for (k, n) in before {
        add(&mut d, k.clone(), -n);
    }
    d
}

/// The typologies named in a case's coded details (`{"typology": [...]}`); none when absent or unreadable.
pub fn typologies_of(details_json: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(details_json)
        .ok()
        .and_then(|v| {
            v.get("typology").and_then(|t| t.as_array()).map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// A potential victim's coded facts, as stored on the party.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VictimFacts {
    /// Gender code.
    pub gender: Option<String>,
    /// Age in years.
    pub age: Option<i64>,
    /// Age band code.
    pub age_band: Option<String>,
    /// Nationality (ISO country code).
    pub nationality: Option<String>,
}

/// What the gap analysis reads of a case ([`CaseFacts::county`], `needs`, `populations`), from its main
/// state, form, coded details (JSON) and potential victims. Codes that do not read add nothing (stored
/// details were checked when written).
pub fn need_facts(
    state: Option<&str>,
    form: &str,
    details_json: &str,
    victims: &[VictimFacts],
) -> (Option<String>, Vec<String>, Vec<String>) {
    match serde_json::from_str::<lantern_domain::case::CaseDetails>(details_json) {
        Ok(details) => needs_of_details(state, form, &details, victims),
        Err(_) => (None, Vec::new(), Vec::new()),
    }
}

/// [`need_facts`] of details already read.
fn needs_of_details(
    state: Option<&str>,
    form: &str,
    details: &lantern_domain::case::CaseDetails,
    victims: &[VictimFacts],
) -> (Option<String>, Vec<String>, Vec<String>) {
    use lantern_domain::case::county_name;
    use lantern_domain::codes::{AgeBand, CaseForm, Gender};
    use lantern_domain::population::{Victim, populations_of};
    let county = state.and_then(|state| {
        details
            .locations
            .iter()
            .filter(|l| l.state == state)
            .find_map(|l| {
                l.county.as_deref().and_then(county_name).or_else(|| {
                    let z =
                        lantern_directory::gazetteer::Gazetteer::get().zip(l.zip.as_deref()?)?;
                    (z.state == state).then(|| county_name(&z.county)).flatten()
                })
            })
    });
    let needs = details.needs.iter().map(|n| n.code().to_owned()).collect();
    let populations = match form.parse::<CaseForm>() {
        Ok(form) => {
            let victims: Vec<Victim<'_>> = victims
                .iter()
                .map(|v| Victim {
                    gender: v.gender.as_deref().and_then(|g| g.parse::<Gender>().ok()),
                    age: v.age.and_then(|a| u32::try_from(a).ok()),
                    age_band: v
                        .age_band
                        .as_deref()
                        .and_then(|b| b.parse::<AgeBand>().ok()),
                    nationality: v.nationality.as_deref(),
                })
                .collect();
            populations_of(form, &victims, &details.risk_factors)
                .into_iter()
                .map(|p| p.code().to_owned())
                .collect()
        }
        Err(_) => Vec::new(),
    };
    (county, needs, populations)
}

impl CaseFacts {
    /// A case's facts from its stored columns and its potential victims, its coded details read once
    /// (details that do not read as [`lantern_domain::case::CaseDetails`] still give their typologies,
    /// as [`typologies_of`] reads them, and no needs).
    pub fn of_stored(
        opened_at_us: i64,
        status: String,
        form: String,
        state: Option<String>,
        details_json: &str,
        victims: &[VictimFacts],
    ) -> CaseFacts {
        let (typologies, (county, needs, populations)) =
            match serde_json::from_str::<lantern_domain::case::CaseDetails>(details_json) {
                Ok(d) => (
                    d.typology.iter().map(|t| t.code().to_owned()).collect(),
                    needs_of_details(state.as_deref(), &form, &d, victims),
                ),
                Err(_) => (typologies_of(details_json), (None, Vec::new(), Vec::new())),
            };
        CaseFacts {
            opened_at_us,
            status,
            form,
            state,
            typologies,
            potential_victims: victims.len() as i64,
            county,
            needs,
            populations,
        }
    }
}

/// Which cells to read.
#[derive(Debug, Clone, Default)]
pub struct RollupFilter {
    /// Only this metric.
    pub metric: Option<String>,
    /// From this month (`YYYY-MM`, inclusive).
    pub from_month: Option<String>,
    /// To this month (`YYYY-MM`, inclusive).
    pub to_month: Option<String>,
}

/// What changed in a hotline's cells after a version ([`RollupStore::rollup_changes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollupChanges {
    /// Every cell that changed, with its count now (0: the cell is gone); applied to the cells as they
    /// were at the version asked, they give the cells at `version`.
    Cells {
        /// The version the changes bring the cells to.
        version: i64,
        /// The changed cells, in no particular order.
        cells: Vec<RollupCell>,
    },
    /// More cells changed than asked for, or a rebuild replaced them: read them all again.
    ReadAll,
}

/// The rollups of a hotline.
#[async_trait]
pub trait RollupStore: Send + Sync {
    /// The cells of a hotline matching the filter, in key order. Reads counts only, no personal data.
    async fn rollups(&self, hotline_id: &str, filter: &RollupFilter) -> Result<Vec<RollupCell>>;
    /// Recomputes a hotline's cells from its records in one transaction; returns how many cells it has.
    async fn rebuild_rollups(&self, ctx: &AuditCtx, hotline_id: &str) -> Result<u64>;
    /// A number that grows with every committed change to a hotline's cells (0 before the first), so that
    /// figures computed from them can be kept until it moves. One primary-key read.
    async fn rollup_version(&self, hotline_id: &str) -> Result<i64>;
    /// The cells that changed after version `since` (at most `limit` of them), so that figures held in
    /// memory follow the writes without reading every cell. One index range read, and two primary-key
    /// reads.
    async fn rollup_changes(
        &self,
        hotline_id: &str,
        since: i64,
        limit: usize,
    ) -> Result<RollupChanges>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> CaseFacts {
        CaseFacts {
            opened_at_us: 1_700_000_000_000_000,
            status: "open".into(),
            form: "labor".into(),
            state: Some("TX".into()),
            typologies: vec!["agriculture_animal_husbandry".into(), "construction".into()],
            potential_victims: 3,
            county: Some("Harris County".into()),
            needs: vec!["emergency_shelter".into()],
            populations: vec!["men".into(), "labor_trafficking_survivors".into()],
        }
    }

    #[test]
    fn months_are_utc_calendar_months() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_700_000_000_000_000), "2023-11");
        assert_eq!(month_of(-1), "1969-12");
    }

    #[test]
    fn a_case_counts_once_with_its_primary_typology_and_once_per_typology_mention() {
        let cells = case_cells(&case());
        let by_metric = |m: &str| -> i64 {
            cells
                .iter()
                .filter(|(k, _)| k.metric == m)
                .map(|(_, n)| n)
                .sum()
        };
        assert_eq!(by_metric(METRIC_CASES), 1);
        assert_eq!(by_metric(METRIC_CASE_TYPOLOGIES), 2);
        assert_eq!(by_metric(METRIC_POTENTIAL_VICTIMS), 3);
        let primary = cells.keys().find(|k| k.metric == METRIC_CASES).unwrap();
        assert_eq!(primary.typology, "agriculture_animal_husbandry");
        assert_eq!(primary.channel, "");
    }

    #[test]
    fn a_non_substantive_contact_is_a_contact_but_not_a_signal() {
        let mut c = ContactFacts {
            channel: "sms".into(),
            category: Some("non_substantive".into()),
            ..ContactFacts::default()
        };
        assert_eq!(contact_cells(&c).len(), 1);
        c.category = Some("tip".into());
        assert_eq!(contact_cells(&c).len(), 2);
    }

    #[test]
    fn the_delta_of_a_form_change_moves_the_case_and_its_referrals() {
        let before = case();
        let after = CaseFacts {
            form: "sex".into(),
            ..case()
        };
        let refs = [ReferralFacts {
            created_at_us: 0,
            status: "sent".into(),
            service_types: vec!["legal_services".into()],
        }];
        let b = case_bundle_cells(&before, &refs);
        let a = case_bundle_cells(&after, &refs);
        let d = delta(&b, &a);
        assert_eq!(d.len(), b.len() + a.len(), "every cell moves: {d:?}");
        assert_eq!(d.values().sum::<i64>(), 0);
        let mut applied = b.clone();
        merge(&mut applied, d);
        assert_eq!(applied, a);
        assert!(delta(&a, &a).is_empty());
    }

    fn needs(cells: &Cells) -> BTreeMap<(String, String, String), i64> {
        cells
            .iter()
            .filter(|(k, _)| k.metric == METRIC_CASE_NEEDS)
            .map(|(k, n)| {
                assert_eq!(
                    (k.month.as_str(), k.state.as_str(), k.form.as_str()),
                    ("", "TX", "labor")
                );
                (
                    (k.county.clone(), k.service.clone(), k.population.clone()),
                    *n,
                )
            })
            .collect()
    }

    #[test]
    fn a_case_needs_each_service_once_per_population_in_its_state_and_its_county() {
        let refs = [
            ReferralFacts {
                created_at_us: 0,
                status: "sent".into(),
                service_types: vec!["legal_services".into(), "emergency_shelter".into()],
            },
            ReferralFacts {
                created_at_us: 0,
                status: "withdrawn".into(),
                service_types: vec!["medical_care".into()],
            },
        ];
        let got = needs(&case_bundle_cells(&case(), &refs));
        // 2 services (shelter recorded and referred counts once; the withdrawn referral not at all) × 2
        // populations × (state + county).
        assert_eq!(got.len(), 8, "{got:?}");
        assert!(got.values().all(|&n| n == 1));
        assert!(got.contains_key(&("".into(), "legal_services".into(), "men".into())));
        assert!(got.contains_key(&(
            "Harris County".into(),
            "emergency_shelter".into(),
            "labor_trafficking_survivors".into()
        )));
        assert!(!got.keys().any(|k| k.1 == "medical_care"));
        let nowhere = CaseFacts {
            state: None,
            ..case()
        };
        assert!(needs(&case_need_cells(&nowhere, &refs)).is_empty());
    }

    #[test]
    fn need_facts_read_county_needs_and_populations_from_the_details_and_victims() {
        let details = r#"{"locations":[{"state":"CA","county":"Fresno"},{"state":"TX","county":"Harris"}],
            "needs":["emergency_shelter"],"risk_factors":["disability"]}"#;
        let man = VictimFacts {
            gender: Some("man".into()),
            age: Some(40),
            nationality: Some("MX".into()),
            ..VictimFacts::default()
        };
        let (county, needs, pops) = need_facts(Some("TX"), "labor", details, &[man]);
        assert_eq!(county.as_deref(), Some("Harris County"));
        assert_eq!(needs, ["emergency_shelter"]);
        for p in [
            "men",
            "adults",
            "foreign_nationals",
            "labor_trafficking_survivors",
            "people_with_disabilities",
        ] {
            assert!(pops.iter().any(|x| x == p), "{p} in {pops:?}");
        }
        assert_eq!(need_facts(Some("NY"), "labor", details, &[]).0, None);
        assert_eq!(
            need_facts(Some("TX"), "labor", "not json", &[]),
            (None, vec![], vec![])
        );
    }
}
