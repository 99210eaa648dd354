//! The SMS line in storage: conversations, their messages, and each sender's opt-out state.
//!
//! A conversation is one exchange between a sender and one hotline number, from the first message an
//! advocate should see until an advocate closes it; each becomes a contact (channel `sms`) through the
//! ordinary contact path, so it joins cases like any other contact. The sender's number is encrypted with a
//! keyed blind index for lookups; message bodies are encrypted.
//!
//! The opt-out state is kept per (hotline, hotline number, sender). Every inbound message is decided under
//! a lock on that state's row, so two messages of one sender are never decided on the same stale state,
//! and every outbound message is registered only after reading the state in the same transaction: an
//! opted-out number gets [`SendStart::OptedOut`] instead of a message to send, whoever asks.

use crate::audit::AuditCtx;
use crate::error::Result;
use async_trait::async_trait;
use serde::Serialize;

/// An inbound text message, as the webhook received it (already validated).
#[derive(Debug, Clone, Default)]
pub struct NewInboundSms {
    /// The hotline the receiving number belongs to.
    pub hotline_id: String,
    /// The hotline's number that received it (E.164).
    pub hotline_number: String,
    /// The sender's number (E.164; encrypted at rest).
    pub sender: String,
    /// The provider's message identifier, used to ignore redeliveries.
    pub provider_id: String,
    /// The text (encrypted at rest).
    pub body: String,
    /// How many media attachments came with it.
    pub num_media: i64,
}

/// What to do with an inbound message, decided from the sender's opt-out state at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundPlan {
    /// Whether the sender is opted out after this message.
    pub opted_out: bool,
    /// Whether the message opens (or joins) a conversation for an advocate.
    pub open_conversation: bool,
    /// What the message was: `message`, `opt_out`, `opt_in`, `help`, `befree`.
    pub kind: String,
    /// The automatic reply to answer with, if any.
    pub auto_reply: Option<String>,
    /// The language of the message, when the keyword tells (ISO 639-1), for a new contact.
    pub language: Option<String>,
}

/// Decides an inbound message from whether the sender is opted out now.
pub type InboundDecider<'a> = &'a (dyn Fn(bool) -> InboundPlan + Send + Sync);

/// What storing an inbound message did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundReceipt {
    /// The message had been received before (a redelivery): nothing was changed and nothing is to be sent.
    pub duplicate: bool,
    /// Whether the sender was opted out before this message.
    pub was_opted_out: bool,
    /// The plan applied (for a duplicate, a plan with no reply).
    pub plan: InboundPlan,
    /// The conversation the message joined or opened, if any.
    pub conversation_id: Option<String>,
    /// That conversation's contact.
    pub contact_id: Option<String>,
}

/// A conversation, with its sender decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsConversation {
    /// Its id.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
    /// The hotline's number.
    pub hotline_number: String,
    /// The sender's number.
    pub sender: String,
    /// `waiting` (nobody answered yet), `open`, `closed`.
    pub status: String,
    /// Its contact.
    pub contact_id: String,
    /// The case its contact belongs to, once linked.
    pub case_id: Option<String>,
    /// The advocate who answered it.
    pub assignee_id: Option<String>,
    /// Whether the sender is opted out of this hotline number now: nothing can be sent.
    pub opted_out: bool,
    /// The newest message, Unix microseconds.
    pub last_message_at_us: i64,
    /// Opened, Unix microseconds.
    pub created_at_us: i64,
}

/// One message of a conversation, decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsMessage {
    /// Its id.
    pub id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `message`, `opt_out`, `opt_in`, `help`, `befree` (inbound); `auto_reply`, `reply` (outbound).
    pub kind: String,
    /// The text.
    pub body: String,
    /// Media attachments (inbound).
    pub num_media: i64,
    /// The provider's identifier.
    pub provider_id: Option<String>,
    /// Delivery state: `received`, `twiml`, `pending` (handed to the provider), `accepted`, `queued`, `sending`, `sent`, `delivered`,
    /// `undelivered`, `failed`.
    pub status: String,
    /// The provider's error code, when delivery failed.
    pub error_code: Option<i64>,
    /// The advocate who wrote it.
    pub sent_by: Option<String>,
    /// Created, Unix microseconds.
    pub created_at_us: i64,
    /// Last change of its state.
    pub updated_at_us: i64,
}

