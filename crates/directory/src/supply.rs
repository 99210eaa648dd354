//! The supply side of the gap analysis: each vetted, active service of a directory with its service
//! types, the populations it serves, and the places it serves — the state and county of each of its
//! locations' addresses (the county from the ZIP gazetteer) and its state or county service areas.

use crate::gazetteer::Gazetteer;
use crate::model::Directory;
use crate::taxonomy::classify;
use jiff::civil::Date;
use lantern_domain::case::county_name;
use lantern_domain::codes::{Population, ServiceType, UsState};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A place a service serves: a state, and the county when known.
pub type Place = (UsState, Option<String>);

/// One vetted service as the gap analysis counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The service's id.
    pub service_id: String,
    /// What it offers.
    pub types: Vec<ServiceType>,
    /// Whom it serves, as recorded (a service recording no population is counted for none, as the
    /// search's population filter does).
    pub populations: Vec<Population>,
    /// Where it serves.
    pub places: BTreeSet<Place>,
}

/// Every service that counts as vetted on `today` (its own vetting, else its organisation's) and is
/// active, with the places it serves; services with no place in a US state (a national line, a
/// virtual service) are left out, since gaps are counted per state.
pub fn vetted_offers(dir: &Directory, today: Date) -> Vec<Offer> {
    let classes = classify(dir);
    let gazetteer = Gazetteer::get();
    let mut places_of_location: HashMap<&str, BTreeSet<Place>> = HashMap::new();
    for a in dir.address.values() {
        let (Some(loc), Some(st)) = (a.location_id.as_deref(), a.state_province.as_deref()) else {
            continue;
        };
        let Ok(state) = UsState::parse_usps(st.trim()) else {
            continue;
        };
        let county = a
            .postal_code
            .as_deref()
            .and_then(|z| gazetteer.zip(z.trim().get(..5)?))
            .filter(|z| z.state == state.code())
            .and_then(|z| county_name(&z.county));
        places_of_location
            .entry(loc)
            .or_default()
            .insert((state, county));
    }
    let mut places_of_service: HashMap<&str, BTreeSet<Place>> = HashMap::new();
    for sal in dir.service_at_location.values() {
        let (Some(svc), Some(loc)) = (sal.service_id.as_deref(), sal.location_id.as_deref()) else {
            continue;
        };
        if let Some(p) = places_of_location.get(loc) {
            places_of_service
                .entry(svc)
                .or_default()
                .extend(p.iter().cloned());
        }
    }
    for area in dir.service_area.values() {
        let (Some(svc), Some(extent)) = (area.service_id.as_deref(), area.extent.as_deref()) else {
            continue;
        };
        let kind = area.extent_type.as_deref().unwrap_or_default();
        let place = match kind.trim().to_lowercase().as_str() {
            "state" => UsState::parse_usps(extent.trim()).ok().map(|s| (s, None)),
            "county" => extent
                .rsplit_once(',')
                .and_then(|(c, s)| Some((UsState::parse_usps(s.trim()).ok()?, county_name(c)))),
            _ => None,
        };
        if let Some(p) = place {
            places_of_service.entry(svc).or_default().insert(p);
        }
    }
    let mut out = Vec::new();
    for svc in dir.service.values() {
        if svc.status.as_deref().is_some_and(|s| s != "active") {
            continue;
        }
        let vetting = svc
            .lantern
            .as_ref()
            .and_then(|e| e.vetting.as_ref())
            .or_else(|| {
                let org = dir.organization.get(svc.organization_id.as_deref()?)?;
                org.lantern.as_ref()?.vetting.as_ref()
            });
        if !vetting.is_some_and(|v| v.is_vetted_on(today)) {
            continue;
        }
        let Some(places) = places_of_service.remove(svc.id.as_str()) else {
            continue;
        };
        let (types, populations) = classes.get(&svc.id).cloned().unwrap_or_default();
        if types.is_empty() {
            continue;
        }
        out.push(Offer {
            service_id: svc.id.clone(),
            types,
            populations,
            places,
        });
    }
    out.sort_by(|a, b| a.service_id.cmp(&b.service_id));
    out
}

