//! Sending text messages: the opt-out gate ([`SendPermit`]), the [`SmsProvider`] trait, the Twilio REST
//! implementation ([`TwilioProvider`]) and a recording [`LogProvider`] for demos and tests.
//!
//! Nothing can be sent without a [`SendPermit`], and a permit can only be made from the recipient's
//! [`OptState`] when it is [`OptState::OptedIn`]; the permit carries the recipient, so it cannot be reused
//! for another number. The server obtains the state from storage at the moment of sending (for advocate
//! replies, automatic replies and retries alike), so an opted-out number cannot be written to by anyone.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lantern_domain::values::PhoneE164;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::keywords::OptState;

/// A boxed future, so providers can be used as `Arc<dyn SmsProvider>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The recipient is opted out; nothing may be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the recipient has opted out of messages from this number")]
pub struct OptedOut;

/// Proof that a recipient was opted in when the permit was made. The only constructor is
/// [`SendPermit::check`]; it is deliberately neither `Clone` nor deserializable, and each send consumes one.
#[derive(Debug, PartialEq, Eq)]
pub struct SendPermit {
    to: PhoneE164,
}

impl SendPermit {
    /// Makes a permit to send to `to`, whose current opt state (with the sending hotline number) is `state`.
    pub fn check(to: &PhoneE164, state: OptState) -> Result<SendPermit, OptedOut> {
        match state {
            OptState::OptedIn => Ok(SendPermit { to: to.clone() }),
            OptState::OptedOut => Err(OptedOut),
        }
    }

    /// The recipient this permit is for.
    pub fn to(&self) -> &PhoneE164 {
        &self.to
    }
}

/// The provider's identifier of an accepted message (Twilio's `SM…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProviderMessageId(pub String);

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The provider refused the request for a reason retrying will not fix (a 4xx other than 429).
    #[error("the provider refused the message with status {status} (code {code:?})")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The provider's error code, e.g. Twilio 21610 when the recipient has replied STOP to the carrier.
        code: Option<u32>,
    },
    /// Every attempt failed with a retryable error; the last one is given.
    #[error("the provider could not be reached after {attempts} attempts: {last}")]
    Exhausted {
        /// How many attempts were made.
        attempts: u32,
        /// What the last attempt ran into.
        last: String,
    },
    /// The provider answered success but without a message identifier.
    #[error("the provider's answer could not be read: {0}")]
    BadResponse(String),
    /// The provider is configured in a way that cannot work (e.g. an unsupported URL scheme).
    #[error("the SMS provider is misconfigured: {0}")]
    Config(String),
}

/// Something that sends text messages. `status_callback` is the public URL the provider should post
/// delivery updates to.
pub trait SmsProvider: Send + Sync {
    /// Sends `body` from the hotline number `from` to the permit's recipient.
    fn send<'a>(
        &'a self,
        permit: SendPermit,
        from: &'a PhoneE164,
        body: &'a str,
        status_callback: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ProviderMessageId, SendError>>;
}

/// One message a [`LogProvider`] would have sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedMessage {
    /// Recipient.
    pub to: PhoneE164,
    /// Hotline number.
    pub from: PhoneE164,
    /// Text.
    pub body: String,
    /// Status callback URL, if any.
    pub status_callback: Option<String>,
    /// The identifier it was given.
    pub id: ProviderMessageId,
}

/// A provider that sends nothing and records what it would have sent (demo mode and tests).
#[derive(Debug, Clone, Default)]
pub struct LogProvider {
    sent: Arc<Mutex<Vec<LoggedMessage>>>,
}

impl LogProvider {
    /// A provider with an empty record.
    pub fn new() -> LogProvider {
        LogProvider::default()
    }

    /// Everything "sent" so far, oldest first.
    pub fn sent(&self) -> Vec<LoggedMessage> {
        self.sent.lock().expect("log provider lock").clone()
    }
}

impl SmsProvider for LogProvider {
    fn send<'a>(
        &'a self,
        permit: SendPermit,
        from: &'a PhoneE164,
        body: &'a str,
        status_callback: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ProviderMessageId, SendError>> {
        Box::pin(async move {
            let mut sent = self.sent.lock().expect("log provider lock");
            let id = ProviderMessageId(format!("LOG{:031}", sent.len() + 1));
            tracing::info!(message.id = %id.0, "log provider recorded an outbound SMS");
            sent.push(LoggedMessage {
                to: permit.to,
                from: from.clone(),
                body: body.to_owned(),
                status_callback: status_callback.map(str::to_owned),
                id: id.clone(),
            });
            Ok(id)
        })
    }
}

