//! Accounts: the roles staff and partners hold, and the rules for names and passwords.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The one role a user holds. Decides what the user may do (see the server's policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Answers contacts, screens, opens and updates cases, refers, plans safety.
    Advocate,
    /// Alerted to every potential case; confirms determinations and consent exceptions.
    Supervisor,
    /// Statistics, maps, linkage, exports; no personal data unless granted per case.
    Analyst,
    /// Vets and maintains the referral directory; no case data.
    DirectoryManager,
    /// Users, roles, keys, retention; no case narratives by default.
    Admin,
    /// A service provider or law-enforcement agency: only referrals addressed to it.
    Partner,
}

impl Role {
    /// Every role, in a stable order.
    pub const ALL: [Role; 6] = [
        Role::Advocate,
        Role::Supervisor,
        Role::Analyst,
        Role::DirectoryManager,
        Role::Admin,
        Role::Partner,
    ];

    /// The role's code, as used in the API, the database and the CLI.
    pub fn code(self) -> &'static str {
        match self {
            Role::Advocate => "advocate",
            Role::Supervisor => "supervisor",
            Role::Analyst => "analyst",
            Role::DirectoryManager => "directory_manager",
            Role::Admin => "admin",
            Role::Partner => "partner",
        }
    }

    /// A human label for pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Advocate => "Advocate",
            Role::Supervisor => "Supervisor",
            Role::Analyst => "Analyst",
            Role::DirectoryManager => "Directory manager",
            Role::Admin => "Administrator",
            Role::Partner => "Partner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A role code that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role `{0}`; allowed: advocate, supervisor, analyst, directory_manager, admin, partner"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A login name: 3 to 64 characters of lowercase letters, digits, `.`, `_`, `-` and `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

/// Why a username was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Fewer than 3 or more than 64 characters.
    #[error("username must be 3 to 64 characters long")]
    Length,
    /// A character outside the allowed set.
    #[error(
        "username may contain only lowercase letters, digits, '.', '_', '-' and '@' (found {0:?})"
    )]
    Character(char),
}

impl Username {
    /// Parses a login name, folding it to lowercase first.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let s = raw.trim().to_lowercase();
        let n = s.chars().count();
        if !(3..=64).contains(&n) {
            return Err(UsernameError::Length);
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_@".contains(*c)))
        {
            return Err(UsernameError::Character(c));
        }
        Ok(Username(s))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The shortest password Lantern accepts (NIST SP 800-63B asks for at least 8; staff of a
/// hotline hold sensitive data, so 12).
pub const MIN_PASSWORD_LEN: usize = 12;

/// Checks a new password's length; returns a message fit for the user otherwise.
pub fn check_new_password(pw: &str) -> Result<(), String> {
    let n = pw.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters long"
        ));
    }
    if n > 1024 {
        return Err("password must be at most 1024 characters long".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_code_parses_back_to_itself() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.code())
            );
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn usernames_are_folded_and_checked() {
        assert_eq!(Username::parse(" Ana.Diaz ").unwrap().as_str(), "ana.diaz");
        assert_eq!(Username::parse("ab"), Err(UsernameError::Length));
        assert_eq!(
            Username::parse("ana diaz"),
            Err(UsernameError::Character(' '))
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("correct horse battery").is_ok());
    }
}
