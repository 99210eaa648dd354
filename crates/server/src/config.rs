//! Settings: defaults, then a TOML file, then `LANTERN_*` environment variables, each layer overriding
//! the one before. `lantern default-config` prints [`DEFAULT_CONFIG`], which documents every key.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every setting of a Lantern server.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// A SQLite file path, `sqlite://PATH`, or `postgres://…`.
    pub database: String,
    /// The key file (see `lantern keys`). `LANTERN_KEYS` may hold its content instead.
    pub key_file: PathBuf,
    /// The address users reach Lantern at, e.g. `https://hotline.example.org`. Decides whether cookies
    /// are `Secure` and is the URL webhook signatures are checked against.
    pub public_url: String,
    /// Sessions.
    pub session: SessionSettings,
    /// Login protection.
    pub login: LoginSettings,
    /// Logging.
    pub log: LogSettings,
    /// The SMS line.
    pub sms: SmsSettings,
    /// Cross-case linkage.
    pub linkage: LinkageSettings,
    /// The help-seeker pages (web chat, tip form).
    pub help_pages: HelpPageSettings,
    /// The web chat.
    pub chat: ChatSettings,
    /// The anonymous web tip form.
    pub tips: TipSettings,
    /// The voice line: Twilio's call webhooks.
    pub voice: VoiceSettings,
    /// The public statistics pages.
    pub statistics: StatisticsSettings,
}

/// The web chat: which hotline the public chat page reaches, and how many chats an advocate takes at once.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ChatSettings {
    /// The slug of the hotline whose queue `/chat` joins.
    pub hotline: String,
    /// How many chats one advocate (or supervisor) may have open at once (at least 1).
    pub advocate_limit: usize,
    /// How long a chat waits for a help-seeker's page that lost its connection to come back before it
    /// ends, in seconds (at least 1). The advocate sees the page go and come back meanwhile.
    pub reconnect_seconds: u64,
    /// Chats started from one client address per hour (counted like tips, as a keyed hash of the
    /// address that `tips.client_ip_header` names); more are refused with a `rate_limited` frame.
    pub max_starts_per_hour: i64,
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            hotline: "demo".into(),
            advocate_limit: 3,
            reconnect_seconds: 600,
            max_starts_per_hour: 20,
        }
    }
}

/// The anonymous web tip form at `/tip`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TipSettings {
    /// The slug of the hotline tips go to; empty: the installation's only hotline (the form is off when
    /// there are several and none is named).
    pub hotline: String,
    /// Tips accepted from one client address per hour; more get a 429 naming when to try again.
    pub max_per_hour: i64,
    /// The request header that carries the client's address when Lantern is behind a proxy
    /// (`x-forwarded-for`: its last entry, the one the proxy added); empty: the connection's peer address.
    /// Addresses are only ever kept as a keyed hash.
    pub client_ip_header: String,
}

impl Default for TipSettings {
    fn default() -> Self {
        TipSettings {
            hotline: String::new(),
            max_per_hour: 10,
            client_ip_header: String::new(),
        }
    }
}

/// The voice line: where Twilio posts call events, the queue callers wait in, and the hotline numbers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VoiceSettings {
    /// The exact URL Twilio is configured to post incoming calls to, when it is not
    /// `{public_url}/webhooks/voice/twilio` (signatures are checked against it, with `sms.auth_token`).
    pub webhook_url: String,
    /// The exact URL of the call status callback, when it is not `{public_url}/webhooks/voice/twilio/status`.
    pub status_url: String,
    /// The name of the Twilio queue callers are placed in (`<Enqueue>`).
    pub queue: String,
    /// The voice numbers, each with its hotline and the language callers are greeted in.
    pub numbers: Vec<VoiceNumber>,
}

/// One voice number of a hotline.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VoiceNumber {
    /// The number, E.164 (`+18885550100`).
    pub number: String,
    /// The slug of the hotline it belongs to.
    pub hotline: String,
    /// `en` or `es`: the greeting's language and the new contact's.
    #[serde(default = "default_voice_language")]
    pub language: String,
}

fn default_voice_language() -> String {
    "en".into()
}

impl Default for VoiceSettings {
    fn default() -> Self {
        VoiceSettings {
            webhook_url: String::new(),
            status_url: String::new(),
            queue: "hotline".into(),
            numbers: Vec::new(),
        }
    }
}

