//! The advocate's core loop as plain data: contacts, cases, parties, tasks and notes (issue 3), and the
//! inputs that create and change them.
//!
//! These are plain types: the store encrypts personal fields and blind-indexes identifiers; nothing here
//! does. Codes are DOMAIN.md's enums, values are the parsed types of [`crate::values`], so a record that
//! exists is well-formed. Inputs deserialise strictly (unknown fields refused) through
//! [`parse_input_json`], which also runs their `validate()`; every error names the field by its JSON path.

use crate::codes::{
    AgeBand, CaseForm, CaseStatus, Category, Channel, Gender, LocationPrecision, Means, PartyRole,
    RecruiterRelation, Recruitment, RiskFactor, SafeToTalk, ServiceType, SignalerType, Typology,
    UsState,
};
use crate::values::{CaseNumber, CountryCode, Email, LanguageCode, PhoneE164, ZipCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// The longest narrative, safety plan or note Lantern stores, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The longest short text (a city, a name, a task title), in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// The oldest age Lantern accepts, in years.
pub const MAX_AGE: u32 = 120;

/// A place, as precise as it is known (DOMAIN.md §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// The state.
    #[serde(default)]
    pub state: Option<UsState>,
    /// The county.
    #[serde(default)]
    pub county: Option<String>,
    /// The city.
    #[serde(default)]
    pub city: Option<String>,
    /// The ZIP code.
    #[serde(default)]
    pub zip: Option<ZipCode>,
    /// How precise it is.
    pub precision: LocationPrecision,
}

impl Default for Location {
    fn default() -> Self {
        Location {
            state: None,
            county: None,
            city: None,
            zip: None,
            precision: LocationPrecision::Unknown,
        }
    }
}

/// Whether and how the hotline may reach the person back (DOMAIN.md §2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeContact {
    /// Whether the hotline may contact them at all.
    pub allowed: bool,
    /// The number to use.
    #[serde(default)]
    pub number: Option<PhoneE164>,
    /// When it is safe, in the person's words (`weekdays 9-11am`).
    #[serde(default)]
    pub time_windows: Vec<String>,
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

/// A contact: one call, text conversation, chat, email or web form (DOMAIN.md §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Its id.
    pub id: Uuid,
    /// The case it belongs to, once attached.
    pub case_id: Option<Uuid>,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// How it came in.
    pub channel: Channel,
    /// Who reached out.
    pub signaler_type: Option<SignalerType>,
    /// What kind of contact.
    pub category: Option<Category>,
    /// The language spoken.
    pub language: Option<LanguageCode>,
    /// Where the situation is.
    pub location: Location,
    /// Whether it was safe to talk.
    pub safe_to_talk: Option<SafeToTalk>,
    /// How the hotline may reach back.
    pub safe_contact: Option<SafeContact>,
    /// The interpreter's language, when one was used.
    pub interpreter: Option<LanguageCode>,
    /// What was said.
    pub narrative: Option<String>,
}

/// A case: one trafficking situation, gathering contacts over months (DOMAIN.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Its id.
    pub id: Uuid,
    /// Its number, as people say it.
    pub number: CaseNumber,
    /// When it was opened.
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
    /// Where it stands.
    pub status: CaseStatus,
    /// Sex, labor, both or not specified.
    pub form: CaseForm,
    /// Venues and industries.
    pub typology: Vec<Typology>,
    /// Where it happens; a case may have several places.
    pub locations: Vec<Location>,
    /// Vulnerabilities of the potential victims.
    pub risk_factors: Vec<RiskFactor>,
    /// How people were recruited.
    pub recruitment: Vec<Recruitment>,
    /// Who recruited them.
    pub recruiter_relation: Option<RecruiterRelation>,
    /// Means of control reported across its contacts.
    pub means: Vec<Means>,
    /// What its potential victims need (service types, DOMAIN.md §5).
    pub needs: Vec<ServiceType>,
    /// The safety plan.
    pub safety_plan: Option<String>,
    /// The advocate responsible.
    pub assignee: Option<Uuid>,
}

/// A postal address of a party.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street and number.
    #[serde(default)]
    pub street: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State.
    #[serde(default)]
    pub state: Option<UsState>,
    /// ZIP code.
    #[serde(default)]
    pub zip: Option<ZipCode>,
}

