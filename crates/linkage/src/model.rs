//! Fellegi-Sunter model: u-probabilities from random pairs, m-probabilities by
//! expectation-maximisation over blocked pairs, term-frequency adjusted weights, scoring,
//! explanations and clustering.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::block::{Blocks, Rule, compile_rules};
use crate::config::{ConfigError, Kind, LinkConfig};
use crate::data::Dataset;
use crate::pairs::Compared;

/// At most this many fields: comparison patterns are packed 4 bits per field into a `u64`.
pub const MAX_FIELDS: usize = 16;
const MISSING: u64 = 0xF;

/// Packs per-field levels (`None` = missing) into a pattern key.
pub fn pack(levels: &[Option<u8>]) -> u64 {
    levels.iter().enumerate().fold(0u64, |acc, (i, l)| {
        acc | (l.map_or(MISSING, u64::from) << (4 * i))
    })
}

/// The level of field `i` in a packed pattern.
pub fn unpack(pattern: u64, i: usize) -> Option<u8> {
    let v = (pattern >> (4 * i)) & 0xF;
    (v != MISSING).then_some(v as u8)
}

/// m- and u-probabilities of one field's levels (index 0 = disagreement).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldModel {
    /// Column name.
    pub column: String,
    /// Comparison kind.
    #[serde(skip)]
    pub kind: Kind,
    /// Whether exact agreement is adjusted by the value's frequency.
    pub tf: bool,
    /// P(level | match).
    pub m: Vec<f64>,
    /// P(level | non-match).
    pub u: Vec<f64>,
}

/// A trained model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    /// Per field, in config order.
    pub fields: Vec<FieldModel>,
    /// Prior probability that two records drawn at random match.
    pub lambda: f64,
}

/// One field's part in a pair's weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// Column name.
    pub column: String,
    /// Level label, or `missing`.
    pub level: &'static str,
    /// log2 Bayes factor added to the weight (0 when missing).
    pub weight: f64,
}

/// A scored candidate pair (record indices into the dataset).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPair {
    /// First record (source 0 when linking).
    pub a: u32,
    /// Second record.
    pub b: u32,
    /// Total match weight (log2 odds).
    pub weight: f32,
    /// The pair's comparison pattern (see [`pack`]).
    pub pattern: u64,
}

/// Turns a match weight (log2 odds) into a probability.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// Turns a probability into a match weight.
pub fn weight_of(probability: f64) -> f64 {
    let p = probability.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).log2()
}

impl Model {
    /// The prior weight every pair starts from.
    pub fn prior_weight(&self) -> f64 {
        weight_of(self.lambda)
    }

    /// The weight a field adds at `level`; `freq` is the agreed value's term frequency, used at the
    /// exact level when the field is term-frequency adjusted.
    pub fn field_weight(&self, field: usize, level: u8, freq: Option<f64>) -> f64 {
        let f = &self.fields[field];
        let l = level as usize;
        let top = f.m.len() - 1;
        match freq {
            Some(tf) if f.tf && l == top => (f.m[l] / tf.max(1e-9)).log2(),
            _ => (f.m[l] / f.u[l]).log2(),
        }
    }

    /// Match weight of records `a` and `b` (`buf` holds one slot per field).
    pub fn weigh(&self, data: &Dataset, a: u32, b: u32, buf: &mut [Option<u8>]) -> f64 {
        data.levels(a, b, buf);
        let mut w = self.prior_weight();
        for (i, l) in buf.iter().enumerate() {
            if let Some(l) = *l {
                let freq = self.fields[i].tf.then(|| {
                    let col = &data.columns[i];
                    col.frequency(col.codes[a as usize])
                });
                w += self.field_weight(i, l, freq);
            }
        }
        w
    }

