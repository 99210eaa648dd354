//! Recording contacts through the API: screening, cases, parties, exact matches, the case list.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use lantern_domain::account::Role;
use serde_json::json;

fn call_from_a_16_year_old() -> serde_json::Value {
    json!({
        "channel": "phone",
        "signaler_type": "victim_survivor",
        "category": "crisis",
        "language": "en",
        "location": {"state": "tx", "zip": "78701"},
        "safe_to_talk": "yes",
        "safe_contact": {"allowed": true, "number": "555 201 3344", "text": false, "code_word": "azul"},
        "narrative": "She is 16; an older man sets up dates and keeps the money.",
        "screening": {"subject_age": 16, "purposes": ["commercial_sex"]},
        "open_case": true,
        "parties": [
            {"role": "potential_victim", "gender": "woman", "age": 16},
            {"role": "suspected_trafficker", "gender": "man", "identifiers": [
                {"kind": "phone", "value": "(555) 987-6543"}, {"kind": "name", "value": "Rafael Ortíz"}]}
        ]
    })
}

#[tokio::test]
async fn a_call_from_a_16_year_old_is_likely_sex_trafficking_by_the_minor_rule_and_reaches_supervisors()
 {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(call_from_a_16_year_old()),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let c = json(res).await;
    let d = &c["determinations"][0];
    assert_eq!(
        (d["outcome"].as_str(), d["minor_rule_applied"].as_bool()),
        (Some("likely_trafficking"), Some(true))
    );
    assert_eq!(d["review_status"], "pending");
    assert!(!d["rules_version"].as_str().unwrap().is_empty());
    assert_eq!(c["created_by"], adv.id.as_str());
    let case_id = c["case_id"].as_str().unwrap();
    let file = json(
        app.api(
            Method::GET,
            &format!("/api/v1/cases/{case_id}"),
            &token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(file["case"]["form"], "sex");
    assert_eq!(file["case"]["state"], "TX");
    assert_eq!(file["parties"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.store
            .review_queue(&app.hotline_id, "pending", 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn open_cases_are_found_by_a_shared_phone_or_name_in_the_same_state_and_by_search() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    let c = json(
        app.api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(call_from_a_16_year_old()),
        )
        .await,
    )
    .await;
    let case_id = c["case_id"].as_str().unwrap().to_owned();

    let found = |body: serde_json::Value| {
        let app = &app;
        let token = token.clone();
        async move {
            json(
                app.api(Method::POST, "/api/v1/cases/matches", &token, Some(body))
                    .await,
            )
            .await
        }
    };
    let by_phone =
        found(json!({"identifiers": [{"kind": "phone", "value": "+1 555 987 6543"}]})).await;
    assert_eq!(by_phone[0]["case_id"], case_id.as_str());
    assert_eq!(by_phone[0]["matched"], "phone");
    let by_name =
        found(json!({"state": "TX", "identifiers": [{"kind": "alias", "value": "rafael  ORTIZ"}]}))
            .await;
    assert_eq!(by_name[0]["matched"], "name");
    let elsewhere =
        found(json!({"state": "CA", "identifiers": [{"kind": "name", "value": "Rafael Ortiz"}]}))
            .await;
    assert_eq!(
        elsewhere.as_array().unwrap().len(),
        0,
        "a name matches only in the same state"
    );

    let list = json(
        app.api(Method::GET, "/api/v1/cases?q=555-987-6543", &token, None)
            .await,
    )
    .await;
    assert_eq!(
        (list["total"].as_i64(), list["items"][0]["id"].as_str()),
        (Some(1), Some(case_id.as_str()))
    );
    let list = json(
        app.api(
            Method::GET,
            "/api/v1/cases?q=1&state=TX&status=open&form=sex",
            &token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(list["total"], 1);
    let list = json(
        app.api(Method::GET, "/api/v1/cases?state=CA", &token, None)
            .await,
    )
    .await;
    assert_eq!(list["total"], 0);
    let bad = app
        .api(
            Method::GET,
            "/api/v1/cases?status=pending&per_page=0",
            &token,
            None,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = json(bad).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["status", "per_page"]);
}

#[tokio::test]
async fn bad_contacts_are_refused_naming_every_field_and_change_nothing() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"channel": "pigeon"})),
        )
        .await;
    let p = json(res).await;
    assert_eq!(p["errors"][0]["field"], "channel");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("webchat")
    );
    let res = app
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"channel": "sms", "screening": {"means": ["bribery"]}})),
        )
        .await;
    assert_eq!(json(res).await["errors"][0]["field"], "screening.means[0]");
    let res = app
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"channel": "sms", "location": {"state": "Texas", "zip": "787"}, "occurred_at": "yesterday",
                        "parties": [{"role": "witness"}]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = json(res).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fields,
        ["location.state", "location.zip", "occurred_at", "parties"]
    );
    let events = app.store.recent_audit(&app.hotline_id, 50).await.unwrap();
    assert!(
        !events.iter().any(|e| e.action == "contact.create"),
        "nothing was written"
    );
}

