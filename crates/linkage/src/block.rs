//! Blocking: each rule groups records whose key terms agree; candidate pairs are the pairs within a
//! group, unioned over rules without duplicates (a pair is skipped by rule k when an earlier rule's
//! key also agrees on it, so no set of seen pairs is ever stored).

use rayon::prelude::*;

use crate::config::{ConfigError, LinkConfig, parse_term};
use crate::data::{Dataset, hash_bytes};

/// One compiled blocking term: a field index and an optional prefix length in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// Index of the field in the config.
    pub field: usize,
    /// Only the first N characters count.
    pub prefix: Option<usize>,
}

/// A compiled blocking rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The terms that must all agree.
    pub terms: Vec<Term>,
}

/// Compiles the config's blocking rules against its fields.
pub fn compile_rules(config: &LinkConfig) -> Result<Vec<Rule>, ConfigError> {
    config
        .blocking
        .iter()
        .map(|r| {
            let terms =
                r.on.iter()
                    .map(|t| {
                        let (col, prefix) = parse_term(t)?;
                        let field = config
                            .fields
                            .iter()
                            .position(|f| f.column == col)
                            .ok_or_else(|| ConfigError::BlockingNotAField(t.clone()))?;
                        Ok(Term { field, prefix })
                    })
                    .collect::<Result<Vec<_>, ConfigError>>()?;
            Ok(Rule { terms })
        })
        .collect()
}

/// The blocking key of a rule given each term's normalised text; `None` when a term is missing.
pub fn key_of<'a>(rule: &Rule, text: impl Fn(usize) -> Option<&'a str>) -> Option<u64> {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for t in &rule.terms {
        let s = text(t.field)?;
        let s = match t.prefix {
            Some(n) => s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i]),
            None => s,
        };
        h = hash_bytes(h, s.as_bytes());
        h = hash_bytes(h, &[0xff]);
    }
    Some(h)
}

/// A rule's key for every record of a dataset (`None` for records the rule cannot block). Whole
/// values are keyed by their interned codes (one code per normalised value), prefixes by their text;
/// these keys are only compared with each other, never with [`key_of`]'s.
pub fn record_keys(data: &Dataset, rule: &Rule) -> Vec<Option<u64>> {
    let whole = rule.terms.iter().all(|t| t.prefix.is_none());
    (0..data.len())
        .into_par_iter()
        .map(|r| {
            if whole {
                let mut h = 0x9E37_79B9_7F4A_7C15u64;
                for t in &rule.terms {
                    let c = data.columns[t.field].codes[r];
                    if c == 0 {
                        return None;
                    }
                    h = hash_bytes(h, &c.to_le_bytes());
                }
                return Some(h);
            }
            key_of(rule, |f| {
                let col = &data.columns[f];
                let c = col.codes[r];
                (c != 0).then(|| &*col.value(c).text)
            })
        })
        .collect()
}

/// A rule's groups: record indices sorted by key, cut where the key changes.
#[derive(Debug, Clone)]
pub struct Blocks {
    /// Each record's key for this rule.
    pub keys: Vec<Option<u64>>,
    /// Records with a key, sorted by key (then source, then index).
    pub order: Vec<u32>,
    /// Start offsets of groups of two or more records in `order`; the last entry is the end.
    pub bounds: Vec<(u32, u32)>,
}

impl Blocks {
    /// Groups the records of `data` by `rule`.
    pub fn build(data: &Dataset, rule: &Rule) -> Self {
        let keys = record_keys(data, rule);
        // Sorted as one contiguous array of (key, source in the top bit | record).
        let mut keyed: Vec<(u64, u32)> = keys
            .iter()
            .enumerate()
            .filter_map(|(r, k)| {
                k.map(|k| (k, (u32::from(data.sources[r].min(1)) << 31) | r as u32))
            })
            .collect();
        keyed.par_sort_unstable();
        let order: Vec<u32> = keyed.iter().map(|&(_, t)| t & 0x7FFF_FFFF).collect();
        let mut bounds = Vec::new();
        let mut start = 0usize;
        for i in 1..=keyed.len() {
            if i == keyed.len() || keyed[i].0 != keyed[start].0 {
                if i - start >= 2 {
                    bounds.push((start as u32, i as u32));
                }
                start = i;
            }
        }
        Blocks {
            keys,
            order,
            bounds,
        }
    }

    /// Number of pairs this rule alone would compare (before removing earlier rules' pairs).
    pub fn pair_count(&self, data: &Dataset) -> u64 {
        let link = data.is_link();
        self.bounds
            .iter()
            .map(|&(s, e)| {
                let g = &self.order[s as usize..e as usize];
                if link {
                    let a = g.iter().filter(|&&r| data.sources[r as usize] == 0).count() as u64;
                    a * (g.len() as u64 - a)
                } else {
                    let n = g.len() as u64;
                    n * (n - 1) / 2
                }
            })
            .sum()
    }

