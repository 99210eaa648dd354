//! The statistics cube: a hotline's rollup cells held in memory, dictionary-encoded, answering the
//! dashboard's questions ("cases by state in 2025, labor only") with one scan of the asked metrics'
//! cells and integer comparisons.
//!
//! A [`Cube`] is built once from every cell and never changes. [`Figures`] are what is served: a base
//! cube and a small cube of the changes since it was built, at one rollup version. A write makes
//! [`Figures::updated`] with the changed cells' counts as they are now (absolute, so applying the same
//! change twice is harmless), which costs the size of the changes, not of the cube; when the changes
//! grow large, [`Figures::compacted`] folds them into a new base, in memory.
//!
//! The cells' meaning (which metrics exist, which dimensions each is keyed by) belongs to whoever keeps
//! the rollups and is given as a [`Metric`] schema. Only counts are held here, never a record.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

/// A dimension the cells are keyed by, and questions group or filter by.
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
    /// County (of the gap analysis's needs).
    County,
    /// Service type needed.
    Service,
    /// Population.
    Population,
}

/// How many dimensions there are.
pub const DIMS: usize = 12;

impl Dim {
    /// Every dimension, in column order (the order of [`Values`]).
    pub const ALL: [Dim; DIMS] = [
        Dim::Month,
        Dim::State,
        Dim::Form,
        Dim::Typology,
        Dim::Channel,
        Dim::SignalerType,
        Dim::Outcome,
        Dim::ReferralStatus,
        Dim::CaseStatus,
        Dim::County,
        Dim::Service,
        Dim::Population,
    ];

    /// The dimensions dashboard questions group by: every one but the gap analysis's own (the last
    /// three of [`Dim::ALL`]).
    pub const DASHBOARD: [Dim; 9] = {
        let mut d = [Dim::Month; 9];
        let mut i = 0;
        while i < d.len() {
            d[i] = Dim::ALL[i];
            i += 1;
        }
        d
    };

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
            Dim::County => "county",
            Dim::Service => "service",
            Dim::Population => "population",
        }
    }

    /// The dimension of a name.
    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.name() == s)
    }

    fn col(self) -> usize {
        self as usize
    }
}

/// A cell's value in each dimension, in [`Dim::ALL`] order; `""` is "not recorded" or "not keyed".
pub type Values<'a> = [&'a str; DIMS];

/// A metric of the cells and the dimensions its cells are keyed by (a contact has no form, a case no
/// channel): grouping or filtering a metric by a dimension it lacks has no answer, and the metric is
/// left out rather than shown unfiltered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// Its name.
    pub name: &'static str,
    /// The dimensions it is keyed by.
    pub dims: &'static [Dim],
}

impl Metric {
    /// Whether its cells are keyed by `d`.
    pub fn keyed_by(&self, d: Dim) -> bool {
        self.dims.contains(&d)
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

impl Question {
    /// Whether `m` can answer it: keyed by the grouping and by every filter asked.
    pub fn applies_to(&self, m: &Metric) -> bool {
        self.group_by.is_none_or(|d| m.keyed_by(d))
            && (self.form.is_none() || m.keyed_by(Dim::Form))
            && (self.state.is_none() || m.keyed_by(Dim::State))
    }
}

/// The answer: for each metric that can answer the question, a count per group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The metrics answered, in schema order.
    pub metrics: Vec<&'static str>,
    /// The metrics left out because they are not keyed by the grouping or a filter.
    pub not_applicable: Vec<&'static str>,
    /// `(group value, one count per answered metric)`, in value order; `""` is "not recorded". Groups
    /// where every count is zero are left out. Without grouping, one row keyed `""`.
    pub rows: Vec<(String, Vec<i64>)>,
}

impl Answer {
    /// One metric's count per group (groups where it is zero left out), or `None` when the metric did
    /// not answer.
    pub fn column(&self, metric: &str) -> Option<BTreeMap<String, i64>> {
        let i = self.metrics.iter().position(|m| *m == metric)?;
        Some(
            self.rows
                .iter()
                .filter(|(_, counts)| counts[i] != 0)
                .map(|(k, counts)| (k.clone(), counts[i]))
                .collect(),
        )
    }

