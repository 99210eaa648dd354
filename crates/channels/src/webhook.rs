//! Parsing Twilio's form-encoded webhooks: inbound SMS, voice call events and message delivery status.
//!
//! Every parser keeps all the parameters it received (known or not) because the signature is computed over
//! all of them. Bodies larger than [`MAX_WEBHOOK_BODY_BYTES`] are refused before any parsing, so a 50 MB
//! message costs one length comparison.

use lantern_domain::values::PhoneE164;
use serde::{Deserialize, Serialize};

/// The largest webhook body accepted, in bytes. Twilio's SMS webhooks are a few kilobytes at most; the
/// route should also cap the body it reads at this size.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 64 * 1024;

/// Why a webhook body was refused; each variant names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The body is larger than [`MAX_WEBHOOK_BODY_BYTES`].
    #[error("the body is {actual} bytes; at most {limit} are accepted")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The size received in bytes.
        actual: usize,
    },
    /// The body is not `application/x-www-form-urlencoded` text.
    #[error("the body is not a valid form: {0}")]
    NotAForm(String),
    /// A required parameter is absent or empty.
    #[error("the parameter `{0}` is required")]
    Missing(&'static str),
    /// A parameter is present but its value cannot be used.
    #[error("the parameter `{field}` is malformed: {reason}")]
    Malformed {
        /// The parameter's name as Twilio spells it.
        field: &'static str,
        /// What is wrong, without echoing the value (it may be personal data).
        reason: &'static str,
    },
    /// A parameter that must appear once appears several times.
    #[error("the parameter `{0}` appears more than once")]
    Repeated(&'static str),
}

/// Decodes a form body into its parameters, in order, refusing oversize bodies first.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, WebhookError> {
    if body.len() > MAX_WEBHOOK_BODY_BYTES {
        return Err(WebhookError::TooLarge {
            limit: MAX_WEBHOOK_BODY_BYTES,
            actual: body.len(),
        });
    }
    if std::str::from_utf8(body).is_err() {
        return Err(WebhookError::NotAForm("it is not UTF-8".to_owned()));
    }
    let mut out = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        if k.is_empty() {
            return Err(WebhookError::NotAForm(
                "a parameter has an empty name".to_owned(),
            ));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

struct Params<'a>(&'a [(String, String)]);

impl Params<'_> {
    fn optional(&self, field: &'static str) -> Result<Option<&str>, WebhookError> {
        let mut found = None;
        for (k, v) in self.0 {
            if k == field {
                if found.is_some() {
                    return Err(WebhookError::Repeated(field));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }
    fn required(&self, field: &'static str) -> Result<&str, WebhookError> {
        self.optional(field)?.ok_or(WebhookError::Missing(field))
    }
    fn sid(&self, field: &'static str, prefix: &str) -> Result<String, WebhookError> {
        let v = self.required(field)?;
        if v.len() != 34 || !v.starts_with(prefix) || !v[2..].chars().all(|c| c.is_ascii_hexdigit())
        {
            return Err(WebhookError::Malformed {
                field,
                reason: "not a Twilio identifier",
            });
        }
        Ok(v.to_owned())
    }
    fn phone(&self, field: &'static str) -> Result<PhoneE164, WebhookError> {
        PhoneE164::parse(self.required(field)?).map_err(|_| WebhookError::Malformed {
            field,
            reason: "not a phone number",
        })
    }
    fn number(&self, field: &'static str) -> Result<Option<u32>, WebhookError> {
        self.optional(field)?
            .map(|v| {
                v.parse::<u32>().map_err(|_| WebhookError::Malformed {
                    field,
                    reason: "not a whole number",
                })
            })
            .transpose()
    }
}

/// One media attachment of an inbound MMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Where Twilio serves the media (needs the account's credentials).
    pub url: String,
    /// Its MIME type as Twilio reports it.
    pub content_type: Option<String>,
}

/// An inbound text message as Twilio posts it to the SMS webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundSms {
    /// Twilio's message identifier (`SM…` or `MM…`), used to ignore redeliveries.
    pub message_sid: String,
    /// The account the message belongs to, when sent.
    pub account_sid: Option<String>,
    /// The sender's number.
    pub from: PhoneE164,
    /// The hotline's number that received the message.
    pub to: PhoneE164,
    /// The text; empty for a picture-only message.
    pub body: String,
    /// How many media attachments Twilio reports.
    pub num_media: u32,
    /// The attachments (`MediaUrlN`, `MediaContentTypeN`).
    pub media: Vec<Media>,
    /// Every parameter received, known or not, in the order received (needed for the signature).
    pub params: Vec<(String, String)>,
}

impl InboundSms {
    /// Parses a raw form body; see [`InboundSms::from_params`].
    pub fn parse(body: &[u8]) -> Result<InboundSms, WebhookError> {
        InboundSms::from_params(parse_form(body)?)
    }

    /// Builds the message from decoded parameters. `MessageSid`, `From` and `To` are required; `Body` may be
    /// absent (a picture-only message); `NumMedia` must be a whole number when present and at most 10.
    pub fn from_params(params: Vec<(String, String)>) -> Result<InboundSms, WebhookError> {
        let p = Params(&params);
        let message_sid = p.required("MessageSid")?;
        if message_sid.len() != 34
            || !(message_sid.starts_with("SM") || message_sid.starts_with("MM"))
            || !message_sid[2..].chars().all(|c| c.is_ascii_hexdigit())
        {
            return Err(WebhookError::Malformed {
                field: "MessageSid",
                reason: "not a Twilio message identifier",
            });
        }
        let account_sid = p
            .optional("AccountSid")?
            .map(|_| p.sid("AccountSid", "AC"))
            .transpose()?;
        let from = p.phone("From")?;
        let to = p.phone("To")?;
        let body = p.optional("Body")?.unwrap_or_default().to_owned();
        let num_media = p.number("NumMedia")?.unwrap_or(0);
        if num_media > 10 {
            return Err(WebhookError::Malformed {
                field: "NumMedia",
                reason: "more than 10 attachments",
            });
        }
        let mut media = Vec::new();
        for i in 0..num_media {
            let url_key = format!("MediaUrl{i}");
            let type_key = format!("MediaContentType{i}");
            let url = params
                .iter()
                .find(|(k, _)| *k == url_key)
                .map(|(_, v)| v.clone());
            let content_type = params
                .iter()
                .find(|(k, _)| *k == type_key)
                .map(|(_, v)| v.clone());
            match url {
                Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                    media.push(Media { url, content_type })
                }
                _ => {
                    return Err(WebhookError::Malformed {
                        field: "MediaUrl",
                        reason: "fewer media URLs than NumMedia",
                    });
                }
            }
        }
        Ok(InboundSms {
            message_sid: message_sid.to_owned(),
            account_sid,
            from,
            to,
            body,
            num_media,
            media,
            params,
        })
    }
}

