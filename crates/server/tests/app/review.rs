//! The supervisors' review queue.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use lantern_domain::account::Role;
use lantern_store::{AuditCtx, NewContact, NewDetermination};

async fn potential_contact(app: &TestApp) -> String {
    let c = app
        .store
        .create_contact(
            &AuditCtx::system(None),
            &NewContact {
                hotline_id: app.hotline_id.clone(),
                channel: "phone".into(),
                location_precision: "state".into(),
                state: Some("TX".into()),
                occurred_at_us: 1,
                determination: Some(NewDetermination {
                    answers_json: "{}".into(),
                    outcome: "likely_trafficking".into(),
                    forms: vec!["sex".into()],
                    minor_rule_applied: true,
                    reasons: vec!["A minor in commercial sex: no means need be shown.".into()],
                    rules_version: "t".into(),
                    needs_review: true,
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    c.determinations[0].id.clone()
}

#[tokio::test]
async fn a_supervisor_sees_a_potential_case_at_once_and_confirms_it() {
    let app = TestApp::new().await;
    app.user(Role::Supervisor).await;
    let id = potential_contact(&app).await;
    let b = app.login("supervisor").await;
    let page = text(app.get("/review", Some(&b)).await).await;
    assert!(
        page.contains("Likely trafficking")
            && page.contains("minor rule")
            && page.contains("no means need be shown")
    );
    let res = app
        .post_form(&format!("/review/{id}"), &b, &[("decision", "confirm")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains("Confirmed: Likely trafficking."));
    assert!(
        app.store
            .review_queue(&app.hotline_id, "pending", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let events = app.store.recent_audit(&app.hotline_id, 5).await.unwrap();
    assert!(
        events.iter().any(|e| e.action == "determination.review"),
        "decisions are audited"
    );
}

#[tokio::test]
async fn sending_back_needs_a_comment_and_a_decision_is_made_once() {
    let app = TestApp::new().await;
    let sup = app.user(Role::Supervisor).await;
    let (token, _) = app.token_for(&sup).await;
    let id = potential_contact(&app).await;
    let path = format!("/api/v1/reviews/{id}");
    let res = app
        .api(
            Method::POST,
            &path,
            &token,
            Some(serde_json::json!({"decision": "return"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(res).await["errors"][0]["field"], "comment");
    let res = app
        .api(
            Method::POST,
            &path,
            &token,
            Some(serde_json::json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(json(res).await["errors"][0]["field"], "decision");
    let list = json(app.api(Method::GET, "/api/v1/reviews", &token, None).await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let res = app
        .api(
            Method::POST,
            &path,
            &token,
            Some(serde_json::json!({"decision": "return", "comment": "Ask whether she can leave"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        json(res).await["review_comment"],
        "Ask whether she can leave"
    );
    let again = app
        .api(
            Method::POST,
            &path,
            &token,
            Some(serde_json::json!({"decision": "confirm"})),
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let returned = json(
        app.api(Method::GET, "/api/v1/reviews?status=returned", &token, None)
            .await,
    )
    .await;
    assert_eq!(returned.as_array().unwrap().len(), 1);
    let bad = app
        .api(Method::GET, "/api/v1/reviews?status=later", &token, None)
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = app
        .api(Method::GET, "/api/v1/reviews?colour=red", &token, None)
        .await;
    assert_eq!(json(unknown).await["errors"][0]["field"], "colour");
}
