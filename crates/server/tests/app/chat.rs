//! The web chat over real WebSockets on a real listener: help-seekers and advocates, reconnects, limits,
//! transfers, refused frames, what reaches the database, and who may connect.

use crate::helpers::*;
use futures_util::{SinkExt as _, StreamExt as _};
use lantern_domain::account::Role;
use lantern_server::Settings;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};

/// A `TestApp` also served on a real socket, with the public chat joining its hotline.
pub struct ChatApp {
    pub app: TestApp,
    pub addr: SocketAddr,
}

impl ChatApp {
    pub async fn new(limit: usize) -> ChatApp {
        Self::with(limit, |_| {}).await
    }

    pub async fn with(limit: usize, tweak: impl FnOnce(&mut Settings)) -> ChatApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut settings = Settings {
            public_url: format!("http://{addr}"),
            ..Settings::default()
        };
        settings.chat.hotline = "test".into();
        settings.chat.advocate_limit = limit;
        // Every chat of a test comes from 127.0.0.1.
        settings.chat.max_starts_per_hour = 1_000_000;
        tweak(&mut settings);
        let app = TestApp::with_settings(settings).await;
        let router = app.router.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        ChatApp { app, addr }
    }

    /// A help-seeker's socket.
    pub async fn seeker(&self) -> Sock {
        Sock::open(&format!("ws://{}/chat/socket", self.addr), &[]).await
    }

    /// An advocate's console, authenticated with a new API token of `user`.
    pub async fn console(&self, user: &lantern_store::User) -> Sock {
        let (secret, _) = self.app.token_for(user).await;
        Sock::open(
            &format!("ws://{}/chats/socket", self.addr),
            &[("authorization", &format!("Bearer {secret}"))],
        )
        .await
    }
}

