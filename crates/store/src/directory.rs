//! The referral directory and referrals in storage.
//!
//! The directory is kept as HSDS records, one row per record of any HSDS table (organisation, service,
//! location, phone, schedule, …), each body a flat HSDS JSON object encrypted at rest (a shelter's street
//! address or a director's cell phone sits in these bodies). The server holds the directory in memory
//! for search and writes every change here in one transaction with its audit event; a per-hotline version
//! number tells other servers sharing the database that their copy is stale.
//!
//! Referrals carry the consent (or the exception and the supervisor who confirmed it) that let them leave
//! the hotline, what consent allows to be shared (the shared text itself encrypted), and their lifecycle as
//! a list of events. Codes are DOMAIN.md §4's strings, checked by the domain layer before they get here.

use crate::audit::AuditCtx;
use crate::error::{Result, StoreError};
use async_trait::async_trait;
use lantern_directory::model::Directory;
use serde::Serialize;

/// One HSDS record as stored: its table, its id and its flat JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRecord {
    /// The HSDS table (`service`, `location`, …).
    pub table: String,
    /// The record's id.
    pub id: String,
    /// The flat HSDS JSON object (with Lantern's `x_lantern` extension).
    pub json: String,
}

/// The directory a hotline's stored records make.
pub fn directory_of(records: &[DirectoryRecord]) -> Result<Directory> {
    let mut dir = Directory::default();
    for r in records {
        let row = serde_json::from_str(&r.json).map_err(|e| {
            StoreError::Invalid(format!("stored {} {} is not JSON: {e}", r.table, r.id))
        })?;
        dir.insert_value(&r.table, row).map_err(|e| {
            StoreError::Invalid(format!(
                "stored {} {} does not read back: {e}",
                r.table, r.id
            ))
        })?;
    }
    Ok(dir)
}

/// A change to a hotline's directory, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct DirectoryChange {
    /// What is being done, for the audit log (`directory.import`, `directory.update`, `directory.vet`).
    pub action: String,
    /// Records to insert or replace.
    pub upserts: Vec<DirectoryRecord>,
    /// Records to delete, as (table, id).
    pub deletes: Vec<(String, String)>,
    /// Delete every record first (an import that replaces the directory).
    pub replace_all: bool,
}

/// A referral to create.
#[derive(Debug, Clone, Default)]
pub struct NewReferral {
    /// Its hotline.
    pub hotline_id: String,
    /// The case it is made from.
    pub case_id: String,
    /// `service`, `law_enforcement`, `warm_transfer`.
    pub kind: String,
    /// The first status: `sent` with consent, `proposed` while an exception awaits a supervisor.
    pub status: String,
    /// The directory service referred to.
    pub service_id: Option<String>,
    /// The location, when a service at a location was chosen.
    pub location_id: Option<String>,
    /// The directory organisation.
    pub organization_id: Option<String>,
    /// The service's and organisation's names at the time (directory data, not personal).
    pub target_name: String,
    /// The partner organisation whose users receive it, when it has accounts here.
    pub partner_org_id: Option<String>,
    /// `consent`, `third_party_tip`, `mandatory_minor`, `imminent_danger`.
    pub basis: String,
    /// Who gave consent (encrypted).
    pub consent_by: Option<String>,
    /// How consent was given (`verbal`, `written`, `text`).
    pub consent_method: Option<String>,
    /// When consent was given, Unix microseconds.
    pub consent_at_us: Option<i64>,
    /// What consent allows to be shared (codes).
    pub shares: Vec<String>,
    /// What is shared, as a JSON object keyed by those codes (encrypted).
    pub shared_json: String,
    /// For an exception: why (encrypted).
    pub exception_reason: Option<String>,
    /// The advocate.
    pub created_by: Option<String>,
    /// The service types (codes) of the directory service referred to: what the case needed, for the
    /// gap analysis.
    pub service_types: Vec<String>,
}

/// One step of a referral's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralEvent {
    /// When, Unix microseconds.
    pub at_us: i64,
    /// Who (a user id), if anyone.
    pub actor_id: Option<String>,
    /// The status it moved to.
    pub status: String,
    /// A comment (encrypted at rest).
    pub note: Option<String>,
}

/// A stored referral, decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Referral {
    /// Its id.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
    /// Its case.
    pub case_id: String,
    /// Kind code.
    pub kind: String,
    /// Status code.
    pub status: String,
    /// Directory service.
    pub service_id: Option<String>,
    /// Directory location.
    pub location_id: Option<String>,
    /// Directory organisation.
    pub organization_id: Option<String>,
    /// Names at the time.
    pub target_name: String,
    /// Receiving partner organisation.
    pub partner_org_id: Option<String>,
    /// Report basis code.
    pub basis: String,
    /// Who gave consent.
    pub consent_by: Option<String>,
    /// How.
    pub consent_method: Option<String>,
    /// When.
    pub consent_at_us: Option<i64>,
    /// What may be shared.
    pub shares: Vec<String>,
    /// What is shared, JSON.
    pub shared_json: String,
    /// Why an exception applies.
    pub exception_reason: Option<String>,
    /// The confirming supervisor, for exceptions.
    pub confirmed_by: Option<String>,
    /// When confirmed.
    pub confirmed_at_us: Option<i64>,
    /// The advocate.
    pub created_by: Option<String>,
    /// When created.
    pub created_at_us: i64,
    /// When last changed.
    pub updated_at_us: i64,
    /// Its history, oldest first.
    pub events: Vec<ReferralEvent>,
}

/// Which referrals to list.
#[derive(Debug, Clone, Default)]
pub struct ReferralFilter {
    /// Of this case.
    pub case_id: Option<String>,
    /// Addressed to this partner organisation.
    pub partner_org_id: Option<String>,
    /// In this status.
    pub status: Option<String>,
}

/// A move of a referral to a new status.
#[derive(Debug, Clone, Default)]
pub struct ReferralMove {
    /// The status the caller saw; the move fails with a conflict if it changed meanwhile.
    pub from: String,
    /// The new status.
    pub to: String,
    /// A comment (encrypted).
    pub note: Option<String>,
    /// Set when a supervisor confirms an exception.
    pub confirmed_by: Option<String>,
}

/// The directory and referrals.
#[async_trait]
pub trait DirectoryStore {
    /// Every record of a hotline's directory, decrypted.
    async fn directory_records(&self, hotline_id: &str) -> Result<Vec<DirectoryRecord>>;
    /// The hotline's directory version: it grows with every change.
    async fn directory_version(&self, hotline_id: &str) -> Result<i64>;
    /// Applies a change in one transaction with one audit event; returns the new version.
    async fn change_directory(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        change: &DirectoryChange,
    ) -> Result<i64>;

    /// Links a partner organisation to the directory organisation it is (so referrals to that
    /// organisation's services reach its inbox); `None` unlinks.
    async fn link_partner_org(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        partner_org_id: &str,
        directory_organization_id: Option<&str>,
    ) -> Result<()>;

    /// Records a referral with its first event.
    async fn create_referral(&self, ctx: &AuditCtx, new: &NewReferral) -> Result<Referral>;
    /// A referral (audited as a read).
    async fn referral(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<Referral>;
    /// Referrals, newest first (audited as a read).
    async fn list_referrals(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        filter: &ReferralFilter,
    ) -> Result<Vec<Referral>>;
    /// Moves a referral to a new status (the caller has checked the transition is allowed).
    async fn move_referral(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
        change: &ReferralMove,
    ) -> Result<Referral>;
}
