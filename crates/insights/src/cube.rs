//! The statistics cube: counts keyed by (month, state, form, typology, channel, signaler type,
//! screening outcome, referral status), updated by deltas as records are written, and queried by
//! filters and any grouping. The store keeps the rows; this is the pure aggregation. A cube has far
//! fewer cells than there are records, so a dashboard query is one scan of the cells.

use lantern_domain::codes::{
    CaseForm, Channel, Code, Outcome, ReferralStatus, SignalerType, Typology, UsState,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::{AddAssign, SubAssign};

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct YearMonth {
    /// The year (2000 to 2099).
    pub year: u16,
    /// The month, 1 to 12.
    pub month: u8,
}

impl YearMonth {
    /// A month; `None` outside 2000-01 to 2099-12.
    pub fn new(year: u16, month: u8) -> Option<YearMonth> {
        ((2000..=2099).contains(&year) && (1..=12).contains(&month))
            .then_some(YearMonth { year, month })
    }

    fn index(self) -> u64 {
        (self.year as u64 - 2000) * 12 + self.month as u64 - 1
    }

    fn from_index(i: u64) -> YearMonth {
        YearMonth {
            year: 2000 + (i / 12) as u16,
            month: (i % 12) as u8 + 1,
        }
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Where one record falls in the cube. `state` is `None` when unknown; `referral_status` is `None`
/// for rows that are not referrals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CubeKey {
    /// The month.
    pub month: YearMonth,
    /// The state, when known.
    pub state: Option<UsState>,
    /// The case's form.
    pub form: CaseForm,
    /// The venue or industry.
    pub typology: Typology,
    /// How the contact came in.
    pub channel: Channel,
    /// Who reached out.
    pub signaler_type: SignalerType,
    /// The screening outcome.
    pub outcome: Outcome,
    /// The referral's status, for referral rows.
    pub referral_status: Option<ReferralStatus>,
}

/// The measures kept per cell (signed, so that deltas can subtract).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Contacts (signals).
    pub contacts: i64,
    /// Substantive signals (contacts that are not non-substantive).
    pub substantive: i64,
    /// Cases.
    pub cases: i64,
    /// Potential victims.
    pub victims: i64,
    /// Referrals.
    pub referrals: i64,
}

impl Counts {
    /// Whether every measure is zero (such cells are dropped).
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.contacts += o.contacts;
        self.substantive += o.substantive;
        self.cases += o.cases;
        self.victims += o.victims;
        self.referrals += o.referrals;
    }
}

impl SubAssign for Counts {
    fn sub_assign(&mut self, o: Counts) {
        self.contacts -= o.contacts;
        self.substantive -= o.substantive;
        self.cases -= o.cases;
        self.victims -= o.victims;
        self.referrals -= o.referrals;
    }
}

/// A dimension to group or filter by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// Month.
    Month,
    /// State.
    State,
    /// Form.
    Form,
    /// Typology.
    Typology,
    /// Channel.
    Channel,
    /// Signaler type.
    SignalerType,
    /// Screening outcome.
    Outcome,
    /// Referral status.
    ReferralStatus,
}

impl Dim {
    /// Every dimension.
    pub const ALL: [Dim; 8] = [
        Dim::Month,
        Dim::State,
        Dim::Form,
        Dim::Typology,
        Dim::Channel,
        Dim::SignalerType,
        Dim::Outcome,
        Dim::ReferralStatus,
    ];

    /// The dimension's name, as fields are named (`signaler_type`).
    pub fn name(self) -> &'static str {
        match self {
            Dim::Month => "month",
            Dim::State => "state",
            Dim::Form => "form",
            Dim::Typology => "typology",
            Dim::Channel => "channel",
            Dim::SignalerType => "signaler_type",
            Dim::Outcome => "outcome",
            Dim::ReferralStatus => "referral_status",
        }
    }

    /// Parses a dimension's name (`state`, `form`, `signaler_type`, …) as the CLI's `--group-by`.
    pub fn parse(s: &str) -> Result<Dim, String> {
        Dim::ALL
            .into_iter()
            .find(|d| d.name() == s.trim())
            .ok_or_else(|| {
                let all: Vec<&str> = Dim::ALL.iter().map(|d| d.name()).collect();
                format!("unknown dimension `{s}`; allowed: {}", all.join(", "))
            })
    }

    /// (shift, bits) of the dimension in a packed key.
    const fn field(self) -> (u32, u32) {
        match self {
            Dim::Month => (0, 12),
            Dim::State => (12, 6),
            Dim::Form => (18, 3),
            Dim::Typology => (21, 5),
            Dim::Channel => (26, 3),
            Dim::SignalerType => (29, 4),
            Dim::Outcome => (33, 3),
            Dim::ReferralStatus => (36, 3),
        }
    }

    fn mask(self) -> u64 {
        let (s, b) = self.field();
        ((1u64 << b) - 1) << s
    }

    fn get(self, packed: u64) -> u64 {
        let (s, b) = self.field();
        (packed >> s) & ((1u64 << b) - 1)
    }
}

