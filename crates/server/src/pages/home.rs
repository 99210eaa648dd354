//! The home page: who you are and what your role lets you do.

use super::{Chrome, PageResult, render};
use crate::auth::Principal;
use crate::policy::Action;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Option<Chrome>,
    full_name: String,
    hotline_name: String,
    role_label: &'static str,
    abilities: Vec<&'static str>,
}

/// What each action means to the person holding it, in their words.
fn ability(a: Action) -> &'static str {
    match a {
        Action::ViewHome => "See your account and sign out.",
        Action::ContactWrite => "Answer and record contacts: calls, texts, chats and tips.",
        Action::CaseRead => "Read contacts and cases.",
        Action::CaseWrite => "Open and update cases, parties, tasks and notes.",
        Action::ScreeningAssess => "Screen situations against Action-Means-Purpose.",
        Action::Review => "Review potential-trafficking determinations and consent exceptions.",
        Action::DirectoryRead => "Search the referral directory.",
        Action::DirectoryWrite => "Add, edit and vet directory entries.",
        Action::ReferralWrite => "Refer people, with their consent, to vetted partners.",
        Action::PartnerInbox => {
            "Receive referrals addressed to your organisation and report outcomes."
        }
        Action::InsightsRead => "See dashboards, maps and statistics.",
        Action::LinkageRun => "Link records across cases and explore networks.",
        Action::LinkageRead => "See the networks of cases that share people, phones and places.",
        Action::ChannelConsole => "Work the SMS and chat consoles.",
        Action::ManageUsers => "Manage users, partner organisations and API tokens.",
        Action::AuditRead => "Read the audit log.",
    }
}

/// `GET /`.
pub async fn show(State(state): State<AppState>, p: Principal) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/").await?;
    let abilities = Action::ALL
        .into_iter()
        .filter(|a| p.may(*a))
        .map(ability)
        .collect();
    render(&HomePage {
        full_name: p.user.full_name.clone(),
        hotline_name: chrome.hotline_name.clone(),
        role_label: p.user.role.label(),
        abilities,
        chrome: Some(chrome),
    })
}