impl VoiceSettings {
    /// The URL incoming-call webhooks are signed against.
    pub fn inbound_url(&self, public_url: &str) -> String {
        if self.webhook_url.is_empty() {
            format!("{}/webhooks/voice/twilio", public_url.trim_end_matches('/'))
        } else {
            self.webhook_url.clone()
        }
    }

    /// The URL call status callbacks are signed against.
    pub fn callback_url(&self, public_url: &str) -> String {
        if self.status_url.is_empty() {
            format!(
                "{}/webhooks/voice/twilio/status",
                public_url.trim_end_matches('/')
            )
        } else {
            self.status_url.clone()
        }
    }

    /// The voice number entry of a called number, when it is one of ours.
    pub fn number(&self, number: &str) -> Option<&VoiceNumber> {
        self.numbers.iter().find(|n| {
            lantern_domain::values::PhoneE164::parse(&n.number).is_ok_and(|p| p.as_str() == number)
        })
    }

    fn check(&self) -> Result<(), ConfigError> {
        for (key, url) in [
            ("voice.webhook_url", &self.webhook_url),
            ("voice.status_url", &self.status_url),
        ] {
            if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Invalid(
                    key,
                    "must start with http:// or https://".into(),
                ));
            }
        }
        if self.queue.trim().is_empty() || self.queue.len() > 64 {
            return Err(ConfigError::Invalid(
                "voice.queue",
                "a queue name of 1 to 64 characters".into(),
            ));
        }
        for (i, n) in self.numbers.iter().enumerate() {
            if lantern_domain::values::PhoneE164::parse(&n.number).is_err() {
                return Err(ConfigError::Invalid(
                    "voice.numbers",
                    format!("entry {}: `number` is not an E.164 number", i + 1),
                ));
            }
            if n.hotline.is_empty() {
                return Err(ConfigError::Invalid(
                    "voice.numbers",
                    format!("entry {}: `hotline` (a slug) is required", i + 1),
                ));
            }
            if !["en", "es"].contains(&n.language.as_str()) {
                return Err(ConfigError::Invalid(
                    "voice.numbers",
                    format!("entry {}: `language` must be `en` or `es`", i + 1),
                ));
            }
        }
        Ok(())
    }
}

/// The public statistics pages (`/statistics`): which hotline they publish, through the release gate.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StatisticsSettings {
    /// The slug of the hotline whose statistics are public; empty: no public statistics.
    pub hotline: String,
    /// Counts below this are shown as "fewer than N" (3 like the national hotline; CTDC uses 11).
    pub threshold: u64,
}

impl Default for StatisticsSettings {
    fn default() -> Self {
        StatisticsSettings {
            hotline: String::new(),
            threshold: 3,
        }
    }
}

/// The pages a person seeking help opens: where their quick exit goes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HelpPageSettings {
    /// The neutral site that the quick exit button and the Escape key replace the page with.
    pub neutral_url: String,
}

impl Default for HelpPageSettings {
    fn default() -> Self {
        HelpPageSettings {
            neutral_url: "https://www.weather.gov/".into(),
        }
    }
}

/// The linkage job's schedule.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LinkageSettings {
    /// Every hotline's parties are linked again this many minutes after the last run was asked for
    /// (0: only when an analyst asks).
    pub interval_minutes: u64,
}

impl Default for LinkageSettings {
    fn default() -> Self {
        LinkageSettings {
            interval_minutes: 1440,
        }
    }
}

/// Session lifetimes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// A session ends after this many minutes without a request.
    pub idle_minutes: i64,
    /// A session ends this many hours after login, whatever happens.
    pub absolute_hours: i64,
}

/// Lockout after repeated failed logins.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoginSettings {
    /// Failed logins in a row that lock the account.
    pub max_failures: i64,
    /// How long a locked account stays locked.
    pub lockout_minutes: i64,
}

/// Log output.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `json` (one object per line) or `pretty`.
    pub format: String,
    /// A tracing filter such as `info` or `lantern=debug,info`.
    pub level: String,
}

/// A secret setting: its `Debug` never shows the value.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "[empty]"
        } else {
            "[redacted]"
        })
    }
}

