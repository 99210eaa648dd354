//! Middleware for every response: security headers, metrics and one log line per request.

use crate::metrics::RequestLabels;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The Content-Security-Policy: only our own scripts, styles and images; no inline script; never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                       base-uri 'none'";

/// Adds the security headers. Everything but the staff pages' static assets is `no-store`: pages and API
/// answers may show case data and must not linger in caches or history, and a help-seeker's browser must
/// not keep even the help pages' own stylesheet and script (`/static/help/`) as a trace of the visit.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_static = path.starts_with("/static/") && !path.starts_with("/static/help/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    if is_static {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        );
    } else {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    res
}

/// Counts and times each request and logs one line: method, route template, status, milliseconds.
/// Never the URI's values, the query, the body, or the client's address.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let res = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    if route != "/metrics" && route != "/healthz" {
        tracing::info!(http.method = %method, http.route = %route, http.status = status, http.ms = secs * 1000.0, "request");
    }
    state.metrics.observe(
        RequestLabels {
            method,
            route,
            status,
        },
        secs,
    );
    res
}
