//! The advocate's calls: live and recent calls (`/calls`), taking a queued call, and the call log of a
//! phone contact (`/contacts/{id}/call`) with each field's error shown beside it.

use super::{Chrome, PageError, PageResult, render};
use crate::accounts::format_time;
use crate::auth::Principal;
use crate::error::{AppError, FieldError};
use crate::pages::cases::label;
use crate::state::AppState;
use crate::voice::CallLogInput;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use lantern_domain::codes::SignalerType;
use lantern_store::{Call, CallFilter};
use serde::Deserialize;

struct Row {
    id: String,
    contact_id: String,
    caller: String,
    line: String,
    status: String,
    started: String,
    duration: String,
    mine: bool,
    taken: bool,
    live: bool,
}

fn caller_of(c: &Call) -> String {
    match &c.caller {
        Some(n) => {
            let digits: Vec<char> = n.chars().collect();
            let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
            format!("Caller ending {tail}")
        }
        None if c.call_sid.is_some() => "Caller ID withheld".to_owned(),
        None => "Logged by hand".to_owned(),
    }
}

fn minutes(s: Option<i64>) -> String {
    s.map(|s| format!("{}:{:02}", s / 60, s % 60))
        .unwrap_or_default()
}

fn row(c: Call, me: &str) -> Row {
    Row {
        caller: caller_of(&c),
        line: c.hotline_number.clone().unwrap_or_default(),
        status: label(&c.status.replace('-', "_")),
        started: format_time(c.started_at_us),
        duration: minutes(c.duration_s),
        mine: c.advocate_id.as_deref() == Some(me),
        taken: c.advocate_id.is_some(),
        live: !c.is_final(),
        id: c.id,
        contact_id: c.contact_id,
    }
}

#[derive(Template)]
#[template(path = "calls.html")]
struct ListPage {
    chrome: Option<Chrome>,
    csrf: String,
    groups: Vec<(&'static str, &'static str, Vec<Row>)>,
}

/// `GET /calls`: calls going on now, then those of the last day.
pub async fn list(State(state): State<AppState>, p: Principal) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/calls").await?;
    let since = crate::accounts::now_us() - 24 * 3600 * 1_000_000;
    let calls = state
        .store
        .list_calls(
            &p.ctx(),
            &p.user.hotline_id,
            &CallFilter {
                live_only: false,
                since_us: Some(since),
                limit: 300,
            },
        )
        .await?;
    let (live, recent): (Vec<Call>, Vec<Call>) = calls.into_iter().partition(|c| !c.is_final());
    let me = p.user.id.clone();
    render(&ListPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        groups: vec![
            (
                "live",
                "Now",
                live.into_iter().map(|c| row(c, &me)).collect(),
            ),
            (
                "recent",
                "Ended in the last 24 hours",
                recent.into_iter().map(|c| row(c, &me)).collect(),
            ),
        ],
    })
}

