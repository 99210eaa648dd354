//! The SMS line end to end: Twilio's signed webhooks, the keyword rules, the advocate's console and API,
//! and the Twilio provider against a local server standing in for Twilio.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use lantern_channels::outbound::LogProvider;
use lantern_channels::signature;
use lantern_domain::account::Role;
use lantern_server::Settings;
use lantern_server::config::{Secret, SmsNumber};
use lantern_server::sms::SmsLine;
use lantern_store::{AuditCtx, SmsConversationFilter};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "a-test-auth-token";
const LINE: &str = "+18885550100";
const TEXTER: &str = "+15552013344";
const PUBLIC: &str = "https://hotline.example.org";
const INBOUND_URL: &str = "https://hotline.example.org/webhooks/sms/twilio";
const STATUS_URL: &str = "https://hotline.example.org/webhooks/sms/twilio/status";

fn settings() -> Settings {
    let mut s = Settings {
        public_url: PUBLIC.into(),
        ..Settings::default()
    };
    s.sms.auth_token = Secret::new(TOKEN);
    s.sms.numbers = vec![SmsNumber {
        number: LINE.into(),
        hotline: "test".into(),
    }];
    s
}

async fn app_with_log() -> (TestApp, LogProvider) {
    let log = LogProvider::new();
    let app = TestApp::with_sms(
        settings(),
        SmsLine::with_provider(Arc::new(log.clone()), "log"),
    )
    .await;
    (app, log)
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn sms_params(sid: u32, body: &str) -> Vec<(String, String)> {
    params(&[
        ("MessageSid", &format!("SM{sid:032x}")),
        ("AccountSid", &format!("AC{:032x}", 1)),
        ("From", TEXTER),
        ("To", LINE),
        ("Body", body),
        ("NumMedia", "0"),
        ("FromCity", "AUSTIN"),
    ])
}

fn form(p: &[(String, String)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in p {
        f.append_pair(k, v);
    }
    f.finish()
}

/// Posts a form to a webhook with the given signature header (none when `None`).
async fn post_webhook(
    app: &TestApp,
    path: &str,
    body: impl Into<Body>,
    signature: Option<&str>,
) -> axum::http::Response<Body> {
    let mut req =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(s) = signature {
        req = req.header("X-Twilio-Signature", s);
    }
    app.send(req.body(body.into()).unwrap()).await
}

/// Posts a text signed as Twilio signs it.
async fn text_in(app: &TestApp, sid: u32, body: &str) -> axum::http::Response<Body> {
    let p = sms_params(sid, body);
    let sig = signature::compute(TOKEN, INBOUND_URL, &p);
    post_webhook(app, "/webhooks/sms/twilio", form(&p), Some(&sig)).await
}

async fn conversations(app: &TestApp) -> Vec<lantern_store::SmsConversation> {
    app.store
        .list_sms_conversations(
            &AuditCtx::system(None),
            &app.hotline_id,
            &SmsConversationFilter {
                status: None,
                limit: 100,
            },
        )
        .await
        .unwrap()
}

async fn receive_events(app: &TestApp) -> usize {
    app.store
        .recent_audit(&app.hotline_id, 500)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "sms.receive")
        .count()
}

#[tokio::test]
async fn twilios_documented_example_validates_and_a_one_character_change_fails() {
    // Arrange: the webhook URL configured as in Twilio's documentation.
    let mut s = settings();
    s.sms.auth_token = Secret::new("12345");
    s.sms.webhook_url = "https://mycompany.com/myapp.php?foo=1&bar=2".into();
    let app = TestApp::with_settings(s).await;
    let example = params(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]);
    let good = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    // Act and assert: the signature passes, so the refusal is about the form (a call, not a text).
    let res = post_webhook(&app, "/webhooks/sms/twilio", form(&example), Some(good)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let problem = json(res).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("MessageSid"),
        "{problem}"
    );

    // One character changed in the signature, or in a parameter: refused as unsigned.
    let res = post_webhook(
        &app,
        "/webhooks/sms/twilio",
        form(&example),
        Some("0/KCTR6DLpKmkAf8muzZqo1nDgR="),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let mut changed = example.clone();
    changed[2].1 = "1235".into();
    let res = post_webhook(&app, "/webhooks/sms/twilio", form(&changed), Some(good)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(receive_events(&app).await, 0);
}

#[tokio::test]
async fn an_unsigned_or_wrongly_signed_text_is_refused_and_stores_nothing() {
    let (app, log) = app_with_log().await;
    let p = sms_params(1, "BEFREE");

    let unsigned = post_webhook(&app, "/webhooks/sms/twilio", form(&p), None).await;
    let wrong_token = post_webhook(
        &app,
        "/webhooks/sms/twilio",
        form(&p),
        Some(&signature::compute("another-token", INBOUND_URL, &p)),
    )
    .await;
    let wrong_url = post_webhook(
        &app,
        "/webhooks/sms/twilio",
        form(&p),
        Some(&signature::compute(
            TOKEN,
            "https://evil.example/webhooks/sms/twilio",
            &p,
        )),
    )
    .await;

    for res in [unsigned, wrong_token, wrong_url] {
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
    assert!(conversations(&app).await.is_empty());
    assert_eq!(receive_events(&app).await, 0);
    assert!(log.sent().is_empty());
}

#[tokio::test]
async fn without_an_auth_token_every_webhook_is_refused() {
    let mut s = settings();
    s.sms.auth_token = Secret::default();
    let app = TestApp::with_settings(s).await;
    let p = sms_params(1, "HELP");
    let sig = signature::compute("", INBOUND_URL, &p);
    let res = post_webhook(&app, "/webhooks/sms/twilio", form(&p), Some(&sig)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn help_gets_the_required_reply_and_opens_a_waiting_conversation() {
    let (app, _) = app_with_log().await;

    let res = text_in(&app, 1, " help ").await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/xml; charset=utf-8"
    );
    let twiml = text(res).await;
    for needle in [
        "<Response><Message>",
        "Test Hotline",
        "Msg &amp; data rates may apply",
        "Text STOP to cancel",
    ] {
        assert!(twiml.contains(needle), "{needle} missing from {twiml}");
    }
    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].status, "waiting");
    let contact = app
        .store
        .contact(
            &AuditCtx::system(None),
            &app.hotline_id,
            &convs[0].contact_id,
        )
        .await
        .unwrap();
    assert_eq!(contact.channel, "sms");

    // The advocate sees it waiting, without the whole number in the list.
    app.user(Role::Advocate).await;
    let b = app.login("advocate").await;
    let page = text(app.get("/sms", Some(&b)).await).await;
    assert!(page.contains("Texter ending 3344"), "{page}");
    assert!(!page.contains(TEXTER));
    let thread = text(app.get(&format!("/sms/{}", convs[0].id), Some(&b)).await).await;
    assert!(thread.contains(TEXTER) && thread.contains("Automatic reply"));
}

#[tokio::test]
async fn a_plain_message_opens_a_conversation_with_an_empty_answer_and_a_redelivery_changes_nothing()
 {
    let (app, _) = app_with_log().await;

    let first = text(text_in(&app, 5, "stop texting me").await).await;
    let again = text(text_in(&app, 5, "stop texting me").await).await;

    assert!(first.ends_with("<Response/>"), "{first}");
    assert!(again.ends_with("<Response/>"), "{again}");
    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 1);
    assert!(
        !convs[0].opted_out,
        "a sentence with STOP in it is a message"
    );
    let thread = app
        .store
        .sms_thread(&AuditCtx::system(None), &app.hotline_id, &convs[0].id)
        .await
        .unwrap();
    assert_eq!(thread.messages.len(), 1);
}

#[tokio::test]
async fn after_stop_the_console_the_api_and_a_retry_are_refused_and_nothing_is_sent() {
    // Arrange: a conversation the advocate has answered once.
    let (app, log) = app_with_log().await;
    let advocate = app.user(Role::Advocate).await;
    let b = app.login("advocate").await;
    let (token, _) = app.token_for(&advocate).await;
    text(text_in(&app, 1, "BEFREE").await).await;
    let conv = conversations(&app).await.remove(0);
    let res = app
        .post_form(
            &format!("/sms/{}/reply", conv.id),
            &b,
            &[("body", "We are here. Are you safe to text?")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(log.sent().len(), 1);
    assert_eq!(log.sent()[0].to.as_str(), TEXTER);
    assert_eq!(log.sent()[0].status_callback.as_deref(), Some(STATUS_URL));
    // A reply that failed earlier, waiting for a retry.
    let lantern_store::SendStart::Ready(failed) = app
        .store
        .start_sms_reply(
            &AuditCtx::system(None),
            &app.hotline_id,
            &conv.id,
            "Call us when you can",
            &advocate.id,
        )
        .await
        .unwrap()
    else {
        panic!("opted in")
    };
    app.store
        .finish_sms_send(
            &AuditCtx::system(None),
            &app.hotline_id,
            &failed.message_id,
            &lantern_store::SendOutcome::Failed(None),
        )
        .await
        .unwrap();

    // Act: the texter sends STOP.
    let stop = text(text_in(&app, 2, "STOP").await).await;

    // Assert: one confirmation, then nothing from anyone.
    assert!(stop.contains("unsubscribed"), "{stop}");
    let page = app
        .post_form(
            &format!("/sms/{}/reply", conv.id),
            &b,
            &[("body", "Hello?")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::CONFLICT);
    let api = app
        .api(
            Method::POST,
            &format!("/api/v1/sms/conversations/{}/messages", conv.id),
            &token,
            Some(serde_json::json!({"body": "Hello?"})),
        )
        .await;
    assert_eq!(api.status(), StatusCode::CONFLICT);
    let retry = app
        .api(
            Method::POST,
            &format!("/api/v1/sms/messages/{}/retry", failed.message_id),
            &token,
            None,
        )
        .await;
    assert_eq!(retry.status(), StatusCode::CONFLICT);
    let help = text(text_in(&app, 3, "HELP").await).await;
    assert!(
        help.ends_with("<Response/>"),
        "no automatic reply after STOP: {help}"
    );
    assert_eq!(log.sent().len(), 1, "nothing was sent after STOP");

    // The advocate sees the opt-out, with no reply form; the HELP still reached the thread.
    let thread = text(app.get(&format!("/sms/{}", conv.id), Some(&b)).await).await;
    assert!(thread.contains("opted out") && !thread.contains("name=\"body\""));
    let api_thread = json(
        app.api(
            Method::GET,
            &format!("/api/v1/sms/conversations/{}", conv.id),
            &token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(api_thread["conversation"]["opted_out"], true);
    assert!(
        api_thread["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "HELP")
    );

    // START opts back in with its confirmation; the advocate can write again.
    let start = text(text_in(&app, 4, "START").await).await;
    assert!(start.contains("subscribed again"), "{start}");
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/sms/conversations/{}/messages", conv.id),
            &token,
            Some(serde_json::json!({"body": "Welcome back"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(log.sent().len(), 2);
}

#[tokio::test]
async fn bad_webhook_bodies_get_a_clear_refusal_naming_the_problem() {
    let (app, _) = app_with_log().await;
    let sign = |p: &[(String, String)]| signature::compute(TOKEN, INBOUND_URL, p);

    // A malformed sender, signed: 400 naming the parameter.
    let mut p = sms_params(1, "hi");
    p[2].1 = "not a phone".into();
    let res = post_webhook(&app, "/webhooks/sms/twilio", form(&p), Some(&sign(&p))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        json(res).await["detail"]
            .as_str()
            .unwrap()
            .contains("`From`")
    );

    // A body that is not a form at all.
    let res = post_webhook(
        &app,
        "/webhooks/sms/twilio",
        vec![0xff, 0xfe, 0x00],
        Some("x"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // A 50 MB message: 413 before anything is read beyond the limit.
    let huge = format!("Body={}", "a".repeat(50 << 20));
    let res = post_webhook(&app, "/webhooks/sms/twilio", huge, Some("x")).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        json(res).await["detail"]
            .as_str()
            .unwrap()
            .contains("65536")
    );

    // A number that is not one of ours, signed.
    let mut p = sms_params(2, "hi");
    p[3].1 = "+18885550199".into();
    let res = post_webhook(&app, "/webhooks/sms/twilio", form(&p), Some(&sign(&p))).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    assert!(conversations(&app).await.is_empty());
    assert_eq!(receive_events(&app).await, 0);
}

#[tokio::test]
async fn the_advocate_links_a_conversation_to_a_case_and_closes_it() {
    let (app, _) = app_with_log().await;
    let advocate = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&advocate).await;
    let b = app.login("advocate").await;
    text(text_in(&app, 1, "BEFREE").await).await;
    let conv = conversations(&app).await.remove(0);
    let case = app
        .api(
            Method::POST,
            "/api/v1/cases",
            &token,
            Some(serde_json::json!({"status": "open", "form": "labor"})),
        )
        .await;
    let case_status = case.status();
    let case = json(case).await;
    assert_eq!(case_status, StatusCode::CREATED, "{case}");
    let number = case["number"].as_i64().unwrap().to_string();

    let res = app
        .post_form(
            &format!("/sms/{}/link", conv.id),
            &b,
            &[("case_number", &number)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/sms/conversations/{}/status", conv.id),
            &token,
            Some(serde_json::json!({"status": "closed"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let closed = json(
        app.api(
            Method::GET,
            "/api/v1/sms/conversations?status=closed",
            &token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(closed[0]["case_id"], case["id"]);
    let bad = app
        .api(
            Method::GET,
            "/api/v1/sms/conversations?status=archived",
            &token,
            None,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        json(bad).await["detail"]
            .as_str()
            .unwrap()
            .contains("status")
    );
}

/// What the stand-in for Twilio received: request line, headers (lowercased names) and body.
#[derive(Debug, Clone)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// A local HTTP server that records each request and answers 201 with a message identifier.
async fn fake_twilio(sid: &'static str) -> (String, Arc<Mutex<Vec<Received>>>) {
    fake_twilio_scripted(vec![(
        201,
        format!(r#"{{"sid": "{sid}", "status": "queued"}}"#),
    )])
    .await
}

/// A local HTTP server that records each request and answers the `n`th with `script[n]` (the last entry
/// once the script runs out).
async fn fake_twilio_scripted(script: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            let (head_end, len) = loop {
                let n = sock.read(&mut buf).await.unwrap();
                raw.extend_from_slice(&buf[..n]);
                if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&raw[..i]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse::<usize>().unwrap())
                        .unwrap_or(0);
                    break (i, len);
                }
            };
            while raw.len() < head_end + 4 + len {
                let n = sock.read(&mut buf).await.unwrap();
                raw.extend_from_slice(&buf[..n]);
            }
            let head = String::from_utf8(raw[..head_end].to_vec()).unwrap();
            let mut lines = head.split("\r\n");
            let request_line = lines.next().unwrap().to_owned();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                .collect();
            let body = String::from_utf8(raw[head_end + 4..head_end + 4 + len].to_vec()).unwrap();
            let n = {
                let mut r = record.lock().unwrap();
                r.push(Received {
                    request_line,
                    headers,
                    body,
                });
                r.len() - 1
            };
            let (status, answer) = script[n.min(script.len() - 1)].clone();
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            sock.write_all(response.as_bytes()).await.unwrap();
        }
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn the_twilio_provider_posts_the_reply_to_the_messages_api_and_status_callbacks_update_it() {
    // Arrange: Twilio played by a local server.
    let sid = "SM0123456789abcdef0123456789abcdef";
    let account = format!("AC{:032x}", 7);
    let (base, seen) = fake_twilio(sid).await;
    let mut s = settings();
    s.sms.provider = "twilio".into();
    s.sms.account_sid = account.clone();
    s.sms.api_base_url = base;
    let app = TestApp::with_settings(s).await;
    let advocate = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&advocate).await;
    text(text_in(&app, 1, "BEFREE").await).await;
    let conv = conversations(&app).await.remove(0);

    // Act: the advocate replies through the API.
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/sms/conversations/{}/messages", conv.id),
            &token,
            Some(serde_json::json!({"body": "Hola, ¿estás a salvo? & safe?"})),
        )
        .await;

    // Assert: what Twilio received, exactly.
    let status = res.status();
    let delivery = json(res).await;
    assert_eq!(status, StatusCode::CREATED, "{delivery}");
    assert_eq!(delivery["provider_id"], sid);
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(
        r.request_line,
        format!("POST /2010-04-01/Accounts/{account}/Messages.json HTTP/1.1")
    );
    let header = |name: &str| {
        r.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{account}:{TOKEN}"));
    assert_eq!(
        header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = form_urlencoded::parse(r.body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        form,
        params(&[
            ("To", TEXTER),
            ("From", LINE),
            ("Body", "Hola, ¿estás a salvo? & safe?"),
            ("StatusCallback", STATUS_URL),
        ])
    );

    // A signed status callback moves the message to delivered; an unsigned one changes nothing.
    let cb = params(&[
        ("MessageSid", sid),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
    ]);
    let unsigned = post_webhook(&app, "/webhooks/sms/twilio/status", form_body(&cb), None).await;
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    let cb = params(&[("MessageSid", sid), ("MessageStatus", "delivered")]);
    let sig = signature::compute(TOKEN, STATUS_URL, &cb);
    let res = post_webhook(
        &app,
        "/webhooks/sms/twilio/status",
        form_body(&cb),
        Some(&sig),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let thread = json(
        app.api(
            Method::GET,
            &format!("/api/v1/sms/conversations/{}", conv.id),
            &token,
            None,
        )
        .await,
    )
    .await;
    let reply = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "reply")
        .unwrap()
        .clone();
    assert_eq!(reply["status"], "delivered");
    assert_eq!(reply["error_code"], serde_json::Value::Null);

    // A callback saying the carrier has the recipient opted out records the opt-out.
    let cb = params(&[
        ("MessageSid", sid),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "21610"),
    ]);
    let sig = signature::compute(TOKEN, STATUS_URL, &cb);
    let res = post_webhook(
        &app,
        "/webhooks/sms/twilio/status",
        form_body(&cb),
        Some(&sig),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(conversations(&app).await[0].opted_out);
}

fn form_body(p: &[(String, String)]) -> String {
    form(p)
}

/// An application whose replies go to a scripted stand-in for Twilio, retrying as production does but
/// with a short backoff.
async fn app_with_twilio(script: Vec<(u16, String)>) -> (TestApp, Arc<Mutex<Vec<Received>>>) {
    let (base, seen) = fake_twilio_scripted(script).await;
    let mut config = lantern_channels::outbound::TwilioConfig::new(format!("AC{:032x}", 7), TOKEN);
    config.base_url = base;
    config.max_attempts = 1;
    let provider = lantern_channels::outbound::TwilioProvider::new(
        config,
        lantern_channels::outbound::PlainHttp,
    )
    .unwrap();
    let line = SmsLine::with_provider(Arc::new(provider), "twilio")
        .with_retries(3, std::time::Duration::from_millis(300));
    (TestApp::with_sms(settings(), line).await, seen)
}

fn ok_answer() -> (u16, String) {
    (
        201,
        r#"{"sid": "SM0123456789abcdef0123456789abcdef"}"#.to_owned(),
    )
}

#[tokio::test]
async fn an_unreachable_provider_is_retried_and_a_stop_between_attempts_stops_the_next_one() {
    // A provider that fails once, then accepts: the reply goes out on the second attempt.
    let (app, seen) = app_with_twilio(vec![(500, "{}".into()), ok_answer()]).await;
    let advocate = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&advocate).await;
    text(text_in(&app, 1, "BEFREE").await).await;
    let conv = conversations(&app).await.remove(0);
    let path = format!("/api/v1/sms/conversations/{}/messages", conv.id);
    let res = app
        .api(
            Method::POST,
            &path,
            &token,
            Some(serde_json::json!({"body": "one"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(seen.lock().unwrap().len(), 2);

    // The same failure, but the texter sends STOP while the server waits to retry.
    let (app, seen) = app_with_twilio(vec![(500, "{}".into()), ok_answer()]).await;
    let advocate = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&advocate).await;
    text(text_in(&app, 1, "BEFREE").await).await;
    let conv = conversations(&app).await.remove(0);
    let path = format!("/api/v1/sms/conversations/{}/messages", conv.id);
    let (res, _) = tokio::join!(
        app.api(
            Method::POST,
            &path,
            &token,
            Some(serde_json::json!({"body": "two"}))
        ),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            text(text_in(&app, 2, "STOP").await).await
        }
    );
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(seen.lock().unwrap().len(), 1, "no attempt after the STOP");
}

#[tokio::test]
async fn a_carrier_opt_out_reported_by_twilio_is_recorded_as_an_opt_out() {
    let (app, seen) = app_with_twilio(vec![(
        400,
        r#"{"code": 21610, "message": "Attempt to send to unsubscribed recipient"}"#.into(),
    )])
    .await;
    let advocate = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&advocate).await;
    text(text_in(&app, 1, "BEFREE").await).await;
    let conv = conversations(&app).await.remove(0);
    let path = format!("/api/v1/sms/conversations/{}/messages", conv.id);

    let first = app
        .api(
            Method::POST,
            &path,
            &token,
            Some(serde_json::json!({"body": "hello"})),
        )
        .await;
    let second = app
        .api(
            Method::POST,
            &path,
            &token,
            Some(serde_json::json!({"body": "hello?"})),
        )
        .await;

    assert_eq!(first.status(), StatusCode::CONFLICT);
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the second reply never reached the provider"
    );
    assert!(conversations(&app).await[0].opted_out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_beyond_what_postgres_can_take_are_answered_503_with_retry_after_never_500() {
    use sqlx::Connection as _;
    const TEXTS: u32 = 400;
    use tower::ServiceExt as _;
    let Ok(base) = std::env::var("LANTERN_TEST_DATABASE_URL") else {
        eprintln!("LANTERN_TEST_DATABASE_URL is not set: skipped");
        return;
    };
    // Arrange: a fresh database behind a pool of two connections that gives up waiting after 100 ms.
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    let name = format!("lantern_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let opts = lantern_store::OpenOptions {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_millis(100),
    };
    let store = lantern_store::open(&url, lantern_store::Keyring::generate(), &opts)
        .await
        .unwrap();
    let hotline = store
        .create_hotline(
            &AuditCtx::system(None),
            &lantern_store::NewHotline {
                slug: "test".into(),
                name: "Test Hotline".into(),
            },
        )
        .await
        .unwrap();
    let router = lantern_server::router(lantern_server::AppState::new(store.clone(), settings()));

    // Act: 400 texts at once, from 400 senders: at a millisecond or more each, two connections take
    // well over 100 ms for them all.
    let mut tasks = Vec::new();
    for i in 0..TEXTS {
        let router = router.clone();
        tasks.push(tokio::spawn(async move {
            let mut p = sms_params(i, "are you there?");
            p[2].1 = format!("+1555201{i:04}");
            let sig = signature::compute(TOKEN, INBOUND_URL, &p);
            let req = Request::post("/webhooks/sms/twilio")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("X-Twilio-Signature", sig)
                .body(Body::from(form(&p)))
                .unwrap();
            router.oneshot(req).await.unwrap()
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }

    // Assert: each text was stored and answered, or refused as busy with a time to try again; never 500.
    let busy: Vec<_> = answers
        .iter()
        .filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    let stored = answers
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert_eq!(busy.len() + stored, TEXTS as usize, "only 200 or 503");
    assert!(
        !busy.is_empty(),
        "two connections cannot take every text in time"
    );
    for r in &busy {
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
    let events = store
        .recent_audit(&hotline.id, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "sms.receive")
        .count();
    assert_eq!(events, stored, "a refused text stored nothing");
    drop(store);
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
}
