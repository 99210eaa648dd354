//! lantern-channels: the protocol logic of the hotline's channels, without storage or HTTP routing.
//!
//! - [`signature`]: Twilio webhook signatures;
//! - [`webhook`]: inbound SMS, voice call events and delivery status parsing;
//! - [`twiml`]: TwiML answers;
//! - [`keywords`]: the SMS keyword state machine (DOMAIN.md §7);
//! - [`outbound`]: sending SMS behind an opt-out permit;
//! - [`webchat`]: web chat queue, sessions and WebSocket messages;
//! - [`i18n`]: English and Spanish texts of the help-seeker pages;
//! - [`tip_form`]: the anonymous web tip form's fields, checks and texts.

pub mod i18n;
pub mod keywords;
pub mod outbound;
pub mod signature;
pub mod tip_form;
pub mod twiml;
pub mod webchat;
pub mod webhook;
