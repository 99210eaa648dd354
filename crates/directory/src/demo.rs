//! A deterministic generator of a realistic national referral network: organisations placed in cities
//! in proportion to metro population (and some in small towns), with a real network's mix of service
//! types (many legal and case-management services; few shelters serving men or labor-trafficking
//! survivors), languages, hours, vetting and confidential shelter addresses. Same seed, same directory.

use crate::ext::{LanternExt, LanternLocationType, VettingInfo, Visibility};
use crate::gazetteer::Gazetteer;
use crate::model::{
    Address, Directory, Language, Location, Organization, Phone, Schedule, Service, ServiceArea,
    ServiceAtLocation,
};
use crate::taxonomy::{install, population_attribute, service_type_attribute};
use lantern_domain::codes::{Population, ServiceType, Vetting};

/// A small deterministic random generator (SplitMix64), stable across versions of any crate.
#[derive(Debug, Clone)]
pub struct DemoRng(u64);

impl DemoRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> DemoRng {
        DemoRng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    /// True with probability p.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A UUID v4-shaped identifier.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    fn pick<'a, T>(&mut self, items: &'a [(T, f64)]) -> &'a T {
        let total: f64 = items.iter().map(|i| i.1).sum();
        let mut x = self.unit() * total;
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[items.len() - 1].0
    }
}

/// Large US metros and their approximate populations in millions (2020 census, rounded), used to
/// spread entries by population.
const METROS: &[(&str, &str, f64)] = &[
    ("New York", "NY", 19.8),
    ("Los Angeles", "CA", 13.2),
    ("Chicago", "IL", 9.6),
    ("Dallas", "TX", 7.6),
    ("Houston", "TX", 7.1),
    ("Washington", "DC", 6.4),
    ("Philadelphia", "PA", 6.2),
    ("Miami", "FL", 6.1),
    ("Atlanta", "GA", 6.1),
    ("Boston", "MA", 4.9),
    ("Phoenix", "AZ", 4.8),
    ("San Francisco", "CA", 4.7),
    ("Riverside", "CA", 4.6),
    ("Detroit", "MI", 4.4),
    ("Seattle", "WA", 4.0),
    ("Minneapolis", "MN", 3.7),
    ("San Diego", "CA", 3.3),
    ("Tampa", "FL", 3.2),
    ("Denver", "CO", 3.0),
    ("Baltimore", "MD", 2.8),
    ("Saint Louis", "MO", 2.8),
    ("Orlando", "FL", 2.7),
    ("Charlotte", "NC", 2.7),
    ("San Antonio", "TX", 2.6),
    ("Portland", "OR", 2.5),
    ("Sacramento", "CA", 2.4),
    ("Pittsburgh", "PA", 2.4),
    ("Austin", "TX", 2.3),
    ("Las Vegas", "NV", 2.3),
    ("Cincinnati", "OH", 2.3),
    ("Kansas City", "MO", 2.2),
    ("Columbus", "OH", 2.1),
    ("Indianapolis", "IN", 2.1),
    ("Cleveland", "OH", 2.1),
    ("San Jose", "CA", 2.0),
    ("Nashville", "TN", 2.0),
    ("Virginia Beach", "VA", 1.8),
    ("Providence", "RI", 1.7),
    ("Jacksonville", "FL", 1.6),
    ("Milwaukee", "WI", 1.6),
    ("Raleigh", "NC", 1.4),
    ("Oklahoma City", "OK", 1.4),
    ("Memphis", "TN", 1.3),
    ("Richmond", "VA", 1.3),
    ("Louisville", "KY", 1.3),
    ("New Orleans", "LA", 1.3),
    ("Salt Lake City", "UT", 1.3),
    ("Hartford", "CT", 1.2),
    ("Buffalo", "NY", 1.2),
    ("Birmingham", "AL", 1.1),
    ("Albuquerque", "NM", 0.9),
    ("El Paso", "TX", 0.9),
    ("Omaha", "NE", 0.97),
    ("Boise", "ID", 0.76),
    ("Anchorage", "AK", 0.4),
    ("Honolulu", "HI", 1.0),
    ("Des Moines", "IA", 0.7),
    ("Little Rock", "AR", 0.75),
    ("Jackson", "MS", 0.6),
    ("Charleston", "WV", 0.25),
    ("Fargo", "ND", 0.25),
    ("Sioux Falls", "SD", 0.28),
    ("Billings", "MT", 0.18),
    ("Cheyenne", "WY", 0.1),
    ("Burlington", "VT", 0.23),
    ("Portland", "ME", 0.55),
    ("Manchester", "NH", 0.42),
    ("Wilmington", "DE", 0.72),
    ("Columbia", "SC", 0.83),
    ("Wichita", "KS", 0.65),
];