/// A call's status as Twilio reports it (`CallStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    /// Waiting to be placed.
    Queued,
    /// Ringing.
    Ringing,
    /// Answered and in progress.
    InProgress,
    /// Ended normally.
    Completed,
    /// The line was busy.
    Busy,
    /// The call could not be placed.
    Failed,
    /// Nobody answered.
    NoAnswer,
    /// Cancelled before it was answered.
    Canceled,
}

impl CallStatus {
    fn parse(v: &str) -> Option<CallStatus> {
        Some(match v {
            "queued" => CallStatus::Queued,
            "ringing" => CallStatus::Ringing,
            "in-progress" => CallStatus::InProgress,
            "completed" => CallStatus::Completed,
            "busy" => CallStatus::Busy,
            "failed" => CallStatus::Failed,
            "no-answer" => CallStatus::NoAnswer,
            "canceled" => CallStatus::Canceled,
            _ => return None,
        })
    }

    /// Whether the call is over (no further events change it).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CallStatus::Completed
                | CallStatus::Busy
                | CallStatus::Failed
                | CallStatus::NoAnswer
                | CallStatus::Canceled
        )
    }
}

/// Which way a call goes (`Direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallDirection {
    /// Someone called the hotline.
    Inbound,
    /// The hotline called out through the API.
    OutboundApi,
    /// The hotline dialled out from a call (`<Dial>`).
    OutboundDial,
}

