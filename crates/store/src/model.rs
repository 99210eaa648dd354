//! The records the store reads and writes.

use lantern_domain::account::{Role, Username};
use serde::Serialize;

/// A hotline: the tenant every record belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hotline {
    /// Its id.
    pub id: String,
    /// A short, URL-safe name (`demo`, `national`).
    pub slug: String,
    /// The name staff and help-seekers see.
    pub name: String,
    /// When it was created, Unix microseconds.
    pub created_at_us: i64,
}

/// What is needed to create a hotline.
#[derive(Debug, Clone)]
pub struct NewHotline {
    /// Short, URL-safe name.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// A partner organisation (a service provider or law-enforcement agency) whose users see only the
/// referrals addressed to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerOrg {
    /// Its id.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
    /// Its name.
    pub name: String,
    /// The directory organisation it is, when linked: referrals to that organisation's services reach
    /// its users' inbox.
    pub directory_organization_id: Option<String>,
}

/// A staff or partner user, with personal fields decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Its id.
    pub id: String,
    /// Its hotline.
    pub hotline_id: String,
    /// Login name, unique across the installation.
    pub username: String,
    /// Its one role.
    pub role: Role,
    /// For partners, their organisation.
    pub partner_org_id: Option<String>,
    /// Full name (encrypted at rest).
    pub full_name: String,
    /// Phone for on-call alerts, E.164 (encrypted at rest, blind-indexed).
    pub phone: Option<String>,
    /// A disabled user can neither log in nor use tokens.
    pub disabled: bool,
    /// Until when the account is locked after repeated failed logins, Unix microseconds.
    pub locked_until_us: Option<i64>,
    /// Failed logins in a row.
    pub failed_logins: i64,
    /// When it was created, Unix microseconds.
    pub created_at_us: i64,
}

impl User {
    /// Whether the account may authenticate at `now_us`.
    pub fn can_authenticate(&self, now_us: i64) -> bool {
        !self.disabled && self.locked_until_us.is_none_or(|t| t <= now_us)
    }
}

/// What is needed to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The hotline.
    pub hotline_id: String,
    /// Login name.
    pub username: Username,
    /// Role.
    pub role: Role,
    /// Required for partners, refused for everyone else.
    pub partner_org_id: Option<String>,
    /// Full name.
    pub full_name: String,
    /// Phone, already normalised to E.164.
    pub phone: Option<String>,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
}

/// A change to a user.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// Disable (true) or enable (false).
    pub disabled: Option<bool>,
    /// Clear a lockout and the failure count.
    pub unlock: bool,
    /// New role.
    pub role: Option<Role>,
    /// New password hash.
    pub password_hash: Option<String>,
}

/// A server-side session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user_id: String,
    /// The synchronizer token every form post must carry.
    pub csrf_token: String,
    /// When it was opened, Unix microseconds.
    pub created_at_us: i64,
    /// Last request, Unix microseconds.
    pub last_seen_us: i64,
    /// Absolute end, Unix microseconds.
    pub expires_at_us: i64,
}

/// What is needed to open a session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the cookie's secret.
    pub token_hash: Vec<u8>,
    /// The user.
    pub user_id: String,
    /// The CSRF synchronizer token.
    pub csrf_token: String,
    /// Absolute end, Unix microseconds.
    pub expires_at_us: i64,
}

/// An API bearer token (its secret is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Its id.
    pub id: String,
    /// The user it acts as.
    pub user_id: String,
    /// A label (`sms-bridge`).
    pub name: String,
    /// The first characters of the secret, to recognise it in lists.
    pub prefix: String,
    /// Created, Unix microseconds.
    pub created_at_us: i64,
    /// Last used, Unix microseconds.
    pub last_used_us: Option<i64>,
    /// Revoked, Unix microseconds.
    pub revoked_at_us: Option<i64>,
}

/// What is needed to create a token.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The user it acts as.
    pub user_id: String,
    /// Its hotline (checked against the user's).
    pub hotline_id: String,
    /// Label.
    pub name: String,
    /// Display prefix.
    pub prefix: String,
    /// SHA-256 of the secret.
    pub token_hash: Vec<u8>,
}
