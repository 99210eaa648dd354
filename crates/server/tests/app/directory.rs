//! The referral directory and referrals, as their users meet them: a directory manager adds and vets
//! entries, an advocate searches near a ZIP and refers a case with consent, the partner answers in its
//! inbox, and the outcome shows on the case. A confidential address never reaches a partner.

use crate::helpers::*;
use axum::http::{Method, StatusCode, header};
use lantern_domain::account::Role;
use lantern_store::{AuditCtx, NewCase};

/// Adds an entry through the manager's form; returns the new service's id.
async fn add_entry(app: &TestApp, b: &Browser, fields: &[(&str, &str)]) -> String {
    let res = app.post_form("/directory/services", b, fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(res).await);
    let loc = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    loc.trim_start_matches("/directory/services/")
        .trim_end_matches("/edit")
        .to_owned()
}

struct Seeded {
    legal: String,
    shelter: String,
    police: String,
}

/// A legal clinic and a confidential shelter in Austin, vetted, and an unvetted police unit.
async fn seed(app: &TestApp) -> Seeded {
    app.user(Role::DirectoryManager).await;
    let m = app.login("directory_manager").await;
    let legal = add_entry(
        app,
        &m,
        &[
            ("organization", "Casa Segura"),
            ("service", "Immigration legal clinic"),
            ("description", "T and U visas for survivors"),
            ("service_type", "immigration_legal"),
            ("service_type", "legal_services"),
            ("population", "adults"),
            ("population", "foreign_nationals"),
            ("languages", "es, en"),
            ("phone", "+1 512 555 0100"),
            ("phone_visibility", "public"),
            ("address", "500 Congress Ave"),
            ("city", "Austin"),
            ("state", "TX"),
            ("zip", "78701"),
            ("hours", "always"),
        ],
    )
    .await;
    let shelter = add_entry(
        app,
        &m,
        &[
            ("organization", "Refugio"),
            ("service", "Emergency shelter for women"),
            ("service_type", "emergency_shelter"),
            ("service_type", "legal_services"),
            ("population", "women"),
            ("languages", "es"),
            ("phone", "+1 512 555 0199"),
            ("phone_visibility", "internal"),
            ("address", "12 Hidden Lane"),
            ("city", "Austin"),
            ("state", "TX"),
            ("zip", "78702"),
            ("confidential", "1"),
            ("hours", "always"),
        ],
    )
    .await;
    let police = add_entry(
        app,
        &m,
        &[
            ("organization", "City Police"),
            ("service", "Human trafficking unit"),
            ("service_type", "law_enforcement_local"),
            ("service_type", "legal_services"),
            ("languages", "es"),
            ("zip", "78701"),
            ("hours", "always"),
        ],
    )
    .await;
    // New entries wait for vetting; the manager vets two of them.
    let manage = text(app.get("/directory/manage", Some(&m)).await).await;
    assert!(manage.contains("Immigration legal clinic") && manage.contains("3 services"));
    for id in [&legal, &shelter] {
        let res = app
            .post_form(
                &format!("/directory/services/{id}/vet"),
                &m,
                &[("status", "vetted"), ("reverify_due", "")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let manage = text(app.get("/directory/manage", Some(&m)).await).await;
    assert!(
        !manage.contains("Immigration legal clinic") && manage.contains("Human trafficking unit")
    );
    Seeded {
        legal,
        shelter,
        police,
    }
}

async fn new_case(app: &TestApp) -> String {
    app.store
        .create_case(
            &AuditCtx::system(None),
            &NewCase {
                hotline_id: app.hotline_id.clone(),
                status: "open".into(),
                form: "labor".into(),
                state: Some("TX".into()),
                details_json: "{}".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id
}

async fn link_partner_to(app: &TestApp, service_id: &str, token: &str) {
    let s = json(
        app.api(
            Method::GET,
            &format!("/api/v1/hsds/services/{service_id}"),
            token,
            None,
        )
        .await,
    )
    .await;
    let org = s["organization_id"].as_str().unwrap().to_owned();
    app.store
        .link_partner_org(
            &AuditCtx::system(None),
            &app.hotline_id,
            &app.partner_org_id,
            Some(&org),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_advocate_finds_an_open_spanish_legal_service_refers_with_consent_and_sees_the_partners_answer()
 {
    let app = TestApp::new().await;
    let s = seed(&app).await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    link_partner_to(&app, &s.legal, &token).await;
    let case = new_case(&app).await;
    let b = app.login("advocate").await;

    let form = text(app.get(&format!("/directory?case={case}"), Some(&b)).await).await;
    assert!(form.contains("name=\"case\""));
    let res = app
        .post_form(
            "/directory",
            &b,
            &[
                ("case", &case),
                ("place", "78701"),
                ("radius_km", "25"),
                ("service_type", "legal_services"),
                ("language", "es"),
                ("open_now", "1"),
                ("vetted_only", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert!(page.contains("Immigration legal clinic"), "{page}");
    assert!(page.contains("Open 24/7") && page.contains(" km</strong>"));
    assert!(
        !page.contains("Human trafficking unit"),
        "an unvetted law-enforcement entry is never offered"
    );
    // Staff see the confidential shelter's address.
    assert!(page.contains("12 Hidden Lane"));
    let refer = format!("/cases/{case}/referrals/new?service={}", s.legal);
    assert!(page.contains(&refer), "a Refer link from the case");

    let start = page.find(&refer).unwrap();
    let href = page[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let form = text(app.get(&href, Some(&b)).await).await;
    assert!(form.contains("Refer to Immigration legal clinic — Casa Segura"));
    let location = href.split("location=").nth(1).unwrap().to_owned();
    let res = app
        .post_form(
            &format!("/cases/{case}/referrals"),
            &b,
            &[
                ("service_id", &s.legal),
                ("location_id", &location),
                ("kind", "service"),
                ("basis", "consent"),
                ("consent_by", "The caller, herself"),
                ("consent_method", "verbal"),
                ("share", "needs"),
                ("shared_needs", "Advice on a T visa"),
                // Typed but not ticked: it must not be shared.
                ("shared_name", "Marisol"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(res).await);
    // The referral records what the case needed, for the gap analysis: the clinic's service type.
    let needs = app
        .store
        .rollups(
            &app.hotline_id,
            &lantern_store::RollupFilter {
                metric: Some("case_needs".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        needs.iter().any(|c| c.key.state == "TX"
            && c.key.service == "immigration_legal"
            && c.key.population == "labor_trafficking_survivors"),
        "{needs:?}"
    );
    let file = text(app.get(&format!("/cases/{case}"), Some(&b)).await).await;
    assert!(
        file.contains("Immigration legal clinic")
            && file.contains("Consent by The caller, herself")
    );

    app.user(Role::Partner).await;
    let pb = app.login("partner").await;
    let inbox = text(app.get("/inbox", Some(&pb)).await).await;
    assert!(inbox.contains("Advice on a T visa"), "{inbox}");
    assert!(!inbox.contains("Marisol"));
    let id = app
        .store
        .list_referrals(
            &AuditCtx::system(None),
            &app.hotline_id,
            &lantern_store::ReferralFilter::default(),
        )
        .await
        .unwrap()[0]
        .id
        .clone();
    let res = app
        .post_form(
            &format!("/inbox/{id}"),
            &pb,
            &[
                ("from", "sent"),
                ("to", "accepted"),
                ("note", "Intake Monday 9am"),
            ],
        )
        .await;
    assert!(text(res).await.contains("Recorded: Accepted."));
    let file = text(app.get(&format!("/cases/{case}"), Some(&b)).await).await;
    assert!(file.contains("Accepted — Intake Monday 9am"), "{file}");
    // The advocate cannot answer for a partner that answers itself.
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/referrals/{id}/move"),
            &token,
            Some(serde_json::json!({"to": "completed"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_confidential_address_never_reaches_a_partner() {
    let app = TestApp::new().await;
    let s = seed(&app).await;
    let partner = app.user(Role::Partner).await;
    let (pt, _) = app.token_for(&partner).await;
    let adv = app.user(Role::Advocate).await;
    let (at, _) = app.token_for(&adv).await;
    let q = serde_json::json!({"zip": "78701", "radius_km": 30, "service_types": ["emergency_shelter"]});
    let staff = text(
        app.api(
            Method::POST,
            "/api/v1/directory/search",
            &at,
            Some(q.clone()),
        )
        .await,
    )
    .await;
    assert!(staff.contains("12 Hidden Lane") && staff.contains("555 0199"));
    let res = app
        .api(Method::POST, "/api/v1/directory/search", &pt, Some(q))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v = json(res).await;
    assert_eq!(v["count"], 1, "the partner finds the shelter: {v}");
    let hit = &v["results"][0];
    assert_eq!(hit["service_id"], s.shelter.as_str());
    assert!(
        hit["address"].is_null() && hit["distance_km"].is_null(),
        "{hit}"
    );
    let all = v.to_string();
    assert!(
        !all.contains("Hidden Lane") && !all.contains("555 0199"),
        "{all}"
    );
    for path in [
        format!("/api/v1/hsds/services/{}", s.shelter),
        "/api/v1/hsds/services?per_page=100".into(),
        "/api/v1/hsds/service_at_locations?per_page=100".into(),
        "/api/v1/hsds/services?format=ndjson".into(),
    ] {
        let body = text(app.api(Method::GET, &path, &pt, None).await).await;
        assert!(
            body.contains("Emergency shelter for women"),
            "{path}: {body}"
        );
        assert!(!body.contains("Hidden Lane"), "{path}: {body}");
    }
    let one = json(
        app.api(
            Method::GET,
            &format!("/api/v1/hsds/services/{}", s.shelter),
            &pt,
            None,
        )
        .await,
    )
    .await;
    let loc = &one["service_at_locations"][0]["location"];
    assert!(
        loc["latitude"].is_null() && loc["addresses"] == serde_json::json!([]),
        "{loc}"
    );
    let pb = app.login("partner").await;
    let page = text(
        app.post_form(
            "/directory",
            &pb,
            &[
                ("place", "Austin, TX"),
                ("service_type", "emergency_shelter"),
            ],
        )
        .await,
    )
    .await;
    assert!(page.contains("Emergency shelter for women") && !page.contains("Hidden Lane"));
    let _ = s.police;
}

#[tokio::test]
async fn a_referral_under_an_exception_waits_for_a_supervisor_before_the_partner_sees_it() {
    let app = TestApp::new().await;
    let s = seed(&app).await;
    let adv = app.user(Role::Advocate).await;
    let (at, _) = app.token_for(&adv).await;
    let sup = app.user(Role::Supervisor).await;
    let (st, _) = app.token_for(&sup).await;
    let partner = app.user(Role::Partner).await;
    let (pt, _) = app.token_for(&partner).await;
    link_partner_to(&app, &s.shelter, &at).await;
    let case = new_case(&app).await;
    let body = serde_json::json!({
        "kind": "service", "service_id": s.shelter, "basis": "imminent_danger",
        "exception_reason": "Threatened with a weapon tonight",
        "shared": {"summary": "Needs a bed tonight"},
    });
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/cases/{case}/referrals"),
            &at,
            Some(body),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let r = json(res).await;
    assert_eq!(r["status"], "proposed");
    let id = r["id"].as_str().unwrap().to_owned();
    assert_eq!(
        json(app.api(Method::GET, "/api/v1/inbox", &pt, None).await).await,
        serde_json::json!([])
    );
    let to_sent = Some(serde_json::json!({"to": "sent"}));
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/referrals/{id}/move"),
            &at,
            to_sent.clone(),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "only a supervisor confirms"
    );
    let queue = json(
        app.api(Method::GET, "/api/v1/referrals/proposed", &st, None)
            .await,
    )
    .await;
    assert_eq!(
        queue[0]["exception_reason"],
        "Threatened with a weapon tonight"
    );
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/referrals/{id}/move"),
            &st,
            to_sent,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r = json(res).await;
    assert_eq!(
        (r["status"].as_str(), r["confirmed_by"].as_str()),
        (Some("sent"), Some(sup.id.as_str()))
    );
    let inbox = json(app.api(Method::GET, "/api/v1/inbox", &pt, None).await).await;
    assert_eq!(inbox[0]["shared"]["summary"], "Needs a bed tonight");
    assert!(inbox[0].get("exception_reason").is_none());
    // Missing consent is refused, naming the fields; nothing is stored.
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/cases/{case}/referrals"),
            &at,
            Some(serde_json::json!({"kind": "service", "service_id": s.legal, "basis": "consent", "shared": {"nickname": "x"}})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = json(res).await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["shared.nickname", "consent_by", "consent_method"]);
    // An unvetted law-enforcement entry cannot be referred to.
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/cases/{case}/referrals"),
            &at,
            Some(serde_json::json!({"kind": "law_enforcement", "service_id": s.police, "basis": "consent", "consent_by": "the caller", "consent_method": "verbal"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("only when vetted"));
    let list = json(
        app.api(
            Method::GET,
            &format!("/api/v1/cases/{case}/referrals"),
            &at,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_bad_search_is_refused_naming_the_field() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (at, _) = app.token_for(&adv).await;
    for (path, field) in [
        (
            "/api/v1/directory/search?service_types=shelterz",
            "service_types[0]",
        ),
        ("/api/v1/directory/search?zip=00000", "zip"),
        ("/api/v1/directory/search?radius_km=-4", "radius_km"),
        ("/api/v1/directory/search?open_at=tomorrow", "open_at"),
        ("/api/v1/directory/search?colour=red", "query"),
    ] {
        let res = app.api(Method::GET, path, &at, None).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let p = json(res).await;
        assert!(
            p["errors"][0]["field"] == field || p["detail"].as_str().unwrap().contains("colour"),
            "{path}: {p}"
        );
    }
    let res = app
        .api(
            Method::POST,
            "/api/v1/directory/search",
            &at,
            Some(serde_json::json!({"populations": ["minors", "aliens"]})),
        )
        .await;
    assert_eq!(json(res).await["errors"][0]["field"], "populations[1]");
    // An empty directory answers with no results, not an error.
    let res = app
        .api(
            Method::GET,
            "/api/v1/directory/search?zip=78701&languages=es",
            &at,
            None,
        )
        .await;
    assert_eq!(json(res).await["count"], 0);
}

#[tokio::test]
async fn the_hsds_api_takes_the_specifications_example_and_serves_it_paged_and_as_ndjson() {
    let app = TestApp::new().await;
    let m = app.user(Role::DirectoryManager).await;
    let (mt, _) = app.token_for(&m).await;
    // shared/hsds-3.1 sits beside the checkout, or above it for a worktree deeper than the checkout.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|d| d.join("shared/hsds-3.1/examples"))
        .find(|d| d.is_dir())
        .expect("shared/hsds-3.1/examples beside or above the checkout");
    let example: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("service_full.json")).unwrap())
            .unwrap();
    let res = app
        .api(
            Method::POST,
            "/api/v1/directory/records",
            &mt,
            Some(example.clone()),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", text(res).await);
    let id = example["id"].as_str().unwrap();
    let one = json(
        app.api(
            Method::GET,
            &format!("/api/v1/hsds/services/{id}"),
            &mt,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(one["name"], example["name"]);
    assert_eq!(one["organization"]["id"], example["organization"]["id"]);
    let filled: Vec<&str> = [
        "service_areas",
        "languages",
        "cost_options",
        "required_documents",
        "funding",
    ]
    .into_iter()
    .filter(|k| one[*k].as_array().is_some_and(|a| !a.is_empty()))
    .collect();
    assert_eq!(filled.len(), 5, "nested tables come back: {one}");
    let page = json(
        app.api(
            Method::GET,
            "/api/v1/hsds/services?per_page=1&page=1",
            &mt,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (page["total_items"].as_u64(), page["first_page"].as_bool()),
        (Some(1), Some(true))
    );
    let nd = text(
        app.api(
            Method::GET,
            "/api/v1/hsds/services?format=ndjson",
            &mt,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(nd.lines().count(), 1);
    let terms = json(
        app.api(Method::GET, "/api/v1/hsds/taxonomy_terms", &mt, None)
            .await,
    )
    .await;
    assert!(terms["total_items"].as_u64().unwrap() >= 1);
    let root = json(app.api(Method::GET, "/api/v1/hsds/", &mt, None).await).await;
    assert_eq!(root["version"], "3.1");
    // A record with a wrong type is refused with its row, table and field; nothing changes.
    let mut bad = example.clone();
    bad["minimum_age"] = serde_json::json!("eighteen");
    bad["name"] = serde_json::json!("Changed");
    let res = app
        .api(Method::POST, "/api/v1/directory/records", &mt, Some(bad))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p = json(res).await;
    assert_eq!(p["errors"][0]["field"], "[1].service.minimum_age", "{p}");
    let one = json(
        app.api(
            Method::GET,
            &format!("/api/v1/hsds/services/{id}"),
            &mt,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(one["name"], example["name"]);
    // Vetting through the API, then the entry leaves the due list.
    let due = json(
        app.api(Method::GET, "/api/v1/directory/due", &mt, None)
            .await,
    )
    .await;
    assert!(
        due.as_array()
            .unwrap()
            .iter()
            .any(|d| d["service_id"] == id)
    );
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/directory/services/{id}/vet"),
            &mt,
            Some(serde_json::json!({"status": "vetted", "reverify_due": "2099-01-01"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let due = json(
        app.api(Method::GET, "/api/v1/directory/due", &mt, None)
            .await,
    )
    .await;
    assert!(
        !due.as_array()
            .unwrap()
            .iter()
            .any(|d| d["service_id"] == id)
    );
    let res = app
        .api(
            Method::DELETE,
            &format!("/api/v1/directory/records/service/{id}"),
            &mt,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .api(
            Method::GET,
            &format!("/api/v1/hsds/services/{id}"),
            &mt,
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
