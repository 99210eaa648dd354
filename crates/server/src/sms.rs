//! The SMS line's server side, shared by the webhook, the console pages and the API: the provider replies
//! go through, the keyword machine as the store's decision, and sending an advocate's reply.
//!
//! Sending is two checks deep: the store registers a message only after reading the recipient's opt-out
//! state under its lock, and the [`SendPermit`] the provider needs is made from the state read again just
//! before each attempt (the provider itself makes one attempt; retries with backoff happen here, so a STOP
//! that arrives between attempts stops the next one). A reply, a retry and an API call all go through
//! [`deliver`]. When the provider says the recipient opted out with the carrier (Twilio's 21610), that is
//! recorded as an opt-out.

use crate::config::SmsSettings;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::http::StatusCode;
use lantern_channels::keywords::{self, KeywordKind, OptState, ProgramTexts};
use lantern_channels::outbound::{
    BoxFuture, LogProvider, PlainHttp, ProviderMessageId, SendError, SendPermit, SmsProvider,
    TwilioConfig, TwilioProvider,
};
use lantern_domain::values::PhoneE164;
use lantern_store::{AuditCtx, InboundPlan, SendOutcome, SendStart};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The provider outbound texts go through.
#[derive(Clone)]
pub struct SmsLine {
    provider: Arc<dyn SmsProvider>,
    kind: &'static str,
    attempts: u32,
    backoff: Duration,
}

/// Twilio's error code for a recipient who opted out with the carrier.
pub const CARRIER_OPT_OUT: u32 = 21610;

impl std::fmt::Debug for SmsLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsLine").field("kind", &self.kind).finish()
    }
}

/// A provider that refuses every message because the configured one could not be built; the reason is
/// logged at start and each refused message is kept as failed.
struct Unavailable(String);

impl SmsProvider for Unavailable {
    fn send<'a>(
        &'a self,
        _permit: SendPermit,
        _from: &'a PhoneE164,
        _body: &'a str,
        _status_callback: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ProviderMessageId, SendError>> {
        Box::pin(async move { Err(SendError::Config(self.0.clone())) })
    }
}

impl SmsLine {
    /// The `log` provider: records, sends nothing.
    pub fn log() -> SmsLine {
        SmsLine::with_provider(Arc::new(LogProvider::new()), "log")
    }

    /// A line over any provider (tests hand in a [`LogProvider`] they keep a handle on).
    pub fn with_provider(provider: Arc<dyn SmsProvider>, kind: &'static str) -> SmsLine {
        SmsLine {
            provider,
            kind,
            attempts: 1,
            backoff: Duration::ZERO,
        }
    }

    /// The same line, retrying a provider that could not be reached up to `attempts` times in all, waiting
    /// `backoff` before the first retry and twice as long before each further one.
    pub fn with_retries(mut self, attempts: u32, backoff: Duration) -> SmsLine {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    /// The provider the settings name.
    pub fn from_settings(s: &SmsSettings) -> SmsLine {
        if s.provider != "twilio" {
            return SmsLine::log();
        }
        let mut config = TwilioConfig::new(s.account_sid.clone(), s.auth_token.expose());
        config.base_url = s.api_base_url.clone();
        // One attempt per call: the retries happen in `deliver`, each after checking the opt-out again.
        let (attempts, backoff) = (config.max_attempts, config.initial_backoff);
        config.max_attempts = 1;
        let built: Result<Arc<dyn SmsProvider>, SendError> =
            if s.api_base_url.starts_with("http://") {
                TwilioProvider::new(config, PlainHttp).map(|p| Arc::new(p) as Arc<dyn SmsProvider>)
            } else {
                https_provider(config)
            };
        match built {
            Ok(p) => SmsLine::with_provider(p, "twilio").with_retries(attempts, backoff),
            Err(e) => {
                tracing::error!(error = %e, "the Twilio provider could not be built; every text will fail");
                SmsLine::with_provider(Arc::new(Unavailable(e.to_string())), "unavailable")
            }
        }
    }

    /// The provider.
    pub fn provider(&self) -> &dyn SmsProvider {
        &*self.provider
    }
}

#[cfg(feature = "twilio-https")]
fn https_provider(config: TwilioConfig) -> Result<Arc<dyn SmsProvider>, SendError> {
    let transport = lantern_channels::outbound::ReqwestTransport::new()?;
    Ok(Arc::new(TwilioProvider::new(config, transport)?))
}

#[cfg(not(feature = "twilio-https"))]
fn https_provider(_config: TwilioConfig) -> Result<Arc<dyn SmsProvider>, SendError> {
    Err(SendError::Config(
        "https:// needs a build with the `twilio-https` feature".to_owned(),
    ))
}

/// The code the store keeps for a keyword kind.
pub fn kind_code(kind: KeywordKind) -> &'static str {
    match kind {
        KeywordKind::OptOut => "opt_out",
        KeywordKind::OptIn => "opt_in",
        KeywordKind::Help => "help",
        KeywordKind::BeFree => "befree",
        KeywordKind::Message => "message",
    }
}

