//! The gap analysis as an analyst meets it: the page, its CSV and its JSON agree with the cases,
//! referrals and directory the test wrote; other roles are refused; bad filters are named.

use crate::helpers::*;
use axum::http::{Method, StatusCode, header};
use lantern_directory::ext::{LanternExt, VettingInfo};
use lantern_directory::model::{
    Address, Directory, Location, Organization, Service, ServiceAtLocation,
};
use lantern_directory::taxonomy::{install, population_attribute, service_type_attribute};
use lantern_domain::account::Role;
use lantern_domain::codes::{Population, ServiceType, Vetting};
use lantern_store::{AuditCtx, DirectoryChange, NewCase, NewParty, NewReferral};

fn service(dir: &mut Directory, id: &str, t: ServiceType, pops: &[Population]) {
    dir.service.insert(
        id.into(),
        Service {
            id: id.into(),
            organization_id: Some("org".into()),
            status: Some("active".into()),
            ..Service::default()
        },
    );
    let a = service_type_attribute(id, t);
    dir.attribute.insert(a.id.clone(), a);
    for &p in pops {
        let a = population_attribute(id, p);
        dir.attribute.insert(a.id.clone(), a);
    }
    dir.service_at_location.insert(
        format!("sal-{id}"),
        ServiceAtLocation {
            id: format!("sal-{id}"),
            service_id: Some(id.into()),
            location_id: Some("houston".into()),
            ..ServiceAtLocation::default()
        },
    );
}

