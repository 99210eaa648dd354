//! Cross-case linkage in storage: the job's runs, the links and components it found, the analysts'
//! decisions on links, and the read of every party's identifiers that the job (and the intake index)
//! link in memory.
//!
//! A run is a row claimed with a lease: whichever process claims it runs it, and a run whose lease ran
//! out (its process died) is claimed again. On PostgreSQL the claim takes the row `FOR UPDATE SKIP
//! LOCKED`, so several servers never wait on each other; on SQLite, where writes are serial, it is a
//! conditional update. At most one run per hotline is queued or running at a time (a unique index).
//!
//! Links, components and decisions hold ids, weights, field names and agreement levels only: never a
//! name, number or address. Decisions are kept per pair of parties, so they outlive the runs that
//! found the link and label the next run.

use crate::audit::AuditCtx;
use crate::error::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One party with its identifiers decrypted, for linking in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkageParty {
    /// The party.
    pub party_id: String,
    /// Its case.
    pub case_id: String,
    /// The case's number.
    pub case_number: i64,
    /// The case's main state.
    pub state: Option<String>,
    /// Role code.
    pub role: String,
    /// Age in years.
    pub age: Option<i64>,
    /// `(kind, value)` of each identifier, decrypted.
    pub identifiers: Vec<(String, String)>,
    /// Last change, Unix microseconds.
    pub updated_at_us: i64,
}

/// A run of the linkage job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkageRun {
    /// Its id.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
    /// `manual` or `schedule`.
    pub reason: String,
    /// `queued`, `running`, `done`, `failed`.
    pub status: String,
    /// Who asked for it (manual runs).
    pub requested_by: Option<String>,
    /// When it was asked for, Unix microseconds.
    pub requested_at_us: i64,
    /// When it started.
    pub started_at_us: Option<i64>,
    /// When it finished.
    pub finished_at_us: Option<i64>,
    /// Linkage records built (a party with several values of a kind gives several).
    pub records: Option<i64>,
    /// Candidate pairs compared.
    pub candidates: Option<i64>,
    /// Links stored.
    pub links: Option<i64>,
    /// Components (networks of two or more cases) stored.
    pub components: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// The trained model (m/u-probabilities per field and the prior) as JSON.
    #[serde(skip)]
    pub model_json: Option<String>,
}

/// A run claimed by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedRun {
    /// The run.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
}

/// One field's part in a link's weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkField {
    /// The field (`name`, `phone`, `business`, …).
    pub field: String,
    /// The agreement level (`exact`, `jw92`, `overlap60`, …; `else` for disagreement).
    pub level: String,
    /// The weight it added, log2 Bayes factor.
    pub weight: f64,
}

/// A link to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLink {
    /// Index into the run's components.
    pub component: usize,
    /// One party.
    pub party_a: String,
    /// The other, of another case.
    pub party_b: String,
    /// `party_a`'s case.
    pub case_a: String,
    /// `party_b`'s case.
    pub case_b: String,
    /// Match weight (log2 odds).
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
    /// Each field's contribution.
    pub explanation: Vec<LinkField>,
    /// Kept because an analyst confirmed it.
    pub forced: bool,
}

/// What a finished run stores.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunOutcome {
    /// Records linked.
    pub records: i64,
    /// Candidate pairs compared.
    pub candidates: i64,
    /// The trained model as JSON.
    pub model_json: String,
    /// Components: the case ids of each.
    pub components: Vec<Vec<String>>,
    /// Links, each in one component.
    pub links: Vec<NewLink>,
}

/// A component in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentSummary {
    /// Its id.
    pub id: String,
    /// The run that found it.
    pub run_id: String,
    /// Its cases.
    pub case_ids: Vec<String>,
    /// Their numbers, in the same order.
    pub case_numbers: Vec<i64>,
    /// Links within it.
    pub link_count: i64,
    /// The strongest link's weight, in thousandths.
    pub top_weight_milli: i64,
}

/// A stored link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredLink {
    /// Its id.
    pub id: String,
    /// Its component.
    pub component_id: String,
    /// One party.
    pub party_a: String,
    /// The other.
    pub party_b: String,
    /// `party_a`'s case.
    pub case_a: String,
    /// `party_b`'s case.
    pub case_b: String,
    /// Match weight (log2 odds).
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
    /// Each field's contribution.
    pub explanation: Vec<LinkField>,
    /// Kept because an analyst confirmed it.
    pub forced: bool,
    /// The decision on this pair of parties, if any: `confirmed` or `rejected`.
    pub decision: Option<String>,
}

