//! Intake: turning what a client sends about a contact, a case or a party into checked store records.
//! Shared by the JSON API and the advocate's pages, so both accept and refuse exactly the same input.

use crate::error::{AppError, FieldError};
use lantern_domain::case::{self as dcase, CaseDetails};
use lantern_domain::codes::{
    AgeBand, CaseForm, CaseStatus, Category, Channel, Gender, IdentifierKind, LocationPrecision,
    PartyRole, SafeToTalk, SignalerType,
};
use lantern_domain::identity;
use lantern_domain::screening::{self, Answers, RULES_VERSION};
use lantern_store::{Keyring, NewCase, NewContact, NewDetermination, NewIdentifier, NewParty};
use serde::{Deserialize, Serialize};

/// Where a contact happened.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// USPS state code.
    #[serde(default)]
    pub state: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// ZIP code.
    #[serde(default)]
    pub zip: Option<String>,
    /// How precise it is; inferred from what is given when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub precision: Option<LocationPrecision>,
}

/// Whether and how the hotline may reach back.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafeContact {
    /// Whether the hotline may contact the person at all.
    pub allowed: bool,
    /// A safe number.
    #[serde(default)]
    pub number: Option<String>,
    /// When it is safe ("weekdays after 6pm").
    #[serde(default)]
    pub windows: Option<String>,
    /// Whether a voicemail may be left.
    #[serde(default)]
    pub voicemail: Option<bool>,
    /// Whether a text may be sent.
    #[serde(default)]
    pub text: Option<bool>,
    /// A code word to confirm it is them.
    #[serde(default)]
    pub code_word: Option<String>,
}

/// One identifier of a party.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierInput {
    /// Kind.
    #[schema(value_type = String)]
    pub kind: IdentifierKind,
    /// Value as given.
    pub value: String,
}

/// A party as a client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    /// Role.
    #[schema(value_type = String)]
    pub role: PartyRole,
    /// Gender.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub gender: Option<Gender>,
    /// Age in years.
    #[serde(default)]
    pub age: Option<u32>,
    /// CTDC age band, when the age is not known exactly.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub age_band: Option<AgeBand>,
    /// Nationality, ISO 3166 alpha-2.
    #[serde(default)]
    pub nationality: Option<String>,
    /// Description.
    #[serde(default)]
    pub details: Option<String>,
    /// Names, aliases, phones, emails, addresses, handles, business names.
    #[serde(default)]
    pub identifiers: Vec<IdentifierInput>,
}

/// A contact as a client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// Channel.
    #[schema(value_type = String)]
    pub channel: Channel,
    /// Who reached out.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub signaler_type: Option<SignalerType>,
    /// Kind of contact.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub category: Option<Category>,
    /// ISO 639 language.
    #[serde(default)]
    pub language: Option<String>,
    /// Where.
    #[serde(default)]
    pub location: Option<LocationInput>,
    /// Whether it is safe to talk.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub safe_to_talk: Option<SafeToTalk>,
    /// How to reach back.
    #[serde(default)]
    pub safe_contact: Option<SafeContact>,
    /// Interpreter language used, if any.
    #[serde(default)]
    pub interpreter_language: Option<String>,
    /// What was said.
    #[serde(default)]
    pub narrative: Option<String>,
    /// When, RFC 3339; now when absent.
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// Screening answers; the determination is made and saved with the contact.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub screening: Option<Answers>,
    /// An existing case to attach it to.
    #[serde(default)]
    pub case_id: Option<String>,
    /// Open a new case for it.
    #[serde(default)]
    pub open_case: bool,
    /// People and businesses to add to its case.
    #[serde(default)]
    pub parties: Vec<PartyInput>,
}

/// Collects every problem before answering, so the client fixes them in one go.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    /// Records a problem.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Checks a text's length.
    pub fn text(&mut self, field: &str, v: Option<&str>, max: usize) -> Option<String> {
        let v = v.map(str::trim).filter(|s| !s.is_empty())?;
        if v.chars().count() > max {
            self.add(field, format!("at most {max} characters"));
            return None;
        }
        Some(v.to_owned())
    }

    /// The 422, if any problem was found.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid_fields(self.0))
        }
    }
}

