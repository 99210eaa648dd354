//! The case file: timeline, notes, tasks.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use lantern_domain::account::Role;
use lantern_store::{AuditCtx, NewCase, NewContact};

async fn case_with_contact(app: &TestApp) -> String {
    let ctx = AuditCtx::system(None);
    let case = app
        .store
        .create_case(
            &ctx,
            &NewCase {
                hotline_id: app.hotline_id.clone(),
                status: "open".into(),
                form: "labor".into(),
                details_json: "{}".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.store
        .create_contact(
            &ctx,
            &NewContact {
                hotline_id: app.hotline_id.clone(),
                case_id: Some(case.id.clone()),
                channel: "sms".into(),
                location_precision: "state".into(),
                state: Some("FL".into()),
                narrative: Some("Crew leader holds everyone's passports".into()),
                occurred_at_us: 1_700_000_000_000_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    case.id
}

#[tokio::test]
async fn an_advocate_reads_the_timeline_and_adds_a_note_and_a_task() {
    let app = TestApp::new().await;
    app.user(Role::Advocate).await;
    let id = case_with_contact(&app).await;
    let b = app.login("advocate").await;
    let page = text(app.get(&format!("/cases/{id}"), Some(&b)).await).await;
    assert!(page.contains("Case 1"), "{page}");
    assert!(
        page.contains("Crew leader holds everyone") && page.contains("passports"),
        "the narrative is on the timeline"
    );
    let res = app
        .post_form(
            &format!("/cases/{id}/notes"),
            &b,
            &[("body", "Called back; safe to talk after 6pm")],
        )
        .await;
    assert!(
        text(res)
            .await
            .contains("Called back; safe to talk after 6pm")
    );
    let res = app
        .post_form(
            &format!("/cases/{id}/tasks"),
            &b,
            &[("title", "Find a T-visa lawyer"), ("due", "2026-12-01")],
        )
        .await;
    let page = text(res).await;
    assert!(page.contains("Find a T-visa lawyer") && page.contains("due 2026-12-01"));
    let bad = app
        .post_form(
            &format!("/cases/{id}/tasks"),
            &b,
            &[("title", "x"), ("due", "next week")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(bad).await.contains("due"));
}

#[tokio::test]
async fn the_api_returns_the_case_file_and_refuses_empty_notes_and_other_hotlines() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    let id = case_with_contact(&app).await;
    let file = json(
        app.api(Method::GET, &format!("/api/v1/cases/{id}"), &token, None)
            .await,
    )
    .await;
    assert_eq!(
        file["contacts"][0]["narrative"],
        "Crew leader holds everyone's passports"
    );
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/cases/{id}/notes"),
            &token,
            Some(serde_json::json!({"body": "  "})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/cases/{id}/tasks"),
            &token,
            Some(serde_json::json!({"title": "Follow up"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let task = json(res).await;
    let res = app
        .api(
            Method::PATCH,
            &format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()),
            &token,
            Some(serde_json::json!({"done": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let file = json(
        app.api(Method::GET, &format!("/api/v1/cases/{id}"), &token, None)
            .await,
    )
    .await;
    assert!(file["tasks"][0]["done_at_us"].is_i64());

    let other = app
        .store
        .create_hotline(
            &AuditCtx::system(None),
            &lantern_store::NewHotline {
                slug: "b".into(),
                name: "B".into(),
            },
        )
        .await
        .unwrap();
    let foreign = app
        .store
        .create_case(
            &AuditCtx::system(None),
            &NewCase {
                hotline_id: other.id,
                status: "open".into(),
                form: "sex".into(),
                details_json: "{}".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/v1/cases/{}", foreign.id),
            &token,
            None
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/cases/{}/notes", foreign.id),
            &token,
            Some(serde_json::json!({"body": "x"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
