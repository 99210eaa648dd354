//! Web chat state without sockets: per-hotline queues with positions, help-seeker sessions with a resume
//! token, advocates with a capacity limit, accept-next, transfer, end; messages numbered per conversation so
//! a reconnecting client asks for everything after sequence number N; and the WebSocket frames as strictly
//! parsed serde enums.
//!
//! The [`ChatHub`] is plain data behind `&mut self`: the server keeps one per process behind a lock (or
//! rebuilds it from storage) and pushes the [`ServerMessage`]s the operations return to the right sockets.

use std::collections::{HashMap, VecDeque};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keywords::Lang;

/// The largest chat message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// The largest WebSocket frame accepted, in bytes.
pub const MAX_FRAME_BYTES: usize = 32 * 1024;

/// A hotline, by its identifier in storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HotlineId(pub Uuid);

/// An advocate (or supervisor) account, by its identifier in storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AdvocateId(pub Uuid);

/// One web chat conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatId(pub Uuid);

/// The secret a help-seeker's page holds (in memory only) to resume its chat after a reconnect.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResumeToken(String);

impl ResumeToken {
    fn generate() -> ResumeToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        ResumeToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The token's text, to hand to the page.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResumeToken([redacted])")
    }
}

/// The help-seeker's answer to "Are you in a safe place to chat?" (the codes of `safe_to_talk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafeToChat {
    /// Yes.
    Yes,
    /// No.
    No,
    /// Not sure.
    Unsure,
}

/// Whether an advocate account may take transfers meant for a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// An advocate.
    Advocate,
    /// A supervisor.
    Supervisor,
}

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    /// The help-seeker.
    Seeker,
    /// An advocate.
    Advocate {
        /// Which one.
        id: AdvocateId,
    },
    /// The system (joins, transfers, end).
    System,
}

/// One message of a conversation; `seq` starts at 1 and increases by one per message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Position in the conversation.
    pub seq: u64,
    /// Who wrote it.
    pub author: Author,
    /// The text.
    pub text: String,
}

/// Where a chat stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChatStatus {
    /// Waiting in the hotline's queue.
    Waiting,
    /// With an advocate.
    Active {
        /// The advocate handling it.
        advocate: AdvocateId,
    },
    /// Over.
    Ended,
}

/// A web chat conversation.
#[derive(Debug, Clone)]
pub struct Chat {
    /// Its identifier.
    pub id: ChatId,
    /// The hotline it came to.
    pub hotline: HotlineId,
    /// The language chosen before the chat.
    pub language: Lang,
    /// The answer to the safety question.
    pub safe_to_chat: SafeToChat,
    /// Where it stands.
    pub status: ChatStatus,
    resume_token: ResumeToken,
    messages: Vec<ChatMessage>,
}

impl Chat {
    /// The whole transcript, in order.
    pub fn transcript(&self) -> &[ChatMessage] {
        &self.messages
    }
}

#[derive(Debug, Clone)]
struct Staff {
    role: StaffRole,
    capacity: usize,
    active: Vec<ChatId>,
}

/// Why a chat operation was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// No chat with that identifier or token.
    #[error("no such chat")]
    UnknownChat,
    /// The advocate is not signed in to chat.
    #[error("the advocate is not available for chat")]
    UnknownAdvocate,
    /// The advocate already has as many chats as allowed.
    #[error("the advocate already has {0} chats, the limit")]
    AtCapacity(usize),
    /// Nobody is waiting.
    #[error("nobody is waiting")]
    QueueEmpty,
    /// The chat is over.
    #[error("the chat has ended")]
    Ended,
    /// The chat is not (or no longer) this advocate's.
    #[error("the chat is not assigned to this advocate")]
    NotYours,
    /// The chat is still waiting for an advocate.
    #[error("the chat is waiting for an advocate")]
    StillWaiting,
    /// The transfer target is not a supervisor.
    #[error("the transfer target is not a supervisor")]
    NotASupervisor,
    /// The message is empty or too long.
    #[error("the field `text` must have 1 to {MAX_MESSAGE_CHARS} characters")]
    BadText,
}

/// All web chats of a process: queues, chats and advocates.
#[derive(Debug, Default)]
pub struct ChatHub {
    queues: HashMap<HotlineId, VecDeque<ChatId>>,
    chats: HashMap<ChatId, Chat>,
    tokens: HashMap<ResumeToken, ChatId>,
    staff: HashMap<AdvocateId, Staff>,
}

