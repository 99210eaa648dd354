//! The web chat's pages and sockets: the help-seeker's `/chat` (no account, nothing kept in the browser) and
//! its socket `/chat/socket`; the advocate's console `/chats` and its socket `/chats/socket`.
//!
//! The sockets carry the strictly parsed frames of `lantern_channels::webchat`; what they mean is decided by
//! [`crate::chat::ChatService`]. A frame that is not JSON, or larger than 32 KiB, is answered with an `error`
//! frame and changes nothing; a frame beyond 256 KiB closes the socket (code 1009).

use super::help::{HelpChrome, lang_of};
use super::{Chrome, PageResult, render};
use crate::auth::{Principal, Via};
use crate::chat::{ChatService, Outbox, SeekerState, frame_error};
use crate::error::AppError;
use crate::state::AppState;
use askama::Template;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use lantern_channels::i18n::{Text, t};
use lantern_channels::keywords::Lang;
use lantern_channels::webchat::FrameError;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the server pings an open socket, so that a page whose network went away silently (a phone
/// out of signal) is noticed.
const PING_EVERY: Duration = Duration::from_secs(30);
/// A socket that sends nothing, not even the answer to a ping, for this long is taken as gone.
const SILENT_LIMIT: Duration = Duration::from_secs(75);

/// The keyed-hash kind of a help-seeker's address, for the chat's start limit.
const ADDRESS_KIND: &str = "chat_client_address";

/// The largest WebSocket message read at all; larger ones close the socket. Up to this size a frame
/// over the 32 KiB frame limit is refused with an error frame instead.
const MAX_SOCKET_MESSAGE: usize = 256 * 1024;

/// The page's language.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    /// `es` for Spanish.
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Template)]
#[template(path = "chat.html")]
struct HelpChatPage {
    help: HelpChrome,
    texts: ChatTexts,
}

struct ChatTexts {
    choose_language: &'static str,
    safe_question: &'static str,
    yes: &'static str,
    no: &'static str,
    unsure: &'static str,
    start: &'static str,
    queue: &'static str,
    joined: &'static str,
    ended: &'static str,
    reconnecting: &'static str,
    placeholder: &'static str,
    send: &'static str,
    end: &'static str,
    transferred: &'static str,
    you: &'static str,
    advocate: &'static str,
    too_many: &'static str,
}

fn texts(lang: Lang) -> ChatTexts {
    let (end, transferred, you, advocate, too_many) = match lang {
        Lang::En => (
            "End chat",
            "You are being connected to another advocate.",
            "You",
            "Advocate",
            "Too many chats were started from this connection. Please try again later, or call or text the hotline.",
        ),
        Lang::Es => (
            "Terminar el chat",
            "Le estamos conectando con otro/a asesor/a.",
            "Usted",
            "Asesor/a",
            "Se iniciaron demasiados chats desde esta conexión. Inténtelo más tarde, o llame o envíe un mensaje de texto a la línea.",
        ),
    };
    ChatTexts {
        choose_language: t(lang, Text::ChooseLanguage),
        safe_question: t(lang, Text::SafeToChatQuestion),
        yes: t(lang, Text::AnswerYes),
        no: t(lang, Text::AnswerNo),
        unsure: t(lang, Text::AnswerUnsure),
        start: t(lang, Text::StartChat),
        queue: t(lang, Text::QueuePosition),
        joined: t(lang, Text::AdvocateJoined),
        ended: t(lang, Text::ChatEnded),
        reconnecting: t(lang, Text::Reconnecting),
        placeholder: t(lang, Text::MessagePlaceholder),
        send: t(lang, Text::Send),
        end,
        transferred,
        you,
        advocate,
        too_many,
    }
}

/// `GET /chat`: the help-seeker's chat page (`?lang=es` for Spanish).
pub async fn help_page(State(state): State<AppState>, Query(q): Query<LangQuery>) -> PageResult {
    let lang = lang_of(q.lang.as_deref());
    render(&HelpChatPage {
        help: HelpChrome::new(&state.settings, lang, "/chat"),
        texts: texts(lang),
    })
}

/// The origin (`scheme://host[:port]`) of the configured public URL.
fn public_origin(public_url: &str) -> String {
    let url = public_url.trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or(rest);
            format!(
                "{}://{}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase()
            )
        }
        None => url.to_ascii_lowercase(),
    }
}

/// Whether the request's `Origin` is Lantern's own (`required`: whether a missing one is refused).
fn origin_ok(state: &AppState, headers: &HeaderMap, required: bool) -> bool {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(o) => o
            .trim_end_matches('/')
            .eq_ignore_ascii_case(&public_origin(&state.settings.public_url)),
        None => !required,
    }
}