/// A vetted organisation in Houston with a shelter for women, one for men and a legal service.
async fn directory(app: &TestApp) {
    use Population::{Adults, Men, Women};
    let mut dir = Directory::default();
    install(&mut dir);
    dir.organization.insert(
        "org".into(),
        Organization {
            id: "org".into(),
            name: Some("Casa Segura".into()),
            lantern: Some(LanternExt {
                vetting: Some(VettingInfo {
                    status: Vetting::Vetted,
                    vetted_on: None,
                    vetted_by: None,
                    reverify_due: None,
                }),
                ..LanternExt::default()
            }),
            ..Organization::default()
        },
    );
    dir.location.insert(
        "houston".into(),
        Location {
            id: "houston".into(),
            organization_id: Some("org".into()),
            ..Location::default()
        },
    );
    dir.address.insert(
        "addr".into(),
        Address {
            id: "addr".into(),
            location_id: Some("houston".into()),
            state_province: Some("TX".into()),
            postal_code: Some("77002".into()),
            ..Address::default()
        },
    );
    service(
        &mut dir,
        "women",
        ServiceType::EmergencyShelter,
        &[Women, Adults],
    );
    service(&mut dir, "men", ServiceType::EmergencyShelter, &[Men]);
    service(&mut dir, "legal", ServiceType::LegalServices, &[Men]);
    app.store
        .change_directory(
            &AuditCtx::system(Some(app.hotline_id.clone())),
            &app.hotline_id,
            &DirectoryChange {
                action: "directory.import".into(),
                upserts: lantern_server::directory::to_records(&dir),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

async fn case(app: &TestApp, state: &str, form: &str, details: &str, gender: &str) -> String {
    let ctx = AuditCtx::system(Some(app.hotline_id.clone()));
    let c = app
        .store
        .create_case(
            &ctx,
            &NewCase {
                hotline_id: app.hotline_id.clone(),
                status: "open".into(),
                form: form.into(),
                state: Some(state.into()),
                details_json: details.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.store
        .add_party(
            &ctx,
            &app.hotline_id,
            &NewParty {
                case_id: c.id.clone(),
                role: "potential_victim".into(),
                gender: Some(gender.into()),
                age: Some(30),
                ..NewParty::default()
            },
        )
        .await
        .unwrap();
    c.id
}

/// Three men in labor trafficking in Texas needing shelter (one in Houston, referred for legal help
/// too), one in California, and a woman in Texas needing shelter.
async fn seed(app: &TestApp) {
    directory(app).await;
    let shelter = r#"{"needs":["emergency_shelter"]}"#;
    let houston = case(
        app,
        "TX",
        "labor",
        r#"{"needs":["emergency_shelter"],"locations":[{"state":"TX","zip":"77002"}]}"#,
        "man",
    )
    .await;
    case(app, "TX", "labor", shelter, "man").await;
    case(app, "TX", "labor", shelter, "man").await;
    case(app, "CA", "labor", shelter, "man").await;
    case(app, "TX", "sex", shelter, "woman").await;
    app.store
        .create_referral(
            &AuditCtx::system(Some(app.hotline_id.clone())),
            &NewReferral {
                hotline_id: app.hotline_id.clone(),
                case_id: houston,
                kind: "service".into(),
                status: "sent".into(),
                service_id: Some("legal".into()),
                organization_id: Some("org".into()),
                target_name: "Casa Segura".into(),
                basis: "consent".into(),
                consent_by: Some("the caller".into()),
                consent_method: Some("verbal".into()),
                shared_json: "{}".into(),
                service_types: vec!["legal_services".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_analyst_sees_the_largest_gaps_ranked_mapped_and_downloadable() {
    let app = TestApp::new().await;
    let analyst = app.user(Role::Analyst).await;
    seed(&app).await;
    let b = app.login("analyst").await;

    // JSON: men needing shelter; California has no resource and ranks first.
    let (token, _) = app.token_for(&analyst).await;
    let res = app
        .api(
            Method::GET,
            "/api/v1/insights/gaps?service=emergency_shelter&population=men",
            &token,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v = json(res).await;
    assert!(
        v["population_source"]
            .as_str()
            .unwrap()
            .contains("2020 Census")
    );
    let gaps = v["gaps"].as_array().unwrap();
    let rows: Vec<(&str, Option<&str>, u64, u64)> = gaps
        .iter()
        .map(|g| {
            (
                g["state"].as_str().unwrap(),
                g["county"].as_str(),
                g["cases"].as_u64().unwrap(),
                g["resources"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("CA", None, 1, 0),
            ("TX", None, 3, 1),
            ("TX", Some("Harris County"), 1, 1)
        ]
    );
    assert_eq!(gaps[1]["cases_per_resource"].as_f64(), Some(3.0));
    // Texas: 3 cases among 29,145,505 residents.
    let per = gaps[1]["cases_per_100k"].as_f64().unwrap();
    assert!((per - 3e5 / 29_145_505.0).abs() < 1e-9, "{per}");
    // Harris County: 1 case and 1 resource among 4,713,325 residents (Vintage 2019 estimate).
    for field in ["cases_per_100k", "resources_per_100k"] {
        let per = gaps[2][field].as_f64().unwrap();
        assert!((per - 1e5 / 4_713_325.0).abs() < 1e-9, "{field}: {per}");
    }

    // The referral to the legal service is a need for legal help, met by that one service.
    let v = json(
        app.api(
            Method::GET,
            "/api/v1/insights/gaps?service=legal_services&state=tx",
            &token,
            None,
        )
        .await,
    )
    .await;
    let men = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["population"] == "men" && g["county"].is_null())
        .unwrap();
    assert_eq!(
        (men["cases"].as_u64(), men["resources"].as_u64()),
        (Some(1), Some(1))
    );

    // The form filter narrows the cases: the one sex case, a woman, meets the women's shelter.
    let v = json(
        app.api(
            Method::GET,
            "/api/v1/insights/gaps?service=emergency_shelter&form=sex&population=women",
            &token,
            None,
        )
        .await,
    )
    .await;
    let g = &v["gaps"][0];
    assert_eq!(
        (
            g["state"].as_str(),
            g["cases"].as_u64(),
            g["resources"].as_u64()
        ),
        (Some("TX"), Some(1), Some(1))
    );

    // CSV: the same gaps, in rank order.
    let res = app
        .get(
            "/insights/gaps.csv?service=emergency_shelter&population=men",
            Some(&b),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = text(res).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert_eq!(lines[1], "1,CA,,emergency_shelter,men,1,0,,0.00,0.00");
    assert_eq!(lines[2], "2,TX,,emergency_shelter,men,3,1,3.00,0.01,0.00");
    assert_eq!(
        lines[3],
        "3,TX,Harris County,emergency_shelter,men,1,1,1.00,0.02,0.02"
    );

    // The page: the ranked lists, the map with its table, the population source.
    let res = app
        .get(
            "/insights/gaps?service=emergency_shelter&population=men",
            Some(&b),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert!(page.contains("Largest gaps by state"), "{page}");
    assert!(page.contains("Emergency shelter for Men: cases per resource"));
    assert_eq!(page.matches("<svg").count(), 1);
    assert!(page.contains("View as table"));
    // California's grey is its missing resource, not a withheld figure.
    assert!(page.contains("no resource") && !page.contains("small or withheld"));
    assert!(page.contains("<td>3</td><td>1</td><td>3.00</td>"), "{page}");
    assert!(page.contains("<td>1</td><td>0</td><td>no resource</td>"));
    assert!(page.contains("Harris County"));
    assert!(page.contains("2020 Census"));
    assert!(
        page.contains(r#"href="/insights/gaps.csv?service=emergency_shelter&"#),
        "{page}"
    );
    // Unfiltered, every gap is counted and the map shows the largest state gap.
    let all = text(app.get("/insights/gaps", Some(&b)).await).await;
    assert!(all.contains("Largest gaps by state"));
    assert_eq!(all.matches("<svg").count(), 1);
    // The dashboard links to it.
    let dash = text(app.get("/insights", Some(&b)).await).await;
    assert!(dash.contains(r#"href="/insights/gaps""#));
}

#[tokio::test]
async fn a_states_view_maps_its_counties_and_county_gaps_have_figures_per_resident() {
    let app = TestApp::new().await;
    let analyst = app.user(Role::Analyst).await;
    seed(&app).await;
    let b = app.login("analyst").await;

    // The page for Texas: Texas's county map in place of the US map, with its table.
    let res = app
        .get(
            "/insights/gaps?service=emergency_shelter&population=men&state=TX",
            Some(&b),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert_eq!(page.matches("<svg").count(), 1, "{page}");
    assert!(page.contains("Emergency shelter for Men in Texas: cases per resource by county"));
    assert!(page.contains("<title>Harris County: 1</title>"), "{page}");
    assert!(page.contains("<title>Travis County: no data</title>"));
    assert!(
        page.contains("Loving County"),
        "every county is in the table"
    );
    assert_eq!(page.matches("View as table").count(), 1);
    assert!(page.contains("Vintage 2019"));
    // The county row shows its figures per 100,000.
    assert!(
        page.contains("<td>1</td><td>1</td><td>1.00</td><td>0.02</td><td>0.02</td>"),
        "{page}"
    );

    // JSON: the county row has both figures per 100,000, from the county's residents.
    let (token, _) = app.token_for(&analyst).await;
    let v = json(
        app.api(
            Method::GET,
            "/api/v1/insights/gaps?service=emergency_shelter&population=men&state=TX",
            &token,
            None,
        )
        .await,
    )
    .await;
    assert!(
        v["population_source"]
            .as_str()
            .unwrap()
            .contains("Vintage 2019")
    );
    let harris = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["county"] == "Harris County")
        .unwrap();
    let per = harris["cases_per_100k"].as_f64().unwrap();
    assert!((per - 1e5 / 4_713_325.0).abs() < 1e-9, "{per}");
    assert!(harris["resources_per_100k"].as_f64().is_some());

    // Puerto Rico has no county outlines: a sentence says so instead of a map.
    let page = text(app.get("/insights/gaps?state=PR", Some(&b)).await).await;
    assert_eq!(page.matches("<svg").count(), 0);
    assert!(
        page.contains("Lantern has no county map of Puerto Rico"),
        "{page}"
    );
}

#[tokio::test]
async fn roles_without_insights_are_refused_and_bad_filters_are_named() {
    let app = TestApp::new().await;
    seed(&app).await;
    for role in [Role::Advocate, Role::Partner] {
        let user = app.user(role).await;
        let b = app.login(role.code()).await;
        for path in ["/insights/gaps", "/insights/gaps.csv"] {
            let res = app.get(path, Some(&b)).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role:?} {path}");
        }
        let (token, _) = app.token_for(&user).await;
        let res = app
            .api(Method::GET, "/api/v1/insights/gaps", &token, None)
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role:?}");
    }

    let analyst = app.user(Role::Analyst).await;
    let (token, _) = app.token_for(&analyst).await;
    for (query, field) in [
        ("service=shelterz", "service"),
        ("population=martians", "population"),
        ("form=both", "form"),
        ("state=ZZ", "state"),
        ("colour=red", "colour"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("limit=100001", "limit"),
        ("limit=5&limit=6", "limit"),
    ] {
        let res = app
            .api(
                Method::GET,
                &format!("/api/v1/insights/gaps?{query}"),
                &token,
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        let v = json(res).await;
        assert_eq!(v["errors"][0]["field"], field, "{v}");
    }
    let b = app.login("analyst").await;
    for path in [
        "/insights/gaps?population=martians",
        "/insights/gaps.csv?service=shelterz",
        // `limit` is the API's alone: the page and its CSV, which hold every gap, refuse it.
        "/insights/gaps?limit=5",
        "/insights/gaps.csv?limit=5",
    ] {
        let res = app.get(path, Some(&b)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
    }
}

#[tokio::test]
async fn needs_an_advocate_records_on_the_case_page_count_in_the_gap_analysis() {
    let app = TestApp::new().await;
    let analyst = app.user(Role::Analyst).await;
    app.user(Role::Advocate).await;
    let id = case(&app, "WY", "labor", "{}", "man").await;
    let b = app.login("advocate").await;

    let page = text(app.get(&format!("/cases/{id}"), Some(&b)).await).await;
    assert!(
        page.contains(r#"name="needs" value="emergency_shelter""#),
        "{page}"
    );
    let res = app
        .post_form(
            &format!("/cases/{id}/needs"),
            &b,
            &[("needs", "emergency_shelter"), ("needs", "labor_rights")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains(r#"value="labor_rights" checked"#));
    // An unknown service type is refused by name and changes nothing.
    let res = app
        .post_form(&format!("/cases/{id}/needs"), &b, &[("needs", "spa_day")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("needs"));

    let (token, _) = app.token_for(&analyst).await;
    let v = json(
        app.api(
            Method::GET,
            "/api/v1/insights/gaps?population=men&state=WY",
            &token,
            None,
        )
        .await,
    )
    .await;
    let services: Vec<&str> = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["service"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["emergency_shelter", "labor_rights"], "{v}");
    assert_eq!(v["gaps"][0]["resources"], 0);
}

#[tokio::test]
async fn the_json_holds_the_first_limit_gaps_in_rank_order_and_says_how_many_there_are() {
    let app = TestApp::new().await;
    let analyst = app.user(Role::Analyst).await;
    seed(&app).await;
    let (token, _) = app.token_for(&analyst).await;
    let ask = |query: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let res = app
                .api(
                    Method::GET,
                    &format!("/api/v1/insights/gaps{query}"),
                    token,
                    None,
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK, "{query}");
            json(res).await
        }
    };
    let key = |g: &serde_json::Value| {
        (
            g["state"].as_str().unwrap().to_owned(),
            g["county"].as_str().map(str::to_owned),
            g["service"].as_str().unwrap().to_owned(),
            g["population"].as_str().unwrap().to_owned(),
        )
    };

    // Every gap by default (fewer than 1,000 here), and the total counts them.
    let all = ask("").await;
    let every = all["gaps"].as_array().unwrap();
    assert_eq!(all["limit"], 1000);
    assert_eq!(all["total"].as_u64(), Some(every.len() as u64));
    assert!(every.len() > 3, "{all}");

    // A limit keeps the first gaps of the same ranking, the total all of them, the map the same.
    let two = ask("?limit=2").await;
    assert_eq!(two["limit"], 2);
    assert_eq!(two["total"], all["total"]);
    let firsts: Vec<_> = two["gaps"].as_array().unwrap().iter().map(key).collect();
    let want: Vec<_> = every.iter().take(2).map(key).collect();
    assert_eq!(firsts, want);
    assert_eq!(
        (&two["map_service"], &two["map_population"]),
        (&all["map_service"], &all["map_population"])
    );
    let none = ask("?limit=0&state=TX").await;
    assert!(none["gaps"].as_array().unwrap().is_empty());
    let texas = every.iter().filter(|g| g["state"] == "TX").count();
    assert_eq!(none["total"].as_u64(), Some(texas as u64));

    // Filters and limit together: Texas's gaps, the first one of them.
    let one = ask("?state=TX&limit=1").await;
    let first_texas = every.iter().find(|g| g["state"] == "TX").map(key);
    let got: Vec<_> = one["gaps"].as_array().unwrap().iter().map(key).collect();
    assert_eq!(got, first_texas.into_iter().collect::<Vec<_>>());

    // A new case is counted: the figures moved, and the gaps are ranked again.
    case(
        &app,
        "NV",
        "labor",
        r#"{"needs":["emergency_shelter"]}"#,
        "man",
    )
    .await;
    // (Once the figures have caught up with the write: a question may be answered from the
    // previous ones for a moment.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ask("?state=NV").await["total"] == 0 {
        assert!(std::time::Instant::now() < deadline, "never counted");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let after = ask("").await;
    assert!(after["total"].as_u64() > all["total"].as_u64(), "{after}");
}
