//! Staff pages: server-rendered HTML from compile-time checked templates.

pub mod admin;
pub mod calls;
pub mod cases;
pub mod chat;
pub mod contacts;
pub mod directory;
pub mod gaps;
pub mod help;
pub mod home;
pub mod insights;
pub mod linkage;
pub mod login;
pub mod referrals;
pub mod review;
pub mod sms;
pub mod statistics;

use crate::auth::Principal;
use crate::error::{AppError, FieldError};
use crate::policy::Action;
use crate::state::AppState;
use askama::Template;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

/// One entry of the main navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Text.
    pub label: &'static str,
    /// Target.
    pub href: &'static str,
    /// Whether it is the current section.
    pub current: bool,
}

/// The sections of the main navigation and the action each needs. A section appears only for roles
/// whose action it is, and only once its pages exist.
const SECTIONS: &[(&str, &str, Action)] = &[
    ("Home", "/", Action::ViewHome),
    ("New contact", "/contacts/new", Action::ContactWrite),
    ("Cases", "/cases", Action::CaseRead),
    ("SMS", "/sms", Action::ChannelConsole),
    ("Chat", "/chats", Action::ChannelConsole),
    ("Directory", "/directory", Action::DirectoryRead),
    (
        "Manage directory",
        "/directory/manage",
        Action::DirectoryWrite,
    ),
    ("Inbox", "/inbox", Action::PartnerInbox),
    ("Review", "/review", Action::Review),
    ("Insights", "/insights", Action::InsightsRead),
    ("Linkage", "/linkage", Action::LinkageRead),
    ("Users", "/admin/users", Action::ManageUsers),
    ("Audit log", "/admin/audit", Action::AuditRead),
    ("Tips", "/tips", Action::CaseRead),
    ("Calls", "/calls", Action::ChannelConsole),
];

/// What the layout shows around every signed-in page.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The hotline's name.
    pub hotline_name: String,
    /// The user's login.
    pub username: String,
    /// The role's label.
    pub role_label: &'static str,
    /// The session's CSRF token for the forms of the page.
    pub csrf: String,
    /// The navigation this user sees.
    pub nav: Vec<NavItem>,
}

impl Chrome {
    /// The layout for `p`, with `current` (an href) marked.
    pub async fn new(state: &AppState, p: &Principal, current: &str) -> Result<Self, AppError> {
        let hotline_name = state
            .store
            .hotline(&p.user.hotline_id)
            .await?
            .map(|h| h.name)
            .unwrap_or_default();
        let nav = SECTIONS
            .iter()
            .filter(|(_, _, a)| p.may(*a))
            .map(|(label, href, _)| NavItem {
                label,
                href,
                current: *href == current,
            })
            .collect();
        Ok(Chrome {
            hotline_name,
            username: p.user.username.clone(),
            role_label: p.user.role.label(),
            csrf: p.csrf().to_owned(),
            nav,
        })
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Option<Chrome>,
    title: &'a str,
    detail: &'a str,
    errors: &'a [FieldError],
}

/// An [`AppError`] shown as a page: the same status, the problem as HTML. Not signed in means a
/// redirect to the login page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        let p = self.0.problem();
        if p.status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/login").into_response();
        }
        let page = ErrorPage {
            chrome: None,
            title: p.title,
            detail: &p.detail,
            errors: &p.errors,
        };
        let mut res = match page.render() {
            Ok(html) => (p.status, Html(html)).into_response(),
            Err(_) => (p.status, p.title).into_response(),
        };
        crate::error::retry_after(&mut res);
        res
    }
}

/// Result of page handlers.
pub type PageResult<T = Response> = Result<T, PageError>;

/// Renders a template as a 200 page.
pub fn render(t: &impl Template) -> PageResult {
    Ok(Html(t.render().map_err(AppError::from)?).into_response())
}

/// A form body parsed into `T`; a bad field is a 422 page naming it.
#[derive(Debug)]
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;
    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
            .await
            .map_err(|_| {
                AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Too large",
                    "the form is too large",
                )
            })?;
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(&bytes));
        serde_path_to_error::deserialize(de)
            .map(PageForm)
            .map_err(|e| {
                let field = e.path().to_string();
                PageError(AppError::invalid(
                    if field == "." { "form".into() } else { field },
                    e.inner().to_string(),
                ))
            })
    }
}

fn form_urlencoded_parse(bytes: &[u8]) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(bytes)
}