/// The SMS line: the provider, Twilio's credentials, and the hotline numbers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmsSettings {
    /// `log` (records what would be sent and sends nothing: demo and tests) or `twilio`.
    pub provider: String,
    /// Twilio's account identifier (`AC…`), for sending.
    pub account_sid: String,
    /// Twilio's auth token: checks the signature of every webhook and authenticates sends. Without it
    /// every webhook is refused.
    pub auth_token: Secret,
    /// Twilio's REST API address (an `http://` egress proxy, or `https://api.twilio.com` when built with
    /// the `twilio-https` feature).
    pub api_base_url: String,
    /// The exact URL Twilio is configured to post inbound texts to, when it is not
    /// `{public_url}/webhooks/sms/twilio` (a proxy that rewrites paths, a query string).
    pub webhook_url: String,
    /// How to reach a person, in the reply to HELP (e.g. "Call 1-888-555-0100, 24/7, or reply here").
    pub reach_a_person: String,
    /// The hotline numbers Twilio delivers to this installation, each with its hotline.
    pub numbers: Vec<SmsNumber>,
}

/// One SMS number of a hotline.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SmsNumber {
    /// The number, E.164 (`+18885550100`).
    pub number: String,
    /// The slug of the hotline it belongs to.
    pub hotline: String,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            provider: "log".into(),
            account_sid: String::new(),
            auth_token: Secret::default(),
            api_base_url: "https://api.twilio.com".into(),
            webhook_url: String::new(),
            reach_a_person: "Reply here to reach an advocate, 24/7".into(),
            numbers: Vec::new(),
        }
    }
}

impl SmsSettings {
    /// The URL inbound texts are signed against, given the installation's public URL.
    pub fn inbound_url(&self, public_url: &str) -> String {
        if self.webhook_url.is_empty() {
            format!("{}/webhooks/sms/twilio", public_url.trim_end_matches('/'))
        } else {
            self.webhook_url.clone()
        }
    }

    /// The status callback URL given to the provider with each message (and checked on each callback).
    pub fn status_url(&self, public_url: &str) -> String {
        format!(
            "{}/webhooks/sms/twilio/status",
            public_url.trim_end_matches('/')
        )
    }

    /// The hotline slug of a hotline number, when it is one of ours.
    pub fn hotline_of(&self, number: &str) -> Option<&str> {
        self.numbers
            .iter()
            .find(|n| {
                lantern_domain::values::PhoneE164::parse(&n.number)
                    .is_ok_and(|p| p.as_str() == number)
            })
            .map(|n| n.hotline.as_str())
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !["log", "twilio"].contains(&self.provider.as_str()) {
            return Err(ConfigError::Invalid(
                "sms.provider",
                "must be `log` or `twilio`".into(),
            ));
        }
        if self.provider == "twilio" {
            if !self.account_sid.starts_with("AC") {
                return Err(ConfigError::Invalid(
                    "sms.account_sid",
                    "the twilio provider needs the account identifier (AC…)".into(),
                ));
            }
            if self.auth_token.expose().is_empty() {
                return Err(ConfigError::Invalid(
                    "sms.auth_token",
                    "the twilio provider needs the auth token".into(),
                ));
            }
            let reachable = self.api_base_url.starts_with("http://")
                || (cfg!(feature = "twilio-https") && self.api_base_url.starts_with("https://"));
            if !reachable {
                return Err(ConfigError::Invalid(
                    "sms.api_base_url",
                    "must be an http:// egress proxy, or https:// in a build with the `twilio-https` feature".into(),
                ));
            }
        }
        let url_ok = self.webhook_url.is_empty()
            || self.webhook_url.starts_with("http://")
            || self.webhook_url.starts_with("https://");
        if !url_ok {
            return Err(ConfigError::Invalid(
                "sms.webhook_url",
                "must start with http:// or https://".into(),
            ));
        }
        for (i, n) in self.numbers.iter().enumerate() {
            if lantern_domain::values::PhoneE164::parse(&n.number).is_err() {
                return Err(ConfigError::Invalid(
                    "sms.numbers",
                    format!("entry {}: `number` is not an E.164 number", i + 1),
                ));
            }
            if n.hotline.is_empty() {
                return Err(ConfigError::Invalid(
                    "sms.numbers",
                    format!("entry {}: `hotline` (a slug) is required", i + 1),
                ));
            }
        }
        Ok(())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: "lantern.db".into(),
            key_file: PathBuf::from("lantern.keys"),
            public_url: "http://127.0.0.1:8080".into(),
            session: SessionSettings::default(),
            login: LoginSettings::default(),
            log: LogSettings::default(),
            sms: SmsSettings::default(),
            linkage: LinkageSettings::default(),
            help_pages: HelpPageSettings::default(),
            chat: ChatSettings::default(),
            tips: TipSettings::default(),
            voice: VoiceSettings::default(),
            statistics: StatisticsSettings::default(),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_minutes: 30,
            absolute_hours: 12,
        }
    }
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            max_failures: 5,
            lockout_minutes: 15,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: "json".into(),
            level: "info".into(),
        }
    }
}

