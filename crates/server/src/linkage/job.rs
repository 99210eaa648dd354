//! The linkage job: loads every party of a hotline (decrypted in this process's memory only), links
//! them with `lantern_linkage`, folds record pairs into links between parties of different cases,
//! applies the analysts' decisions (a confirmed pair is kept whatever its score, a rejected one is
//! dropped), groups the cases into components, and stores links and components (ids, weights and
//! field levels only).
//!
//! Runs are rows in the database claimed with a lease (see `lantern_store::linkage`), so with several
//! servers on one PostgreSQL database each run is done once, and a run whose server died is taken
//! over when its lease runs out. Every server queues the scheduled runs; the unique index on active
//! runs keeps that to one per hotline.

use super::index::HotlineIndex;
use super::records::{self, Facts};
use crate::state::AppState;
use anyhow::Context as _;
use lantern_linkage::block::compile_rules;
use lantern_linkage::model::{UnionFind, build_blocks};
use lantern_linkage::{Dataset, Linker, Quiet, probability};
use lantern_store::{
    AuditCtx, ClaimedRun, LinkDecision, LinkField, LinkageParty, NewLink, RunOutcome,
};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How long a claim lasts before another worker may take the run over.
pub const LEASE: Duration = Duration::from_secs(600);
/// How often a server looks for runs to do (and queues scheduled ones).
pub const POLL: Duration = Duration::from_secs(30);

fn now_us() -> i64 {
    crate::accounts::now_us()
}

/// This process's name as a worker.
pub fn worker_id() -> String {
    static ID: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "lantern-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        )
    });
    ID.clone()
}

/// The dataset of a hotline's parties: the records, and for each record its party's index.
pub struct Built {
    /// The records.
    pub data: Dataset,
    /// Record index → party index.
    pub owner: Vec<usize>,
}

/// Builds the records of `parties`.
pub fn build(parties: &[LinkageParty]) -> Built {
    let cfg = records::config();
    let mut data = Dataset::new(&cfg);
    let mut owner = Vec::new();
    for (i, p) in parties.iter().enumerate() {
        for r in records::records(Facts::of(p)) {
            data.push(&owner.len().to_string(), 0, &r);
            owner.push(i);
        }
    }
    Built { data, owner }
}

/// Trains a linker on the records: u-probabilities by random sampling (in the engine), then
/// [`calibrate`].
pub fn train(built: &Built, confirmed: &[(u32, u32)]) -> anyhow::Result<Linker> {
    let cfg = records::config();
    let rules = compile_rules(&cfg)?;
    let blocks = build_blocks(&built.data, &rules);
    let mut linker = Linker::train(cfg, &built.data, &blocks, &Quiet)?;
    calibrate(&mut linker, built, confirmed);
    Ok(linker)
}

/// Sets the m-probabilities from [`records::prior_m`] moved towards the levels of the confirmed
/// pairs of records (ten pseudo-pairs of prior against each confirmed pair: the analysts' labels
/// are the known matches), and the prior so that each record expects about one match among all
/// the others.
pub fn calibrate(linker: &mut Linker, built: &Built, confirmed: &[(u32, u32)]) {
    const PSEUDO: f64 = 10.0;
    let nf = linker.model.fields.len();
    let mut counts: Vec<Vec<f64>> = linker
        .model
        .fields
        .iter()
        .map(|f| vec![0.0; f.m.len()])
        .collect();
    let mut seen = vec![0.0; nf];
    let mut buf = vec![None; nf];
    for &(a, b) in confirmed {
        built.data.levels(a, b, &mut buf);
        for (f, l) in buf.iter().enumerate() {
            if let Some(l) = l {
                counts[f][*l as usize] += 1.0;
                seen[f] += 1.0;
            }
        }
    }
    for (f, fm) in linker.model.fields.iter_mut().enumerate() {
        let prior = records::prior_m(&fm.column);
        if prior.len() != fm.m.len() {
            continue;
        }
        fm.m = prior
            .iter()
            .zip(&counts[f])
            .map(|(p, c)| (p * PSEUDO + c) / (PSEUDO + seen[f]))
            .collect();
    }
    let n = built.data.len().max(2) as f64;
    linker.model.lambda = 1.0 / n;
}

