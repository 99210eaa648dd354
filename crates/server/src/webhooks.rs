//! Twilio's webhooks: `POST /webhooks/sms/twilio` (an inbound text) and `POST /webhooks/sms/twilio/status`
//! (a delivery status callback).
//!
//! Each request is refused in this order, and nothing is stored before the last check passes: a body over
//! [`MAX_WEBHOOK_BODY_BYTES`] is a 413; a body that is not a form a 400; a missing or wrong
//! `X-Twilio-Signature` (checked against the configured public URL and the auth token) a 403; a form
//! without the parameters Twilio always sends a 400 naming the parameter; a `To` that is not one of the
//! configured hotline numbers a 404. An inbound text is then decided by the keyword machine and stored in
//! one transaction, and the answer is TwiML: the automatic reply, or an empty `<Response/>`.

use crate::error::{AppError, AppResult};
use crate::sms;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lantern_channels::keywords::ProgramTexts;
use lantern_channels::signature;
use lantern_channels::twiml;
use lantern_channels::webhook::{
    InboundSms, MAX_WEBHOOK_BODY_BYTES, StatusCallback, WebhookError, parse_form,
};
use lantern_store::{AuditCtx, NewInboundSms};

/// The header Twilio signs its requests with.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

fn too_large() -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Too large",
        format!("the body exceeds {MAX_WEBHOOK_BODY_BYTES} bytes"),
    )
}

pub(crate) fn refused(e: WebhookError) -> AppError {
    match e {
        WebhookError::TooLarge { .. } => too_large(),
        other => AppError::bad_request(other.to_string()),
    }
}

/// Reads the body (at most [`MAX_WEBHOOK_BODY_BYTES`]), decodes the form and checks the signature
/// against `url`; returns the parameters.
pub(crate) async fn signed_params(
    state: &AppState,
    url: &str,
    req: Request,
) -> AppResult<Vec<(String, String)>> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_WEBHOOK_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let given = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(req.into_body(), MAX_WEBHOOK_BODY_BYTES)
        .await
        .map_err(|_| too_large())?;
    let params = parse_form(&body).map_err(refused)?;
    let token = state.settings.sms.auth_token.expose();
    if token.is_empty() || !signature::validate(token, url, &params, given.as_deref()) {
        tracing::warn!(webhook.url = %url, "refused a webhook whose signature is missing or wrong");
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "Invalid signature",
            "the X-Twilio-Signature header is missing or does not match this request",
        ));
    }
    Ok(params)
}

fn twilio_ctx() -> AuditCtx {
    AuditCtx {
        hotline_id: None,
        actor_id: None,
        actor: "twilio".into(),
        source: "sms".into(),
    }
}

pub(crate) fn twiml_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, twiml::CONTENT_TYPE)], body).into_response()
}

/// `POST /webhooks/sms/twilio`: an inbound text.
pub async fn inbound(State(state): State<AppState>, req: Request) -> AppResult<Response> {
    let url = state.settings.sms.inbound_url(&state.settings.public_url);
    let params = signed_params(&state, &url, req).await?;
    let msg = InboundSms::from_params(params).map_err(refused)?;
    let slug = state
        .settings
        .sms
        .hotline_of(msg.to.as_str())
        .ok_or_else(|| {
            AppError::new(
                StatusCode::NOT_FOUND,
                "Unknown number",
                "the number in `To` is not an SMS line of this installation",
            )
        })?;
    let hotline = state.hotline_by_slug(slug).await?.ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            "Unknown number",
            "the hotline of the number in `To` does not exist",
        )
    })?;
    let texts = ProgramTexts {
        program_name: hotline.name.clone(),
        reach_a_person: state.settings.sms.reach_a_person.clone(),
    };
    let body = msg.body.clone();
    let decide = move |opted_out: bool| sms::plan(opted_out, &body, &texts);
    let receipt = state
        .store
        .receive_sms(
            &twilio_ctx(),
            &NewInboundSms {
                hotline_id: hotline.id.clone(),
                hotline_number: msg.to.as_str().to_owned(),
                sender: msg.from.as_str().to_owned(),
                provider_id: msg.message_sid.clone(),
                body: msg.body.clone(),
                num_media: i64::from(msg.num_media),
            },
            &decide,
        )
        .await?;
    tracing::info!(
        hotline.id = %hotline.id,
        sms.kind = %receipt.plan.kind,
        sms.duplicate = receipt.duplicate,
        "received a text"
    );
    Ok(twiml_response(match &receipt.plan.auto_reply {
        Some(text) => twiml::message(text),
        None => twiml::empty(),
    }))
}

/// `POST /webhooks/sms/twilio/status`: a delivery status callback for a text the hotline sent.
pub async fn status(State(state): State<AppState>, req: Request) -> AppResult<Response> {
    let url = state.settings.sms.status_url(&state.settings.public_url);
    let params = signed_params(&state, &url, req).await?;
    let body = form_body(&params);
    let cb = StatusCallback::parse(body.as_bytes()).map_err(refused)?;
    let status = serde_json::to_value(cb.message_status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("a message status has no code"))?;
    let found = state
        .store
        .sms_delivery_status(
            &twilio_ctx(),
            &cb.message_sid,
            &status,
            cb.error_code.map(i64::from),
        )
        .await?;
    match found {
        None => tracing::info!("a status callback names no message of ours"),
        Some((hotline_id, conversation_id)) if cb.error_code == Some(sms::CARRIER_OPT_OUT) => {
            state
                .store
                .mark_sms_opted_out(&twilio_ctx(), &hotline_id, &conversation_id)
                .await?;
        }
        Some(_) => {}
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn form_body(params: &[(String, String)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        f.append_pair(k, v);
    }
    f.finish()
}
