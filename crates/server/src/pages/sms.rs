//! The advocate's SMS console: the conversations waiting for an answer, a thread with its reply form
//! (refused, and hidden, for an opted-out sender), linking to a case, taking and closing.

use super::{Chrome, PageForm, PageResult, render};
use crate::accounts::format_time;
use crate::api::sms::{link_case, reply, retry_message};
use crate::auth::Principal;
use crate::error::AppError;
use crate::pages::contacts::case_by_number;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use lantern_store::{SmsConversation, SmsConversationFilter};
use serde::Deserialize;

/// One row of the list.
struct Row {
    id: String,
    tail: String,
    line: String,
    when: String,
    case_id: Option<String>,
    opted_out: bool,
}

fn row(c: SmsConversation) -> Row {
    let digits: Vec<char> = c.sender.chars().collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    Row {
        id: c.id,
        tail,
        line: c.hotline_number,
        when: format_time(c.last_message_at_us),
        case_id: c.case_id,
        opted_out: c.opted_out,
    }
}

#[derive(Template)]
#[template(path = "sms_list.html")]
struct ListPage {
    chrome: Option<Chrome>,
    groups: Vec<(&'static str, &'static str, Vec<Row>)>,
}

/// `GET /sms`: waiting conversations first, then those being answered.
pub async fn list(State(state): State<AppState>, p: Principal) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/sms").await?;
    let mut groups = Vec::new();
    for (status, label) in [("waiting", "Waiting"), ("open", "Being answered")] {
        let f = SmsConversationFilter {
            status: Some(status.to_owned()),
            limit: 200,
        };
        let items = state
            .store
            .list_sms_conversations(&p.ctx(), &p.user.hotline_id, &f)
            .await?;
        groups.push((status, label, items.into_iter().map(row).collect()));
    }
    render(&ListPage {
        chrome: Some(chrome),
        groups,
    })
}

struct MessageView {
    id: String,
    direction: String,
    who: &'static str,
    when: String,
    status: String,
    body: String,
    media: i64,
    retry: bool,
}

#[derive(Template)]
#[template(path = "sms_thread.html")]
struct ThreadPage {
    chrome: Option<Chrome>,
    csrf: String,
    id: String,
    sender: String,
    line: String,
    status: String,
    opened: String,
    opted_out: bool,
    case_id: Option<String>,
    contact_id: String,
    messages: Vec<MessageView>,
    message: Option<String>,
}

/// What a redirect back to the thread says happened.
#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    /// `sent`, `linked`, `status`.
    #[serde(default)]
    done: Option<String>,
}

/// `GET /sms/{id}`: the thread.
pub async fn show(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/sms").await?;
    let t = state
        .store
        .sms_thread(&p.ctx(), &p.user.hotline_id, &id)
        .await?;
    let c = t.conversation;
    let messages = t
        .messages
        .into_iter()
        .map(|m| MessageView {
            who: match (m.direction.as_str(), m.kind.as_str()) {
                ("inbound", _) => "Texter",
                (_, "auto_reply") => "Automatic reply",
                _ => "Advocate",
            },
            retry: m.direction == "outbound"
                && matches!(m.status.as_str(), "failed" | "undelivered"),
            status: if m.direction == "outbound" && m.status != "twiml" {
                m.status
            } else {
                String::new()
            },
            media: m.num_media,
            id: m.id,
            direction: m.direction,
            when: format_time(m.created_at_us),
            body: m.body,
        })
        .collect();
    let message = q.done.as_deref().and_then(|d| match d {
        "sent" => Some("Reply sent.".to_owned()),
        "linked" => Some("Linked to the case.".to_owned()),
        "status" => Some("Conversation updated.".to_owned()),
        _ => None,
    });
    render(&ThreadPage {
        chrome: Some(chrome),
        csrf: p.csrf().to_owned(),
        id: c.id,
        sender: c.sender,
        line: c.hotline_number,
        status: c.status,
        opened: format_time(c.created_at_us),
        opted_out: c.opted_out,
        case_id: c.case_id,
        contact_id: c.contact_id,
        messages,
        message,
    })
}

/// The reply form.
#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    body: String,
}

/// `POST /sms/{id}/reply`: sends the reply; an opted-out sender is refused with a 409 page.
pub async fn send(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<ReplyForm>,
) -> PageResult {
    reply(&state, &p, &id, &f.body).await?;
    Ok(Redirect::to(&format!("/sms/{id}?done=sent")).into_response())
}

/// `POST /sms/messages/{id}/retry`: sends a failed message again.
pub async fn retry(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> PageResult {
    let d = retry_message(&state, &p, &id).await?;
    Ok(Redirect::to(&format!("/sms/{}?done=sent", d.conversation_id)).into_response())
}

/// The link form.
#[derive(Debug, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    case_number: Option<String>,
}

/// `POST /sms/{id}/link`: links the conversation to a case by number.
pub async fn link(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<LinkForm>,
) -> PageResult {
    let case_id = case_by_number(&state, &p, f.case_number.as_deref()).await?;
    link_case(&state, &p, &id, &case_id).await?;
    Ok(Redirect::to(&format!("/sms/{id}?done=linked")).into_response())
}

/// The status form.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: Option<String>,
}

/// `POST /sms/{id}/status`: takes, reopens or closes the conversation.
pub async fn set_status(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    PageForm(f): PageForm<StatusForm>,
) -> PageResult {
    let status = f.status.unwrap_or_default();
    if !["waiting", "open", "closed"].contains(&status.as_str()) {
        return Err(AppError::invalid("status", "must be waiting, open or closed").into());
    }
    let assignee = (status == "open").then_some(p.user.id.as_str());
    state
        .store
        .set_sms_status(&p.ctx(), &p.user.hotline_id, &id, &status, assignee)
        .await?;
    Ok(Redirect::to(&format!("/sms/{id}?done=status")).into_response())
}
