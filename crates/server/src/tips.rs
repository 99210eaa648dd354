//! The anonymous web tip form (`/tip`, in English and Spanish with `?lang=es`) and the staff's list of tips
//! (`/tips`).
//!
//! A tip becomes a contact of channel `webform`, category `tip`, through the ordinary contact path, so it
//! is encrypted, audited, counted in the statistics and attached to cases like any other contact.
//!
//! A post is refused in this order, and nothing is stored before the last check passes: a form posted
//! from another site (`Sec-Fetch-Site`, or an `Origin` that is not the public URL's) is a 403; a body that
//! is not a form a 400; a body over [`tip_form::MAX_BODY_BYTES`] a 413; more than `tips.max_per_hour`
//! posts from one client address in the hour a 429 with `Retry-After`; a bad field a 400 with the form
//! shown again, each field's error beside it. A filled honeypot gets the thank-you page and stores
//! nothing. The client address is only ever used as a keyed hash (the key file's blind-index key), never
//! stored or logged. The form is anonymous: there is no session and no cookie, hence no CSRF token; the
//! same-origin check above is what stops another site from posting it in a visitor's name.

use crate::auth::Principal;
use crate::error::AppError;
use crate::pages::cases::label;
use crate::pages::help::{HelpChrome, lang_of};
use crate::pages::{Chrome, PageResult, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use lantern_channels::keywords::Lang;
use lantern_channels::tip_form::{self, FieldError, Parsed, TipText, WHO, t};
use lantern_store::{AuditCtx, ContactFilter, NewContact};
use serde::Deserialize;

/// The rate-limit bucket of tip posts.
const BUCKET: &str = "tip_form";
/// The blind-index kind client addresses are hashed under (never compared with anything else).
const ADDRESS_KIND: &str = "tip_client_address";

#[derive(Template)]
#[template(path = "tip.html")]
struct TipPage {
    help: HelpChrome,
    title: &'static str,
    intro: &'static str,
    emergency: &'static str,
    who_label: &'static str,
    who: Vec<(&'static str, &'static str, bool)>,
    state_label: &'static str,
    state_none: &'static str,
    states: Vec<&'static str>,
    city_label: &'static str,
    zip_label: &'static str,
    narrative_label: &'static str,
    narrative_hint: &'static str,
    honeypot_label: &'static str,
    submit: &'static str,
    error_title: &'static str,
    nothing_saved: &'static str,
    form_state: String,
    form_city: String,
    form_zip: String,
    form_narrative: String,
    errors: Vec<FieldError>,
}

impl TipPage {
    fn error_of(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }
}

fn tip_page(
    state: &AppState,
    lang: Lang,
    given: &[(String, String)],
    errors: Vec<FieldError>,
) -> TipPage {
    let get = |k: &str| {
        given
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let chosen = get("who");
    TipPage {
        help: HelpChrome::new(&state.settings, lang, "/tip"),
        title: t(lang, TipText::Title),
        intro: t(lang, TipText::Intro),
        emergency: t(lang, TipText::Emergency),
        who_label: t(lang, TipText::WhoLabel),
        who: WHO
            .iter()
            .map(|w| {
                let code = w.code();
                let checked = if chosen.is_empty() {
                    code == "anonymous"
                } else {
                    chosen == code
                };
                (code, tip_form::who_label(lang, *w), checked)
            })
            .collect(),
        state_label: t(lang, TipText::StateLabel),
        state_none: t(lang, TipText::StateNone),
        states: lantern_domain::case::us_states(),
        city_label: t(lang, TipText::CityLabel),
        zip_label: t(lang, TipText::ZipLabel),
        narrative_label: t(lang, TipText::NarrativeLabel),
        narrative_hint: t(lang, TipText::NarrativeHint),
        honeypot_label: t(lang, TipText::HoneypotLabel),
        submit: t(lang, TipText::Submit),
        error_title: t(lang, TipText::ErrorTitle),
        nothing_saved: t(lang, TipText::NothingSaved),
        form_state: get("state").to_ascii_uppercase(),
        form_city: get("city"),
        form_zip: get("zip"),
        form_narrative: get("narrative"),
        errors,
    }
}

#[derive(Template)]
#[template(path = "tip_done.html")]
struct DonePage {
    help: HelpChrome,
    title: &'static str,
    body: String,
    link: Option<&'static str>,
}

fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// A refusal page in the visitor's language: what went wrong, that nothing was saved, a way back.
fn refusal(state: &AppState, lang: Lang, status: StatusCode, why: TipText) -> Response {
    html(
        status,
        &DonePage {
            help: HelpChrome::new(&state.settings, lang, "/tip"),
            title: t(lang, TipText::ErrorTitle),
            body: format!("{} {}", t(lang, why), t(lang, TipText::NothingSaved)),
            link: Some(t(lang, TipText::BackToForm)),
        },
    )
}

fn lang_of_query(raw: Option<&str>) -> Lang {
    let lang = raw.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.into_owned())
    });
    lang_of(lang.as_deref())
}

