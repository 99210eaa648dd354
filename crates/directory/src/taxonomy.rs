//! Lantern's taxonomy (DOMAIN.md §5) as HSDS taxonomy terms, linked to services through `attribute`,
//! and a crosswalk from Open Eligibility terms applied on import.

use crate::model::{Attribute, Directory, Taxonomy, TaxonomyTerm};
use lantern_domain::codes::{Population, ServiceType};
use std::collections::BTreeMap;

/// The id of Lantern's service-type taxonomy.
pub const SERVICE_TYPE_TAXONOMY_ID: &str = "6c616e74-6572-4000-8000-000000000001";
/// The id of Lantern's population taxonomy.
pub const POPULATION_TAXONOMY_ID: &str = "6c616e74-6572-4000-8000-000000000002";
/// `link_type` of an attribute giving a service type.
pub const LINK_SERVICE_TYPE: &str = "service_type";
/// `link_type` of an attribute giving a population served.
pub const LINK_POPULATION: &str = "population";

/// The taxonomy-term id of a service type (stable across installations).
pub fn service_type_term_id(t: ServiceType) -> String {
    let i = ServiceType::ALL.iter().position(|x| *x == t).unwrap_or(0);
    format!("6c616e74-6572-4001-8000-{:012x}", i + 1)
}

/// The taxonomy-term id of a population (stable across installations).
pub fn population_term_id(p: Population) -> String {
    let i = Population::ALL.iter().position(|x| *x == p).unwrap_or(0);
    format!("6c616e74-6572-4002-8000-{:012x}", i + 1)
}

/// Adds Lantern's two taxonomies and all their terms to a directory (idempotent).
pub fn install(dir: &mut Directory) {
    for (id, name, desc) in [
        (
            SERVICE_TYPE_TAXONOMY_ID,
            "lantern_service_type",
            "Lantern's service types (DOMAIN.md §5)",
        ),
        (
            POPULATION_TAXONOMY_ID,
            "lantern_population",
            "Populations served (DOMAIN.md §5)",
        ),
    ] {
        dir.taxonomy.insert(
            id.into(),
            Taxonomy {
                id: id.into(),
                name: Some(name.into()),
                description: Some(desc.into()),
                ..Taxonomy::default()
            },
        );
    }
    for &t in ServiceType::ALL {
        let id = service_type_term_id(t);
        dir.taxonomy_term.insert(
            id.clone(),
            term(id, t.code(), t.label(), SERVICE_TYPE_TAXONOMY_ID),
        );
    }
    for &p in Population::ALL {
        let id = population_term_id(p);
        dir.taxonomy_term.insert(
            id.clone(),
            term(id, p.code(), p.label(), POPULATION_TAXONOMY_ID),
        );
    }
}

fn term(id: String, code: &str, label: &str, taxonomy_id: &str) -> TaxonomyTerm {
    TaxonomyTerm {
        id,
        code: Some(code.into()),
        name: Some(label.into()),
        description: Some(label.into()),
        taxonomy_id: Some(taxonomy_id.into()),
        ..TaxonomyTerm::default()
    }
}

/// An attribute linking a service to a service type.
pub fn service_type_attribute(service_id: &str, t: ServiceType) -> Attribute {
    link(
        service_id,
        LINK_SERVICE_TYPE,
        service_type_term_id(t),
        t.code(),
    )
}

/// An attribute linking a service to a population.
pub fn population_attribute(service_id: &str, p: Population) -> Attribute {
    link(service_id, LINK_POPULATION, population_term_id(p), p.code())
}

fn link(service_id: &str, link_type: &str, term_id: String, code: &str) -> Attribute {
    Attribute {
        id: derived_id(service_id, &term_id),
        link_id: Some(service_id.into()),
        link_type: Some(link_type.into()),
        link_entity: Some("service".into()),
        taxonomy_term_id: Some(term_id),
        label: Some(code.into()),
        ..Attribute::default()
    }
}