/// Now, Unix microseconds.
fn now_us() -> i64 {
    crate::accounts::now_us()
}

/// Parses an RFC 3339 time into Unix microseconds.
pub fn parse_time(field: &str, s: &str, p: &mut Problems) -> Option<i64> {
    match time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339) {
        Ok(t) => Some((t.unix_timestamp_nanos() / 1000) as i64),
        Err(_) => {
            p.add(field, "expected a time such as 2026-11-22T14:05:00Z");
            None
        }
    }
}

/// The screening's determination, ready to save.
pub fn determination(answers: &Answers) -> (screening::Determination, NewDetermination) {
    let d = screening::assess(answers);
    let codes = |v: &[lantern_domain::codes::TraffickingForm]| {
        v.iter().map(|f| f.code().to_owned()).collect()
    };
    let new = NewDetermination {
        answers_json: serde_json::to_string(answers).expect("answers serialise"),
        outcome: d.outcome.code().to_owned(),
        forms: codes(&d.forms),
        minor_rule_applied: d.minor_rule_applied,
        missing: d.missing.clone(),
        reasons: d.reasons.clone(),
        rules_version: RULES_VERSION.to_owned(),
        needs_review: d.outcome.needs_review(),
    };
    (d, new)
}

/// Checks a party, with the state used to key its names for exact matching.
pub fn party(field: &str, input: &PartyInput, state: Option<&str>, p: &mut Problems) -> NewParty {
    if input.age.is_some_and(|a| a > 130) {
        p.add(format!("{field}.age"), "must be an age in years, 0 to 130");
    }
    let nationality = input
        .nationality
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|n| {
            let up = n.to_uppercase();
            if up.len() == 2 && up.chars().all(|c| c.is_ascii_uppercase()) {
                Some(up)
            } else {
                p.add(
                    format!("{field}.nationality"),
                    "expected an ISO 3166 alpha-2 country code such as MX",
                );
                None
            }
        });
    let mut identifiers = Vec::new();
    for (i, id) in input.identifiers.iter().enumerate() {
        let f = format!("{field}.identifiers[{i}].value");
        let Some(value) = p.text(&f, Some(&id.value), 500) else {
            p.add(f, "must not be empty");
            continue;
        };
        match id.kind {
            IdentifierKind::Phone => {
                if let Err(m) = identity::phone_e164(&value) {
                    p.add(&f, m);
                }
            }
            IdentifierKind::Email => {
                if let Err(m) = identity::email(&value) {
                    p.add(&f, m);
                }
            }
            _ => {}
        }
        identifiers.push(NewIdentifier {
            kind: identity::lookup_kind(id.kind).to_owned(),
            lookup: identity::lookup_key(id.kind, &value, state),
            value,
        });
    }
    NewParty {
        case_id: String::new(),
        role: input.role.code().to_owned(),
        gender: input.gender.map(|g| g.code().to_owned()),
        age: input.age.map(i64::from),
        age_band: input
            .age_band
            .or(input.age.map(AgeBand::of))
            .map(|b| b.code().to_owned()),
        nationality,
        details: p.text(&format!("{field}.details"), input.details.as_deref(), 5000),
        identifiers,
    }
}

