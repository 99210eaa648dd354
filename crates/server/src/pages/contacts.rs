//! The advocate's contact pages: the new-contact form (safe-to-talk first, then the screening, asking
//! age first, with the determination shown live), and a contact's own page.

use super::{Chrome, PageError, PageResult, render};
use crate::accounts::format_time;
use crate::api::contacts::record;
use crate::auth::Principal;
use crate::error::AppError;
use crate::intake::ContactInput;
use crate::pages::cases::label;
use crate::pages::review::outcome_label;
use crate::state::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use lantern_domain::codes::{
    Action, Category, Channel, IdentifierKind, Means, MeansClass, PartyRole, Purpose, SignalerType,
};
use serde_json::{Map, Value, json};

type Opt = (&'static str, &'static str);

fn opts<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Vec<Opt> {
    all.iter().map(|v| (code(*v), label(*v))).collect()
}

#[derive(Template)]
#[template(path = "contact_new.html")]
struct NewContactPage {
    chrome: Option<Chrome>,
    csrf: String,
    channels: Vec<Opt>,
    signalers: Vec<Opt>,
    categories: Vec<Opt>,
    states: Vec<&'static str>,
    purposes: Vec<Opt>,
    actions: Vec<Opt>,
    means: Vec<(&'static str, &'static str, &'static str)>,
    roles: Vec<Opt>,
    kinds: Vec<Opt>,
    rows: [usize; 3],
}

/// `GET /contacts/new`.
pub async fn new(State(state): State<AppState>, p: Principal) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/contacts/new").await?;
    render(&NewContactPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        channels: opts(Channel::ALL, Channel::code, Channel::label),
        signalers: opts(SignalerType::ALL, SignalerType::code, SignalerType::label),
        categories: opts(Category::ALL, Category::code, Category::label),
        states: lantern_domain::case::us_states(),
        purposes: opts(Purpose::ALL, Purpose::code, Purpose::label),
        actions: opts(Action::ALL, Action::code, Action::label),
        means: Means::ALL
            .iter()
            .map(|m| {
                let class = match m.class() {
                    MeansClass::Force => "force",
                    MeansClass::Fraud => "fraud",
                    MeansClass::Coercion => "coercion",
                };
                (m.code(), m.label(), class)
            })
            .collect(),
        roles: opts(PartyRole::ALL, PartyRole::code, PartyRole::label),
        kinds: opts(
            IdentifierKind::ALL,
            IdentifierKind::code,
            IdentifierKind::label,
        ),
        rows: [0, 1, 2],
    })
}

/// Turns the flat form into the API's contact document, so the page and the API share every check.
fn form_to_input(
    pairs: &[(String, String)],
    case_id: Option<String>,
) -> Result<ContactInput, AppError> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let all = |k: &str| {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| Value::from(v.as_str()))
            .collect::<Vec<_>>()
    };
    let mut doc = Map::new();
    for k in [
        "channel",
        "signaler_type",
        "category",
        "language",
        "interpreter_language",
        "safe_to_talk",
        "narrative",
    ] {
        if let Some(v) = get(k) {
            doc.insert(k.into(), v.into());
        }
    }
    let mut loc = Map::new();
    for k in ["state", "city", "zip"] {
        if let Some(v) = get(k) {
            loc.insert(k.into(), v.into());
        }
    }
    if !loc.is_empty() {
        doc.insert("location".into(), Value::Object(loc));
    }
    let mut s = Map::new();
    if let Some(age) = get("age") {
        let n: u32 = age.parse().map_err(|_| {
            AppError::invalid("screening.subject_age", "must be a whole number of years")
        })?;
        s.insert("subject_age".into(), n.into());
    } else if let Some(m) = get("minor") {
        s.insert("subject_minor".into(), (m == "yes").into());
    }
    for k in ["purposes", "actions", "means"] {
        s.insert(k.into(), Value::Array(all(k)));
    }
    match get("compelled") {
        Some("yes") => {
            s.insert("compelled".into(), true.into());
        }
        Some("no") => {
            s.insert("compelled".into(), false.into());
        }
        _ => {}
    }
    for k in ["smuggling_arrangement", "labor_violations"] {
        if get(k).is_some() {
            s.insert(k.into(), true.into());
        }
    }
    doc.insert("screening".into(), Value::Object(s));
    let mut parties = Vec::new();
    for n in 0..3 {
        if let Some(v) = get(&format!("id_value_{n}")) {
            parties.push(json!({
                "role": get(&format!("party_role_{n}")).unwrap_or("potential_victim"),
                "identifiers": [{"kind": get(&format!("id_kind_{n}")).unwrap_or("name"), "value": v}],
            }));
        }
    }
    match get("case_mode").unwrap_or("new") {
        "new" => {
            doc.insert("open_case".into(), true.into());
        }
        "existing" => {
            doc.insert("case_id".into(), case_id.into());
        }
        _ => {}
    }
    if !parties.is_empty() && get("case_mode") != Some("none") {
        doc.insert("parties".into(), Value::Array(parties));
    }
    if get("sc_allowed").is_some() || get("sc_number").is_some() {
        let mut sc = Map::new();
        sc.insert("allowed".into(), get("sc_allowed").is_some().into());
        for (k, f) in [
            ("sc_number", "number"),
            ("sc_windows", "windows"),
            ("sc_code_word", "code_word"),
        ] {
            if let Some(v) = get(k) {
                sc.insert(f.into(), v.into());
            }
        }
        for (k, f) in [("sc_voicemail", "voicemail"), ("sc_text", "text")] {
            sc.insert(f.into(), get(k).is_some().into());
        }
        doc.insert("safe_contact".into(), Value::Object(sc));
    }
    serde_path_to_error::deserialize(Value::Object(doc))
        .map_err(|e| AppError::invalid(e.path().to_string(), e.inner().to_string()))
}