/// Settings of the Twilio provider.
#[derive(Clone)]
pub struct TwilioConfig {
    /// The account identifier (`AC…`).
    pub account_sid: String,
    /// The auth token (a secret; never logged).
    pub auth_token: String,
    /// The API's base URL without a trailing slash; `https://api.twilio.com` in production, a local server
    /// in tests.
    pub base_url: String,
    /// How many attempts in all before giving up on retryable errors.
    pub max_attempts: u32,
    /// The delay before the first retry; each further retry doubles it.
    pub initial_backoff: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[redacted]")
            .field("base_url", &self.base_url)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl TwilioConfig {
    /// Production defaults: Twilio's API URL, 4 attempts, 500 ms first backoff, 15 s per attempt.
    pub fn new(account_sid: impl Into<String>, auth_token: impl Into<String>) -> TwilioConfig {
        TwilioConfig {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            base_url: "https://api.twilio.com".to_owned(),
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(15),
        }
    }
}

/// A minimal HTTP answer: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// How the Twilio provider performs one HTTP POST of a form: [`PlainHttp`] for `http://` URLs, and with the
/// `https` feature `ReqwestTransport` for `https://api.twilio.com`.
pub trait HttpTransport: Send + Sync {
    /// POSTs `form` (already encoded) to `url` with the given `Authorization` header value. An `Err` is a
    /// connection-level failure (retryable).
    fn post_form<'a>(
        &'a self,
        url: &'a str,
        authorization: &'a str,
        form: &'a str,
    ) -> BoxFuture<'a, Result<HttpResponse, String>>;
}

/// An HTTP/1.1 client over plain TCP for `http://` URLs: tests, and deployments that reach Twilio through a
/// TLS-originating egress proxy. It refuses `https://` URLs.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainHttp;

/// The largest provider answer read, in bytes.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

impl HttpTransport for PlainHttp {
    fn post_form<'a>(
        &'a self,
        url: &'a str,
        authorization: &'a str,
        form: &'a str,
    ) -> BoxFuture<'a, Result<HttpResponse, String>> {
        Box::pin(async move {
            let rest = url
                .strip_prefix("http://")
                .ok_or("only http:// URLs are supported by PlainHttp")?;
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, "/"),
            };
            let addr = if authority.contains(':') {
                authority.to_owned()
            } else {
                format!("{authority}:80")
            };
            let mut stream = tokio::net::TcpStream::connect(&addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let request = format!(
                "POST {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: {authorization}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
                form.len()
            );
            stream
                .write_all(request.as_bytes())
                .await
                .map_err(|e| format!("write: {e}"))?;
            let mut raw = Vec::new();
            (&mut stream)
                .take(MAX_RESPONSE_BYTES as u64)
                .read_to_end(&mut raw)
                .await
                .map_err(|e| format!("read: {e}"))?;
            parse_response(&raw)
        })
    }
}

/// An HTTPS-capable transport (reqwest with rustls and the webpki roots) for reaching
/// `https://api.twilio.com` directly; enabled by the crate's `https` feature.
#[cfg(feature = "https")]
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

#[cfg(feature = "https")]
impl ReqwestTransport {
    /// A transport with its own connection pool.
    pub fn new() -> Result<ReqwestTransport, SendError> {
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| SendError::Config(format!("the HTTPS client could not be built: {e}")))?;
        Ok(ReqwestTransport { client })
    }
}

#[cfg(feature = "https")]
impl HttpTransport for ReqwestTransport {
    fn post_form<'a>(
        &'a self,
        url: &'a str,
        authorization: &'a str,
        form: &'a str,
    ) -> BoxFuture<'a, Result<HttpResponse, String>> {
        Box::pin(async move {
            let response = self
                .client
                .post(url)
                .header("authorization", authorization)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(form.to_owned())
                .send()
                .await
                .map_err(|e| format!("request: {e}"))?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(|e| format!("read: {e}"))?;
            if body.len() > MAX_RESPONSE_BYTES {
                return Err("the answer is too large".to_owned());
            }
            Ok(HttpResponse {
                status,
                body: body.to_vec(),
            })
        })
    }
}