/// An account on an online platform (`instagram`, `@ana`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineHandle {
    /// The platform or site.
    pub platform: String,
    /// The handle on it.
    pub handle: String,
}

/// What identifies a party: the values the store encrypts, and blind-indexes for exact lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identifiers {
    /// Names (for a business, its names).
    #[serde(default)]
    pub names: Vec<String>,
    /// Aliases and nicknames.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<PhoneE164>,
    /// Email addresses.
    #[serde(default)]
    pub emails: Vec<Email>,
    /// Postal addresses.
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Online handles.
    #[serde(default)]
    pub handles: Vec<OnlineHandle>,
}

impl Identifiers {
    /// Whether nothing identifies the party.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
            && self.aliases.is_empty()
            && self.phones.is_empty()
            && self.emails.is_empty()
            && self.addresses.is_empty()
            && self.handles.is_empty()
    }
}

/// A person or business in a case: potential victim, suspected trafficker, business, signaler, witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Its id.
    pub id: Uuid,
    /// Its case.
    pub case_id: Uuid,
    /// Its role.
    pub role: PartyRole,
    /// Gender.
    pub gender: Gender,
    /// Age in years, when known.
    pub age: Option<u32>,
    /// CTDC age band, when only that is known (or derived from the age).
    pub age_band: Option<AgeBand>,
    /// Nationality.
    pub nationality: Option<CountryCode>,
    /// Names, phones, emails, addresses, handles.
    pub identifiers: Identifiers,
}

impl Party {
    /// The age band, from the age when known.
    pub fn band(&self) -> Option<AgeBand> {
        self.age.map(AgeBand::of).or(self.age_band)
    }
}

/// A task or follow-up on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Its id.
    pub id: Uuid,
    /// Its case.
    pub case_id: Uuid,
    /// What to do.
    pub title: String,
    /// When it is due (`2026-12-01`).
    #[serde(default, with = "iso_date")]
    pub due: Option<Date>,
    /// Who does it.
    pub assignee: Option<Uuid>,
    /// Whether it is done.
    pub done: bool,
}

/// A note on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Its id.
    pub id: Uuid,
    /// Its case.
    pub case_id: Uuid,
    /// Who wrote it.
    pub author: Option<Uuid>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub written_at: OffsetDateTime,
    /// The text.
    pub body: String,
}

/// A problem with one field of an input, named by its JSON path (`parties[1].identifiers.phones[0]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field's JSON path; `body` for the document as a whole.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every problem found in an input (at least one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct InputErrors(pub Vec<FieldError>);

/// An input that checks what types alone cannot (lengths, ages, agreement between fields).
pub trait Validate {
    /// Every problem, each naming its field; `Ok` when there is none.
    fn validate(&self) -> Result<(), InputErrors>;
}

/// Parses an input from JSON strictly (unknown fields, unknown codes and bad values refused, naming the
/// field) and validates it. For the JSON API and the CLI alike.
pub fn parse_input_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, InputErrors> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let v: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let syntax = inner.is_syntax() || inner.is_eof();
        let msg = inner.to_string();
        let msg = msg
            .rfind(" at line ")
            .map_or(msg.clone(), |i| msg[..i].to_owned());
        let field = if path == "." || syntax {
            "body".into()
        } else {
            path
        };
        InputErrors(vec![FieldError::new(field, msg)])
    })?;
    v.validate()?;
    Ok(v)
}

/// Collects field errors while a `validate()` walks an input.
#[derive(Default)]
struct Check(Vec<FieldError>);

impl Check {
    fn text(&mut self, field: &str, v: Option<&str>, max: usize) {
        if let Some(s) = v {
            if s.trim().is_empty() {
                self.0.push(FieldError::new(
                    field,
                    "must not be blank; leave it out instead",
                ));
            } else if s.chars().count() > max {
                self.0.push(FieldError::new(
                    field,
                    format!("must be at most {max} characters"),
                ));
            }
        }
    }

    fn required(&mut self, field: &str, s: &str, max: usize) {
        if s.trim().is_empty() {
            self.0.push(FieldError::new(field, "is required"));
        } else {
            self.text(field, Some(s), max);
        }
    }

