//! Referral pages: the referral form opened from a directory result (consent first), the moves of a
//! referral from the case page and the review queue, and the partner's inbox.

use super::directory::Pairs;
use super::{Chrome, PageResult, render};
use crate::accounts::format_time;
use crate::api::directory::loaded;
use crate::api::referrals::{
    InboxItem, MoveInput, ReferralInput, create, inbox_items, move_referral,
};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use lantern_domain::codes::{Code as _, ReferralKind, ReferralStatus, ReportBasis};
use lantern_domain::referral::SharedPart;
use lantern_store::Referral;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The service (and location) chosen in the directory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    service: String,
    #[serde(default)]
    location: Option<String>,
}

/// One part that may be shared.
#[derive(Debug)]
pub struct PartRow {
    code: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "referral_new.html")]
struct NewPage {
    chrome: Option<Chrome>,
    csrf: String,
    case_id: String,
    service_id: String,
    location_id: Option<String>,
    target: String,
    place: Option<String>,
    kinds: Vec<(&'static str, &'static str)>,
    bases: Vec<(&'static str, &'static str)>,
    parts: Vec<PartRow>,
}

/// `GET /cases/{id}/referrals/new?service=…&location=…`.
pub async fn new(
    State(state): State<AppState>,
    p: Principal,
    Path(case_id): Path<String>,
    Query(t): Query<Target>,
) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/cases").await?;
    // The case must be one of ours (and reading it is audited).
    state
        .store
        .case(&p.ctx(), &p.user.hotline_id, &case_id)
        .await?;
    let l = loaded(&state, &p).await?;
    let dir = &l.internal.dir;
    let s = dir
        .service
        .get(&t.service)
        .ok_or_else(|| AppError::not_found("service"))?;
    let org = s
        .organization_id
        .as_deref()
        .and_then(|o| dir.organization.get(o))
        .and_then(|o| o.name.clone());
    let place = t.location.as_deref().and_then(|l| {
        dir.address
            .values()
            .find(|a| a.location_id.as_deref() == Some(l))
            .map(|a| {
                [a.city.as_deref(), a.state_province.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ")
            })
    });
    render(&NewPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        case_id,
        service_id: s.id.clone(),
        location_id: t.location.clone(),
        target: match org {
            Some(o) => format!("{} — {o}", s.name.clone().unwrap_or_default()),
            None => s.name.clone().unwrap_or_default(),
        },
        place,
        kinds: ReferralKind::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        bases: ReportBasis::ALL
            .iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        parts: SharedPart::ALL
            .iter()
            .map(|s| PartRow {
                code: s.code(),
                label: s.label(),
            })
            .collect(),
    })
}

/// `POST /cases/{id}/referrals`.
pub async fn submit(
    State(state): State<AppState>,
    p: Principal,
    Path(case_id): Path<String>,
    f: Pairs,
) -> PageResult {
    let mut shared = BTreeMap::new();
    for part in f.all("share") {
        shared.insert(
            part.clone(),
            f.one(&format!("shared_{part}")).unwrap_or_default(),
        );
    }
    let input = ReferralInput {
        kind: f.one("kind").unwrap_or_default(),
        service_id: f.one("service_id").unwrap_or_default(),
        location_id: f.one("location_id"),
        basis: f.one("basis").unwrap_or_default(),
        consent_by: f.one("consent_by"),
        consent_method: f.one("consent_method"),
        exception_reason: f.one("exception_reason"),
        shared,
    };
    create(&state, &p, &case_id, &input).await?;
    Ok(Redirect::to(&format!("/cases/{case_id}#referrals")).into_response())
}

/// `POST /referrals/{id}/move`: a move from the case page or the review queue; back to where it came
/// from.
pub async fn move_form(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    f: Pairs,
) -> PageResult {
    let r = move_referral(
        &state,
        &p,
        &id,
        &MoveInput {
            to: f.one("to").unwrap_or_default(),
            from: f.one("from"),
            note: f.one("note"),
        },
    )
    .await?;
    let back = if f.one("back").as_deref() == Some("review") {
        "/review".to_owned()
    } else {
        format!("/cases/{}#referrals", r.case_id)
    };
    Ok(Redirect::to(&back).into_response())
}