/// The mix of service types in a real network (weights).
const TYPE_MIX: &[(ServiceType, f64)] = &[
    (ServiceType::LegalServices, 14.0),
    (ServiceType::CaseManagement, 14.0),
    (ServiceType::ImmigrationLegal, 8.0),
    (ServiceType::MentalHealthCounseling, 8.0),
    (ServiceType::MedicalCare, 6.0),
    (ServiceType::BasicNeeds, 6.0),
    (ServiceType::DomesticViolenceServices, 6.0),
    (ServiceType::SexualAssaultServices, 4.0),
    (ServiceType::EmergencyShelter, 5.0),
    (ServiceType::LongTermHousing, 3.0),
    (ServiceType::SubstanceUseTreatment, 4.0),
    (ServiceType::EmploymentTraining, 4.0),
    (ServiceType::Education, 2.0),
    (ServiceType::Transportation, 2.0),
    (ServiceType::Interpretation, 2.0),
    (ServiceType::LawEnforcementLocal, 3.0),
    (ServiceType::LawEnforcementFederal, 1.0),
    (ServiceType::ChildWelfare, 2.0),
    (ServiceType::YouthServices, 3.0),
    (ServiceType::LgbtqServices, 2.0),
    (ServiceType::LaborRights, 2.0),
    (ServiceType::CrisisLine, 1.5),
    (ServiceType::FinancialAssistance, 2.0),
    (ServiceType::Repatriation, 0.5),
];

const LANGS: &[(&str, &str, f64)] = &[
    ("es", "Spanish", 0.40),
    ("zh", "Chinese", 0.05),
    ("vi", "Vietnamese", 0.04),
    ("ko", "Korean", 0.03),
    ("tl", "Tagalog", 0.03),
    ("ru", "Russian", 0.02),
    ("ar", "Arabic", 0.02),
    ("ht", "Haitian Creole", 0.02),
    ("fr", "French", 0.02),
    ("pt", "Portuguese", 0.02),
];

const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple St",
    "Washington Blvd",
    "Park Ave",
    "2nd St",
    "Elm St",
    "Lincoln Way",
    "Cedar Rd",
    "Lake Dr",
];
const ADJ: &[&str] = &[
    "Hope",
    "Harbor",
    "Bridge",
    "Beacon",
    "Unity",
    "New Path",
    "Safe Haven",
    "Open Door",
    "Compass",
    "Lighthouse",
    "Sunrise",
    "Cornerstone",
];

fn types_for(rng: &mut DemoRng) -> Vec<ServiceType> {
    let mut t = vec![*rng.pick(TYPE_MIX)];
    if rng.chance(0.3) {
        let second = *rng.pick(TYPE_MIX);
        if !t.contains(&second) && !second.is_law_enforcement() && !t[0].is_law_enforcement() {
            t.push(second);
        }
    }
    t
}

fn populations_for(rng: &mut DemoRng, types: &[ServiceType]) -> Vec<Population> {
    use Population as P;
    let shelter = types.iter().any(|t| {
        matches!(
            t,
            ServiceType::EmergencyShelter | ServiceType::LongTermHousing
        )
    });
    let mut p = Vec::new();
    let youth = types
        .iter()
        .any(|t| matches!(t, ServiceType::YouthServices | ServiceType::ChildWelfare));
    if youth {
        p.push(P::Minors);
    } else {
        p.push(P::Adults);
        if rng.chance(0.2) {
            p.push(P::Minors);
        }
    }
    if shelter {
        p.push(P::Women);
        if rng.chance(0.12) {
            p.push(P::Men);
        }
        if rng.chance(0.3) {
            p.push(P::FamiliesWithChildren);
        }
        p.push(P::SexTraffickingSurvivors);
        if rng.chance(0.1) {
            p.push(P::LaborTraffickingSurvivors);
        }
    } else {
        p.extend([P::Women, P::Men]);
        p.push(P::SexTraffickingSurvivors);
        if rng.chance(0.6) {
            p.push(P::LaborTraffickingSurvivors);
        }
    }
    for (pop, chance) in [
        (P::ForeignNationals, 0.6),
        (P::UsCitizens, 0.8),
        (P::TransgenderNonbinary, 0.35),
        (P::Lgbtq, 0.35),
        (P::PeopleWithDisabilities, 0.3),
    ] {
        let c = if pop == P::ForeignNationals && types.contains(&ServiceType::ImmigrationLegal) {
            1.0
        } else {
            chance
        };
        if rng.chance(c) {
            p.push(pop);
        }
    }
    p
}

