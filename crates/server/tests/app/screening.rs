//! The screening API, replaying the domain's table of cases.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use lantern_domain::account::Role;

#[tokio::test]
async fn the_api_gives_every_table_case_its_expected_determination() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../../domain/tests/screening_cases.json")).unwrap();
    for c in cases {
        let res = app
            .api(
                Method::POST,
                "/api/v1/screening/assess",
                &token,
                Some(c["answers"].clone()),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{}", c["name"]);
        let d = json(res).await;
        for key in ["outcome", "forms", "minor_rule_applied", "missing"] {
            assert_eq!(d[key], c["expect"][key], "{}: {key}", c["name"]);
        }
        assert!(d["reasons"].as_array().is_some_and(|r| !r.is_empty()));
        assert_eq!(
            d.as_object().unwrap().len(),
            5,
            "exactly outcome, forms, minor_rule_applied, missing, reasons"
        );
    }
}

#[tokio::test]
async fn an_unknown_code_is_422_naming_the_field_and_the_allowed_values() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/screening/assess",
            &token,
            Some(serde_json::json!({"means": ["debt_bondage", "blackmail"]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = json(res).await;
    assert_eq!(p["errors"][0]["field"], "means[1]");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("withholds_documents")
    );
    let res = app
        .api(
            Method::POST,
            "/api/v1/screening/assess",
            &token,
            Some(serde_json::json!({"subject_age": 16, "subject_minor": false})),
        )
        .await;
    assert_eq!(json(res).await["errors"][0]["field"], "subject_minor");
}