/// The keyword machine (DOMAIN.md §7) applied to a message, from whether its sender is opted out now.
pub fn plan(opted_out: bool, body: &str, texts: &ProgramTexts) -> InboundPlan {
    let state = if opted_out {
        OptState::OptedOut
    } else {
        OptState::OptedIn
    };
    let (next, decision) = keywords::on_inbound(state, body, texts);
    let (_, lang) = keywords::classify(body);
    InboundPlan {
        opted_out: next == OptState::OptedOut,
        open_conversation: decision.open_conversation,
        kind: kind_code(decision.kind).to_owned(),
        auto_reply: decision.auto_reply,
        language: matches!(decision.kind, KeywordKind::Help | KeywordKind::BeFree)
            .then(|| lang.code().to_owned()),
    }
}

/// What became of a message handed to [`deliver`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// The stored message.
    pub message_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// `accepted` by the provider.
    pub status: &'static str,
    /// The provider's identifier.
    pub provider_id: String,
}

/// 409: the recipient opted out; nothing was sent.
pub fn opted_out() -> AppError {
    AppError::new(
        StatusCode::CONFLICT,
        "Opted out",
        "the recipient has opted out of texts from this number (STOP); nothing was sent, and nothing can be \
         until they text START",
    )
}

/// Hands a registered message to the provider and records the outcome: an opt-out refuses it (409), a
/// provider failure keeps it as failed for a retry (502).
pub async fn deliver(
    state: &AppState,
    ctx: &AuditCtx,
    hotline_id: &str,
    start: SendStart,
) -> AppResult<Delivery> {
    let m = match start {
        SendStart::Ready(m) => m,
        SendStart::OptedOut => return Err(opted_out()),
    };
    let numbers = PhoneE164::parse(&m.to).and_then(|to| Ok((to, PhoneE164::parse(&m.from)?)));
    let (to, from) = match numbers {
        Ok(v) => v,
        Err(_) => {
            state
                .store
                .finish_sms_send(ctx, hotline_id, &m.message_id, &SendOutcome::Failed(None))
                .await?;
            return Err(anyhow::anyhow!("a stored SMS number is not E.164").into());
        }
    };
    let callback = state.settings.sms.status_url(&state.settings.public_url);
    let line = &state.sms;
    let mut attempt = 0;
    loop {
        attempt += 1;
        // The state is read again at the moment of each attempt: a STOP that arrived since the message
        // was registered, or between attempts, still stops it.
        let opt = if state
            .store
            .sms_opted_out(hotline_id, from.as_str(), to.as_str())
            .await?
        {
            OptState::OptedOut
        } else {
            OptState::OptedIn
        };
        let Ok(permit) = SendPermit::check(&to, opt) else {
            state
                .store
                .finish_sms_send(ctx, hotline_id, &m.message_id, &SendOutcome::Failed(None))
                .await?;
            return Err(opted_out());
        };
        let e = match line
            .provider()
            .send(permit, &from, &m.body, Some(&callback))
            .await
        {
            Ok(id) => {
                state
                    .store
                    .finish_sms_send(
                        ctx,
                        hotline_id,
                        &m.message_id,
                        &SendOutcome::Accepted(id.0.clone()),
                    )
                    .await?;
                return Ok(Delivery {
                    message_id: m.message_id,
                    conversation_id: m.conversation_id,
                    status: "accepted",
                    provider_id: id.0,
                });
            }
            Err(e) => e,
        };
        if matches!(e, SendError::Exhausted { .. }) && attempt < line.attempts {
            tracing::warn!(attempt, error = %e, "the SMS provider could not be reached; retrying");
            tokio::time::sleep(line.backoff * (1u32 << (attempt - 1).min(16))).await;
            continue;
        }
        let code = match &e {
            SendError::Rejected { code, .. } => *code,
            _ => None,
        };
        tracing::warn!(error = %e, sms.message_id = %m.message_id, "the SMS provider did not take a message");
        state
            .store
            .finish_sms_send(
                ctx,
                hotline_id,
                &m.message_id,
                &SendOutcome::Failed(code.map(i64::from)),
            )
            .await?;
        if code == Some(CARRIER_OPT_OUT) {
            state
                .store
                .mark_sms_opted_out(ctx, hotline_id, &m.conversation_id)
                .await?;
            return Err(opted_out());
        }
        return Err(AppError::new(
            StatusCode::BAD_GATEWAY,
            "Not sent",
            format!(
                "the SMS provider did not take the message ({e}); it is kept as failed and can be sent again"
            ),
        ));
    }
}

/// Checks an advocate's reply text: not empty, at most 1,600 characters (Twilio's limit).
pub fn check_body(body: &str) -> AppResult<&str> {
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::invalid("body", "write the message to send"));
    }
    if body.chars().count() > 1600 {
        return Err(AppError::invalid("body", "at most 1600 characters"));
    }
    Ok(body)
}
