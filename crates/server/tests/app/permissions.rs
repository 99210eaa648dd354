//! Every route of the table, for every role, against an expectation written out here independently of
//! the policy module.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use lantern_domain::account::Role;
use lantern_server::auth::{Access, CSRF_HEADER};
use lantern_server::policy::Action;
use lantern_server::routes;

/// Who may use routes guarded by each action, as DESIGN.md's roles table says.
fn expected(action: Action) -> &'static [Role] {
    use Role::*;
    match action {
        Action::ViewHome => &[
            Advocate,
            Supervisor,
            Analyst,
            DirectoryManager,
            Admin,
            Partner,
        ],
        Action::ContactWrite
        | Action::CaseRead
        | Action::CaseWrite
        | Action::ReferralWrite
        | Action::ChannelConsole => &[Advocate, Supervisor],
        Action::ScreeningAssess => &[Advocate, Supervisor, Analyst],
        Action::Review => &[Supervisor],
        Action::DirectoryRead => &[Advocate, Supervisor, DirectoryManager, Analyst, Partner],
        Action::DirectoryWrite => &[DirectoryManager],
        Action::PartnerInbox => &[Partner],
        Action::InsightsRead => &[Supervisor, Analyst],
        Action::LinkageRun => &[Analyst],
        Action::LinkageRead => &[Advocate, Supervisor, Analyst],
        Action::ManageUsers | Action::AuditRead => &[Admin],
    }
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "00000000-0000-7000-8000-000000000000")
        .replace("{table}", "service")
}

fn request(method: &Method, path: &str, b: Option<&Browser>) -> Request<Body> {
    let mut req = Request::builder()
        .method(method.clone())
        .uri(concrete(path));
    if let Some(b) = b {
        req = req.header(header::COOKIE, &b.cookie);
        if *method != Method::GET {
            req = req.header(CSRF_HEADER, &b.csrf);
        }
    }
    if *method == Method::GET || *method == Method::DELETE {
        return req.body(Body::empty()).unwrap();
    }
    if path.starts_with("/api/") {
        req.header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap()
    } else {
        req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(""))
            .unwrap()
    }
}

#[tokio::test]
async fn each_role_reaches_exactly_the_routes_its_actions_allow() {
    let app = TestApp::new().await;
    let mut browsers = Vec::new();
    for role in Role::ALL {
        app.user(role).await;
        browsers.push((role, app.login(role.code()).await));
    }
    let mut table = routes::table();
    // Signing out ends the session the other checks use: do it last.
    table.sort_by_key(|r| r.path == "/logout");
    let mut checked = 0;
    for spec in &table {
        let Access::Staff(action) = spec.access else {
            continue;
        };
        for (role, b) in &browsers {
            let res = app.send(request(&spec.method, spec.path, Some(b))).await;
            let status = res.status();
            if expected(action).contains(role) {
                assert!(
                    ![
                        StatusCode::FORBIDDEN,
                        StatusCode::UNAUTHORIZED,
                        StatusCode::INTERNAL_SERVER_ERROR
                    ]
                    .contains(&status),
                    "{role} should reach {} {} but got {status}",
                    spec.method,
                    spec.path
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} must be refused {} {}",
                    spec.method,
                    spec.path
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= Role::ALL.len() * 15,
        "checked {checked} route × role pairs"
    );
}

#[tokio::test]
async fn without_credentials_pages_send_to_login_the_api_answers_401_and_public_routes_stay_open() {
    let app = TestApp::new().await;
    for spec in routes::table() {
        let res = app.send(request(&spec.method, spec.path, None)).await;
        match spec.access {
            Access::Public => assert!(
                ![
                    StatusCode::UNAUTHORIZED,
                    StatusCode::FORBIDDEN,
                    StatusCode::INTERNAL_SERVER_ERROR
                ]
                .contains(&res.status())
                    || spec.path == "/login" && spec.method == Method::POST
                    // Webhooks are public but refuse what Twilio did not sign.
                    || spec.path.starts_with("/webhooks/") && res.status() == StatusCode::FORBIDDEN,
                "{} {} -> {}",
                spec.method,
                spec.path,
                res.status()
            ),
            Access::Staff(_) if spec.path.starts_with("/api/") => {
                assert_eq!(
                    res.status(),
                    StatusCode::UNAUTHORIZED,
                    "{} {}",
                    spec.method,
                    spec.path
                )
            }
            Access::Staff(_) => {
                assert_eq!(
                    res.status(),
                    StatusCode::SEE_OTHER,
                    "{} {}",
                    spec.method,
                    spec.path
                );
                assert_eq!(res.headers()[header::LOCATION], "/login");
            }
        }
    }
}

#[tokio::test]
async fn an_admin_of_one_hotline_cannot_touch_a_user_of_another() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let (token, _) = app.token_for(&admin).await;
    let ctx = lantern_store::AuditCtx::system(None);
    let other = app
        .store
        .create_hotline(
            &ctx,
            &lantern_store::NewHotline {
                slug: "other".into(),
                name: "Other".into(),
            },
        )
        .await
        .unwrap();
    let stranger = app
        .store
        .create_user(
            &ctx,
            &lantern_store::NewUser {
                hotline_id: other.id,
                username: lantern_domain::account::Username::parse("stranger").unwrap(),
                role: Role::Advocate,
                partner_org_id: None,
                full_name: "Stranger".into(),
                phone: None,
                password_hash: "x".into(),
            },
        )
        .await
        .unwrap();
    let path = format!("/api/v1/users/{}", stranger.id);
    assert_eq!(
        app.api(Method::GET, &path, &token, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = app
        .api(
            Method::PATCH,
            &path,
            &token,
            Some(serde_json::json!({"disabled": true})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let list = json(app.api(Method::GET, "/api/v1/users", &token, None).await).await;
    assert!(!list.to_string().contains("stranger"));
}
