//! Referrals and consent (DOMAIN.md §4): nothing about a person leaves the hotline without that person's
//! consent — or a third party's, for what they told us themselves — except suspected abuse of a minor and
//! imminent danger, which a supervisor must confirm with a reason before anything is sent.
//!
//! [`plan`] checks a referral request and says in which status it starts; [`may_move`] is the lifecycle:
//! who may move a referral from one status to another.

use crate::codes::{ReferralKind, ReferralStatus, ReportBasis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A part of what the hotline knows that consent may allow to be shared with the receiving organisation.
/// These are Lantern's own codes (DOMAIN.md names none); the receiving partner sees only these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharedPart {
    /// A first name or the name the person gave.
    Name,
    /// A phone number to reach them safely.
    Phone,
    /// An email address.
    Email,
    /// Their language.
    Language,
    /// Their age.
    Age,
    /// Where they are (city, area).
    Location,
    /// What they need.
    Needs,
    /// A short summary of the situation.
    Summary,
}

impl SharedPart {
    /// Every part, in the order forms show them.
    pub const ALL: [SharedPart; 8] = [
        SharedPart::Name,
        SharedPart::Phone,
        SharedPart::Email,
        SharedPart::Language,
        SharedPart::Age,
        SharedPart::Location,
        SharedPart::Needs,
        SharedPart::Summary,
    ];

    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            SharedPart::Name => "name",
            SharedPart::Phone => "phone",
            SharedPart::Email => "email",
            SharedPart::Language => "language",
            SharedPart::Age => "age",
            SharedPart::Location => "location",
            SharedPart::Needs => "needs",
            SharedPart::Summary => "summary",
        }
    }

    /// An English label.
    pub fn label(self) -> &'static str {
        match self {
            SharedPart::Name => "Name",
            SharedPart::Phone => "Safe phone number",
            SharedPart::Email => "Email",
            SharedPart::Language => "Language",
            SharedPart::Age => "Age",
            SharedPart::Location => "Where they are",
            SharedPart::Needs => "What they need",
            SharedPart::Summary => "Summary of the situation",
        }
    }

    /// Parses a code, or says which codes are allowed.
    pub fn parse(s: &str) -> Result<SharedPart, String> {
        SharedPart::ALL
            .into_iter()
            .find(|p| p.code() == s)
            .ok_or_else(|| {
                format!(
                    "unknown part `{s}`; allowed: {}",
                    SharedPart::ALL.map(SharedPart::code).join(", ")
                )
            })
    }
}

/// How consent was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMethod {
    /// Said on a call.
    Verbal,
    /// In writing (a signed form).
    Written,
    /// Typed in a text or chat conversation.
    Text,
}

impl ConsentMethod {
    /// Every method.
    pub const ALL: [ConsentMethod; 3] = [
        ConsentMethod::Verbal,
        ConsentMethod::Written,
        ConsentMethod::Text,
    ];

    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            ConsentMethod::Verbal => "verbal",
            ConsentMethod::Written => "written",
            ConsentMethod::Text => "text",
        }
    }

    /// Parses a code, or says which codes are allowed.
    pub fn parse(s: &str) -> Result<ConsentMethod, String> {
        ConsentMethod::ALL
            .into_iter()
            .find(|p| p.code() == s)
            .ok_or_else(|| format!("unknown method `{s}`; allowed: verbal, written, text"))
    }
}

/// A referral as the advocate asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// What kind.
    pub kind: Option<ReferralKind>,
    /// On what basis it may leave.
    pub basis: Option<ReportBasis>,
    /// Who consented (for `consent` and `third_party_tip`).
    pub consent_by: Option<String>,
    /// How consent was given.
    pub consent_method: Option<ConsentMethod>,
    /// For an exception: why it applies.
    pub exception_reason: Option<String>,
    /// What may be shared, with the text to share for each part.
    pub shared: BTreeMap<SharedPart, String>,
}

/// What a valid request becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `sent` with consent; `proposed` until a supervisor confirms an exception.
    pub status: ReferralStatus,
    /// Whether a supervisor must confirm it before it is sent.
    pub needs_supervisor: bool,
}

/// The longest text shared for one part.
pub const MAX_SHARED_CHARS: usize = 4000;

