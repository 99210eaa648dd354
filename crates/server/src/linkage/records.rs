//! From a hotline's parties to linkage records: the fields compared, how, and the blocking rules; and
//! the words an explanation is shown in.
//!
//! A party may have several names, phones or addresses; the engine compares one value per field, so a
//! party gives one record per "slot": the first record carries the first value of every kind, the
//! second the second, and so on, each with the party's age and its case's state. Pairs of records are
//! folded back into pairs of parties (the best-scoring pair of their records stands for them).

use lantern_linkage::{Contribution, LinkConfig};
use lantern_store::LinkageParty;

/// The compared fields, in order.
pub const FIELDS: [&str; 8] = [
    "name", "phone", "email", "handle", "business", "address", "age", "state",
];

/// The settings: which field is compared how, and the blocking rules that pick candidate pairs.
const SETTINGS: &str = r#"
threshold = 0.9
default_country = "1"
u_sample_pairs = 200000
em_max_pairs = 200000
[[field]]
column = "name"
kind = "name"
tf = true
[[field]]
column = "phone"
kind = "phone"
tf = true
[[field]]
column = "email"
kind = "exact"
tf = true
[[field]]
column = "handle"
kind = "exact"
tf = true
[[field]]
column = "business"
kind = "business"
tf = true
[[field]]
column = "address"
kind = "address"
[[field]]
column = "age"
kind = "age"
[[field]]
column = "state"
kind = "exact"
tf = true
[[blocking]]
on = ["phone"]
[[blocking]]
on = ["email"]
[[blocking]]
on = ["handle"]
[[blocking]]
on = ["business[..4]"]
[[blocking]]
on = ["address[..6]"]
[[blocking]]
on = ["name[..3]", "state"]
"#;

/// P(level | the two records are the same person or business), per field, from disagreement to exact
/// agreement (the levels of `lantern_linkage::Kind`). A hotline holds too few true repeats for
/// expectation-maximisation to find them unsupervised (it settles on whatever pattern is common, such
/// as two people of one common name), so these are fixed from how advocates record what callers say,
/// and moved towards what the analysts' confirmed links show (see `job::calibrate`). The
/// u-probabilities and term frequencies come from the hotline's own data.
pub fn prior_m(field: &str) -> &'static [f64] {
    match field {
        "name" => &[0.05, 0.03, 0.04, 0.08, 0.15, 0.65],
        "phone" => &[0.04, 0.02, 0.04, 0.90],
        "email" | "handle" => &[0.10, 0.90],
        "business" | "address" => &[0.05, 0.10, 0.25, 0.60],
        "age" => &[0.20, 0.20, 0.30, 0.30],
        _ => &[0.20, 0.80],
    }
}

/// The link settings used for every hotline.
pub fn config() -> LinkConfig {
    LinkConfig::from_toml(SETTINGS).expect("the built-in link settings are valid")
}

/// What one party is, for linking: its role, age, state and `(kind, value)` identifiers.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Role code.
    pub role: &'a str,
    /// Age in years.
    pub age: Option<i64>,
    /// State of its case.
    pub state: Option<&'a str>,
    /// Identifiers, as stored (`name`, `phone`, `email`, `address`, `handle`, `business_name`).
    pub identifiers: &'a [(String, String)],
}

impl<'a> Facts<'a> {
    /// The facts of a stored party.
    pub fn of(p: &'a LinkageParty) -> Self {
        Facts {
            role: &p.role,
            age: p.age,
            state: p.state.as_deref(),
            identifiers: &p.identifiers,
        }
    }
}

