//! An incremental blocking-key index for intake: add records as they are written, and score one
//! new record against all indexed records that share a blocking key.

use std::collections::HashMap;

use crate::block::key_of;
use crate::data::{Dataset, Probe, Value, level};
use crate::model::{Contribution, Linker, probability};

/// A possible match for a probed record.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Id of the indexed record.
    pub id: String,
    /// Match probability.
    pub probability: f64,
    /// Match weight (log2 odds).
    pub weight: f64,
    /// Each field's contribution.
    pub explanation: Vec<Contribution>,
}

/// Records indexed by every blocking rule's key, with a trained model to score against.
#[derive(Debug, Clone)]
pub struct LinkIndex {
    linker: Linker,
    data: Dataset,
    maps: Vec<HashMap<u64, Vec<u32>>>,
}

impl LinkIndex {
    /// An index using `linker`'s settings and model; `data` holds the records already indexed
    /// (use [`Dataset::new`] for an empty one).
    pub fn new(linker: Linker, data: Dataset) -> Self {
        let mut idx = LinkIndex {
            maps: vec![HashMap::new(); linker.rules.len()],
            linker,
            data,
        };
        for r in 0..idx.data.len() as u32 {
            idx.index_record(r);
        }
        idx
    }

    /// Number of records indexed.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn index_record(&mut self, r: u32) {
        let data = &self.data;
        for (rule, map) in self.linker.rules.iter().zip(&mut self.maps) {
            let key = key_of(rule, |f| {
                let col = &data.columns[f];
                let c = col.codes[r as usize];
                (c != 0).then(|| &*col.value(c).text)
            });
            if let Some(k) = key {
                map.entry(k).or_default().push(r);
            }
        }
    }

    /// Adds a record (one raw value per configured field, in order) and indexes it.
    pub fn add<S: AsRef<str>>(&mut self, id: &str, values: &[S]) {
        let r = self.data.push(id, 0, values);
        self.index_record(r);
    }

    /// Scores a record that is not (yet) indexed against every indexed record sharing a blocking
    /// key, returning those with probability at least `threshold`, best first.
    pub fn score<S: AsRef<str>>(&self, values: &[S], threshold: f64) -> Vec<Match> {
        let probes: Vec<Probe> = self
            .data
            .columns
            .iter()
            .zip(values)
            .map(|(col, v)| col.probe(v.as_ref(), &self.data.country))
            .collect();
        let text = |f: usize| -> Option<&str> {
            match &probes[f] {
                Probe::Missing => None,
                Probe::Known(c) => Some(&*self.data.columns[f].value(*c).text),
                Probe::New(v) => Some(&*v.text),
            }
        };
        let mut seen: Vec<u32> = Vec::new();
        for (rule, map) in self.linker.rules.iter().zip(&self.maps) {
            if let Some(k) = key_of(rule, text)
                && let Some(list) = map.get(&k)
            {
                seen.extend_from_slice(list);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        let model = &self.linker.model;
        let mut out: Vec<Match> = seen
            .into_iter()
            .filter_map(|r| {
                let parts = self.contributions(&probes, r);
                let w = model.prior_weight() + parts.iter().map(|c| c.weight).sum::<f64>();
                let p = probability(w);
                (p >= threshold).then(|| Match {
                    id: self.data.ids[r as usize].to_string(),
                    probability: p,
                    weight: w,
                    explanation: parts,
                })
            })
            .collect();
        out.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        out
    }

    fn contributions(&self, probes: &[Probe], r: u32) -> Vec<Contribution> {
        let model = &self.linker.model;
        probes
            .iter()
            .enumerate()
            .map(|(f, probe)| {
                let col = &self.data.columns[f];
                let fm = &model.fields[f];
                let code = col.codes[r as usize];
                let other: Option<&Value> = match probe {
                    Probe::Missing => None,
                    Probe::Known(c) => Some(col.value(*c)),
                    Probe::New(v) => Some(v),
                };
                match (other, code) {
                    (Some(v), c) if c != 0 => {
                        let l = level(col.kind, v, col.value(c));
                        let freq = fm.tf.then(|| col.frequency(c));
                        Contribution {
                            column: fm.column.clone(),
                            level: col.kind.level_labels()[l as usize],
                            weight: model.field_weight(f, l, freq),
                        }
                    }
                    _ => Contribution {
                        column: fm.column.clone(),
                        level: "missing",
                        weight: 0.0,
                    },
                }
            })
            .collect()
    }
}