fn pos<T: Code + PartialEq>(v: T) -> u64 {
    T::all().iter().position(|x| *x == v).unwrap_or(0) as u64
}

fn pack(k: &CubeKey) -> u64 {
    let mut p = k.month.index();
    p |= k.state.map_or(0, |s| pos(s) + 1) << 12;
    p |= pos(k.form) << 18;
    p |= pos(k.typology) << 21;
    p |= pos(k.channel) << 26;
    p |= pos(k.signaler_type) << 29;
    p |= pos(k.outcome) << 33;
    p |= k.referral_status.map_or(0, |s| pos(s) + 1) << 36;
    p
}

/// One row of a query's answer: the grouped dimensions' values (the others are `None`) and the sums.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    /// Month, when grouped by it.
    pub month: Option<YearMonth>,
    /// State when grouped by it (`Some(None)`: unknown state).
    pub state: Option<Option<UsState>>,
    /// Form, when grouped by it.
    pub form: Option<CaseForm>,
    /// Typology, when grouped by it.
    pub typology: Option<Typology>,
    /// Channel, when grouped by it.
    pub channel: Option<Channel>,
    /// Signaler type, when grouped by it.
    pub signaler_type: Option<SignalerType>,
    /// Outcome, when grouped by it.
    pub outcome: Option<Outcome>,
    /// Referral status when grouped by it (`Some(None)`: not a referral row).
    pub referral_status: Option<Option<ReferralStatus>>,
    /// The sums.
    pub counts: Counts,
}

impl GroupRow {
    /// The code of a grouped dimension's value, for tables and CSV (`unknown`/`none` for absent).
    pub fn code(&self, d: Dim) -> Option<String> {
        Some(match d {
            Dim::Month => self.month?.to_string(),
            Dim::State => self.state?.map_or("unknown", |s| s.code()).to_owned(),
            Dim::Form => self.form?.code().to_owned(),
            Dim::Typology => self.typology?.code().to_owned(),
            Dim::Channel => self.channel?.code().to_owned(),
            Dim::SignalerType => self.signaler_type?.code().to_owned(),
            Dim::Outcome => self.outcome?.code().to_owned(),
            Dim::ReferralStatus => self
                .referral_status?
                .map_or("none", |s| s.code())
                .to_owned(),
        })
    }
}

/// Which cells a query reads. Empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// First month included.
    pub from: Option<YearMonth>,
    /// Last month included.
    pub to: Option<YearMonth>,
    /// States included.
    pub states: Vec<UsState>,
    /// Forms included.
    pub forms: Vec<CaseForm>,
}

/// The cube: packed key → counts, kept as two contiguous arrays (scanned by queries) with an index
/// (used by updates).
#[derive(Debug, Clone, Default)]
pub struct Cube {
    keys: Vec<u64>,
    counts: Vec<Counts>,
    index: HashMap<u64, usize>,
}

impl PartialEq for Cube {
    fn eq(&self, other: &Cube) -> bool {
        self.len() == other.len()
            && self
                .keys
                .iter()
                .zip(&self.counts)
                .all(|(k, c)| other.index.get(k).is_some_and(|&i| other.counts[i] == *c))
    }
}

impl Eq for Cube {}

impl Cube {
    /// An empty cube.
    pub fn new() -> Cube {
        Cube::default()
    }

    fn apply(&mut self, key: &CubeKey, delta: Counts, add: bool) {
        let p = pack(key);
        let i = match self.index.get(&p) {
            Some(&i) => i,
            None => {
                self.keys.push(p);
                self.counts.push(Counts::default());
                self.index.insert(p, self.keys.len() - 1);
                self.keys.len() - 1
            }
        };
        if add {
            self.counts[i] += delta;
        } else {
            self.counts[i] -= delta;
        }
        if self.counts[i].is_zero() {
            self.index.remove(&p);
            self.keys.swap_remove(i);
            self.counts.swap_remove(i);
            if i < self.keys.len() {
                self.index.insert(self.keys[i], i);
            }
        }
    }

