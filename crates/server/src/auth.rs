//! Who is asking: passwords, session cookies, bearer tokens, CSRF, and the guard every route passes.

use crate::error::AppError;
use crate::pages::PageError;
use crate::policy::{self, Action};
use crate::state::AppState;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::{HeaderMap, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use lantern_store::{AuditCtx, User};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::LazyLock;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "lantern_session";
/// The pre-login CSRF cookie's name (double-submit for the login form).
pub const LOGIN_CSRF_COOKIE: &str = "lantern_login_csrf";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The header that carries the CSRF token for script requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The largest form body the guard reads to find the CSRF token.
const MAX_FORM: usize = 1 << 20;

/// Hashes a password with argon2id (OWASP's recommended parameters, the crate's defaults).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing of a bounded input")
        .to_string()
}

/// Checks a password against a PHC hash string; false for a malformed hash.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so that an unknown username takes as long
/// as a wrong password.
pub static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("lantern-dummy-password"));

/// Hashes on a blocking thread (argon2 takes tens of milliseconds by design).
pub async fn hash_password_blocking(password: String) -> anyhow::Result<String> {
    Ok(tokio::task::spawn_blocking(move || hash_password(&password)).await?)
}

/// Verifies on a blocking thread.
pub async fn verify_password_blocking(hash: String, password: String) -> anyhow::Result<bool> {
    Ok(tokio::task::spawn_blocking(move || verify_password(&hash, &password)).await?)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rng().fill_bytes(&mut b);
    b
}

/// A random URL-safe secret of 32 bytes.
pub fn random_secret() -> String {
    B64URL.encode(random_bytes::<32>())
}

/// SHA-256 of a secret, as stored for sessions and tokens.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A new API token: `(secret shown once, display prefix, hash to store)`.
pub fn new_api_token() -> (String, String, Vec<u8>) {
    let secret = format!("lnt_{}", random_secret());
    let prefix = secret.chars().take(12).collect();
    let hash = secret_hash(&secret);
    (secret, prefix, hash)
}

/// Constant-time string comparison.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A cookie's value from the request headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with Lantern's attributes (`HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure`
/// when served over HTTPS). An empty value with `clear` removes the cookie.
pub fn set_cookie(name: &str, value: &str, secure: bool, clear: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if clear {
        c.push_str("; Max-Age=0");
    }
    c
}

/// How a principal authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// A browser session, with the synchronizer token its form posts must carry.
    Session {
        /// The CSRF token.
        csrf: String,
        /// The hash of the cookie's secret.
        token_hash: Vec<u8>,
    },
    /// An API bearer token.
    Token,
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user: User,
    /// How they authenticated.
    pub via: Via,
    /// Where the request came from (peer address), for the audit log only.
    pub source: String,
}

impl Principal {
    /// The audit context for this user's actions.
    pub fn ctx(&self) -> AuditCtx {
        AuditCtx {
            hotline_id: Some(self.user.hotline_id.clone()),
            actor_id: Some(self.user.id.clone()),
            actor: self.user.username.clone(),
            source: self.source.clone(),
        }
    }

    /// The CSRF token for forms (empty for token clients, which post no forms).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token => "",
        }
    }

    /// Whether the user may perform `action` at all.
    pub fn may(&self, action: Action) -> bool {
        policy::allows(self.user.role, action)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(AppError::unauthenticated)
    }
}

/// Where a request came from, for the audit log.
pub fn source_of(parts_ext: &axum::http::Extensions) -> String {
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Finds the principal of a request from its bearer token or session cookie.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    source: String,
) -> Result<Option<Principal>, AppError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let Some(token) = auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
            return Err(AppError::unauthenticated());
        };
        let hash = secret_hash(token.trim());
        let user = match state.tokens.get(&hash) {
            Some(user) => user,
            None => match state.store.token(&hash).await? {
                Some((_, user)) => {
                    state.tokens.put(hash, user.clone());
                    user
                }
                None => return Err(AppError::unauthenticated()),
            },
        };
        return Ok(Some(Principal {
            user,
            via: Via::Token,
            source,
        }));
    }
    let Some(secret) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = secret_hash(secret);
    let idle = time::Duration::minutes(state.settings.session.idle_minutes);
    Ok(state
        .store
        .session(&hash, idle)
        .await?
        .map(|(s, user)| Principal {
            user,
            via: Via::Session {
                csrf: s.csrf_token,
                token_hash: hash,
            },
            source,
        }))
}

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (login, health, help-seeker pages, webhooks).
    Public,
    /// A signed-in user whose role allows the action.
    Staff(Action),
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The guard in front of every route: authenticates, applies the policy for the route's action, checks
/// the CSRF token of every state-changing request made with a session, and hands the principal on.
pub async fn guard(state: AppState, access: Access, req: Request, next: Next) -> Response {
    let Access::Staff(action) = access else {
        return next.run(req).await;
    };
    let api = is_api(req.uri().path());
    let refuse = |e: AppError| -> Response {
        if api {
            e.into_response()
        } else {
            PageError(e).into_response()
        }
    };
    let source = source_of(req.extensions());
    let principal = match authenticate(&state, req.headers(), source).await {
        Ok(Some(p)) => p,
        Ok(None) if api => return AppError::unauthenticated().into_response(),
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return refuse(e),
    };
    if !policy::allows(principal.user.role, action) {
        return refuse(AppError::forbidden());
    }
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut req = req;
    if unsafe_method && let Via::Session { csrf, .. } = &principal.via {
        let (ok, rebuilt) = match check_csrf(csrf, req).await {
            Ok(v) => v,
            Err(e) => return refuse(e),
        };
        if !ok {
            return refuse(AppError::new(
                axum::http::StatusCode::FORBIDDEN,
                "Missing or invalid CSRF token",
                "reload the page and try again",
            ));
        }
        req = rebuilt;
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Checks the CSRF token in the `x-csrf-token` header, or in the `csrf_token` field of a form body
/// (which is then put back for the handler).
async fn check_csrf(expected: &str, req: Request) -> Result<(bool, Request), AppError> {
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        let ok = h.to_str().is_ok_and(|v| same(v, expected));
        return Ok((ok, req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((false, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| {
        AppError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "the form is too large",
        )
    })?;
    let ok = form_urlencoded_field(&bytes, CSRF_FIELD).is_some_and(|v| same(&v, expected));
    Ok((ok, Request::from_parts(parts, Body::from(bytes))))
}

/// One field of a form body.
pub fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_and_a_wrong_one_does_not() {
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterY"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn cookies_are_found_among_several() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; lantern_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, pa, ha) = new_api_token();
        let (b, _, _) = new_api_token();
        assert_ne!(a, b);
        assert!(a.starts_with(&pa));
        assert_eq!(ha, secret_hash(&a));
    }
}
