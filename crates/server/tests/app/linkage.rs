//! Cross-case linkage as a new analyst meets it: cases recorded by advocates, a run from the network
//! view, the network found and drawn, its links explained without values for the analyst and with
//! them for a supervisor, decisions recorded and used by the next run, and possible matches at intake.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use lantern_domain::account::Role;
use serde_json::{Value, json};

const FIRST: [&str; 8] = [
    "Ana", "Berta", "Carmen", "Dolores", "Elena", "Flor", "Gloria", "Irene",
];
const LAST: [&str; 6] = ["Mendoza", "Ortega", "Reyes", "Castillo", "Vargas", "Silva"];

fn call(state: &str, parties: Value) -> Value {
    json!({"channel": "phone", "location": {"state": state}, "open_case": true, "parties": parties})
}

/// Records the background cases and the three cases of one network; returns the network's case numbers.
async fn record_hotline(app: &TestApp, token: &str) -> Vec<i64> {
    for i in 0..36 {
        let name = format!("{} {}", FIRST[i % 8], LAST[i % 6]);
        let phone = format!("(2{:02}) 555-{:04}", 10 + i, 1000 + i * 37);
        let body = call(
            "CA",
            json!([{"role": "potential_victim", "age": 20 + i % 15,
                    "identifiers": [{"kind": "name", "value": name}, {"kind": "phone", "value": phone}]}]),
        );
        let res = app
            .api(Method::POST, "/api/v1/contacts", token, Some(body))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let members = [
        (
            "Dragan Kovalenko",
            "(713) 555-0142",
            "Golden Lotus Spa",
            "1420 Elm Street, Suite 5",
        ),
        (
            "Dragan Kovalenok",
            "713.555.0142",
            "GOLDEN LOTUS SPA LLC",
            "1420 ELM ST STE 5",
        ),
        (
            "DRAGAN KOVAENKO",
            "+1 713 555 0142",
            "GoldenLotus Spa",
            "1420 Elm St., #5",
        ),
    ];
    let mut numbers = Vec::new();
    for (name, phone, business, address) in members {
        let body = call(
            "TX",
            json!([
                {"role": "potential_victim", "identifiers": []},
                {"role": "suspected_trafficker", "identifiers": [
                    {"kind": "name", "value": name}, {"kind": "phone", "value": phone}]},
                {"role": "business", "identifiers": [
                    {"kind": "name", "value": business}, {"kind": "address", "value": address}]}
            ]),
        );
        let res = app
            .api(Method::POST, "/api/v1/contacts", token, Some(body))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let case_id = json(res).await["case_id"].as_str().unwrap().to_owned();
        let file = json(
            app.api(
                Method::GET,
                &format!("/api/v1/cases/{case_id}"),
                token,
                None,
            )
            .await,
        )
        .await;
        numbers.push(file["case"]["number"].as_i64().unwrap());
    }
    numbers
}

async fn wait_for_run(app: &TestApp, token: &str) -> Value {
    for _ in 0..600 {
        let s = json(
            app.api(Method::GET, "/api/v1/linkage/status", token, None)
                .await,
        )
        .await;
        let status = s["latest"]["status"].as_str().unwrap_or("");
        if status == "done" || status == "failed" {
            assert_eq!(status, "done", "{s}");
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the linkage run did not finish");
}

async fn network_of(app: &TestApp, token: &str, number: i64) -> Value {
    let comps = json(
        app.api(Method::GET, "/api/v1/linkage/components", token, None)
            .await,
    )
    .await;
    comps
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["case_numbers"]
                .as_array()
                .unwrap()
                .contains(&json!(number))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no component holds case {number}: {comps}"))
}

#[tokio::test]
async fn an_analyst_runs_linkage_and_finds_the_network_drawn_and_explained_without_personal_data() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (adv_token, _) = app.token_for(&adv).await;
    let analyst = app.user(Role::Analyst).await;
    let (an_token, _) = app.token_for(&analyst).await;
    let network = record_hotline(&app, &adv_token).await;

    // The analyst opens the network view and runs linkage.
    let b = app.login("analyst").await;
    let page = text(app.get("/linkage", Some(&b)).await).await;
    assert!(page.contains("Linkage has not run yet"), "{page}");
    assert!(page.contains("Run linkage now"));
    let res = app.post_form("/linkage/run", &b, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let status = wait_for_run(&app, &an_token).await;
    assert!(
        status["last_finished"]["links"].as_i64().unwrap() >= 2,
        "{status}"
    );

    // The network is a component of exactly its three cases.
    let comp = network_of(&app, &an_token, network[0]).await;
    assert_eq!(comp["case_numbers"], json!(network));
    let page = text(app.get("/linkage", Some(&b)).await).await;
    assert!(page.contains(&format!(
        "/linkage/components/{}",
        comp["id"].as_str().unwrap()
    )));

    // Drawn and explained; the analyst sees kinds of link, not values.
    let path = format!("/linkage/components/{}", comp["id"].as_str().unwrap());
    let html = text(app.get(&path, Some(&b)).await).await;
    assert!(
        html.contains(r#"<title id="graph-title">Network of 3 cases</title>"#),
        "{html}"
    );
    assert!(html.contains("<desc id=\"graph-desc\">"));
    assert!(html.contains("same phone"), "{html}");
    assert!(html.contains("similar name") || html.contains("same name"));
    for secret in ["Kovalen", "KOVAENKO", "555-0142", "Golden", "Elm"] {
        assert!(!html.contains(secret), "the analyst must not see {secret}");
    }
    let api = json(
        app.api(
            Method::GET,
            &format!(
                "/api/v1/linkage/components/{}",
                comp["id"].as_str().unwrap()
            ),
            &an_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(api["identifiers_shown"], false);
    assert!(api["links"][0]["identifiers_a"].is_null());
    assert!(
        !api["links"][0]["explanation"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(!api.to_string().contains("Kovalen"));

    // A supervisor, who may read cases, sees the values.
    app.user(Role::Supervisor).await;
    let sup = app.login("supervisor").await;
    let html = text(app.get(&path, Some(&sup)).await).await;
    assert!(
        html.contains("Kovalenko") && html.contains("(713) 555-0142"),
        "{html}"
    );
    assert!(
        !html.contains("Reject: not the same"),
        "only analysts decide"
    );

    // Decisions: bad input is refused by name, an unknown link is a 404, and nothing changes.
    let link_id = api["links"][0]["id"].as_str().unwrap().to_owned();
    let decide = format!("/api/v1/linkage/links/{link_id}/decision");
    let res = app
        .api(
            Method::POST,
            &decide,
            &an_token,
            Some(json!({"decision": "maybe"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("decision"));
    let res = app
        .api(
            Method::POST,
            &decide,
            &an_token,
            Some(json!({"verdict": "confirmed"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .api(
            Method::POST,
            "/api/v1/linkage/links/no-such-link/decision",
            &an_token,
            Some(json!({"decision": "confirmed"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(text(res).await.contains("link not found"));
    assert!(
        app.store
            .linkage_decisions(&app.hotline_id)
            .await
            .unwrap()
            .is_empty()
    );

    // The analyst rejects one link on the page; it is audited and the next run keeps that pair apart.
    let html = text(
        app.post_form(
            &format!("/linkage/links/{link_id}/decision"),
            &b,
            &[("decision", "rejected")],
        )
        .await,
    )
    .await;
    assert!(html.contains("Rejected."), "{html}");
    let events = app.store.recent_audit(&app.hotline_id, 50).await.unwrap();
    assert!(events.iter().any(|e| e.action == "linkage.decide"));
    let stored = app.store.linkage_decisions(&app.hotline_id).await.unwrap();
    assert_eq!(stored.len(), 1);
    let res = app
        .api(Method::POST, "/api/v1/linkage/runs", &an_token, None)
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    wait_for_run(&app, &an_token).await;
    let comp = network_of(&app, &an_token, network[0]).await;
    let again = json(
        app.api(
            Method::GET,
            &format!(
                "/api/v1/linkage/components/{}",
                comp["id"].as_str().unwrap()
            ),
            &an_token,
            None,
        )
        .await,
    )
    .await;
    let rejected = (&stored[0].party_a, &stored[0].party_b);
    for l in again["links"].as_array().unwrap() {
        let pair = (
            l["party_a"].as_str().unwrap(),
            l["party_b"].as_str().unwrap(),
        );
        assert!(
            !(pair == (rejected.0.as_str(), rejected.1.as_str())
                || pair == (rejected.1.as_str(), rejected.0.as_str())),
            "a rejected pair came back"
        );
    }
}

#[tokio::test]
async fn intake_suggests_cases_whose_people_match_though_written_differently() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    let network = record_hotline(&app, &token).await;

    let probe = json!({"state": "TX", "role": "suspected_trafficker", "identifiers": [
        {"kind": "phone", "value": "713 555 0142"}, {"kind": "name", "value": "Dragan Kovalenco"}]});
    let res = app
        .api(
            Method::POST,
            "/api/v1/linkage/possible-matches",
            &token,
            Some(probe.clone()),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let found = json(res).await;
    let numbers: Vec<i64> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["number"].as_i64().unwrap())
        .collect();
    for n in &network {
        assert!(numbers.contains(n), "case {n} not in {found}");
    }
    assert!(
        found[0]["kinds"]
            .as_array()
            .unwrap()
            .contains(&json!("same phone")),
        "{found}"
    );

    // A party written after the index was built is found by the next lookup.
    let body = call(
        "TX",
        json!([{"role": "suspected_trafficker", "identifiers": [
            {"kind": "phone", "value": "1-713-555-0142"}, {"kind": "name", "value": "Dragan Kovalenko"}]}]),
    );
    let created = json(
        app.api(Method::POST, "/api/v1/contacts", &token, Some(body))
            .await,
    )
    .await;
    let case_id = created["case_id"].as_str().unwrap();
    let found = json(
        app.api(
            Method::POST,
            "/api/v1/linkage/possible-matches",
            &token,
            Some(probe),
        )
        .await,
    )
    .await;
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["case_id"] == case_id),
        "{found}"
    );

    // Bad input is refused by name; nothing to compare finds nothing.
    let res = app
        .api(
            Method::POST,
            "/api/v1/linkage/possible-matches",
            &token,
            Some(json!({"state": "ZZ", "identifiers": []})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("state"));
    let res = app
        .api(
            Method::POST,
            "/api/v1/linkage/possible-matches",
            &token,
            Some(json!({"identifiers": [{"kind": "colour", "value": "red"}]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .api(
            Method::POST,
            "/api/v1/linkage/possible-matches",
            &token,
            Some(json!({"identifiers": []})),
        )
        .await;
    assert_eq!(json(res).await, json!([]));
}