/// One WebSocket, read frame by frame with a timeout.
pub struct Sock {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Sock {
    pub async fn try_open(
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Sock, tokio_tungstenite::tungstenite::Error> {
        let mut req = url.into_client_request().unwrap();
        for (k, v) in headers {
            req.headers_mut().insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Sock { ws })
    }

    pub async fn open(url: &str, headers: &[(&str, &str)]) -> Sock {
        Self::try_open(url, headers).await.unwrap()
    }

    pub async fn send(&mut self, v: Value) {
        self.raw(&v.to_string()).await;
    }

    pub async fn raw(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    /// The next text frame, as JSON.
    pub async fn next(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a frame within 10 s")
                .expect("the socket is open")
                .unwrap();
            if let Message::Text(t) = msg {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    }

    /// Reads until a frame of type `ty` (skipping the others), and returns it.
    pub async fn until(&mut self, ty: &str) -> Value {
        loop {
            let f = self.next().await;
            if f["type"] == ty {
                return f;
            }
        }
    }

    /// Reads until a message frame, and returns its message.
    pub async fn message(&mut self) -> Value {
        self.until("message").await["message"].clone()
    }

    /// Whether any frame comes within `ms`.
    pub async fn quiet_for(&mut self, ms: u64) -> Option<Value> {
        match tokio::time::timeout(Duration::from_millis(ms), self.ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => Some(serde_json::from_str(t.as_str()).unwrap()),
            _ => None,
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A help-seeker starts a chat and reads its token; returns (socket, chat id, token).
pub async fn start_chat(app: &ChatApp, lang: &str) -> (Sock, String, String) {
    let mut s = app.seeker().await;
    s.send(json!({"type": "start", "language": lang, "safe_to_chat": "yes"}))
        .await;
    let started = s.until("started").await;
    (
        s,
        started["chat"].as_str().unwrap().to_owned(),
        started["token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_help_seeker_and_an_advocate_chat_both_ways_and_the_transcript_is_a_webchat_contact() {
    let app = ChatApp::new(3).await;
    let advocate = app.app.user(Role::Advocate).await;
    let (mut seeker, chat, _) = start_chat(&app, "es").await;
    assert_eq!(seeker.until("queued").await["position"], 1);

    let mut console = app.console(&advocate).await;
    assert_eq!(console.until("waiting").await["count"], 1);
    seeker
        .send(json!({"type": "send", "text": "Necesito ayuda"}))
        .await;
    assert_eq!(seeker.message().await["text"], "Necesito ayuda");
    console.send(json!({"type": "accept_next"})).await;
    let assigned = console.until("assigned").await;
    assert_eq!(
        (&assigned["chat"], &assigned["language"]),
        (&json!(chat), &json!("es"))
    );
    // The console gets what was written while waiting, then the join, in order.
    let first = console.message().await;
    let second = console.message().await;
    assert_eq!(
        (
            &first["seq"],
            &first["text"],
            &second["seq"],
            &second["text"]
        ),
        (
            &json!(1),
            &json!("Necesito ayuda"),
            &json!(2),
            &json!("advocate_joined")
        )
    );
    seeker.until("accepted").await;
    assert_eq!(seeker.message().await["text"], "advocate_joined");

    console
        .send(json!({"type": "send", "chat": chat, "text": "Estoy aquí. ¿Está a salvo?"}))
        .await;
    let answer = seeker.message().await;
    assert_eq!(
        (&answer["seq"], &answer["text"], &answer["author"]["kind"]),
        (
            &json!(3),
            &json!("Estoy aquí. ¿Está a salvo?"),
            &json!("advocate")
        )
    );
    seeker.send(json!({"type": "send", "text": "Sí"})).await;
    assert_eq!(
        console.message().await["text"],
        "Estoy aquí. ¿Está a salvo?"
    );
    assert_eq!(console.message().await["text"], "Sí");

    console.send(json!({"type": "end", "chat": chat})).await;
    seeker.until("ended").await;
    console.until("ended").await;

    let (token, _) = app.app.token_for(&advocate).await;
    let res = app
        .app
        .api(
            axum::http::Method::GET,
            &format!("/api/v1/chats/{chat}"),
            &token,
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let t = json(res).await;
    assert_eq!(t["chat"]["state"], "ended");
    let texts: Vec<&str> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Necesito ayuda",
            "advocate_joined",
            "Estoy aquí. ¿Está a salvo?",
            "Sí",
            "ended"
        ]
    );
    let contact = app
        .app
        .store
        .contact(
            &lantern_store::AuditCtx::system(None),
            &app.app.hotline_id,
            t["chat"]["contact_id"].as_str().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(contact.channel, "webchat");

    // The chat's contact joins a new case through the API, then an existing one by number is refused twice.
    let res = app
        .app
        .api(
            axum::http::Method::POST,
            &format!("/api/v1/chats/{chat}/link"),
            &token,
            Some(json!({"new_case": true})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let linked = json(res).await;
    let t = json(
        app.app
            .api(
                axum::http::Method::GET,
                &format!("/api/v1/chats/{chat}"),
                &token,
                None,
            )
            .await,
    )
    .await;
    assert_eq!(t["chat"]["case_id"], linked["case_id"]);
    let res = app
        .app
        .api(
            axum::http::Method::POST,
            &format!("/api/v1/chats/{chat}/link"),
            &token,
            Some(json!({})),
        )
        .await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn a_reconnect_with_the_resume_token_gets_every_missed_message_once_and_in_order() {
    let app = ChatApp::new(3).await;
    let advocate = app.app.user(Role::Advocate).await;
    let (mut seeker, chat, token) = start_chat(&app, "en").await;
    let mut console = app.console(&advocate).await;
    console.send(json!({"type": "accept_next"})).await;
    console.until("assigned").await;
    assert_eq!(seeker.message().await["seq"], 1);
    seeker.send(json!({"type": "send", "text": "one"})).await;
    assert_eq!(seeker.message().await["seq"], 2);
    seeker.close().await;

    for text in ["two", "three", "four"] {
        console
            .send(json!({"type": "send", "chat": chat, "text": text}))
            .await;
    }
    // Wait until the console has seen its own three messages (they are stored by then).
    for _ in 0..4 {
        console.message().await;
    }

    let mut back = app.seeker().await;
    back.send(json!({"type": "resume", "token": token, "after_seq": 2}))
        .await;
    back.until("started").await;
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = back.message().await;
        got.push((
            m["seq"].as_u64().unwrap(),
            m["text"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        got,
        [
            (3, "two".to_owned()),
            (4, "three".to_owned()),
            (5, "four".to_owned())
        ]
    );
    // And the conversation goes on live on the new socket.
    console
        .send(json!({"type": "send", "chat": chat, "text": "five"}))
        .await;
    let m = back.message().await;
    assert_eq!((&m["seq"], &m["text"]), (&json!(6), &json!("five")));

    // A made-up token resumes nothing.
    let mut stranger = app.seeker().await;
    stranger
        .send(json!({"type": "resume", "token": "not-a-token", "after_seq": 0}))
        .await;
    assert_eq!(stranger.until("error").await["code"], "unknown_chat");
}

#[tokio::test]
async fn an_advocate_takes_chats_up_to_the_limit_and_the_next_one_keeps_waiting() {
    let app = ChatApp::new(2).await;
    let advocate = app.app.user(Role::Advocate).await;
    let mut seekers = Vec::new();
    for _ in 0..3 {
        seekers.push(start_chat(&app, "en").await);
    }
    let mut console = app.console(&advocate).await;
    assert_eq!(console.until("waiting").await["count"], 3);
    for _ in 0..2 {
        console.send(json!({"type": "accept_next"})).await;
        console.until("assigned").await;
    }
    console.send(json!({"type": "accept_next"})).await;
    let refused = console.until("error").await;
    assert_eq!(refused["code"], "at_capacity");
    // The third help-seeker moved up to first in line and is still waiting.
    let (third, _, _) = &mut seekers[2];
    let mut position = None;
    while let Some(f) = third.quiet_for(300).await {
        if f["type"] == "queued" {
            position = Some(f["position"].clone());
        }
        assert_ne!(f["type"], "accepted");
    }
    assert_eq!(position, Some(json!(1)));
}

#[tokio::test]
async fn a_chat_is_transferred_to_another_advocate_or_a_supervisor_and_only_the_new_one_writes() {
    let app = ChatApp::new(3).await;
    let ana = app.app.user_named("ana", Role::Advocate).await;
    let ben = app.app.user_named("ben", Role::Advocate).await;
    let sue = app.app.user_named("sue", Role::Supervisor).await;
    let (mut seeker, chat, _) = start_chat(&app, "en").await;
    let mut a = app.console(&ana).await;
    let mut b = app.console(&ben).await;
    let mut s = app.console(&sue).await;
    a.send(json!({"type": "accept_next"})).await;
    a.until("assigned").await;

    // Only to a supervisor, when asked so.
    a.send(json!({"type": "transfer", "chat": chat, "to": ben.id, "supervisor": true}))
        .await;
    assert_eq!(a.until("error").await["code"], "not_a_supervisor");
    a.send(json!({"type": "transfer", "chat": chat, "to": ben.id}))
        .await;
    assert_eq!(a.until("transferred").await["to"], json!(ben.id));
    let assigned = b.until("assigned").await;
    assert_eq!(assigned["chat"], json!(chat));
    assert_eq!(seeker.until("transferred").await["chat"], json!(chat));

    a.send(json!({"type": "send", "chat": chat, "text": "still me"}))
        .await;
    assert_eq!(a.until("error").await["code"], "not_yours");
    b.send(json!({"type": "send", "chat": chat, "text": "Ben here"}))
        .await;
    loop {
        let m = seeker.message().await;
        if m["text"] == "Ben here" {
            break;
        }
        assert_ne!(m["text"], "still me");
    }
    b.send(json!({"type": "transfer", "chat": chat, "to": sue.id, "supervisor": true}))
        .await;
    assert_eq!(s.until("assigned").await["chat"], json!(chat));
    // The transfers are stored in order; the last one names the supervisor.
    let mut stored = None;
    for _ in 0..50 {
        let rows = app
            .app
            .store
            .list_chats(
                &lantern_store::AuditCtx::system(None),
                &app.app.hotline_id,
                Some("active"),
                10,
            )
            .await
            .unwrap();
        stored = rows[0].advocate_id.clone();
        if stored.as_deref() == Some(sue.id.as_str()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stored.as_deref(), Some(sue.id.as_str()));
}

#[tokio::test]
async fn a_frame_that_is_not_json_or_too_large_is_refused_clearly_and_changes_nothing() {
    let app = ChatApp::new(3).await;
    let mut seeker = app.seeker().await;
    seeker.raw("hello, is anyone there?").await;
    let e = seeker.until("error").await;
    assert_eq!(e["code"], "not_json");
    seeker
        .raw(r#"{"type":"start","language":"fr","safe_to_chat":"yes"}"#)
        .await;
    let e = seeker.until("error").await;
    assert_eq!(e["code"], "invalid");
    assert!(e["detail"].as_str().unwrap().contains("fr"), "{e}");
    let none = app
        .app
        .store
        .list_chats(
            &lantern_store::AuditCtx::system(None),
            &app.app.hotline_id,
            None,
            10,
        )
        .await
        .unwrap();
    assert!(none.is_empty());

    let (mut seeker, chat, _) = start_chat(&app, "en").await;
    let big = "x".repeat(50 * 1024);
    seeker.send(json!({"type": "send", "text": big})).await;
    assert_eq!(seeker.until("error").await["code"], "too_large");
    seeker.raw("{not json").await;
    assert_eq!(seeker.until("error").await["code"], "not_json");
    // The chat is unharmed and the next message is number 1.
    seeker.send(json!({"type": "send", "text": "small"})).await;
    assert_eq!(seeker.message().await["seq"], 1);
    let advocate = app.app.user(Role::Advocate).await;
    let (token, _) = app.app.token_for(&advocate).await;
    let t = json(
        app.app
            .api(
                axum::http::Method::GET,
                &format!("/api/v1/chats/{chat}"),
                &token,
                None,
            )
            .await,
    )
    .await;
    assert_eq!(t["messages"].as_array().unwrap().len(), 1);
    // The console refuses the same way.
    let mut console = app.console(&advocate).await;
    console.raw("accept").await;
    assert_eq!(console.until("error").await["code"], "not_json");
    console
        .send(json!({"type": "send", "chat": "not-a-chat", "text": "hi"}))
        .await;
    assert_eq!(console.until("error").await["code"], "invalid");
}

#[tokio::test]
async fn chat_messages_reach_the_database_file_only_encrypted() {
    let app = ChatApp::new(3).await;
    let advocate = app.app.user(Role::Advocate).await;
    let (mut seeker, chat, _) = start_chat(&app, "en").await;
    let mut console = app.console(&advocate).await;
    console.send(json!({"type": "accept_next"})).await;
    console.until("assigned").await;
    seeker
        .send(json!({"type": "send", "text": "my employer Quennell keeps my passport"}))
        .await;
    console
        .send(json!({"type": "send", "chat": chat, "text": "Is Quennell near you now?"}))
        .await;
    seeker.until("message").await;
    loop {
        if console.message().await["text"] == "Is Quennell near you now?" {
            break;
        }
    }
    let mut seen = 0;
    for entry in std::fs::read_dir(app.app.db_dir()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        seen += bytes.len();
        assert!(
            !bytes.windows(8).any(|w| w == b"Quennell"),
            "found a chat message in plaintext"
        );
    }
    assert!(seen > 10_000, "the database files were read ({seen} bytes)");
}

#[tokio::test]
async fn only_advocates_and_supervisors_from_lantern_s_own_pages_open_the_console_socket() {
    let app = ChatApp::new(3).await;
    let url = format!("ws://{}/chats/socket", app.addr);
    // No credentials: refused before any upgrade.
    assert!(Sock::try_open(&url, &[]).await.is_err());
    // A partner's token is refused.
    let partner = app.app.user(Role::Partner).await;
    let (secret, _) = app.app.token_for(&partner).await;
    let bearer = format!("Bearer {secret}");
    assert!(
        Sock::try_open(&url, &[("authorization", &bearer)])
            .await
            .is_err()
    );
    // A browser session of an advocate: only with Lantern's own Origin.
    app.app.user(Role::Advocate).await;
    let b = app.app.login("advocate").await;
    let own = format!("http://{}", app.addr);
    assert!(
        Sock::try_open(
            &url,
            &[("cookie", &b.cookie), ("origin", "https://evil.example")]
        )
        .await
        .is_err()
    );
    assert!(
        Sock::try_open(&url, &[("cookie", &b.cookie)])
            .await
            .is_err()
    );
    let mut ok = Sock::open(&url, &[("cookie", &b.cookie), ("origin", &own)]).await;
    assert_eq!(ok.until("waiting").await["count"], 0);
    // The help-seeker's socket needs no account but refuses another site's page.
    let seeker_url = format!("ws://{}/chat/socket", app.addr);
    assert!(
        Sock::try_open(&seeker_url, &[("origin", "https://evil.example")])
            .await
            .is_err()
    );
    assert!(
        Sock::try_open(&seeker_url, &[("origin", &own)])
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_chat_pages_are_served_in_both_languages_without_cookies_or_inline_script() {
    let app = TestApp::new().await;
    let res = app.get("/chat?lang=es", None).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = text(res).await;
    assert!(html.contains("¿Está en un lugar seguro para chatear?"));
    assert!(html.contains("/static/help/chat.js"));
    assert!(!html.contains("<script>"), "no inline script");
    let en = text(app.get("/chat", None).await).await;
    assert!(en.contains("Are you in a safe place to chat?"));
    let js = app.get("/static/help/chat.js", None).await;
    assert_eq!(js.headers()["cache-control"], "no-store");
    let js = text(js).await;
    for word in [
        "localStorage",
        "sessionStorage",
        "document.cookie",
        "indexedDB",
    ] {
        assert!(!js.contains(word), "chat.js uses {word}");
    }
    assert!(js.contains("lantern:quick-exit"));

    app.user(Role::Advocate).await;
    let b = app.login("advocate").await;
    let page = text(app.get("/chats", Some(&b)).await).await;
    assert!(page.contains("Accept next chat"));
    assert!(
        page.contains("href=\"/chats\""),
        "the nav has the chat console"
    );
}