    /// Each field's contribution to the weight of `a` and `b`.
    pub fn explain(&self, data: &Dataset, a: u32, b: u32) -> Vec<Contribution> {
        let mut buf = vec![None; self.fields.len()];
        data.levels(a, b, &mut buf);
        buf.iter()
            .enumerate()
            .map(|(i, l)| {
                let f = &self.fields[i];
                match l {
                    None => Contribution {
                        column: f.column.clone(),
                        level: "missing",
                        weight: 0.0,
                    },
                    Some(l) => {
                        let freq = f.tf.then(|| {
                            let col = &data.columns[i];
                            col.frequency(col.codes[a as usize])
                        });
                        Contribution {
                            column: f.column.clone(),
                            level: f.kind.level_labels()[*l as usize],
                            weight: self.field_weight(i, *l, freq),
                        }
                    }
                }
            })
            .collect()
    }
}

/// Writes an explanation as `column=level(+w.w); ...`.
pub fn explanation_text(parts: &[Contribution]) -> String {
    parts
        .iter()
        .map(|c| format!("{}={}({:+.1})", c.column, c.level, c.weight))
        .collect::<Vec<_>>()
        .join("; ")
}

/// splitmix64: a small, fast, seeded generator for sampling.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The share of random record pairs (both with a value; across sources when linking) that agree
/// exactly on a column, counted from its value frequencies rather than sampled.
pub fn exact_share(data: &Dataset, field: usize) -> f64 {
    let col = &data.columns[field];
    if data.is_link() {
        let mut per = vec![[0u64; 2]; col.values.len()];
        for (&c, &s) in col.codes.iter().zip(&data.sources) {
            if c != 0 {
                per[c as usize - 1][usize::from(s.min(1))] += 1;
            }
        }
        let (a, b) = per
            .iter()
            .fold((0u64, 0u64), |(a, b), p| (a + p[0], b + p[1]));
        let same: f64 = per.iter().map(|p| p[0] as f64 * p[1] as f64).sum();
        same / (a as f64 * b as f64).max(1.0)
    } else {
        let n = f64::from(col.present);
        let same: f64 = col
            .counts
            .iter()
            .map(|&c| f64::from(c) * (f64::from(c) - 1.0))
            .sum();
        same / (n * (n - 1.0)).max(1.0)
    }
}