fn wrong_origin() -> Response {
    AppError::new(
        StatusCode::FORBIDDEN,
        "Wrong origin",
        "the chat socket only answers pages served from this server's public_url",
    )
    .into_response()
}

/// Writes an outbox to a socket until either ends, with a ping every [`PING_EVERY`].
fn split(
    socket: WebSocket,
) -> (
    Outbox,
    futures_util::stream::SplitStream<WebSocket>,
    tokio::task::JoinHandle<()>,
) {
    let (mut sink, stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            let msg = tokio::select! {
                text = rx.recv() => match text {
                    Some(text) => Message::Text(text.into()),
                    None => break,
                },
                _ = ping.tick() => Message::Ping(Default::default()),
            };
            if sink.send(msg).await.is_err() {
                break;
            }
        }
    });
    (tx, stream, writer)
}

/// The next message of a socket, or `None` when it closed, failed or stayed silent past [`SILENT_LIMIT`].
async fn next_message(
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
) -> Option<Message> {
    match tokio::time::timeout(SILENT_LIMIT, stream.next()).await {
        Ok(Some(Ok(msg))) => Some(msg),
        Ok(_) | Err(_) => None,
    }
}

fn refuse(conn: &Outbox, e: &FrameError) {
    if let Ok(text) = serde_json::to_string(&frame_error(e)) {
        let _ = conn.send(text);
    }
}

/// `GET /chat/socket`: a help-seeker's chat. No account and no cookie; the page holds the resume token in
/// memory. A page from another site is refused. The client's address is kept only as a keyed hash, to
/// count its chat starts.
pub async fn seeker_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_ok(&state, &headers, false) {
        return wrong_origin();
    }
    let client = crate::client_address::client_key(&state, ADDRESS_KIND, &headers, &extensions);
    let svc = state.chat.clone();
    ws.max_message_size(MAX_SOCKET_MESSAGE)
        .max_frame_size(MAX_SOCKET_MESSAGE)
        .on_upgrade(move |socket| run_seeker(svc, client, socket))
}

async fn run_seeker(svc: Arc<ChatService>, client: Vec<u8>, socket: WebSocket) {
    let (conn, mut stream, writer) = split(socket);
    let conn_id = svc.conn_id();
    let mut chat = SeekerState::Idle;
    while let Some(msg) = next_message(&mut stream).await {
        match msg {
            Message::Text(text) => {
                svc.seeker_frame(&mut chat, conn_id, &conn, &client, text.as_str())
                    .await
            }
            Message::Binary(_) => refuse(&conn, &FrameError::NotJson),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    svc.seeker_gone(chat, conn_id);
    drop(conn);
    writer.abort();
}

/// `GET /chats/socket`: an advocate's console. A browser session must come from Lantern's own origin (a
/// bearer token needs no origin).
pub async fn advocate_socket(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let from_browser = matches!(p.via, Via::Session { .. });
    if !origin_ok(&state, &headers, from_browser) {
        return wrong_origin();
    }
    let svc = state.chat.clone();
    ws.max_message_size(MAX_SOCKET_MESSAGE)
        .max_frame_size(MAX_SOCKET_MESSAGE)
        .on_upgrade(move |socket| run_advocate(svc, p, socket))
}

async fn run_advocate(svc: Arc<ChatService>, p: Principal, socket: WebSocket) {
    let (conn, mut stream, writer) = split(socket);
    let conn_id = svc.conn_id();
    let adv = svc.advocate_connected(&p, conn_id, &conn);
    while let Some(msg) = next_message(&mut stream).await {
        match msg {
            Message::Text(text) => svc.advocate_frame(adv, &conn, text.as_str()),
            Message::Binary(_) => refuse(&conn, &FrameError::NotJson),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    svc.advocate_gone(adv, conn_id);
    drop(conn);
    writer.abort();
}

#[derive(Template)]
#[template(path = "chats.html")]
struct ConsolePage {
    chrome: Option<Chrome>,
    csrf: String,
    me: String,
    limit: usize,
}

/// `GET /chats`: the advocate's chat console.
pub async fn console(State(state): State<AppState>, p: Principal) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/chats").await?;
    render(&ConsolePage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        me: p.user.id.clone(),
        limit: state.settings.chat.advocate_limit,
    })
}

/// `GET /static/help/chat.js`: the help-seeker's chat (served `no-store`, like the page).
pub async fn chat_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/help/chat.js"),
    )
}

/// `GET /static/chats.js`: the advocate's chat console.
pub async fn chats_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/chats.js"),
    )
}

#[cfg(test)]
mod tests {
    use super::public_origin;

    #[test]
    fn the_public_origin_drops_the_path_and_keeps_the_port() {
        assert_eq!(
            public_origin("https://Hotline.example.org/lantern/"),
            "https://hotline.example.org"
        );
        assert_eq!(
            public_origin("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