/// The best-agreeing pair of records of each confirmed pair of parties.
fn confirmed_records(
    parties: &[LinkageParty],
    built: &Built,
    decisions: &[LinkDecision],
) -> Vec<(u32, u32)> {
    let index_of: HashMap<&str, usize> = parties
        .iter()
        .enumerate()
        .map(|(i, p)| (p.party_id.as_str(), i))
        .collect();
    let mut first: HashMap<usize, u32> = HashMap::new();
    for (r, &o) in built.owner.iter().enumerate() {
        first.entry(o).or_insert(r as u32);
    }
    decisions
        .iter()
        .filter(|d| d.decision == "confirmed")
        .filter_map(|d| {
            let a = first.get(index_of.get(d.party_a.as_str())?)?;
            let b = first.get(index_of.get(d.party_b.as_str())?)?;
            Some((*a, *b))
        })
        .collect()
}

/// What a computation produced: what to store, and the trained linker with its records for the
/// intake index.
pub struct Computed {
    /// Links and components to store.
    pub outcome: RunOutcome,
    /// The trained linker.
    pub linker: Linker,
    /// The records it was trained on.
    pub built: Built,
}

/// Two parties, by index, the smaller first.
type PartyPair = (usize, usize);
/// The best pair of their records, with its weight.
type BestPair = (u32, u32, f64);

/// Links a hotline's parties. Pure computation: no I/O.
pub fn compute(parties: &[LinkageParty], decisions: &[LinkDecision]) -> anyhow::Result<Computed> {
    let built = build(parties);
    let cfg = records::config();
    let threshold = cfg.threshold;
    let rules = compile_rules(&cfg)?;
    let blocks = build_blocks(&built.data, &rules);
    let mut linker = Linker::train(cfg, &built.data, &blocks, &Quiet)?;
    calibrate(
        &mut linker,
        &built,
        &confirmed_records(parties, &built, decisions),
    );
    let scored = linker.score_all(&built.data, &blocks, threshold, &Quiet);
    drop(blocks);

    // The best pair of records for each pair of parties of different cases.
    let mut best: HashMap<PartyPair, BestPair> = HashMap::new();
    for sp in &scored.pairs {
        let (pa, pb) = (built.owner[sp.a as usize], built.owner[sp.b as usize]);
        if pa == pb || parties[pa].case_id == parties[pb].case_id {
            continue;
        }
        let key = (pa.min(pb), pa.max(pb));
        let w = f64::from(sp.weight);
        let e = best.entry(key).or_insert((sp.a, sp.b, w));
        if w > e.2 {
            *e = (sp.a, sp.b, w);
        }
    }
    // Decisions: rejected pairs are dropped, confirmed ones kept (scored on their best record pair).
    let index_of: HashMap<&str, usize> = parties
        .iter()
        .enumerate()
        .map(|(i, p)| (p.party_id.as_str(), i))
        .collect();
    let mut records_of: HashMap<usize, Vec<u32>> = HashMap::new();
    for (r, &o) in built.owner.iter().enumerate() {
        records_of.entry(o).or_default().push(r as u32);
    }
    let mut forced = std::collections::HashSet::new();
    for d in decisions {
        let (Some(&a), Some(&b)) = (
            index_of.get(d.party_a.as_str()),
            index_of.get(d.party_b.as_str()),
        ) else {
            continue;
        };
        let key = (a.min(b), a.max(b));
        if d.decision == "rejected" {
            best.remove(&key);
        } else if d.decision == "confirmed"
            && parties[a].case_id != parties[b].case_id
            && let std::collections::hash_map::Entry::Vacant(slot) = best.entry(key)
        {
            let mut buf = vec![None; linker.model.fields.len()];
            let mut top: Option<(u32, u32, f64)> = None;
            for &ra in records_of.get(&key.0).into_iter().flatten() {
                for &rb in records_of.get(&key.1).into_iter().flatten() {
                    let w = linker.model.weigh(&built.data, ra, rb, &mut buf);
                    if top.is_none_or(|t| w > t.2) {
                        top = Some((ra, rb, w));
                    }
                }
            }
            if let Some(t) = top {
                slot.insert(t);
                forced.insert(key);
            }
        }
    }

    // Components of cases joined by links.
    let mut case_ix: BTreeMap<&str, u32> = BTreeMap::new();
    for &(pa, pb) in best.keys() {
        for p in [pa, pb] {
            let n = case_ix.len() as u32;
            case_ix.entry(parties[p].case_id.as_str()).or_insert(n);
        }
    }
    let mut uf = UnionFind::new(case_ix.len());
    for &(pa, pb) in best.keys() {
        uf.union(
            case_ix[parties[pa].case_id.as_str()],
            case_ix[parties[pb].case_id.as_str()],
        );
    }
    let mut by_root: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (case, &ix) in &case_ix {
        by_root
            .entry(uf.find(ix))
            .or_default()
            .push((*case).to_owned());
    }
    let mut comps: Vec<(u32, Vec<String>)> = by_root.into_iter().collect();
    // Largest first, then by the smallest case number, so the numbering is stable.
    let number_of: HashMap<&str, i64> = parties
        .iter()
        .map(|p| (p.case_id.as_str(), p.case_number))
        .collect();
    for (_, cases) in &mut comps {
        cases.sort_by_key(|c| number_of.get(c.as_str()).copied().unwrap_or(0));
    }
    comps.sort_by_key(|(_, cases)| {
        (
            std::cmp::Reverse(cases.len()),
            number_of.get(cases[0].as_str()).copied().unwrap_or(0),
        )
    });
    let comp_of_root: HashMap<u32, usize> = comps
        .iter()
        .enumerate()
        .map(|(i, (root, _))| (*root, i))
        .collect();
    let mut pairs: Vec<(&PartyPair, &BestPair)> = best.iter().collect();
    pairs.sort_by(|a, b| b.1.2.total_cmp(&a.1.2).then(a.0.cmp(b.0)));
    let links = pairs
        .into_iter()
        .map(|(&(pa, pb), &(ra, rb, w))| {
            let root = uf.find(case_ix[parties[pa].case_id.as_str()]);
            NewLink {
                component: comp_of_root[&root],
                party_a: parties[pa].party_id.clone(),
                party_b: parties[pb].party_id.clone(),
                case_a: parties[pa].case_id.clone(),
                case_b: parties[pb].case_id.clone(),
                weight: w,
                probability: probability(w),
                explanation: linker
                    .model
                    .explain(&built.data, ra, rb)
                    .into_iter()
                    .map(|c| LinkField {
                        field: c.column,
                        level: c.level.to_owned(),
                        weight: c.weight,
                    })
                    .collect(),
                forced: forced.contains(&(pa, pb)),
            }
        })
        .collect();
    let outcome = RunOutcome {
        records: built.data.len() as i64,
        candidates: scored.candidates as i64,
        model_json: serde_json::to_string(&linker.model).context("the model serialises")?,
        components: comps.into_iter().map(|(_, c)| c).collect(),
        links,
    };
    Ok(Computed {
        outcome,
        linker,
        built,
    })
}