/// A configuration problem, naming the file, key or variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {0}: {1}")]
    Read(String, std::io::Error),
    /// The file is not valid (unknown key, wrong type).
    #[error("config file {0}: {1}")]
    Parse(String, String),
    /// An environment variable has a bad value.
    #[error("environment variable {0}: {1}")]
    Env(String, String),
    /// A value is out of range.
    #[error("setting `{0}`: {1}")]
    Invalid(&'static str, String),
}

impl Settings {
    /// Loads settings: defaults, then `file` if given, then the environment (`vars`, normally
    /// `std::env::vars()`).
    pub fn load(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut s = match file {
            None => Settings::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ConfigError::Read(p.display().to_string(), e))?;
                toml::from_str(&text)
                    .map_err(|e| ConfigError::Parse(p.display().to_string(), e.to_string()))?
            }
        };
        for (k, v) in vars {
            let Some(key) = k.strip_prefix("LANTERN_") else {
                continue;
            };
            let bad = |why: &str| ConfigError::Env(k.clone(), why.to_owned());
            match key {
                "BIND" => {
                    s.bind = v
                        .parse()
                        .map_err(|_| bad("expected an address such as 127.0.0.1:8080"))?
                }
                "DATABASE" | "DATABASE_URL" => s.database = v,
                "KEY_FILE" => s.key_file = v.into(),
                "PUBLIC_URL" => s.public_url = v,
                "SESSION_IDLE_MINUTES" => {
                    s.session.idle_minutes = v.parse().map_err(|_| bad("expected minutes"))?
                }
                "SESSION_ABSOLUTE_HOURS" => {
                    s.session.absolute_hours = v.parse().map_err(|_| bad("expected hours"))?
                }
                "LOGIN_MAX_FAILURES" => {
                    s.login.max_failures = v.parse().map_err(|_| bad("expected a count"))?
                }
                "LOGIN_LOCKOUT_MINUTES" => {
                    s.login.lockout_minutes = v.parse().map_err(|_| bad("expected minutes"))?
                }
                "LOG_FORMAT" => s.log.format = v,
                "LOG_LEVEL" | "LOG" => s.log.level = v,
                "SMS_PROVIDER" => s.sms.provider = v,
                "SMS_ACCOUNT_SID" => s.sms.account_sid = v,
                "SMS_AUTH_TOKEN" => s.sms.auth_token = Secret::new(v),
                "SMS_API_BASE_URL" => s.sms.api_base_url = v,
                "SMS_WEBHOOK_URL" => s.sms.webhook_url = v,
                "SMS_REACH_A_PERSON" => s.sms.reach_a_person = v,
                "LINKAGE_INTERVAL_MINUTES" => {
                    s.linkage.interval_minutes = v.parse().map_err(|_| bad("expected minutes"))?
                }
                "HELP_PAGES_NEUTRAL_URL" => s.help_pages.neutral_url = v,
                "CHAT_HOTLINE" => s.chat.hotline = v,
                "CHAT_ADVOCATE_LIMIT" => {
                    s.chat.advocate_limit = v.parse().map_err(|_| bad("expected a number"))?
                }
                "CHAT_RECONNECT_SECONDS" => {
                    s.chat.reconnect_seconds = v.parse().map_err(|_| bad("expected seconds"))?
                }
                "CHAT_MAX_STARTS_PER_HOUR" => {
                    s.chat.max_starts_per_hour = v.parse().map_err(|_| bad("expected a count"))?
                }
                "TIPS_HOTLINE" => s.tips.hotline = v,
                "TIPS_MAX_PER_HOUR" => {
                    s.tips.max_per_hour = v.parse().map_err(|_| bad("expected a count"))?
                }
                "TIPS_CLIENT_IP_HEADER" => s.tips.client_ip_header = v,
                "VOICE_WEBHOOK_URL" => s.voice.webhook_url = v,
                "VOICE_STATUS_URL" => s.voice.status_url = v,
                "VOICE_QUEUE" => s.voice.queue = v,
                "STATISTICS_HOTLINE" => s.statistics.hotline = v,
                "STATISTICS_THRESHOLD" => {
                    s.statistics.threshold = v.parse().map_err(|_| bad("expected a count"))?
                }
                // Variables read elsewhere (the key material, the test database).
                "KEYS" | "TEST_DATABASE_URL" | "CONFIG" => {}
                _ => return Err(bad("unknown setting; see `lantern default-config`")),
            }
        }
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.session.idle_minutes < 1 {
            return Err(ConfigError::Invalid(
                "session.idle_minutes",
                "must be at least 1".into(),
            ));
        }
        if self.session.absolute_hours < 1 {
            return Err(ConfigError::Invalid(
                "session.absolute_hours",
                "must be at least 1".into(),
            ));
        }
        if self.login.max_failures < 1 {
            return Err(ConfigError::Invalid(
                "login.max_failures",
                "must be at least 1".into(),
            ));
        }
        if !["json", "pretty"].contains(&self.log.format.as_str()) {
            return Err(ConfigError::Invalid(
                "log.format",
                "must be `json` or `pretty`".into(),
            ));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid(
                "public_url",
                "must start with http:// or https://".into(),
            ));
        }
        let neutral = &self.help_pages.neutral_url;
        if !(neutral.starts_with("https://") || neutral.starts_with("http://")) {
            return Err(ConfigError::Invalid(
                "help_pages.neutral_url",
                "must be the http(s):// address of another site".into(),
            ));
        }
        if self.chat.advocate_limit < 1 {
            return Err(ConfigError::Invalid(
                "chat.advocate_limit",
                "must be at least 1".into(),
            ));
        }
        if self.chat.reconnect_seconds < 1 {
            return Err(ConfigError::Invalid(
                "chat.reconnect_seconds",
                "must be at least 1".into(),
            ));
        }
        if self.chat.max_starts_per_hour < 1 {
            return Err(ConfigError::Invalid(
                "chat.max_starts_per_hour",
                "must be at least 1".into(),
            ));
        }
        if self.tips.max_per_hour < 1 {
            return Err(ConfigError::Invalid(
                "tips.max_per_hour",
                "must be at least 1".into(),
            ));
        }
        self.voice.check()?;
        if self.statistics.threshold < 2 {
            return Err(ConfigError::Invalid(
                "statistics.threshold",
                "must be at least 2 (a threshold of 1 hides nothing)".into(),
            ));
        }
        self.sms.check()
    }

    /// Whether cookies must carry `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// A fully commented configuration file with every default.
