//! The screening table: every rule and its boundaries, from `screening_cases.json`, which the server's
//! API test and the CLI test replay too.

use lantern_domain::screening::{Determination, assess, parse_answers_json};

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    answers: serde_json::Value,
    expect: Expect,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    outcome: String,
    forms: Vec<String>,
    minor_rule_applied: bool,
    missing: Vec<String>,
}

#[test]
fn every_table_case_gets_its_expected_determination() {
    let cases: Vec<Case> = serde_json::from_str(include_str!("screening_cases.json")).unwrap();
    assert!(
        cases.len() >= 25,
        "the table covers every rule and boundary"
    );
    for c in cases {
        let answers = parse_answers_json(c.answers.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let d: Determination = assess(&answers);
        let got = serde_json::to_value(&d).unwrap();
        assert_eq!(got["outcome"], c.expect.outcome, "{}", c.name);
        assert_eq!(
            got["forms"],
            serde_json::json!(c.expect.forms),
            "{}",
            c.name
        );
        assert_eq!(
            d.minor_rule_applied, c.expect.minor_rule_applied,
            "{}",
            c.name
        );
        assert_eq!(d.missing, c.expect.missing, "{}", c.name);
        assert!(!d.reasons.is_empty(), "{}", c.name);
    }
}
