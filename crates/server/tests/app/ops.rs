//! Health, readiness, metrics, and the headers every response carries.

use crate::helpers::*;
use axum::http::{StatusCode, header};
use lantern_domain::account::Role;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    assert_eq!(text(app.get("/readyz", None).await).await, "ready");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_only() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let b = app.login("admin").await;
    app.get("/admin/users/0192b3c4-secret-looking-id", Some(&b))
        .await;
    let m = text(app.get("/metrics", None).await).await;
    assert!(m.contains("lantern_http_requests_total"), "{m}");
    assert!(m.contains("route=\"/admin/users/{id}\""), "{m}");
    assert!(!m.contains("secret-looking-id"));
}

#[tokio::test]
async fn every_page_carries_the_security_headers_and_is_not_stored() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let b = app.login("admin").await;
    for path in ["/login", "/", "/admin/users", "/api/v1/me", "/nowhere"] {
        let res = app.get(path, Some(&b)).await;
        let h = res.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{path}");
        assert_eq!(h[header::CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
    }
    let css = app.get("/static/style.css", None).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    // The help-seeker pages' assets leave no cached copy behind.
    for path in ["/static/help/help.css", "/static/help/quick-exit.js"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store", "{path}");
        assert!(
            set_cookie_value(&res, "lantern_session").is_none(),
            "{path}"
        );
    }
    let js = text(app.get("/static/help/quick-exit.js", None).await).await;
    assert!(js.contains("location.replace") && js.contains("Escape"));
    assert!(!js.contains("localStorage") && !js.contains("document.cookie"));
}

#[tokio::test]
async fn pages_contain_no_inline_script_or_style() {
    let app = TestApp::new().await;
    app.user(Role::Admin).await;
    let b = app.login("admin").await;
    for path in ["/login", "/", "/admin/users", "/admin/audit"] {
        let who = if path == "/login" { None } else { Some(&b) };
        let html = text(app.get(path, who).await).await;
        assert!(
            !html.contains("<script>") && !html.contains("style=") && !html.contains("<style"),
            "{path}"
        );
        assert!(
            html.contains("<label") || path == "/" || path == "/admin/audit",
            "{path} labels its inputs"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route_of_the_table() {
    let app = TestApp::new().await;
    let doc = json(app.get("/api/v1/openapi.json", None).await).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for spec in lantern_server::routes::table() {
        if !spec.path.starts_with("/api/") || spec.path == "/api/v1/openapi.json" {
            continue;
        }
        let op = &doc["paths"][spec.path][spec.method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is missing from the OpenAPI document",
            spec.method,
            spec.path
        );
    }
}
