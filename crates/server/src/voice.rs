//! The voice line: Twilio's call webhooks, and the advocate's call log shared by the pages and the API.
//!
//! `POST /webhooks/voice/twilio` (a call comes in) and `POST /webhooks/voice/twilio/status` (its status
//! callbacks) are refused exactly as the SMS webhooks are (see [`crate::webhooks`]): 413 over the size
//! limit, 400 for a body that is not a form, 403 and nothing stored for a missing or wrong
//! `X-Twilio-Signature` (checked against `voice.webhook_url` / `voice.status_url`, or the URLs under
//! `public_url`, with `sms.auth_token`), 400 naming a missing or malformed parameter, 404 for a number
//! that is not a voice number of this installation. The first event of a call opens a phone contact;
//! the answer greets the caller in the line's language and places them in the hotline's queue
//! (`<Enqueue>`). A retried event, or a callback older than what is known, changes nothing.

use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;
use crate::webhooks::{refused, signed_params, twiml_response};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lantern_channels::i18n::{self, Text};
use lantern_channels::keywords::Lang;
use lantern_channels::twiml;
use lantern_channels::webhook::{CallDirection, CallEvent, CallStatus};
use lantern_domain::codes::{Code as _, SignalerType};
use lantern_domain::values::LanguageCode;
use lantern_store::{AuditCtx, CallEventReceipt, CallLog, NewCallEvent};
use serde::Deserialize;

fn twilio_ctx() -> AuditCtx {
    AuditCtx {
        hotline_id: None,
        actor_id: None,
        actor: "twilio".into(),
        source: "voice".into(),
    }
}

fn status_code(s: CallStatus) -> &'static str {
    match s {
        CallStatus::Queued => "queued",
        CallStatus::Ringing => "ringing",
        CallStatus::InProgress => "in-progress",
        CallStatus::Completed => "completed",
        CallStatus::Busy => "busy",
        CallStatus::Failed => "failed",
        CallStatus::NoAnswer => "no-answer",
        CallStatus::Canceled => "canceled",
    }
}

fn direction_code(d: CallDirection) -> &'static str {
    match d {
        CallDirection::Inbound => "inbound",
        CallDirection::OutboundApi => "outbound-api",
        CallDirection::OutboundDial => "outbound-dial",
    }
}

fn unknown_number() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "Unknown number",
        "the hotline's number of this call is not a voice line of this installation",
    )
}

/// Checks the signature against `url`, parses the event and records it; returns the receipt and the
/// line's language.
async fn record(state: &AppState, url: &str, req: Request) -> AppResult<(CallEventReceipt, Lang)> {
    let params = signed_params(state, url, req).await?;
    let ev = CallEvent::from_params(params).map_err(refused)?;
    // The hotline's own number: the one called for an incoming call, the caller ID of an outgoing one.
    let (line, other) = match ev.direction {
        CallDirection::Inbound => (Some(&ev.to), ev.from.as_ref()),
        _ => (ev.from.as_ref(), Some(&ev.to)),
    };
    let line = line.ok_or_else(unknown_number)?;
    let number = state
        .settings
        .voice
        .number(line.as_str())
        .ok_or_else(unknown_number)?;
    let hotline = state
        .hotline_by_slug(&number.hotline)
        .await?
        .ok_or_else(unknown_number)?;
    let lang = if number.language == "es" {
        Lang::Es
    } else {
        Lang::En
    };
    let receipt = state
        .store
        .record_call_event(
            &twilio_ctx(),
            &NewCallEvent {
                hotline_id: hotline.id.clone(),
                call_sid: ev.call_sid.clone(),
                hotline_number: line.as_str().to_owned(),
                caller: other.map(|p| p.as_str().to_owned()),
                direction: direction_code(ev.direction).to_owned(),
                status: status_code(ev.call_status).to_owned(),
                duration_s: ev.call_duration.map(i64::from),
                language: Some(lang.code().to_owned()),
            },
        )
        .await?;
    tracing::info!(
        hotline.id = %hotline.id,
        call.id = %receipt.call.id,
        call.status = %receipt.call.status,
        call.created = receipt.created,
        call.changed = receipt.changed,
        "received a call event"
    );
    Ok((receipt, lang))
}

/// `POST /webhooks/voice/twilio`: a call comes in; the answer greets the caller and enqueues them.
pub async fn inbound(State(state): State<AppState>, req: Request) -> AppResult<Response> {
    let url = state.settings.voice.inbound_url(&state.settings.public_url);
    let (receipt, lang) = record(&state, &url, req).await?;
    if receipt.call.is_final() {
        return Ok(twiml_response(twiml::empty()));
    }
    Ok(twiml_response(twiml::enqueue(
        i18n::t(lang, Text::VoiceGreeting),
        i18n::voice_language(lang),
        &state.settings.voice.queue,
    )))
}

