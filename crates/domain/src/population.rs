//! Which populations served (DOMAIN.md §5) the people of a case belong to, from what is coded about
//! them: the potential victims' gender, age and nationality, the case's form, and its risk factors.
//! The gap analysis matches a case's needs against directory services serving these populations.

use crate::codes::{AgeBand, CaseForm, Gender, Population, RiskFactor};
use std::collections::BTreeSet;

/// What is coded about one potential victim.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Victim<'a> {
    /// Gender, when recorded.
    pub gender: Option<Gender>,
    /// Age in years, when known.
    pub age: Option<u32>,
    /// CTDC age band, when only that is known.
    pub age_band: Option<AgeBand>,
    /// Nationality (ISO 3166 alpha-2), when known.
    pub nationality: Option<&'a str>,
}

/// The populations of a case: each potential victim's gender (`woman` → women, `man` → men,
/// `transgender_nonconforming` → transgender and non-binary people and LGBTQ people), age (under 18
/// → minors, else adults; the band when the age is not known) and nationality (`US` → U.S. citizens,
/// any other → foreign nationals); the form (`sex`, `labor`, both) → sex or labor trafficking
/// survivors; the risk factors `lgbtq` and `disability`. What is unknown adds nothing; families with
/// children are never inferred.
pub fn populations_of(
    form: CaseForm,
    victims: &[Victim<'_>],
    risk_factors: &[RiskFactor],
) -> BTreeSet<Population> {
    let mut out = BTreeSet::new();
    for v in victims {
        match v.gender {
            Some(Gender::Woman) => {
                out.insert(Population::Women);
            }
            Some(Gender::Man) => {
                out.insert(Population::Men);
            }
            Some(Gender::TransgenderNonconforming) => {
                out.extend([Population::TransgenderNonbinary, Population::Lgbtq]);
            }
            Some(Gender::Unknown) | None => {}
        }
        let minor = match (v.age, v.age_band) {
            (Some(age), _) => Some(age < 18),
            (None, Some(band)) => Some(band.is_minor()),
            (None, None) => None,
        };
        match minor {
            Some(true) => out.insert(Population::Minors),
            Some(false) => out.insert(Population::Adults),
            None => false,
        };
        match v.nationality.map(str::trim) {
            Some(n) if n.eq_ignore_ascii_case("US") => {
                out.insert(Population::UsCitizens);
            }
            Some(n) if !n.is_empty() => {
                out.insert(Population::ForeignNationals);
            }
            _ => {}
        }
    }
    if matches!(form, CaseForm::Sex | CaseForm::SexAndLabor) {
        out.insert(Population::SexTraffickingSurvivors);
    }
    if matches!(form, CaseForm::Labor | CaseForm::SexAndLabor) {
        out.insert(Population::LaborTraffickingSurvivors);
    }
    for r in risk_factors {
        match r {
            RiskFactor::Lgbtq => {
                out.insert(Population::Lgbtq);
            }
            RiskFactor::Disability => {
                out.insert(Population::PeopleWithDisabilities);
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Population as P;

    #[test]
    fn a_man_in_labor_trafficking_from_abroad_is_a_foreign_adult_man_and_a_labor_survivor() {
        let v = Victim {
            gender: Some(Gender::Man),
            age: Some(34),
            nationality: Some("MX"),
            ..Victim::default()
        };
        let got = populations_of(CaseForm::Labor, &[v], &[]);
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            [
                P::Adults,
                P::Men,
                P::ForeignNationals,
                P::LaborTraffickingSurvivors
            ]
        );
    }

    #[test]
    fn a_minor_is_known_by_age_or_band_and_unknowns_add_nothing() {
        let by_band = Victim {
            gender: Some(Gender::Woman),
            age_band: Some(AgeBand::A9to17),
            nationality: Some("US"),
            ..Victim::default()
        };
        let unknown = Victim::default();
        let got = populations_of(
            CaseForm::SexAndLabor,
            &[by_band, unknown],
            &[RiskFactor::Lgbtq, RiskFactor::Disability],
        );
        assert!(got.contains(&P::Minors) && !got.contains(&P::Adults));
        assert!(got.contains(&P::UsCitizens) && !got.contains(&P::ForeignNationals));
        assert!(got.contains(&P::SexTraffickingSurvivors));
        assert!(got.contains(&P::LaborTraffickingSurvivors));
        assert!(got.contains(&P::Lgbtq) && got.contains(&P::PeopleWithDisabilities));
        assert!(!got.contains(&P::Men) && !got.contains(&P::FamiliesWithChildren));
        assert!(populations_of(CaseForm::NotSpecified, &[unknown], &[]).is_empty());
    }
}