/// A conversation with its messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsThread {
    /// The conversation.
    pub conversation: SmsConversation,
    /// Its messages.
    pub messages: Vec<SmsMessage>,
}

/// Which conversations to list.
#[derive(Debug, Clone, Default)]
pub struct SmsConversationFilter {
    /// Only in this status (`waiting`, `open`, `closed`); all but closed when `None`.
    pub status: Option<String>,
    /// At most this many, oldest activity first for the queue.
    pub limit: i64,
}

/// A message registered for sending: what the provider needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSms {
    /// The stored message.
    pub message_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// The recipient.
    pub to: String,
    /// The hotline number it goes from.
    pub from: String,
    /// The text.
    pub body: String,
}

/// The answer to a request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendStart {
    /// Registered with status `pending`: hand it to the provider, then record the outcome.
    Ready(OutboundSms),
    /// The recipient is opted out: nothing was registered and nothing may be sent.
    OptedOut,
}

/// What the provider said about a message handed to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted, with the provider's identifier.
    Accepted(String),
    /// Refused or unreachable; the error code when the provider gave one.
    Failed(Option<i64>),
}

/// The SMS line.
#[async_trait]
pub trait SmsStore {
    /// Stores an inbound message in one transaction: reads and locks the sender's opt-out state, asks
    /// `decide` what to do, stores the new state, opens a conversation (and its contact) when the plan says
    /// so and none is active, records the message and any automatic reply in it, with one audit event.
    async fn receive_sms(
        &self,
        ctx: &AuditCtx,
        msg: &NewInboundSms,
        decide: InboundDecider<'_>,
    ) -> Result<InboundReceipt>;

    /// Whether `sender` is opted out of `hotline_number` (no audit: it reveals nothing personal).
    async fn sms_opted_out(
        &self,
        hotline_id: &str,
        hotline_number: &str,
        sender: &str,
    ) -> Result<bool>;

    /// Conversations of a hotline, oldest activity first (audited as a read of their senders).
    async fn list_sms_conversations(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        filter: &SmsConversationFilter,
    ) -> Result<Vec<SmsConversation>>;

    /// A conversation with its messages (audited as a read).
    async fn sms_thread(&self, ctx: &AuditCtx, hotline_id: &str, id: &str) -> Result<SmsThread>;

    /// Moves a conversation to `waiting`, `open` or `closed`; opening assigns it to `assignee_id`.
    async fn set_sms_status(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
        status: &str,
        assignee_id: Option<&str>,
    ) -> Result<()>;

    /// Registers an advocate's reply for sending, unless the recipient is opted out; a waiting
    /// conversation becomes open and assigned to the advocate.
    async fn start_sms_reply(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        conversation_id: &str,
        body: &str,
        sent_by: &str,
    ) -> Result<SendStart>;

    /// Registers a failed outbound message for another attempt, unless the recipient is now opted out.
    async fn start_sms_retry(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        message_id: &str,
    ) -> Result<SendStart>;

    /// Records what the provider said about a message registered by `start_sms_reply` or `start_sms_retry`.
    async fn finish_sms_send(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        message_id: &str,
        outcome: &SendOutcome,
    ) -> Result<()>;

    /// Applies a delivery status callback to the outbound message with this provider identifier; a final
    /// state (`delivered`, `undelivered`, `failed`) is never replaced by an earlier one. Returns the
    /// message's (hotline, conversation) when it is one of ours.
    async fn sms_delivery_status(
        &self,
        ctx: &AuditCtx,
        provider_id: &str,
        status: &str,
        error_code: Option<i64>,
    ) -> Result<Option<(String, String)>>;

    /// Records that the conversation's sender is opted out because the carrier said so (they texted STOP
    /// to the carrier, not to us: Twilio's error 21610), as if they had texted STOP.
    async fn mark_sms_opted_out(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        conversation_id: &str,
    ) -> Result<()>;
}