fn parse_response(raw: &[u8]) -> Result<HttpResponse, String> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer has no header end")?;
    let head =
        std::str::from_utf8(&raw[..head_end]).map_err(|_| "the answer's headers are not text")?;
    let status_line = head.lines().next().ok_or("the answer is empty")?;
    let mut parts = status_line.split(' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err("the answer is not HTTP/1.x".to_owned());
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or("the answer has no status code")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = &raw[head_end + 4..];
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok(HttpResponse { status, body })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk")?;
        let size_text = std::str::from_utf8(&data[..line_end]).map_err(|_| "bad chunk size")?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("truncated chunk".to_owned());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Sends text messages through Twilio's REST Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`,
/// form body `To`, `From`, `Body`, `StatusCallback`, HTTP basic auth), retrying with exponential backoff on
/// 429, 5xx and connection errors, never on other 4xx.
pub struct TwilioProvider<T: HttpTransport = PlainHttp> {
    config: TwilioConfig,
    transport: T,
}

impl<T: HttpTransport> std::fmt::Debug for TwilioProvider<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioProvider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TwilioAnswer {
    sid: Option<String>,
    code: Option<u32>,
}

impl<T: HttpTransport> TwilioProvider<T> {
    /// A provider with the given settings and transport. Refuses an account identifier that is not `AC…`
    /// or an empty token.
    pub fn new(config: TwilioConfig, transport: T) -> Result<TwilioProvider<T>, SendError> {
        if !config.account_sid.starts_with("AC")
            || !config
                .account_sid
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        {
            return Err(SendError::Config(
                "account_sid must be a Twilio account identifier (AC…)".to_owned(),
            ));
        }
        if config.auth_token.is_empty() {
            return Err(SendError::Config("auth_token is empty".to_owned()));
        }
        if config.max_attempts == 0 {
            return Err(SendError::Config(
                "max_attempts must be at least 1".to_owned(),
            ));
        }
        Ok(TwilioProvider { config, transport })
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.base_url.trim_end_matches('/'),
            self.config.account_sid
        )
    }

    async fn send_inner(
        &self,
        permit: SendPermit,
        from: &PhoneE164,
        body: &str,
        status_callback: Option<&str>,
    ) -> Result<ProviderMessageId, SendError> {
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("To", permit.to.as_str())
                .append_pair("From", from.as_str())
                .append_pair("Body", body);
            if let Some(cb) = status_callback {
                form.append_pair("StatusCallback", cb);
            }
            form.finish()
        };
        let auth = format!(
            "Basic {}",
            STANDARD.encode(format!(
                "{}:{}",
                self.config.account_sid, self.config.auth_token
            ))
        );
        let url = self.messages_url();
        let mut last = String::new();
        for attempt in 1..=self.config.max_attempts {
            if attempt > 1 {
                let factor = 1u32 << (attempt - 2).min(16);
                tokio::time::sleep(self.config.initial_backoff * factor).await;
            }
            let outcome = tokio::time::timeout(
                self.config.timeout,
                self.transport.post_form(&url, &auth, &form),
            )
            .await;
            let response = match outcome {
                Err(_) => {
                    last = "timed out".to_owned();
                    continue;
                }
                Ok(Err(e)) => {
                    last = e;
                    continue;
                }
                Ok(Ok(r)) => r,
            };
            let answer: Option<TwilioAnswer> = serde_json::from_slice(&response.body).ok();
            match response.status {
                200..=299 => {
                    return answer
                        .and_then(|a| a.sid)
                        .map(ProviderMessageId)
                        .ok_or_else(|| {
                            SendError::BadResponse("no `sid` in the answer".to_owned())
                        });
                }
                429 | 500..=599 => {
                    last = format!("status {}", response.status);
                    tracing::warn!(
                        attempt,
                        status = response.status,
                        "Twilio answered a retryable error"
                    );
                }
                status => {
                    return Err(SendError::Rejected {
                        status,
                        code: answer.and_then(|a| a.code),
                    });
                }
            }
        }
        Err(SendError::Exhausted {
            attempts: self.config.max_attempts,
            last,
        })
    }
}

