//! `TestApp`: a fresh database and application per test, with typed helpers.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use lantern_domain::account::{Role, Username};
use lantern_server::{AppState, Settings, auth};
use lantern_store::{AuditCtx, Keyring, NewHotline, NewUser, OpenOptions, Store};
use std::sync::Arc;
use tower::ServiceExt as _;

/// One application over its own SQLite database.
pub struct TestApp {
    pub store: Arc<dyn Store>,
    pub router: Router,
    pub hotline_id: String,
    pub partner_org_id: String,
    _dir: tempfile::TempDir,
}

/// A signed-in browser: its cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

pub const PASSWORD: &str = "a long test password";

impl TestApp {
    pub async fn new() -> Self {
        Self::with_settings(Settings::default()).await
    }

    pub async fn with_settings(settings: Settings) -> Self {
        Self::build(settings, None).await
    }

    /// An application whose texts go through `sms` (a log provider the test keeps a handle on).
    pub async fn with_sms(settings: Settings, sms: lantern_server::sms::SmsLine) -> Self {
        Self::build(settings, Some(sms)).await
    }

    async fn build(settings: Settings, sms: Option<lantern_server::sms::SmsLine>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("t.db").display().to_string();
        let store = lantern_store::open(&url, Keyring::generate(), &OpenOptions::default())
            .await
            .unwrap();
        let ctx = AuditCtx::system(None);
        let h = store
            .create_hotline(
                &ctx,
                &NewHotline {
                    slug: "test".into(),
                    name: "Test Hotline".into(),
                },
            )
            .await
            .unwrap();
        let org = store
            .create_partner_org(&ctx, &h.id, "Casa Segura")
            .await
            .unwrap();
        let mut state = AppState::new(store.clone(), settings);
        if let Some(sms) = sms {
            state.sms = sms;
        }
        let router = lantern_server::router(state);
        TestApp {
            store,
            router,
            hotline_id: h.id,
            partner_org_id: org.id,
            _dir: dir,
        }
    }

    /// The folder of the application's database files (to look at them as an attacker would).
    pub fn db_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Creates a user of `role` named after it (`advocate`, `supervisor`, …) with [`PASSWORD`].
    pub async fn user(&self, role: Role) -> lantern_store::User {
        self.user_named(role.code(), role).await
    }

    pub async fn user_named(&self, name: &str, role: Role) -> lantern_store::User {
        let hash = auth::hash_password(PASSWORD);
        self.store
            .create_user(
                &AuditCtx::system(Some(self.hotline_id.clone())),
                &NewUser {
                    hotline_id: self.hotline_id.clone(),
                    username: Username::parse(name).unwrap(),
                    role,
                    partner_org_id: (role == Role::Partner).then(|| self.partner_org_id.clone()),
                    full_name: format!("Test {name}"),
                    phone: None,
                    password_hash: hash,
                },
            )
            .await
            .unwrap()
    }

    /// The database's files (the SQLite file and its WAL), to check what reaches the disk.
    pub fn files(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self._dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.unwrap()
    }

    /// Fetches the login form: (pre-login CSRF cookie value, hidden field value).
    pub async fn login_form(&self) -> (String, String) {
        let res = self
            .send(Request::get("/login").body(Body::empty()).unwrap())
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = set_cookie_value(&res, auth::LOGIN_CSRF_COOKIE)
            .expect("login form sets its CSRF cookie");
        let html = text(res).await;
        let field = hidden_csrf(&html).expect("login form has a csrf_token field");
        (cookie, field)
    }

    /// Posts the login form; returns the response.
    pub async fn try_login(&self, username: &str, password: &str) -> Response<Body> {
        let (cookie, csrf) = self.login_form().await;
        let body = serde_urlencoded::to_string([
            ("username", username),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .unwrap();
        self.send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(
                    header::COOKIE,
                    format!("{}={cookie}", auth::LOGIN_CSRF_COOKIE),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Signs in and reads the session's CSRF token from the home page.
    pub async fn login(&self, username: &str) -> Browser {
        let res = self.try_login(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login of {username}");
        let secret = set_cookie_value(&res, auth::SESSION_COOKIE).unwrap();
        let cookie = format!("{}={secret}", auth::SESSION_COOKIE);
        let home = self
            .send(
                Request::get("/")
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(home.status(), StatusCode::OK);
        let csrf = hidden_csrf(&text(home).await).unwrap();
        Browser { cookie, csrf }
    }

    pub async fn get(&self, path: &str, b: Option<&Browser>) -> Response<Body> {
        let mut req = Request::get(path);
        if let Some(b) = b {
            req = req.header(header::COOKIE, &b.cookie);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// Posts a form as the browser, adding its CSRF token.
    pub async fn post_form(
        &self,
        path: &str,
        b: &Browser,
        fields: &[(&str, &str)],
    ) -> Response<Body> {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &b.csrf));
        self.send(
            Request::post(path)
                .header(header::COOKIE, &b.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
                .unwrap(),
        )
        .await
    }

    /// A JSON request with a bearer token.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> Response<Body> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    /// A new API token for a user.
    pub async fn token_for(&self, user: &lantern_store::User) -> (String, String) {
        let (secret, t) = lantern_server::accounts::create_token(
            &*self.store,
            &AuditCtx::system(Some(self.hotline_id.clone())),
            &self.hotline_id,
            &user.id,
            "test",
        )
        .await
        .unwrap();
        (secret, t.id)
    }
}

pub fn set_cookie_value(res: &Response<Body>, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
}

pub fn hidden_csrf(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    Some(html[i..].split('"').next()?.to_owned())
}

pub async fn text(res: Response<Body>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

pub async fn json(res: Response<Body>) -> serde_json::Value {
    serde_json::from_str(&text(res).await).unwrap()
}