    fn location(&mut self, field: &str, l: &Location) {
        self.text(&format!("{field}.city"), l.city.as_deref(), MAX_SHORT_CHARS);
        self.text(
            &format!("{field}.county"),
            l.county.as_deref(),
            MAX_SHORT_CHARS,
        );
        let needs = match l.precision {
            LocationPrecision::Exact | LocationPrecision::Zip => Some(("zip", l.zip.is_some())),
            LocationPrecision::City => Some(("city", l.city.is_some())),
            LocationPrecision::County => Some(("county", l.county.is_some())),
            LocationPrecision::State => Some(("state", l.state.is_some())),
            LocationPrecision::Unknown => None,
        };
        if let Some((what, false)) = needs {
            self.0.push(FieldError::new(
                format!("{field}.precision"),
                format!("is `{}` but no {what} is given", l.precision.code()),
            ));
        }
    }

    fn done(self) -> Result<(), InputErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(InputErrors(self.0))
        }
    }
}

/// A contact to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    /// The case to attach it to, if known.
    #[serde(default)]
    pub case_id: Option<Uuid>,
    /// When it happened (RFC 3339); now when absent.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub occurred_at: Option<OffsetDateTime>,
    /// How it came in.
    pub channel: Channel,
    /// Who reached out.
    #[serde(default)]
    pub signaler_type: Option<SignalerType>,
    /// What kind of contact.
    #[serde(default)]
    pub category: Option<Category>,
    /// The language spoken.
    #[serde(default)]
    pub language: Option<LanguageCode>,
    /// Where the situation is.
    #[serde(default)]
    pub location: Location,
    /// Whether it is safe to talk.
    #[serde(default)]
    pub safe_to_talk: Option<SafeToTalk>,
    /// How the hotline may reach back.
    #[serde(default)]
    pub safe_contact: Option<SafeContact>,
    /// The interpreter's language, when one was used.
    #[serde(default)]
    pub interpreter: Option<LanguageCode>,
    /// What was said.
    #[serde(default)]
    pub narrative: Option<String>,
}

impl Validate for NewContact {
    fn validate(&self) -> Result<(), InputErrors> {
        let mut c = Check::default();
        c.location("location", &self.location);
        c.text("narrative", self.narrative.as_deref(), MAX_TEXT_CHARS);
        if let Some(sc) = &self.safe_contact {
            if !sc.allowed
                && (sc.number.is_some() || sc.text == Some(true) || sc.voicemail == Some(true))
            {
                c.0.push(FieldError::new(
                    "safe_contact.allowed",
                    "is false, so no number, voicemail or text may be given",
                ));
            }
            for (i, w) in sc.time_windows.iter().enumerate() {
                c.required(
                    &format!("safe_contact.time_windows[{i}]"),
                    w,
                    MAX_SHORT_CHARS,
                );
            }
            c.text(
                "safe_contact.code_word",
                sc.code_word.as_deref(),
                MAX_SHORT_CHARS,
            );
        }
        c.done()
    }
}

/// A case to open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// Its form; `not_specified` when absent.
    #[serde(default)]
    pub form: Option<CaseForm>,
    /// Venues and industries.
    #[serde(default)]
    pub typology: Vec<Typology>,
    /// Where it happens.
    #[serde(default)]
    pub locations: Vec<Location>,
    /// Vulnerabilities.
    #[serde(default)]
    pub risk_factors: Vec<RiskFactor>,
    /// How people were recruited.
    #[serde(default)]
    pub recruitment: Vec<Recruitment>,
    /// Who recruited them.
    #[serde(default)]
    pub recruiter_relation: Option<RecruiterRelation>,
    /// Means of control.
    #[serde(default)]
    pub means: Vec<Means>,
    /// The safety plan.
    #[serde(default)]
    pub safety_plan: Option<String>,
    /// The advocate responsible.
    #[serde(default)]
    pub assignee: Option<Uuid>,
}

impl Validate for NewCase {
    fn validate(&self) -> Result<(), InputErrors> {
        let mut c = Check::default();
        for (i, l) in self.locations.iter().enumerate() {
            c.location(&format!("locations[{i}]"), l);
        }
        c.text("safety_plan", self.safety_plan.as_deref(), MAX_TEXT_CHARS);
        c.done()
    }
}