impl ChatHub {
    /// An empty hub.
    pub fn new() -> ChatHub {
        ChatHub::default()
    }

    /// A help-seeker finished the pre-chat step: the chat joins the end of the hotline's queue. Returns its
    /// identifier, the resume token for the page, and its 1-based queue position.
    pub fn start(
        &mut self,
        hotline: HotlineId,
        language: Lang,
        safe_to_chat: SafeToChat,
    ) -> (ChatId, ResumeToken, usize) {
        let id = ChatId(Uuid::new_v4());
        let token = ResumeToken::generate();
        self.chats.insert(
            id,
            Chat {
                id,
                hotline,
                language,
                safe_to_chat,
                status: ChatStatus::Waiting,
                resume_token: token.clone(),
                messages: Vec::new(),
            },
        );
        self.tokens.insert(token.clone(), id);
        let queue = self.queues.entry(hotline).or_default();
        queue.push_back(id);
        (id, token, queue.len())
    }

    /// The chat a resume token belongs to (a reconnecting page), if it has not ended.
    pub fn resume(&self, token: &str) -> Result<&Chat, ChatError> {
        let id = self
            .tokens
            .get(&ResumeToken(token.to_owned()))
            .ok_or(ChatError::UnknownChat)?;
        let chat = self.chats.get(id).ok_or(ChatError::UnknownChat)?;
        if chat.status == ChatStatus::Ended {
            return Err(ChatError::Ended);
        }
        Ok(chat)
    }

    /// A chat by identifier.
    pub fn chat(&self, id: ChatId) -> Option<&Chat> {
        self.chats.get(&id)
    }

    /// The chat's 1-based position in its queue, or `None` if it is not waiting.
    pub fn position(&self, id: ChatId) -> Option<usize> {
        let chat = self.chats.get(&id)?;
        self.queues
            .get(&chat.hotline)?
            .iter()
            .position(|c| *c == id)
            .map(|p| p + 1)
    }