#[tokio::test]
async fn a_closed_case_must_be_reopened_before_it_moves_on() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    let res = app.api(Method::POST, "/api/v1/cases", &token, Some(json!({"form": "labor", "details": {"typology": ["agriculture_animal_husbandry"], "locations": [{"state": "fl"}]}}))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let case = json(res).await;
    let path = format!("/api/v1/cases/{}", case["id"].as_str().unwrap());
    assert_eq!(case["state"], "FL");
    let closed = json(
        app.api(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"status": "closed"})),
        )
        .await,
    )
    .await;
    assert!(closed["closed_at_us"].is_i64());
    let res = app
        .api(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"status": "referred"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .api(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"status": "open"})),
        )
        .await;
    assert_eq!(json(res).await["closed_at_us"], serde_json::Value::Null);
    let res = app.api(Method::POST, &format!("{path}/parties"), &token, Some(json!({"role": "business", "identifiers": [{"kind": "email", "value": "not-an-email"}]}))).await;
    assert_eq!(
        json(res).await["errors"][0]["field"],
        "party.identifiers[0].value"
    );
}

#[tokio::test]
async fn contacts_and_tasks_are_listed_and_a_party_is_corrected_but_never_changes_role() {
    let app = TestApp::new().await;
    let adv = app.user(Role::Advocate).await;
    let (token, _) = app.token_for(&adv).await;
    let c = json(
        app.api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(call_from_a_16_year_old()),
        )
        .await,
    )
    .await;
    app.api(
        Method::POST,
        "/api/v1/contacts",
        &token,
        Some(json!({"channel": "email", "category": "general_information"})),
    )
    .await;
    let all = json(app.api(Method::GET, "/api/v1/contacts", &token, None).await).await;
    assert_eq!(all["total"], 2);
    let loose = json(
        app.api(
            Method::GET,
            "/api/v1/contacts?unattached=true&channel=email",
            &token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            loose["total"].as_i64(),
            loose["items"][0]["channel"].as_str()
        ),
        (Some(1), Some("email"))
    );
    let bad = app
        .api(
            Method::GET,
            "/api/v1/contacts?channel=fax&from=soon",
            &token,
            None,
        )
        .await;
    let fields: Vec<String> = json(bad).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["channel", "from"]);

    let case_id = c["case_id"].as_str().unwrap();
    app.api(
        Method::POST,
        &format!("/api/v1/cases/{case_id}/tasks"),
        &token,
        Some(json!({"title": "Call back", "due": "2026-12-01", "assignee_id": adv.id})),
    )
    .await;
    let mine = json(
        app.api(Method::GET, "/api/v1/tasks?assignee=me", &token, None)
            .await,
    )
    .await;
    assert_eq!(mine[0]["title"], "Call back");

    let file = json(
        app.api(
            Method::GET,
            &format!("/api/v1/cases/{case_id}"),
            &token,
            None,
        )
        .await,
    )
    .await;
    let trafficker = file["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "suspected_trafficker")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/parties/{trafficker}");
    let res = app
        .api(Method::PUT, &path, &token, Some(json!({"role": "witness"})))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unchanged = json(
        app.api(
            Method::GET,
            &format!("/api/v1/cases/{case_id}"),
            &token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        unchanged["parties"], file["parties"],
        "a refused change changes nothing"
    );
    let res = app
        .api(Method::PUT, &path, &token, Some(json!({"role": "suspected_trafficker", "gender": "man", "identifiers": [{"kind": "alias", "value": "El Jefe"}]})))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let by_alias = json(
        app.api(
            Method::POST,
            "/api/v1/cases/matches",
            &token,
            Some(json!({"state": "TX", "identifiers": [{"kind": "name", "value": "el jefe"}]})),
        )
        .await,
    )
    .await;
    assert_eq!(by_alias[0]["case_id"], case_id);
}