    /// Adds a delta to a cell (a new record, or the new side of an update).
    pub fn add(&mut self, key: &CubeKey, delta: Counts) {
        self.apply(key, delta, true);
    }

    /// Subtracts a delta from a cell (a deleted record, or the old side of an update).
    pub fn subtract(&mut self, key: &CubeKey, delta: Counts) {
        self.apply(key, delta, false);
    }

    /// How many non-zero cells there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the cube is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every cell with its key, for the store to persist (order unspecified).
    pub fn cells(&self) -> impl Iterator<Item = (CubeKey, Counts)> + '_ {
        self.keys
            .iter()
            .zip(&self.counts)
            .map(|(&p, &c)| (unpack(p), c))
    }

    /// Sums the cells that pass the filter, grouped by the given dimensions (none: one grand row),
    /// sorted by the grouped values.
    pub fn query(&self, filter: &Filter, group_by: &[Dim]) -> Vec<GroupRow> {
        let mask: u64 = group_by.iter().fold(0, |m, d| m | d.mask());
        let from = filter.from.map_or(0, |m| m.index());
        let to = filter.to.map_or(u64::MAX, |m| m.index());
        let states: u64 = filter
            .states
            .iter()
            .fold(0, |acc, s| acc | 1u64 << (pos(*s) + 1));
        let forms: u64 = filter.forms.iter().fold(0, |acc, f| acc | 1u64 << pos(*f));
        let keep = |p: u64| {
            let m = Dim::Month.get(p);
            m >= from
                && m <= to
                && (states == 0 || states & (1 << Dim::State.get(p)) != 0)
                && (forms == 0 || forms & (1 << Dim::Form.get(p)) != 0)
        };
        // Few groups (up to 2^16): a dense array indexed by the grouped fields, no hashing.
        let bits: u32 = group_by.iter().map(|d| d.field().1).sum();
        let mut groups: HashMap<u64, Counts> = HashMap::new();
        if bits <= 16 {
            let compact = |p: u64| {
                let mut i = 0u64;
                for d in group_by {
                    i = (i << d.field().1) | d.get(p);
                }
                i as usize
            };
            let mut dense = vec![Counts::default(); 1 << bits];
            let mut seen = vec![0u64; 1 << bits];
            for (&p, c) in self.keys.iter().zip(&self.counts) {
                if keep(p) {
                    let i = compact(p);
                    dense[i] += *c;
                    seen[i] = p & mask;
                }
            }
            for (i, c) in dense.into_iter().enumerate() {
                if !c.is_zero() {
                    groups.insert(seen[i], c);
                }
            }
        } else {
            for (&p, c) in self.keys.iter().zip(&self.counts) {
                if keep(p) {
                    *groups.entry(p & mask).or_default() += *c;
                }
            }
        }
        let mut rows: Vec<(u64, GroupRow)> = groups
            .into_iter()
            .map(|(p, counts)| {
                let k = unpack(p);
                let has = |d: Dim| group_by.contains(&d);
                (
                    p,
                    GroupRow {
                        month: has(Dim::Month).then_some(k.month),
                        state: has(Dim::State).then_some(k.state),
                        form: has(Dim::Form).then_some(k.form),
                        typology: has(Dim::Typology).then_some(k.typology),
                        channel: has(Dim::Channel).then_some(k.channel),
                        signaler_type: has(Dim::SignalerType).then_some(k.signaler_type),
                        outcome: has(Dim::Outcome).then_some(k.outcome),
                        referral_status: has(Dim::ReferralStatus).then_some(k.referral_status),
                        counts,
                    },
                )
            })
            .collect();
        rows.sort_by_key(|(p, _)| *p);
        rows.into_iter().map(|(_, r)| r).collect()
    }
}

