//! The dashboard's figures, held in memory per hotline.
//!
//! Every write keeps the store's rollup cells current and moves the hotline's rollup version in the same
//! transaction ([`lantern_store::RollupStore::rollup_version`]). A dashboard question ("cases by state in
//! 2025, labor only") is answered from a dictionary-encoded copy of the hotline's cells ([`Cube`]): one
//! primary-key read to learn that the copy is still current, then one scan of the asked metrics' cells
//! with integer comparisons. The copy is rebuilt, one metric at a time, when the version has moved,
//! whichever server made the change.
//!
//! Only counts are held here, never a record.

use lantern_store::rollups::{
    METRIC_CASE_TYPOLOGIES, METRIC_CASES, METRIC_CONTACTS, METRIC_POTENTIAL_VICTIMS,
    METRIC_REFERRALS, METRIC_SUBSTANTIVE, METRICS,
};
use lantern_store::{CellKey, RollupFilter, Store, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// A dimension the dashboard groups or filters by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dim {
    /// `YYYY-MM`, UTC.
    Month,
    /// USPS state code.
    State,
    /// Case form.
    Form,
    /// Venue or industry.
    Typology,
    /// Contact channel.
    Channel,
    /// Who reached out.
    SignalerType,
    /// Screening outcome.
    Outcome,
    /// Referral status.
    ReferralStatus,
    /// Case status.
    CaseStatus,
}

impl Dim {
    /// Every dimension, in column order.
    pub const ALL: [Dim; 9] = [
        Dim::Month,
        Dim::State,
        Dim::Form,
        Dim::Typology,
        Dim::Channel,
        Dim::SignalerType,
        Dim::Outcome,
        Dim::ReferralStatus,
        Dim::CaseStatus,
    ];

    /// The name used in queries and answers.
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
            Dim::CaseStatus => "case_status",
        }
    }

    /// The dimension of a name.
    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.name() == s)
    }

    fn col(self) -> usize {
        self as usize
    }

    fn of(self, k: &CellKey) -> &str {
        match self {
            Dim::Month => &k.month,
            Dim::State => &k.state,
            Dim::Form => &k.form,
            Dim::Typology => &k.typology,
            Dim::Channel => &k.channel,
            Dim::SignalerType => &k.signaler_type,
            Dim::Outcome => &k.outcome,
            Dim::ReferralStatus => &k.referral_status,
            Dim::CaseStatus => &k.case_status,
        }
    }
}

/// Whether `metric`'s cells are keyed by `d` (see `lantern_store::rollups`): a contact has no form until
/// it joins a case, a case no channel, so grouping or filtering a metric by a dimension it lacks has no
/// answer, and the metric is left out rather than shown unfiltered.
pub fn keyed_by(metric: &str, d: Dim) -> bool {
    use Dim::*;
    match metric {
        m if m == METRIC_CONTACTS || m == METRIC_SUBSTANTIVE => {
            matches!(d, Month | State | Channel | SignalerType | Outcome)
        }
        m if m == METRIC_CASES || m == METRIC_POTENTIAL_VICTIMS || m == METRIC_CASE_TYPOLOGIES => {
            matches!(d, Month | State | Form | Typology | CaseStatus)
        }
        m if m == METRIC_REFERRALS => matches!(d, Month | State | Form | ReferralStatus),
        _ => false,
    }
}

/// A dashboard question. Months are `YYYY-MM` (inclusive); codes are already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Question {
    /// First month.
    pub from: Option<String>,
    /// Last month.
    pub to: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// Only this case form.
    pub form: Option<String>,
    /// One row per value of this dimension; one row of totals when `None`.
    pub group_by: Option<Dim>,
}

/// The answer: for each metric that can answer the question, a count per group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The metrics answered, in [`METRICS`] order.
    pub metrics: Vec<&'static str>,
    /// The metrics left out because they are not keyed by the grouping or a filter.
    pub not_applicable: Vec<&'static str>,
    /// `(group value, one count per answered metric)`, in value order; `""` is "not recorded". Groups
    /// where every count is zero are left out. Without grouping, one row keyed `""`.
    pub rows: Vec<(String, Vec<i64>)>,
}

