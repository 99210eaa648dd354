//! Candidate pairs compared once: every unique candidate pair's comparison pattern is kept as a
//! small pattern number, in the order the pairs are generated, so that training, scoring and the
//! explanations written with the pairs reuse one comparison per pair. The pairs themselves are
//! never stored: they are generated again, group by group, in the same order.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::block::{Blocks, key_rows, produced_earlier_rows};
use crate::data::{Dataset, FastHash};
use crate::model::{Progress, pack, splitmix};

/// Groups per unit of parallel work. Pairs are generated, and their pattern numbers stored, unit by
/// unit, in the same units when comparing and when reading the numbers back.
const GROUPS_PER_UNIT: usize = 2048;

/// The comparison patterns of every unique candidate pair, and per rule a sample for training.
#[derive(Debug, Clone, Default)]
pub struct Compared {
    /// The distinct comparison patterns (see [`pack`]), numbered by position.
    pub patterns: Vec<u64>,
    /// How many unique candidate pairs have each pattern.
    pub counts: Vec<u64>,
    /// Per rule: pattern counts over a random sample of the rule's own pairs (also those an earlier
    /// rule produces), for expectation-maximisation; empty when not sampled.
    pub sampled: Vec<HashMap<u64, f64>>,
    /// Per rule, per unit of groups: the pattern number of each pair the rule is first to produce.
    units: Vec<Vec<Vec<u32>>>,
    /// [`Dataset::code_rows`] of the records compared.
    codes: Vec<u32>,
    /// [`key_rows`] of the blocks compared.
    keys: Vec<u64>,
}

/// What one unit of groups yields while comparing.
struct UnitOut {
    patterns: Vec<u64>,
    ids: Vec<u32>,
    sampled: HashMap<u64, f64, FastHash>,
}

/// A pair's place in the sample of rule `seed` (uniform over `u64`).
pub fn pair_hash(a: u32, b: u32, seed: u64) -> u64 {
    let mut s = seed ^ ((u64::from(a) << 32) | u64::from(b));
    splitmix(&mut s)
}

impl Compared {
    /// Compares every unique candidate pair of `blocks` once, in parallel. For each rule, about
    /// `sample` of its pairs (chosen by [`pair_hash`] seeded with `seed + rule + 1`; none when
    /// `sample` is 0) are also counted by pattern for training.
    pub fn new(
        data: &Dataset,
        blocks: &[Blocks],
        sample: usize,
        seed: u64,
        progress: &dyn Progress,
    ) -> Self {
        let link = data.is_link();
        let nf = data.columns.len();
        let mut out = Compared {
            codes: data.code_rows(),
            keys: key_rows(blocks),
            ..Compared::default()
        };
        let nr = blocks.len();
        let (codes, keys) = (&out.codes, &out.keys);
        let mut number: HashMap<u64, u32, FastHash> = HashMap::default();
        for (k, bl) in blocks.iter().enumerate() {
            progress.report("compare pairs", k as u64, blocks.len() as u64);
            let p = if sample == 0 {
                0.0
            } else {
                (sample as f64 / bl.pair_count(data).max(1) as f64).min(1.0)
            };
            let cut = (p * u64::MAX as f64) as u64;
            let rule_seed = seed.wrapping_add(k as u64 + 1);
            let groups = bl.bounds.len();
            let results: Vec<UnitOut> = (0..groups.div_ceil(GROUPS_PER_UNIT))
                .into_par_iter()
                .map(|u| {
                    let mut local: HashMap<u64, u32, FastHash> = HashMap::default();
                    let mut unit = UnitOut {
                        patterns: Vec::new(),
                        ids: Vec::new(),
                        sampled: HashMap::default(),
                    };
                    let mut buf = vec![None; nf];
                    let end = ((u + 1) * GROUPS_PER_UNIT).min(groups);
                    for g in u * GROUPS_PER_UNIT..end {
                        bl.for_pairs_in_group(data, link, g, |a, b| {
                            let (a_, b_) = (a as usize, b as usize);
                            let new = !produced_earlier_rows(
                                &keys[a_ * nr..(a_ + 1) * nr],
                                &keys[b_ * nr..(b_ + 1) * nr],
                                k,
                            );
                            let sampled =
                                p >= 1.0 || (p > 0.0 && pair_hash(a, b, rule_seed) <= cut);
                            if !new && !sampled {
                                return;
                            }
                            data.levels_of_rows(
                                &codes[a_ * nf..(a_ + 1) * nf],
                                &codes[b_ * nf..(b_ + 1) * nf],
                                &mut buf,
                            );
                            let key = pack(&buf);
                            if sampled {
                                *unit.sampled.entry(key).or_default() += 1.0;
                            }
                            if new {
                                let next = unit.patterns.len() as u32;
                                let id = *local.entry(key).or_insert(next);
                                if id == next {
                                    unit.patterns.push(key);
                                }
                                unit.ids.push(id);
                            }
                        });
                    }
                    unit
                })
                .collect();
            let mut units = Vec::with_capacity(results.len());
            let mut sampled: HashMap<u64, f64> = HashMap::new();
            for mut unit in results {
                let global: Vec<u32> = unit
                    .patterns
                    .iter()
                    .map(|&key| {
                        *number.entry(key).or_insert_with(|| {
                            out.patterns.push(key);
                            out.counts.push(0);
                            (out.patterns.len() - 1) as u32
                        })
                    })
                    .collect();
                for id in &mut unit.ids {
                    *id = global[*id as usize];
                    out.counts[*id as usize] += 1;
                }
                unit.ids.shrink_to_fit();
                units.push(unit.ids);
                for (key, v) in unit.sampled {
                    *sampled.entry(key).or_default() += v;
                }
            }
            out.units.push(units);
            out.sampled.push(sampled);
        }
        progress.report("compare pairs", blocks.len() as u64, blocks.len() as u64);
        out
    }