pub const DEFAULT_CONFIG: &str = r#"# Lantern configuration. Every key is optional; shown here with its default.
# Each key can also be set by an environment variable, which wins over this file:
# LANTERN_BIND, LANTERN_DATABASE, LANTERN_KEY_FILE, LANTERN_PUBLIC_URL, LANTERN_SESSION_IDLE_MINUTES,
# LANTERN_SESSION_ABSOLUTE_HOURS, LANTERN_LOGIN_MAX_FAILURES, LANTERN_LOGIN_LOCKOUT_MINUTES,
# LANTERN_LOG_FORMAT, LANTERN_LOG_LEVEL, LANTERN_SMS_PROVIDER, LANTERN_SMS_ACCOUNT_SID, LANTERN_SMS_AUTH_TOKEN,
# LANTERN_SMS_API_BASE_URL, LANTERN_SMS_WEBHOOK_URL, LANTERN_SMS_REACH_A_PERSON,
# LANTERN_LINKAGE_INTERVAL_MINUTES, LANTERN_HELP_PAGES_NEUTRAL_URL, LANTERN_TIPS_HOTLINE,
# LANTERN_TIPS_MAX_PER_HOUR, LANTERN_TIPS_CLIENT_IP_HEADER, LANTERN_VOICE_WEBHOOK_URL, LANTERN_VOICE_STATUS_URL,
# LANTERN_VOICE_QUEUE, LANTERN_STATISTICS_HOTLINE, LANTERN_STATISTICS_THRESHOLD.
# LANTERN_KEYS may hold the key file's content.

# Address to listen on. Put Lantern behind a TLS-terminating proxy when it is reachable from a network.
bind = "127.0.0.1:8080"

# A SQLite file (the default: nothing else to install), sqlite://PATH, or postgres://USER@HOST/DB when
# several Lantern servers share one database.
database = "lantern.db"

# The key file that encrypts personal data and seals the audit log. Keep it OUTSIDE the database and its
# backups; without it encrypted fields cannot be read. Created on first start for a new SQLite database.
key_file = "lantern.keys"

# The address users reach Lantern at. With https:// cookies are marked Secure. Twilio's webhook signatures
# are checked against URLs under it (see [sms]).
public_url = "http://127.0.0.1:8080"

[session]
# A session ends after this many minutes without a request...
idle_minutes = 30
# ...and this many hours after login in any case.
absolute_hours = 12