/// A hotline's rollup cells, dictionary-encoded: one column of small integers per dimension, and the
/// cells of each metric contiguous.
#[derive(Debug, Default)]
pub struct Cube {
    dicts: [Vec<String>; 9],
    index: [HashMap<String, u16>; 9],
    cols: [Vec<u16>; 9],
    counts: Vec<i64>,
    metric_rows: Vec<(&'static str, std::ops::Range<usize>)>,
}

impl Cube {
    /// An empty cube.
    pub fn new() -> Cube {
        Cube::default()
    }

    /// Appends the cells of one metric (all of them, in any order). Each metric is added once. Its cells
    /// are kept in month order, so that a question about some months scans only those.
    pub fn add_metric<'a>(
        &mut self,
        metric: &'static str,
        cells: impl IntoIterator<Item = (&'a CellKey, i64)>,
    ) {
        let start = self.counts.len();
        let mut cells: Vec<(&CellKey, i64)> = cells.into_iter().collect();
        if !cells.is_sorted_by(|a, b| a.0.month <= b.0.month) {
            cells.sort_by(|a, b| a.0.month.cmp(&b.0.month));
        }
        for (key, n) in cells {
            for d in Dim::ALL {
                let code = self.code_for(d, d.of(key));
                self.cols[d.col()].push(code);
            }
            self.counts.push(n);
        }
        self.metric_rows.push((metric, start..self.counts.len()));
    }

    fn code_for(&mut self, d: Dim, value: &str) -> u16 {
        let c = d.col();
        if let Some(&code) = self.index[c].get(value) {
            return code;
        }
        let code = u16::try_from(self.dicts[c].len()).unwrap_or(u16::MAX);
        self.dicts[c].push(value.to_owned());
        self.index[c].insert(value.to_owned(), code);
        code
    }

    /// How many cells it holds.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether it holds no cell.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Answers a question with one scan of the answered metrics' cells.
    pub fn answer(&self, q: &Question) -> Answer {
        let mut metrics = Vec::new();
        let mut not_applicable = Vec::new();
        for &m in METRICS {
            let applies = q.group_by.is_none_or(|d| keyed_by(m, d))
                && (q.form.is_none() || keyed_by(m, Dim::Form))
                && (q.state.is_none() || keyed_by(m, Dim::State));
            if applies {
                metrics.push(m);
            } else {
                not_applicable.push(m);
            }
        }
        // Which month codes are inside the range; a filter value never seen matches nothing.
        let months: Vec<bool> = self.dicts[Dim::Month.col()]
            .iter()
            .map(|m| {
                q.from.as_deref().is_none_or(|f| m.as_str() >= f)
                    && q.to.as_deref().is_none_or(|t| m.as_str() <= t)
            })
            .collect();
        let wanted = |d: Dim, v: &Option<String>| -> Option<Option<u16>> {
            v.as_ref()
                .map(|v| self.index[d.col()].get(v.as_str()).copied())
        };
        let state = wanted(Dim::State, &q.state);
        let form = wanted(Dim::Form, &q.form);
        let groups = q.group_by.map_or(1, |d| self.dicts[d.col()].len().max(1));
        let mut acc = vec![vec![0_i64; metrics.len()]; groups];
        let unmatched = matches!(state, Some(None)) || matches!(form, Some(None));
        if !unmatched {
            let month_col = &self.cols[Dim::Month.col()];
            let state_col = &self.cols[Dim::State.col()];
            let form_col = &self.cols[Dim::Form.col()];
            let group_col = q.group_by.map(|d| &self.cols[d.col()]);
            for (mi, m) in metrics.iter().enumerate() {
                let Some((_, range)) = self.metric_rows.iter().find(|(name, _)| name == m) else {
                    continue;
                };
                // The metric's cells are in month order: skip to the months asked.
                let month = |c: &u16| self.dicts[Dim::Month.col()][*c as usize].as_str();
                let cells = &month_col[range.clone()];
                let lo = range.start
                    + q.from
                        .as_deref()
                        .map_or(0, |f| cells.partition_point(|c| month(c) < f));
                let hi = range.start
                    + q.to
                        .as_deref()
                        .map_or(cells.len(), |t| cells.partition_point(|c| month(c) <= t));
                for i in lo..hi.max(lo) {
                    if !months[month_col[i] as usize]
                        || state.is_some_and(|s| Some(state_col[i]) != s)
                        || form.is_some_and(|f| Some(form_col[i]) != f)
                    {
                        continue;
                    }
                    let g = group_col.map_or(0, |c| c[i] as usize);
                    acc[g][mi] += self.counts[i];
                }
            }
        }
        let rows: BTreeMap<String, Vec<i64>> = match q.group_by {
            None => BTreeMap::from([(String::new(), acc.swap_remove(0))]),
            Some(d) => self.dicts[d.col()]
                .iter()
                .zip(acc)
                .filter(|(_, counts)| counts.iter().any(|&n| n != 0))
                .map(|(v, counts)| (v.clone(), counts))
                .collect(),
        };
        Answer {
            metrics,
            not_applicable,
            rows: rows.into_iter().collect(),
        }
    }
}

/// A hotline's cube and the rollup version it was built at.
#[derive(Debug)]
pub struct Figures {
    /// The rollup version read before the cells were.
    pub version: i64,
    /// The cells.
    pub cube: Cube,
}

/// Each hotline's [`Figures`], rebuilt when its rollup version moves.
#[derive(Debug, Default)]
pub struct DashboardCache {
    held: Mutex<HashMap<String, Arc<Figures>>>,
    building: tokio::sync::Mutex<()>,
}

impl DashboardCache {
    fn held(&self, hotline_id: &str) -> Option<Arc<Figures>> {
        let map = self.held.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hotline_id).cloned()
    }

