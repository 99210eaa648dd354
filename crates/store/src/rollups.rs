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

/// Every metric, in the order reports list them.
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
}

/// The coded facts of a referral that the rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferralFacts {
    /// When it was made, Unix microseconds.
    pub created_at_us: i64,
    /// Status.
    pub status: String,
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

/// What a case and its referrals contribute together (a change to the case moves its referrals' cells).
pub fn case_bundle_cells(case: &CaseFacts, referrals: &[ReferralFacts]) -> Cells {
    let mut cells = case_cells(case);
    for r in referrals {
        for (k, n) in referral_cells(r, case) {
            add(&mut cells, k, n);
        }
    }
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
}
