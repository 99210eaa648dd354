//! The advocate's pages, as a new user would use them.

use crate::helpers::*;
use axum::http::{StatusCode, header};
use lantern_domain::account::Role;

#[tokio::test]
async fn a_call_from_a_16_year_old_taken_on_the_page_reaches_the_case_and_the_supervisor() {
    let app = TestApp::new().await;
    app.user(Role::Advocate).await;
    app.user(Role::Supervisor).await;
    let adv = app.login("advocate").await;
    let form = text(app.get("/contacts/new", Some(&adv)).await).await;
    let safe = form.find("Is it safe to talk").unwrap();
    let age = form.find("How old is the person").unwrap();
    let purpose = form.find("<legend>Purpose").unwrap();
    assert!(
        safe < age && age < purpose,
        "safe-to-talk first, then age first in the screening"
    );

    let res = app
        .post_form(
            "/contacts",
            &adv,
            &[
                ("safe_to_talk", "yes"),
                ("channel", "phone"),
                ("signaler_type", "victim_survivor"),
                ("state", "TX"),
                ("age", "16"),
                ("purposes", "commercial_sex"),
                ("compelled", ""),
                (
                    "narrative",
                    "Dates are arranged by an older man who keeps the money.",
                ),
                ("party_role_0", "suspected_trafficker"),
                ("id_kind_0", "phone"),
                ("id_value_0", "555 987 6543"),
                ("case_mode", "new"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(res).await);
    let case_url = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let case = text(app.get(&case_url, Some(&adv)).await).await;
    assert!(case.contains("Likely trafficking, minor rule"), "{case}");
    assert!(case.contains("Dates are arranged by an older man"));
    assert!(case.contains("Phone: 555 987 6543"));

    let sup = app.login("supervisor").await;
    let queue = text(app.get("/review", Some(&sup)).await).await;
    assert!(queue.contains("Likely trafficking · minor rule") && queue.contains("case 1"));

    let list = text(
        app.post_form("/cases/search", &adv, &[("q", "(555) 987-6543")])
            .await,
    )
    .await;
    assert!(
        list.contains("1 case,") && list.contains(&case_url),
        "search by phone finds it"
    );
    let list = text(app.get("/cases", Some(&adv)).await).await;
    assert!(list.contains(&case_url));
}

#[tokio::test]
async fn a_contact_without_a_case_is_added_to_one_later_and_bad_input_names_the_field() {
    let app = TestApp::new().await;
    app.user(Role::Advocate).await;
    let adv = app.login("advocate").await;
    let res = app
        .post_form(
            "/contacts",
            &adv,
            &[
                ("channel", "sms"),
                ("case_mode", "none"),
                ("purposes", "labor_services"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let contact_url = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(contact_url.starts_with("/contacts/"));
    let page = text(app.get(&contact_url, Some(&adv)).await).await;
    assert!(
        page.contains("Not trafficking") || page.contains("Insufficient information"),
        "{page}"
    );

    let bad = app
        .post_form(
            &format!("{contact_url}/attach"),
            &adv,
            &[("case_number", "99")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(bad).await.contains("there is no case 99"));

    let res = app
        .post_form("/contacts", &adv, &[("channel", "sms"), ("age", "sixteen")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(res).await.contains("screening.subject_age"));
    let res = app
        .post_form("/contacts", &adv, &[("channel", "carrier pigeon")])
        .await;
    assert!(text(res).await.contains("channel"));
}

#[tokio::test]
async fn on_the_case_page_an_advocate_changes_status_adds_a_party_and_a_safety_plan() {
    let app = TestApp::new().await;
    app.user(Role::Advocate).await;
    let adv = app.login("advocate").await;
    let res = app
        .post_form(
            "/contacts",
            &adv,
            &[("channel", "phone"), ("state", "GA"), ("case_mode", "new")],
        )
        .await;
    let case_url = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let page = text(
        app.post_form(
            &format!("{case_url}/parties"),
            &adv,
            &[
                ("role", "business"),
                ("kind", "business_name"),
                ("value", "Golden Spa"),
            ],
        )
        .await,
    )
    .await;
    assert!(
        page.contains("Party added.") && page.contains("Business name: Golden Spa"),
        "{page}"
    );
    let page = text(
        app.post_form(
            &format!("{case_url}/safety"),
            &adv,
            &[("safety_plan", "Meet at the library on Tuesdays")],
        )
        .await,
    )
    .await;
    assert!(page.contains("Meet at the library on Tuesdays"));
    let page = text(
        app.post_form(&format!("{case_url}/status"), &adv, &[("status", "closed")])
            .await,
    )
    .await;
    assert!(page.contains("Status: Closed."));
    let refused = app
        .post_form(
            &format!("{case_url}/status"),
            &adv,
            &[("status", "referred")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad = app
        .post_form(&format!("{case_url}/parties"), &adv, &[("role", "boss")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