    /// The chats waiting at a hotline, longest-waiting first (position 1 first).
    pub fn queue(&self, hotline: HotlineId) -> impl Iterator<Item = ChatId> + '_ {
        self.queues.get(&hotline).into_iter().flatten().copied()
    }

    /// How many chats wait at a hotline.
    pub fn waiting(&self, hotline: HotlineId) -> usize {
        self.queues.get(&hotline).map_or(0, VecDeque::len)
    }

    /// An advocate signs in to chat with a limit on simultaneous chats (at least 1). Signing in again
    /// updates the role and limit and keeps the current chats.
    pub fn sign_in(&mut self, advocate: AdvocateId, role: StaffRole, capacity: usize) {
        let capacity = capacity.max(1);
        self.staff
            .entry(advocate)
            .and_modify(|s| {
                s.role = role;
                s.capacity = capacity;
            })
            .or_insert(Staff {
                role,
                capacity,
                active: Vec::new(),
            });
    }

    /// The chats an advocate is handling.
    pub fn active_chats(&self, advocate: AdvocateId) -> Result<&[ChatId], ChatError> {
        Ok(&self
            .staff
            .get(&advocate)
            .ok_or(ChatError::UnknownAdvocate)?
            .active)
    }

    /// The advocate takes the longest-waiting chat of the hotline, if under their limit.
    pub fn accept_next(
        &mut self,
        advocate: AdvocateId,
        hotline: HotlineId,
    ) -> Result<ChatId, ChatError> {
        let staff = self
            .staff
            .get(&advocate)
            .ok_or(ChatError::UnknownAdvocate)?;
        if staff.active.len() >= staff.capacity {
            return Err(ChatError::AtCapacity(staff.capacity));
        }
        let id = self
            .queues
            .get_mut(&hotline)
            .and_then(VecDeque::pop_front)
            .ok_or(ChatError::QueueEmpty)?;
        self.assign(id, advocate);
        Ok(id)
    }

    fn assign(&mut self, id: ChatId, advocate: AdvocateId) {
        if let Some(s) = self.staff.get_mut(&advocate) {
            s.active.push(id);
        }
        if let Some(chat) = self.chats.get_mut(&id) {
            chat.status = ChatStatus::Active { advocate };
            push(chat, Author::System, "advocate_joined".to_owned());
        }
    }

    fn owned(&self, id: ChatId, advocate: AdvocateId) -> Result<&Chat, ChatError> {
        let chat = self.chats.get(&id).ok_or(ChatError::UnknownChat)?;
        match chat.status {
            ChatStatus::Active { advocate: a } if a == advocate => Ok(chat),
            ChatStatus::Ended => Err(ChatError::Ended),
            _ => Err(ChatError::NotYours),
        }
    }

    /// Moves an active chat from one advocate to another (or, with `to_supervisor`, only to a supervisor),
    /// if the target is under their limit.
    pub fn transfer(
        &mut self,
        id: ChatId,
        from: AdvocateId,
        to: AdvocateId,
        to_supervisor: bool,
    ) -> Result<(), ChatError> {
        self.owned(id, from)?;
        let target = self.staff.get(&to).ok_or(ChatError::UnknownAdvocate)?;
        if to_supervisor && target.role != StaffRole::Supervisor {
            return Err(ChatError::NotASupervisor);
        }
        if target.active.len() >= target.capacity {
            return Err(ChatError::AtCapacity(target.capacity));
        }
        if let Some(s) = self.staff.get_mut(&from) {
            s.active.retain(|c| *c != id);
        }
        if let Some(chat) = self.chats.get_mut(&id) {
            push(chat, Author::System, "transferred".to_owned());
        }
        self.assign(id, to);
        Ok(())
    }

    /// Ends a chat: by its advocate (`Some`) or by the help-seeker (`None`). A waiting chat leaves the queue.
    pub fn end(&mut self, id: ChatId, by: Option<AdvocateId>) -> Result<(), ChatError> {
        let chat = self.chats.get(&id).ok_or(ChatError::UnknownChat)?;
        match (chat.status, by) {
            (ChatStatus::Ended, _) => return Err(ChatError::Ended),
            (ChatStatus::Active { advocate }, Some(by)) if advocate != by => {
                return Err(ChatError::NotYours);
            }
            (ChatStatus::Waiting, Some(_)) => return Err(ChatError::StillWaiting),
            _ => {}
        }
        let hotline = chat.hotline;
        if let Some(q) = self.queues.get_mut(&hotline) {
            q.retain(|c| *c != id);
        }
        for s in self.staff.values_mut() {
            s.active.retain(|c| *c != id);
        }
        let chat = self.chats.get_mut(&id).ok_or(ChatError::UnknownChat)?;
        chat.status = ChatStatus::Ended;
        push(chat, Author::System, "ended".to_owned());
        Ok(())
    }

    /// Ends a chat whose help-seeker's page lost its connection and did not come back in time: a
    /// `connection_lost` message, then the end, as if the help-seeker had ended it.
    pub fn end_lost(&mut self, id: ChatId) -> Result<(), ChatError> {
        let chat = self.chats.get_mut(&id).ok_or(ChatError::UnknownChat)?;
        if chat.status == ChatStatus::Ended {
            return Err(ChatError::Ended);
        }
        push(chat, Author::System, "connection_lost".to_owned());
        self.end(id, None)
    }

    /// Adds a help-seeker's message (allowed while waiting, so nothing they write is lost). Returns its
    /// sequence number.
    pub fn post_from_seeker(&mut self, id: ChatId, text: &str) -> Result<u64, ChatError> {
        let text = check_text(text)?;
        let chat = self.chats.get_mut(&id).ok_or(ChatError::UnknownChat)?;
        if chat.status == ChatStatus::Ended {
            return Err(ChatError::Ended);
        }
        Ok(push(chat, Author::Seeker, text))
    }

    /// Adds an advocate's message to a chat assigned to them. Returns its sequence number.
    pub fn post_from_advocate(
        &mut self,
        id: ChatId,
        advocate: AdvocateId,
        text: &str,
    ) -> Result<u64, ChatError> {
        let text = check_text(text)?;
        self.owned(id, advocate)?;
        let chat = self.chats.get_mut(&id).ok_or(ChatError::UnknownChat)?;
        Ok(push(chat, Author::Advocate { id: advocate }, text))
    }

    /// Every message after sequence number `after` (0 for all), in order: what a reconnecting client asks for.
    pub fn messages_after(&self, id: ChatId, after: u64) -> Result<&[ChatMessage], ChatError> {
        let chat = self.chats.get(&id).ok_or(ChatError::UnknownChat)?;
        // seq n is at index n - 1.
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(chat.messages.len());
        Ok(&chat.messages[start..])
    }

    /// Forgets an ended chat (after the server has stored its transcript).
    pub fn remove_ended(&mut self, id: ChatId) -> Option<Chat> {
        if self.chats.get(&id)?.status != ChatStatus::Ended {
            return None;
        }
        let chat = self.chats.remove(&id)?;
        self.tokens.remove(&chat.resume_token);
        Some(chat)
    }
}

