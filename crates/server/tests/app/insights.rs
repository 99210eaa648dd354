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
    assert_eq!(page.matches("<svg").count(), 7, "six charts and the map");
    assert_eq!(page.matches("View as table").count(), 7);
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
    assert!(
        csv.contains("Phone,2") && csv.contains("Text (SMS),1"),
        "{csv}"
    );

    let later = text(app.get("/insights?from=2025-04", Some(&b)).await).await;
    assert!(later.contains("<strong>0</strong> Contacts"));
}

#[tokio::test]
async fn a_bad_month_is_named_and_an_advocate_may_not_see_the_dashboard() {
    let app = TestApp::new().await;
    app.user(Role::Analyst).await;
    app.user(Role::Advocate).await;
    let analyst = app.login("analyst").await;
    for (query, field) in [
        ("from=2025-13", "from"),
        ("to=March", "to"),
        ("from=2025-05&to=2025-04", "to"),
        ("state=XX", "state"),
        ("form=arson", "form"),
    ] {
        let res = app.get(&format!("/insights?{query}"), Some(&analyst)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        let page = text(res).await;
        assert!(page.contains(&format!("{field}:")), "{query}: {page}");
        let res = app
            .get(&format!("/insights/states/TX.csv?{query}"), Some(&analyst))
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    let res = app.get("/insights/states/XX", Some(&analyst)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
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

#[tokio::test]
async fn the_summary_api_answers_from_memory_and_catches_up_with_every_write() {
    let app = TestApp::new().await;
    let analyst = app.user(Role::Analyst).await;
    let (token, _) = app.token_for(&analyst).await;
    seed(&app).await;
    let get = |path: String| {
        let (app, token) = (&app, &token);
        async move {
            let res = app.api(axum::http::Method::GET, &path, token, None).await;
            (res.status(), json(res).await)
        }
    };

    let (status, totals) = get("/api/v1/insights/summary".into()).await;
    assert_eq!(status, StatusCode::OK, "{totals}");
    assert_eq!(totals["rows"][0]["counts"]["contacts"], 3);
    assert_eq!(totals["rows"][0]["counts"]["cases"], 1);
    let v1 = totals["version"].as_i64().unwrap();

    let (_, by_channel) = get("/api/v1/insights/summary?group_by=channel".into()).await;
    assert_eq!(
        by_channel["metrics"],
        serde_json::json!(["contacts", "substantive_contacts"])
    );
    let rows = by_channel["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["key"], "phone");
    assert_eq!(rows[0]["counts"]["contacts"], 2);
    assert_eq!(rows[1]["key"], "sms");

    // A form filter leaves out what has no form instead of showing it unfiltered.
    let (_, labor) = get("/api/v1/insights/summary?form=labor&state=tx".into()).await;
    assert!(
        labor["not_applicable"]
            .as_array()
            .unwrap()
            .contains(&"contacts".into())
    );
    assert_eq!(labor["rows"][0]["counts"]["cases"], 1);
    let (_, sex) = get("/api/v1/insights/summary?form=sex".into()).await;
    assert_eq!(sex["rows"][0]["counts"]["cases"], 0);

    assert_eq!(totals["latest_version"], totals["version"]);
    assert_eq!(totals["stale"], false);

    // A write moves the version; the figures follow it in the background (reading only the cells that
    // moved), and every answer meanwhile says which version it is at.
    app.store
        .create_contact(
            &AuditCtx::system(None),
            &NewContact {
                hotline_id: app.hotline_id.clone(),
                channel: "sms".into(),
                location_precision: "state".into(),
                state: Some("CA".into()),
                occurred_at_us: MARCH_2025_US,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let after = loop {
        let (status, after) = get("/api/v1/insights/summary?group_by=state".into()).await;
        assert_eq!(status, StatusCode::OK);
        let latest = after["latest_version"].as_i64().unwrap();
        assert!(latest > v1);
        assert_eq!(after["stale"], after["version"].as_i64().unwrap() < latest);
        if after["stale"] == false {
            break after;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never caught up: {after}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    let states: Vec<_> = after["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["counts"]["contacts"].clone(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![("CA".to_owned(), 1.into()), ("TX".to_owned(), 3.into())]
    );
    let (_, months) =
        get("/api/v1/insights/summary?group_by=month&from=2025-03&to=2025-03".into()).await;
    assert_eq!(months["rows"][0]["key"], "2025-03");
    assert_eq!(months["rows"][0]["counts"]["contacts"], 4);

    // Bad questions are named and change nothing.
    for (q, field) in [
        ("group_by=city", "group_by"),
        ("state=XX", "state"),
        ("form=forced", "form"),
        ("from=2025-13", "from"),
        ("colour=red", "colour"),
    ] {
        let (status, problem) = get(format!("/api/v1/insights/summary?{q}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert!(problem.to_string().contains(field), "{q}: {problem}");
    }
}
async fn seed_two_states(app: &TestApp) {
    seed(app).await;
    let ctx = AuditCtx::system(None);
    for (state, form) in [("WY", "sex"), ("WY", "sex"), ("CA", "labor")] {
        app.store
            .create_case(
                &ctx,
                &NewCase {
                    hotline_id: app.hotline_id.clone(),
                    status: "open".into(),
                    form: form.into(),
                    state: Some(state.into()),
                    details_json: r#"{"typology":["escort_services"]}"#.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_map_shades_cases_per_100k_and_each_state_links_to_its_page_with_a_csv() {
    let app = TestApp::new().await;
    app.user(Role::Analyst).await;
    seed_two_states(&app).await;
    let b = app.login("analyst").await;

    let page = text(app.get("/insights", Some(&b)).await).await;
    assert!(page.contains("Cases per 100,000 residents, by state"));
    // Wyoming: 2 cases among 576,851 residents is 0.35 per 100,000.
    assert!(page.contains("<title>Wyoming: 0.35</title>"), "{page}");
    assert!(page.contains(r#"<a href="/insights/states/WY" aria-label="Wyoming: 0.35">"#));
    assert!(
        page.contains(r#"<td>2</td><td>0.35</td>"#),
        "the table beside the map"
    );
    assert!(page.contains("2020 Census"));

    let wy = app.get("/insights/states/WY", Some(&b)).await;
    assert_eq!(wy.status(), StatusCode::OK);
    let wy = text(wy).await;
    assert!(wy.contains("<h1>Wyoming</h1>"));
    assert!(wy.contains("<strong>2</strong> Cases"), "{wy}");
    assert!(wy.contains("<strong>0</strong> Contacts"));
    assert!(wy.contains("/insights/states/WY.csv"));
    assert!(wy.contains("/insights/states/WY/form.csv"));
    assert_eq!(wy.matches("View as table").count(), 6);

    let csv = app.get("/insights/states/WY.csv", Some(&b)).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("insights-WY.csv")
    );
    let csv = text(csv).await;
    assert!(csv.starts_with("chart,category,series,value\r\n"), "{csv}");
    assert!(csv.contains("headline,Cases,Cases,2\r\n"), "{csv}");
    assert!(csv.contains("form,Sex trafficking,Cases,2\r\n"), "{csv}");
    assert!(
        csv.contains("typology,Escort services,Cases,2\r\n"),
        "{csv}"
    );

    let form = text(app.get("/insights/states/WY/form.csv", Some(&b)).await).await;
    assert!(form.contains("Sex trafficking,2"), "{form}");
}

#[tokio::test]
async fn the_state_and_form_filters_narrow_every_figure() {
    let app = TestApp::new().await;
    app.user(Role::Analyst).await;
    seed_two_states(&app).await;
    let b = app.login("analyst").await;

    let all = text(app.get("/insights", Some(&b)).await).await;
    assert!(all.contains("<strong>4</strong> Cases"));
    let labor = text(app.get("/insights?form=labor", Some(&b)).await).await;
    assert!(labor.contains("<strong>2</strong> Cases"), "{labor}");
    assert!(
        labor.contains("<strong>3</strong> Contacts"),
        "contacts carry no form"
    );
    assert!(labor.contains("Contacts carry no form"));
    assert!(labor.contains(r#"<option value="labor" selected>"#));
    let ca = text(app.get("/insights?state=ca&form=labor", Some(&b)).await).await;
    assert!(ca.contains("<strong>1</strong> Cases"), "{ca}");
    assert!(ca.contains("<strong>0</strong> Contacts"));
    let csv = text(app.get("/insights/form.csv?state=WY", Some(&b)).await).await;
    assert!(
        csv.contains("Sex trafficking,2") && !csv.contains("Labor"),
        "{csv}"
    );
    let states = text(app.get("/insights/states.csv?form=sex", Some(&b)).await).await;
    assert!(states.contains("Wyoming,2,0.35"), "{states}");
    assert!(states.contains("Texas,0,0\r\n"), "{states}");
}