/// Checks a request; every problem is named by its field.
pub fn plan(req: &Request) -> Result<Plan, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|t| t.trim().is_empty());
    if req.kind.is_none() {
        errors.push((
            "kind".into(),
            "choose service, law_enforcement or warm_transfer".into(),
        ));
    }
    match req.basis {
        None => errors.push((
            "basis".into(),
            "choose consent, third_party_tip, mandatory_minor or imminent_danger".into(),
        )),
        Some(b) if b.needs_supervisor() => {
            if blank(&req.exception_reason) {
                errors.push((
                    "exception_reason".into(),
                    "say why the exception applies; a supervisor confirms it before anything is sent"
                        .into(),
                ));
            }
        }
        Some(_) => {
            if blank(&req.consent_by) {
                errors.push((
                    "consent_by".into(),
                    "say who gave consent (for example: the caller, herself)".into(),
                ));
            }
            if req.consent_method.is_none() {
                errors.push((
                    "consent_method".into(),
                    "say how consent was given: verbal, written or text".into(),
                ));
            }
        }
    }
    for (part, text) in &req.shared {
        if text.trim().is_empty() {
            errors.push((
                format!("shared.{}", part.code()),
                "empty: leave the part unchecked instead".into(),
            ));
        } else if text.chars().count() > MAX_SHARED_CHARS {
            errors.push((
                format!("shared.{}", part.code()),
                format!("longer than {MAX_SHARED_CHARS} characters"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let needs_supervisor = req.basis.is_some_and(ReportBasis::needs_supervisor);
    Ok(Plan {
        status: if needs_supervisor {
            ReferralStatus::Proposed
        } else {
            ReferralStatus::Sent
        },
        needs_supervisor,
    })
}

/// Who is moving a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// The hotline's advocate.
    Advocate,
    /// A supervisor.
    Supervisor,
    /// A user of the receiving partner organisation.
    Partner,
}

/// Whether `who` may move a referral from `from` to `to`. The receiving organisation answers (accepted,
/// declined) and reports completion; when it has no account here, hotline staff record its answer. Only a
/// supervisor sends a proposed referral (confirming its exception); staff may withdraw it at any point
/// before it ends.
pub fn may_move(
    from: ReferralStatus,
    to: ReferralStatus,
    who: Mover,
    partner_has_account: bool,
) -> Result<(), String> {
    use ReferralStatus::*;
    if !from.can_transition_to(to) {
        return Err(format!(
            "a referral that is `{}` cannot become `{}`",
            from.code(),
            to.code()
        ));
    }
    let staff = matches!(who, Mover::Advocate | Mover::Supervisor);
    let ok = match (from, to) {
        (Proposed, Sent) => who == Mover::Supervisor,
        (_, Withdrawn) => staff,
        (Sent, Accepted | Declined) | (Accepted, Completed) => {
            who == Mover::Partner || (staff && !partner_has_account)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(match (from, to, who) {
            (Proposed, Sent, _) => {
                "only a supervisor sends a referral made under an exception".into()
            }
            (_, _, Mover::Partner) => {
                "a partner answers a referral; the hotline withdraws it".into()
            }
            _ => "the receiving organisation reports this itself in its inbox".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReferralStatus::*;

    fn consent() -> Request {
        Request {
            kind: Some(ReferralKind::Service),
            basis: Some(ReportBasis::Consent),
            consent_by: Some("the caller, herself".into()),
            consent_method: Some(ConsentMethod::Verbal),
            shared: [(SharedPart::Needs, "T-visa advice".into())].into(),
            ..Default::default()
        }
    }

    #[test]
    fn consent_sends_at_once_and_an_exception_waits_for_a_supervisor() {
        assert_eq!(plan(&consent()).unwrap().status, Sent);
        let mut r = consent();
        r.basis = Some(ReportBasis::ImminentDanger);
        r.consent_by = None;
        r.consent_method = None;
        r.exception_reason = Some("threatened with a weapon tonight".into());
        let p = plan(&r).unwrap();
        assert_eq!(p.status, Proposed);
        assert!(p.needs_supervisor);
        r.basis = Some(ReportBasis::MandatoryMinor);
        assert_eq!(plan(&r).unwrap().status, Proposed);
        r.basis = Some(ReportBasis::ThirdPartyTip);
        let fields: Vec<String> = plan(&r).unwrap_err().into_iter().map(|e| e.0).collect();
        assert_eq!(fields, ["consent_by", "consent_method"]);
    }

    #[test]
    fn every_missing_piece_is_named() {
        let errs = plan(&Request::default()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(fields, ["kind", "basis"]);
        let mut r = consent();
        r.basis = Some(ReportBasis::MandatoryMinor);
        r.shared.insert(SharedPart::Summary, "  ".into());
        let fields: Vec<String> = plan(&r).unwrap_err().into_iter().map(|e| e.0).collect();
        assert_eq!(fields, ["exception_reason", "shared.summary"]);
    }

    #[test]
    fn only_a_supervisor_sends_a_proposed_referral() {
        assert!(may_move(Proposed, Sent, Mover::Supervisor, true).is_ok());
        assert!(may_move(Proposed, Sent, Mover::Advocate, true).is_err());
        assert!(may_move(Proposed, Sent, Mover::Partner, true).is_err());
        assert!(may_move(Proposed, Accepted, Mover::Partner, true).is_err());
    }

    #[test]
    fn the_partner_answers_and_staff_answer_only_for_a_partner_without_an_account() {
        assert!(may_move(Sent, Accepted, Mover::Partner, true).is_ok());
        assert!(may_move(Sent, Declined, Mover::Partner, true).is_ok());
        assert!(may_move(Accepted, Completed, Mover::Partner, true).is_ok());
        assert!(may_move(Sent, Accepted, Mover::Advocate, true).is_err());
        assert!(may_move(Sent, Accepted, Mover::Advocate, false).is_ok());
        assert!(may_move(Sent, Withdrawn, Mover::Partner, true).is_err());
        assert!(may_move(Accepted, Withdrawn, Mover::Advocate, true).is_ok());
        for end in [Declined, Completed, Withdrawn] {
            for to in ReferralStatus::ALL {
                assert!(may_move(end, *to, Mover::Supervisor, false).is_err());
            }
        }
    }

    #[test]
    fn shared_parts_parse_exactly() {
        for p in SharedPart::ALL {
            assert_eq!(SharedPart::parse(p.code()), Ok(p));
        }
        assert!(
            SharedPart::parse("narrative")
                .unwrap_err()
                .contains("allowed: name")
        );
    }
}