/// `POST /calls/{id}/take`: the call becomes the advocate's; then its call log.
pub async fn take(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> PageResult {
    let call = state
        .store
        .take_call(&p.ctx(), &p.user.hotline_id, &id, &p.user.id)
        .await
        .map_err(|e| match e {
            lantern_store::StoreError::Conflict { .. } => PageError(AppError::new(
                StatusCode::CONFLICT,
                "Taken",
                "another advocate has already taken this call",
            )),
            other => PageError::from(other),
        })?;
    Ok(Redirect::to(&format!("/contacts/{}/call", call.contact_id)).into_response())
}

#[derive(Template)]
#[template(path = "call_log.html")]
struct LogPage {
    chrome: Option<Chrome>,
    csrf: String,
    contact_id: String,
    facts: Vec<(&'static str, String)>,
    signalers: Vec<(&'static str, &'static str)>,
    input: CallLogInput,
    errors: Vec<FieldError>,
    saved: bool,
}

impl LogPage {
    fn error_of(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn value(&self, field: &str) -> &str {
        let v = match field {
            "started_at" => &self.input.started_at,
            "ended_at" => &self.input.ended_at,
            "signaler_type" => &self.input.signaler_type,
            "interpreter_language" => &self.input.interpreter_language,
            "interpreter_vendor" => &self.input.interpreter_vendor,
            "transfer_target" => &self.input.transfer_target,
            _ => &self.input.transfer_service_id,
        };
        v.as_deref().unwrap_or("")
    }
}

fn local(us: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_default()
}

async fn log_page(
    state: &AppState,
    p: &Principal,
    contact_id: &str,
    input: Option<CallLogInput>,
    errors: Vec<FieldError>,
    saved: bool,
) -> Result<LogPage, PageError> {
    let chrome = Chrome::new(state, p, "/calls").await?;
    let contact = state
        .store
        .contact(&p.ctx(), &p.user.hotline_id, contact_id)
        .await?;
    if !matches!(contact.channel.as_str(), "phone" | "tty") {
        return Err(PageError(AppError::new(
            StatusCode::CONFLICT,
            "Not a call",
            format!(
                "only a phone or TTY contact has a call log; this one came by {}",
                contact.channel
            ),
        )));
    }
    let call = state
        .store
        .call_of_contact(&p.ctx(), &p.user.hotline_id, contact_id)
        .await?;
    let mut facts = vec![("Contact", format_time(contact.occurred_at_us))];
    if let Some(c) = &call {
        facts.push(("Caller", c.caller.clone().unwrap_or_else(|| caller_of(c))));
        facts.push(("Status", label(&c.status.replace('-', "_"))));
        if let Some(d) = c.duration_s {
            facts.push(("Length", minutes(Some(d))));
        }
        if let Some(n) = &c.hotline_number {
            facts.push(("Line", n.clone()));
        }
    }
    let input = input.unwrap_or_else(|| CallLogInput {
        started_at: Some(local(
            call.as_ref()
                .map_or(contact.occurred_at_us, |c| c.started_at_us),
        )),
        ended_at: call.as_ref().and_then(|c| c.ended_at_us).map(local),
        signaler_type: contact.signaler_type.clone(),
        interpreter_language: contact.interpreter.clone(),
        interpreter_vendor: call.as_ref().and_then(|c| c.interpreter_vendor.clone()),
        transfer_target: call.as_ref().and_then(|c| c.transfer_target.clone()),
        transfer_service_id: call.as_ref().and_then(|c| c.transfer_service_id.clone()),
    });
    Ok(LogPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        contact_id: contact_id.to_owned(),
        facts,
        signalers: SignalerType::ALL
            .iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
        input,
        errors,
        saved,
    })
}

/// What a redirect back to the call log says happened.
#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    /// `1` after saving.
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /contacts/{id}/call`: the call log form.
pub async fn show_log(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> PageResult {
    let page = log_page(&state, &p, &id, None, Vec::new(), q.saved.is_some()).await?;
    render(&page)
}

/// `POST /contacts/{id}/call`: saves the call log; a bad field shows the form again with its error.
pub async fn save_log(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let mut input = CallLogInput::default();
    for (k, v) in form_urlencoded::parse(&body) {
        let slot = match k.as_ref() {
            "started_at" => &mut input.started_at,
            "ended_at" => &mut input.ended_at,
            "signaler_type" => &mut input.signaler_type,
            "interpreter_language" => &mut input.interpreter_language,
            "interpreter_vendor" => &mut input.interpreter_vendor,
            "transfer_target" => &mut input.transfer_target,
            "transfer_service_id" => &mut input.transfer_service_id,
            "csrf_token" => continue,
            other => {
                return Err(PageError(AppError::invalid(
                    other.to_owned(),
                    "not a field of the call log",
                )));
            }
        };
        *slot = Some(v.into_owned());
    }
    let errors = match input.check(&state, &p.user.hotline_id).await {
        Ok(log) => {
            state
                .store
                .save_call_log(&p.ctx(), &p.user.hotline_id, &id, &log, &p.user.id)
                .await?;
            return Ok(Redirect::to(&format!("/contacts/{id}/call?saved=1")).into_response());
        }
        Err(e) => {
            let problem = e.problem();
            if problem.errors.is_empty() {
                return Err(PageError(e));
            }
            problem.errors
        }
    };
    let page = log_page(&state, &p, &id, Some(input), errors, false).await?;
    let html = page.render().map_err(AppError::from)?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
}