impl<T: HttpTransport> SmsProvider for TwilioProvider<T> {
    fn send<'a>(
        &'a self,
        permit: SendPermit,
        from: &'a PhoneE164,
        body: &'a str,
        status_callback: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ProviderMessageId, SendError>> {
        Box::pin(self.send_inner(permit, from, body, status_callback))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use tokio::net::TcpListener;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

    #[derive(Debug, Clone)]
    struct Seen {
        request_line: String,
        headers: Vec<(String, String)>,
        body: String,
    }

    /// A local HTTP server that answers each connection with the next scripted status (`0` = drop the
    /// connection without answering) and records what it received.
    async fn server(script: Vec<u16>) -> (String, Arc<Mutex<Vec<Seen>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            for status in script {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let head_end = loop {
                    let n = sock.read(&mut buf).await.unwrap();
                    raw.extend_from_slice(&buf[..n]);
                    if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i;
                    }
                };
                let head = String::from_utf8(raw[..head_end].to_vec()).unwrap();
                let mut lines = head.split("\r\n");
                let request_line = lines.next().unwrap().to_owned();
                let headers: Vec<(String, String)> = lines
                    .map(|l| {
                        let (k, v) = l.split_once(':').unwrap();
                        (k.trim().to_ascii_lowercase(), v.trim().to_owned())
                    })
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .unwrap()
                    .1
                    .parse()
                    .unwrap();
                while raw.len() < head_end + 4 + len {
                    let n = sock.read(&mut buf).await.unwrap();
                    raw.extend_from_slice(&buf[..n]);
                }
                let body =
                    String::from_utf8(raw[head_end + 4..head_end + 4 + len].to_vec()).unwrap();
                record.lock().unwrap().push(Seen {
                    request_line,
                    headers,
                    body,
                });
                if status == 0 {
                    continue;
                }
                let payload = if status == 201 {
                    r#"{"sid":"SM00000000000000000000000000000001","status":"queued"}"#.to_owned()
                } else {
                    format!(
                        r#"{{"code":{},"message":"nope","status":{status}}}"#,
                        if status == 400 { 21610 } else { 20500 }
                    )
                };
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                    payload.len()
                );
                sock.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        (format!("http://{addr}"), seen)
    }

    fn provider(base_url: String) -> TwilioProvider {
        let mut config = TwilioConfig::new(ACCOUNT, "secret-token");
        config.base_url = base_url;
        config.initial_backoff = Duration::from_millis(1);
        config.timeout = Duration::from_secs(5);
        TwilioProvider::new(config, PlainHttp).unwrap()
    }

    fn phone(s: &str) -> PhoneE164 {
        PhoneE164::parse(s).unwrap()
    }

    #[test]
    fn no_permit_can_be_made_for_an_opted_out_number() {
        assert_eq!(
            SendPermit::check(&phone("+15552013344"), OptState::OptedOut),
            Err(OptedOut)
        );
        let permit = SendPermit::check(&phone("+15552013344"), OptState::OptedIn).unwrap();
        assert_eq!(permit.to().as_str(), "+15552013344");
    }

