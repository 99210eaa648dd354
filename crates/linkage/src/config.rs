//! Link settings: which columns to compare and how, and the blocking rules. Read from TOML with
//! unknown keys rejected, or inferred from column names.

use serde::Deserialize;

/// How a field is compared; each kind has its own agreement levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Equal or not.
    Exact,
    /// Personal names: exact, one edit, Jaro-Winkler >= 0.92, >= 0.88, >= 0.80, else.
    Name,
    /// Identifiers and codes with typos: exact, one edit, two edits, else.
    Code,
    /// Phone numbers normalised to E.164: exact, same last 8 digits or one edit, same last 7, else.
    Phone,
    /// Dates: exact, one typed character apart, day and month swapped, within 31 days, within a
    /// year, else.
    Date,
    /// Ages in years: exact, within 1, within 3, else.
    Age,
    /// Street addresses by token overlap: exact, Jaccard >= 0.6 or two edits apart ignoring
    /// spaces, Jaccard >= 0.3, else.
    Address,
    /// Business names with common words discounted: exact core, Jaro-Winkler >= 0.9, shared word, else.
    Business,
}

impl Kind {
    /// The labels of this kind's levels, from disagreement (index 0) to exact agreement.
    pub fn level_labels(self) -> &'static [&'static str] {
        match self {
            Kind::Exact => &["else", "exact"],
            Kind::Name => &["else", "jw80", "jw88", "jw92", "lev1", "exact"],
            Kind::Code => &["else", "lev2", "lev1", "exact"],
            Kind::Phone => &["else", "last7", "near", "exact"],
            Kind::Date => &["else", "year", "month", "swap", "typo", "exact"],
            Kind::Age => &["else", "within3", "within1", "exact"],
            Kind::Address => &["else", "overlap30", "overlap60", "exact"],
            Kind::Business => &["else", "shared_word", "jw90", "exact"],
        }
    }
}

/// One compared field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    /// Column name in the input.
    pub column: String,
    /// How it is compared.
    pub kind: Kind,
    /// Whether exact agreement on a common value counts for less (term-frequency adjustment).
    #[serde(default)]
    pub tf: bool,
}

/// One blocking rule: records are candidates when all its terms agree. A term is a column name,
/// or `column[..N]` for the first N characters of the normalised value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingRule {
    /// The terms that must agree.
    pub on: Vec<String>,
}

/// Full link settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    /// Compared fields.
    #[serde(rename = "field")]
    pub fields: Vec<FieldConfig>,
    /// Blocking rules, unioned in order.
    #[serde(rename = "blocking")]
    pub blocking: Vec<BlockingRule>,
    /// Match probability at or above which a pair is kept and clustered.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Calling code for phone numbers written without one (e.g. "1", "44", "61").
    #[serde(default = "default_country")]
    pub default_country: String,
    /// Random record pairs drawn to estimate the u-probabilities of the levels below exact agreement
    /// (exact agreement is counted from value frequencies).
    #[serde(default = "default_u_pairs")]
    pub u_sample_pairs: usize,
    /// At most this many blocked pairs per rule feed expectation-maximisation.
    #[serde(default = "default_em_pairs")]
    pub em_max_pairs: usize,
    /// At most this many iterations of expectation-maximisation (it stops earlier on convergence).
    #[serde(default = "default_em_iterations")]
    pub em_iterations: usize,
    /// Seed for sampling, so runs are repeatable.
    #[serde(default)]
    pub seed: u64,
}

fn default_threshold() -> f64 {
    0.9
}
fn default_country() -> String {
    "1".to_string()
}
fn default_u_pairs() -> usize {
    200_000
}
fn default_em_pairs() -> usize {
    200_000
}
fn default_em_iterations() -> usize {
    200
}

/// Why settings could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML did not parse or had an unknown key; the message names it.
    #[error("link config: {0}")]
    Toml(String),
    /// A field or blocking term names a column the input lacks.
    #[error(
        "link config: column `{column}` ({context}) is not in the input (columns: {available})"
    )]
    UnknownColumn {
        /// The missing column.
        column: String,
        /// Where it was named.
        context: String,
        /// The input's columns.
        available: String,
    },
    /// A blocking term names a column that is not a compared field.
    #[error("link config: blocking term `{0}` must name a compared [[field]] column")]
    BlockingNotAField(String),
    /// A setting is out of range.
    #[error("link config: {0}")]
    Invalid(String),
}

