//! The advocate's core loop in storage: contacts with their screening determinations, cases, parties and
//! their identifiers, tasks, notes, and the supervisors' review queue.
//!
//! Codes (channel, status, outcome, …) are DOMAIN.md's strings, checked by the domain layer before they
//! get here. Personal fields — narratives, places, safe-contact instructions, names and identifiers,
//! safety plans, tasks and notes — are encrypted; identifiers that need exact lookup carry a blind index.

use crate::audit::AuditCtx;
use crate::error::Result;
use async_trait::async_trait;
use serde::Serialize;

/// A contact to record.
#[derive(Debug, Clone, Default)]
pub struct NewContact {
    /// Its hotline.
    pub hotline_id: String,
    /// The case it belongs to, if already known.
    pub case_id: Option<String>,
    /// `phone`, `sms`, `webchat`, `email`, `webform`, `tty`.
    pub channel: String,
    /// Who reached out.
    pub signaler_type: Option<String>,
    /// What kind of contact.
    pub category: Option<String>,
    /// ISO 639 code.
    pub language: Option<String>,
    /// USPS state code.
    pub state: Option<String>,
    /// ZIP code.
    pub zip: Option<String>,
    /// City (encrypted).
    pub city: Option<String>,
    /// `exact`, `zip`, `city`, `county`, `state`, `unknown`.
    pub location_precision: String,
    /// `yes`, `no`, `unsure`.
    pub safe_to_talk: Option<String>,
    /// How the hotline may reach back, as JSON (encrypted).
    pub safe_contact: Option<String>,
    /// Interpreter language used, if any.
    pub interpreter: Option<String>,
    /// What was said (encrypted).
    pub narrative: Option<String>,
    /// When the contact happened, Unix microseconds.
    pub occurred_at_us: i64,
    /// The advocate recording it.
    pub created_by: Option<String>,
    /// The screening determination made during it.
    pub determination: Option<NewDetermination>,
    /// A case to open for it, in the same transaction (ignored when `case_id` is given).
    pub open_case: Option<NewCase>,
    /// Parties to add to its case, in the same transaction (their `case_id` is ignored).
    pub parties: Vec<NewParty>,
}

/// A screening determination to save with a contact.
#[derive(Debug, Clone, Default)]
pub struct NewDetermination {
    /// The answers, as the screening JSON (codes and an age; no personal data).
    pub answers_json: String,
    /// The outcome code.
    pub outcome: String,
    /// `sex`, `labor`.
    pub forms: Vec<String>,
    /// Whether the minor rule decided it.
    pub minor_rule_applied: bool,
    /// Elements not yet established.
    pub missing: Vec<String>,
    /// The reasons in plain language.
    pub reasons: Vec<String>,
    /// The version of the rules that decided it.
    pub rules_version: String,
    /// Whether supervisors must review it (potential trafficking).
    pub needs_review: bool,
}

/// A stored determination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Determination {
    /// Its id.
    pub id: String,
    /// The contact it was made in.
    pub contact_id: String,
    /// The case, once attached.
    pub case_id: Option<String>,
    /// The answers JSON.
    pub answers_json: String,
    /// The outcome code.
    pub outcome: String,
    /// Forms.
    pub forms: Vec<String>,
    /// Minor rule.
    pub minor_rule_applied: bool,
    /// Missing elements.
    pub missing: Vec<String>,
    /// Reasons.
    pub reasons: Vec<String>,
    /// Rules version.
    pub rules_version: String,
    /// Who made it.
    pub created_by: Option<String>,
    /// When, Unix microseconds.
    pub created_at_us: i64,
    /// `pending`, `confirmed`, `returned`; none when no review is needed.
    pub review_status: Option<String>,
    /// The reviewing supervisor.
    pub reviewed_by: Option<String>,
    /// When reviewed.
    pub reviewed_at_us: Option<i64>,
    /// The supervisor's comment (encrypted at rest).
    pub review_comment: Option<String>,
}

/// A stored contact, decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// Its id.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
    /// Its case.
    pub case_id: Option<String>,
    /// Channel code.
    pub channel: String,
    /// Signaler type code.
    pub signaler_type: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// State.
    pub state: Option<String>,
    /// ZIP.
    pub zip: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Location precision code.
    pub location_precision: String,
    /// Safe to talk.
    pub safe_to_talk: Option<String>,
    /// Safe-contact instructions (JSON).
    pub safe_contact: Option<String>,
    /// Interpreter language.
    pub interpreter: Option<String>,
    /// Narrative.
    pub narrative: Option<String>,
    /// When it happened.
    pub occurred_at_us: i64,
    /// Who recorded it.
    pub created_by: Option<String>,
    /// When recorded.
    pub created_at_us: i64,
    /// The determinations made in it, oldest first.
    pub determinations: Vec<Determination>,
}