    /// One metric's total over every group (0 when it did not answer).
    pub fn total(&self, metric: &str) -> i64 {
        self.column(metric).map_or(0, |c| c.values().sum())
    }
}

/// Sums per group value and answered metric, across cubes.
type Sums = BTreeMap<String, Vec<i64>>;

/// A hotline's rollup cells, dictionary-encoded: one column of small integers per dimension, the cells
/// of each metric contiguous and sorted by their values (so in month order, and a cell is found by
/// binary search). A dimension holds at most 65,535 distinct values (its codes, or months); cells are
/// never stored with a zero count.
#[derive(Debug, Clone)]
pub struct Cube {
    schema: &'static [Metric],
    dicts: [Vec<String>; DIMS],
    index: [HashMap<String, u16>; DIMS],
    cols: [Vec<u16>; DIMS],
    counts: Vec<i64>,
    /// The cells of each metric of the schema, by its position.
    metric_rows: Vec<Range<usize>>,
}

impl Cube {
    /// An empty cube of the metrics of `schema`.
    pub fn new(schema: &'static [Metric]) -> Cube {
        Cube {
            schema,
            dicts: Default::default(),
            index: Default::default(),
            cols: Default::default(),
            counts: Vec::new(),
            metric_rows: vec![0..0; schema.len()],
        }
    }

    /// The metrics it holds.
    pub fn schema(&self) -> &'static [Metric] {
        self.schema
    }

    fn metric(&self, name: &str) -> Option<usize> {
        self.schema.iter().position(|m| m.name == name)
    }

    /// Appends the cells of one metric (all of them, in any order, each key once; zero counts are
    /// skipped). Each metric is added once; a metric outside the schema is an error naming it.
    pub fn add_metric<'a>(
        &mut self,
        metric: &str,
        cells: impl IntoIterator<Item = (Values<'a>, i64)>,
    ) -> Result<(), UnknownMetric> {
        let m = self
            .metric(metric)
            .ok_or_else(|| UnknownMetric(metric.to_owned()))?;
        self.add_metric_at(m, cells);
        Ok(())
    }