/// Runs one claimed run to the end: stored, or marked failed.
pub async fn run_claimed(state: &AppState, run: &ClaimedRun) -> anyhow::Result<()> {
    let worker = worker_id();
    let started = std::time::Instant::now();
    let result = async {
        let ctx = AuditCtx::system(Some(run.hotline_id.clone()));
        let parties = state
            .store
            .linkage_parties(&ctx, &run.hotline_id, None)
            .await?;
        let decisions = state.store.linkage_decisions(&run.hotline_id).await?;
        state
            .store
            .renew_linkage_lease(&run.id, &worker, now_us() + LEASE.as_micros() as i64)
            .await?;
        let watermark = parties.iter().map(|p| p.updated_at_us).max().unwrap_or(0);
        let (computed, parties) = tokio::task::spawn_blocking(move || {
            let c = compute(&parties, &decisions);
            (c, parties)
        })
        .await
        .context("the linkage computation panicked")?;
        let computed = computed?;
        state
            .store
            .finish_linkage_run(&ctx, &run.id, &worker, &computed.outcome)
            .await?;
        tracing::info!(
            linkage.run = %run.id,
            hotline.id = %run.hotline_id,
            records = computed.outcome.records,
            candidates = computed.outcome.candidates,
            links = computed.outcome.links.len(),
            components = computed.outcome.components.len(),
            seconds = started.elapsed().as_secs_f64(),
            "linkage run done"
        );
        let index = HotlineIndex::from_parts(
            computed.linker,
            computed.built,
            &parties,
            watermark,
            Some(run.id.clone()),
        );
        state.linkage.replace(&run.hotline_id, index).await;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = &result {
        tracing::error!(linkage.run = %run.id, hotline.id = %run.hotline_id, error.chain = %format!("{e:#}"), "linkage run failed");
        // The message names the failure, never a value.
        let _ = state
            .store
            .fail_linkage_run(&run.id, &worker, "the run failed; see the server log")
            .await;
    }
    result
}

/// Claims and runs queued runs until none is left; returns how many were run.
pub async fn drain(state: &AppState) -> anyhow::Result<usize> {
    let mut done = 0;
    while let Some(run) = state
        .store
        .claim_linkage_run(&worker_id(), now_us() + LEASE.as_micros() as i64)
        .await?
    {
        tracing::info!(linkage.run = %run.id, hotline.id = %run.hotline_id, "linkage run claimed");
        let _ = run_claimed(state, &run).await;
        done += 1;
    }
    Ok(done)
}

/// Starts draining in the background now (after an analyst asked for a run).
pub fn kick(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = drain(&state).await {
            tracing::error!(error.chain = %format!("{e:#}"), "linkage worker failed");
        }
    });
}