/// A change to a case: absent fields stay as they are; `null` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseUpdate {
    /// The new status (checked against the current one with [`CaseUpdate::check_transition`]).
    #[serde(default)]
    pub status: Option<CaseStatus>,
    /// The new form.
    #[serde(default)]
    pub form: Option<CaseForm>,
    /// New venues and industries (replace the old).
    #[serde(default)]
    pub typology: Option<Vec<Typology>>,
    /// New places (replace the old).
    #[serde(default)]
    pub locations: Option<Vec<Location>>,
    /// New risk factors.
    #[serde(default)]
    pub risk_factors: Option<Vec<RiskFactor>>,
    /// New recruitment.
    #[serde(default)]
    pub recruitment: Option<Vec<Recruitment>>,
    /// New recruiter relation; `null` clears it.
    #[serde(default, with = "double_option")]
    pub recruiter_relation: Option<Option<RecruiterRelation>>,
    /// New means of control.
    #[serde(default)]
    pub means: Option<Vec<Means>>,
    /// New safety plan; `null` clears it.
    #[serde(default, with = "double_option")]
    pub safety_plan: Option<Option<String>>,
    /// New assignee; `null` unassigns.
    #[serde(default, with = "double_option")]
    pub assignee: Option<Option<Uuid>>,
}

impl Validate for CaseUpdate {
    fn validate(&self) -> Result<(), InputErrors> {
        let mut c = Check::default();
        for (i, l) in self.locations.iter().flatten().enumerate() {
            c.location(&format!("locations[{i}]"), l);
        }
        c.text(
            "safety_plan",
            self.safety_plan.as_ref().and_then(|p| p.as_deref()),
            MAX_TEXT_CHARS,
        );
        c.done()
    }
}