    /// Unique candidate pairs.
    pub fn candidates(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Generates the unique candidate pairs of `blocks` (the blocks these comparisons were made on)
    /// again, in parallel, and collects what `f(a, b, pattern number, codes of a)` returns for them
    /// (the codes of a record are one per field, in config order).
    pub fn filter_map<T: Send>(
        &self,
        data: &Dataset,
        blocks: &[Blocks],
        progress: &dyn Progress,
        f: impl Fn(u32, u32, u32, &[u32]) -> Option<T> + Sync,
    ) -> Vec<T> {
        let link = data.is_link();
        let (nf, nr) = (data.columns.len(), blocks.len());
        let (codes, keys) = (&self.codes, &self.keys);
        let total: u64 = self.units.iter().map(|u| u.len() as u64).sum();
        let mut done = 0u64;
        let mut found = Vec::new();
        for (k, (bl, units)) in blocks.iter().zip(&self.units).enumerate() {
            let groups = bl.bounds.len();
            // A batch of units at a time, so that progress moves.
            let batch = (units.len() / 20).max(64);
            for start in (0..units.len()).step_by(batch) {
                let end = (start + batch).min(units.len());
                let part: Vec<Vec<T>> = (start..end)
                    .into_par_iter()
                    .map(|u| {
                        let mut ids = units[u].iter();
                        let mut kept = Vec::new();
                        let last = ((u + 1) * GROUPS_PER_UNIT).min(groups);
                        for g in u * GROUPS_PER_UNIT..last {
                            bl.for_pairs_in_group(data, link, g, |a, b| {
                                let (a_, b_) = (a as usize, b as usize);
                                if produced_earlier_rows(
                                    &keys[a_ * nr..(a_ + 1) * nr],
                                    &keys[b_ * nr..(b_ + 1) * nr],
                                    k,
                                ) {
                                    return;
                                }
                                let Some(&id) = ids.next() else {
                                    return;
                                };
                                if let Some(t) = f(a, b, id, &codes[a_ * nf..(a_ + 1) * nf]) {
                                    kept.push(t);
                                }
                            });
                        }
                        kept
                    })
                    .collect();
                found.extend(part.into_iter().flatten());
                done += (end - start) as u64;
                progress.report("score pairs", done, total);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::compile_rules;
    use crate::block::tests::five_people;
    use crate::model::{Quiet, build_blocks};

    #[test]
    fn each_unique_pair_is_compared_once_and_read_back_with_its_own_pattern() {
        let (cfg, d) = five_people();
        let blocks = build_blocks(&d, &compile_rules(&cfg).unwrap());
        let compared = Compared::new(&d, &blocks, 1000, 7, &Quiet);
        assert_eq!(compared.candidates(), 5);
        let mut buf = vec![None; 2];
        let mut pairs = compared.filter_map(&d, &blocks, &Quiet, |a, b, id, _| {
            Some((a, b, compared.patterns[id as usize]))
        });
        pairs.sort_unstable();
        let expected: Vec<(u32, u32, u64)> = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3)]
            .into_iter()
            .map(|(a, b)| {
                d.levels(a, b, &mut buf);
                (a, b, pack(&buf))
            })
            .collect();
        assert_eq!(pairs, expected);
        // Rule 2 ("sm") samples all three of its pairs, (0, 1) included though rule 1 produced it.
        assert_eq!(compared.sampled[1].values().sum::<f64>(), 3.0);
        // Without sampling nothing is counted for training.
        let unsampled = Compared::new(&d, &blocks, 0, 7, &Quiet);
        assert!(unsampled.sampled.iter().all(HashMap::is_empty));
        assert_eq!(unsampled.patterns, compared.patterns);
    }
}
