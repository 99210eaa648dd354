//! The screening engine: answers about a situation in, a determination out, exactly by the rules of
//! DOMAIN.md §1 (Action-Means-Purpose, 22 U.S.C. 7102; 18 U.S.C. 1589, 1590, 1591).
//!
//! A hotline cannot prove anything; it assesses a *potential* situation from what a signaler says. The
//! engine therefore also says what is still missing, so the advocate knows what to ask next:
//! `action`, `means`, `purpose`, `compulsion` (whether the means keep the person there), and `age` (when
//! the person's age is unknown and a minor would change the outcome).

use crate::codes::{Action, Means, Outcome, Purpose, TraffickingForm};
use serde::{Deserialize, Serialize};

/// The version of the rules below; saved with every determination. `amp-2026.1` named `age` as missing
/// only under rule 6; `amp-2026.2` names it wherever the minor rule could apply (see [`assess`]).
pub const RULES_VERSION: &str = "amp-2026.2";

/// What the advocate has established. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// Age at the time of the situation, in years.
    #[serde(default)]
    pub subject_age: Option<u32>,
    /// Whether the subject is a minor, when only that is known.
    #[serde(default)]
    pub subject_minor: Option<bool>,
    /// Actions of the trafficker.
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Means of control.
    #[serde(default)]
    pub means: Vec<Means>,
    /// Purposes of the exploitation.
    #[serde(default)]
    pub purposes: Vec<Purpose>,
    /// Whether the means keep the person in the situation; unknown when absent.
    #[serde(default)]
    pub compelled: Option<bool>,
    /// The person arranged or paid to be moved across a border.
    #[serde(default)]
    pub smuggling_arrangement: Option<bool>,
    /// Wage theft, unpaid overtime, unsafe conditions, misclassification.
    #[serde(default)]
    pub labor_violations: Option<bool>,
}

/// What the screening concludes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Determination {
    /// The outcome.
    pub outcome: Outcome,
    /// The forms of trafficking (for likely and possible trafficking).
    pub forms: Vec<TraffickingForm>,
    /// Whether the minor rule decided it.
    pub minor_rule_applied: bool,
    /// What is not yet established: `action`, `means`, `purpose`, `compulsion`, `age`.
    pub missing: Vec<String>,
    /// Why, in plain language.
    pub reasons: Vec<String>,
}

/// An element the screening may still need.
pub const MISSING_CODES: [&str; 5] = ["action", "means", "purpose", "compulsion", "age"];

impl Answers {
    /// Whether the subject is a minor: from the age when given, else from `subject_minor`.
    pub fn minor(&self) -> Option<bool> {
        self.subject_age.map(|a| a < 18).or(self.subject_minor)
    }

    fn has(&self, p: Purpose) -> bool {
        self.purposes.contains(&p)
    }
}

fn forms_of(purposes: &[Purpose]) -> Vec<TraffickingForm> {
    let mut f = Vec::new();
    if purposes.contains(&Purpose::CommercialSex) {
        f.push(TraffickingForm::Sex);
    }
    if purposes.contains(&Purpose::LaborServices) {
        f.push(TraffickingForm::Labor);
    }
    f
}

fn list<T: Copy>(items: &[T], label: impl Fn(T) -> &'static str) -> String {
    let mut v: Vec<&str> = items.iter().map(|i| label(*i)).collect();
    v.dedup();
    v.join(", ").to_lowercase()
}

fn who(a: &Answers) -> String {
    match (a.subject_age, a.minor()) {
        (Some(age), _) => format!("The person is {age} years old"),
        (None, Some(true)) => "The person is a minor".into(),
        (None, Some(false)) => "The person is an adult".into(),
        (None, None) => "The person's age is not known".into(),
    }
}

/// Rule 2's test: a purpose, an action, a means, and compulsion established.
fn rule2_holds(a: &Answers) -> bool {
    !a.purposes.is_empty()
        && !a.actions.is_empty()
        && !a.means.is_empty()
        && a.compelled == Some(true)
}

fn amp_reason(a: &Answers) -> String {
    format!(
        "Action ({}), means ({}) and purpose ({}) are established, and the means keep the person in the situation.",
        list(&a.actions, Action::label),
        list(&a.means, Means::label),
        list(&a.purposes, Purpose::label)
    )
}

