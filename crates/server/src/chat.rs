//! The web chat, live: one [`ChatHub`] per process behind a lock, the sockets of help-seekers and
//! advocates, and one *lane* per chat that stores each message before anyone sees it.
//!
//! Every operation takes the lock, asks the hub (which decides and numbers the messages), and puts what
//! must be stored and delivered on the chat's lane while still holding the lock, so a lane holds a chat's
//! messages in the order of their numbers. The lane, a task of its own, stores each one (encrypted, audited,
//! through the store) and only then hands it to the sockets. Chats do not wait on each other: their lanes
//! run side by side, and SQLite's group commit folds their writes into shared fsyncs.
//!
//! A help-seeker's page resumes after a reconnect with its resume token and the last number it has: the
//! lane sends it every stored message after that number and only then attaches the new socket, so nothing
//! is lost, doubled or reordered. An advocate's console gets each of its chats again on (re)connect and
//! places messages by number.
//!
//! A help-seeker's page that loses its connection (a phone out of signal, a closed tab) is shown to the
//! chat's advocate as gone, and back when it resumes; a chat whose page has not come back within
//! `chat.reconnect_seconds` ends, with a `connection_lost` note in its transcript. Chats started from one
//! client address are limited per hour (`chat.max_starts_per_hour`), counted by a keyed hash of the address.
//!
//! Limitation: the hub lives in this process's memory. With PostgreSQL and several servers, a help-seeker
//! and an advocate meet only if the load balancer sends both to the same server (sticky routing on
//! `/chat/socket` and `/chats/socket`), and chats still waiting or active when a server stops are not
//! picked up again (their stored transcripts stay complete up to the last message acknowledged).

use crate::auth::Principal;
use crate::config::ChatSettings;
use lantern_channels::keywords::Lang;
use lantern_channels::webchat::{
    AdvocateFrame, AdvocateId, Author, ChatError, ChatHub, ChatId, ChatMessage, ChatStatus,
    FrameError, HotlineId, SafeToChat, SeekerFrame, ServerFrame, StaffRole,
};
use lantern_domain::account::Role;
use lantern_store::{AuditCtx, ChatStateChange, NewChat, NewChatMessage, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{OnceCell, mpsc};
use uuid::Uuid;

/// Where a socket's outgoing frames go (already serialised).
pub type Outbox = mpsc::UnboundedSender<String>;

/// Who a frame is for, resolved when the lane delivers it.
#[derive(Debug, Clone, Copy)]
enum Target {
    Seeker,
    Advocate(AdvocateId),
}

/// A frame, or the chat's `assigned` frame (built by the lane, which knows the chat's contact).
#[derive(Debug, Clone)]
enum Out {
    Frame(ServerFrame),
    Assigned,
    /// The chat's place in the queue at delivery, if it is still waiting.
    Position,
}

/// Where a replay goes.
#[derive(Debug)]
enum ReplayTo {
    Conn(Outbox),
    Advocate(AdvocateId),
}

/// What a lane does, in order.
#[derive(Debug)]
enum Job {
    /// Store the chat (and its contact), then deliver.
    Open(NewChat, Vec<(Target, Out)>),
    /// Store a message as `ctx` (the advocate's, or the help-seeker's when `None`), then deliver; on
    /// failure tell `author`.
    Store(
        NewChatMessage,
        Vec<(Target, Out)>,
        Option<Outbox>,
        Option<AuditCtx>,
    ),
    /// A help-seeker's socket after a resume: send what is stored after `after_seq`, then attach it.
    Attach {
        conn: Outbox,
        conn_id: u64,
        after_seq: u64,
    },
    /// Send a chat's `assigned` frame and its stored messages after `after_seq` to an advocate.
    Replay { to: ReplayTo, after_seq: u64 },
    /// The chat has ended and everything is stored: forget it.
    Finish,
}

#[derive(Debug)]
struct Lane {
    jobs: mpsc::UnboundedSender<Job>,
}

#[derive(Debug)]
struct Staffer {
    hotline: HotlineId,
    username: String,
    role: StaffRole,
    ctx: AuditCtx,
    conns: HashMap<u64, Outbox>,
}

#[derive(Debug, Default)]
struct Inner {
    hub: ChatHub,
    lanes: HashMap<ChatId, Lane>,
    seekers: HashMap<ChatId, (u64, Outbox)>,
    /// Chats whose help-seeker's page lost its connection, by the connection that was lost.
    lost: HashMap<ChatId, u64>,
    staff: HashMap<AdvocateId, Staffer>,
}

/// One advocate signed in to chat, as the console's transfer list shows them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChatStaff {
    /// Their user id.
    pub id: String,
    /// Their username.
    pub username: String,
    /// `advocate` or `supervisor`.
    pub role: String,
    /// How many chats they have open.
    pub active: usize,
    /// Whether their console is connected now.
    pub online: bool,
}

