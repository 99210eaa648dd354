//! Voice calls in storage, and the rate limits of the public tip form.
//!
//! A call is one phone contact (channel `phone`) with what only a call has: Twilio's `CallSid` (unique per
//! hotline), its status, when it started, was answered and ended, who took it, the interpreter's vendor
//! and a warm transfer's target. Twilio's webhook and its status callbacks go through
//! [`CallStore::record_call_event`], which is idempotent: a retried event changes nothing and writes no
//! audit event. The caller's number is encrypted with a keyed blind index (the same `phone` kind as SMS
//! senders and parties, so lookups meet); the transfer target is encrypted too.
//!
//! Rate limits ([`RateLimitStore`]) count requests per fixed window for a keyed hash of a client address,
//! in the database so that several servers share them; the address is never stored.

use crate::audit::AuditCtx;
use crate::error::Result;
use async_trait::async_trait;
use serde::Serialize;

/// A call event as Twilio reported it (already validated).
#[derive(Debug, Clone, Default)]
pub struct NewCallEvent {
    /// The hotline the called number belongs to.
    pub hotline_id: String,
    /// Twilio's call identifier.
    pub call_sid: String,
    /// The hotline's number that was called (E.164).
    pub hotline_number: String,
    /// The caller's number (E.164; encrypted at rest); `None` when withheld.
    pub caller: Option<String>,
    /// `inbound`, `outbound-api`, `outbound-dial`.
    pub direction: String,
    /// Twilio's `CallStatus`: `queued`, `ringing`, `in-progress`, `completed`, `busy`, `failed`,
    /// `no-answer`, `canceled`.
    pub status: String,
    /// The call's length in seconds, on its final event.
    pub duration_s: Option<i64>,
    /// The language of the line (ISO 639-1), for a new contact.
    pub language: Option<String>,
}

/// What recording a call event did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallEventReceipt {
    /// The call after the event.
    pub call: Call,
    /// The event opened the call (and its contact).
    pub created: bool,
    /// The event changed something (false for a retry, or an event older than what is known).
    pub changed: bool,
}

/// A stored call, decrypted, with the facts of its contact the call log shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// Its id.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
    /// Its contact (channel `phone`).
    pub contact_id: String,
    /// The case the contact belongs to, once attached.
    pub case_id: Option<String>,
    /// Twilio's call identifier; `None` for a call logged by hand.
    pub call_sid: Option<String>,
    /// The hotline's number that was called.
    pub hotline_number: Option<String>,
    /// The caller's number; `None` when withheld or not known.
    pub caller: Option<String>,
    /// `inbound`, `outbound-api`, `outbound-dial`.
    pub direction: String,
    /// Twilio's call status.
    pub status: String,
    /// The advocate who took the call.
    pub advocate_id: Option<String>,
    /// Started, Unix microseconds.
    pub started_at_us: i64,
    /// Answered (in progress), Unix microseconds.
    pub answered_at_us: Option<i64>,
    /// Ended, Unix microseconds.
    pub ended_at_us: Option<i64>,
    /// Length in seconds.
    pub duration_s: Option<i64>,
    /// Who called (the contact's signaler type).
    pub signaler_type: Option<String>,
    /// The interpreter's language (the contact's), ISO 639.
    pub interpreter_language: Option<String>,
    /// The interpreting service used.
    pub interpreter_vendor: Option<String>,
    /// Who the caller was warmly transferred to, in the advocate's words.
    pub transfer_target: Option<String>,
    /// The directory service they were transferred to, when it is one.
    pub transfer_service_id: Option<String>,
    /// Last change, Unix microseconds.
    pub updated_at_us: i64,
}

impl Call {
    /// Whether the call is over.
    pub fn is_final(&self) -> bool {
        call_status_rank(&self.status) == 3
    }
}

/// The order of call statuses: events never move a call back, and a final status stays.
pub fn call_status_rank(status: &str) -> u8 {
    match status {
        "queued" => 0,
        "ringing" => 1,
        "in-progress" => 2,
        _ => 3,
    }
}

/// Every call status Twilio reports.
pub const CALL_STATUSES: &[&str] = &[
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
];

/// What an advocate records about a call (already checked by the server).
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    /// When the call started, Unix microseconds.
    pub started_at_us: i64,
    /// When it ended, if it has.
    pub ended_at_us: Option<i64>,
    /// Who called (signaler type code).
    pub signaler_type: Option<String>,
    /// The interpreter's language (ISO 639).
    pub interpreter_language: Option<String>,
    /// The interpreting service.
    pub interpreter_vendor: Option<String>,
    /// A warm transfer's target in free text (encrypted).
    pub transfer_target: Option<String>,
    /// A warm transfer's directory service.
    pub transfer_service_id: Option<String>,
}

/// Which calls to list.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Only calls that are not over.
    pub live_only: bool,
    /// Only calls that started at or after this time, Unix microseconds.
    pub since_us: Option<i64>,
    /// At most this many (1 to 500), newest first.
    pub limit: i64,
}

/// Voice calls.
#[async_trait]
pub trait CallStore {
    /// Records a voice webhook event in one transaction: the first event of a `CallSid` opens the call and
    /// its phone contact; later ones move its status forward (never back), set when it was answered and
    /// ended and how long it lasted. Audited only when something changed.
    async fn record_call_event(
        &self,
        ctx: &AuditCtx,
        ev: &NewCallEvent,
    ) -> Result<CallEventReceipt>;

    /// Calls of a hotline, newest first (audited as a read of their callers).
    async fn list_calls(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        filter: &CallFilter,
    ) -> Result<Vec<Call>>;

    /// The call of a contact, if it has one (audited as a read).
    async fn call_of_contact(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        contact_id: &str,
    ) -> Result<Option<Call>>;

    /// Makes an untaken call the advocate's; [`crate::StoreError::Conflict`] on `advocate_id` when another
    /// advocate has it.
    async fn take_call(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        call_id: &str,
        advocate_id: &str,
    ) -> Result<Call>;

    /// Records the advocate's call log on a phone contact, in one transaction with its audit event and the
    /// change to the statistics (the signaler type): the call's times, interpreter and transfer, opening the
    /// call record when the contact has none (a call logged by hand). A contact of another channel is
    /// [`crate::StoreError::Invalid`].
    async fn save_call_log(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        contact_id: &str,
        log: &CallLog,
        advocate_id: &str,
    ) -> Result<Call>;
}

/// What a rate limit said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateDecision {
    /// Whether the request is within the limit.
    pub allowed: bool,
    /// Requests counted in the current window, this one included.
    pub count: i64,
    /// Seconds until the current window ends.
    pub retry_after_s: i64,
}

/// Rate limits shared by every server through the database.
#[async_trait]
pub trait RateLimitStore {
    /// Counts one request of `key_hash` (a keyed hash, never an address) in `bucket`, allowing at most
    /// `max` per fixed window of `window_s` seconds. Windows that ended are forgotten.
    async fn rate_limit_hit(
        &self,
        bucket: &str,
        key_hash: &[u8],
        max: i64,
        window_s: i64,
    ) -> Result<RateDecision>;
}
