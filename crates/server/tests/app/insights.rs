//! The analysts' dashboard, read from the rollups.

use crate::helpers::*;
use axum::http::{StatusCode, header};
use lantern_domain::account::Role;
use lantern_store::{AuditCtx, NewCase, NewContact};

/// 2025-03-10, 00:00 UTC.
const MARCH_2025_US: i64 = 1_741_564_800_000_000;

async fn seed(app: &TestApp) {
    let ctx = AuditCtx::system(None);
    for channel in ["phone", "phone", "sms"] {
        app.store
            .create_contact(
                &ctx,
                &NewContact {
                    hotline_id: app.hotline_id.clone(),
                    channel: channel.into(),
                    signaler_type: Some("community_member".into()),
                    location_precision: "state".into(),
                    state: Some("TX".into()),
                    occurred_at_us: MARCH_2025_US,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    app.store
        .create_case(
            &ctx,
            &NewCase {
                hotline_id: app.hotline_id.clone(),
                status: "open".into(),
                form: "labor".into(),
                state: Some("TX".into()),
                details_json: r#"{"typology":["construction"]}"#.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_analyst_sees_charts_the_map_their_tables_and_downloads_csv() {
    let app = TestApp::new().await;
    app.user(Role::Analyst).await;
    seed(&app).await;
    let b = app.login("analyst").await;

    let res = app.get("/insights", Some(&b)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert!(page.contains("<strong>3</strong> Contacts"), "{page}");
    assert!(page.contains("<strong>1</strong> Cases"));
    assert_eq!(page.matches("<svg").count(), 5, "four charts and the map");
    assert_eq!(page.matches("View as table").count(), 5);
    assert!(page.contains("/insights/states.csv"));

    let res = app.get("/insights/channel.csv", Some(&b)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = text(res).await;
    assert!(csv.contains("phone,2") && csv.contains("sms,1"), "{csv}");

    let later = text(app.get("/insights?from=2025-04", Some(&b)).await).await;
    assert!(later.contains("<strong>0</strong> Contacts"));
}

#[tokio::test]
async fn a_bad_month_is_named_and_an_advocate_may_not_see_the_dashboard() {
    let app = TestApp::new().await;
    app.user(Role::Analyst).await;
    app.user(Role::Advocate).await;
    let analyst = app.login("analyst").await;
    let res = app.get("/insights?from=2025-13", Some(&analyst)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("from"));
    let res = app.get("/insights/nothing.csv", Some(&analyst)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let advocate = app.login("advocate").await;
    let res = app.get("/insights", Some(&advocate)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_returns_the_cells_of_the_months_and_metric_asked() {
    let app = TestApp::new().await;
    app.user(Role::Supervisor).await;
    seed(&app).await;
    let b = app.login("supervisor").await;

    let res = app
        .get(
            "/api/v1/insights/rollups?metric=contacts&from=2025-03&to=2025-03",
            Some(&b),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cells = json(res).await;
    let cells = cells.as_array().unwrap();
    assert_eq!(cells.len(), 2, "{cells:?}");
    let total: i64 = cells.iter().map(|c| c["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 3);
    assert!(
        cells
            .iter()
            .all(|c| c["metric"] == "contacts" && c["state"] == "TX")
    );

    let res = app
        .get("/api/v1/insights/rollups?metric=calls", Some(&b))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("metric"));
}