    #[tokio::test]
    async fn twilio_receives_a_form_post_with_basic_auth_on_the_messages_path() {
        let (url, seen) = server(vec![201]).await;
        let p = provider(url);
        let permit = SendPermit::check(&phone("+15552013344"), OptState::OptedIn).unwrap();
        let id = p
            .send(
                permit,
                &phone("+18885550100"),
                "We are here & listening.",
                Some("https://h.example/webhooks/sms/status"),
            )
            .await
            .unwrap();
        assert_eq!(
            id,
            ProviderMessageId("SM00000000000000000000000000000001".into())
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen[0].request_line,
            format!("POST /2010-04-01/Accounts/{ACCOUNT}/Messages.json HTTP/1.1")
        );
        let auth = &seen[0]
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .unwrap()
            .1;
        assert_eq!(
            auth,
            &format!(
                "Basic {}",
                STANDARD.encode(format!("{ACCOUNT}:secret-token"))
            )
        );
        let form: Vec<(String, String)> = form_urlencoded::parse(seen[0].body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(
            form,
            vec![
                ("To".into(), "+15552013344".into()),
                ("From".into(), "+18885550100".into()),
                ("Body".into(), "We are here & listening.".into()),
                (
                    "StatusCallback".into(),
                    "https://h.example/webhooks/sms/status".into()
                ),
            ]
        );
    }

    #[rstest]
    #[case::server_error_then_created(vec![500, 201], 2, true)]
    #[case::throttled_then_created(vec![429, 503, 201], 3, true)]
    #[case::dropped_connection_then_created(vec![0, 201], 2, true)]
    #[case::bad_request_is_not_retried(vec![400, 201], 1, false)]
    #[case::not_found_is_not_retried(vec![404, 201], 1, false)]
    #[case::gives_up_after_max_attempts(vec![500, 500, 500, 500, 201], 4, false)]
    #[tokio::test]
    async fn retries_follow_the_status(
        #[case] script: Vec<u16>,
        #[case] attempts: usize,
        #[case] ok: bool,
    ) {
        let (url, seen) = server(script).await;
        let p = provider(url);
        let permit = SendPermit::check(&phone("+15552013344"), OptState::OptedIn).unwrap();
        let result = p.send(permit, &phone("+18885550100"), "hi", None).await;
        assert_eq!(result.is_ok(), ok, "{result:?}");
        assert_eq!(seen.lock().unwrap().len(), attempts);
    }

    #[cfg(feature = "https")]
    #[tokio::test]
    async fn the_reqwest_transport_posts_the_same_form_and_retries() {
        let (url, seen) = server(vec![500, 201]).await;
        let mut config = TwilioConfig::new(ACCOUNT, "secret-token");
        config.base_url = url;
        config.initial_backoff = Duration::from_millis(1);
        let p = TwilioProvider::new(config, ReqwestTransport::new().unwrap()).unwrap();
        let permit = SendPermit::check(&phone("+15552013344"), OptState::OptedIn).unwrap();
        p.send(permit, &phone("+18885550100"), "hi", None)
            .await
            .unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(
            seen[1].request_line,
            format!("POST /2010-04-01/Accounts/{ACCOUNT}/Messages.json HTTP/1.1")
        );
        assert_eq!(
            seen[1].body,
            "To=%2B15552013344&From=%2B18885550100&Body=hi"
        );
    }

    #[tokio::test]
    async fn a_rejection_carries_twilios_error_code() {
        let (url, _) = server(vec![400]).await;
        let permit = SendPermit::check(&phone("+15552013344"), OptState::OptedIn).unwrap();
        let err = provider(url)
            .send(permit, &phone("+18885550100"), "hi", None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                SendError::Rejected {
                    status: 400,
                    code: Some(21610)
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_is_retried_then_reported() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let permit = SendPermit::check(&phone("+15552013344"), OptState::OptedIn).unwrap();
        let err = provider(url)
            .send(permit, &phone("+18885550100"), "hi", None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, SendError::Exhausted { attempts: 4, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn the_log_provider_records_what_it_would_send() {
        let log = LogProvider::new();
        let permit = SendPermit::check(&phone("+15552013344"), OptState::OptedIn).unwrap();
        let dyn_provider: Arc<dyn SmsProvider> = Arc::new(log.clone());
        let id = dyn_provider
            .send(permit, &phone("+18885550100"), "hello", None)
            .await
            .unwrap();
        let sent = log.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (sent[0].to.as_str(), sent[0].body.as_str(), &sent[0].id),
            ("+15552013344", "hello", &id)
        );
    }

    #[rstest]
    #[case::bad_account("XX123", "t")]
    #[case::empty_token(ACCOUNT, "")]
    fn a_misconfigured_twilio_provider_is_refused(#[case] sid: &str, #[case] token: &str) {
        assert!(matches!(
            TwilioProvider::new(TwilioConfig::new(sid, token), PlainHttp),
            Err(SendError::Config(_))
        ));
    }

    #[test]
    fn the_config_debug_never_shows_the_token() {
        assert!(
            !format!("{:?}", TwilioConfig::new(ACCOUNT, "secret-token")).contains("secret-token")
        );
    }

    #[test]
    fn a_chunked_answer_is_decoded() {
        let raw =
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(raw).unwrap(),
            HttpResponse {
                status: 201,
                body: b"hello".to_vec()
            }
        );
    }
}