    /// The hotline's current figures: one version read when they are held, else a rebuild (one at a
    /// time, so that a burst of questions after a write reads the cells once).
    pub async fn figures(
        &self,
        store: &dyn Store,
        hotline_id: &str,
    ) -> Result<Arc<Figures>, StoreError> {
        let version = store.rollup_version(hotline_id).await?;
        if let Some(f) = self.held(hotline_id).filter(|f| f.version == version) {
            return Ok(f);
        }
        let _one_at_a_time = self.building.lock().await;
        // Another question may have rebuilt them while this one waited.
        if let Some(f) = self.held(hotline_id).filter(|f| f.version >= version) {
            return Ok(f);
        }
        // The version is read before the cells: cells newer than it only make the next read rebuild.
        let mut cube = Cube::new();
        for &metric in METRICS {
            let filter = RollupFilter {
                metric: Some(metric.to_owned()),
                ..RollupFilter::default()
            };
            let cells = store.rollups(hotline_id, &filter).await?;
            cube.add_metric(metric, cells.iter().map(|c| (&c.key, c.count)));
        }
        let figures = Arc::new(Figures { version, cube });
        let mut map = self.held.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(hotline_id.to_owned(), figures.clone());
        Ok(figures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_store::RollupCell;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn pick<'a>(r: &mut StdRng, xs: &[&'a str]) -> &'a str {
        xs[r.random_range(0..xs.len())]
    }

    /// Random cells shaped like the store's: each metric keyed only by its own dimensions.
    fn cells(seed: u64, n: usize) -> Vec<RollupCell> {
        let mut r = StdRng::seed_from_u64(seed);
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let metric = pick(&mut r, METRICS);
            let mut k = CellKey {
                metric: metric.to_owned(),
                ..CellKey::default()
            };
            for d in Dim::ALL {
                if !keyed_by(metric, d) {
                    continue;
                }
                let v = match d {
                    Dim::Month => pick(&mut r, &["2024-01", "2024-02", "2024-11", "2025-03"]),
                    Dim::State => pick(&mut r, &["TX", "CA", "NY", ""]),
                    Dim::Form => pick(&mut r, &["sex", "labor", "not_specified"]),
                    _ => pick(&mut r, &["a", "b", "c", ""]),
                };
                match d {
                    Dim::Month => k.month = v.into(),
                    Dim::State => k.state = v.into(),
                    Dim::Form => k.form = v.into(),
                    Dim::Typology => k.typology = v.into(),
                    Dim::Channel => k.channel = v.into(),
                    Dim::SignalerType => k.signaler_type = v.into(),
                    Dim::Outcome => k.outcome = v.into(),
                    Dim::ReferralStatus => k.referral_status = v.into(),
                    Dim::CaseStatus => k.case_status = v.into(),
                }
            }
            *out.entry(k).or_insert(0) += r.random_range(1..5_i64);
        }
        out.into_iter()
            .map(|(key, count)| RollupCell { key, count })
            .collect()
    }

    fn cube_of(cells: &[RollupCell]) -> Cube {
        let mut cube = Cube::new();
        for &m in METRICS {
            cube.add_metric(
                m,
                cells
                    .iter()
                    .filter(|c| c.key.metric == m)
                    .map(|c| (&c.key, c.count)),
            );
        }
        cube
    }

    /// The same question answered by summing the cells one by one.
    fn naive(cells: &[RollupCell], q: &Question, metrics: &[&str]) -> Vec<(String, Vec<i64>)> {
        let mut rows: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        if q.group_by.is_none() {
            rows.insert(String::new(), vec![0; metrics.len()]);
        }
        for c in cells {
            let Some(mi) = metrics.iter().position(|m| *m == c.key.metric) else {
                continue;
            };
            let k = &c.key;
            let ok = q.from.as_deref().is_none_or(|f| k.month.as_str() >= f)
                && q.to.as_deref().is_none_or(|t| k.month.as_str() <= t)
                && q.state.as_deref().is_none_or(|s| k.state == s)
                && q.form.as_deref().is_none_or(|f| k.form == f);
            if ok {
                let g = q.group_by.map_or(String::new(), |d| d.of(k).to_owned());
                rows.entry(g).or_insert_with(|| vec![0; metrics.len()])[mi] += c.count;
            }
        }
        rows.into_iter()
            .filter(|(g, v)| g.is_empty() && q.group_by.is_none() || v.iter().any(|&n| n != 0))
            .collect()
    }

    #[test]
    fn every_answer_equals_summing_the_cells_one_by_one() {
        let cells = cells(11, 3000);
        let cube = cube_of(&cells);
        assert_eq!(cube.len(), cells.len());
        let mut r = StdRng::seed_from_u64(5);
        for _ in 0..400 {
            let some =
                |r: &mut StdRng, xs: &[&str]| r.random_bool(0.5).then(|| pick(r, xs).to_owned());
            let q = Question {
                from: some(&mut r, &["2024-01", "2024-02", "2024-06", "2026-01"]),
                to: some(&mut r, &["2024-01", "2024-11", "2025-03"]),
                state: some(&mut r, &["TX", "CA", "", "WY"]),
                form: some(&mut r, &["sex", "labor", "both"]),
                group_by: r
                    .random_bool(0.8)
                    .then(|| Dim::ALL[r.random_range(0..Dim::ALL.len())]),
            };
            let a = cube.answer(&q);
            assert_eq!(a.rows, naive(&cells, &q, &a.metrics), "{q:?}");
            assert_eq!(a.metrics.len() + a.not_applicable.len(), METRICS.len());
        }
    }

    #[test]
    fn a_metric_without_the_asked_dimension_is_left_out_not_shown_unfiltered() {
        let cells = cells(3, 500);
        let cube = cube_of(&cells);
        let by_form = cube.answer(&Question {
            form: Some("labor".into()),
            ..Question::default()
        });
        assert!(by_form.not_applicable.contains(&METRIC_CONTACTS));
        assert!(by_form.metrics.contains(&METRIC_CASES));
        let by_channel = cube.answer(&Question {
            group_by: Some(Dim::Channel),
            ..Question::default()
        });
        assert_eq!(
            by_channel.metrics,
            vec![METRIC_CONTACTS, METRIC_SUBSTANTIVE]
        );
    }

    #[test]
    fn an_empty_cube_answers_zero() {
        let a = Cube::new().answer(&Question::default());
        assert_eq!(a.rows, vec![(String::new(), vec![0; METRICS.len()])]);
        let a = Cube::new().answer(&Question {
            group_by: Some(Dim::State),
            ..Question::default()
        });
        assert!(a.rows.is_empty());
    }
}