/// A case to open.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    /// Its hotline.
    pub hotline_id: String,
    /// Status code.
    pub status: String,
    /// Form code.
    pub form: String,
    /// The main state, for lists and filters.
    pub state: Option<String>,
    /// Everything coded about the case (typology, locations, risk factors, recruitment, means…) as JSON.
    pub details_json: String,
    /// The safety plan (encrypted).
    pub safety_plan: Option<String>,
    /// The advocate responsible.
    pub assignee_id: Option<String>,
    /// When it was opened, Unix microseconds: `None` is now. Imports of past cases (the demo's
    /// synthetic history, a migration from another system) give the original date, so trends by month
    /// show when cases were opened rather than when they were imported.
    pub opened_at_us: Option<i64>,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    /// Its id.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
    /// Its number within the hotline, from 1.
    pub number: i64,
    /// Status code.
    pub status: String,
    /// Form code.
    pub form: String,
    /// Main state.
    pub state: Option<String>,
    /// Coded details (JSON).
    pub details_json: String,
    /// Safety plan.
    pub safety_plan: Option<String>,
    /// Responsible advocate.
    pub assignee_id: Option<String>,
    /// Opened, Unix microseconds.
    pub opened_at_us: i64,
    /// Last change.
    pub updated_at_us: i64,
    /// Closed.
    pub closed_at_us: Option<i64>,
}

/// A change to a case; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CaseChange {
    /// New status (the caller has checked the transition).
    pub status: Option<String>,
    /// New form.
    pub form: Option<String>,
    /// New main state.
    pub state: Option<Option<String>>,
    /// New coded details.
    pub details_json: Option<String>,
    /// New safety plan.
    pub safety_plan: Option<Option<String>>,
    /// New assignee.
    pub assignee_id: Option<Option<String>>,
}

/// Filters for the case list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Status code.
    pub status: Option<String>,
    /// Form code.
    pub form: Option<String>,
    /// Assignee.
    pub assignee_id: Option<String>,
    /// Main state.
    pub state: Option<String>,
    /// Opened at or after, Unix microseconds.
    pub opened_from_us: Option<i64>,
    /// Opened before.
    pub opened_to_us: Option<i64>,
    /// Exactly this case number.
    pub number: Option<i64>,
    /// Cases with an identifier of this kind and blind index (from [`crate::Keyring::blind_index`]).
    pub identifier: Option<(String, Vec<u8>)>,
    /// Page size (1 to 500).
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// A case in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseSummary {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// How many contacts it has.
    pub contacts: i64,
}

/// An identifier to record for a party.
#[derive(Debug, Clone)]
pub struct NewIdentifier {
    /// `name`, `alias`, `phone`, `email`, `address`, `handle`, `business_name`.
    pub kind: String,
    /// The value as given (encrypted).
    pub value: String,
    /// The normalised value to blind-index for exact lookups, if this kind is looked up.
    pub lookup: Option<String>,
}

/// A stored identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identifier {
    /// Its id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Value.
    pub value: String,
}

/// A party to add to a case.
#[derive(Debug, Clone, Default)]
pub struct NewParty {
    /// Its case.
    pub case_id: String,
    /// Role code.
    pub role: String,
    /// Gender code.
    pub gender: Option<String>,
    /// Age in years.
    pub age: Option<i64>,
    /// CTDC age band.
    pub age_band: Option<String>,
    /// Nationality (ISO 3166 alpha-2).
    pub nationality: Option<String>,
    /// Free-text description (encrypted).
    pub details: Option<String>,
    /// Names, phones, emails, addresses, handles.
    pub identifiers: Vec<NewIdentifier>,
}

/// A stored party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Its id.
    pub id: String,
    /// Its case.
    pub case_id: String,
    /// Role.
    pub role: String,
    /// Gender.
    pub gender: Option<String>,
    /// Age.
    pub age: Option<i64>,
    /// Age band.
    pub age_band: Option<String>,
    /// Nationality.
    pub nationality: Option<String>,
    /// Description.
    pub details: Option<String>,
    /// Identifiers.
    pub identifiers: Vec<Identifier>,
}

/// A task or follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// Its id.
    pub id: String,
    /// Its case.
    pub case_id: String,
    /// What to do (encrypted at rest).
    pub title: String,
    /// Due, Unix microseconds.
    pub due_at_us: Option<i64>,
    /// Who does it.
    pub assignee_id: Option<String>,
    /// Done, Unix microseconds.
    pub done_at_us: Option<i64>,
    /// Created.
    pub created_at_us: i64,
}

