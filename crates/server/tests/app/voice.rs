//! The voice line end to end: Twilio's signed call webhooks, the TwiML answer that greets and enqueues,
//! status callbacks (retries change nothing), the advocate's calls page and call log, and the API.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use lantern_channels::signature;
use lantern_domain::account::Role;
use lantern_server::Settings;
use lantern_server::config::{Secret, VoiceNumber};
use lantern_store::{AuditCtx, CallFilter};
use serde_json::json;

const TOKEN: &str = "a-test-auth-token";
const LINE: &str = "+18885550100";
const LINEA: &str = "+18885550101";
const CALLER: &str = "+15552017788";
const VOICE_URL: &str = "https://hotline.example.org/webhooks/voice/twilio";
const STATUS_URL: &str = "https://hotline.example.org/webhooks/voice/twilio/status";

fn settings() -> Settings {
    let mut s = Settings {
        public_url: "https://hotline.example.org".into(),
        ..Settings::default()
    };
    s.sms.auth_token = Secret::new(TOKEN);
    s.voice.queue = "test-hotline".into();
    s.voice.numbers = vec![
        VoiceNumber {
            number: LINE.into(),
            hotline: "test".into(),
            language: "en".into(),
        },
        VoiceNumber {
            number: LINEA.into(),
            hotline: "test".into(),
            language: "es".into(),
        },
    ];
    s
}

fn call_params(sid: u32, status: &str, to: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("CallSid", format!("CA{sid:032x}").as_str()),
        ("AccountSid", format!("AC{:032x}", 1).as_str()),
        ("From", CALLER),
        ("To", to),
        ("CallStatus", status),
        ("Direction", "inbound"),
        ("ApiVersion", "2010-04-01"),
        ("CallerCity", "AUSTIN"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    p.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    p
}

fn form(p: &[(String, String)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in p {
        f.append_pair(k, v);
    }
    f.finish()
}

async fn post(app: &TestApp, path: &str, body: String, sig: Option<&str>) -> Response<Body> {
    let mut req =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(s) = sig {
        req = req.header("X-Twilio-Signature", s);
    }
    app.send(req.body(Body::from(body)).unwrap()).await
}

/// A call event signed as Twilio signs it.
async fn event(app: &TestApp, status_callback: bool, p: &[(String, String)]) -> Response<Body> {
    let (path, url) = if status_callback {
        ("/webhooks/voice/twilio/status", STATUS_URL)
    } else {
        ("/webhooks/voice/twilio", VOICE_URL)
    };
    post(app, path, form(p), Some(&signature::compute(TOKEN, url, p))).await
}

async fn calls(app: &TestApp) -> Vec<lantern_store::Call> {
    app.store
        .list_calls(
            &AuditCtx::system(None),
            &app.hotline_id,
            &CallFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

async fn call_events(app: &TestApp) -> usize {
    app.store
        .recent_audit(&app.hotline_id, 500)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action.starts_with("call.open") || e.action == "call.event")
        .count()
}

/// The text of the first `<name …>…</name>` element and its attributes, read from the TwiML.
fn element<'a>(xml: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let open = xml.find(&format!("<{name}"))?;
    let rest = &xml[open + name.len() + 1..];
    let gt = rest.find('>')?;
    let attrs = rest[..gt].trim();
    let body = &rest[gt + 1..];
    let close = body.find(&format!("</{name}>"))?;
    Some((attrs, &body[..close]))
}

#[tokio::test]
async fn a_new_call_opens_a_phone_contact_and_is_greeted_and_enqueued() {
    let app = TestApp::with_settings(settings()).await;

    let res = event(&app, false, &call_params(1, "ringing", LINE, &[])).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/xml; charset=utf-8"
    );
    let xml = text(res).await;
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"),
        "{xml}"
    );
    assert!(xml.ends_with("</Response>"), "{xml}");
    let (say_attrs, say) = element(&xml, "Say").expect("a greeting");
    assert_eq!(say_attrs, "language=\"en-US\"");
    assert!(say.starts_with("Thank you for calling"), "{say}");
    let (_, queue) = element(&xml, "Enqueue").expect("the queue");
    assert_eq!(queue, "test-hotline");
    assert!(xml.find("<Say").unwrap() < xml.find("<Enqueue").unwrap());

    let all = calls(&app).await;
    assert_eq!(all.len(), 1);
    let call = &all[0];
    assert_eq!(call.caller.as_deref(), Some(CALLER));
    assert_eq!(call.hotline_number.as_deref(), Some(LINE));
    assert_eq!(call.status, "ringing");
    let contact = app
        .store
        .contact(&AuditCtx::system(None), &app.hotline_id, &call.contact_id)
        .await
        .unwrap();
    assert_eq!(contact.channel, "phone");
    assert_eq!(contact.language.as_deref(), Some("en"));
}