impl CaseUpdate {
    /// Checks the status change against the case's current status (DOMAIN.md §3 workflow).
    pub fn check_transition(&self, current: CaseStatus) -> Result<(), FieldError> {
        match self.status {
            Some(next) if next != current && !current.can_transition_to(next) => {
                Err(FieldError::new(
                    "status",
                    format!("a `{current}` case cannot become `{next}`"),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A party to add to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewParty {
    /// Its role.
    pub role: PartyRole,
    /// Gender; `unknown` when absent.
    #[serde(default)]
    pub gender: Option<Gender>,
    /// Age in years.
    #[serde(default)]
    pub age: Option<u32>,
    /// CTDC age band, when only that is known.
    #[serde(default)]
    pub age_band: Option<AgeBand>,
    /// Nationality.
    #[serde(default)]
    pub nationality: Option<CountryCode>,
    /// Names, phones, emails, addresses, handles.
    #[serde(default)]
    pub identifiers: Identifiers,
}

impl Validate for NewParty {
    fn validate(&self) -> Result<(), InputErrors> {
        let mut c = Check::default();
        if let Some(age) = self.age {
            if age > MAX_AGE {
                c.0.push(FieldError::new("age", format!("must be 0 to {MAX_AGE}")));
            } else if let Some(band) = self.age_band
                && AgeBand::of(age) != band
            {
                c.0.push(FieldError::new(
                    "age_band",
                    format!("`{band}` does not contain age {age}; give one or make them agree"),
                ));
            }
        }
        let ids = &self.identifiers;
        for (i, n) in ids.names.iter().enumerate() {
            c.required(&format!("identifiers.names[{i}]"), n, MAX_SHORT_CHARS);
        }
        for (i, n) in ids.aliases.iter().enumerate() {
            c.required(&format!("identifiers.aliases[{i}]"), n, MAX_SHORT_CHARS);
        }
        for (i, a) in ids.addresses.iter().enumerate() {
            let f = format!("identifiers.addresses[{i}]");
            c.text(&format!("{f}.street"), a.street.as_deref(), MAX_SHORT_CHARS);
            c.text(&format!("{f}.city"), a.city.as_deref(), MAX_SHORT_CHARS);
        }
        for (i, h) in ids.handles.iter().enumerate() {
            c.required(
                &format!("identifiers.handles[{i}].platform"),
                &h.platform,
                MAX_SHORT_CHARS,
            );
            c.required(
                &format!("identifiers.handles[{i}].handle"),
                &h.handle,
                MAX_SHORT_CHARS,
            );
        }
        c.done()
    }
}

/// A task to add to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// What to do.
    pub title: String,
    /// When it is due (`2026-12-01`).
    #[serde(default, with = "iso_date")]
    pub due: Option<Date>,
    /// Who does it.
    #[serde(default)]
    pub assignee: Option<Uuid>,
}

impl Validate for NewTask {
    fn validate(&self) -> Result<(), InputErrors> {
        let mut c = Check::default();
        c.required("title", &self.title, MAX_SHORT_CHARS);
        c.done()
    }
}

/// A change to a task: absent fields stay; `null` clears the due date or the assignee.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdate {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New due date; `null` clears it.
    #[serde(default, with = "iso_date::double")]
    pub due: Option<Option<Date>>,
    /// New assignee; `null` unassigns.
    #[serde(default, with = "double_option")]
    pub assignee: Option<Option<Uuid>>,
    /// Done or not.
    #[serde(default)]
    pub done: Option<bool>,
}

impl Validate for TaskUpdate {
    fn validate(&self) -> Result<(), InputErrors> {
        let mut c = Check::default();
        if let Some(t) = &self.title {
            c.required("title", t, MAX_SHORT_CHARS);
        }
        c.done()
    }
}

/// A note to add to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// The text.
    pub body: String,
}

impl Validate for NewNote {
    fn validate(&self) -> Result<(), InputErrors> {
        let mut c = Check::default();
        c.required("body", &self.body, MAX_TEXT_CHARS);
        c.done()
    }
}

/// Serde for an optional calendar date as `YYYY-MM-DD`.
mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;
    use time::macros::format_description;

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(v: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => {
                let text = d.format(FORMAT).map_err(serde::ser::Error::custom)?;
                s.serialize_str(&text)
            }
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => Date::parse(&text, FORMAT).map(Some).map_err(|_| {
                serde::de::Error::custom(format!("`{text}` is not a date like 2026-12-01"))
            }),
            None => Ok(None),
        }
    }

    /// The same for an update: absent → `None`, `null` → `Some(None)`.
    pub mod double {
        use serde::{Deserializer, Serializer};
        use time::Date;

        pub fn serialize<S: Serializer>(v: &Option<Option<Date>>, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(&v.flatten(), s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Option<Date>>, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

/// Serde for `Option<Option<T>>`: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn a_call_with_its_details_parses() {
        let c: NewContact = parse_input_json(
            br#"{"channel": "phone", "signaler_type": "victim_survivor", "language": "ES",
                 "location": {"state": "TX", "city": "Houston", "zip": "77002-1234", "precision": "zip"},
                 "safe_to_talk": "yes",
                 "safe_contact": {"allowed": true, "number": "(555) 201-3344", "time_windows": ["weekdays 9-11"], "text": false},
                 "interpreter": "es", "narrative": "Works at a restaurant, papers kept by the owner."}"#,
        )
        .unwrap();
        assert_eq!(c.language.unwrap().as_str(), "es");
        assert_eq!(c.location.zip.unwrap().as_str(), "77002");
        assert_eq!(
            c.safe_contact.unwrap().number.unwrap().as_str(),
            "+15552013344"
        );
    }

    #[rstest]
    #[case::unknown_field(r#"{"channel": "phone", "chanel": "sms"}"#, "chanel")]
    #[case::unknown_code(r#"{"channel": "fax"}"#, "channel")]
    #[case::bad_zip(
        r#"{"channel": "phone", "location": {"zip": "1234", "precision": "zip"}}"#,
        "location.zip"
    )]
    #[case::bad_state(
        r#"{"channel": "phone", "location": {"state": "Texas", "precision": "state"}}"#,
        "location.state"
    )]
    #[case::precision_without_its_place(
        r#"{"channel": "phone", "location": {"precision": "city"}}"#,
        "location.precision"
    )]
    #[case::bad_phone(
        r#"{"channel": "phone", "safe_contact": {"allowed": true, "number": "call me"}}"#,
        "safe_contact.number"
    )]
    #[case::contact_not_allowed_but_a_number(
        r#"{"channel": "phone", "safe_contact": {"allowed": false, "number": "5552013344"}}"#,
        "safe_contact.allowed"
    )]
    #[case::blank_narrative(r#"{"channel": "phone", "narrative": "  "}"#, "narrative")]
    #[case::missing_channel(r#"{}"#, "body")]
    #[case::not_json(r#"{channel"#, "body")]
    fn a_bad_contact_names_its_field(#[case] json: &str, #[case] field: &str) {
        let e = parse_input_json::<NewContact>(json.as_bytes()).unwrap_err();
        assert_eq!(e.0[0].field, field, "{e}");
    }

    #[rstest]
    #[case::bad_phone(
        r#"{"role": "suspected_trafficker", "identifiers": {"phones": ["555", "5552013344"]}}"#,
        "identifiers.phones[0]"
    )]
    #[case::bad_email(
        r#"{"role": "suspected_trafficker", "identifiers": {"emails": ["a@b.org", "nope"]}}"#,
        "identifiers.emails[1]"
    )]
    #[case::age_and_band_disagree(
        r#"{"role": "potential_victim", "age": 16, "age_band": "18-20"}"#,
        "age_band"
    )]
    #[case::age_too_high(r#"{"role": "potential_victim", "age": 200}"#, "age")]
    #[case::blank_alias(
        r#"{"role": "suspected_trafficker", "identifiers": {"aliases": [""]}}"#,
        "identifiers.aliases[0]"
    )]
    #[case::unknown_role(r#"{"role": "pimp"}"#, "role")]
    fn a_bad_party_names_its_field(#[case] json: &str, #[case] field: &str) {
        let e = parse_input_json::<NewParty>(json.as_bytes()).unwrap_err();
        assert_eq!(e.0[0].field, field, "{e}");
    }

    #[test]
    fn a_party_with_identifiers_parses_and_normalises() {
        let p: NewParty = parse_input_json(
            br#"{"role": "suspected_trafficker", "gender": "man", "age_band": "30-38", "nationality": "us",
                 "identifiers": {"names": ["Juan Perez"], "aliases": ["JP"], "phones": ["+1 (555) 201-3344"],
                 "emails": ["JP@Example.com"], "handles": [{"platform": "instagram", "handle": "@jp"}],
                 "addresses": [{"city": "Austin", "state": "TX"}]}}"#,
        )
        .unwrap();
        assert_eq!(p.identifiers.emails[0].as_str(), "jp@example.com");
        assert_eq!(p.nationality.unwrap().as_str(), "US");
    }

    #[test]
    fn a_case_update_tells_absent_from_null() {
        let u: CaseUpdate =
            parse_input_json(br#"{"assignee": null, "status": "monitoring"}"#).unwrap();
        assert_eq!(u.assignee, Some(None));
        assert_eq!(u.safety_plan, None);
        assert!(u.check_transition(CaseStatus::Open).is_ok());
        let reopen_to_referred: CaseUpdate =
            parse_input_json(br#"{"status": "referred"}"#).unwrap();
        assert_eq!(
            reopen_to_referred
                .check_transition(CaseStatus::Closed)
                .unwrap_err()
                .field,
            "status"
        );
    }

    #[test]
    fn tasks_and_notes_need_their_text() {
        let t: NewTask =
            parse_input_json(br#"{"title": "Call back", "due": "2026-12-01"}"#).unwrap();
        assert_eq!(t.due.unwrap().to_string(), "2026-12-01");
        assert_eq!(
            parse_input_json::<NewTask>(br#"{"title": " "}"#)
                .unwrap_err()
                .0[0]
                .field,
            "title"
        );
        assert_eq!(
            parse_input_json::<NewTask>(br#"{"title": "x", "due": "tomorrow"}"#)
                .unwrap_err()
                .0[0]
                .field,
            "due"
        );
        assert_eq!(
            parse_input_json::<NewNote>(br#"{"body": ""}"#)
                .unwrap_err()
                .0[0]
                .field,
            "body"
        );
        let u: TaskUpdate = parse_input_json(br#"{"done": true, "due": null}"#).unwrap();
        assert_eq!((u.done, u.due), (Some(true), Some(None)));
    }

    #[test]
    fn model_records_round_trip_through_json() {
        let t = Task {
            id: Uuid::nil(),
            case_id: Uuid::nil(),
            title: "Call back".into(),
            due: Some(time::macros::date!(2026 - 12 - 01)),
            assignee: None,
            done: false,
        };
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains(r#""due":"2026-12-01""#), "{json}");
        assert_eq!(serde_json::from_str::<Task>(&json).unwrap(), t);
    }

    #[test]
    fn a_party_band_comes_from_the_age_when_known() {
        let p = Party {
            id: Uuid::nil(),
            case_id: Uuid::nil(),
            role: PartyRole::PotentialVictim,
            gender: Gender::Unknown,
            age: Some(17),
            age_band: None,
            nationality: None,
            identifiers: Identifiers::default(),
        };
        assert_eq!(p.band(), Some(AgeBand::A9to17));
    }
}