/// A case note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// Its id.
    pub id: String,
    /// Its case.
    pub case_id: String,
    /// Text (encrypted at rest).
    pub body: String,
    /// Author.
    pub author_id: Option<String>,
    /// Written.
    pub created_at_us: i64,
}

/// Everything on a case page.
#[derive(Debug, Clone, Serialize)]
pub struct CaseFile {
    /// The case.
    pub case: Case,
    /// Its contacts, oldest first, each with its determinations.
    pub contacts: Vec<Contact>,
    /// Its parties.
    pub parties: Vec<Party>,
    /// Its tasks.
    pub tasks: Vec<Task>,
    /// Its notes, oldest first.
    pub notes: Vec<Note>,
}

/// A determination waiting in (or decided in) the review queue.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    /// The determination.
    pub determination: Determination,
    /// The contact's channel.
    pub channel: String,
    /// The contact's state.
    pub state: Option<String>,
    /// The case number, once attached.
    pub case_number: Option<i64>,
}

/// Filters for the contact list.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    /// Channel code.
    pub channel: Option<String>,
    /// Only contacts of this case.
    pub case_id: Option<String>,
    /// Only contacts of no case.
    pub unattached: bool,
    /// Happened at or after, Unix microseconds.
    pub from_us: Option<i64>,
    /// Happened before.
    pub to_us: Option<i64>,
    /// Page size (1 to 500).
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// The core loop's persistence. Every read that returns personal data is audited.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Records a contact (and its determination) in one transaction.
    async fn create_contact(&self, ctx: &AuditCtx, new: &NewContact) -> Result<Contact>;
    /// Records many contacts in one transaction (the demo loader and imports); returns each contact's id
    /// and case id, in order. All or nothing.
    async fn import_contacts(
        &self,
        ctx: &AuditCtx,
        batch: &[NewContact],
    ) -> Result<Vec<(String, Option<String>)>>;
    /// A page of contacts (with their determinations), newest first, and the total count.
    async fn list_contacts(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        filter: &ContactFilter,
    ) -> Result<(Vec<Contact>, i64)>;
    /// The main state of a party's case (names are matched within a state).
    async fn party_case_state(&self, hotline_id: &str, party_id: &str) -> Result<Option<String>>;
    /// Replaces a party's facts and identifiers; its case stays, and a different role is refused.
    async fn update_party(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        party_id: &str,
        new: &NewParty,
    ) -> Result<Party>;
    /// Tasks of a hotline, open ones first by due date; only one assignee's when given.
    async fn list_tasks(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        assignee_id: Option<&str>,
        include_done: bool,
        limit: i64,
    ) -> Result<Vec<Task>>;
    /// A contact with its determinations.
    async fn contact(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<Contact>;
    /// Attaches a contact (and its determinations) to a case of the same hotline.
    async fn attach_contact(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        contact_id: &str,
        case_id: &str,
    ) -> Result<()>;
    /// Opens a case; numbers are given in order within the hotline.
    async fn create_case(&self, ctx: &AuditCtx, new: &NewCase) -> Result<Case>;
    /// A case.
    async fn case(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<Case>;
    /// Changes a case.
    async fn update_case(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
        change: &CaseChange,
    ) -> Result<Case>;
    /// A page of cases matching the filter, newest first, and the total count.
    async fn list_cases(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        filter: &CaseFilter,
    ) -> Result<(Vec<CaseSummary>, i64)>;
    /// A case with its contacts, parties, tasks and notes.
    async fn case_file(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<CaseFile>;
    /// Adds a party to a case.
    async fn add_party(&self, ctx: &AuditCtx, hotline_id: &str, new: &NewParty) -> Result<Party>;
    /// Open cases (status other than `closed`) with an identifier matching one of `(kind, blind index)`,
    /// with the kind that matched.
    async fn open_cases_sharing(
        &self,
        hotline_id: &str,
        keys: &[(String, Vec<u8>)],
    ) -> Result<Vec<(Case, String)>>;
    /// Adds a task.
    async fn add_task(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        case_id: &str,
        title: &str,
        due_at_us: Option<i64>,
        assignee_id: Option<&str>,
    ) -> Result<Task>;
    /// Marks a task done or not done.
    async fn set_task_done(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        task_id: &str,
        done: bool,
    ) -> Result<()>;
    /// Adds a note.
    async fn add_note(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        case_id: &str,
        body: &str,
    ) -> Result<Note>;
    /// Determinations with the given review status (`pending` for the queue), newest first.
    async fn review_queue(
        &self,
        hotline_id: &str,
        status: &str,
        limit: i64,
    ) -> Result<Vec<ReviewItem>>;
    /// A supervisor's decision: `confirmed` or `returned`, with a comment.
    async fn decide_review(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        determination_id: &str,
        status: &str,
        comment: Option<&str>,
    ) -> Result<Determination>;
}