[login]
# Failed logins in a row that lock an account, and for how long.
max_failures = 5
lockout_minutes = 15

[log]
# json (one object per line, for collectors) or pretty (for a terminal). Logs never contain personal data.
format = "json"
level = "info"

[linkage]
# Every hotline's parties are linked across cases again this many minutes after the last run was asked
# for; 0 runs linkage only when an analyst asks. Runs are shared out between servers through the database.
interval_minutes = 1440

[help_pages]
# The pages a person seeking help opens (web chat, tip form) have a quick exit: its button and the Escape
# key replace the page, in place in the browser's history, with this neutral site.
neutral_url = "https://www.weather.gov/"

[chat]
# The slug of the hotline whose queue the public chat page (/chat) joins.
hotline = "demo"
# How many chats one advocate or supervisor may have open at once in the chat console.
advocate_limit = 3
# When a help-seeker's page loses its connection, the chat waits this many seconds for it to come back
# (the advocate sees it go and return), then ends.
reconnect_seconds = 600
# Chats started from one client address per hour; more are refused. Addresses are counted as a keyed hash,
# as for tips (behind a proxy, see tips.client_ip_header).
max_starts_per_hour = 20
[statistics]
# The public statistics pages (/statistics, no sign-in): the slug of the hotline they publish, per state
# and year, every table through the release gate. Empty: no public statistics.
hotline = ""
# Counts below this are shown as "fewer than N", and others withheld so that none can be worked out.
threshold = 3

[sms]
# log: record what would be sent and send nothing (demo, tests). twilio: send through Twilio's REST API.
provider = "log"
# Twilio's account identifier (AC...) and auth token. The token also checks the X-Twilio-Signature of every
# webhook: without it every webhook is refused. Prefer LANTERN_SMS_AUTH_TOKEN to writing it here.
account_sid = ""
auth_token = ""
# Twilio's REST API: an http:// TLS-originating egress proxy, or https://api.twilio.com in a build with the
# twilio-https feature.
api_base_url = "https://api.twilio.com"
# The exact URL Twilio posts inbound texts to, when it is not {public_url}/webhooks/sms/twilio.
# Delivery status callbacks go to {public_url}/webhooks/sms/twilio/status.
webhook_url = ""
# How to reach a person, in the required reply to HELP.
reach_a_person = "Reply here to reach an advocate, 24/7"
# The numbers Twilio delivers to this installation, each with the slug of its hotline:
# numbers = [{ number = "+18885550100", hotline = "main" }]
numbers = []

[tips]
# The anonymous tip form at /tip (and /tip?lang=es). The slug of the hotline tips go to; empty: the only
# hotline of the installation.
hotline = ""
# Tips accepted from one client address per hour; more are refused with a page saying when to try again.
# Addresses are counted as a keyed hash in the database and never stored or logged.
max_per_hour = 10
# Behind a proxy, the header holding the client's address (x-forwarded-for: its last entry). Empty: the
# address of the connection.
client_ip_header = ""

[voice]
# Point a Twilio number's "A call comes in" webhook at {public_url}/webhooks/voice/twilio (POST) and its
# status callback at {public_url}/webhooks/voice/twilio/status; signatures are checked with sms.auth_token.
# The exact URLs, when they differ from those:
webhook_url = ""
status_url = ""
# The Twilio queue callers wait in until an advocate takes the call.
queue = "hotline"
# The voice numbers, each with its hotline and the language callers are greeted in (en or es):
# numbers = [{ number = "+18885550100", hotline = "main", language = "en" }]
numbers = []
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_file_parses_to_the_defaults() {
        let parsed: Settings = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn environment_overrides_the_file_and_unknown_variables_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "bind = \"127.0.0.1:9000\"\n[session]\nidle_minutes = 10\n",
        )
        .unwrap();
        let env = [
            ("LANTERN_SESSION_IDLE_MINUTES".to_string(), "5".to_string()),
            ("PATH".into(), "/bin".into()),
        ];
        let s = Settings::load(Some(&p), env).unwrap();
        assert_eq!((s.bind.port(), s.session.idle_minutes), (9000, 5));
        let err =
            Settings::load(None, [("LANTERN_BINDD".to_string(), "x".to_string())]).unwrap_err();
        assert!(err.to_string().contains("LANTERN_BINDD"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_the_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[session]\nidle_minute = 10\n").unwrap();
        let err = Settings::load(Some(&p), []).unwrap_err().to_string();
        assert!(err.contains("idle_minute"), "{err}");
    }
}