    /// Calls `f(a, b)` for every pair in group `g` (across sources when linking).
    pub fn for_pairs_in_group(
        &self,
        data: &Dataset,
        link: bool,
        g: usize,
        mut f: impl FnMut(u32, u32),
    ) {
        let (s, e) = self.bounds[g];
        let grp = &self.order[s as usize..e as usize];
        if link {
            let split = grp
                .iter()
                .position(|&r| data.sources[r as usize] == 1)
                .unwrap_or(grp.len());
            for &a in &grp[..split] {
                for &b in &grp[split..] {
                    f(a, b);
                }
            }
        } else {
            for (i, &a) in grp.iter().enumerate() {
                for &b in &grp[i + 1..] {
                    f(a, b);
                }
            }
        }
    }
}

/// Every record's key under each rule, record after record (`blocks.len()` per record; 0 for no
/// key, a key that hashes to 0 taken as 1, as rare as any other collision of 64-bit keys), so that
/// [`produced_earlier_rows`] reads two short rows instead of one scattered key per rule.
pub fn key_rows(blocks: &[Blocks]) -> Vec<u64> {
    let nr = blocks.len();
    let n = blocks.first().map_or(0, |b| b.keys.len());
    if nr == 0 {
        return Vec::new();
    }
    let mut rows = vec![0u64; n * nr];
    rows.par_chunks_mut(nr).enumerate().for_each(|(r, row)| {
        for (slot, bl) in row.iter_mut().zip(blocks) {
            *slot = bl.keys[r].map_or(0, |k| k.max(1));
        }
    });
    rows
}

/// Whether one of the first `k` rules produces the pair of records whose rows of [`key_rows`] are
/// `a` and `b`.
pub fn produced_earlier_rows(a: &[u64], b: &[u64], k: usize) -> bool {
    a[..k].iter().zip(&b[..k]).any(|(x, y)| *x != 0 && x == y)
}

/// Whether an earlier rule (any of `earlier`) already produces the pair `(a, b)`.
pub fn produced_earlier(earlier: &[Blocks], a: u32, b: u32) -> bool {
    earlier.iter().any(|bl| {
        let ka = bl.keys[a as usize];
        ka.is_some() && ka == bl.keys[b as usize]
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::LinkConfig;
    use std::collections::HashSet;

    fn cfg() -> LinkConfig {
        LinkConfig::from_toml(
            r#"
[[field]]
column = "first"
kind = "name"
[[field]]
column = "last"
kind = "name"
[[blocking]]
on = ["first"]
[[blocking]]
on = ["last[..2]"]
"#,
        )
        .unwrap()
    }

    /// Five records blocked on first name and on the first two letters of the surname.
    pub(crate) fn five_people() -> (LinkConfig, Dataset) {
        let cfg = cfg();
        let mut d = Dataset::new(&cfg);
        for (i, (f, l)) in [
            ("ann", "smith"),
            ("ann", "smyth"),
            ("bob", "smith"),
            ("ann", "jones"),
            ("cy", ""),
        ]
        .iter()
        .enumerate()
        {
            d.push(&i.to_string(), 0, &[*f, *l]);
        }
        (cfg, d)
    }

    #[test]
    fn unioned_rules_yield_each_pair_once() {
        let (cfg, d) = five_people();
        let rules = compile_rules(&cfg).unwrap();
        let blocks: Vec<Blocks> = rules.iter().map(|r| Blocks::build(&d, r)).collect();
        let mut seen = Vec::new();
        for (k, b) in blocks.iter().enumerate() {
            for g in 0..b.bounds.len() {
                b.for_pairs_in_group(&d, false, g, |x, y| {
                    if !produced_earlier(&blocks[..k], x, y) {
                        seen.push((x.min(y), x.max(y)));
                    }
                });
            }
        }
        let unique: HashSet<_> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{seen:?}");
        // rule 1 (first): (0,1),(0,3),(1,3); rule 2 (last[..2] = "sm"): (0,2),(1,2) new, (0,1) skipped
        assert_eq!(
            unique,
            HashSet::from([(0, 1), (0, 3), (1, 3), (0, 2), (1, 2)])
        );
    }

    #[test]
    fn linking_pairs_only_cross_sources() {
        let cfg = cfg();
        let mut d = Dataset::new(&cfg);
        d.push("a1", 0, &["ann", "x"]);
        d.push("a2", 0, &["ann", "y"]);
        d.push("b1", 1, &["ann", "z"]);
        let rules = compile_rules(&cfg).unwrap();
        let b = Blocks::build(&d, &rules[0]);
        let mut pairs = Vec::new();
        b.for_pairs_in_group(&d, true, 0, |x, y| pairs.push((x, y)));
        assert_eq!(pairs, [(0, 2), (1, 2)]);
        assert_eq!(b.pair_count(&d), 2);
    }
}