    /// [`Cube::add_metric`] of the metric at position `m` of the schema.
    fn add_metric_at<'a>(&mut self, m: usize, cells: impl IntoIterator<Item = (Values<'a>, i64)>) {
        let start = self.counts.len();
        let mut sorted = true;
        let mut last: Option<[u16; DIMS]> = None;
        for (values, n) in cells {
            if n == 0 {
                continue;
            }
            let mut codes = [0_u16; DIMS];
            for d in Dim::ALL {
                codes[d.col()] = self.code_for(d, values[d.col()]);
                self.cols[d.col()].push(codes[d.col()]);
            }
            self.counts.push(n);
            if let Some(prev) = last
                && sorted
            {
                sorted = self.cmp_codes(&prev, &codes).is_le();
            }
            last = Some(codes);
        }
        let range = start..self.counts.len();
        if !sorted {
            self.sort(range.clone());
        }
        self.metric_rows[m] = range;
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

    fn value(&self, d: Dim, code: u16) -> &str {
        &self.dicts[d.col()][code as usize]
    }

    fn cmp_codes(&self, a: &[u16; DIMS], b: &[u16; DIMS]) -> std::cmp::Ordering {
        Dim::ALL
            .iter()
            .map(|&d| self.value(d, a[d.col()]).cmp(self.value(d, b[d.col()])))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    }

    fn codes(&self, i: usize) -> [u16; DIMS] {
        Dim::ALL.map(|d| self.cols[d.col()][i])
    }

    /// Sorts the cells of `range` by their values.
    fn sort(&mut self, range: Range<usize>) {
        let mut order: Vec<usize> = range.clone().collect();
        order.sort_by(|&a, &b| self.cmp_codes(&self.codes(a), &self.codes(b)));
        for col in self.cols.iter_mut() {
            let sorted: Vec<u16> = order.iter().map(|&i| col[i]).collect();
            col[range.clone()].copy_from_slice(&sorted);
        }
        let sorted: Vec<i64> = order.iter().map(|&i| self.counts[i]).collect();
        self.counts[range].copy_from_slice(&sorted);
    }

    /// How many cells it holds.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether it holds no cell.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The count of one cell (0 when it holds none).
    pub fn count(&self, metric: &str, values: &Values<'_>) -> i64 {
        let Some(m) = self.metric(metric) else {
            return 0;
        };
        let range = self.metric_rows[m].clone();
        let cell = |i: usize| Dim::ALL.map(|d| self.value(d, self.cols[d.col()][i]));
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match cell(mid).cmp(values) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.counts[mid],
            }
        }
        0
    }

    /// Every cell: its metric, values and count, each metric's in value order.
    pub fn cells(&self) -> impl Iterator<Item = (&'static str, Values<'_>, i64)> + '_ {
        (0..self.schema.len()).flat_map(move |m| {
            self.metric_cells(m)
                .map(move |(v, n)| (self.schema[m].name, v, n))
        })
    }

    /// The cells of the metric at position `m` of the schema, in value order.
    fn metric_cells(&self, m: usize) -> impl Iterator<Item = (Values<'_>, i64)> + '_ {
        self.metric_rows[m].clone().map(move |i| {
            (
                Dim::ALL.map(|d| self.value(d, self.cols[d.col()][i])),
                self.counts[i],
            )
        })
    }

    /// Answers a question with one scan of the answered metrics' cells.
    pub fn answer(&self, q: &Question) -> Answer {
        answer_from(self.schema, &[self], q, None)
    }

    /// Adds this cube's sums for `q` of the metrics at `metrics` (positions in the schema) into `sums`.
    fn sum_into(&self, q: &Question, metrics: &[usize], sums: &mut Sums) {
        let width = metrics.len();
        let wanted = |d: Dim, v: &Option<String>| -> Option<Option<u16>> {
            v.as_ref()
                .map(|v| self.index[d.col()].get(v.as_str()).copied())
        };
        let state = wanted(Dim::State, &q.state);
        let form = wanted(Dim::Form, &q.form);
        // A filter value never seen matches nothing.
        if matches!(state, Some(None)) || matches!(form, Some(None)) {
            return;
        }
        let groups = q.group_by.map_or(1, |d| self.dicts[d.col()].len().max(1));
        let mut acc = vec![0_i64; groups * width];
        let month_col = &self.cols[Dim::Month.col()];
        let state_col = &self.cols[Dim::State.col()];
        let form_col = &self.cols[Dim::Form.col()];
        let group_col = q.group_by.map(|d| &self.cols[d.col()]);
        let month = |c: &u16| self.value(Dim::Month, *c);
        for (mi, &m) in metrics.iter().enumerate() {
            let range = self.metric_rows[m].clone();
            // The metric's cells are in month order: scan only the months asked.
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
                if state.is_some_and(|s| Some(state_col[i]) != s)
                    || form.is_some_and(|f| Some(form_col[i]) != f)
                {
                    continue;
                }
                let g = group_col.map_or(0, |c| c[i] as usize);
                acc[g * width + mi] += self.counts[i];
            }
        }
        for (g, counts) in acc.chunks(width.max(1)).enumerate() {
            if width > 0 && counts.iter().all(|&n| n == 0) {
                continue;
            }
            let key = q
                .group_by
                .map_or(String::new(), |d| self.dicts[d.col()][g].clone());
            let row = sums.entry(key).or_insert_with(|| vec![0; width]);
            for (r, n) in row.iter_mut().zip(counts) {
                *r += n;
            }
        }
    }
}

