//! What is coded about a case beyond its status and form: venues and industries, places, risk factors,
//! recruitment, and the means of control — stored as one JSON document with the case.

use crate::codes::{
    Means, RecruiterRelation, Recruitment, RiskFactor, ServiceType, Typology, UsState,
};
use serde::{Deserialize, Serialize};

/// Every USPS state code Lantern knows (the states, DC and Puerto Rico), in [`UsState`]'s order.
pub fn us_states() -> Vec<&'static str> {
    UsState::ALL.iter().map(|s| s.code()).collect()
}

/// Parses a USPS state code (case-insensitive), or says what is allowed.
pub fn us_state(raw: &str) -> Result<String, String> {
    UsState::parse_usps(raw)
        .map(|s| s.code().to_owned())
        .map_err(|_| format!("`{raw}` is not a USPS state code such as TX or NY"))
}

/// Parses a 5-digit ZIP code (ZIP+4 is cut to 5).
pub fn zip_code(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let five = s.split('-').next().unwrap_or("");
    if five.len() == 5 && five.chars().all(|c| c.is_ascii_digit()) {
        Ok(five.to_owned())
    } else {
        Err(format!("`{raw}` is not a ZIP code such as 78701"))
    }
}

/// Parses an ISO 639 language code (two or three lowercase letters).
pub fn language(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_lowercase();
    if (2..=3).contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase()) {
        Ok(s)
    } else {
        Err(format!(
            "`{raw}` is not an ISO 639 language code such as en or es"
        ))
    }
}

/// A county's name as places are compared: trimmed, inner spaces single, and ` County` added when
/// the name carries no kind of its own (`Parish`, `Borough`, `Census Area`, `Municipality`, `city`),
/// so that `Cook` and `Cook County` are the same county; `None` when blank.
pub fn county_name(raw: &str) -> Option<String> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return None;
    }
    let lower = name.to_lowercase();
    let kinds = [
        " county",
        " parish",
        " borough",
        " census area",
        " municipality",
        " city",
    ];
    if kinds.iter().any(|k| lower.ends_with(k)) {
        Some(name)
    } else {
        Some(format!("{name} County"))
    }
}

/// One place a case happens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseLocation {
    /// USPS state code.
    pub state: String,
    /// County, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    /// City, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// ZIP code, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
}

/// The coded details of a case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDetails {
    /// Venues and industries.
    #[serde(default)]
    pub typology: Vec<Typology>,
    /// Where it happens; a case may have several places.
    #[serde(default)]
    pub locations: Vec<CaseLocation>,
    /// Vulnerabilities of the potential victims.
    #[serde(default)]
    pub risk_factors: Vec<RiskFactor>,
    /// How people were recruited.
    #[serde(default)]
    pub recruitment: Vec<Recruitment>,
    /// Who recruited them.
    #[serde(default)]
    pub recruiter_relation: Option<RecruiterRelation>,
    /// The means of control reported across the case's contacts.
    #[serde(default)]
    pub means: Vec<Means>,
    /// What the potential victims need, as service types of the directory (DOMAIN.md §5), recorded
    /// by the advocate whether or not a referral could be made: the demand side of the gap analysis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<ServiceType>,
}

impl CaseDetails {
    /// Checks what types alone cannot: every location names a valid state and ZIP.
    pub fn check(&mut self) -> Result<(), (String, String)> {
        for (i, l) in self.locations.iter_mut().enumerate() {
            l.state =
                us_state(&l.state).map_err(|m| (format!("details.locations[{i}].state"), m))?;
            if let Some(z) = &l.zip {
                l.zip = Some(zip_code(z).map_err(|m| (format!("details.locations[{i}].zip"), m))?);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_checked_and_normalised() {
        assert_eq!(us_state("tx").unwrap(), "TX");
        assert!(us_state("Texas").is_err());
        assert_eq!(zip_code("78701-1234").unwrap(), "78701");
        assert!(zip_code("7870").is_err());
        assert_eq!(language("ES").unwrap(), "es");
        let mut d = CaseDetails {
            locations: vec![CaseLocation {
                state: "zz".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(d.check().unwrap_err().0, "details.locations[0].state");
    }

    #[test]
    fn a_county_is_named_the_same_with_or_without_its_kind() {
        assert_eq!(county_name(" Cook ").as_deref(), Some("Cook County"));
        assert_eq!(county_name("Cook  County").as_deref(), Some("Cook County"));
        assert_eq!(
            county_name("Orleans Parish").as_deref(),
            Some("Orleans Parish")
        );
        assert_eq!(county_name("   "), None);
    }
}