fn unpack(p: u64) -> CubeKey {
    fn nth<T: Code>(i: u64) -> T {
        T::all()[i as usize]
    }
    let state = Dim::State.get(p);
    let rs = Dim::ReferralStatus.get(p);
    CubeKey {
        month: YearMonth::from_index(Dim::Month.get(p)),
        state: (state > 0).then(|| nth(state - 1)),
        form: nth(Dim::Form.get(p)),
        typology: nth(Dim::Typology.get(p)),
        channel: nth(Dim::Channel.get(p)),
        signaler_type: nth(Dim::SignalerType.get(p)),
        outcome: nth(Dim::Outcome.get(p)),
        referral_status: (rs > 0).then(|| nth(rs - 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key_strategy() -> impl Strategy<Value = CubeKey> {
        (
            0u64..300,
            0usize..=UsState::ALL.len(),
            0usize..CaseForm::ALL.len(),
            0usize..Typology::ALL.len(),
            0usize..Channel::ALL.len(),
            0usize..SignalerType::ALL.len(),
            0usize..Outcome::ALL.len(),
            0usize..=ReferralStatus::ALL.len(),
        )
            .prop_map(|(m, s, f, t, c, g, o, r)| CubeKey {
                month: YearMonth::from_index(m),
                state: (s > 0).then(|| UsState::ALL[s - 1]),
                form: CaseForm::ALL[f],
                typology: Typology::ALL[t],
                channel: Channel::ALL[c],
                signaler_type: SignalerType::ALL[g],
                outcome: Outcome::ALL[o],
                referral_status: (r > 0).then(|| ReferralStatus::ALL[r - 1]),
            })
    }

    proptest! {
        #[test]
        fn every_key_survives_packing(k in key_strategy()) {
            prop_assert_eq!(unpack(pack(&k)), k);
        }

        #[test]
        fn a_query_equals_a_scan_of_the_records(
            records in prop::collection::vec((key_strategy(), 1i64..4), 1..200),
            deleted in prop::collection::vec(any::<bool>(), 200),
            group in prop::sample::subsequence(Dim::ALL.to_vec(), 0..4),
            from in 0u64..300,
            span in 0u64..300,
            states in prop::sample::subsequence(UsState::ALL.to_vec(), 0..3),
        ) {
            let mut cube = Cube::new();
            let count = |n: i64| Counts { contacts: n, substantive: n - 1, cases: 1, victims: n, referrals: 0 };
            for (k, n) in &records { cube.add(k, count(*n)); }
            for ((k, n), d) in records.iter().zip(&deleted) { if *d { cube.subtract(k, count(*n)); } }
            let filter = Filter {
                from: Some(YearMonth::from_index(from)),
                to: Some(YearMonth::from_index(from + span)),
                states: states.clone(),
                forms: vec![],
            };
            let got = cube.query(&filter, &group);
            // The same answer by brute force over the surviving records.
            let mut want: HashMap<Vec<Option<String>>, Counts> = HashMap::new();
            for ((k, n), d) in records.iter().zip(&deleted) {
                let m = k.month.index();
                if *d || m < from || m > from + span { continue; }
                if !states.is_empty() && !k.state.is_some_and(|s| states.contains(&s)) { continue; }
                let row = GroupRow { month: Some(k.month), state: Some(k.state), form: Some(k.form), typology: Some(k.typology), channel: Some(k.channel), signaler_type: Some(k.signaler_type), outcome: Some(k.outcome), referral_status: Some(k.referral_status), counts: Counts::default() };
                let gk: Vec<Option<String>> = group.iter().map(|d| row.code(*d)).collect();
                *want.entry(gk).or_default() += count(*n);
            }
            want.retain(|_, c| !c.is_zero());
            let got: HashMap<Vec<Option<String>>, Counts> = got.iter().filter(|r| !r.counts.is_zero()).map(|r| (group.iter().map(|d| r.code(*d)).collect(), r.counts)).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn adding_then_subtracting_leaves_an_empty_cube() {
        let k = CubeKey {
            month: YearMonth::new(2026, 3).unwrap(),
            state: Some(UsState::Tx),
            form: CaseForm::Labor,
            typology: Typology::Construction,
            channel: Channel::Sms,
            signaler_type: SignalerType::VictimSurvivor,
            outcome: Outcome::LikelyTrafficking,
            referral_status: None,
        };
        let c = Counts {
            contacts: 2,
            substantive: 2,
            cases: 1,
            victims: 3,
            referrals: 0,
        };
        let mut cube = Cube::new();
        cube.add(&k, c);
        assert_eq!(cube.query(&Filter::default(), &[])[0].counts, c);
        cube.subtract(&k, c);
        assert!(cube.is_empty());
        assert!(Dim::parse("signaler_type").is_ok());
        assert_eq!(
            Dim::parse("venue").unwrap_err(),
            "unknown dimension `venue`; allowed: month, state, form, typology, channel, signaler_type, outcome, referral_status"
        );
    }
}

/// Which measure of [`Counts`] a table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Contacts.
    Contacts,
    /// Substantive signals.
    Substantive,
    /// Cases.
    Cases,
    /// Potential victims.
    Victims,
    /// Referrals.
    Referrals,
}

impl Measure {
    /// The measure's value in a row (negative sums, which only a corrupt cube has, count as 0).
    pub fn of(self, c: &Counts) -> u64 {
        let v = match self {
            Measure::Contacts => c.contacts,
            Measure::Substantive => c.substantive,
            Measure::Cases => c.cases,
            Measure::Victims => c.victims,
            Measure::Referrals => c.referrals,
        };
        v.max(0) as u64
    }
}

impl Cube {
    /// A gate table of one measure by one dimension (`cols` `None`) or two, over the filtered cells,
    /// with every category that occurs (zeros included in two-way tables), ready for
    /// [`crate::gate::publish`]. `universe` names what is counted; tables with the same universe
    /// share totals in a release, so use one universe per (measure, filter).
    pub fn table(
        &self,
        id: &str,
        universe: &str,
        filter: &Filter,
        measure: Measure,
        rows: Dim,
        cols: Option<Dim>,
    ) -> crate::gate::Table {
        use crate::gate::{Dimension, Table};
        let group: Vec<Dim> = std::iter::once(rows).chain(cols).collect();
        let found = self.query(filter, &group);
        let name = |d: Dim| d.name();
        let mut row_labels: Vec<String> = Vec::new();
        let mut col_labels: Vec<String> = Vec::new();
        for r in &found {
            let rl = r.code(rows).unwrap_or_default();
            if !row_labels.contains(&rl) {
                row_labels.push(rl);
            }
            if let Some(cd) = cols {
                let cl = r.code(cd).unwrap_or_default();
                if !col_labels.contains(&cl) {
                    col_labels.push(cl);
                }
            }
        }
        let width = if cols.is_some() { col_labels.len() } else { 1 };
        let mut cells = vec![vec![0u64; width]; row_labels.len()];
        for r in &found {
            let ri = row_labels
                .iter()
                .position(|l| Some(l) == r.code(rows).as_ref())
                .unwrap_or(0);
            let ci = cols.map_or(0, |cd| {
                col_labels
                    .iter()
                    .position(|l| Some(l) == r.code(cd).as_ref())
                    .unwrap_or(0)
            });
            cells[ri][ci] += measure.of(&r.counts);
        }
        Table {
            id: id.to_owned(),
            universe: universe.to_owned(),
            rows: Dimension::new(name(rows), row_labels),
            cols: cols.map(|cd| Dimension::new(name(cd), col_labels)),
            cells,
        }
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn a_cube_table_goes_through_the_gate_with_shared_totals() {
        let mut cube = Cube::new();
        let base = CubeKey {
            month: YearMonth::new(2026, 1).unwrap(),
            state: Some(UsState::Tx),
            form: CaseForm::Sex,
            typology: Typology::EscortServices,
            channel: Channel::Phone,
            signaler_type: SignalerType::Anonymous,
            outcome: Outcome::LikelyTrafficking,
            referral_status: None,
        };
        let one = Counts {
            cases: 1,
            ..Counts::default()
        };
        for (state, form, n) in [
            (UsState::Tx, CaseForm::Sex, 9),
            (UsState::Tx, CaseForm::Labor, 1),
            (UsState::Ca, CaseForm::Sex, 7),
            (UsState::Ca, CaseForm::Labor, 8),
            (UsState::Ny, CaseForm::Labor, 6),
        ] {
            for _ in 0..n {
                cube.add(
                    &CubeKey {
                        state: Some(state),
                        form,
                        ..base
                    },
                    one,
                );
            }
        }
        let f = Filter::default();
        let by_form = cube.table(
            "by_form",
            "cases",
            &f,
            Measure::Cases,
            Dim::State,
            Some(Dim::Form),
        );
        let by_state = cube.table("by_state", "cases", &f, Measure::Cases, Dim::State, None);
        assert_eq!(by_form.cells.iter().flatten().sum::<u64>(), 31);
        let release = crate::gate::publish(&[by_form, by_state], &Default::default()).unwrap();
        assert!(
            crate::gate::attack(&release)
                .breaches(&release.config)
                .is_empty()
        );
        let tx = release.tables[0]
            .rows
            .labels
            .iter()
            .position(|l| l == "TX")
            .unwrap();
        let labor = release.tables[0]
            .cols
            .as_ref()
            .unwrap()
            .labels
            .iter()
            .position(|l| l == "labor")
            .unwrap();
        assert_eq!(
            release.tables[0].cells[tx][labor],
            crate::gate::Cell::FewerThan(3)
        );
    }
}