fn check_text(text: &str) -> Result<String, ChatError> {
    let trimmed = text.trim();
    let n = trimmed.chars().count();
    if n == 0 || n > MAX_MESSAGE_CHARS {
        return Err(ChatError::BadText);
    }
    Ok(trimmed.to_owned())
}

fn push(chat: &mut Chat, author: Author, text: String) -> u64 {
    let seq = chat.messages.len() as u64 + 1;
    chat.messages.push(ChatMessage { seq, author, text });
    seq
}

/// A frame a help-seeker's page sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SeekerFrame {
    /// Starts a chat after the pre-chat step.
    Start {
        /// Chosen language.
        language: Lang,
        /// Answer to the safety question.
        safe_to_chat: SafeToChat,
    },
    /// Resumes a chat after a reconnect and asks for the messages after `after_seq`.
    Resume {
        /// The resume token given at start.
        token: String,
        /// The last sequence number the page has.
        after_seq: u64,
    },
    /// A message.
    Send {
        /// Its text.
        text: String,
    },
    /// The help-seeker ends the chat.
    End,
}

/// A frame an advocate's console sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdvocateFrame {
    /// Take the next waiting chat.
    AcceptNext,
    /// A message in one of the advocate's chats.
    Send {
        /// Which chat.
        chat: ChatId,
        /// Its text.
        text: String,
    },
    /// Hand a chat to another advocate or a supervisor.
    Transfer {
        /// Which chat.
        chat: ChatId,
        /// To whom.
        to: AdvocateId,
        /// Whether the target must be a supervisor.
        #[serde(default)]
        supervisor: bool,
    },
    /// End a chat.
    End {
        /// Which chat.
        chat: ChatId,
    },
    /// Ask for a chat's messages after a sequence number (after a reconnect).
    Sync {
        /// Which chat.
        chat: ChatId,
        /// The last sequence number the console has.
        after_seq: u64,
    },
}

/// A frame the server sends to a page or console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerFrame {
    /// The chat was started or resumed.
    Started {
        /// The chat.
        chat: ChatId,
        /// The token to resume with (sent only to the help-seeker).
        token: String,
    },
    /// The chat's place in the queue.
    Queued {
        /// The chat.
        chat: ChatId,
        /// 1-based position.
        position: usize,
    },
    /// An advocate took the chat.
    Accepted {
        /// The chat.
        chat: ChatId,
    },
    /// A message.
    Message {
        /// The chat.
        chat: ChatId,
        /// The message.
        message: ChatMessage,
    },
    /// The chat was transferred.
    Transferred {
        /// The chat.
        chat: ChatId,
        /// The new advocate.
        to: AdvocateId,
    },
    /// The chat ended.
    Ended {
        /// The chat.
        chat: ChatId,
    },
    /// A chat is now the receiving advocate's (accepted or transferred to them): what the console shows.
    Assigned {
        /// The chat.
        chat: ChatId,
        /// The language chosen before the chat.
        language: Lang,
        /// The answer to the safety question.
        safe_to_chat: SafeToChat,
        /// The chat's contact in storage, to link it to a case.
        contact: String,
    },
    /// Whether the help-seeker's page is connected now (to the chat's advocate): `false` when it lost its
    /// connection (the chat waits for it to come back for a while), `true` when it is back.
    Presence {
        /// The chat.
        chat: ChatId,
        /// Connected now.
        connected: bool,
    },
    /// How many chats wait at the advocate's hotline.
    Waiting {
        /// The count.
        count: usize,
    },
    /// A frame was refused.
    Error {
        /// A stable code (`not_json`, `unknown_type`, `invalid`, `too_large`, or a chat error).
        code: String,
        /// A readable explanation.
        detail: String,
    },
}