/// Answers `q` from the sum of several cubes of one schema, of every metric or `only` those named.
fn answer_from(
    schema: &'static [Metric],
    cubes: &[&Cube],
    q: &Question,
    only: Option<&[&str]>,
) -> Answer {
    // A metric not counted per month is no dashboard metric: questions are about periods, so they
    // leave it out altogether (it is read with `Figures::metric_cells`).
    let asked = |m: usize| {
        schema[m].keyed_by(Dim::Month) && only.is_none_or(|names| names.contains(&schema[m].name))
    };
    let (answered, left_out): (Vec<usize>, Vec<usize>) = (0..schema.len())
        .filter(|&m| asked(m))
        .partition(|&m| q.applies_to(&schema[m]));
    let mut sums = Sums::new();
    for cube in cubes {
        cube.sum_into(q, &answered, &mut sums);
    }
    sums.retain(|_, counts| counts.iter().any(|&n| n != 0));
    if q.group_by.is_none() {
        sums.entry(String::new())
            .or_insert_with(|| vec![0; answered.len()]);
    }
    Answer {
        metrics: answered.iter().map(|&m| schema[m].name).collect(),
        not_applicable: left_out.iter().map(|&m| schema[m].name).collect(),
        rows: sums.into_iter().collect(),
    }
}

/// One cube's cells of one metric, as the codes of its dictionaries ([`Figures::coded_cells`]).
#[derive(Debug, Clone)]
pub struct CodedCells<'a> {
    cube: &'a Cube,
    range: Range<usize>,
}

impl<'a> CodedCells<'a> {
    /// The values of dimension `d`: a cell's code in [`CodedCells::codes`] is a position here.
    pub fn dict(&self, d: Dim) -> &'a [String] {
        &self.cube.dicts[d.col()]
    }

    /// Each cell's code in dimension `d`, in cell order.
    pub fn codes(&self, d: Dim) -> &'a [u16] {
        &self.cube.cols[d.col()][self.range.clone()]
    }

    /// Each cell's count, in cell order.
    pub fn counts(&self) -> &'a [i64] {
        &self.cube.counts[self.range.clone()]
    }
}

/// A cell's metric is not in the cube's schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rollup metric `{0}`")]
pub struct UnknownMetric(pub String);

/// A hotline's figures at one rollup version: a base cube and the changes since it was built (each
/// changed cell's count now minus its count in the base).
#[derive(Debug, Clone)]
pub struct Figures {
    version: i64,
    base: Arc<Cube>,
    changes: Cube,
    /// Per metric of the schema, the version its cells last changed at (as far as these figures
    /// know: the version they were read whole at, for one unchanged since).
    changed_at: Vec<i64>,
}

impl Figures {
    /// The figures of a cube built from every cell at `version`.
    pub fn new(base: Cube, version: i64) -> Figures {
        let changes = Cube::new(base.schema);
        Figures {
            version,
            changed_at: vec![version; base.schema.len()],
            base: Arc::new(base),
            changes,
        }
    }

    /// The rollup version they are current at.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The rollup version at which a metric's cells last changed, as these figures know (the version
    /// they were read whole at, for a metric unchanged since); `None` for a metric outside the
    /// schema. Figures of one hotline with the same version of a metric hold the same cells of it, so
    /// what is computed from one metric alone can be kept while it stays.
    pub fn metric_version(&self, metric: &str) -> Option<i64> {
        Some(self.changed_at[self.base.metric(metric)?])
    }

    /// How many cells differ from the base (what [`Figures::compacted`] would fold in).
    pub fn pending(&self) -> usize {
        self.changes.len()
    }

    /// Answers a question: one scan of the base's cells and one of the changes'.
    pub fn answer(&self, q: &Question) -> Answer {
        answer_from(self.base.schema, &[&self.base, &self.changes], q, None)
    }

    /// Answers a question of the named metrics only (scanning only theirs); other names are ignored.
    pub fn answer_only(&self, q: &Question, metrics: &[&str]) -> Answer {
        answer_from(
            self.base.schema,
            &[&self.base, &self.changes],
            q,
            Some(metrics),
        )
    }