impl LinkConfig {
    /// Parses TOML settings, rejecting unknown keys by name.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let cfg: LinkConfig = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges and that every blocking term names a field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.fields.is_empty() {
            return Err(ConfigError::Invalid(
                "at least one [[field]] is needed".into(),
            ));
        }
        if self.blocking.is_empty() || self.blocking.iter().any(|r| r.on.is_empty()) {
            return Err(ConfigError::Invalid(
                "at least one [[blocking]] rule with a non-empty `on` is needed".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(ConfigError::Invalid(format!(
                "threshold {} is not a probability in [0, 1]",
                self.threshold
            )));
        }
        for rule in &self.blocking {
            for term in &rule.on {
                let (col, _) = parse_term(term)?;
                if !self.fields.iter().any(|f| f.column == col) {
                    return Err(ConfigError::BlockingNotAField(term.clone()));
                }
            }
        }
        Ok(())
    }

    /// Checks that every named column exists in `columns`.
    pub fn check_columns(&self, columns: &[String]) -> Result<(), ConfigError> {
        let missing = |column: &str, context: String| ConfigError::UnknownColumn {
            column: column.to_string(),
            context,
            available: columns.join(", "),
        };
        for (i, f) in self.fields.iter().enumerate() {
            if !columns.contains(&f.column) {
                return Err(missing(&f.column, format!("field {}", i + 1)));
            }
        }
        Ok(())
    }

    /// Infers settings from column names (e.g. `first_name`, `surname`, `dob`, `phone`, `address`).
    /// Columns it does not recognise are compared exactly; `id_column` is left out.
    pub fn infer(columns: &[String], id_column: &str) -> Result<Self, ConfigError> {
        let mut fields = Vec::new();
        for c in columns {
            if c == id_column {
                continue;
            }
            let l = c.to_lowercase();
            let has = |words: &[&str]| words.iter().any(|w| l.contains(w));
            let kind = if has(&["business", "company", "venue", "employer", "org"]) {
                Kind::Business
            } else if has(&["name"]) {
                Kind::Name
            } else if has(&["phone", "mobile", "tel"]) {
                Kind::Phone
            } else if has(&["dob", "birth", "date"]) {
                Kind::Date
            } else if l == "age" {
                Kind::Age
            } else if has(&["address", "street"]) {
                Kind::Address
            } else if has(&["cluster", "truth", "entity", "label"]) {
                continue;
            } else {
                Kind::Code
            };
            let tf = matches!(kind, Kind::Name | Kind::Exact | Kind::Code);
            fields.push(FieldConfig {
                column: c.clone(),
                kind,
                tf,
            });
        }
        if fields.is_empty() {
            return Err(ConfigError::Invalid(
                "no columns besides the id to compare".into(),
            ));
        }
        let names: Vec<&FieldConfig> = fields.iter().filter(|f| f.kind == Kind::Name).collect();
        let mut blocking = Vec::new();
        if names.len() >= 2 {
            blocking.push(BlockingRule {
                on: vec![names[0].column.clone(), names[1].column.clone()],
            });
        }
        for f in &fields {
            if matches!(f.kind, Kind::Date | Kind::Phone | Kind::Code) {
                blocking.push(BlockingRule {
                    on: vec![f.column.clone()],
                });
            }
        }
        if let Some(last) = names.last()
            && let Some(date) = fields.iter().find(|f| f.kind == Kind::Date)
        {
            blocking.push(BlockingRule {
                on: vec![format!("{}[..3]", last.column), date.column.clone()],
            });
        }
        if blocking.is_empty() {
            blocking.push(BlockingRule {
                on: vec![fields[0].column.clone()],
            });
        }
        let cfg = LinkConfig {
            fields,
            blocking,
            threshold: default_threshold(),
            default_country: default_country(),
            u_sample_pairs: default_u_pairs(),
            em_max_pairs: default_em_pairs(),
            em_iterations: default_em_iterations(),
            seed: 0,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Splits a blocking term into its column and optional prefix length.
pub fn parse_term(term: &str) -> Result<(&str, Option<usize>), ConfigError> {
    match term.split_once("[..") {
        None => Ok((term, None)),
        Some((col, rest)) => {
            let n = rest
                .strip_suffix(']')
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "blocking term `{term}`: write `column[..N]` with N > 0"
                    ))
                })?;
            Ok((col, Some(n)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
threshold = 0.8
[[field]]
column = "first"
kind = "name"
tf = true
[[field]]
column = "dob"
kind = "date"
[[blocking]]
on = ["first[..3]", "dob"]
"#;

    #[test]
    fn a_valid_config_parses_with_defaults() {
        let cfg = LinkConfig::from_toml(GOOD).unwrap();
        assert_eq!(cfg.fields.len(), 2);
        assert_eq!(cfg.threshold, 0.8);
        assert_eq!(cfg.em_iterations, 200);
    }

    #[test]
    fn an_unknown_key_is_rejected_by_name() {
        let text = GOOD.replace("tf = true", "tf = true\nfuzzyness = 3");
        let err = LinkConfig::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("fuzzyness"), "{err}");
    }

    #[test]
    fn an_unknown_kind_is_rejected_naming_the_value() {
        let text = GOOD.replace("kind = \"date\"", "kind = \"colour\"");
        let err = LinkConfig::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn a_blocking_term_on_an_uncompared_column_is_rejected() {
        let text = GOOD.replace("\"first[..3]\", \"dob\"", "\"city\"");
        let err = LinkConfig::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("city"), "{err}");
    }

    #[test]
    fn a_field_column_missing_from_the_input_is_named() {
        let cfg = LinkConfig::from_toml(GOOD).unwrap();
        let err = cfg
            .check_columns(&["id".into(), "first".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`dob`"), "{err}");
    }

    #[test]
    fn inference_recognises_common_column_names() {
        let cols: Vec<String> = [
            "rec_id",
            "given_name",
            "surname",
            "date_of_birth",
            "phone_number",
            "address_1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let cfg = LinkConfig::infer(&cols, "rec_id").unwrap();
        let kinds: Vec<Kind> = cfg.fields.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Name,
                Kind::Name,
                Kind::Date,
                Kind::Phone,
                Kind::Address
            ]
        );
        assert_eq!(cfg.blocking[0].on, ["given_name", "surname"]);
    }
}
