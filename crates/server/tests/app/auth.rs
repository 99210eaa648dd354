//! Signing in, sessions, CSRF and tokens.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use lantern_domain::account::Role;
use lantern_server::auth;
use lantern_store::{AuditCtx, NewSession};

#[tokio::test]
async fn the_right_password_opens_a_session_with_strict_http_only_cookies() {
    let app = TestApp::new().await;
    app.user(Role::Advocate).await;
    let res = app.try_login("advocate", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("lantern_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let b = app.login("advocate").await;
    let home = text(app.get("/", Some(&b)).await).await;
    assert!(home.contains("Test advocate") && home.contains("Advocate"));
}

#[tokio::test]
async fn a_wrong_password_or_unknown_user_is_refused_with_the_same_words() {
    let app = TestApp::new().await;
    app.user(Role::Advocate).await;
    let wrong = app.try_login("advocate", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie_value(&wrong, auth::SESSION_COOKIE).is_none());
    let unknown = app.try_login("nobody", "not the password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(text(wrong).await.contains("Wrong username or password."));
    assert!(text(unknown).await.contains("Wrong username or password."));
    let events = app.store.recent_audit(&app.hotline_id, 10).await.unwrap();
    assert!(
        events.iter().any(|e| e.action == "login.failure"),
        "failed logins are audited"
    );
}

#[tokio::test]
async fn five_failures_lock_the_account_even_against_the_right_password() {
    let app = TestApp::new().await;
    app.user(Role::Advocate).await;
    for _ in 0..5 {
        assert_eq!(
            app.try_login("advocate", "wrong password!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.try_login("advocate", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(text(res).await.contains("locked"));
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in() {
    let app = TestApp::new().await;
    let u = app.user(Role::Advocate).await;
    app.store
        .update_user(
            &AuditCtx::system(None),
            &app.hotline_id,
            &u.id,
            &lantern_store::UserChange {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        app.try_login("advocate", PASSWORD).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_login_post_without_its_csrf_pair_is_forbidden() {
    let app = TestApp::new().await;
    app.user(Role::Advocate).await;
    let body = serde_urlencoded::to_string([
        ("username", "advocate"),
        ("password", PASSWORD),
        ("csrf_token", "forged"),
    ])
    .unwrap();
    let res = app
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, "lantern_login_csrf=other")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_expired_session_sends_pages_to_login_and_the_api_answers_401() {
    let app = TestApp::new().await;
    let u = app.user(Role::Advocate).await;
    let secret = auth::random_secret();
    let past = lantern_server::accounts::now_us() - 1;
    app.store
        .create_session(
            &AuditCtx::system(None),
            &NewSession {
                token_hash: auth::secret_hash(&secret),
                user_id: u.id,
                csrf_token: "c".into(),
                expires_at_us: past,
            },
        )
        .await
        .unwrap();
    let b = Browser {
        cookie: format!("lantern_session={secret}"),
        csrf: "c".into(),
    };
    let page = app.get("/", Some(&b)).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()[header::LOCATION], "/login");
    assert_eq!(
        app.get("/api/v1/me", Some(&b)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::new().await;
    app.user(Role::Advocate).await;
    let b = app.login("advocate").await;
    assert_eq!(
        app.post_form("/logout", &b, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/api/v1/me", Some(&b)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_form_post_without_the_csrf_token_is_forbidden_and_changes_nothing() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let b = app.login("admin").await;
    let body = serde_urlencoded::to_string([("name", "Sneaky Org")]).unwrap();
    let res = app
        .send(
            Request::post("/admin/partners")
                .header(header::COOKIE, &b.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let wrong = Browser {
        csrf: "not-the-token".into(),
        ..b.clone()
    };
    assert_eq!(
        app.post_form("/admin/partners", &wrong, &[("name", "Sneaky Org")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.store
            .list_partner_orgs(&app.hotline_id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.post_form("/admin/partners", &b, &[("name", "Real Org")])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.store
            .list_partner_orgs(&app.hotline_id)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_token_works_until_it_is_revoked_then_answers_401() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let (secret, id) = app.token_for(&admin).await;
    let me = app.api(Method::GET, "/api/v1/me", &secret, None).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(json(me).await["username"], "admin");
    let res = app
        .api(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &secret,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &secret, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", "lnt_made_up", None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_admin_creates_a_user_who_can_then_sign_in_and_the_token_is_shown_once() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let b = app.login("admin").await;
    let res = app
        .post_form(
            "/admin/users",
            &b,
            &[
                ("username", "newbie"),
                ("full_name", "New Advocate"),
                ("role", "advocate"),
                ("partner_org_id", ""),
                ("phone", "(555) 201-3344"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains("Added newbie."));
    let (newbie, _) = app.store.user_for_login("newbie").await.unwrap().unwrap();
    assert_eq!(newbie.phone.as_deref(), Some("+15552013344"));
    app.login("newbie").await;

    let page = text(
        app.post_form(
            &format!("/admin/users/{}/tokens", newbie.id),
            &b,
            &[("name", "bridge")],
        )
        .await,
    )
    .await;
    assert!(page.contains("lnt_"), "the new token is on the page once");
    let again = text(
        app.get(&format!("/admin/users/{}", newbie.id), Some(&b))
            .await,
    )
    .await;
    assert!(!again.contains("shown only once"));
}

#[tokio::test]
async fn a_bad_new_user_names_every_bad_field_and_creates_nothing() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let (token, _) = app.token_for(&admin).await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/users",
            &token,
            Some(serde_json::json!({"username": "x", "full_name": "", "role": "boss", "password": "short"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(res).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "role", "full_name", "password"]);
    assert!(
        body["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("directory_manager"),
        "lists the allowed roles"
    );
    assert_eq!(
        app.store
            .list_users(&AuditCtx::system(None), &app.hotline_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn disabling_a_user_stops_their_token_at_once_even_just_after_it_was_used() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let adv = app.user(Role::Advocate).await;
    let (admin_token, _) = app.token_for(&admin).await;
    let (adv_token, _) = app.token_for(&adv).await;
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &adv_token, None)
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", adv.id),
            &admin_token,
            Some(serde_json::json!({"disabled": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &adv_token, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