/// `GET /tip`: the form.
pub async fn form(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let lang = lang_of_query(q.as_deref());
    html(StatusCode::OK, &tip_page(&state, lang, &[], Vec::new()))
}

/// Whether the request comes from a page of another site (the browser says so in `Sec-Fetch-Site`, or in
/// an `Origin` that is not this installation's). A request that says neither (an old browser) passes.
fn cross_site(state: &AppState, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let public = state.settings.public_url.trim_end_matches('/');
    let public_origin = match public.find("://") {
        Some(i) => match public[i + 3..].find('/') {
            Some(j) => &public[..i + 3 + j],
            None => public,
        },
        None => public,
    };
    origin
        .to_str()
        .map_or(true, |o| !o.eq_ignore_ascii_case(public_origin))
}

/// The hotline tips go to: the configured one, or the installation's only hotline.
async fn tip_hotline(state: &AppState) -> Result<Option<String>, AppError> {
    let slug = &state.settings.tips.hotline;
    if !slug.is_empty() {
        return Ok(state.hotline_by_slug(slug).await?.map(|h| h.id));
    }
    let all = state.store.list_hotlines().await?;
    Ok(match all.as_slice() {
        [only] => Some(only.id.clone()),
        _ => None,
    })
}

/// `POST /tip`: checks, counts, and stores a tip.
pub async fn submit(State(state): State<AppState>, req: Request) -> Response {
    match submit_inner(&state, req).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn submit_inner(state: &AppState, req: Request) -> Result<Response, AppError> {
    let lang = lang_of_query(req.uri().query());
    if cross_site(state, req.headers()) {
        return Ok(refusal(
            state,
            lang,
            StatusCode::FORBIDDEN,
            TipText::CrossSite,
        ));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Ok(refusal(
            state,
            lang,
            StatusCode::BAD_REQUEST,
            TipText::WrongContentType,
        ));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > tip_form::MAX_BODY_BYTES as u64) {
        return Ok(refusal(
            state,
            lang,
            StatusCode::PAYLOAD_TOO_LARGE,
            TipText::TooLarge,
        ));
    }
    let key =
        crate::client_address::client_key(state, ADDRESS_KIND, req.headers(), req.extensions());
    let Ok(body) = axum::body::to_bytes(req.into_body(), tip_form::MAX_BODY_BYTES).await else {
        return Ok(refusal(
            state,
            lang,
            StatusCode::PAYLOAD_TOO_LARGE,
            TipText::TooLarge,
        ));
    };
    let Some(hotline_id) = tip_hotline(state).await? else {
        return Err(AppError::not_found("the tip form of this installation"));
    };
    let decision = state
        .store
        .rate_limit_hit(BUCKET, &key, state.settings.tips.max_per_hour, 3600)
        .await?;
    if !decision.allowed {
        tracing::warn!(hotline.id = %hotline_id, "refused a tip: too many from one address this hour");
        let mut res = html(
            StatusCode::TOO_MANY_REQUESTS,
            &DonePage {
                help: HelpChrome::new(&state.settings, lang, "/tip"),
                title: t(lang, TipText::TooManyTitle),
                body: format!(
                    "{} {}",
                    tip_form::too_many(lang, decision.retry_after_s),
                    t(lang, TipText::NothingSaved)
                ),
                link: None,
            },
        );
        if let Ok(v) = HeaderValue::from_str(&decision.retry_after_s.max(1).to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(res);
    }
    let tip = match tip_form::parse(lang, &body) {
        Ok(Parsed::Tip(tip)) => tip,
        Ok(Parsed::Honeypot) => {
            tracing::info!(hotline.id = %hotline_id, "ignored a tip whose honeypot was filled");
            return Ok(thanks(state, lang));
        }
        Err(errors) => {
            let given: Vec<(String, String)> = if std::str::from_utf8(&body).is_ok() {
                form_urlencoded::parse(&body).into_owned().collect()
            } else {
                Vec::new()
            };
            return Ok(html(
                StatusCode::BAD_REQUEST,
                &tip_page(state, lang, &given, errors),
            ));
        }
    };
    let precision = tip.location_precision().to_owned();
    let contact = state
        .store
        .create_contact(
            &AuditCtx {
                hotline_id: Some(hotline_id.clone()),
                actor_id: None,
                actor: "anonymous".into(),
                source: "webform".into(),
            },
            &NewContact {
                hotline_id: hotline_id.clone(),
                channel: "webform".into(),
                signaler_type: Some(tip.signaler_type.code().to_owned()),
                category: Some("tip".into()),
                language: Some(lang.code().to_owned()),
                state: tip.state,
                zip: tip.zip,
                city: tip.city,
                location_precision: precision,
                narrative: Some(tip.narrative),
                occurred_at_us: crate::accounts::now_us(),
                ..NewContact::default()
            },
        )
        .await?;
    tracing::info!(hotline.id = %hotline_id, contact.id = %contact.id, "received a web tip");
    Ok(thanks(state, lang))
}

fn thanks(state: &AppState, lang: Lang) -> Response {
    html(
        StatusCode::OK,
        &DonePage {
            help: HelpChrome::new(&state.settings, lang, "/tip"),
            title: t(lang, TipText::ThanksTitle),
            body: t(lang, TipText::ThanksBody).to_owned(),
            link: None,
        },
    )
}

/// One row of the staff's list.
struct Row {
    id: String,
    when: String,
    who: String,
    place: String,
    language: String,
    preview: String,
    case_id: Option<String>,
}

#[derive(Template)]
#[template(path = "tips.html")]
struct TipsPage {
    chrome: Option<Chrome>,
    rows: Vec<Row>,
    total: i64,
    next_offset: Option<i64>,
}

/// The page of the staff's list.
#[derive(Debug, Default, Deserialize)]
pub struct TipsQuery {
    /// Rows to skip.
    #[serde(default)]
    offset: i64,
}

const PAGE: i64 = 50;

/// `GET /tips`: the web tips, newest first.
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<TipsQuery>,
) -> PageResult {
    let chrome = Chrome::new(&state, &p, "/tips").await?;
    let offset = q.offset.max(0);
    let (contacts, total) = state
        .store
        .list_contacts(
            &p.ctx(),
            &p.user.hotline_id,
            &ContactFilter {
                channel: Some("webform".into()),
                limit: PAGE,
                offset,
                ..ContactFilter::default()
            },
        )
        .await?;
    let rows = contacts
        .into_iter()
        .map(|c| {
            let place = [c.city.as_deref(), c.state.as_deref(), c.zip.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            let narrative = c.narrative.unwrap_or_default();
            let mut preview: String = narrative.chars().take(140).collect();
            if narrative.chars().count() > 140 {
                preview.push('…');
            }
            Row {
                when: crate::accounts::format_time(c.occurred_at_us),
                who: c.signaler_type.as_deref().map(label).unwrap_or_default(),
                place,
                language: c.language.unwrap_or_default(),
                preview,
                case_id: c.case_id,
                id: c.id,
            }
        })
        .collect();
    render(&TipsPage {
        chrome: Some(chrome),
        rows,
        total,
        next_offset: (offset + PAGE < total).then_some(offset + PAGE),
    })
}