/// Generates a directory of about `target` service-at-locations (at least `target`), deterministically
/// from `seed`.
pub fn generate(seed: u64, target: usize) -> Directory {
    let mut rng = DemoRng::new(seed);
    let g = Gazetteer::get();
    let metros: Vec<(crate::gazetteer::CityPlace, f64)> = METROS
        .iter()
        .filter_map(|(c, s, pop)| Some((g.city_state(c, s)?, *pop)))
        .collect();
    let weighted: Vec<(usize, f64)> = metros.iter().enumerate().map(|(i, m)| (i, m.1)).collect();
    let places = g.places();
    let mut dir = Directory::default();
    install(&mut dir);
    let mut sals = 0;
    let mut n = 0usize;
    while sals < target {
        n += 1;
        let zip = if rng.chance(0.8) {
            let m = &metros[*rng.pick(&weighted)].0;
            g.zip(&m.zips[rng.below(m.zips.len())]).cloned()
        } else {
            places.get(rng.below(places.len())).cloned()
        };
        let Some(zip) = zip else { continue };
        let org_id = rng.uuid();
        let adj = ADJ[rng.below(ADJ.len())];
        let org_name = format!("{adj} {} Center {n}", zip.city);
        let vetting = {
            let r = rng.unit();
            let status = if r < 0.7 {
                Vetting::Vetted
            } else if r < 0.9 {
                Vetting::Pending
            } else {
                Vetting::Lapsed
            };
            VettingInfo {
                status,
                vetted_on: (status != Vetting::Pending).then(|| {
                    jiff::civil::date(2026, 1 + rng.below(10) as i8, 1 + rng.below(28) as i8)
                }),
                vetted_by: (status != Vetting::Pending).then(|| "demo-manager".to_owned()),
                reverify_due: (status == Vetting::Vetted).then(|| {
                    jiff::civil::date(2027, 1 + rng.below(12) as i8, 1 + rng.below(28) as i8)
                }),
            }
        };
        dir.organization.insert(
            org_id.clone(),
            Organization {
                id: org_id.clone(),
                name: Some(org_name.clone()),
                description: Some(format!(
                    "Community organisation serving {} and the surrounding area.",
                    zip.city
                )),
                lantern: Some(LanternExt {
                    vetting: Some(vetting.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        let virtual_line = rng.chance(0.02);
        let n_services = 1 + rng.below(3);
        let mut types_all = Vec::new();
        for _ in 0..n_services {
            types_all.push(if virtual_line {
                vec![ServiceType::CrisisLine]
            } else {
                types_for(&mut rng)
            });
        }
        let shelter = types_all.iter().flatten().any(|t| {
            matches!(
                t,
                ServiceType::EmergencyShelter | ServiceType::DomesticViolenceServices
            )
        });
        let loc_id = rng.uuid();
        if !virtual_line {
            let lat = zip.lat + (rng.unit() - 0.5) * 0.02;
            let lng = zip.lng + (rng.unit() - 0.5) * 0.02;
            let redacted = shelter && rng.chance(0.8);
            dir.location.insert(
                loc_id.clone(),
                Location {
                    id: loc_id.clone(),
                    location_type: Some("physical".into()),
                    organization_id: Some(org_id.clone()),
                    name: Some(format!("{org_name} – {}", zip.city)),
                    latitude: Some((lat * 1e5).round() / 1e5),
                    longitude: Some((lng * 1e5).round() / 1e5),
                    lantern: Some(LanternExt {
                        location_type: redacted.then_some(LanternLocationType::Redacted),
                        time_zone: (!zip.time_zone.is_empty()).then(|| zip.time_zone.clone()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            );
            let addr_id = rng.uuid();
            dir.address.insert(
                addr_id.clone(),
                Address {
                    id: addr_id,
                    location_id: Some(loc_id.clone()),
                    address_1: Some(format!(
                        "{} {}",
                        100 + rng.below(9800),
                        STREETS[rng.below(STREETS.len())]
                    )),
                    city: Some(zip.city.clone()),
                    state_province: Some(zip.state.clone()),
                    postal_code: Some(zip.zip.clone()),
                    country: Some("US".into()),
                    address_type: Some("physical".into()),
                    lantern: redacted.then(|| LanternExt {
                        visibility: Visibility::Internal,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            );
        }
        for types in types_all {
            let svc_id = rng.uuid();
            let main = types[0];
            dir.service.insert(
                svc_id.clone(),
                Service {
                    id: svc_id.clone(),
                    organization_id: Some(org_id.clone()),
                    name: Some(format!("{} – {adj}", main.label())),
                    description: Some(format!(
                        "{} for survivors of human trafficking in {}, {}.",
                        main.label(),
                        zip.city,
                        zip.state
                    )),
                    status: Some("active".into()),
                    ..Default::default()
                },
            );
            for &t in &types {
                let a = service_type_attribute(&svc_id, t);
                dir.attribute.insert(a.id.clone(), a);
            }
            for p in populations_for(&mut rng, &types) {
                let a = population_attribute(&svc_id, p);
                dir.attribute.insert(a.id.clone(), a);
            }
            let codes: Vec<&str> = ["en"]
                .into_iter()
                .chain(LANGS.iter().filter(|l| rng.chance(l.2)).map(|l| l.0))
                .collect();
            for code in codes {
                let id = rng.uuid();
                let name = LANGS
                    .iter()
                    .find(|l| l.0 == code)
                    .map_or("English", |l| l.1);
                dir.language.insert(
                    id.clone(),
                    Language {
                        id,
                        service_id: Some(svc_id.clone()),
                        code: Some(code.into()),
                        name: Some(name.into()),
                        ..Default::default()
                    },
                );
            }
            let phone_id = rng.uuid();
            dir.phone.insert(
                phone_id.clone(),
                Phone {
                    id: phone_id,
                    service_id: Some(svc_id.clone()),
                    number: Some(format!(
                        "+1{}555{:04}",
                        200 + rng.below(700),
                        rng.below(10000)
                    )),
                    r#type: Some("voice".into()),
                    ..Default::default()
                },
            );
            let always = matches!(
                main,
                ServiceType::EmergencyShelter
                    | ServiceType::CrisisLine
                    | ServiceType::LawEnforcementLocal
                    | ServiceType::LawEnforcementFederal
            );
            let hours: Option<(&str, &str, &str)> = if always {
                Some(("MO,TU,WE,TH,FR,SA,SU", "00:00", "23:59"))
            } else {
                let r = rng.unit();
                if r < 0.6 {
                    Some(("MO,TU,WE,TH,FR", "09:00", "17:00"))
                } else if r < 0.75 {
                    Some(("MO,TU,WE,TH,FR,SA", "08:00", "20:00"))
                } else if r < 0.85 {
                    Some(("MO,WE,FR", "10:00", "16:00"))
                } else {
                    None
                }
            };
            if virtual_line {
                let id = rng.uuid();
                dir.service_area.insert(
                    id.clone(),
                    ServiceArea {
                        id,
                        service_id: Some(svc_id.clone()),
                        name: Some(zip.state.clone()),
                        extent: Some(zip.state.clone()),
                        extent_type: Some("state".into()),
                        ..Default::default()
                    },
                );
                if let Some((byday, o, c)) = hours {
                    let id = rng.uuid();
                    dir.schedule.insert(
                        id.clone(),
                        Schedule {
                            id,
                            service_id: Some(svc_id.clone()),
                            freq: Some("WEEKLY".into()),
                            byday: Some(byday.into()),
                            opens_at: Some(o.into()),
                            closes_at: Some(c.into()),
                            ..Default::default()
                        },
                    );
                }
                continue;
            }
            let sal_id = rng.uuid();
            dir.service_at_location.insert(
                sal_id.clone(),
                ServiceAtLocation {
                    id: sal_id.clone(),
                    service_id: Some(svc_id.clone()),
                    location_id: Some(loc_id.clone()),
                    ..Default::default()
                },
            );
            sals += 1;
            if let Some((byday, o, c)) = hours {
                let id = rng.uuid();
                dir.schedule.insert(
                    id.clone(),
                    Schedule {
                        id,
                        service_at_location_id: Some(sal_id.clone()),
                        freq: Some("WEEKLY".into()),
                        byday: Some(byday.into()),
                        opens_at: Some(o.into()),
                        closes_at: Some(c.into()),
                        ..Default::default()
                    },
                );
            }
        }
    }
    dir
}

/// The coded details of a synthetic case (`lantern_domain::synth`) as the demo and benchmarks record
/// them: its places in a real county and ZIP code of their state when the generator knew a city (it
/// draws ZIP codes at random, often in another state), the same place for the same case.
pub fn synthetic_case_details(
    case: &lantern_domain::model::Case,
) -> lantern_domain::case::CaseDetails {
    let gazetteer = Gazetteer::get();
    let locations = case
        .locations
        .iter()
        .filter_map(|l| {
            let s = l.state?;
            let place = l
                .city
                .as_ref()
                .and_then(|_| gazetteer.place_in_state(s.code(), case.id.as_u128()));
            Some(lantern_domain::case::CaseLocation {
                state: s.code().to_owned(),
                county: place.map(|p| p.county.clone()).or(l.county.clone()),
                city: l.city.clone(),
                zip: match (place, &l.zip) {
                    (Some(p), Some(_)) => Some(p.zip.clone()),
                    (None, z) => z.as_ref().map(|z| z.as_str().to_owned()),
                    (Some(_), None) => None,
                },
            })
        })
        .collect();
    lantern_domain::case::CaseDetails {
        typology: case.typology.clone(),
        locations,
        risk_factors: case.risk_factors.clone(),
        recruitment: case.recruitment.clone(),
        recruiter_relation: case.recruiter_relation,
        means: case.means.clone(),
        needs: case.needs.clone(),
    }
}