/// A referral as the case page shows it.
#[derive(Debug)]
pub struct ReferralRow {
    /// Its id.
    pub id: String,
    /// Target.
    pub target: String,
    /// Kind label.
    pub kind: &'static str,
    /// Status code.
    pub status: String,
    /// Status label.
    pub status_label: &'static str,
    /// Basis label.
    pub basis: &'static str,
    /// Consent line.
    pub consent: Option<String>,
    /// Exception reason.
    pub exception: Option<String>,
    /// What was shared.
    pub shared: Vec<(String, String)>,
    /// History lines.
    pub history: Vec<String>,
    /// Moves staff may make now, as (status code, button label).
    pub moves: Vec<(&'static str, &'static str)>,
    /// Whether the receiving organisation answers itself.
    pub partner_answers: bool,
}

impl ReferralRow {
    /// The row of a referral for staff.
    pub fn of(r: &Referral) -> ReferralRow {
        let status = ReferralStatus::parse(&r.status).ok();
        let parts: BTreeMap<String, String> =
            serde_json::from_str(&r.shared_json).unwrap_or_default();
        let partner_answers = r.partner_org_id.is_some();
        let moves = match status {
            Some(ReferralStatus::Sent) if !partner_answers => vec![
                ("accepted", "Record: accepted"),
                ("declined", "Record: declined"),
                ("withdrawn", "Withdraw"),
            ],
            Some(ReferralStatus::Accepted) if !partner_answers => {
                vec![
                    ("completed", "Record: completed"),
                    ("withdrawn", "Withdraw"),
                ]
            }
            Some(ReferralStatus::Sent | ReferralStatus::Accepted | ReferralStatus::Proposed) => {
                vec![("withdrawn", "Withdraw")]
            }
            _ => vec![],
        };
        ReferralRow {
            id: r.id.clone(),
            target: r.target_name.clone(),
            kind: ReferralKind::parse(&r.kind).map_or("", |k| k.label()),
            status_label: status.map_or("", |s| s.label()),
            status: r.status.clone(),
            basis: ReportBasis::parse(&r.basis).map_or("", |b| b.label()),
            consent: r.consent_by.as_ref().map(|by| {
                format!(
                    "Consent by {by}{}{}",
                    r.consent_method
                        .as_deref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default(),
                    r.consent_at_us
                        .map(|t| format!(", {}", format_time(t)))
                        .unwrap_or_default()
                )
            }),
            exception: r.exception_reason.clone(),
            shared: parts
                .into_iter()
                .map(|(k, v)| {
                    (
                        SharedPart::parse(&k).map_or(k.clone(), |p| p.label().to_owned()),
                        v,
                    )
                })
                .collect(),
            history: r
                .events
                .iter()
                .map(|e| {
                    format!(
                        "{} {}{}",
                        format_time(e.at_us),
                        ReferralStatus::parse(&e.status).map_or(e.status.as_str(), |s| s.label()),
                        e.note
                            .as_deref()
                            .map(|n| format!(" — {n}"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
            moves,
            partner_answers,
        }
    }
}

/// An inbox item as the page shows it.
#[derive(Debug)]
pub struct InboxRow {
    item: InboxItem,
    when: String,
    shared: Vec<(String, String)>,
    moves: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Option<Chrome>,
    csrf: String,
    rows: Vec<InboxRow>,
    message: Option<String>,
}

async fn inbox_page(state: &AppState, p: &Principal, message: Option<String>) -> PageResult {
    let chrome = Chrome::new(state, p, "/inbox").await?;
    let rows = inbox_items(state, p)
        .await?
        .into_iter()
        .map(|item| {
            let moves = match item.status.as_str() {
                "sent" => vec![("accepted", "Accept"), ("declined", "Decline")],
                "accepted" => vec![("completed", "Report completed")],
                _ => vec![],
            };
            InboxRow {
                when: format_time(item.created_at_us),
                shared: item
                    .shared
                    .iter()
                    .map(|(k, v)| {
                        (
                            SharedPart::parse(k).map_or(k.clone(), |p| p.label().to_owned()),
                            v.clone(),
                        )
                    })
                    .collect(),
                moves,
                item,
            }
        })
        .collect();
    render(&InboxPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        rows,
        message,
    })
}

/// `GET /inbox`: the partner's referrals.
pub async fn inbox(State(state): State<AppState>, p: Principal) -> PageResult {
    inbox_page(&state, &p, None).await
}

/// `POST /inbox/{id}`: the partner's answer.
pub async fn answer(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    f: Pairs,
) -> PageResult {
    let r = move_referral(
        &state,
        &p,
        &id,
        &MoveInput {
            to: f.one("to").unwrap_or_default(),
            from: f.one("from"),
            note: f.one("note"),
        },
    )
    .await?;
    let label = ReferralStatus::parse(&r.status).map_or("", |s| s.label());
    inbox_page(&state, &p, Some(format!("Recorded: {label}."))).await
}