/// Why a WebSocket frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Larger than [`MAX_FRAME_BYTES`].
    #[error("the frame is larger than {MAX_FRAME_BYTES} bytes")]
    TooLarge,
    /// Not JSON at all.
    #[error("the frame is not JSON")]
    NotJson,
    /// JSON without a string `type`.
    #[error("the frame has no `type`")]
    MissingType,
    /// A `type` this endpoint does not know.
    #[error("unknown frame type `{0}`")]
    UnknownType(String),
    /// A known type with missing, extra or malformed fields.
    #[error("invalid `{kind}` frame: {detail}")]
    Invalid {
        /// The frame's type.
        kind: String,
        /// What is wrong (serde's message, naming the field).
        detail: String,
    },
}

impl FrameError {
    /// The stable code to put in a [`ServerFrame::Error`].
    pub fn code(&self) -> &'static str {
        match self {
            FrameError::TooLarge => "too_large",
            FrameError::NotJson => "not_json",
            FrameError::MissingType => "missing_type",
            FrameError::UnknownType(_) => "unknown_type",
            FrameError::Invalid { .. } => "invalid",
        }
    }
}

fn parse_frame<T: serde::de::DeserializeOwned>(
    frame: &str,
    known: &[&str],
) -> Result<T, FrameError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge);
    }
    let value: serde_json::Value = serde_json::from_str(frame).map_err(|_| FrameError::NotJson)?;
    let kind = value
        .get("type")
        .and_then(serde_json::Value::as_str)
        .ok_or(FrameError::MissingType)?
        .to_owned();
    if !known.contains(&kind.as_str()) {
        return Err(FrameError::UnknownType(kind));
    }
    serde_json::from_value(value).map_err(|e| FrameError::Invalid {
        kind,
        detail: e.to_string(),
    })
}

/// Parses a help-seeker's frame strictly.
pub fn parse_seeker_frame(frame: &str) -> Result<SeekerFrame, FrameError> {
    parse_frame(frame, &["start", "resume", "send", "end"])
}

