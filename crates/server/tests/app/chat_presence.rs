//! A help-seeker's page that goes away: the advocate sees it go and come back; a chat whose page does not
//! come back within the reconnect window ends with a note; and chat starts are limited per address.

use crate::chat::{ChatApp, Sock, start_chat};
use crate::helpers::*;
use axum::http::Method;
use lantern_domain::account::Role;
use lantern_store::AuditCtx;
use serde_json::json;

async fn transcript_texts(app: &ChatApp, chat: &str) -> (String, Vec<String>) {
    let t = app
        .app
        .store
        .chat_transcript(&AuditCtx::system(None), &app.app.hotline_id, chat)
        .await
        .unwrap();
    (
        t.chat.state.clone(),
        t.messages.iter().map(|m| m.text.clone()).collect(),
    )
}

/// A chat accepted by `advocate` whose help-seeker's page then closes: the console (told so), the
/// chat and its resume token.
async fn accepted_then_gone(
    app: &ChatApp,
    advocate: &lantern_store::User,
) -> (Sock, String, String) {
    let (seeker, chat, token) = start_chat(app, "en").await;
    let mut console = app.console(advocate).await;
    console.send(json!({"type": "accept_next"})).await;
    console.until("assigned").await;
    seeker.close().await;
    let gone = console.until("presence").await;
    assert_eq!(
        (&gone["chat"], &gone["connected"]),
        (&json!(chat), &json!(false))
    );
    (console, chat, token)
}

/// The transcript once its end is stored (the lane stores it after announcing the queue's change).
async fn stored_end(app: &ChatApp, chat: &str) -> (String, Vec<String>) {
    for _ in 0..100 {
        let t = transcript_texts(app, chat).await;
        if t.0 == "ended" {
            return t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    transcript_texts(app, chat).await
}

#[tokio::test]
async fn the_advocate_sees_the_help_seeker_s_page_go_and_come_back() {
    let app = ChatApp::new(3).await;
    let advocate = app.app.user(Role::Advocate).await;
    let (mut console, chat, token) = accepted_then_gone(&app, &advocate).await;
    // A console that connects meanwhile learns it with the chat.
    let mut second = app.console(&advocate).await;
    second.until("assigned").await;
    assert_eq!(second.until("presence").await["connected"], false);

    let mut back = app.seeker().await;
    back.send(json!({"type": "resume", "token": token, "after_seq": 0}))
        .await;
    back.until("accepted").await;
    let again = console.until("presence").await;
    assert_eq!(
        (&again["chat"], &again["connected"]),
        (&json!(chat), &json!(true))
    );
    // The chat goes on.
    back.send(json!({"type": "send", "text": "still here"}))
        .await;
    assert_eq!(console.message().await["text"], "still here");
    let (state, _) = transcript_texts(&app, &chat).await;
    assert_eq!(state, "active");
}

#[tokio::test]
async fn a_chat_whose_page_does_not_come_back_in_time_ends_with_a_note_and_cannot_be_resumed() {
    let app = ChatApp::with(3, |s| s.chat.reconnect_seconds = 1).await;
    let advocate = app.app.user(Role::Advocate).await;
    let (mut console, chat, token) = accepted_then_gone(&app, &advocate).await;

    let note = console.message().await;
    assert_eq!(
        (&note["text"], &note["author"]["kind"]),
        (&json!("connection_lost"), &json!("system"))
    );
    assert_eq!(console.message().await["text"], "ended");
    console.until("ended").await;

    let (state, texts) = transcript_texts(&app, &chat).await;
    assert_eq!(state, "ended");
    assert_eq!(texts, ["advocate_joined", "connection_lost", "ended"]);

    let mut late = app.seeker().await;
    late.send(json!({"type": "resume", "token": token, "after_seq": 0}))
        .await;
    assert_eq!(late.until("error").await["code"], "unknown_chat");
    // The advocate is free again: a new chat can be accepted up to the limit.
    let (_s2, _, _) = start_chat(&app, "en").await;
    console.send(json!({"type": "accept_next"})).await;
    console.until("assigned").await;
}

#[tokio::test]
async fn a_page_that_comes_back_in_time_keeps_its_chat_past_the_window() {
    let app = ChatApp::with(3, |s| s.chat.reconnect_seconds = 1).await;
    let advocate = app.app.user(Role::Advocate).await;
    let (mut console, chat, token) = accepted_then_gone(&app, &advocate).await;
    let mut back = app.seeker().await;
    back.send(json!({"type": "resume", "token": token, "after_seq": 0}))
        .await;
    back.until("accepted").await;
    assert_eq!(console.until("presence").await["connected"], true);
    // Past the window of the first disconnect, nothing ends.
    assert!(console.quiet_for(1600).await.is_none());
    let (state, texts) = transcript_texts(&app, &chat).await;
    assert_eq!((state.as_str(), texts.len()), ("active", 1));
}

#[tokio::test]
async fn a_waiting_chat_whose_page_is_gone_leaves_the_queue_when_the_window_closes() {
    let app = ChatApp::with(3, |s| s.chat.reconnect_seconds = 1).await;
    let advocate = app.app.user(Role::Advocate).await;
    let (seeker, chat, _) = start_chat(&app, "en").await;
    let (mut other, _, _) = start_chat(&app, "en").await;
    assert_eq!(other.until("queued").await["position"], 2);
    seeker.close().await;
    // The one behind moves up when the lost chat ends; its end is stored just after.
    assert_eq!(other.until("queued").await["position"], 1);
    let (state, texts) = stored_end(&app, &chat).await;
    assert_eq!(state, "ended");
    assert_eq!(texts, ["connection_lost", "ended"]);
    let mut console = app.console(&advocate).await;
    assert_eq!(console.until("waiting").await["count"], 1);
}

#[tokio::test]
async fn chat_starts_from_one_address_are_limited_and_a_refused_start_stores_nothing() {
    let app = ChatApp::with(3, |s| s.chat.max_starts_per_hour = 2).await;
    let (_a, _, _) = start_chat(&app, "en").await;
    let (_b, _, _) = start_chat(&app, "es").await;
    let mut third = app.seeker().await;
    third
        .send(json!({"type": "start", "language": "en", "safe_to_chat": "yes"}))
        .await;
    let refused = third.until("error").await;
    assert_eq!(refused["code"], "rate_limited");
    assert!(
        refused["detail"].as_str().unwrap().contains("try again in"),
        "{refused}"
    );
    // The refused socket has no chat: sending on it is refused too, and only two chats exist.
    third.send(json!({"type": "send", "text": "hello"})).await;
    assert_eq!(third.until("error").await["code"], "not_started");
    let advocate = app.app.user(Role::Advocate).await;
    let (token, _) = app.app.token_for(&advocate).await;
    let res = app
        .app
        .api(Method::GET, "/api/v1/chats", &token, None)
        .await;
    assert_eq!(res.status(), 200);
    let list = json(res).await;
    assert_eq!(list.as_array().map_or(0, Vec::len), 2, "{list}");
}