/// A stable UUID-shaped id derived from a service and a term (FNV-1a, 128 bits), so that the same link
/// always gets the same id and different links never share one in practice.
fn derived_id(service_id: &str, term_id: &str) -> String {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in service_id.bytes().chain([0u8]).chain(term_id.bytes()) {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    let hex = format!("{h:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..]
    )
}

/// The service types and populations of every service, read from its attributes (only terms of
/// Lantern's taxonomies count).
pub fn classify(dir: &Directory) -> BTreeMap<String, (Vec<ServiceType>, Vec<Population>)> {
    let types: BTreeMap<String, ServiceType> = ServiceType::ALL
        .iter()
        .map(|&t| (service_type_term_id(t), t))
        .collect();
    let pops: BTreeMap<String, Population> = Population::ALL
        .iter()
        .map(|&p| (population_term_id(p), p))
        .collect();
    let mut out: BTreeMap<String, (Vec<ServiceType>, Vec<Population>)> = BTreeMap::new();
    for a in dir.attribute.values() {
        let (Some(link), Some(term)) = (&a.link_id, &a.taxonomy_term_id) else {
            continue;
        };
        if let Some(&t) = types.get(term) {
            let e = out.entry(link.clone()).or_default();
            if !e.0.contains(&t) {
                e.0.push(t);
            }
        } else if let Some(&p) = pops.get(term) {
            let e = out.entry(link.clone()).or_default();
            if !e.1.contains(&p) {
                e.1.push(p);
            }
        }
    }
    out
}

/// A Lantern code an Open Eligibility term maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crosswalk {
    /// A service type.
    Type(ServiceType),
    /// A population.
    Population(Population),
}

/// Open Eligibility term names (lower case) and the Lantern codes they map to.
pub const OPEN_ELIGIBILITY: &[(&str, Crosswalk)] = {
    use Crosswalk::{Population as P, Type as T};
    use Population as Po;
    use ServiceType as S;
    &[
        ("emergency shelter", T(S::EmergencyShelter)),
        ("temporary shelter", T(S::EmergencyShelter)),
        ("short-term housing", T(S::EmergencyShelter)),
        ("housing", T(S::LongTermHousing)),
        ("long-term housing", T(S::LongTermHousing)),
        ("help find housing", T(S::LongTermHousing)),
        ("legal", T(S::LegalServices)),
        ("advocacy & legal aid", T(S::LegalServices)),
        ("legal representation", T(S::LegalServices)),
        ("immigration", T(S::ImmigrationLegal)),
        ("medical care", T(S::MedicalCare)),
        ("health", T(S::MedicalCare)),
        ("mental health care", T(S::MentalHealthCounseling)),
        ("counseling", T(S::MentalHealthCounseling)),
        ("addiction & recovery", T(S::SubstanceUseTreatment)),
        ("case management", T(S::CaseManagement)),
        ("work", T(S::EmploymentTraining)),
        ("skills & training", T(S::EmploymentTraining)),
        ("education", T(S::Education)),
        ("food", T(S::BasicNeeds)),
        ("goods", T(S::BasicNeeds)),
        ("emergency food", T(S::BasicNeeds)),
        ("clothing", T(S::BasicNeeds)),
        ("transit", T(S::Transportation)),
        ("transportation", T(S::Transportation)),
        ("translation & interpretation", T(S::Interpretation)),
        ("money", T(S::FinancialAssistance)),
        ("financial assistance", T(S::FinancialAssistance)),
        ("hotlines", T(S::CrisisLine)),
        ("crisis intervention", T(S::CrisisLine)),
        ("domestic violence", T(S::DomesticViolenceServices)),
        ("sexual assault", T(S::SexualAssaultServices)),
        ("adults", P(Po::Adults)),
        ("children", P(Po::Minors)),
        ("teens", P(Po::Minors)),
        ("youth", P(Po::Minors)),
        ("women", P(Po::Women)),
        ("men", P(Po::Men)),
        (
            "transgender and gender non-conforming",
            P(Po::TransgenderNonbinary),
        ),
        ("lgbtq", P(Po::Lgbtq)),
        ("immigrants", P(Po::ForeignNationals)),
        ("refugees", P(Po::ForeignNationals)),
        ("families", P(Po::FamiliesWithChildren)),
        ("disabled", P(Po::PeopleWithDisabilities)),
        ("trafficking survivors", P(Po::SexTraffickingSurvivors)),
    ]
};

/// Maps an Open Eligibility term name to a Lantern code (case and surrounding space ignored).
pub fn open_eligibility(name: &str) -> Option<Crosswalk> {
    let n = name.trim().to_lowercase();
    OPEN_ELIGIBILITY
        .iter()
        .find(|(k, _)| *k == n)
        .map(|&(_, c)| c)
}