#[tokio::test]
async fn a_caller_of_the_spanish_line_is_greeted_in_spanish() {
    let app = TestApp::with_settings(settings()).await;
    let xml = text(event(&app, false, &call_params(2, "ringing", LINEA, &[])).await).await;
    let (attrs, say) = element(&xml, "Say").unwrap();
    assert_eq!(attrs, "language=\"es-US\"");
    assert!(say.starts_with("Gracias por llamar"), "{say}");
    assert_eq!(calls(&app).await[0].status, "ringing");
}

#[tokio::test]
async fn a_signature_off_by_one_character_is_refused_and_stores_nothing() {
    let app = TestApp::with_settings(settings()).await;
    let p = call_params(3, "ringing", LINE, &[]);
    let good = signature::compute(TOKEN, VOICE_URL, &p);
    let mut bad = good.clone().into_bytes();
    bad[3] = if bad[3] == b'A' { b'B' } else { b'A' };
    let bad = String::from_utf8(bad).unwrap();
    let mut changed = p.clone();
    changed[2].1 = "+15552017789".into();

    for res in [
        post(&app, "/webhooks/voice/twilio", form(&p), None).await,
        post(&app, "/webhooks/voice/twilio", form(&p), Some(&bad)).await,
        post(&app, "/webhooks/voice/twilio", form(&changed), Some(&good)).await,
        // Signed for the voice webhook, posted to the status callback.
        post(&app, "/webhooks/voice/twilio/status", form(&p), Some(&good)).await,
        post(
            &app,
            "/webhooks/voice/twilio",
            form(&p),
            Some(&signature::compute("another-token", VOICE_URL, &p)),
        )
        .await,
    ] {
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
    assert!(calls(&app).await.is_empty());
    assert_eq!(call_events(&app).await, 0);

    // The unchanged request passes.
    assert_eq!(
        post(&app, "/webhooks/voice/twilio", form(&p), Some(&good))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn twilios_documented_example_validates_on_the_voice_webhook_and_a_one_character_change_fails()
 {
    let mut s = settings();
    s.sms.auth_token = Secret::new("12345");
    s.voice.webhook_url = "https://mycompany.com/myapp.php?foo=1&bar=2".into();
    let app = TestApp::with_settings(s).await;
    let example: Vec<(String, String)> = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let good = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
    // The signature passes, so the refusal is about the example's short CallSid (and missing CallStatus).
    let res = post(&app, "/webhooks/voice/twilio", form(&example), Some(good)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("CallSid"));
    let res = post(
        &app,
        "/webhooks/voice/twilio",
        form(&example),
        Some("0/KCTR6DLpKmkAf8muzZqo1nDgR="),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(calls(&app).await.is_empty());
}

#[tokio::test]
async fn malformed_events_are_refused_naming_the_parameter_and_store_nothing() {
    let app = TestApp::with_settings(settings()).await;
    let mut no_status = call_params(4, "ringing", LINE, &[]);
    no_status.retain(|(k, _)| k != "CallStatus");
    let res = event(&app, false, &no_status).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("CallStatus"));
    let res = event(&app, false, &call_params(4, "ringin", LINE, &[])).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = event(&app, false, &call_params(4, "ringing", "+18885550199", &[])).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let huge = "a".repeat(100 * 1024);
    let res = post(&app, "/webhooks/voice/twilio", huge, Some("x")).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(calls(&app).await.is_empty());
}

#[tokio::test]
async fn status_callbacks_update_the_same_call_and_retries_change_nothing() {
    let app = TestApp::with_settings(settings()).await;
    event(&app, false, &call_params(5, "ringing", LINE, &[])).await;
    // Twilio retries the first webhook: the same call, the same answer.
    let again = text(event(&app, false, &call_params(5, "ringing", LINE, &[])).await).await;
    assert!(again.contains("<Enqueue>test-hotline</Enqueue>"));
    assert_eq!(calls(&app).await.len(), 1);

    let res = event(&app, true, &call_params(5, "in-progress", LINE, &[])).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let done = call_params(
        5,
        "completed",
        LINE,
        &[
            ("CallDuration", "314"),
            ("Timestamp", "Tue, 01 Dec 2026 14:05:00 +0000"),
        ],
    );
    assert_eq!(
        event(&app, true, &done).await.status(),
        StatusCode::NO_CONTENT
    );
    let after = calls(&app).await;
    assert_eq!(after.len(), 1);
    let call = &after[0];
    assert_eq!(call.status, "completed");
    assert_eq!(call.duration_s, Some(314));
    assert!(call.answered_at_us.is_some() && call.ended_at_us.is_some());
    let events = call_events(&app).await;

    // The completed callback retried, and a late ringing one: nothing moves, nothing is audited.
    assert_eq!(
        event(&app, true, &done).await.status(),
        StatusCode::NO_CONTENT
    );
    event(&app, true, &call_params(5, "ringing", LINE, &[])).await;
    assert_eq!(calls(&app).await, after);
    assert_eq!(call_events(&app).await, events);

    // A first webhook for a call already over answers with nothing to do.
    let xml = text(event(&app, false, &done).await).await;
    assert!(xml.ends_with("<Response/>"), "{xml}");

    // A no-answer call ends as no-answer.
    event(&app, false, &call_params(6, "ringing", LINE, &[])).await;
    event(
        &app,
        true,
        &call_params(6, "no-answer", LINE, &[("CallDuration", "0")]),
    )
    .await;
    let missed = calls(&app)
        .await
        .into_iter()
        .find(|c| c.status == "no-answer")
        .unwrap();
    assert!(missed.ended_at_us.is_some());
}

#[tokio::test]
async fn an_advocate_takes_a_queued_call_and_logs_it_with_field_errors_inline() {
    let app = TestApp::with_settings(settings()).await;
    app.user(Role::Advocate).await;
    app.user_named("second", Role::Advocate).await;
    let b = app.login("advocate").await;
    event(&app, false, &call_params(7, "queued", LINE, &[])).await;
    let call = calls(&app).await.remove(0);

    let page = text(app.get("/calls", Some(&b)).await).await;
    assert!(
        page.contains("Caller ending 7788") && page.contains("Take this call"),
        "{page}"
    );
    assert!(
        !page.contains(CALLER),
        "the list shows only the number's last digits"
    );
    let res = app
        .post_form(&format!("/calls/{}/take", call.id), &b, &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[header::LOCATION],
        format!("/contacts/{}/call", call.contact_id).as_str()
    );
    assert!(
        text(app.get("/calls", Some(&b)).await)
            .await
            .contains(">you<")
    );
    // Another advocate cannot take it any more.
    let other = app.login("second").await;
    let res = app
        .post_form(&format!("/calls/{}/take", call.id), &other, &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Bad fields: the form again, each error beside its field, nothing saved.
    let path = format!("/contacts/{}/call", call.contact_id);
    let res = app
        .post_form(
            &path,
            &b,
            &[
                ("started_at", "2026-03-01T14:05"),
                ("ended_at", "2026-03-01T13:00"),
                ("signaler_type", "neighbour"),
                ("interpreter_language", "vietnamese"),
                ("interpreter_vendor", "Language Line"),
                ("transfer_target", ""),
                ("transfer_service_id", "no-such-service"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = text(res).await;
    for id in [
        "ended_at-error",
        "signaler_type-error",
        "interpreter_language-error",
        "transfer_service_id-error",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "no {id}");
    }
    assert!(html.contains("the call cannot end before it started"));
    assert!(
        html.contains("value=\"Language Line\""),
        "what was typed is kept"
    );
    let c = &calls(&app).await[0];
    assert!(c.interpreter_vendor.is_none() && c.signaler_type.is_none());

    // Good fields: saved, shown again.
    let res = app
        .post_form(
            &path,
            &b,
            &[
                ("started_at", "2026-03-01T14:05"),
                ("ended_at", "2026-03-01T14:35"),
                ("signaler_type", "family_friend"),
                ("interpreter_language", "vi"),
                ("interpreter_vendor", "Language Line"),
                ("transfer_target", "Casa Segura shelter intake line"),
                ("transfer_service_id", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let c = calls(&app).await.remove(0);
    assert_eq!(c.signaler_type.as_deref(), Some("family_friend"));
    assert_eq!(c.interpreter_language.as_deref(), Some("vi"));
    assert_eq!(c.interpreter_vendor.as_deref(), Some("Language Line"));
    assert_eq!(
        c.transfer_target.as_deref(),
        Some("Casa Segura shelter intake line")
    );
    assert_eq!(
        c.ended_at_us.unwrap() - c.started_at_us,
        30 * 60 * 1_000_000
    );
    let html = text(app.get(&format!("{path}?saved=1"), Some(&b)).await).await;
    assert!(html.contains("Saved.") && html.contains("value=\"2026-03-01T14:35\""));
}

#[tokio::test]
async fn the_call_api_lists_takes_and_logs_calls() {
    let app = TestApp::with_settings(settings()).await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    event(&app, false, &call_params(8, "ringing", LINE, &[])).await;
    event(&app, false, &call_params(9, "ringing", LINE, &[])).await;
    event(
        &app,
        true,
        &call_params(9, "completed", LINE, &[("CallDuration", "60")]),
    )
    .await;

    let live = json(
        app.api(Method::GET, "/api/v1/calls?live=true", &token, None)
            .await,
    )
    .await;
    assert_eq!(live.as_array().unwrap().len(), 1);
    assert_eq!(live[0]["status"], "ringing");
    assert_eq!(live[0]["caller"], CALLER);
    let all = json(app.api(Method::GET, "/api/v1/calls", &token, None).await).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let bad = app
        .api(Method::GET, "/api/v1/calls?limit=0", &token, None)
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let id = live[0]["id"].as_str().unwrap();
    let contact = live[0]["contact_id"].as_str().unwrap();
    let taken = json(
        app.api(
            Method::POST,
            &format!("/api/v1/calls/{id}/take"),
            &token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(taken["advocate_id"], adv.id.as_str());

    let path = format!("/api/v1/contacts/{contact}/call");
    let res = app
        .api(
            Method::PUT,
            &path,
            &token,
            Some(json!({"started_at": "2026-03-01T14:05:00Z", "interpreter_language": "x1"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = json(res).await;
    assert_eq!(problem["errors"][0]["field"], "interpreter_language");
    let res = app
        .api(
            Method::PUT,
            &path,
            &token,
            Some(json!({"started_at": "2026-03-01T14:05:00Z", "colour": "red"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .api(
            Method::PUT,
            &path,
            &token,
            Some(
                json!({"started_at": "2026-03-01T14:05:00Z", "signaler_type": "law_enforcement",
                        "transfer_target": "FBI victim specialist"}),
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let got = json(app.api(Method::GET, &path, &token, None).await).await;
    assert_eq!(got["signaler_type"], "law_enforcement");
    assert_eq!(got["transfer_target"], "FBI victim specialist");

    // A contact of another channel has no call log.
    let tip = app
        .store
        .create_contact(
            &AuditCtx::system(None),
            &lantern_store::NewContact {
                hotline_id: app.hotline_id.clone(),
                channel: "webform".into(),
                location_precision: "unknown".into(),
                occurred_at_us: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let res = app
        .api(
            Method::PUT,
            &format!("/api/v1/contacts/{}/call", tip.id),
            &token,
            Some(json!({"started_at": "2026-03-01T14:05:00Z"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .api(
            Method::GET,
            &format!("/api/v1/contacts/{}/call", tip.id),
            &token,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_advocates_and_supervisors_work_the_calls() {
    let app = TestApp::with_settings(settings()).await;
    event(&app, false, &call_params(10, "queued", LINE, &[])).await;
    let call = calls(&app).await.remove(0);
    for (role, expected) in [
        (Role::Advocate, StatusCode::OK),
        (Role::Supervisor, StatusCode::OK),
        (Role::Analyst, StatusCode::FORBIDDEN),
        (Role::DirectoryManager, StatusCode::FORBIDDEN),
        (Role::Partner, StatusCode::FORBIDDEN),
        (Role::Admin, StatusCode::FORBIDDEN),
    ] {
        let u = app.user(role).await;
        let b = app.login(role.code()).await;
        assert_eq!(
            app.get("/calls", Some(&b)).await.status(),
            expected,
            "{role}"
        );
        assert_eq!(
            app.get(&format!("/contacts/{}/call", call.contact_id), Some(&b))
                .await
                .status(),
            expected,
            "{role}"
        );
        let (token, _) = app.token_for(&u).await;
        let api = app.api(Method::GET, "/api/v1/calls", &token, None).await;
        assert_eq!(api.status(), expected, "{role}");
    }
}