/// The process's web chat.
#[derive(Debug)]
pub struct ChatService {
    inner: Mutex<Inner>,
    store: Arc<dyn Store>,
    limit: usize,
    reconnect: std::time::Duration,
    max_starts_per_hour: i64,
    hotline_slug: String,
    public_hotline: OnceCell<Option<(HotlineId, String)>>,
    next_conn: AtomicU64,
}

/// The rate-limit bucket of chat starts.
const START_BUCKET: &str = "chat_start";

/// The hub's identifier for a stored id (the store's ids are UUIDs; anything else is hashed to one).
fn uuid_of(id: &str) -> Uuid {
    Uuid::parse_str(id).unwrap_or_else(|_| {
        use sha2::Digest as _;
        let d = sha2::Sha256::digest(id.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        Uuid::from_bytes(b)
    })
}

fn hotline_uuid(id: &str) -> HotlineId {
    HotlineId(uuid_of(id))
}

fn advocate_uuid(id: &str) -> AdvocateId {
    AdvocateId(uuid_of(id))
}

fn send(conn: &Outbox, frame: &ServerFrame) {
    if let Ok(text) = serde_json::to_string(frame) {
        let _ = conn.send(text);
    }
}

/// An error frame for a refused frame.
pub fn frame_error(e: &FrameError) -> ServerFrame {
    ServerFrame::Error {
        code: e.code().to_owned(),
        detail: e.to_string(),
    }
}

fn chat_error(e: &ChatError) -> ServerFrame {
    let code = match e {
        ChatError::UnknownChat => "unknown_chat",
        ChatError::UnknownAdvocate => "unknown_advocate",
        ChatError::AtCapacity(_) => "at_capacity",
        ChatError::QueueEmpty => "queue_empty",
        ChatError::Ended => "ended",
        ChatError::NotYours => "not_yours",
        ChatError::StillWaiting => "still_waiting",
        ChatError::NotASupervisor => "not_a_supervisor",
        ChatError::BadText => "bad_text",
    };
    ServerFrame::Error {
        code: code.to_owned(),
        detail: e.to_string(),
    }
}

fn error_frame(code: &str, detail: &str) -> ServerFrame {
    ServerFrame::Error {
        code: code.to_owned(),
        detail: detail.to_owned(),
    }
}

fn seeker_ctx(hotline: &str) -> AuditCtx {
    AuditCtx {
        hotline_id: Some(hotline.to_owned()),
        actor_id: None,
        actor: "anonymous".into(),
        source: "webchat".into(),
    }
}

fn author_code(a: &Author) -> (&'static str, Option<String>) {
    match a {
        Author::Seeker => ("seeker", None),
        Author::Advocate { id } => ("advocate", Some(id.0.to_string())),
        Author::System => ("system", None),
    }
}

fn lang_code(l: Lang) -> &'static str {
    l.code()
}

fn safe_code(s: SafeToChat) -> &'static str {
    match s {
        SafeToChat::Yes => "yes",
        SafeToChat::No => "no",
        SafeToChat::Unsure => "unsure",
    }
}

/// What a help-seeker's socket has become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekerState {
    /// No chat yet (before `start` or `resume`).
    Idle,
    /// In this chat.
    In(ChatId),
}