/// Estimates u-probabilities: exact agreement from value frequencies ([`exact_share`]), the other
/// levels from about `pairs` random record pairs (across sources when linking). The pairs are drawn
/// as all the pairs among small random sets of records (64 sets, fresh for each), so that the values
/// compared stay in cache instead of each pair costing a dozen trips to memory.
pub fn estimate_u(data: &Dataset, pairs: usize, seed: u64) -> Vec<Vec<f64>> {
    let n = data.len() as u64;
    let nf = data.columns.len();
    let link = data.is_link();
    let a_count = data.sources.iter().filter(|&&s| s == 0).count() as u64;
    let sets = 64usize;
    let per = pairs.div_ceil(sets) as f64;
    // Records per set: r * (r - 1) / 2 pairs within one source, r * r across two.
    let r = if link {
        per.sqrt().ceil() as u64
    } else {
        (0.5 + (0.25 + 2.0 * per).sqrt()).ceil() as u64
    }
    .max(2);
    let zero = || -> Vec<Vec<u64>> {
        data.columns
            .iter()
            .map(|col| vec![0; col.kind.level_labels().len()])
            .collect()
    };
    let counts = (0..sets)
        .into_par_iter()
        .map(|c| {
            let mut st = seed ^ (c as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
            let mut counts = zero();
            let mut buf = vec![None; nf];
            let mut tally = |a: u64, b: u64| {
                if a == b {
                    return;
                }
                data.levels(a as u32, b as u32, &mut buf);
                for (f, l) in buf.iter().enumerate() {
                    if let Some(l) = l {
                        counts[f][*l as usize] += 1;
                    }
                }
            };
            if link {
                // Records are stored source 0 first, so the two ranges are contiguous.
                if a_count > 0 && a_count < n {
                    let left: Vec<u64> = (0..r).map(|_| splitmix(&mut st) % a_count).collect();
                    let right: Vec<u64> = (0..r)
                        .map(|_| a_count + splitmix(&mut st) % (n - a_count))
                        .collect();
                    for &a in &left {
                        for &b in &right {
                            tally(a, b);
                        }
                    }
                }
            } else if n >= 2 {
                let set: Vec<u64> = (0..r).map(|_| splitmix(&mut st) % n).collect();
                for (i, &a) in set.iter().enumerate() {
                    for &b in &set[i + 1..] {
                        tally(a, b);
                    }
                }
            }
            counts
        })
        .reduce(zero, |mut x, y| {
            for (a, b) in x.iter_mut().zip(y) {
                for (p, q) in a.iter_mut().zip(b) {
                    *p += q;
                }
            }
            x
        });
    counts
        .iter()
        .enumerate()
        .map(|(f, c)| {
            let top = c.len() - 1;
            let exact = exact_share(data, f).clamp(1e-9, 0.5);
            let below = &c[..top];
            let total: u64 = below.iter().sum();
            let mut u: Vec<f64> = below
                .iter()
                .map(|&k| (1.0 - exact) * (k as f64 + 0.5) / (total as f64 + 0.5 * top as f64))
                .collect();
            u.push(exact);
            u
        })
        .collect()
}

/// A starting guess for m: most mass on exact agreement.
fn initial_m(levels: usize) -> Vec<f64> {
    let mut m: Vec<f64> = (0..levels).map(|l| 2f64.powi(l as i32)).collect();
    m[levels - 1] *= 4.0;
    let s: f64 = m.iter().sum();
    m.iter().map(|x| x / s).collect()
}

/// Expectation-maximisation of m-probabilities and the match prior over weighted comparison
/// patterns, with u fixed, until no probability moves by more than 1e-6 or after `iterations`.
/// Fields with `skip[f]` (fixed by blocking) are left out and keep their starting m. Returns
/// `(m, lambda)`.
pub fn em(
    patterns: &HashMap<u64, f64>,
    u: &[Vec<f64>],
    skip: &[bool],
    iterations: usize,
) -> (Vec<Vec<f64>>, f64) {
    let mut m: Vec<Vec<f64>> = u.iter().map(|x| initial_m(x.len())).collect();
    let mut lambda = 0.3;
    let list: Vec<(u64, f64)> = patterns.iter().map(|(&k, &v)| (k, v)).collect();
    for _ in 0..iterations {
        let mut acc: Vec<Vec<f64>> = u.iter().map(|x| vec![0.0; x.len()]).collect();
        let (mut matched, mut total) = (0.0, 0.0);
        for &(p, c) in &list {
            let (mut lm, mut lu) = (lambda, 1.0 - lambda);
            for f in 0..u.len() {
                if skip[f] {
                    continue;
                }
                if let Some(l) = unpack(p, f) {
                    lm *= m[f][l as usize];
                    lu *= u[f][l as usize];
                }
            }
            let post = lm / (lm + lu);
            matched += c * post;
            total += c;
            for (f, slot) in acc.iter_mut().enumerate() {
                if let Some(l) = unpack(p, f) {
                    slot[l as usize] += c * post;
                }
            }
        }
        if total == 0.0 {
            break;
        }
        let next = (matched / total).clamp(1e-6, 1.0 - 1e-6);
        let mut moved = (next - lambda).abs();
        lambda = next;
        for f in 0..u.len() {
            if skip[f] {
                continue;
            }
            let s: f64 = acc[f].iter().sum();
            if s > 0.0 {
                let len = acc[f].len() as f64;
                let new: Vec<f64> = acc[f]
                    .iter()
                    .map(|x| (x + 1e-6) / (s + 1e-6 * len))
                    .collect();
                for (a, b) in new.iter().zip(&m[f]) {
                    moved = moved.max((a - b).abs());
                }
                m[f] = new;
            }
        }
        if moved < 1e-6 {
            break;
        }
    }
    (m, lambda)
}

/// Progress reports: a stage name, work done and total.
pub trait Progress: Sync {
    /// Called from time to time during long stages.
    fn report(&self, stage: &str, done: u64, total: u64);
}

/// Progress that goes nowhere.
pub struct Quiet;

impl Progress for Quiet {
    fn report(&self, _: &str, _: u64, _: u64) {}
}

/// Settings, compiled rules, groups and the trained model: everything to score a dataset.
#[derive(Debug, Clone)]
pub struct Linker {
    /// The settings.
    pub config: LinkConfig,
    /// Compiled blocking rules.
    pub rules: Vec<Rule>,
    /// The trained model.
    pub model: Model,
}

/// The outcome of scoring every candidate pair.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Pairs at or above the threshold.
    pub pairs: Vec<ScoredPair>,
    /// Candidate pairs compared (unique across rules).
    pub candidates: u64,
}