/// Checks a contact and turns it into the store's record; the determination (if screened) comes back too.
pub fn contact(
    hotline_id: &str,
    user_id: &str,
    input: &ContactInput,
) -> Result<(NewContact, Option<screening::Determination>), AppError> {
    let mut p = Problems::default();
    let loc = input.location.clone().unwrap_or_default();
    let state = loc
        .state
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| {
            dcase::us_state(s)
                .map_err(|m| p.add("location.state", m))
                .ok()
        });
    let zip = loc
        .zip
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|z| {
            dcase::zip_code(z)
                .map_err(|m| p.add("location.zip", m))
                .ok()
        });
    let city = p.text("location.city", loc.city.as_deref(), 200);
    let precision = loc.precision.unwrap_or(if zip.is_some() {
        LocationPrecision::Zip
    } else if city.is_some() {
        LocationPrecision::City
    } else if state.is_some() {
        LocationPrecision::State
    } else {
        LocationPrecision::Unknown
    });
    let language = input
        .language
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|l| dcase::language(l).map_err(|m| p.add("language", m)).ok());
    let interpreter = input
        .interpreter_language
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|l| {
            dcase::language(l)
                .map_err(|m| p.add("interpreter_language", m))
                .ok()
        });
    if let Some(sc) = &input.safe_contact
        && let Some(n) = &sc.number
        && !n.trim().is_empty()
        && let Err(m) = identity::phone_e164(n)
    {
        p.add("safe_contact.number", m);
    }
    let narrative = p.text("narrative", input.narrative.as_deref(), 100_000);
    let occurred = input
        .occurred_at
        .as_deref()
        .and_then(|t| parse_time("occurred_at", t, &mut p))
        .unwrap_or_else(now_us);
    if input.case_id.is_some() && input.open_case {
        p.add(
            "open_case",
            "give either case_id (an existing case) or open_case, not both",
        );
    }
    if !input.parties.is_empty() && input.case_id.is_none() && !input.open_case {
        p.add(
            "parties",
            "parties belong to a case: give case_id or open_case",
        );
    }
    let mut screened = None;
    let mut new_det = None;
    if let Some(a) = &input.screening {
        match screening::validate(a) {
            Ok(()) => {
                let (d, nd) = determination(a);
                screened = Some(d);
                new_det = Some(nd);
            }
            Err(e) => p.add(format!("screening.{}", e.field), e.message),
        }
    }
    let parties: Vec<NewParty> = input
        .parties
        .iter()
        .enumerate()
        .map(|(i, pi)| party(&format!("parties[{i}]"), pi, state.as_deref(), &mut p))
        .collect();
    p.into_result()?;
    let open_case = input.open_case.then(|| NewCase {
        hotline_id: hotline_id.to_owned(),
        status: CaseStatus::Open.code().to_owned(),
        form: screened
            .as_ref()
            .map_or(CaseForm::NotSpecified, |d| CaseForm::from_forms(&d.forms))
            .code()
            .to_owned(),
        state: state.clone(),
        details_json: serde_json::to_string(&CaseDetails {
            locations: state
                .iter()
                .map(|s| dcase::CaseLocation {
                    state: s.clone(),
                    zip: zip.clone(),
                    ..Default::default()
                })
                .collect(),
            means: input
                .screening
                .as_ref()
                .map(|a| a.means.clone())
                .unwrap_or_default(),
            ..Default::default()
        })
        .expect("details serialise"),
        safety_plan: None,
        assignee_id: Some(user_id.to_owned()),
        opened_at_us: None,
    });
    Ok((
        NewContact {
            hotline_id: hotline_id.to_owned(),
            case_id: input.case_id.clone(),
            channel: input.channel.code().to_owned(),
            signaler_type: input.signaler_type.map(|s| s.code().to_owned()),
            category: input.category.map(|c| c.code().to_owned()),
            language,
            state,
            zip,
            city,
            location_precision: precision.code().to_owned(),
            safe_to_talk: input.safe_to_talk.map(|s| s.code().to_owned()),
            safe_contact: input
                .safe_contact
                .as_ref()
                .map(|s| serde_json::to_string(s).expect("serialises")),
            interpreter,
            narrative,
            occurred_at_us: occurred,
            created_by: Some(user_id.to_owned()),
            determination: new_det,
            open_case,
            parties,
        },
        screened,
    ))
}

/// The blind-index keys of identifiers, for "possible existing cases".
pub fn match_keys(
    keys: &Keyring,
    identifiers: &[IdentifierInput],
    state: Option<&str>,
) -> Vec<(String, Vec<u8>)> {
    identifiers
        .iter()
        .filter_map(|i| {
            let kind = identity::lookup_kind(i.kind);
            identity::lookup_key(i.kind, &i.value, state)
                .map(|l| (kind.to_owned(), keys.blind_index(kind, &l)))
        })
        .collect()
}