/// What the vetted directory offers where: per place (a state with `None`, each service once; and each
/// county a service serves), service type and population, how many vetted services on `today`. A
/// service serving several populations or offering several types is counted under each.
pub fn supply_counts(
    dir: &Directory,
    today: Date,
) -> BTreeMap<(Place, ServiceType, Population), u64> {
    let mut supply = BTreeMap::new();
    for offer in vetted_offers(dir, today) {
        let states: BTreeSet<UsState> = offer.places.iter().map(|p| p.0).collect();
        let counties = offer.places.iter().filter(|p| p.1.is_some()).cloned();
        for place in states.into_iter().map(|s| (s, None)).chain(counties) {
            for &service in &offer.types {
                for &population in &offer.populations {
                    *supply
                        .entry((place.clone(), service, population))
                        .or_default() += 1;
                }
            }
        }
    }
    supply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::{LanternExt, VettingInfo};
    use crate::model::{Address, Location, Organization, Service, ServiceArea, ServiceAtLocation};
    use crate::taxonomy::{install, population_attribute, service_type_attribute};
    use lantern_domain::codes::Vetting;

    fn vetting(status: Vetting, due: Option<Date>) -> Option<LanternExt> {
        Some(LanternExt {
            vetting: Some(VettingInfo {
                status,
                vetted_on: None,
                vetted_by: None,
                reverify_due: due,
            }),
            ..LanternExt::default()
        })
    }

    fn service(dir: &mut Directory, id: &str, org: &str, ext: Option<LanternExt>) {
        dir.service.insert(
            id.into(),
            Service {
                id: id.into(),
                organization_id: Some(org.into()),
                status: Some("active".into()),
                lantern: ext,
                ..Service::default()
            },
        );
        let a = service_type_attribute(id, ServiceType::EmergencyShelter);
        dir.attribute.insert(a.id.clone(), a);
        let a = population_attribute(id, Population::Men);
        dir.attribute.insert(a.id.clone(), a);
    }

    #[test]
    fn only_vetted_services_count_in_the_states_and_counties_they_serve() {
        let mut dir = Directory::default();
        install(&mut dir);
        dir.organization.insert(
            "org".into(),
            Organization {
                id: "org".into(),
                lantern: vetting(Vetting::Vetted, None),
                ..Organization::default()
            },
        );
        dir.location.insert(
            "loc".into(),
            Location {
                id: "loc".into(),
                ..Location::default()
            },
        );
        dir.address.insert(
            "addr".into(),
            Address {
                id: "addr".into(),
                location_id: Some("loc".into()),
                state_province: Some("IL".into()),
                postal_code: Some("60601".into()),
                ..Address::default()
            },
        );
        // Vetted through its organisation, at a location in Chicago.
        service(&mut dir, "a", "org", None);
        dir.service_at_location.insert(
            "sal".into(),
            ServiceAtLocation {
                id: "sal".into(),
                service_id: Some("a".into()),
                location_id: Some("loc".into()),
                ..ServiceAtLocation::default()
            },
        );
        // Its own vetting has lapsed: left out although the organisation is vetted.
        service(&mut dir, "b", "org", vetting(Vetting::Lapsed, None));
        dir.service_area.insert(
            "area-b".into(),
            ServiceArea {
                id: "area-b".into(),
                service_id: Some("b".into()),
                extent: Some("TX".into()),
                extent_type: Some("state".into()),
                ..ServiceArea::default()
            },
        );
        // Vetted, past its re-verification date: left out.
        let due = jiff::civil::date(2026, 1, 1);
        service(&mut dir, "c", "org", vetting(Vetting::Vetted, Some(due)));
        // Vetted, serving a county by its service area.
        service(&mut dir, "d", "org", vetting(Vetting::Vetted, None));
        dir.service_area.insert(
            "area-d".into(),
            ServiceArea {
                id: "area-d".into(),
                service_id: Some("d".into()),
                extent: Some("Harris, TX".into()),
                extent_type: Some("county".into()),
                ..ServiceArea::default()
            },
        );
        dir.service_area.insert(
            "area-c".into(),
            ServiceArea {
                id: "area-c".into(),
                service_id: Some("c".into()),
                extent: Some("CA".into()),
                extent_type: Some("state".into()),
                ..ServiceArea::default()
            },
        );
        let offers = vetted_offers(&dir, jiff::civil::date(2026, 6, 1));
        let got: Vec<(&str, Vec<Place>)> = offers
            .iter()
            .map(|o| (o.service_id.as_str(), o.places.iter().cloned().collect()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", vec![(UsState::Il, Some("Cook County".into()))]),
                ("d", vec![(UsState::Tx, Some("Harris County".into()))]),
            ]
        );
        assert_eq!(offers[0].types, [ServiceType::EmergencyShelter]);
        assert_eq!(offers[0].populations, [Population::Men]);
        // Counted once per state and once per county served.
        let counts = supply_counts(&dir, jiff::civil::date(2026, 6, 1));
        let shelter = |place: Place| (place, ServiceType::EmergencyShelter, Population::Men);
        assert_eq!(counts.len(), 4, "{counts:?}");
        assert_eq!(counts[&shelter((UsState::Il, None))], 1);
        assert_eq!(
            counts[&shelter((UsState::Il, Some("Cook County".into())))],
            1
        );
        assert_eq!(counts[&shelter((UsState::Tx, None))], 1);
        assert!(!counts.contains_key(&shelter((UsState::Ca, None))));
    }
}