/// Builds each rule's groups over `data`.
pub fn build_blocks(data: &Dataset, rules: &[Rule]) -> Vec<Blocks> {
    rules.par_iter().map(|r| Blocks::build(data, r)).collect()
}

impl Linker {
    /// Trains a model for `data`: compares the candidate pairs of `blocks` (see [`Compared`]), then
    /// [`Linker::train_on`] them.
    pub fn train(
        config: LinkConfig,
        data: &Dataset,
        blocks: &[Blocks],
        progress: &dyn Progress,
    ) -> Result<Self, ConfigError> {
        let compared = Compared::new(data, blocks, config.em_max_pairs, config.seed, progress);
        Self::train_on(config, data, &compared, progress)
    }

    /// Trains a model for `data` from its compared candidate pairs: u by random sampling, then m per
    /// blocking rule by EM over that rule's sampled pairs (fields in the rule left out), then the
    /// prior over all unique candidate pairs.
    pub fn train_on(
        config: LinkConfig,
        data: &Dataset,
        compared: &Compared,
        progress: &dyn Progress,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        if config.fields.len() > MAX_FIELDS {
            return Err(ConfigError::Invalid(format!(
                "at most {MAX_FIELDS} fields are supported"
            )));
        }
        let rules = compile_rules(&config)?;
        let nf = config.fields.len();
        progress.report("estimate u", 0, 1);
        let u = estimate_u(data, config.u_sample_pairs, config.seed);
        progress.report("estimate u", 1, 1);
        let link = data.is_link();
        let mut m_sum: Vec<Vec<f64>> = u.iter().map(|x| vec![0.0; x.len()]).collect();
        let mut m_n = vec![0usize; nf];
        for (k, rule) in rules.iter().enumerate() {
            progress.report("train m (EM)", k as u64, rules.len() as u64);
            let Some(own) = compared.sampled.get(k).filter(|s| !s.is_empty()) else {
                continue;
            };
            let mut skip = vec![false; nf];
            for t in &rule.terms {
                skip[t.field] = true;
            }
            let (m, _) = em(own, &u, &skip, config.em_iterations);
            for f in 0..nf {
                if !skip[f] {
                    for (s, x) in m_sum[f].iter_mut().zip(&m[f]) {
                        *s += x;
                    }
                    m_n[f] += 1;
                }
            }
        }
        let m: Vec<Vec<f64>> = (0..nf)
            .map(|f| {
                if m_n[f] == 0 {
                    initial_m(u[f].len())
                } else {
                    m_sum[f].iter().map(|s| s / m_n[f] as f64).collect()
                }
            })
            .collect();
        // The prior over the union of candidate pairs, with m and u fixed.
        let union: Vec<(u64, f64)> = compared
            .patterns
            .iter()
            .zip(&compared.counts)
            .map(|(&p, &c)| (p, c as f64))
            .collect();
        let mut lambda = 0.1;
        for _ in 0..config.em_iterations.max(1) * 2 {
            let (mut matched, mut total) = (0.0, 0.0);
            for &(pat, c) in &union {
                let (mut lm, mut lu) = (lambda, 1.0 - lambda);
                for f in 0..nf {
                    if let Some(l) = unpack(pat, f) {
                        lm *= m[f][l as usize];
                        lu *= u[f][l as usize];
                    }
                }
                matched += c * lm / (lm + lu);
                total += c;
            }
            if total == 0.0 {
                break;
            }
            let next = (matched / total).clamp(1e-9, 1.0 - 1e-9);
            let moved = (next - lambda).abs();
            lambda = next;
            if moved < 1e-9 {
                break;
            }
        }
        // As a prior over all record pairs (like Splink's), so probabilities mean the same thing
        // whatever the blocking: expected matches among candidates over all possible pairs.
        let candidates = compared.candidates() as f64;
        let n = data.len() as f64;
        let a = data.sources.iter().filter(|&&s| s == 0).count() as f64;
        let all_pairs = if link {
            a * (n - a)
        } else {
            n * (n - 1.0) / 2.0
        };
        if candidates > 0.0 && all_pairs > 0.0 {
            lambda = (lambda * candidates / all_pairs).clamp(1e-12, 1.0 - 1e-9);
        }
        progress.report("train m (EM)", rules.len() as u64, rules.len() as u64);
        let fields = config
            .fields
            .iter()
            .zip(m.into_iter().zip(u))
            .map(|(fc, (m, u))| FieldModel {
                column: fc.column.clone(),
                kind: fc.kind,
                tf: fc.tf,
                m,
                u,
            })
            .collect();
        Ok(Linker {
            config,
            rules,
            model: Model { fields, lambda },
        })
    }