/// The records of a party: none when it has no identifier (an age and a state link nothing).
pub fn records(f: Facts<'_>) -> Vec<[String; 8]> {
    let mut lists: [Vec<&str>; 6] = Default::default();
    for (kind, value) in f.identifiers {
        let slot = match kind.as_str() {
            "name" | "alias" if f.role == "business" => 4,
            "name" | "alias" => 0,
            "phone" => 1,
            "email" => 2,
            "handle" => 3,
            "business_name" => 4,
            "address" => 5,
            _ => continue,
        };
        lists[slot].push(value.as_str());
    }
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    (0..n)
        .map(|k| {
            let v = |slot: usize| {
                lists[slot]
                    .get(k)
                    .map_or(String::new(), |s| (*s).to_owned())
            };
            [
                v(0),
                v(1),
                v(2),
                v(3),
                v(4),
                v(5),
                f.age.map(|a| a.to_string()).unwrap_or_default(),
                f.state.unwrap_or_default().to_owned(),
            ]
        })
        .collect()
}

/// What a field agreeing at a level means, in words ("same phone", "similar name"); `None` for
/// disagreement, a missing value, or context (age, state) that links nothing by itself.
pub fn kind_of_link(field: &str, level: &str) -> Option<&'static str> {
    let exact = level == "exact";
    Some(match (field, exact) {
        (_, _) if level == "else" || level == "missing" => return None,
        ("name", true) => "same name",
        ("name", false) => "similar name",
        ("phone", true) => "same phone",
        ("phone", false) => "similar phone",
        ("email", _) => "same email",
        ("handle", _) => "same online handle",
        ("business", true) => "same business",
        ("business", false) => "similar business name",
        ("address", true) => "same address",
        ("address", false) => "similar address",
        _ => return None,
    })
}

/// The kinds of a link, from its explanation, strongest first and without repeats.
pub fn kinds<'a>(parts: impl IntoIterator<Item = (&'a str, &'a str, f64)>) -> Vec<&'static str> {
    let mut v: Vec<(&'static str, f64)> = parts
        .into_iter()
        .filter(|(_, _, w)| *w > 0.0)
        .filter_map(|(f, l, w)| kind_of_link(f, l).map(|k| (k, w)))
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out: Vec<&'static str> = Vec::new();
    for (k, _) in v {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// The kinds of a link from the engine's explanation.
pub fn kinds_of(parts: &[Contribution]) -> Vec<&'static str> {
    kinds(parts.iter().map(|c| (c.column.as_str(), c.level, c.weight)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_with_two_phones_gives_two_records_each_with_its_age_and_state() {
        let ids = vec![
            ("name".to_owned(), "Ana Ruiz".to_owned()),
            ("phone".to_owned(), "415 555 0199".to_owned()),
            ("phone".to_owned(), "+1 415 555 0100".to_owned()),
        ];
        let r = records(Facts {
            role: "potential_victim",
            age: Some(19),
            state: Some("TX"),
            identifiers: &ids,
        });
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0][0].as_str(), r[0][1].as_str()),
            ("Ana Ruiz", "415 555 0199")
        );
        assert_eq!(
            (r[1][0].as_str(), r[1][1].as_str()),
            ("", "+1 415 555 0100")
        );
        assert_eq!((r[1][6].as_str(), r[1][7].as_str()), ("19", "TX"));
    }

    #[test]
    fn a_business_party_s_name_is_compared_as_a_business_and_no_identifier_means_no_record() {
        let ids = vec![("name".to_owned(), "Golden Spa".to_owned())];
        let r = records(Facts {
            role: "business",
            age: None,
            state: None,
            identifiers: &ids,
        });
        assert_eq!((r[0][0].as_str(), r[0][4].as_str()), ("", "Golden Spa"));
        assert!(
            records(Facts {
                role: "witness",
                age: Some(30),
                state: Some("TX"),
                identifiers: &[],
            })
            .is_empty()
        );
    }

    #[test]
    fn every_field_has_one_prior_m_per_level_summing_to_one() {
        for f in config().fields {
            let m = prior_m(&f.column);
            assert_eq!(m.len(), f.kind.level_labels().len(), "{}", f.column);
            assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{}", f.column);
        }
    }

    #[test]
    fn the_kinds_of_a_link_name_what_agreed_not_the_values() {
        let k = kinds([
            ("name", "jw92", 3.0),
            ("phone", "exact", 11.0),
            ("state", "exact", 1.0),
            ("address", "else", -2.0),
        ]);
        assert_eq!(k, ["same phone", "similar name"]);
    }
}