/// `POST /webhooks/voice/twilio/status`: a call's status changed.
pub async fn status(State(state): State<AppState>, req: Request) -> AppResult<Response> {
    let url = state
        .settings
        .voice
        .callback_url(&state.settings.public_url);
    record(&state, &url, req).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The advocate's call log as typed (the page's form and the API's JSON share it).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallLogInput {
    /// When the call started: RFC 3339 (`2026-03-01T14:05:00Z`) or `YYYY-MM-DDTHH:MM` in UTC.
    pub started_at: Option<String>,
    /// When it ended, in the same forms; empty while it goes on.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// Who called: a `signaler_type` code.
    #[serde(default)]
    pub signaler_type: Option<String>,
    /// The interpreter's language, ISO 639 (`vi`, `spa`), when one was used.
    #[serde(default)]
    pub interpreter_language: Option<String>,
    /// The interpreting service, when one was used.
    #[serde(default)]
    pub interpreter_vendor: Option<String>,
    /// A warm transfer's target in words (an agency, a person's role, a number).
    #[serde(default)]
    pub transfer_target: Option<String>,
    /// A warm transfer's target as a directory service id.
    #[serde(default)]
    pub transfer_service_id: Option<String>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses RFC 3339, or a `datetime-local` value (`YYYY-MM-DDTHH:MM[:SS]`) taken as UTC.
fn parse_time(raw: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(raw, &Rfc3339)
        .ok()
        .or_else(|| {
            let long =
                time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
            let short = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
            time::PrimitiveDateTime::parse(raw, long)
                .or_else(|_| time::PrimitiveDateTime::parse(raw, short))
                .ok()
                .map(time::PrimitiveDateTime::assume_utc)
        })?;
    i64::try_from(at.unix_timestamp_nanos() / 1000).ok()
}

const MAX_TEXT: usize = 200;

impl CallLogInput {
    /// Checks every field, reporting all that are wrong; a directory service must exist in the hotline's
    /// directory.
    pub async fn check(&self, state: &AppState, hotline_id: &str) -> Result<CallLog, AppError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        let started = match blank(&self.started_at) {
            None => {
                bad("started_at", "give when the call started");
                None
            }
            Some(s) => parse_time(s).or_else(|| {
                bad("started_at", "a date and time such as 2026-03-01T14:05");
                None
            }),
        };
        let ended = blank(&self.ended_at).and_then(|s| {
            parse_time(s).or_else(|| {
                bad("ended_at", "a date and time such as 2026-03-01T14:35");
                None
            })
        });
        if let (Some(s), Some(e)) = (started, ended)
            && e < s
        {
            bad("ended_at", "the call cannot end before it started");
        }
        if ended.is_some_and(|e| e > crate::accounts::now_us() + 5 * 60 * 1_000_000) {
            bad("ended_at", "is in the future");
        }
        let signaler = blank(&self.signaler_type).and_then(|s| match SignalerType::parse(s) {
            Ok(v) => Some(v.code().to_owned()),
            Err(_) => {
                bad("signaler_type", "not a signaler type code");
                None
            }
        });
        let language =
            blank(&self.interpreter_language).and_then(|s| match LanguageCode::parse(s) {
                Ok(v) => Some(v.as_str().to_owned()),
                Err(_) => {
                    bad(
                        "interpreter_language",
                        "an ISO 639 language code such as vi or spa",
                    );
                    None
                }
            });
        let vendor = blank(&self.interpreter_vendor).map(str::to_owned);
        if vendor
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_TEXT)
        {
            bad("interpreter_vendor", "at most 200 characters");
        }
        if vendor.is_some() && language.is_none() && blank(&self.interpreter_language).is_none() {
            bad(
                "interpreter_language",
                "give the interpreter's language with the vendor",
            );
        }
        let target = blank(&self.transfer_target).map(str::to_owned);
        if target
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_TEXT)
        {
            bad("transfer_target", "at most 200 characters");
        }
        let service = blank(&self.transfer_service_id).map(str::to_owned);
        if let Some(id) = &service {
            let loaded = state.directories.get(&*state.store, hotline_id).await?;
            if !loaded.internal.dir.service.contains_key(id) {
                bad(
                    "transfer_service_id",
                    "no service of the directory has this id",
                );
            }
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
        Ok(CallLog {
            started_at_us: started.unwrap_or_default(),
            ended_at_us: ended,
            signaler_type: signaler,
            interpreter_language: language,
            interpreter_vendor: vendor,
            transfer_target: target,
            transfer_service_id: service,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_are_read_as_rfc3339_or_as_a_utc_datetime_local() {
        let a = parse_time("2026-03-01T14:05:00Z").unwrap();
        assert_eq!(parse_time("2026-03-01T14:05"), Some(a));
        assert_eq!(parse_time("2026-03-01T16:05:00+02:00"), Some(a));
        assert_eq!(parse_time("2026-03-01T14:05:30"), Some(a + 30_000_000));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2026-02-30T10:00"), None);
    }
}