/// Adds Lantern attributes to every service linked to an Open Eligibility term (a term whose
/// `taxonomy` or taxonomy name mentions "open eligibility"). Returns how many attributes were added.
pub fn apply_open_eligibility_crosswalk(dir: &mut Directory) -> usize {
    let oe_taxonomies: Vec<String> = dir
        .taxonomy
        .values()
        .filter(|t| {
            t.name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().contains("open eligibility"))
        })
        .map(|t| t.id.clone())
        .collect();
    let mut added = Vec::new();
    for a in dir.attribute.values() {
        let (Some(link), Some(term_id)) = (&a.link_id, &a.taxonomy_term_id) else {
            continue;
        };
        if a.link_entity.as_deref().is_some_and(|e| e != "service") {
            continue;
        }
        let Some(term) = dir.taxonomy_term.get(term_id) else {
            continue;
        };
        let is_oe = term
            .taxonomy
            .as_deref()
            .is_some_and(|t| t.to_lowercase().contains("open eligibility"))
            || term
                .taxonomy_id
                .as_ref()
                .is_some_and(|t| oe_taxonomies.contains(t));
        if !is_oe {
            continue;
        }
        match term.name.as_deref().and_then(open_eligibility) {
            Some(Crosswalk::Type(t)) => added.push(service_type_attribute(link, t)),
            Some(Crosswalk::Population(p)) => added.push(population_attribute(link, p)),
            None => {}
        }
    }
    install(dir);
    let mut n = 0;
    for a in added {
        if dir.attribute.insert(a.id.clone(), a).is_none() {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_domain_section_5_is_a_term_with_that_exact_code() {
        let mut dir = Directory::default();
        install(&mut dir);
        let codes: Vec<&str> = dir
            .taxonomy_term
            .values()
            .filter_map(|t| t.code.as_deref())
            .collect();
        for t in ServiceType::ALL {
            assert!(codes.contains(&t.code()), "{t}");
        }
        for p in Population::ALL {
            assert!(codes.contains(&p.code()), "{p}");
        }
        assert_eq!(
            dir.taxonomy_term.len(),
            ServiceType::ALL.len() + Population::ALL.len()
        );
    }

    #[test]
    fn open_eligibility_terms_become_lantern_service_types_and_populations() {
        let mut dir = Directory::default();
        dir.taxonomy_term.insert(
            "t1".into(),
            TaxonomyTerm {
                id: "t1".into(),
                name: Some("Emergency Shelter".into()),
                taxonomy: Some("Open Eligibility".into()),
                ..Default::default()
            },
        );
        dir.taxonomy_term.insert(
            "t2".into(),
            TaxonomyTerm {
                id: "t2".into(),
                name: Some("Immigrants".into()),
                taxonomy: Some("Open Eligibility".into()),
                ..Default::default()
            },
        );
        for (id, term) in [("a1", "t1"), ("a2", "t2")] {
            dir.attribute.insert(
                id.into(),
                Attribute {
                    id: id.into(),
                    link_id: Some("00000000-0000-4000-8000-000000000001".into()),
                    taxonomy_term_id: Some(term.into()),
                    ..Default::default()
                },
            );
        }
        assert_eq!(apply_open_eligibility_crosswalk(&mut dir), 2);
        let c = classify(&dir);
        let (types, pops) = &c["00000000-0000-4000-8000-000000000001"];
        assert_eq!(types, &vec![ServiceType::EmergencyShelter]);
        assert_eq!(pops, &vec![Population::ForeignNationals]);
        assert_eq!(
            apply_open_eligibility_crosswalk(&mut dir),
            0,
            "applying twice adds nothing"
        );
    }

    #[test]
    fn a_service_keeps_every_type_and_population_it_is_linked_to() {
        let mut dir = Directory::default();
        let svc = "00000000-0000-4000-8000-000000000009";
        for a in [
            service_type_attribute(svc, ServiceType::LegalServices),
            service_type_attribute(svc, ServiceType::CaseManagement),
            population_attribute(svc, Population::Adults),
            population_attribute(svc, Population::Men),
        ] {
            assert!(uuid::Uuid::parse_str(&a.id).is_ok(), "{}", a.id);
            dir.attribute.insert(a.id.clone(), a);
        }
        let (types, pops) = &classify(&dir)[svc];
        assert_eq!(types.len(), 2);
        assert_eq!(pops.len(), 2);
    }
}