/// Resolves a case number typed by the advocate into the case's id.
pub(crate) async fn case_by_number(
    state: &AppState,
    p: &Principal,
    raw: Option<&str>,
) -> Result<String, AppError> {
    let n: i64 = raw
        .map(|s| s.trim().trim_start_matches('#'))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            AppError::invalid(
                "case_number",
                "give the number of the case to add the contact to",
            )
        })?;
    let f = lantern_store::CaseFilter {
        number: Some(n),
        limit: 1,
        ..Default::default()
    };
    let (found, _) = state
        .store
        .list_cases(&p.ctx(), &p.user.hotline_id, &f)
        .await?;
    found
        .into_iter()
        .next()
        .map(|c| c.case.id)
        .ok_or_else(|| AppError::invalid("case_number", format!("there is no case {n}")))
}

/// `POST /contacts`: saves the contact with its determination, then shows its case (or itself).
pub async fn create(State(state): State<AppState>, p: Principal, body: Bytes) -> PageResult {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let mode = pairs
        .iter()
        .find(|(k, _)| k == "case_mode")
        .map(|(_, v)| v.as_str());
    let case_id = if mode == Some("existing") {
        Some(
            case_by_number(
                &state,
                &p,
                pairs
                    .iter()
                    .find(|(k, _)| k == "case_number")
                    .map(|(_, v)| v.as_str()),
            )
            .await?,
        )
    } else {
        None
    };
    let input = form_to_input(&pairs, case_id)?;
    let c = record(&state, &p, &input).await?;
    let to = match &c.case_id {
        Some(id) => format!("/cases/{id}"),
        None => format!("/contacts/{}", c.id),
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    chrome: Option<Chrome>,
    csrf: String,
    id: String,
    when: String,
    facts: Vec<(&'static str, String)>,
    narrative: Option<String>,
    determinations: Vec<(String, Vec<String>)>,
    case_id: Option<String>,
    /// Whether the contact is a call, with a call log.
    call_log: bool,
}

/// `GET /contacts/{id}`.
pub async fn show(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/contacts/new").await?;
    let c = state
        .store
        .contact(&p.ctx(), &p.user.hotline_id, &id)
        .await?;
    let mut facts = vec![("Channel", label(&c.channel))];
    for (k, v) in [
        ("Who", c.signaler_type.as_deref().map(label)),
        ("Kind", c.category.as_deref().map(label)),
        ("Safe to talk", c.safe_to_talk.as_deref().map(label)),
        ("Language", c.language.clone()),
        ("Interpreter", c.interpreter.clone()),
        ("State", c.state.clone()),
        ("City", c.city.clone()),
        ("ZIP", c.zip.clone()),
    ] {
        if let Some(v) = v {
            facts.push((k, v));
        }
    }
    let determinations = c
        .determinations
        .iter()
        .map(|d| {
            (
                format!(
                    "{}{}",
                    outcome_label(&d.outcome),
                    if d.minor_rule_applied {
                        " · minor rule"
                    } else {
                        ""
                    }
                ),
                d.reasons.clone(),
            )
        })
        .collect();
    render(&ContactPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        when: format_time(c.occurred_at_us),
        facts,
        narrative: c.narrative,
        determinations,
        case_id: c.case_id,
        call_log: matches!(c.channel.as_str(), "phone" | "tty"),
        id: c.id,
    })
}

/// `POST /contacts/{id}/attach`: adds the contact to a case by number.
pub async fn attach(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let case_id = case_by_number(
        &state,
        &p,
        pairs
            .iter()
            .find(|(k, _)| k == "case_number")
            .map(|(_, v)| v.as_str()),
    )
    .await?;
    state
        .store
        .attach_contact(&p.ctx(), &p.user.hotline_id, &id, &case_id)
        .await
        .map_err(PageError::from)?;
    Ok(Redirect::to(&format!("/cases/{case_id}")).into_response())
}
