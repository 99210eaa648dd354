//! The anonymous web tip form: English and Spanish, what it stores, and every refusal storing nothing.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use lantern_domain::account::Role;
use lantern_server::Settings;
use lantern_store::{AuditCtx, ContactFilter};

fn settings(max_per_hour: i64) -> Settings {
    let mut s = Settings::default();
    s.tips.max_per_hour = max_per_hour;
    s.tips.client_ip_header = "x-forwarded-for".into();
    s
}

async fn tip(app: &TestApp, path: &str, address: &str, body: &str) -> Response<Body> {
    app.send(
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-forwarded-for", format!("10.0.0.1, {address}"))
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

async fn tips_stored(app: &TestApp) -> Vec<lantern_store::Contact> {
    app.store
        .list_contacts(
            &AuditCtx::system(None),
            &app.hotline_id,
            &ContactFilter {
                channel: Some("webform".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .0
}

fn assert_leaves_no_trace(res: &Response<Body>) {
    assert!(
        res.headers().get(header::SET_COOKIE).is_none(),
        "a help page set a cookie"
    );
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
}

const GOOD: &str = "who=family_friend&state=TX&city=El+Paso&zip=79901&narrative=They+keep+my+cousin%27s+passport+at+the+restaurant&website=&lang=en";

#[tokio::test]
async fn the_form_is_offered_in_english_and_spanish_with_the_quick_exit_and_no_trace() {
    let app = TestApp::with_settings(settings(10)).await;
    for (path, words) in [
        (
            "/tip",
            ["Send a tip", "Quick exit", "Who are you?", "lang=es"],
        ),
        (
            "/tip?lang=es",
            [
                "Enviar un aviso",
                "Salida rápida",
                "¿Quién es usted?",
                "lang=en",
            ],
        ),
    ] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_leaves_no_trace(&res);
        let html = text(res).await;
        for w in words {
            assert!(html.contains(w), "{path} lacks {w}");
        }
        assert!(html.contains("id=\"quick-exit\"") && html.contains("/static/help/quick-exit.js"));
        assert!(html.contains("name=\"website\"") && html.contains("class=\"hp\""));
        assert!(
            !html.contains("csrf"),
            "an anonymous form carries no session token"
        );
    }
}

#[tokio::test]
async fn a_tip_becomes_a_webform_contact_that_advocates_see_and_can_attach() {
    let app = TestApp::with_settings(settings(10)).await;
    let res = tip(&app, "/tip?lang=es", "198.51.100.7", GOOD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_leaves_no_trace(&res);
    assert!(text(res).await.contains("Hemos recibido su aviso"));

    let stored = tips_stored(&app).await;
    assert_eq!(stored.len(), 1);
    let c = &stored[0];
    assert_eq!(c.channel, "webform");
    assert_eq!(c.category.as_deref(), Some("tip"));
    assert_eq!(c.signaler_type.as_deref(), Some("family_friend"));
    assert_eq!(c.language.as_deref(), Some("es"));
    assert_eq!(
        (c.state.as_deref(), c.zip.as_deref()),
        (Some("TX"), Some("79901"))
    );
    assert_eq!(c.city.as_deref(), Some("El Paso"));
    assert_eq!(c.location_precision, "zip");
    assert!(c.narrative.as_deref().unwrap().contains("passport"));
    assert!(c.created_by.is_none());

    app.user(Role::Advocate).await;
    let b = app.login("advocate").await;
    let list = app.get("/tips", Some(&b)).await;
    assert_eq!(list.status(), StatusCode::OK);
    let html = text(list).await;
    assert!(html.contains(&format!("/contacts/{}", c.id)) && html.contains("passport"));
    // The tip is a contact like any other: it joins a case.
    let case = app
        .store
        .create_case(
            &AuditCtx::system(None),
            &lantern_store::NewCase {
                hotline_id: app.hotline_id.clone(),
                status: "open".into(),
                form: "not_specified".into(),
                details_json: "{}".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let res = app
        .post_form(
            &format!("/contacts/{}/attach", c.id),
            &b,
            &[("case_number", &case.number.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        tips_stored(&app).await[0].case_id.as_deref(),
        Some(case.id.as_str())
    );
}

#[tokio::test]
async fn a_filled_honeypot_is_thanked_and_nothing_is_stored() {
    let app = TestApp::with_settings(settings(10)).await;
    let res = tip(
        &app,
        "/tip",
        "198.51.100.7",
        &GOOD.replace("website=", "website=http%3A%2F%2Fspam.example"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains("Your tip has been received"));
    assert!(tips_stored(&app).await.is_empty());
}

#[tokio::test]
async fn too_many_tips_from_one_address_get_a_429_naming_when_to_retry() {
    let app = TestApp::with_settings(settings(2)).await;
    for _ in 0..2 {
        assert_eq!(
            tip(&app, "/tip", "198.51.100.7", GOOD).await.status(),
            StatusCode::OK
        );
    }
    let res = tip(&app, "/tip?lang=es", "198.51.100.7", GOOD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_leaves_no_trace(&res);
    let retry: i64 = res.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    let html = text(res).await;
    assert!(html.contains("inténtelo de nuevo en 60 minutos"), "{html}");
    assert!(html.contains("No se guardó nada"));
    assert_eq!(tips_stored(&app).await.len(), 2);
    // Another address is not held back.
    assert_eq!(
        tip(&app, "/tip", "203.0.113.9", GOOD).await.status(),
        StatusCode::OK
    );
    assert_eq!(tips_stored(&app).await.len(), 3);
}

#[tokio::test]
async fn client_addresses_never_reach_the_database_file() {
    let app = TestApp::with_settings(settings(10)).await;
    tip(&app, "/tip", "198.51.100.77", GOOD).await;
    assert_eq!(tips_stored(&app).await.len(), 1);
    for path in app.files() {
        let bytes = std::fs::read(path).unwrap();
        for needle in ["198.51.100.77", "passport"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "found {needle} in plaintext"
            );
        }
    }
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_stores_nothing() {
    let app = TestApp::with_settings(settings(100)).await;
    // A field at fault: the form again, with the error beside the field and what was typed kept.
    let res = tip(
        &app,
        "/tip",
        "198.51.100.7",
        &GOOD.replace("zip=79901", "zip=7990"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = text(res).await;
    assert!(html.contains("id=\"zip-error\"") && html.contains("A ZIP code has five digits."));
    assert!(
        html.contains("They keep my cousin"),
        "the narrative is kept for the retry"
    );
    let long = format!("narrative={}", "a".repeat(5001));
    let res = tip(&app, "/tip?lang=es", "198.51.100.7", &long).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("Como máximo 5.000 caracteres."));
    let res = tip(&app, "/tip", "198.51.100.7", "narrative=x&narrative=y").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = tip(&app, "/tip", "198.51.100.7", "who=anonymous").await;
    assert!(text(res).await.contains("id=\"narrative-error\""));

    // A huge body, declared or not.
    let huge = format!("narrative={}", "a".repeat(3 << 20));
    let res = tip(&app, "/tip", "198.51.100.7", &huge).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_leaves_no_trace(&res);
    assert!(text(res).await.contains("too large"));
    let res = app
        .send(
            Request::post("/tip")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::CONTENT_LENGTH, (50u64 << 20).to_string())
                .body(Body::from("narrative=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Not a form; a form from another site.
    let res = app
        .send(
            Request::post("/tip")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"narrative\":\"x\"}"))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        text(res)
            .await
            .contains("Send the tip with the form on this page.")
    );
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let res = app
            .send(
                Request::post("/tip")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(name, value)
                    .body(Body::from(GOOD))
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}");
    }
    let same = app
        .send(
            Request::post("/tip")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("origin", "http://127.0.0.1:8080")
                .body(Body::from(GOOD))
                .unwrap(),
        )
        .await;
    assert_eq!(same.status(), StatusCode::OK);
    assert_eq!(
        tips_stored(&app).await.len(),
        1,
        "only the last, good tip was stored"
    );
}

#[tokio::test]
async fn only_advocates_and_supervisors_see_the_tips() {
    let app = TestApp::with_settings(settings(10)).await;
    for (role, expected) in [
        (Role::Advocate, StatusCode::OK),
        (Role::Supervisor, StatusCode::OK),
        (Role::Analyst, StatusCode::FORBIDDEN),
        (Role::Partner, StatusCode::FORBIDDEN),
        (Role::Admin, StatusCode::FORBIDDEN),
    ] {
        app.user(role).await;
        let b = app.login(role.code()).await;
        assert_eq!(
            app.get("/tips", Some(&b)).await.status(),
            expected,
            "{role}"
        );
    }
    assert_eq!(app.get("/tips", None).await.status(), StatusCode::SEE_OTHER);
}