impl ChatService {
    /// The chat of a process over `store`, as `settings` say: the hotline the public page joins, the
    /// advocates' limit, the reconnect window and the start limit.
    pub fn new(store: Arc<dyn Store>, settings: &ChatSettings) -> ChatService {
        ChatService {
            inner: Mutex::new(Inner::default()),
            store,
            limit: settings.advocate_limit.max(1),
            reconnect: std::time::Duration::from_secs(settings.reconnect_seconds.max(1)),
            max_starts_per_hour: settings.max_starts_per_hour.max(1),
            hotline_slug: settings.hotline.clone(),
            public_hotline: OnceCell::new(),
            next_conn: AtomicU64::new(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection number.
    pub fn conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    async fn public_hotline(&self) -> Option<(HotlineId, String)> {
        self.public_hotline
            .get_or_init(|| async {
                match self.store.hotline_by_slug(&self.hotline_slug).await {
                    Ok(Some(h)) => Some((hotline_uuid(&h.id), h.id)),
                    Ok(None) => {
                        tracing::error!(chat.hotline = %self.hotline_slug, "chat.hotline names no hotline; the public chat is closed");
                        None
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot look up the chat's hotline");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    fn spawn_lane(
        self: &Arc<Self>,
        inner: &mut Inner,
        chat: ChatId,
        hotline: String,
        language: Lang,
        safe: SafeToChat,
    ) -> mpsc::UnboundedSender<Job> {
        let (tx, rx) = mpsc::unbounded_channel();
        inner.lanes.insert(chat, Lane { jobs: tx.clone() });
        let svc = Arc::clone(self);
        tokio::spawn(async move {
            svc.run_lane(chat, hotline, language, safe, rx).await;
        });
        tx
    }

    /// The count of waiting chats to a hotline's advocates.
    fn waiting_changed(inner: &Inner, hotline: HotlineId) {
        let count = ServerFrame::Waiting {
            count: inner.hub.waiting(hotline),
        };
        for s in inner.staff.values().filter(|s| s.hotline == hotline) {
            for conn in s.conns.values() {
                send(conn, &count);
            }
        }
    }

    /// Positions to every waiting help-seeker of a hotline and the count to its advocates.
    fn queue_changed(inner: &Inner, hotline: HotlineId) {
        for (i, id) in inner.hub.queue(hotline).enumerate() {
            if let Some((_, conn)) = inner.seekers.get(&id) {
                send(
                    conn,
                    &ServerFrame::Queued {
                        chat: id,
                        position: i + 1,
                    },
                );
            }
        }
        Self::waiting_changed(inner, hotline);
    }

    fn last_message(inner: &Inner, chat: ChatId) -> Option<ChatMessage> {
        let all = inner.hub.messages_after(chat, 0).ok()?;
        all.last().cloned()
    }

    fn store_job(chat: ChatId, m: &ChatMessage, change: Option<ChatStateChange>) -> NewChatMessage {
        let (author, author_id) = author_code(&m.author);
        NewChatMessage {
            chat_id: chat.0.to_string(),
            seq: i64::try_from(m.seq).unwrap_or(i64::MAX),
            author: author.to_owned(),
            author_id,
            text: m.text.clone(),
            change,
        }
    }

    fn ctx_of(inner: &Inner, adv: AdvocateId) -> Option<AuditCtx> {
        inner.staff.get(&adv).map(|s| s.ctx.clone())
    }

    fn enqueue(inner: &Inner, chat: ChatId, job: Job) {
        if let Some(lane) = inner.lanes.get(&chat) {
            let _ = lane.jobs.send(job);
        }
    }

    // ---- help-seekers ----

    /// Handles one text frame of a help-seeker's socket; `client` is the keyed hash of its address, which
    /// a `start` is counted under.
    pub async fn seeker_frame(
        self: &Arc<Self>,
        state: &mut SeekerState,
        conn_id: u64,
        conn: &Outbox,
        client: &[u8],
        text: &str,
    ) {
        let frame = match lantern_channels::webchat::parse_seeker_frame(text) {
            Ok(f) => f,
            Err(e) => return send(conn, &frame_error(&e)),
        };
        let result = match (frame, *state) {
            (
                SeekerFrame::Start {
                    language,
                    safe_to_chat,
                },
                SeekerState::Idle,
            ) => match self.public_hotline().await {
                Some((hid, hotline)) => match self.may_start(client).await {
                    Ok(()) => {
                        let id = self.start(hid, hotline, language, safe_to_chat, conn_id, conn);
                        *state = SeekerState::In(id);
                        Ok(())
                    }
                    Err(f) => Err(f),
                },
                None => Err(error_frame(
                    "unavailable",
                    "the chat is not available right now",
                )),
            },
            (SeekerFrame::Resume { token, after_seq }, SeekerState::Idle) => {
                match self.resume(&token, after_seq, conn_id, conn) {
                    Ok(id) => {
                        *state = SeekerState::In(id);
                        Ok(())
                    }
                    Err(e) => Err(chat_error(&e)),
                }
            }
            (SeekerFrame::Start { .. } | SeekerFrame::Resume { .. }, SeekerState::In(_)) => Err(
                error_frame("already_started", "this connection already has a chat"),
            ),
            (SeekerFrame::Send { .. } | SeekerFrame::End, SeekerState::Idle) => {
                Err(error_frame("not_started", "start or resume a chat first"))
            }
            (SeekerFrame::Send { text }, SeekerState::In(id)) => self
                .seeker_send(id, &text, conn)
                .map_err(|e| chat_error(&e)),
            (SeekerFrame::End, SeekerState::In(id)) => {
                self.seeker_end(id).map_err(|e| chat_error(&e))
            }
        };
        if let Err(f) = result {
            send(conn, &f);
        }
    }

    /// Counts a chat start from `client`; refuses it (with the frame to send) past the hourly limit.
    async fn may_start(&self, client: &[u8]) -> Result<(), ServerFrame> {
        match self
            .store
            .rate_limit_hit(START_BUCKET, client, self.max_starts_per_hour, 3600)
            .await
        {
            Ok(d) if d.allowed => Ok(()),
            Ok(d) => {
                tracing::warn!("refused a chat start: too many from one address this hour");
                let minutes = ((d.retry_after_s + 59) / 60).max(1);
                Err(error_frame(
                    "rate_limited",
                    &format!(
                        "too many chats were started from this connection; try again in {minutes} minutes"
                    ),
                ))
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot count a chat start");
                Err(error_frame(
                    "unavailable",
                    "the chat is not available right now",
                ))
            }
        }
    }

    fn start(
        self: &Arc<Self>,
        hid: HotlineId,
        hotline: String,
        language: Lang,
        safe: SafeToChat,
        conn_id: u64,
        conn: &Outbox,
    ) -> ChatId {
        let mut inner = self.lock();
        let (id, token, _) = inner.hub.start(hid, language, safe);
        let jobs = self.spawn_lane(&mut inner, id, hotline.clone(), language, safe);
        inner.seekers.insert(id, (conn_id, conn.clone()));
        let _ = jobs.send(Job::Open(
            NewChat {
                id: id.0.to_string(),
                hotline_id: hotline,
                language: lang_code(language).to_owned(),
                safe_to_chat: safe_code(safe).to_owned(),
            },
            vec![
                (
                    Target::Seeker,
                    Out::Frame(ServerFrame::Started {
                        chat: id,
                        token: token.as_str().to_owned(),
                    }),
                ),
                (Target::Seeker, Out::Position),
            ],
        ));
        // Joining at the end moves nobody: only the advocates' count changes.
        Self::waiting_changed(&inner, hid);
        id
    }

    fn resume(
        &self,
        token: &str,
        after_seq: u64,
        conn_id: u64,
        conn: &Outbox,
    ) -> Result<ChatId, ChatError> {
        let mut inner = self.lock();
        let chat = inner.hub.resume(token)?;
        let (id, status) = (chat.id, chat.status);
        // The old socket (if any) gets nothing more; the lane attaches the new one after the replay.
        inner.seekers.remove(&id);
        // The page is back: the chat no longer ends for its lost connection, and its advocate knows.
        if inner.lost.remove(&id).is_some()
            && let ChatStatus::Active { advocate } = status
        {
            Self::tell_advocate(
                &inner,
                advocate,
                &ServerFrame::Presence {
                    chat: id,
                    connected: true,
                },
            );
        }
        Self::enqueue(
            &inner,
            id,
            Job::Attach {
                conn: conn.clone(),
                conn_id,
                after_seq,
            },
        );
        Ok(id)
    }

    fn seeker_send(&self, id: ChatId, text: &str, conn: &Outbox) -> Result<(), ChatError> {
        let mut inner = self.lock();
        inner.hub.post_from_seeker(id, text)?;
        let m = Self::last_message(&inner, id).ok_or(ChatError::UnknownChat)?;
        let mut to = vec![(
            Target::Seeker,
            Out::Frame(ServerFrame::Message {
                chat: id,
                message: m.clone(),
            }),
        )];
        if let Some(ChatStatus::Active { advocate }) = inner.hub.chat(id).map(|c| c.status) {
            to.push((
                Target::Advocate(advocate),
                Out::Frame(ServerFrame::Message {
                    chat: id,
                    message: m.clone(),
                }),
            ));
        }
        Self::enqueue(
            &inner,
            id,
            Job::Store(Self::store_job(id, &m, None), to, Some(conn.clone()), None),
        );
        Ok(())
    }

    fn seeker_end(&self, id: ChatId) -> Result<(), ChatError> {
        let mut inner = self.lock();
        let chat = inner.hub.chat(id).ok_or(ChatError::UnknownChat)?;
        let (status, hotline) = (chat.status, chat.hotline);
        inner.hub.end(id, None)?;
        self.ended(&mut inner, id, status, None);
        if status == ChatStatus::Waiting {
            Self::queue_changed(&inner, hotline);
        }
        Ok(())
    }

    /// Stores and announces the end of a chat the hub has just ended (it was `before`).
    fn ended(&self, inner: &mut Inner, id: ChatId, before: ChatStatus, by: Option<AuditCtx>) {
        let Some(m) = Self::last_message(inner, id) else {
            return;
        };
        let mut to = vec![
            (
                Target::Seeker,
                Out::Frame(ServerFrame::Message {
                    chat: id,
                    message: m.clone(),
                }),
            ),
            (Target::Seeker, Out::Frame(ServerFrame::Ended { chat: id })),
        ];
        if let ChatStatus::Active { advocate } = before {
            to.push((
                Target::Advocate(advocate),
                Out::Frame(ServerFrame::Message {
                    chat: id,
                    message: m.clone(),
                }),
            ));
            to.push((
                Target::Advocate(advocate),
                Out::Frame(ServerFrame::Ended { chat: id }),
            ));
        }
        let change = ChatStateChange {
            state: "ended".into(),
            advocate_id: None,
        };
        Self::enqueue(
            inner,
            id,
            Job::Store(Self::store_job(id, &m, Some(change)), to, None, by),
        );
        Self::enqueue(inner, id, Job::Finish);
    }

    /// A help-seeker's socket closed. If it was the chat's page (not one already replaced by a resume), the
    /// advocate is told the page is gone, and the chat ends unless a resume comes within the window.
    pub fn seeker_gone(self: &Arc<Self>, state: SeekerState, conn_id: u64) {
        let SeekerState::In(id) = state else {
            return;
        };
        let mut inner = self.lock();
        if inner.seekers.get(&id).is_none_or(|(c, _)| *c != conn_id) {
            return;
        }
        inner.seekers.remove(&id);
        let Some(status) = inner.hub.chat(id).map(|c| c.status) else {
            return;
        };
        if status == ChatStatus::Ended {
            return;
        }
        inner.lost.insert(id, conn_id);
        if let ChatStatus::Active { advocate } = status {
            Self::tell_advocate(
                &inner,
                advocate,
                &ServerFrame::Presence {
                    chat: id,
                    connected: false,
                },
            );
        }
        drop(inner);
        let svc = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(svc.reconnect).await;
            svc.expire(id, conn_id);
        });
    }

    /// Ends a chat whose page was lost as `conn_id` and has not come back since.
    fn expire(&self, id: ChatId, conn_id: u64) {
        let mut inner = self.lock();
        if inner.lost.get(&id) != Some(&conn_id) {
            return;
        }
        inner.lost.remove(&id);
        let Some((status, hotline)) = inner.hub.chat(id).map(|c| (c.status, c.hotline)) else {
            return;
        };
        if inner.hub.end_lost(id).is_err() {
            return;
        }
        tracing::info!("a web chat ended: the help-seeker's page did not come back");
        // The note before the end, to the advocate; `ended` then stores and announces the end itself.
        let note = inner
            .hub
            .messages_after(id, 0)
            .ok()
            .and_then(|ms| ms.iter().rev().nth(1).cloned());
        if let Some(note) = note {
            let to = match status {
                ChatStatus::Active { advocate } => vec![(
                    Target::Advocate(advocate),
                    Out::Frame(ServerFrame::Message {
                        chat: id,
                        message: note.clone(),
                    }),
                )],
                _ => Vec::new(),
            };
            Self::enqueue(
                &inner,
                id,
                Job::Store(Self::store_job(id, &note, None), to, None, None),
            );
        }
        self.ended(&mut inner, id, status, None);
        if status == ChatStatus::Waiting {
            Self::queue_changed(&inner, hotline);
        }
    }

    /// A frame to every console of an advocate.
    fn tell_advocate(inner: &Inner, advocate: AdvocateId, frame: &ServerFrame) {
        if let Some(s) = inner.staff.get(&advocate) {
            for conn in s.conns.values() {
                send(conn, frame);
            }
        }
    }

    // ---- advocates ----

    /// An advocate's console connected: it signs in to chat and gets its chats and the queue's count.
    pub fn advocate_connected(&self, p: &Principal, conn_id: u64, conn: &Outbox) -> AdvocateId {
        let adv = advocate_uuid(&p.user.id);
        let hotline = hotline_uuid(&p.user.hotline_id);
        let role = if p.user.role == Role::Supervisor {
            StaffRole::Supervisor
        } else {
            StaffRole::Advocate
        };
        let mut inner = self.lock();
        inner.hub.sign_in(adv, role, self.limit);
        inner
            .staff
            .entry(adv)
            .or_insert_with(|| Staffer {
                hotline,
                username: p.user.username.clone(),
                role,
                ctx: p.ctx(),
                conns: HashMap::new(),
            })
            .conns
            .insert(conn_id, conn.clone());
        let active: Vec<ChatId> = inner
            .hub
            .active_chats(adv)
            .map(<[ChatId]>::to_vec)
            .unwrap_or_default();
        for id in active {
            Self::enqueue(
                &inner,
                id,
                Job::Replay {
                    to: ReplayTo::Conn(conn.clone()),
                    after_seq: 0,
                },
            );
        }
        send(
            conn,
            &ServerFrame::Waiting {
                count: inner.hub.waiting(hotline),
            },
        );
        adv
    }

    /// An advocate's console closed (their chats stay theirs until they end or transfer them).
    pub fn advocate_gone(&self, adv: AdvocateId, conn_id: u64) {
        let mut inner = self.lock();
        if let Some(s) = inner.staff.get_mut(&adv) {
            s.conns.remove(&conn_id);
        }
    }

    /// Handles one text frame of an advocate's console.
    pub fn advocate_frame(&self, adv: AdvocateId, conn: &Outbox, text: &str) {
        let frame = match lantern_channels::webchat::parse_advocate_frame(text) {
            Ok(f) => f,
            Err(e) => return send(conn, &frame_error(&e)),
        };
        let result = match frame {
            AdvocateFrame::AcceptNext => self.accept_next(adv),
            AdvocateFrame::Send { chat, text } => self.advocate_send(adv, chat, &text, conn),
            AdvocateFrame::Transfer {
                chat,
                to,
                supervisor,
            } => self.transfer(adv, chat, to, supervisor),
            AdvocateFrame::End { chat } => self.advocate_end(adv, chat),
            AdvocateFrame::Sync { chat, after_seq } => {
                let inner = self.lock();
                match inner.hub.chat(chat).map(|c| c.status) {
                    Some(ChatStatus::Active { advocate }) if advocate == adv => {
                        Self::enqueue(
                            &inner,
                            chat,
                            Job::Replay {
                                to: ReplayTo::Conn(conn.clone()),
                                after_seq,
                            },
                        );
                        Ok(())
                    }
                    Some(ChatStatus::Ended) => Err(ChatError::Ended),
                    Some(_) => Err(ChatError::NotYours),
                    None => Err(ChatError::UnknownChat),
                }
            }
        };
        if let Err(e) = result {
            send(conn, &chat_error(&e));
        }
    }

    fn accept_next(&self, adv: AdvocateId) -> Result<(), ChatError> {
        let mut inner = self.lock();
        let hotline = inner
            .staff
            .get(&adv)
            .ok_or(ChatError::UnknownAdvocate)?
            .hotline;
        let id = inner.hub.accept_next(adv, hotline)?;
        let m = Self::last_message(&inner, id).ok_or(ChatError::UnknownChat)?;
        let msg = |m: &ChatMessage| {
            Out::Frame(ServerFrame::Message {
                chat: id,
                message: m.clone(),
            })
        };
        let to = vec![
            (
                Target::Seeker,
                Out::Frame(ServerFrame::Accepted { chat: id }),
            ),
            (Target::Seeker, msg(&m)),
            (Target::Advocate(adv), Out::Assigned),
        ];
        let change = ChatStateChange {
            state: "active".into(),
            advocate_id: Some(adv.0.to_string()),
        };
        Self::enqueue(
            &inner,
            id,
            Job::Store(
                Self::store_job(id, &m, Some(change)),
                to,
                None,
                Self::ctx_of(&inner, adv),
            ),
        );
        // The advocate gets the whole transcript, including what was written while waiting.
        Self::enqueue(
            &inner,
            id,
            Job::Replay {
                to: ReplayTo::Advocate(adv),
                after_seq: 0,
            },
        );
        Self::queue_changed(&inner, hotline);
        Ok(())
    }

    fn advocate_send(
        &self,
        adv: AdvocateId,
        id: ChatId,
        text: &str,
        conn: &Outbox,
    ) -> Result<(), ChatError> {
        let mut inner = self.lock();
        inner.hub.post_from_advocate(id, adv, text)?;
        let m = Self::last_message(&inner, id).ok_or(ChatError::UnknownChat)?;
        let to = vec![
            (
                Target::Seeker,
                Out::Frame(ServerFrame::Message {
                    chat: id,
                    message: m.clone(),
                }),
            ),
            (
                Target::Advocate(adv),
                Out::Frame(ServerFrame::Message {
                    chat: id,
                    message: m.clone(),
                }),
            ),
        ];
        Self::enqueue(
            &inner,
            id,
            Job::Store(
                Self::store_job(id, &m, None),
                to,
                Some(conn.clone()),
                Self::ctx_of(&inner, adv),
            ),
        );
        Ok(())
    }

    fn transfer(
        &self,
        adv: AdvocateId,
        id: ChatId,
        to: AdvocateId,
        supervisor: bool,
    ) -> Result<(), ChatError> {
        let mut inner = self.lock();
        let chat_hotline = inner.hub.chat(id).ok_or(ChatError::UnknownChat)?.hotline;
        if inner.staff.get(&to).map(|s| s.hotline) != Some(chat_hotline) || to == adv {
            return Err(ChatError::UnknownAdvocate);
        }
        let before = inner.hub.messages_after(id, 0)?.len() as u64;
        inner.hub.transfer(id, adv, to, supervisor)?;
        let new: Vec<ChatMessage> = inner.hub.messages_after(id, before)?.to_vec();
        let frames = |m: &ChatMessage| {
            vec![
                (
                    Target::Seeker,
                    Out::Frame(ServerFrame::Message {
                        chat: id,
                        message: m.clone(),
                    }),
                ),
                (
                    Target::Advocate(adv),
                    Out::Frame(ServerFrame::Message {
                        chat: id,
                        message: m.clone(),
                    }),
                ),
            ]
        };
        for (i, m) in new.iter().enumerate() {
            let mut out = frames(m);
            let change = (i == 0).then(|| ChatStateChange {
                state: "active".into(),
                advocate_id: Some(to.0.to_string()),
            });
            if i == 0 {
                out.push((
                    Target::Advocate(adv),
                    Out::Frame(ServerFrame::Transferred { chat: id, to }),
                ));
                out.push((
                    Target::Seeker,
                    Out::Frame(ServerFrame::Transferred { chat: id, to }),
                ));
            }
            Self::enqueue(
                &inner,
                id,
                Job::Store(
                    Self::store_job(id, m, change),
                    out,
                    None,
                    Self::ctx_of(&inner, adv),
                ),
            );
        }
        Self::enqueue(
            &inner,
            id,
            Job::Replay {
                to: ReplayTo::Advocate(to),
                after_seq: 0,
            },
        );
        Ok(())
    }

    fn advocate_end(&self, adv: AdvocateId, id: ChatId) -> Result<(), ChatError> {
        let mut inner = self.lock();
        let status = inner.hub.chat(id).ok_or(ChatError::UnknownChat)?.status;
        inner.hub.end(id, Some(adv))?;
        let by = Self::ctx_of(&inner, adv);
        self.ended(&mut inner, id, status, by);
        Ok(())
    }

    /// The advocates and supervisors of a hotline signed in to chat.
    pub fn staff(&self, hotline_id: &str) -> Vec<ChatStaff> {
        let hotline = hotline_uuid(hotline_id);
        let inner = self.lock();
        let mut out: Vec<ChatStaff> = inner
            .staff
            .iter()
            .filter(|(_, s)| s.hotline == hotline)
            .map(|(id, s)| ChatStaff {
                id: id.0.to_string(),
                username: s.username.clone(),
                role: match s.role {
                    StaffRole::Advocate => "advocate".into(),
                    StaffRole::Supervisor => "supervisor".into(),
                },
                active: inner.hub.active_chats(*id).map_or(0, <[ChatId]>::len),
                online: !s.conns.is_empty(),
            })
            .collect();
        out.sort_by(|a, b| a.username.cmp(&b.username));
        out
    }

    // ---- the lanes ----

    fn deliver(
        &self,
        chat: ChatId,
        contact: &str,
        meta: (Lang, SafeToChat),
        out: Vec<(Target, Out)>,
    ) {
        let inner = self.lock();
        for (target, o) in out {
            let frame = match o {
                Out::Frame(f) => f,
                Out::Position => {
                    let Some(hid) = inner.hub.chat(chat).map(|c| c.hotline) else {
                        continue;
                    };
                    match inner.hub.queue(hid).position(|c| c == chat) {
                        Some(p) => ServerFrame::Queued {
                            chat,
                            position: p + 1,
                        },
                        None => continue,
                    }
                }
                Out::Assigned => ServerFrame::Assigned {
                    chat,
                    language: meta.0,
                    safe_to_chat: meta.1,
                    contact: contact.to_owned(),
                },
            };
            match target {
                Target::Seeker => {
                    if let Some((_, conn)) = inner.seekers.get(&chat) {
                        send(conn, &frame);
                    }
                }
                Target::Advocate(a) => Self::tell_advocate(&inner, a, &frame),
            }
        }
    }

    async fn run_lane(
        self: Arc<Self>,
        chat: ChatId,
        hotline: String,
        language: Lang,
        safe: SafeToChat,
        mut jobs: mpsc::UnboundedReceiver<Job>,
    ) {
        let ctx = seeker_ctx(&hotline);
        let meta = (language, safe);
        let mut contact = String::new();
        let mut stored: u64 = 0;
        let mut open = false;
        while let Some(job) = jobs.recv().await {
            match job {
                Job::Open(new, out) => match self.store.open_chat(&ctx, &new).await {
                    Ok(rec) => {
                        contact = rec.contact_id;
                        open = true;
                        self.deliver(chat, &contact, meta, out);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "a chat could not be stored; it is ended");
                        let mut inner = self.lock();
                        if let Some((_, conn)) = inner.seekers.get(&chat) {
                            send(
                                conn,
                                &error_frame(
                                    "unavailable",
                                    "the chat could not be started; try again",
                                ),
                            );
                        }
                        let hid = inner.hub.chat(chat).map(|c| c.hotline);
                        let _ = inner.hub.end(chat, None);
                        inner.hub.remove_ended(chat);
                        inner.lanes.remove(&chat);
                        inner.seekers.remove(&chat);
                        if let Some(h) = hid {
                            Self::queue_changed(&inner, h);
                        }
                        return;
                    }
                },
                Job::Store(msg, out, author, by) => {
                    let ctx = by.unwrap_or_else(|| ctx.clone());
                    if !open {
                        continue;
                    }
                    let seq = u64::try_from(msg.seq).unwrap_or(0);
                    let mut result = self.store.add_chat_message(&ctx, &hotline, &msg).await;
                    let first_failed = result.is_err();
                    for wait in [20u64, 200] {
                        if result.is_ok() {
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                        result = self.store.add_chat_message(&ctx, &hotline, &msg).await;
                        if first_failed
                            && matches!(result, Err(lantern_store::StoreError::Conflict { .. }))
                        {
                            // A retry after a commit whose answer was lost: it is stored.
                            result = Ok(());
                        }
                    }
                    match result {
                        Ok(()) => {
                            stored = stored.max(seq);
                            self.deliver(chat, &contact, meta, out);
                        }
                        Err(e) => {
                            tracing::error!(error = %e, chat.seq = seq, "a chat message could not be stored");
                            if let Some(conn) = author {
                                send(
                                    &conn,
                                    &error_frame(
                                        "not_stored",
                                        "the message could not be saved; send it again",
                                    ),
                                );
                            }
                        }
                    }
                }
                Job::Attach {
                    conn,
                    conn_id,
                    after_seq,
                } => {
                    let mut inner = self.lock();
                    let Some(c) = inner.hub.chat(chat) else {
                        continue;
                    };
                    let status = c.status;
                    let hid = c.hotline;
                    send(
                        &conn,
                        &ServerFrame::Started {
                            chat,
                            token: String::new(),
                        },
                    );
                    if let Ok(ms) = inner.hub.messages_after(chat, after_seq) {
                        for m in ms.iter().filter(|m| m.seq <= stored) {
                            send(
                                &conn,
                                &ServerFrame::Message {
                                    chat,
                                    message: m.clone(),
                                },
                            );
                        }
                    }
                    match status {
                        ChatStatus::Waiting => {
                            if let Some(p) = inner.hub.queue(hid).position(|c| c == chat) {
                                send(
                                    &conn,
                                    &ServerFrame::Queued {
                                        chat,
                                        position: p + 1,
                                    },
                                );
                            }
                        }
                        ChatStatus::Active { .. } => send(&conn, &ServerFrame::Accepted { chat }),
                        ChatStatus::Ended => send(&conn, &ServerFrame::Ended { chat }),
                    }
                    inner.seekers.insert(chat, (conn_id, conn));
                }
                Job::Replay { to, after_seq } => {
                    let inner = self.lock();
                    let mut frames = vec![ServerFrame::Assigned {
                        chat,
                        language,
                        safe_to_chat: safe,
                        contact: contact.clone(),
                    }];
                    if let Ok(ms) = inner.hub.messages_after(chat, after_seq) {
                        frames.extend(ms.iter().filter(|m| m.seq <= stored).map(|m| {
                            ServerFrame::Message {
                                chat,
                                message: m.clone(),
                            }
                        }));
                    }
                    let conns: Vec<Outbox> = match to {
                        ReplayTo::Conn(c) => vec![c],
                        ReplayTo::Advocate(a) => inner
                            .staff
                            .get(&a)
                            .map(|s| s.conns.values().cloned().collect())
                            .unwrap_or_default(),
                    };
                    if inner.lost.contains_key(&chat) {
                        frames.push(ServerFrame::Presence {
                            chat,
                            connected: false,
                        });
                    }
                    for conn in &conns {
                        for f in &frames {
                            send(conn, f);
                        }
                    }
                }
                Job::Finish => {
                    let mut inner = self.lock();
                    inner.hub.remove_ended(chat);
                    inner.lanes.remove(&chat);
                    inner.seekers.remove(&chat);
                    inner.lost.remove(&chat);
                    return;
                }
            }
        }
    }
}