/// The server's worker: every [`POLL`], queues the scheduled runs that are due and does the queued
/// ones (its own hotlines' and, with several servers, whichever it claims first).
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = state.settings.linkage.interval_minutes;
        let mut warmed = false;
        loop {
            if every > 0 {
                let every_us = every.saturating_mul(60_000_000) as i64;
                if let Err(e) = state.store.schedule_linkage_runs(every_us).await {
                    tracing::error!(error.chain = %format!("{e:#}"), "scheduling linkage runs failed");
                }
            }
            if let Err(e) = drain(&state).await {
                tracing::error!(error.chain = %format!("{e:#}"), "linkage worker failed");
            }
            if !warmed {
                warmed = true;
                // The intake indexes, built once at start so the first lookup does not wait.
                for h in state.store.list_hotlines().await.unwrap_or_default() {
                    if let Err(e) = state.linkage.warm(&state, &h.id).await {
                        tracing::error!(hotline.id = %h.id, error.chain = %format!("{e:#}"), "building the intake index failed");
                    }
                }
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(
        id: &str,
        case: &str,
        n: i64,
        role: &str,
        state: &str,
        ids: &[(&str, &str)],
    ) -> LinkageParty {
        LinkageParty {
            party_id: id.into(),
            case_id: case.into(),
            case_number: n,
            state: Some(state.into()),
            role: role.into(),
            age: None,
            identifiers: ids
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            updated_at_us: 1,
        }
    }

    fn hotline() -> Vec<LinkageParty> {
        let mut v = Vec::new();
        // Background: many unrelated people.
        let first = [
            "ana", "bea", "carla", "dora", "eva", "fina", "gala", "hana", "ines", "juana",
        ];
        let last = [
            "lopez", "perez", "garcia", "martin", "sanchez", "romero", "navarro", "torres",
        ];
        for i in 0..400 {
            v.push(party(
                &format!("p{i}"),
                &format!("c{i}"),
                i as i64 + 1,
                "potential_victim",
                ["TX", "CA", "NY", "FL"][i % 4],
                &[
                    ("name", &format!("{} {}", first[i % 10], last[(i / 10) % 8])),
                    (
                        "phone",
                        &format!(
                            "+1{}",
                            2_000_000_000u64 + (i as u64 * 7_654_321_987) % 7_000_000_000
                        ),
                    ),
                ],
            ));
        }
        // A network in one state: its trafficker's phone written three ways, his name spelled three ways.
        let net = [
            ("Jonathan Smith", "(713) 555-0142"),
            ("Jonathon Smyth", "713.555.0142"),
            ("JONATHAN SMITH", "+1 713 555 0142"),
        ];
        for (k, (name, phone)) in net.iter().enumerate() {
            v.push(party(
                &format!("t{k}"),
                &format!("n{k}"),
                1000 + k as i64,
                "suspected_trafficker",
                "NV",
                &[("name", name), ("phone", phone)],
            ));
        }
        v
    }

    #[test]
    fn a_trafficker_s_phone_and_name_written_differently_join_three_cases() {
        let parties = hotline();
        let c = compute(&parties, &[]).unwrap();
        let net: Vec<String> = (0..3).map(|k| format!("n{k}")).collect();
        let found = c
            .outcome
            .components
            .iter()
            .find(|comp| comp.contains(&net[0]))
            .expect("the network is a component");
        assert_eq!(found, &net);
        assert!(c.outcome.links.iter().all(|l| !l.explanation.is_empty()));
    }

    #[test]
    fn a_rejected_pair_is_dropped_and_a_confirmed_one_is_kept_whatever_its_score() {
        let parties = hotline();
        let reject = |a: &str, b: &str, d: &str| LinkDecision {
            party_a: a.into(),
            party_b: b.into(),
            decision: d.into(),
            decided_by: None,
            decided_at_us: 0,
        };
        let decisions = [
            reject("t0", "t1", "rejected"),
            reject("t0", "t2", "rejected"),
            reject("t1", "t2", "rejected"),
            reject("p1", "p2", "confirmed"),
        ];
        let c = compute(&parties, &decisions).unwrap();
        assert!(
            !c.outcome
                .components
                .iter()
                .any(|comp| comp.contains(&"n0".to_owned()))
        );
        let forced = c
            .outcome
            .links
            .iter()
            .find(|l| l.party_a == "p1" && l.party_b == "p2")
            .expect("the confirmed pair is a link");
        assert!(forced.forced);
    }
}
