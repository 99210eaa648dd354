//! Permissions: the one place that decides role × action × record. Deny by default: an action not
//! granted below is refused, and every route names the action it performs (see `routes`).

use lantern_domain::account::Role;
use lantern_store::User;

/// Everything a signed-in user can ask to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the home page and one's own account.
    ViewHome,
    /// Record a contact (a call, a text, a chat, a tip).
    ContactWrite,
    /// Read contacts and cases, with their personal data.
    CaseRead,
    /// Open, update and close cases; add parties, tasks and notes.
    CaseWrite,
    /// Run the screening rules on answers.
    ScreeningAssess,
    /// Review potential-trafficking determinations; confirm consent exceptions.
    Review,
    /// Search the referral directory (partners see only what partners may see).
    DirectoryRead,
    /// Add, edit and vet directory entries; import and export.
    DirectoryWrite,
    /// Propose and send referrals from a case.
    ReferralWrite,
    /// A partner's inbox of referrals addressed to its organisation, and reporting outcomes.
    PartnerInbox,
    /// Dashboards, maps and statistics (aggregates only).
    InsightsRead,
    /// Run linkage and open the network view.
    LinkageRun,
    /// Open the network view (identifiers are shown only to roles with `CaseRead`).
    LinkageRead,
    /// Work the SMS and chat consoles.
    ChannelConsole,
    /// Manage users, partner organisations and API tokens.
    ManageUsers,
    /// Read the audit log.
    AuditRead,
}

impl Action {
    /// Every action, for exhaustive tests.
    pub const ALL: [Action; 16] = [
        Action::ViewHome,
        Action::ContactWrite,
        Action::CaseRead,
        Action::CaseWrite,
        Action::ScreeningAssess,
        Action::Review,
        Action::DirectoryRead,
        Action::DirectoryWrite,
        Action::ReferralWrite,
        Action::PartnerInbox,
        Action::InsightsRead,
        Action::LinkageRun,
        Action::LinkageRead,
        Action::ChannelConsole,
        Action::ManageUsers,
        Action::AuditRead,
    ];
}

/// Whether a role may perform an action at all (before looking at the record).
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        ViewHome => true,
        ContactWrite | CaseRead | CaseWrite | ReferralWrite | ChannelConsole => {
            matches!(role, Advocate | Supervisor)
        }
        ScreeningAssess => matches!(role, Advocate | Supervisor | Analyst),
        Review => role == Supervisor,
        DirectoryRead => matches!(
            role,
            Advocate | Supervisor | DirectoryManager | Analyst | Partner
        ),
        DirectoryWrite => role == DirectoryManager,
        PartnerInbox => role == Partner,
        InsightsRead => matches!(role, Supervisor | Analyst),
        LinkageRun => role == Analyst,
        LinkageRead => matches!(role, Advocate | Supervisor | Analyst),
        ManageUsers | AuditRead => role == Admin,
    }
}

/// The record an action touches, as far as permissions care.
#[derive(Debug, Clone, Copy)]
pub struct RecordScope<'a> {
    /// The record's hotline.
    pub hotline_id: &'a str,
    /// For referrals: the partner organisation addressed.
    pub partner_org_id: Option<&'a str>,
}

/// Whether `user` may perform `action` on a record: the role must allow it, the record must be of the
/// user's own hotline, and a partner may touch only what is addressed to its organisation.
pub fn authorize(user: &User, action: Action, record: RecordScope<'_>) -> bool {
    if !allows(user.role, action) || record.hotline_id != user.hotline_id {
        return false;
    }
    match user.role {
        Role::Partner => {
            record.partner_org_id.is_some()
                && record.partner_org_id == user.partner_org_id.as_deref()
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, org: Option<&str>) -> User {
        User {
            id: "u".into(),
            hotline_id: "h1".into(),
            username: "u".into(),
            role,
            partner_org_id: org.map(str::to_owned),
            full_name: String::new(),
            phone: None,
            disabled: false,
            locked_until_us: None,
            failed_logins: 0,
            created_at_us: 0,
        }
    }

    #[test]
    fn no_role_reaches_a_record_of_another_hotline() {
        for role in Role::ALL {
            let u = user(role, Some("org"));
            for a in Action::ALL {
                assert!(!authorize(
                    &u,
                    a,
                    RecordScope {
                        hotline_id: "h2",
                        partner_org_id: Some("org")
                    }
                ));
            }
        }
    }

    #[test]
    fn a_partner_sees_only_what_is_addressed_to_its_organisation() {
        let p = user(Role::Partner, Some("org1"));
        let scope = |org| RecordScope {
            hotline_id: "h1",
            partner_org_id: org,
        };
        assert!(authorize(&p, Action::PartnerInbox, scope(Some("org1"))));
        assert!(!authorize(&p, Action::PartnerInbox, scope(Some("org2"))));
        assert!(!authorize(&p, Action::PartnerInbox, scope(None)));
        assert!(!authorize(&p, Action::CaseRead, scope(Some("org1"))));
    }

    #[test]
    fn the_grant_table_is_exactly_as_designed() {
        use Action::*;
        // Written out independently of `allows`: who may do what (DESIGN.md, "Who uses it").
        let expected: &[(Action, &[Role])] = &[
            (ViewHome, &Role::ALL),
            (ContactWrite, &[Role::Advocate, Role::Supervisor]),
            (CaseRead, &[Role::Advocate, Role::Supervisor]),
            (CaseWrite, &[Role::Advocate, Role::Supervisor]),
            (
                ScreeningAssess,
                &[Role::Advocate, Role::Supervisor, Role::Analyst],
            ),
            (Review, &[Role::Supervisor]),
            (
                DirectoryRead,
                &[
                    Role::Advocate,
                    Role::Supervisor,
                    Role::DirectoryManager,
                    Role::Analyst,
                    Role::Partner,
                ],
            ),
            (DirectoryWrite, &[Role::DirectoryManager]),
            (ReferralWrite, &[Role::Advocate, Role::Supervisor]),
            (PartnerInbox, &[Role::Partner]),
            (InsightsRead, &[Role::Supervisor, Role::Analyst]),
            (LinkageRun, &[Role::Analyst]),
            (
                LinkageRead,
                &[Role::Advocate, Role::Supervisor, Role::Analyst],
            ),
            (ChannelConsole, &[Role::Advocate, Role::Supervisor]),
            (ManageUsers, &[Role::Admin]),
            (AuditRead, &[Role::Admin]),
        ];
        assert_eq!(expected.len(), Action::ALL.len());
        for (action, roles) in expected {
            for role in Role::ALL {
                assert_eq!(
                    allows(role, *action),
                    roles.contains(&role),
                    "{role} × {action:?}"
                );
            }
        }
    }
}