/// A voice call event posted to the voice webhook (the first request of a call or a status callback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent {
    /// Twilio's call identifier (`CA…`), the key that ties events of one call together.
    pub call_sid: String,
    /// The call's status at this event.
    pub call_status: CallStatus,
    /// The caller; `None` when the caller ID is withheld.
    pub from: Option<PhoneE164>,
    /// The number called.
    pub to: PhoneE164,
    /// Which way the call goes.
    pub direction: CallDirection,
    /// The call's length in seconds, on the final event.
    pub call_duration: Option<u32>,
    /// Every parameter received, known or not (needed for the signature).
    pub params: Vec<(String, String)>,
}

/// Caller IDs carriers use when the number is withheld.
const WITHHELD: &[&str] = &[
    "anonymous",
    "restricted",
    "unknown",
    "private",
    "unavailable",
    "+266696687",
    "+7378742833",
    "+2562533",
];

impl CallEvent {
    /// Parses a raw form body; see [`CallEvent::from_params`].
    pub fn parse(body: &[u8]) -> Result<CallEvent, WebhookError> {
        CallEvent::from_params(parse_form(body)?)
    }

    /// Builds the event from decoded parameters. `CallSid`, `CallStatus`, `To` and `Direction` are required;
    /// `From` may be a withheld caller ID.
    pub fn from_params(params: Vec<(String, String)>) -> Result<CallEvent, WebhookError> {
        let p = Params(&params);
        let call_sid = p.sid("CallSid", "CA")?;
        let call_status =
            CallStatus::parse(p.required("CallStatus")?).ok_or(WebhookError::Malformed {
                field: "CallStatus",
                reason: "not a known call status",
            })?;
        let from = match p.optional("From")? {
            None => None,
            Some(v) if WITHHELD.iter().any(|w| w.eq_ignore_ascii_case(v.trim())) => None,
            Some(_) => Some(p.phone("From")?),
        };
        let to = p.phone("To")?;
        let direction = match p.required("Direction")? {
            "inbound" => CallDirection::Inbound,
            "outbound-api" => CallDirection::OutboundApi,
            "outbound-dial" => CallDirection::OutboundDial,
            _ => {
                return Err(WebhookError::Malformed {
                    field: "Direction",
                    reason: "not a known direction",
                });
            }
        };
        let call_duration = p.number("CallDuration")?;
        Ok(CallEvent {
            call_sid,
            call_status,
            from,
            to,
            direction,
            call_duration,
            params,
        })
    }
}

/// An outbound message's delivery state as Twilio reports it (`MessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Accepted by Twilio.
    Accepted,
    /// Scheduled for later.
    Scheduled,
    /// Waiting to be sent.
    Queued,
    /// Being sent.
    Sending,
    /// Handed to the carrier.
    Sent,
    /// The carrier confirmed delivery.
    Delivered,
    /// The carrier could not deliver it.
    Undelivered,
    /// It could not be sent.
    Failed,
    /// Received (inbound messages).
    Received,
    /// Read (channels with read receipts).
    Read,
    /// Cancelled before sending.
    Canceled,
}

impl MessageStatus {
    fn parse(v: &str) -> Option<MessageStatus> {
        Some(match v {
            "accepted" => MessageStatus::Accepted,
            "scheduled" => MessageStatus::Scheduled,
            "queued" => MessageStatus::Queued,
            "sending" => MessageStatus::Sending,
            "sent" => MessageStatus::Sent,
            "delivered" => MessageStatus::Delivered,
            "undelivered" => MessageStatus::Undelivered,
            "failed" => MessageStatus::Failed,
            "received" => MessageStatus::Received,
            "read" => MessageStatus::Read,
            "canceled" => MessageStatus::Canceled,
            _ => return None,
        })
    }
}

/// A delivery status callback for a message the hotline sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCallback {
    /// The message the status is about (`SM…`/`MM…`).
    pub message_sid: String,
    /// Its new state.
    pub message_status: MessageStatus,
    /// Twilio's error code when delivery failed (e.g. 21610 for a recipient who replied STOP).
    pub error_code: Option<u32>,
    /// Every parameter received (needed for the signature).
    pub params: Vec<(String, String)>,
}

