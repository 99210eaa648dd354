//! Possible matches at intake: each hotline's parties in a blocking-key index ([`LinkIndex`]) kept in
//! this server's memory, so a new party is scored against only the parties that share a key with it.
//!
//! How it stays current, across processes: the index remembers the newest change (`updated_at`) of
//! the parties it holds. Before every lookup it reads from the database the parties changed since then
//! (less a margin of [`OVERLAP`], for transactions that committed after a later one; a party already
//! held at the same version is skipped) and adds them; a rewritten party's older records are ignored.
//! So a party written by any server is found by every server's next lookup, and the database stays
//! the only truth. The index is built from the store on first use (or by the linkage job in the process
//! that ran it), scoring with the model of the hotline's last finished run; when a newer run has
//! finished (here or elsewhere), it is rebuilt with that run's model.

use super::job::{self, Built};
use super::records::{self, Facts};
use crate::state::AppState;
use anyhow::Context as _;
use lantern_linkage::block::compile_rules;
use lantern_linkage::model::{FieldModel, Model};
use lantern_linkage::{LinkIndex, Linker};
use lantern_store::{AuditCtx, LinkageParty};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// How far back each catch-up reads before the newest change seen, in microseconds.
pub const OVERLAP: i64 = 60_000_000;

/// Where an indexed record came from.
#[derive(Debug, Clone)]
struct Source {
    party_id: String,
    case_id: String,
    case_number: i64,
    state: Option<String>,
    updated_at_us: i64,
}

/// One hotline's index.
#[derive(Debug)]
pub struct HotlineIndex {
    index: LinkIndex,
    sources: Vec<Source>,
    current: HashMap<String, i64>,
    watermark_us: i64,
    run_id: Option<String>,
}

/// A case that a new party may already be part of.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PossibleMatch {
    /// The case.
    pub case_id: String,
    /// Its number.
    pub number: i64,
    /// Its main state.
    pub state: Option<String>,
    /// The best match probability among its parties.
    pub probability: f64,
    /// The match weight (log2 odds).
    pub weight: f64,
    /// What agreed: "same phone", "similar name", …
    pub kinds: Vec<String>,
}

impl HotlineIndex {
    /// An index over `built` (the records of `parties`) scored with `linker`.
    pub fn from_parts(
        linker: Linker,
        built: Built,
        parties: &[LinkageParty],
        watermark_us: i64,
        run_id: Option<String>,
    ) -> Self {
        let sources = built.owner.iter().map(|&i| source(&parties[i])).collect();
        let current = parties
            .iter()
            .map(|p| (p.party_id.clone(), p.updated_at_us))
            .collect();
        HotlineIndex {
            index: LinkIndex::new(linker, built.data),
            sources,
            current,
            watermark_us,
            run_id,
        }
    }

    fn add(&mut self, p: &LinkageParty) {
        if self.current.get(&p.party_id) == Some(&p.updated_at_us) {
            return;
        }
        for r in records::records(Facts::of(p)) {
            self.index.add(&self.sources.len().to_string(), &r);
            self.sources.push(source(p));
        }
        self.current.insert(p.party_id.clone(), p.updated_at_us);
        self.watermark_us = self.watermark_us.max(p.updated_at_us);
    }

    /// The cases whose parties may be the party described by `facts`, best first.
    pub fn score(&self, facts: Facts<'_>, threshold: f64) -> Vec<PossibleMatch> {
        let mut best: HashMap<&str, PossibleMatch> = HashMap::new();
        for r in records::records(facts) {
            for m in self.index.score(&r, threshold) {
                let Some(src) = m.id.parse::<usize>().ok().and_then(|i| self.sources.get(i)) else {
                    continue;
                };
                // A party rewritten since this record was indexed is matched on its new records only.
                if self.current.get(&src.party_id) != Some(&src.updated_at_us) {
                    continue;
                }
                let better = best
                    .get(src.case_id.as_str())
                    .is_none_or(|b| m.weight > b.weight);
                if better {
                    best.insert(
                        &src.case_id,
                        PossibleMatch {
                            case_id: src.case_id.clone(),
                            number: src.case_number,
                            state: src.state.clone(),
                            probability: m.probability,
                            weight: m.weight,
                            kinds: records::kinds_of(&m.explanation)
                                .into_iter()
                                .map(str::to_owned)
                                .collect(),
                        },
                    );
                }
            }
        }
        let mut v: Vec<PossibleMatch> = best.into_values().collect();
        v.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.number.cmp(&b.number)));
        v
    }
}