/// Applies the rules of DOMAIN.md §1 in order; the first that applies wins.
///
/// `missing` names what the advocate could still establish: `action` and `compulsion` (rule 3), `means`
/// (labor violations without means, rule 4), `purpose` (rules 5 and 7), and everything absent when
/// no purpose is known (rule 7). It names `age` whenever the minor rule could apply — commercial sex is
/// a purpose — but neither `subject_age` nor `subject_minor` is known and the outcome is not already
/// `likely_trafficking`: asking the age could then turn the outcome into sex trafficking of a minor.
pub fn assess(a: &Answers) -> Determination {
    let mut d = decide(a);
    if d.outcome != Outcome::LikelyTrafficking
        && a.has(Purpose::CommercialSex)
        && a.minor().is_none()
    {
        d.missing.push("age".into());
        d.reasons.push(
            "The person's age is not known: if they are under 18, this is sex trafficking, with no means needed."
                .into(),
        );
    }
    d
}

/// The rules themselves, before the age check of [`assess`].
fn decide(a: &Answers) -> Determination {
    let minor = a.minor();
    let mut d = Determination {
        outcome: Outcome::NotTrafficking,
        forms: vec![],
        minor_rule_applied: false,
        missing: vec![],
        reasons: vec![],
    };

    // Rule 1: a minor in commercial sex.
    if a.has(Purpose::CommercialSex) && minor == Some(true) {
        d.outcome = Outcome::LikelyTrafficking;
        d.forms.push(TraffickingForm::Sex);
        d.minor_rule_applied = true;
        d.reasons.push(format!(
            "{} and is involved in commercial sex. Under federal law a minor in commercial sex is a victim of sex trafficking: no force, fraud or coercion needs to be shown.",
            who(a)
        ));
        if a.has(Purpose::LaborServices) {
            if rule2_holds(a) {
                d.forms.push(TraffickingForm::Labor);
                d.reasons
                    .push(format!("Labor trafficking too: {}", amp_reason(a)));
            } else {
                d.reasons.push("A labor purpose is also present; labor trafficking of a minor still needs an action, a means and compulsion, which are not all established.".into());
            }
        }
        return d;
    }

    // Rule 2: action, means, purpose, compulsion.
    if rule2_holds(a) {
        d.outcome = Outcome::LikelyTrafficking;
        d.forms = forms_of(&a.purposes);
        d.reasons.push(amp_reason(a));
        if minor == Some(true) && a.has(Purpose::LaborServices) {
            d.reasons.push("Minors are not exempt from means in labor trafficking; here the means are established.".into());
        }
        return d;
    }

    // Rule 3: purpose and means, compulsion not ruled out, but no action or compulsion unknown.
    if !a.purposes.is_empty()
        && !a.means.is_empty()
        && a.compelled != Some(false)
        && (a.actions.is_empty() || a.compelled.is_none())
    {
        d.outcome = Outcome::PossibleTrafficking;
        d.forms = forms_of(&a.purposes);
        if a.actions.is_empty() {
            d.missing.push("action".into());
        }
        if a.compelled.is_none() {
            d.missing.push("compulsion".into());
        }
        d.reasons.push(format!(
            "Purpose ({}) and means ({}) are present, but {} not yet established.",
            list(&a.purposes, Purpose::label),
            list(&a.means, Means::label),
            match (a.actions.is_empty(), a.compelled.is_none()) {
                (true, true) => "neither an action by a trafficker nor whether the means keep the person in the situation is",
                (true, false) => "an action by a trafficker is",
                _ => "whether the means keep the person in the situation is",
            }
        ));
        return d;
    }

    // Rule 4: labor exploitation.
    let violations = a.labor_violations == Some(true);
    if (a.has(Purpose::LaborServices)
        && (violations || !a.means.is_empty())
        && a.compelled == Some(false))
        || (violations && a.means.is_empty())
    {
        d.outcome = Outcome::LaborExploitation;
        if a.compelled == Some(false) {
            d.reasons.push("The person is free to leave and complain: unfair or illegal labor practices, but not trafficking. It becomes trafficking if, for example, they are threatened with deportation for complaining.".into());
        } else {
            d.reasons.push("Labor violations are reported but no force, fraud or coercion: exploitation, not trafficking, as far as is known.".into());
            d.missing.push("means".into());
        }
        return d;
    }

    // Rule 5: smuggling with no purpose.
    if a.smuggling_arrangement == Some(true) && a.purposes.is_empty() {
        d.outcome = Outcome::Smuggling;
        d.reasons.push("The person arranged or paid to cross a border and no exploitation is reported: smuggling is a crime against a border, not a person. If a smuggling debt is later enforced by threats, screen again.".into());
        d.missing.push("purpose".into());
        return d;
    }

    // Rule 6: adult commercial sex without indicators.
    if a.has(Purpose::CommercialSex)
        && minor != Some(true)
        && (a.means.is_empty() || a.compelled == Some(false))
    {
        d.outcome = Outcome::CommercialSexNoIndicators;
        d.reasons.push(if a.means.is_empty() {
            "Commercial sex with no force, fraud or coercion reported: not trafficking under federal law for an adult.".into()
        } else {
            "Commercial sex where the person is free to leave: not trafficking under federal law for an adult.".into()
        });
        return d;
    }

    // Rule 7.
    if a.purposes.is_empty() {
        d.outcome = Outcome::InsufficientInformation;
        d.missing.push("purpose".into());
        if a.actions.is_empty() {
            d.missing.push("action".into());
        }
        if a.means.is_empty() {
            d.missing.push("means".into());
        }
        if a.compelled.is_none() {
            d.missing.push("compulsion".into());
        }
        d.reasons
            .push("No purpose (commercial sex, or labor or services) is established yet.".into());
    } else {
        d.outcome = Outcome::NotTrafficking;
        d.reasons.push(format!(
            "A purpose ({}) is present, but no force, fraud or coercion keeps the person in the situation.",
            list(&a.purposes, Purpose::label)
        ));
    }
    d
}