/// Parses an advocate's frame strictly.
pub fn parse_advocate_frame(frame: &str) -> Result<AdvocateFrame, FrameError> {
    parse_frame(frame, &["accept_next", "send", "transfer", "end", "sync"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    fn hotline() -> HotlineId {
        HotlineId(Uuid::from_u128(1))
    }
    fn adv(n: u128) -> AdvocateId {
        AdvocateId(Uuid::from_u128(100 + n))
    }

    #[test]
    fn chats_queue_in_order_and_positions_move_up_when_one_is_accepted() {
        let mut hub = ChatHub::new();
        let (a, _, pa) = hub.start(hotline(), Lang::En, SafeToChat::Yes);
        let (b, _, pb) = hub.start(hotline(), Lang::Es, SafeToChat::Unsure);
        assert_eq!((pa, pb), (1, 2));
        hub.sign_in(adv(1), StaffRole::Advocate, 2);
        assert_eq!(hub.accept_next(adv(1), hotline()), Ok(a));
        assert_eq!(hub.position(b), Some(1));
        assert_eq!(hub.position(a), None);
        assert_eq!(hub.waiting(hotline()), 1);
        assert_eq!(hub.queue(hotline()).collect::<Vec<_>>(), vec![b]);
    }

    #[test]
    fn an_advocate_takes_several_chats_up_to_the_limit() {
        let mut hub = ChatHub::new();
        for _ in 0..3 {
            hub.start(hotline(), Lang::En, SafeToChat::Yes);
        }
        hub.sign_in(adv(1), StaffRole::Advocate, 2);
        hub.accept_next(adv(1), hotline()).unwrap();
        hub.accept_next(adv(1), hotline()).unwrap();
        assert_eq!(
            hub.accept_next(adv(1), hotline()),
            Err(ChatError::AtCapacity(2))
        );
        assert_eq!(hub.waiting(hotline()), 1);
        assert_eq!(hub.active_chats(adv(1)).unwrap().len(), 2);
    }

    #[rstest]
    #[case::empty_queue(false, ChatError::QueueEmpty)]
    #[case::unknown_advocate(true, ChatError::UnknownAdvocate)]
    fn accept_next_refuses_clearly(
        #[case] with_chat_no_advocate: bool,
        #[case] expected: ChatError,
    ) {
        let mut hub = ChatHub::new();
        if with_chat_no_advocate {
            hub.start(hotline(), Lang::En, SafeToChat::Yes);
        } else {
            hub.sign_in(adv(1), StaffRole::Advocate, 1);
        }
        assert_eq!(hub.accept_next(adv(1), hotline()), Err(expected));
    }

    fn active_chat() -> (ChatHub, ChatId, ResumeToken) {
        let mut hub = ChatHub::new();
        let (id, token, _) = hub.start(hotline(), Lang::En, SafeToChat::Yes);
        hub.sign_in(adv(1), StaffRole::Advocate, 1);
        hub.sign_in(adv(2), StaffRole::Advocate, 1);
        hub.sign_in(adv(3), StaffRole::Supervisor, 5);
        hub.accept_next(adv(1), hotline()).unwrap();
        (hub, id, token)
    }

    #[rstest]
    #[case::to_advocate(2, false, Ok(()))]
    #[case::to_supervisor(3, true, Ok(()))]
    #[case::supervisor_required(2, true, Err(ChatError::NotASupervisor))]
    #[case::unknown_target(9, false, Err(ChatError::UnknownAdvocate))]
    fn a_chat_is_transferred_only_where_it_may_go(
        #[case] to: u128,
        #[case] sup: bool,
        #[case] expected: Result<(), ChatError>,
    ) {
        let (mut hub, id, _) = active_chat();
        assert_eq!(hub.transfer(id, adv(1), adv(to), sup), expected);
        let owner = if expected.is_ok() { adv(to) } else { adv(1) };
        assert_eq!(
            hub.chat(id).unwrap().status,
            ChatStatus::Active { advocate: owner }
        );
        assert!(hub.post_from_advocate(id, owner, "hello").is_ok());
    }

    #[test]
    fn a_transfer_to_an_advocate_at_capacity_is_refused() {
        let (mut hub, id, _) = active_chat();
        hub.start(hotline(), Lang::En, SafeToChat::Yes);
        hub.accept_next(adv(2), hotline()).unwrap();
        assert_eq!(
            hub.transfer(id, adv(1), adv(2), false),
            Err(ChatError::AtCapacity(1))
        );
    }

    #[test]
    fn only_the_assigned_advocate_writes_or_ends_and_an_ended_chat_takes_nothing() {
        let (mut hub, id, token) = active_chat();
        assert_eq!(
            hub.post_from_advocate(id, adv(2), "x"),
            Err(ChatError::NotYours)
        );
        assert_eq!(hub.end(id, Some(adv(2))), Err(ChatError::NotYours));
        hub.end(id, Some(adv(1))).unwrap();
        assert_eq!(hub.post_from_seeker(id, "x"), Err(ChatError::Ended));
        assert_eq!(hub.resume(token.as_str()).err(), Some(ChatError::Ended));
        assert!(hub.active_chats(adv(1)).unwrap().is_empty());
    }

    #[test]
    fn a_chat_whose_seeker_is_lost_ends_with_a_note_and_frees_the_advocate() {
        let (mut hub, id, _) = active_chat();
        let before = hub.messages_after(id, 0).unwrap().len();
        hub.end_lost(id).unwrap();
        let texts: Vec<&str> = hub.messages_after(id, 0).unwrap()[before..]
            .iter()
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(texts, ["connection_lost", "ended"]);
        assert_eq!(hub.chat(id).unwrap().status, ChatStatus::Ended);
        assert!(hub.active_chats(adv(1)).unwrap().is_empty());
        assert_eq!(hub.end_lost(id), Err(ChatError::Ended));
        assert_eq!(
            hub.end_lost(ChatId(Uuid::nil())),
            Err(ChatError::UnknownChat)
        );
    }

    #[test]
    fn a_lost_chat_still_waiting_leaves_the_queue() {
        let mut hub = ChatHub::new();
        let (a, _, _) = hub.start(hotline(), Lang::En, SafeToChat::Yes);
        let (b, _, _) = hub.start(hotline(), Lang::En, SafeToChat::Yes);
        hub.end_lost(a).unwrap();
        assert_eq!(hub.queue(hotline()).collect::<Vec<_>>(), vec![b]);
        assert_eq!(hub.position(b), Some(1));
    }

    #[test]
    fn a_seeker_who_leaves_the_queue_is_removed_from_it() {
        let mut hub = ChatHub::new();
        let (id, _, _) = hub.start(hotline(), Lang::En, SafeToChat::No);
        hub.end(id, None).unwrap();
        assert_eq!(hub.waiting(hotline()), 0);
        assert!(hub.remove_ended(id).is_some());
    }

    #[rstest]
    #[case::empty("   ")]
    #[case::too_long(&"a".repeat(MAX_MESSAGE_CHARS + 1))]
    fn a_bad_message_is_refused(#[case] text: &str) {
        let (mut hub, id, _) = active_chat();
        assert_eq!(hub.post_from_seeker(id, text), Err(ChatError::BadText));
    }

    #[test]
    fn a_reconnect_resumes_and_gets_everything_after_its_last_sequence_number() {
        let (mut hub, id, token) = active_chat();
        hub.post_from_seeker(id, "one").unwrap();
        let seen = hub.post_from_advocate(id, adv(1), "two").unwrap();
        hub.post_from_seeker(id, "three").unwrap();
        let resumed = hub.resume(token.as_str()).unwrap();
        assert_eq!(resumed.id, id);
        let missed: Vec<&str> = hub
            .messages_after(id, seen)
            .unwrap()
            .iter()
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(missed, vec!["three"]);
        assert!(hub.resume("not-a-token").is_err());
    }

    proptest! {
        #[test]
        fn messages_after_n_are_exactly_the_later_ones_in_order(count in 0usize..40, after in 0u64..50) {
            let (mut hub, id, _) = active_chat();
            for i in 0..count {
                if i % 2 == 0 { hub.post_from_seeker(id, &format!("m{i}")).unwrap(); }
                else { hub.post_from_advocate(id, adv(1), &format!("m{i}")).unwrap(); }
            }
            let all = hub.messages_after(id, 0).unwrap().to_vec();
            for (i, m) in all.iter().enumerate() { prop_assert_eq!(m.seq, i as u64 + 1); }
            let later = hub.messages_after(id, after).unwrap();
            let expected: Vec<_> = all.iter().filter(|m| m.seq > after).cloned().collect();
            prop_assert_eq!(later, expected.as_slice());
        }
    }

    #[rstest]
    #[case::start(r#"{"type":"start","language":"es","safe_to_chat":"unsure"}"#, Ok(SeekerFrame::Start { language: Lang::Es, safe_to_chat: SafeToChat::Unsure }))]
    #[case::send(r#"{"type":"send","text":"hola"}"#, Ok(SeekerFrame::Send { text: "hola".into() }))]
    #[case::end(r#"{"type":"end"}"#, Ok(SeekerFrame::End))]
    #[case::not_json("hello", Err(FrameError::NotJson))]
    #[case::no_type(r#"{"text":"x"}"#, Err(FrameError::MissingType))]
    #[case::unknown(r#"{"type":"accept_next"}"#, Err(FrameError::UnknownType("accept_next".into())))]
    fn seeker_frames_are_parsed_strictly(
        #[case] frame: &str,
        #[case] expected: Result<SeekerFrame, FrameError>,
    ) {
        assert_eq!(parse_seeker_frame(frame), expected);
    }

    #[rstest]
    #[case::extra_field(r#"{"type":"send","text":"x","admin":true}"#, "admin")]
    #[case::missing_field(r#"{"type":"resume","token":"t"}"#, "after_seq")]
    #[case::bad_language(r#"{"type":"start","language":"fr","safe_to_chat":"yes"}"#, "fr")]
    fn an_invalid_frame_names_the_field(#[case] frame: &str, #[case] field: &str) {
        match parse_seeker_frame(frame) {
            Err(FrameError::Invalid { detail, .. }) => assert!(detail.contains(field), "{detail}"),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn an_oversize_frame_is_refused_before_parsing() {
        let frame = format!(
            r#"{{"type":"send","text":"{}"}}"#,
            "a".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(parse_seeker_frame(&frame), Err(FrameError::TooLarge));
    }

    #[test]
    fn advocate_frames_round_trip_and_server_frames_serialize_with_their_type() {
        let chat = ChatId(Uuid::from_u128(7));
        let f = AdvocateFrame::Transfer {
            chat,
            to: adv(3),
            supervisor: true,
        };
        assert_eq!(
            parse_advocate_frame(&serde_json::to_string(&f).unwrap()),
            Ok(f)
        );
        let s = serde_json::to_value(ServerFrame::Queued { chat, position: 2 }).unwrap();
        assert_eq!(s["type"], "queued");
        assert_eq!(s["position"], 2);
    }
}