impl StatusCallback {
    /// Parses a raw form body; `MessageSid` and `MessageStatus` are required, `ErrorCode` is a number.
    pub fn parse(body: &[u8]) -> Result<StatusCallback, WebhookError> {
        let params = parse_form(body)?;
        let p = Params(&params);
        let message_sid = p.required("MessageSid")?;
        if message_sid.len() != 34
            || !(message_sid.starts_with("SM") || message_sid.starts_with("MM"))
        {
            return Err(WebhookError::Malformed {
                field: "MessageSid",
                reason: "not a Twilio message identifier",
            });
        }
        let message_status =
            MessageStatus::parse(p.required("MessageStatus")?).ok_or(WebhookError::Malformed {
                field: "MessageStatus",
                reason: "not a known message status",
            })?;
        let error_code = p.number("ErrorCode")?;
        Ok(StatusCallback {
            message_sid: message_sid.to_owned(),
            message_status,
            error_code,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const SID: &str = "SM0123456789abcdef0123456789abcdef";
    const CALL: &str = "CA0123456789abcdef0123456789abcdef";

    fn sms(extra: &str) -> String {
        format!(
            "MessageSid={SID}&From=%2B15552013344&To=%2B18885550100&Body=BEFREE&NumMedia=0{extra}"
        )
    }

    #[test]
    fn an_inbound_sms_parses_and_keeps_unknown_parameters() {
        let m =
            InboundSms::parse(sms("&FromCity=Austin&ApiVersion=2010-04-01").as_bytes()).unwrap();
        assert_eq!(m.message_sid, SID);
        assert_eq!(m.from.as_str(), "+15552013344");
        assert_eq!(m.to.as_str(), "+18885550100");
        assert_eq!(m.body, "BEFREE");
        assert_eq!(m.num_media, 0);
        assert!(
            m.params
                .contains(&("FromCity".to_owned(), "Austin".to_owned()))
        );
        assert_eq!(m.params.len(), 7);
    }

    #[test]
    fn an_mms_lists_its_media() {
        let body = "MessageSid=MM0123456789abcdef0123456789abcdef&From=%2B15552013344&To=%2B18885550100&NumMedia=1&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm&MediaContentType0=image%2Fjpeg";
        let m = InboundSms::parse(body.as_bytes()).unwrap();
        assert_eq!(m.body, "");
        assert_eq!(
            m.media,
            vec![Media {
                url: "https://api.twilio.com/m".into(),
                content_type: Some("image/jpeg".into())
            }]
        );
    }

    #[rstest]
    #[case::no_sid(
        "From=%2B15552013344&To=%2B18885550100&Body=x",
        WebhookError::Missing("MessageSid")
    )]
    #[case::no_from(&format!("MessageSid={SID}&To=%2B18885550100"), WebhookError::Missing("From"))]
    #[case::empty_to(&format!("MessageSid={SID}&From=%2B15552013344&To="), WebhookError::Missing("To"))]
    #[case::bad_from(&format!("MessageSid={SID}&From=abc&To=%2B18885550100"), WebhookError::Malformed { field: "From", reason: "not a phone number" })]
    #[case::bad_sid("MessageSid=XX1&From=%2B15552013344&To=%2B18885550100", WebhookError::Malformed { field: "MessageSid", reason: "not a Twilio message identifier" })]
    #[case::bad_num_media(&sms("&NumMedia=two"), WebhookError::Repeated("NumMedia"))]
    #[case::num_media_word(&format!("MessageSid={SID}&From=%2B15552013344&To=%2B18885550100&NumMedia=two"), WebhookError::Malformed { field: "NumMedia", reason: "not a whole number" })]
    #[case::missing_media(&format!("MessageSid={SID}&From=%2B15552013344&To=%2B18885550100&NumMedia=1"), WebhookError::Malformed { field: "MediaUrl", reason: "fewer media URLs than NumMedia" })]
    #[case::repeated_from(&sms("&From=%2B15552013345"), WebhookError::Repeated("From"))]
    #[case::empty_name(&sms("&=x"), WebhookError::NotAForm("a parameter has an empty name".into()))]
    fn a_bad_inbound_sms_is_refused_naming_the_field(
        #[case] body: &str,
        #[case] expected: WebhookError,
    ) {
        assert_eq!(InboundSms::parse(body.as_bytes()), Err(expected));
    }

    #[test]
    fn a_fifty_megabyte_body_is_refused_before_parsing() {
        let body = vec![b'a'; 50 * 1024 * 1024];
        let started = std::time::Instant::now();
        let err = InboundSms::parse(&body).unwrap_err();
        assert!(matches!(err, WebhookError::TooLarge { actual, .. } if actual == body.len()));
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
    }

    #[test]
    fn a_body_that_is_not_utf8_is_refused() {
        assert!(matches!(
            InboundSms::parse(&[0xff, 0xfe, b'=', b'1']),
            Err(WebhookError::NotAForm(_))
        ));
    }

    #[rstest]
    #[case::ringing("ringing", "%2B15552013344", Some("+15552013344"), CallStatus::Ringing)]
    #[case::withheld("completed", "Anonymous", None, CallStatus::Completed)]
    #[case::no_answer(
        "no-answer",
        "%2B15552013344",
        Some("+15552013344"),
        CallStatus::NoAnswer
    )]
    fn a_call_event_parses(
        #[case] status: &str,
        #[case] from: &str,
        #[case] expected_from: Option<&str>,
        #[case] expected: CallStatus,
    ) {
        let body = format!(
            "CallSid={CALL}&CallStatus={status}&From={from}&To=%2B18885550100&Direction=inbound&CallDuration=42&Caller=x"
        );
        let e = CallEvent::parse(body.as_bytes()).unwrap();
        assert_eq!(e.call_status, expected);
        assert_eq!(e.from.as_ref().map(PhoneE164::as_str), expected_from);
        assert_eq!(e.direction, CallDirection::Inbound);
        assert_eq!(e.call_duration, Some(42));
    }

    #[rstest]
    #[case::status(&format!("CallSid={CALL}&CallStatus=ringin&To=%2B18885550100&Direction=inbound"), WebhookError::Malformed { field: "CallStatus", reason: "not a known call status" })]
    #[case::direction(&format!("CallSid={CALL}&CallStatus=ringing&To=%2B18885550100&Direction=sideways"), WebhookError::Malformed { field: "Direction", reason: "not a known direction" })]
    #[case::sid("CallSid=SM0123456789abcdef0123456789abcdef&CallStatus=ringing&To=%2B18885550100&Direction=inbound", WebhookError::Malformed { field: "CallSid", reason: "not a Twilio identifier" })]
    #[case::to(&format!("CallSid={CALL}&CallStatus=ringing&Direction=inbound"), WebhookError::Missing("To"))]
    fn a_bad_call_event_is_refused_naming_the_field(
        #[case] body: &str,
        #[case] expected: WebhookError,
    ) {
        assert_eq!(CallEvent::parse(body.as_bytes()), Err(expected));
    }

    #[rstest]
    #[case::delivered("MessageStatus=delivered", MessageStatus::Delivered, None)]
    #[case::opted_out(
        "MessageStatus=undelivered&ErrorCode=21610",
        MessageStatus::Undelivered,
        Some(21610)
    )]
    fn a_status_callback_parses(
        #[case] tail: &str,
        #[case] status: MessageStatus,
        #[case] code: Option<u32>,
    ) {
        let s = StatusCallback::parse(format!("MessageSid={SID}&{tail}&SmsSid={SID}").as_bytes())
            .unwrap();
        assert_eq!((s.message_status, s.error_code), (status, code));
    }

    #[test]
    fn a_status_callback_with_an_unknown_status_is_refused() {
        let err = StatusCallback::parse(format!("MessageSid={SID}&MessageStatus=lost").as_bytes())
            .unwrap_err();
        assert_eq!(
            err,
            WebhookError::Malformed {
                field: "MessageStatus",
                reason: "not a known message status"
            }
        );
    }
}