/// A case in a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentCase {
    /// The case.
    pub id: String,
    /// Its number.
    pub number: i64,
    /// Its status.
    pub status: String,
    /// Its main state.
    pub state: Option<String>,
}

/// A party in a component, with its identifiers only when asked for (roles that may see them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentParty {
    /// The party.
    pub id: String,
    /// Its case.
    pub case_id: String,
    /// Its role.
    pub role: String,
    /// `(kind, value)` of its identifiers; empty unless values were asked for.
    pub identifiers: Vec<(String, String)>,
}

/// A component with its cases, links and the parties they join.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentDetail {
    /// Its id.
    pub id: String,
    /// Its cases, by number.
    pub cases: Vec<ComponentCase>,
    /// Its links, strongest first.
    pub links: Vec<StoredLink>,
    /// The parties its links join.
    pub parties: Vec<ComponentParty>,
}

/// A recorded decision on a pair of parties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkDecision {
    /// The smaller party id of the pair.
    pub party_a: String,
    /// The other.
    pub party_b: String,
    /// `confirmed` or `rejected`.
    pub decision: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When, Unix microseconds.
    pub decided_at_us: i64,
}

/// The linkage job's persistence.
#[async_trait]
pub trait LinkageStore: Send + Sync {
    /// Every party of a hotline with its identifiers decrypted, or only those changed at or after
    /// `changed_since_us`; audited as one read when anything is returned.
    async fn linkage_parties(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        changed_since_us: Option<i64>,
    ) -> Result<Vec<LinkageParty>>;
    /// Queues a run for a hotline, or returns the one already queued or running; audited when queued.
    async fn request_linkage_run(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        reason: &str,
    ) -> Result<LinkageRun>;
    /// Queues a `schedule` run for every hotline whose last run was requested more than `every_us` ago
    /// (or never) and that has none queued or running; returns how many were queued.
    async fn schedule_linkage_runs(&self, every_us: i64) -> Result<u64>;
    /// Claims the oldest queued run, or a running one whose lease ran out, for `worker` until
    /// `lease_until_us`.
    async fn claim_linkage_run(
        &self,
        worker: &str,
        lease_until_us: i64,
    ) -> Result<Option<ClaimedRun>>;
    /// Extends a claimed run's lease; false when `worker` no longer holds it.
    async fn renew_linkage_lease(
        &self,
        run_id: &str,
        worker: &str,
        lease_until_us: i64,
    ) -> Result<bool>;
    /// Stores a run's links and components in place of the hotline's previous ones and marks it done,
    /// in one audited transaction; refused (nothing changes) when `worker` no longer holds the lease.
    async fn finish_linkage_run(
        &self,
        ctx: &AuditCtx,
        run_id: &str,
        worker: &str,
        outcome: &RunOutcome,
    ) -> Result<()>;
    /// Marks a claimed run failed with a message (no personal data).
    async fn fail_linkage_run(&self, run_id: &str, worker: &str, error: &str) -> Result<()>;
    /// A run of a hotline.
    async fn linkage_run(&self, hotline_id: &str, run_id: &str) -> Result<LinkageRun>;
    /// The newest run of a hotline, and the newest that finished, if any.
    async fn latest_linkage_runs(
        &self,
        hotline_id: &str,
    ) -> Result<(Option<LinkageRun>, Option<LinkageRun>)>;
    /// The hotline's components, largest first.
    async fn linkage_components(
        &self,
        hotline_id: &str,
        limit: i64,
    ) -> Result<Vec<ComponentSummary>>;
    /// A component with its cases, links and parties; identifiers decrypted (and the read audited)
    /// only when `with_values`.
    async fn linkage_component(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        component_id: &str,
        with_values: bool,
    ) -> Result<ComponentDetail>;
    /// Records a decision (`confirmed` or `rejected`) on a link's pair of parties, audited; it labels
    /// every later run.
    async fn decide_linkage_link(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        link_id: &str,
        decision: &str,
    ) -> Result<StoredLink>;
    /// Every decision of a hotline.
    async fn linkage_decisions(&self, hotline_id: &str) -> Result<Vec<LinkDecision>>;
}