    /// Scores every unique candidate pair in parallel, keeping those with probability at least
    /// `threshold`. Candidate pairs are generated group by group and never stored.
    pub fn score_all(
        &self,
        data: &Dataset,
        blocks: &[Blocks],
        threshold: f64,
        progress: &dyn Progress,
    ) -> Scored {
        let compared = Compared::new(data, blocks, 0, 0, progress);
        self.score_compared(data, blocks, &compared, threshold, progress)
    }

    /// Scores the unique candidate pairs of `blocks` from their comparisons (made on the same
    /// blocks), in parallel, keeping those with probability at least `threshold`.
    pub fn score_compared(
        &self,
        data: &Dataset,
        blocks: &[Blocks],
        compared: &Compared,
        threshold: f64,
        progress: &dyn Progress,
    ) -> Scored {
        let cut = weight_of(threshold);
        let model = &self.model;
        // Per pattern: the weight without the term-frequency adjusted exact fields, and those fields.
        let prior = model.prior_weight();
        let per_pattern: Vec<(f64, u16)> = compared
            .patterns
            .iter()
            .map(|&pat| {
                let (mut w, mut tf) = (prior, 0u16);
                for (i, f) in model.fields.iter().enumerate() {
                    if let Some(l) = unpack(pat, i) {
                        if f.tf && l as usize == f.m.len() - 1 {
                            tf |= 1 << i;
                        } else {
                            w += model.field_weight(i, l, None);
                        }
                    }
                }
                (w, tf)
            })
            .collect();
        // Per term-frequency adjusted field: the exact level's weight for each value code.
        let tf_weight: Vec<Vec<f64>> = model
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if !f.tf {
                    return Vec::new();
                }
                let col = &data.columns[i];
                let top = (f.m.len() - 1) as u8;
                (0..=col.values.len() as u32)
                    .map(|c| {
                        if c == 0 {
                            0.0
                        } else {
                            model.field_weight(i, top, Some(col.frequency(c)))
                        }
                    })
                    .collect()
            })
            .collect();
        let pairs = compared.filter_map(data, blocks, progress, |a, b, id, codes| {
            let (mut w, mut tf) = per_pattern[id as usize];
            while tf != 0 {
                let i = tf.trailing_zeros() as usize;
                tf &= tf - 1;
                w += tf_weight[i][codes[i] as usize];
            }
            (w >= cut).then(|| ScoredPair {
                a,
                b,
                weight: w as f32,
                pattern: compared.patterns[id as usize],
            })
        });
        Scored {
            pairs,
            candidates: compared.candidates(),
        }
    }
}

