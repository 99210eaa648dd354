//! Signing in and out.

use super::{PageError, PageForm, PageResult};
use crate::auth::{self, LOGIN_CSRF_COOKIE, Principal, SESSION_COOKIE, Via};
use crate::error::AppError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use lantern_domain::account::Username;
use lantern_store::{AuditCtx, NewSession};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    chrome: Option<super::Chrome>,
    csrf: &'a str,
    message: Option<&'a str>,
    username: &'a str,
    idle_minutes: i64,
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    message: Option<&str>,
    username: &str,
) -> PageResult {
    let csrf = auth::random_secret();
    let page = LoginPage {
        chrome: None,
        csrf: &csrf,
        message,
        username,
        idle_minutes: state.settings.session.idle_minutes,
    };
    let html = page.render().map_err(AppError::from)?;
    let cookie = auth::set_cookie(
        LOGIN_CSRF_COOKIE,
        &csrf,
        state.settings.secure_cookies(),
        false,
    );
    Ok((status, [(header::SET_COOKIE, cookie)], Html(html)).into_response())
}

/// `GET /login`: the form (or home, when already signed in).
pub async fn show(State(state): State<AppState>, req: Request) -> PageResult {
    let source = auth::source_of(req.extensions());
    if auth::authenticate(&state, req.headers(), source)
        .await
        .ok()
        .flatten()
        .is_some()
    {
        return Ok(Redirect::to("/").into_response());
    }
    login_page(&state, StatusCode::OK, None, "")
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
}

const WRONG: &str = "Wrong username or password.";

/// `POST /login`: checks the password; opens a session or counts a failure.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    PageForm(form): PageForm<LoginForm>,
) -> PageResult {
    // Double-submit check: the form's token must equal the cookie set with the form.
    let cookie = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie.is_empty() || !auth::same(cookie, &form.csrf_token) {
        return Err(PageError(AppError::new(
            StatusCode::FORBIDDEN,
            "Missing or invalid CSRF token",
            "reload the sign-in page and try again",
        )));
    }
    let source = auth::source_of(&ext);
    let ctx = AuditCtx {
        hotline_id: None,
        actor_id: None,
        actor: "anonymous".into(),
        source: source.clone(),
    };
    let settings = &state.settings;
    let lock_for = time::Duration::minutes(settings.login.lockout_minutes);
    let found = match Username::parse(&form.username) {
        Ok(u) => state.store.user_for_login(u.as_str()).await?,
        Err(_) => None,
    };
    let Some((user, hash)) = found else {
        auth::verify_password_blocking(auth::DUMMY_HASH.clone(), form.password).await?;
        state
            .store
            .record_login_failure(&ctx, None, settings.login.max_failures, lock_for)
            .await?;
        return login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some(WRONG),
            &form.username,
        );
    };
    let ctx = AuditCtx {
        hotline_id: Some(user.hotline_id.clone()),
        actor_id: Some(user.id.clone()),
        actor: user.username.clone(),
        source,
    };
    let ok = auth::verify_password_blocking(hash, form.password).await?;
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64;
    if ok && !user.can_authenticate(now) {
        state
            .store
            .audit(
                &ctx,
                "login.refused",
                "user",
                Some(&user.id),
                serde_json::json!({"disabled": user.disabled}),
            )
            .await?;
        let msg = if user.disabled {
            "This account is disabled. Ask an administrator."
        } else {
            "This account is locked after too many failed attempts. Try again later or ask an administrator to unlock it."
        };
        return login_page(&state, StatusCode::FORBIDDEN, Some(msg), &form.username);
    }
    if !ok {
        state
            .store
            .record_login_failure(&ctx, Some(&user.id), settings.login.max_failures, lock_for)
            .await?;
        return login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some(WRONG),
            &form.username,
        );
    }
    let secret = auth::random_secret();
    let expires = now + settings.session.absolute_hours * 3_600_000_000;
    state
        .store
        .create_session(
            &ctx,
            &NewSession {
                token_hash: auth::secret_hash(&secret),
                user_id: user.id.clone(),
                csrf_token: auth::random_secret(),
                expires_at_us: expires,
            },
        )
        .await?;
    tracing::info!(user.id = %user.id, hotline.id = %user.hotline_id, "signed in");
    let secure = settings.secure_cookies();
    Ok((
        StatusCode::SEE_OTHER,
        AppendHeaders([
            (
                header::SET_COOKIE,
                auth::set_cookie(SESSION_COOKIE, &secret, secure, false),
            ),
            (
                header::SET_COOKIE,
                auth::set_cookie(LOGIN_CSRF_COOKIE, "", secure, true),
            ),
            (header::LOCATION, "/".to_owned()),
        ]),
    )
        .into_response())
}

/// `POST /logout`: ends the session.
pub async fn logout(State(state): State<AppState>, p: Principal) -> Result<Response, PageError> {
    if let Via::Session { token_hash, .. } = &p.via {
        state.store.delete_session(&p.ctx(), token_hash).await?;
    }
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                auth::set_cookie(SESSION_COOKIE, "", state.settings.secure_cookies(), true),
            ),
            (header::LOCATION, "/login".to_owned()),
        ],
    )
        .into_response())
}