fn source(p: &LinkageParty) -> Source {
    Source {
        party_id: p.party_id.clone(),
        case_id: p.case_id.clone(),
        case_number: p.case_number,
        state: p.state.clone(),
        updated_at_us: p.updated_at_us,
    }
}

/// A model stored by a run, read back (the kinds come from the settings).
fn stored_model(json: &str) -> Option<Model> {
    let cfg = records::config();
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let lambda = v.get("lambda")?.as_f64()?;
    let fields = v.get("fields")?.as_array()?;
    if fields.len() != cfg.fields.len() {
        return None;
    }
    let probs = |f: &serde_json::Value, key: &str| -> Option<Vec<f64>> {
        f.get(key)?.as_array()?.iter().map(|x| x.as_f64()).collect()
    };
    let fields = fields
        .iter()
        .zip(&cfg.fields)
        .map(|(f, fc)| {
            let m = probs(f, "m")?;
            let u = probs(f, "u")?;
            let levels = fc.kind.level_labels().len();
            (f.get("column")?.as_str()? == fc.column && m.len() == levels && u.len() == levels)
                .then(|| FieldModel {
                    column: fc.column.clone(),
                    kind: fc.kind,
                    tf: fc.tf,
                    m,
                    u,
                })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Model { fields, lambda })
}

/// Every hotline's index, built on first use.
#[derive(Debug, Default)]
pub struct IntakeIndexes {
    slots: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<HotlineIndex>>>>>,
}

impl IntakeIndexes {
    fn slot(&self, hotline_id: &str) -> Arc<tokio::sync::Mutex<Option<HotlineIndex>>> {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(hotline_id.to_owned())
            .or_default()
            .clone()
    }

    /// Puts in place an index the linkage job built.
    pub async fn replace(&self, hotline_id: &str, index: HotlineIndex) {
        *self.slot(hotline_id).lock().await = Some(index);
    }

    /// Builds the index of a hotline now if it is missing or older than its last finished run (at start,
    /// so the first lookup does not wait for it).
    pub async fn warm(&self, state: &AppState, hotline_id: &str) -> anyhow::Result<()> {
        let slot = self.slot(hotline_id);
        let mut guard = slot.lock().await;
        let ctx = AuditCtx::system(Some(hotline_id.to_owned()));
        self.current(state, &ctx, hotline_id, &mut guard).await
    }

    /// Brings `guard`'s index up to date: rebuilt when missing or older than the last finished run,
    /// else caught up with the parties changed since its watermark.
    async fn current(
        &self,
        state: &AppState,
        ctx: &AuditCtx,
        hotline_id: &str,
        guard: &mut Option<HotlineIndex>,
    ) -> anyhow::Result<()> {
        let (_, done) = state.store.latest_linkage_runs(hotline_id).await?;
        let newest_run = done.as_ref().map(|r| r.id.clone());
        let stale = guard.as_ref().is_none_or(|ix| ix.run_id != newest_run);
        if stale {
            let parties = state.store.linkage_parties(ctx, hotline_id, None).await?;
            let model = done
                .and_then(|r| r.model_json)
                .and_then(|j| stored_model(&j));
            let watermark = parties.iter().map(|p| p.updated_at_us).max().unwrap_or(0);
            let run_id = newest_run.clone();
            let built = tokio::task::spawn_blocking(move || -> anyhow::Result<HotlineIndex> {
                let built = job::build(&parties);
                let linker = match model {
                    Some(model) => {
                        let config = records::config();
                        Linker {
                            rules: compile_rules(&config)?,
                            config,
                            model,
                        }
                    }
                    None => job::train(&built, &[])?,
                };
                Ok(HotlineIndex::from_parts(
                    linker, built, &parties, watermark, run_id,
                ))
            })
            .await
            .context("building the intake index panicked")??;
            *guard = Some(built);
        } else if let Some(ix) = guard.as_mut() {
            let changed = state
                .store
                .linkage_parties(ctx, hotline_id, Some(ix.watermark_us - OVERLAP))
                .await?;
            for p in &changed {
                ix.add(p);
            }
        }
        Ok(())
    }

    /// The cases whose parties may be the party described by `facts` (from `ctx`'s user, audited).
    pub async fn possible_matches(
        &self,
        state: &AppState,
        ctx: &AuditCtx,
        hotline_id: &str,
        facts: Facts<'_>,
    ) -> anyhow::Result<Vec<PossibleMatch>> {
        let slot = self.slot(hotline_id);
        let mut guard = slot.lock().await;
        self.current(state, ctx, hotline_id, &mut guard).await?;
        let ix = guard.as_ref().context("the index was just built")?;
        Ok(ix.score(facts, records::config().threshold))
    }
}