/// Union-find over record indices.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    /// The representative of `x`.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Joins the sets of `a` and `b`.
    pub fn union(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
    }
}

/// Connected components of `n` records joined by `pairs` at or above `min_weight`: a cluster number
/// per record, numbered from 0 in order of each cluster's first record.
pub fn cluster(n: usize, pairs: &[ScoredPair], min_weight: f64) -> Vec<u32> {
    let mut uf = UnionFind::new(n);
    for p in pairs {
        if f64::from(p.weight) >= min_weight {
            uf.union(p.a, p.b);
        }
    }
    let mut label = vec![u32::MAX; n];
    let mut next = 0;
    (0..n as u32)
        .map(|r| {
            let root = uf.find(r) as usize;
            if label[root] == u32::MAX {
                label[root] = next;
                next += 1;
            }
            label[root]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn em_recovers_known_m_probabilities_on_synthetic_patterns() {
        // Three two-level fields, 30% matches, known m and u.
        let m_true = [0.9, 0.8, 0.95];
        let u_true = [0.1, 0.2, 0.05];
        let lambda_true = 0.3;
        let mut patterns = HashMap::new();
        for bits in 0u8..8 {
            let levels: Vec<Option<u8>> = (0..3).map(|f| Some((bits >> f) & 1)).collect();
            let pm: f64 = (0..3)
                .map(|f| {
                    if bits >> f & 1 == 1 {
                        m_true[f]
                    } else {
                        1.0 - m_true[f]
                    }
                })
                .product();
            let pu: f64 = (0..3)
                .map(|f| {
                    if bits >> f & 1 == 1 {
                        u_true[f]
                    } else {
                        1.0 - u_true[f]
                    }
                })
                .product();
            patterns.insert(
                pack(&levels),
                100_000.0 * (lambda_true * pm + (1.0 - lambda_true) * pu),
            );
        }
        let u: Vec<Vec<f64>> = u_true.iter().map(|&x| vec![1.0 - x, x]).collect();
        let (m, lambda) = em(&patterns, &u, &[false; 3], 200);
        assert!((lambda - lambda_true).abs() < 0.01, "lambda {lambda}");
        for f in 0..3 {
            assert!((m[f][1] - m_true[f]).abs() < 0.01, "field {f}: {:?}", m[f]);
        }
    }

    #[test]
    fn clustering_joins_connected_components_above_the_threshold() {
        let p = |a, b, w| ScoredPair {
            a,
            b,
            weight: w,
            pattern: 0,
        };
        let pairs = [p(0, 1, 10.0), p(1, 2, 10.0), p(3, 4, 10.0), p(2, 3, -5.0)];
        assert_eq!(cluster(6, &pairs, 0.0), [0, 0, 0, 1, 1, 2]);
        assert_eq!(cluster(6, &pairs, -10.0), [0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn packing_round_trips_levels_and_missing() {
        let levels = [Some(3), None, Some(0), Some(14)];
        let key = pack(&levels);
        for (i, l) in levels.iter().enumerate() {
            assert_eq!(unpack(key, i), *l);
        }
    }

    #[test]
    fn probability_and_weight_are_inverse() {
        for p in [0.01, 0.5, 0.9, 0.999] {
            assert!((probability(weight_of(p)) - p).abs() < 1e-9);
        }
    }
}
