//! A small hand-made directory for tests.

use lantern_directory::ext::{LanternExt, LanternLocationType, VettingInfo, Visibility};
use lantern_directory::model::*;
use lantern_directory::taxonomy::{install, population_attribute, service_type_attribute};
use lantern_domain::codes::{Population, ServiceType, Vetting};

pub struct Spec<'a> {
    pub name: &'a str,
    pub lat: f64,
    pub lng: f64,
    pub types: &'a [ServiceType],
    pub pops: &'a [Population],
    pub langs: &'a [&'a str],
    pub hours: Option<(&'a str, &'a str, &'a str)>,
    pub vetted: bool,
    pub redacted: bool,
    pub tz: &'a str,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            name: "Legal Aid",
            lat: 41.8781,
            lng: -87.6298,
            types: &[ServiceType::LegalServices],
            pops: &[Population::Adults],
            langs: &["en"],
            hours: Some(("MO,TU,WE,TH,FR", "09:00", "17:00")),
            vetted: true,
            redacted: false,
            tz: "America/Chicago",
        }
    }
}

pub fn id(n: u32, kind: u32) -> String {
    format!("00000000-0000-4000-8{kind:03x}-{n:012x}")
}

/// Adds one organisation with one service at one location; returns (service id, location id).
pub fn add(dir: &mut Directory, n: u32, s: &Spec) -> (String, String) {
    if dir.taxonomy.is_empty() {
        install(dir);
    }
    let (org, svc, loc, sal, addr) = (id(n, 1), id(n, 2), id(n, 3), id(n, 4), id(n, 5));
    dir.organization.insert(
        org.clone(),
        Organization {
            id: org.clone(),
            name: Some(format!("Org {n}")),
            description: Some("org".into()),
            ..Default::default()
        },
    );
    let vetting = VettingInfo {
        status: if s.vetted {
            Vetting::Vetted
        } else {
            Vetting::Pending
        },
        vetted_on: None,
        vetted_by: s.vetted.then(|| "tester".into()),
        reverify_due: None,
    };
    dir.service.insert(
        svc.clone(),
        Service {
            id: svc.clone(),
            organization_id: Some(org.clone()),
            name: Some(s.name.into()),
            description: Some("Helps survivors.".into()),
            status: Some("active".into()),
            lantern: Some(LanternExt {
                vetting: Some(vetting),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    dir.location.insert(
        loc.clone(),
        Location {
            id: loc.clone(),
            location_type: Some("physical".into()),
            organization_id: Some(org.clone()),
            name: Some(format!("Site {n}")),
            latitude: Some(s.lat),
            longitude: Some(s.lng),
            lantern: Some(LanternExt {
                time_zone: Some(s.tz.into()),
                location_type: s.redacted.then_some(LanternLocationType::Redacted),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    dir.address.insert(
        addr.clone(),
        Address {
            id: addr,
            location_id: Some(loc.clone()),
            address_1: Some(format!("{n} Secret Street")),
            city: Some("Chicago".into()),
            state_province: Some("IL".into()),
            postal_code: Some("60601".into()),
            country: Some("US".into()),
            address_type: Some("physical".into()),
            ..Default::default()
        },
    );
    dir.service_at_location.insert(
        sal.clone(),
        ServiceAtLocation {
            id: sal.clone(),
            service_id: Some(svc.clone()),
            location_id: Some(loc.clone()),
            ..Default::default()
        },
    );
    for &t in s.types {
        let a = service_type_attribute(&svc, t);
        dir.attribute.insert(a.id.clone(), a);
    }
    for &p in s.pops {
        let a = population_attribute(&svc, p);
        dir.attribute.insert(a.id.clone(), a);
    }
    for (i, l) in s.langs.iter().enumerate() {
        let lid = format!("{}-{i}", id(n, 6));
        dir.language.insert(
            lid.clone(),
            Language {
                id: lid,
                service_id: Some(svc.clone()),
                code: Some((*l).into()),
                ..Default::default()
            },
        );
    }
    if let Some((byday, o, c)) = s.hours {
        let sid = id(n, 7);
        dir.schedule.insert(
            sid.clone(),
            Schedule {
                id: sid,
                service_at_location_id: Some(sal),
                freq: Some("WEEKLY".into()),
                byday: Some(byday.into()),
                opens_at: Some(o.into()),
                closes_at: Some(c.into()),
                ..Default::default()
            },
        );
    }
    let pid = id(n, 8);
    dir.phone.insert(
        pid.clone(),
        Phone {
            id: pid,
            service_id: Some(svc.clone()),
            number: Some("+13125550100".into()),
            ..Default::default()
        },
    );
    let cell = id(n, 9);
    dir.phone.insert(
        cell.clone(),
        Phone {
            id: cell,
            organization_id: Some(org),
            number: Some("+13125559999".into()),
            description: Some("director's cell".into()),
            lantern: Some(LanternExt {
                visibility: Visibility::Internal,
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    (svc, loc)
}