    /// The figures at `version`, given every cell that changed since these were current with its count
    /// now (0: the cell is gone). The base is shared; only the changes are rebuilt.
    pub fn updated<'a>(
        &'a self,
        version: i64,
        cells: impl IntoIterator<Item = (&'a str, Values<'a>, i64)>,
    ) -> Result<Figures, UnknownMetric> {
        let schema = self.base.schema;
        let version = version.max(self.version);
        let mut changed_at = self.changed_at.clone();
        let mut diff: BTreeMap<(usize, Values<'a>), i64> = BTreeMap::new();
        for m in 0..schema.len() {
            for (values, n) in self.changes.metric_cells(m) {
                diff.insert((m, values), n);
            }
        }
        for (metric, values, now) in cells {
            let m = self
                .base
                .metric(metric)
                .ok_or_else(|| UnknownMetric(metric.to_owned()))?;
            diff.insert((m, values), now - self.base.count(metric, &values));
            changed_at[m] = version;
        }
        let mut changes = Cube::new(schema);
        for m in 0..schema.len() {
            changes.add_metric_at(
                m,
                diff.range((m, [""; DIMS])..)
                    .take_while(|((dm, _), _)| *dm == m)
                    .map(|((_, values), n)| (*values, *n)),
            );
        }
        Ok(Figures {
            version,
            base: self.base.clone(),
            changes,
            changed_at,
        })
    }

    /// The same figures with the changes folded into a new base (a merge of sorted cells, in memory).
    pub fn compacted(&self) -> Figures {
        let schema = self.base.schema;
        let mut base = Cube::new(schema);
        for m in 0..schema.len() {
            base.add_metric_at(m, self.merged_cells(m));
        }
        Figures {
            changed_at: self.changed_at.clone(),
            ..Figures::new(base, self.version)
        }
    }

    /// Every cell of one metric as these figures count it (the base's with the changes applied), in
    /// value order, zero counts left out; none for a metric outside the schema. For views that read a
    /// metric whole rather than ask questions of it (the gap analysis's needs).
    pub fn metric_cells(&self, metric: &str) -> Vec<(Values<'_>, i64)> {
        match self.base.metric(metric) {
            Some(m) => self.merged_cells(m).filter(|(_, n)| *n != 0).collect(),
            None => Vec::new(),
        }
    }

    /// Every cell of one metric as dictionary codes, one [`CodedCells`] per cube (the base's, then the
    /// changes', whose counts are differences): summing them per value gives the counts
    /// [`Figures::metric_cells`] gives. For views that read a metric whole and look at each distinct
    /// value once rather than once per cell. None for a metric outside the schema.
    pub fn coded_cells(&self, metric: &str) -> Vec<CodedCells<'_>> {
        let Some(m) = self.base.metric(metric) else {
            return Vec::new();
        };
        [&*self.base, &self.changes]
            .into_iter()
            .map(|cube| CodedCells {
                cube,
                range: cube.metric_rows[m].clone(),
            })
            .collect()
    }

    /// The base's cells of the metric at `m` merged with the changes' (both sorted by value).
    fn merged_cells(&self, m: usize) -> impl Iterator<Item = (Values<'_>, i64)> + '_ {
        let mut old = self.base.metric_cells(m).peekable();
        let mut new = self.changes.metric_cells(m).peekable();
        std::iter::from_fn(move || match (old.peek(), new.peek()) {
            (None, None) => None,
            (Some(_), None) => old.next(),
            (None, Some(_)) => new.next(),
            (Some((a, _)), Some((b, _))) => match a.cmp(b) {
                std::cmp::Ordering::Less => old.next(),
                std::cmp::Ordering::Greater => new.next(),
                std::cmp::Ordering::Equal => {
                    let (v, a) = old.next()?;
                    let (_, b) = new.next()?;
                    Some((v, a + b))
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use Dim::*;
    const SCHEMA: &[Metric] = &[
        Metric {
            name: "contacts",
            dims: &[Month, State, Channel, SignalerType, Outcome],
        },
        Metric {
            name: "cases",
            dims: &[Month, State, Form, Typology, CaseStatus],
        },
        Metric {
            name: "referrals",
            dims: &[Month, State, Form, ReferralStatus],
        },
    ];

    type Cells = BTreeMap<(&'static str, Values<'static>), i64>;

    fn pick<'a>(r: &mut StdRng, xs: &[&'a str]) -> &'a str {
        xs[r.random_range(0..xs.len())]
    }

    /// A random cell key shaped like the store's: each metric keyed only by its own dimensions.
    fn key(r: &mut StdRng) -> (&'static str, Values<'static>) {
        let metric = &SCHEMA[r.random_range(0..SCHEMA.len())];
        let mut v = [""; DIMS];
        for d in metric.dims {
            v[d.col()] = match d {
                Month => pick(r, &["2024-01", "2024-02", "2024-11", "2025-03", "2026-07"]),
                State => pick(r, &["TX", "CA", "NY", ""]),
                Form => pick(r, &["sex", "labor", "not_specified"]),
                _ => pick(r, &["a", "b", "c", ""]),
            };
        }
        (metric.name, v)
    }

    fn cells(seed: u64, n: usize) -> Cells {
        let mut r = StdRng::seed_from_u64(seed);
        let mut out = Cells::new();
        for _ in 0..n {
            *out.entry(key(&mut r)).or_insert(0) += r.random_range(1..5_i64);
        }
        out
    }

    /// A cube of the cells, each metric's given in a shuffled order.
    fn cube_of(cells: &Cells, seed: u64) -> Cube {
        let mut r = StdRng::seed_from_u64(seed);
        let mut cube = Cube::new(SCHEMA);
        for m in SCHEMA {
            let mut these: Vec<(Values<'_>, i64)> = cells
                .iter()
                .filter(|((metric, _), _)| *metric == m.name)
                .map(|((_, v), n)| (*v, *n))
                .collect();
            for i in (1..these.len()).rev() {
                these.swap(i, r.random_range(0..=i));
            }
            cube.add_metric(m.name, these).unwrap();
        }
        cube
    }

    fn question(r: &mut StdRng) -> Question {
        let some = |r: &mut StdRng, xs: &[&str]| r.random_bool(0.5).then(|| pick(r, xs).to_owned());
        Question {
            from: some(r, &["2024-01", "2024-02", "2024-06", "2026-01"]),
            to: some(r, &["2024-01", "2024-11", "2025-03"]),
            state: some(r, &["TX", "CA", "", "WY"]),
            form: some(r, &["sex", "labor", "both"]),
            group_by: r
                .random_bool(0.8)
                .then(|| Dim::ALL[r.random_range(0..Dim::ALL.len())]),
        }
    }

    /// The same question answered by summing the cells one by one.
    fn naive(cells: &Cells, q: &Question, metrics: &[&str]) -> Vec<(String, Vec<i64>)> {
        let mut rows: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for ((metric, v), n) in cells {
            let Some(mi) = metrics.iter().position(|m| m == metric) else {
                continue;
            };
            let ok = q.from.as_deref().is_none_or(|f| v[0] >= f)
                && q.to.as_deref().is_none_or(|t| v[0] <= t)
                && q.state.as_deref().is_none_or(|s| v[1] == s)
                && q.form.as_deref().is_none_or(|f| v[2] == f);
            if ok {
                let g = q.group_by.map_or(String::new(), |d| v[d.col()].to_owned());
                rows.entry(g).or_insert_with(|| vec![0; metrics.len()])[mi] += n;
            }
        }
        rows.retain(|_, v| v.iter().any(|&n| n != 0));
        if q.group_by.is_none() {
            rows.entry(String::new())
                .or_insert_with(|| vec![0; metrics.len()]);
        }
        rows.into_iter().collect()
    }

    #[test]
    fn every_answer_equals_summing_the_cells_one_by_one() {
        let cells = cells(11, 3000);
        let cube = cube_of(&cells, 1);
        assert_eq!(cube.len(), cells.len());
        let mut r = StdRng::seed_from_u64(5);
        for _ in 0..400 {
            let q = question(&mut r);
            let a = cube.answer(&q);
            assert_eq!(a.rows, naive(&cells, &q, &a.metrics), "{q:?}");
            assert_eq!(a.metrics.len() + a.not_applicable.len(), SCHEMA.len());
        }
    }

    #[test]
    fn every_cell_is_found_by_its_values_and_an_absent_one_counts_zero() {
        let cells = cells(4, 800);
        let cube = cube_of(&cells, 2);
        for ((metric, v), n) in &cells {
            assert_eq!(cube.count(metric, v), *n, "{metric} {v:?}");
        }
        assert_eq!(
            cube.count(
                "cases",
                &["1999-01", "", "", "", "", "", "", "", "", "", "", ""]
            ),
            0
        );
        assert_eq!(cube.count("no_such_metric", &[""; DIMS]), 0);
        assert_eq!(cube.cells().count(), cells.len());
    }

    #[test]
    fn figures_updated_write_by_write_answer_as_a_cube_rebuilt_from_the_final_cells() {
        let mut r = StdRng::seed_from_u64(9);
        let mut now = cells(21, 600);
        let mut figures = Figures::new(cube_of(&now, 3), 1);
        for version in 2..120 {
            // A write: a few cells move up or down, some to zero, some new.
            let mut changed = Cells::new();
            for _ in 0..r.random_range(1..8) {
                let k = key(&mut r);
                let n = now.get(&k).copied().unwrap_or(0);
                let m = if r.random_bool(0.3) {
                    0
                } else {
                    (n + r.random_range(-2..4_i64)).max(0)
                };
                changed.insert(k, m);
                if m == 0 {
                    now.remove(&k);
                } else {
                    now.insert(k, m);
                }
            }
            figures = figures
                .updated(version, changed.iter().map(|((m, v), n)| (*m, *v, *n)))
                .unwrap();
            if version % 40 == 0 {
                let before = figures.pending();
                figures = figures.compacted();
                assert!(before > 0 && figures.pending() == 0);
            }
            // The same change applied twice changes nothing.
            let again = figures
                .updated(version, changed.iter().map(|((m, v), n)| (*m, *v, *n)))
                .unwrap();
            let rebuilt = cube_of(&now, version as u64);
            for _ in 0..20 {
                let q = question(&mut r);
                let want = rebuilt.answer(&q);
                assert_eq!(figures.answer(&q), want, "version {version}: {q:?}");
                assert_eq!(again.answer(&q), want, "version {version} twice: {q:?}");
            }
            assert_eq!(figures.version(), version);
        }
        let compacted = figures.compacted();
        assert_eq!(compacted.base.len(), now.len());
        for ((metric, v), n) in &now {
            assert_eq!(compacted.base.count(metric, v), *n);
        }
    }

    #[test]
    fn a_metric_without_the_asked_dimension_is_left_out_not_shown_unfiltered() {
        let cube = cube_of(&cells(3, 500), 4);
        let by_form = cube.answer(&Question {
            form: Some("labor".into()),
            ..Question::default()
        });
        assert_eq!(by_form.not_applicable, vec!["contacts"]);
        assert_eq!(by_form.metrics, vec!["cases", "referrals"]);
        let by_channel = cube.answer(&Question {
            group_by: Some(Dim::Channel),
            ..Question::default()
        });
        assert_eq!(by_channel.metrics, vec!["contacts"]);
        let figures = Figures::new(cube.clone(), 1);
        let cases_only = figures.answer_only(&Question::default(), &["cases"]);
        assert_eq!(cases_only.metrics, vec!["cases"]);
        assert!(cases_only.not_applicable.is_empty());
        assert_eq!(
            cases_only.total("cases"),
            cube.answer(&Question::default()).total("cases")
        );
        assert_eq!(by_channel.column("cases"), None);
        assert_eq!(
            by_channel.total("contacts"),
            by_channel.column("contacts").unwrap().values().sum::<i64>()
        );
    }

    #[test]
    fn an_empty_cube_answers_zero_and_a_cell_outside_the_schema_is_refused() {
        let a = Cube::new(SCHEMA).answer(&Question::default());
        assert_eq!(a.rows, vec![(String::new(), vec![0; SCHEMA.len()])]);
        let a = Cube::new(SCHEMA).answer(&Question {
            group_by: Some(Dim::State),
            ..Question::default()
        });
        assert!(a.rows.is_empty());
        let err = Cube::new(SCHEMA)
            .add_metric("victims", [([""; DIMS], 1)])
            .unwrap_err();
        assert_eq!(err.to_string(), "unknown rollup metric `victims`");
        let figures = Figures::new(Cube::new(SCHEMA), 1);
        assert!(figures.updated(2, [("victims", [""; DIMS], 1)]).is_err());
    }

    #[test]
    fn a_metric_without_months_is_read_whole_and_left_out_of_questions() {
        const WITH_NEEDS: &[Metric] = &[
            Metric {
                name: "cases",
                dims: &[Month, State, Form],
            },
            Metric {
                name: "needs",
                dims: &[State, County, Service, Population, Form],
            },
        ];
        let need = |county: &'static str, service: &'static str| {
            let mut v = [""; DIMS];
            v[State.col()] = "TX";
            v[County.col()] = county;
            v[Service.col()] = service;
            v[Population.col()] = "men";
            v[Form.col()] = "labor";
            v
        };
        let mut case = [""; DIMS];
        case[Month.col()] = "2025-01";
        case[State.col()] = "TX";
        case[Form.col()] = "labor";
        let mut cube = Cube::new(WITH_NEEDS);
        cube.add_metric("cases", [(case, 4)]).unwrap();
        cube.add_metric(
            "needs",
            [
                (need("", "emergency_shelter"), 3),
                (need("Harris County", "emergency_shelter"), 2),
            ],
        )
        .unwrap();
        let figures = Figures::new(cube, 1)
            .updated(
                2,
                [
                    ("needs", need("Harris County", "emergency_shelter"), 0),
                    ("needs", need("", "legal_services"), 1),
                ],
            )
            .unwrap();
        let answer = figures.answer(&Question {
            state: Some("TX".into()),
            ..Question::default()
        });
        assert_eq!(answer.metrics, ["cases"]);
        assert!(answer.not_applicable.is_empty(), "{answer:?}");
        assert_eq!(answer.total("cases"), 4);
        // Only the needs changed at version 2; a write of cases alone leaves them as they were.
        assert_eq!(figures.metric_version("needs"), Some(2));
        assert_eq!(figures.metric_version("cases"), Some(1));
        let later = figures.updated(3, [("cases", case, 5)]).unwrap();
        assert_eq!(later.metric_version("needs"), Some(2));
        assert_eq!(later.metric_version("cases"), Some(3));
        assert_eq!(later.compacted().metric_version("needs"), Some(2));
        assert_eq!(later.metric_version("no_such_metric"), None);
        let got = figures.metric_cells("needs");
        assert_eq!(
            got,
            [
                (need("", "emergency_shelter"), 3),
                (need("", "legal_services"), 1)
            ],
            "the county cell went to zero and is left out"
        );
        assert_eq!(figures.compacted().metric_cells("needs"), got);
        assert!(figures.metric_cells("no_such_metric").is_empty());
        // Read as codes, base and changes summed per value, the same counts.
        let mut summed: BTreeMap<Values<'_>, i64> = BTreeMap::new();
        let coded = figures.coded_cells("needs");
        assert_eq!(coded.len(), 2, "the base's cells and the changes'");
        for c in &coded {
            for (i, n) in c.counts().iter().enumerate() {
                let v = Dim::ALL.map(|d| c.dict(d)[c.codes(d)[i] as usize].as_str());
                *summed.entry(v).or_default() += n;
            }
        }
        summed.retain(|_, n| *n != 0);
        assert_eq!(summed.into_iter().collect::<Vec<_>>(), got);
        assert!(figures.coded_cells("no_such_metric").is_empty());
    }
}