/// A problem with screening answers, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct AnswersError {
    /// The field, as a JSON path (`means[2]`); `body` for the document as a whole.
    pub field: String,
    /// What is wrong, with the allowed values for an unknown code.
    pub message: String,
    /// Whether the body was not JSON at all (rather than JSON with a bad field).
    pub syntax: bool,
}

/// Parses screening answers from JSON strictly: unknown fields and unknown codes are refused, naming
/// the field and listing the allowed values; an age over 130 and a `subject_minor` that contradicts
/// `subject_age` are refused too. Shared by the HTTP API and `lantern screen`.
pub fn parse_answers_json(bytes: &[u8]) -> Result<Answers, AnswersError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let a: Answers = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let syntax = inner.is_syntax() || inner.is_eof();
        let msg = inner.to_string();
        let msg = msg
            .rfind(" at line ")
            .map_or(msg.clone(), |i| msg[..i].to_owned());
        AnswersError {
            field: if path == "." || syntax {
                "body".into()
            } else {
                path
            },
            message: msg,
            syntax,
        }
    })?;
    validate(&a)?;
    Ok(a)
}

/// Checks what types alone cannot.
pub fn validate(a: &Answers) -> Result<(), AnswersError> {
    if let Some(age) = a.subject_age
        && age > 130
    {
        return Err(AnswersError {
            field: "subject_age".into(),
            message: "must be an age in years, 0 to 130".into(),
            syntax: false,
        });
    }
    if let (Some(age), Some(minor)) = (a.subject_age, a.subject_minor)
        && (age < 18) != minor
    {
        return Err(AnswersError {
            field: "subject_minor".into(),
            message: format!("contradicts subject_age {age}; give one or make them agree"),
            syntax: false,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_answers() -> impl Strategy<Value = Answers> {
        (
            proptest::option::of(0u32..90),
            proptest::option::of(any::<bool>()),
            proptest::sample::subsequence(Action::ALL.to_vec(), 0..4),
            proptest::sample::subsequence(Means::ALL.to_vec(), 0..5),
            proptest::sample::subsequence(Purpose::ALL.to_vec(), 0..=2),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(
                |(age, minor, actions, means, purposes, compelled, smuggling, violations)| {
                    Answers {
                        subject_age: age,
                        // Keep the two consistent, as parsing requires.
                        subject_minor: if age.is_some() { None } else { minor },
                        actions,
                        means,
                        purposes,
                        compelled,
                        smuggling_arrangement: smuggling,
                        labor_violations: violations,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn a_minor_in_commercial_sex_is_always_likely_trafficking(mut a in arb_answers(), age in 0u32..18) {
            a.subject_age = Some(age);
            if !a.purposes.contains(&Purpose::CommercialSex) { a.purposes.push(Purpose::CommercialSex); }
            let d = assess(&a);
            prop_assert_eq!(d.outcome, Outcome::LikelyTrafficking);
            prop_assert!(d.minor_rule_applied);
            prop_assert!(d.forms.contains(&TraffickingForm::Sex));
        }

        #[test]
        fn removing_every_means_never_yields_likely_trafficking_for_an_adult(mut a in arb_answers(), age in 18u32..90) {
            a.subject_age = Some(age);
            a.means.clear();
            prop_assert_ne!(assess(&a).outcome, Outcome::LikelyTrafficking);
        }

        #[test]
        fn only_the_minor_rule_sets_minor_rule_applied(a in arb_answers()) {
            let d = assess(&a);
            prop_assert_eq!(d.minor_rule_applied, a.minor() == Some(true) && a.purposes.contains(&Purpose::CommercialSex));
        }

        #[test]
        fn every_determination_gives_a_reason_and_only_known_missing_codes(a in arb_answers()) {
            let d = assess(&a);
            prop_assert!(!d.reasons.is_empty());
            for m in &d.missing { prop_assert!(MISSING_CODES.contains(&m.as_str())); }
            if d.outcome == Outcome::LikelyTrafficking { prop_assert!(!d.forms.is_empty()); }
        }

        #[test]
        fn establishing_compulsion_never_lowers_likely_to_less(mut a in arb_answers()) {
            a.compelled = Some(true);
            let before = assess(&a).outcome;
            a.actions.push(Action::Recruits);
            if before == Outcome::LikelyTrafficking { prop_assert_eq!(assess(&a).outcome, Outcome::LikelyTrafficking); }
        }

        #[test]
        fn adding_means_never_lowers_an_adults_likely_outcome(mut a in arb_answers(), age in 18u32..90, extra in proptest::sample::select(Means::ALL.to_vec())) {
            a.subject_age = Some(age);
            a.subject_minor = None;
            if assess(&a).outcome == Outcome::LikelyTrafficking {
                a.means.push(extra);
                prop_assert_eq!(assess(&a).outcome, Outcome::LikelyTrafficking);
            }
        }

        #[test]
        fn without_a_purpose_nothing_is_trafficking(mut a in arb_answers()) {
            a.purposes.clear();
            let d = assess(&a);
            prop_assert!(!d.outcome.needs_review());
            prop_assert!(d.forms.is_empty());
        }

        #[test]
        fn missing_never_names_what_is_established(a in arb_answers()) {
            let d = assess(&a);
            let has = |m: &str| d.missing.iter().any(|x| x == m);
            if !a.actions.is_empty() { prop_assert!(!has("action")); }
            if !a.means.is_empty() { prop_assert!(!has("means")); }
            if !a.purposes.is_empty() { prop_assert!(!has("purpose")); }
            if a.compelled.is_some() { prop_assert!(!has("compulsion")); }
            if a.minor().is_some() { prop_assert!(!has("age")); }
        }

        #[test]
        fn the_order_of_the_answers_does_not_change_the_outcome(a in arb_answers()) {
            let mut b = a.clone();
            b.actions.reverse();
            b.means.reverse();
            b.purposes.reverse();
            let (da, db) = (assess(&a), assess(&b));
            prop_assert_eq!(da.outcome, db.outcome);
            prop_assert_eq!(da.forms, db.forms);
            prop_assert_eq!(da.missing, db.missing);
        }

        #[test]
        fn subject_minor_decides_like_an_age_on_the_same_side_of_18(mut a in arb_answers(), minor in any::<bool>()) {
            a.subject_age = None;
            a.subject_minor = Some(minor);
            let by_flag = assess(&a);
            a.subject_minor = None;
            a.subject_age = Some(if minor { 16 } else { 30 });
            let by_age = assess(&a);
            prop_assert_eq!(by_flag.outcome, by_age.outcome);
            prop_assert_eq!(by_flag.forms, by_age.forms);
            prop_assert_eq!(by_flag.missing, by_age.missing);
        }

        #[test]
        fn parsing_the_serialised_answers_gives_them_back(a in arb_answers()) {
            let json = serde_json::to_vec(&a).unwrap();
            prop_assert_eq!(parse_answers_json(&json).unwrap(), a);
        }
    }

    fn answers(json: &str) -> Answers {
        parse_answers_json(json.as_bytes()).unwrap()
    }

    #[rstest::rstest]
    #[case::age_17_is_a_minor(
        r#"{"subject_age": 17, "purposes": ["commercial_sex"]}"#,
        Outcome::LikelyTrafficking,
        true
    )]
    #[case::age_18_is_an_adult(
        r#"{"subject_age": 18, "purposes": ["commercial_sex"]}"#,
        Outcome::CommercialSexNoIndicators,
        false
    )]
    #[case::age_0_is_a_minor(
        r#"{"subject_age": 0, "purposes": ["commercial_sex"]}"#,
        Outcome::LikelyTrafficking,
        true
    )]
    #[case::minor_flag_without_age(
        r#"{"subject_minor": true, "purposes": ["commercial_sex"]}"#,
        Outcome::LikelyTrafficking,
        true
    )]
    #[case::adult_flag_without_age(
        r#"{"subject_minor": false, "purposes": ["commercial_sex"]}"#,
        Outcome::CommercialSexNoIndicators,
        false
    )]
    #[case::age_and_flag_agree(
        r#"{"subject_age": 16, "subject_minor": true, "purposes": ["commercial_sex"]}"#,
        Outcome::LikelyTrafficking,
        true
    )]
    #[case::minor_in_labor_needs_means(r#"{"subject_age": 17, "purposes": ["labor_services"], "actions": ["recruits"], "compelled": true}"#, Outcome::NotTrafficking, false)]
    fn the_minor_rule_turns_on_age_below_18(
        #[case] json: &str,
        #[case] outcome: Outcome,
        #[case] minor_rule: bool,
    ) {
        let d = assess(&answers(json));
        assert_eq!((d.outcome, d.minor_rule_applied), (outcome, minor_rule));
    }

    #[rstest::rstest]
    #[case::compelled(Some(true), Outcome::LikelyTrafficking, &[])]
    #[case::free_to_leave(Some(false), Outcome::LaborExploitation, &[])]
    #[case::unknown(None, Outcome::PossibleTrafficking, &["compulsion"])]
    fn fraud_in_labor_depends_on_compulsion(
        #[case] compelled: Option<bool>,
        #[case] outcome: Outcome,
        #[case] missing: &[&str],
    ) {
        let a = Answers {
            subject_age: Some(30),
            actions: vec![Action::Recruits],
            means: vec![Means::FalsePromises],
            purposes: vec![Purpose::LaborServices],
            compelled,
            ..Answers::default()
        };
        let d = assess(&a);
        assert_eq!(d.outcome, outcome);
        assert_eq!(d.missing, missing);
    }

    #[rstest::rstest]
    #[case::arranged_crossing_only(r#"{"smuggling_arrangement": true}"#, Outcome::Smuggling)]
    #[case::debt_but_no_purpose_yet(
        r#"{"smuggling_arrangement": true, "means": ["debt_bondage"]}"#,
        Outcome::Smuggling
    )]
    #[case::debt_put_to_work_compulsion_unknown(r#"{"smuggling_arrangement": true, "means": ["debt_bondage"], "purposes": ["labor_services"]}"#, Outcome::PossibleTrafficking)]
    #[case::debt_enforced_by_threats(r#"{"smuggling_arrangement": true, "actions": ["harbors"], "means": ["debt_bondage", "threats_of_harm"], "purposes": ["labor_services"], "compelled": true}"#, Outcome::LikelyTrafficking)]
    #[case::debt_but_free_to_leave(r#"{"smuggling_arrangement": true, "actions": ["harbors"], "means": ["debt_bondage"], "purposes": ["labor_services"], "compelled": false}"#, Outcome::LaborExploitation)]
    fn smuggling_turns_into_trafficking_when_a_debt_holds_the_person(
        #[case] json: &str,
        #[case] outcome: Outcome,
    ) {
        assert_eq!(assess(&answers(json)).outcome, outcome);
    }

    #[test]
    fn a_determination_serialises_to_exactly_its_five_fields() {
        let v = serde_json::to_value(assess(&Answers::default())).unwrap();
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "forms",
                "minor_rule_applied",
                "missing",
                "outcome",
                "reasons"
            ]
        );
    }

    #[test]
    fn an_unknown_code_names_its_place_and_the_allowed_values() {
        let e = parse_answers_json(br#"{"means": ["debt_bondage", "blackmail"]}"#).unwrap_err();
        assert_eq!(e.field, "means[1]");
        assert!(
            e.message.contains("blackmail") && e.message.contains("withholds_documents"),
            "{}",
            e.message
        );
        let e = parse_answers_json(br#"{"meanz": []}"#).unwrap_err();
        assert_eq!(e.field, "meanz");
        let e = parse_answers_json(br#"{"subject_age": 16, "subject_minor": false}"#).unwrap_err();
        assert_eq!(e.field, "subject_minor");
        let e = parse_answers_json(b"{nope").unwrap_err();
        assert!(e.syntax);
        assert_eq!(parse_answers_json(b"{}").unwrap(), Answers::default());
    }
}
