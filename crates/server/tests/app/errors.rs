//! What a client's mistakes get back: problem+json naming the field, never a 500.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use lantern_domain::account::Role;
use rstest::rstest;

async fn admin_app() -> (TestApp, String) {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let (token, _) = app.token_for(&admin).await;
    (app, token)
}

#[rstest]
#[case::unknown_field(r#"{"username":"abc","full_name":"A","role":"advocate","password":"a long password!","colour":"red"}"#, 422, "colour")]
#[case::wrong_type(
    r#"{"username":7,"full_name":"A","role":"advocate","password":"a long password!"}"#,
    422,
    "username"
)]
#[case::missing_field(
    r#"{"username":"abc","role":"advocate","password":"a long password!"}"#,
    422,
    "full_name"
)]
#[case::not_json("{username:", 400, "not valid JSON")]
#[case::empty("", 400, "not valid JSON")]
#[tokio::test]
async fn bad_json_is_a_problem_naming_what_was_wrong(
    #[case] body: &str,
    #[case] status: u16,
    #[case] mentions: &str,
) {
    let (app, token) = admin_app().await;
    let res = app
        .send(
            Request::post("/api/v1/users")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status().as_u16(), status);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let problem = json(res).await;
    assert_eq!(problem["status"], status);
    assert!(problem.to_string().contains(mentions), "{problem}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_and_an_unknown_path_is_404() {
    let (app, token) = admin_app().await;
    let res = app
        .send(
            Request::post("/api/v1/users")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("hello"))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        app.api(Method::GET, "/api/v1/nothing-here", &token, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(Method::PUT, "/api/v1/me", &token, None)
            .await
            .status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/users/not-a-user", &token, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_huge_body_is_refused_without_a_500() {
    let (app, token) = admin_app().await;
    let big = format!("{{\"username\":\"{}\"}}", "a".repeat(3 << 20));
    let res = app
        .api(
            Method::POST,
            "/api/v1/users",
            &token,
            Some(serde_json::from_str(&big).unwrap()),
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_malformed_bearer_header_is_401() {
    let app = TestApp::new().await;
    let res = app
        .send(
            Request::get("/api/v1/me")
                .header(header::AUTHORIZATION, "Basic abc")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
