//! The web chat in storage: chats and their numbered messages.
//!
//! A chat is one conversation of a help-seeker on the public chat page with the hotline's advocates. Each
//! becomes a contact (channel `webchat`) through the ordinary contact path when it starts, so it joins cases
//! like any other contact; its transcript is its messages, numbered from 1 in the order both sides saw them,
//! their texts encrypted. A state change (an advocate joined, a transfer, the end) is stored with the system
//! message that announces it, in one transaction; every write and every read of a transcript is audited.

use crate::audit::AuditCtx;
use crate::error::Result;
use async_trait::async_trait;
use serde::Serialize;

/// The states of a chat.
pub const CHAT_STATES: &[&str] = &["waiting", "active", "ended"];

/// A chat to open, as the help-seeker's pre-chat step left it.
#[derive(Debug, Clone, Default)]
pub struct NewChat {
    /// Its identifier (the live chat hub's).
    pub id: String,
    /// The hotline it came to.
    pub hotline_id: String,
    /// The language chosen (ISO 639-1).
    pub language: String,
    /// The answer to "Are you in a safe place to chat?": `yes`, `no`, `unsure`.
    pub safe_to_chat: String,
}

/// A chat as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatRecord {
    /// Its identifier.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
    /// Its contact (channel `webchat`).
    pub contact_id: String,
    /// The case its contact belongs to, once linked.
    pub case_id: Option<String>,
    /// The language chosen.
    pub language: String,
    /// `yes`, `no`, `unsure`.
    pub safe_to_chat: String,
    /// `waiting`, `active`, `ended`.
    pub state: String,
    /// The advocate handling it (or who handled it last).
    pub advocate_id: Option<String>,
    /// Started, Unix microseconds.
    pub created_at_us: i64,
    /// Last change, Unix microseconds.
    pub updated_at_us: i64,
    /// Ended, Unix microseconds.
    pub ended_at_us: Option<i64>,
}

/// A change of a chat's state stored with a message.
#[derive(Debug, Clone, Default)]
pub struct ChatStateChange {
    /// `waiting`, `active` or `ended`.
    pub state: String,
    /// The advocate now handling it (kept as it was when `None`).
    pub advocate_id: Option<String>,
}

/// A message to store.
#[derive(Debug, Clone, Default)]
pub struct NewChatMessage {
    /// Its chat.
    pub chat_id: String,
    /// Its number in the chat (1, 2, …; each number once).
    pub seq: i64,
    /// `seeker`, `advocate` or `system`.
    pub author: String,
    /// The advocate who wrote it.
    pub author_id: Option<String>,
    /// The text (encrypted at rest).
    pub text: String,
    /// A change of state that comes with it (a system message announcing a join, a transfer, the end).
    pub change: Option<ChatStateChange>,
}

/// A stored message, decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredChatMessage {
    /// Its number in the chat.
    pub seq: i64,
    /// `seeker`, `advocate` or `system`.
    pub author: String,
    /// The advocate who wrote it.
    pub author_id: Option<String>,
    /// The text.
    pub text: String,
    /// Stored, Unix microseconds.
    pub created_at_us: i64,
}

/// A chat with its messages in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatTranscript {
    /// The chat.
    pub chat: ChatRecord,
    /// Its messages, by number.
    pub messages: Vec<StoredChatMessage>,
}

/// The web chat.
#[async_trait]
pub trait ChatStore {
    /// Opens a chat and its contact (channel `webchat`, `safe_to_talk` from the answer), waiting for an
    /// advocate, with one audit event.
    async fn open_chat(&self, ctx: &AuditCtx, new: &NewChat) -> Result<ChatRecord>;

    /// Stores one message of a chat (and the state change that comes with it), audited. A number already
    /// stored is refused with a conflict naming `seq`.
    async fn add_chat_message(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        msg: &NewChatMessage,
    ) -> Result<()>;

    /// A chat with its transcript (audited as a read).
    async fn chat_transcript(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        id: &str,
    ) -> Result<ChatTranscript>;

    /// The chats of a hotline, newest first: in one state, or every chat not ended when `state` is `None`.
    async fn list_chats(
        &self,
        ctx: &AuditCtx,
        hotline_id: &str,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ChatRecord>>;
}
